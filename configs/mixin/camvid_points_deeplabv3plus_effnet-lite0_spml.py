# SPML mixed into an mmseg model by config: the pretrained EfficientNet-Lite0 with a
# DeepLabV3+ head (mmseg's DepthwiseSeparableASPPHead, output stride 16),
# CamVid points. Against its partial-CE model (configs/_base_/models/deeplabv3plus_effnet-lite0.py
# on ../_base_/datasets/camvid_points.py) the delta is the dataset base with superpixels,
# the auxiliary head and the memory-bank hook (docs/add_spml_to_your_model.md).
_base_ = [
    '../_base_/models/deeplabv3plus_effnet-lite0.py',
    '../_base_/datasets/camvid_points_superpixels.py',  # weak labels + superpixels
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_cpu_1k.py',
    '../_base_/models/spml_aux_head_effnet-lite0.py',  # defines spml_aux_head
]
crop_size = (160, 160)
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor,
             auxiliary_head=dict(_base_.spml_aux_head, contrastive_losses=_base_.point_losses))
custom_hooks = [dict(type='RandomStateHook'), dict(type='SPMLMemoryBankHook')]
