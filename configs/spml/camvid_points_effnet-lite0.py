# SPML (SPMLHead, spec §2) on simulated CamVid points with the pretrained
# EfficientNet-Lite0; baseline: configs/baselines/camvid_points_partial_ce_segformer_effnet-lite0.py.
# Losses of the paper's point setting (w_ann 0.1, CE weight 1), no co-occurrence on CamVid.
_base_ = [
    '../_base_/models/spml_effnet-lite0.py',
    '../_base_/datasets/camvid_points_superpixels.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_cpu_1k.py',
    '../_base_/models/spml_aux_head_effnet-lite0.py',  # defines point_losses
]
model = dict(data_preprocessor=dict(size=(160, 160)),
             decode_head=dict(contrastive_losses=_base_.point_losses))
custom_hooks = [dict(type='RandomStateHook'), dict(type='SPMLMemoryBankHook')]
