# SPML (SPMLHead, spec §2) on simulated CamVid scribbles with the pretrained
# EfficientNet-Lite0; baseline: configs/baselines/camvid_scribbles_partial_ce_segformer_effnet-lite0.py.
# Losses as configs/spml/camvid_scribbles.py (VOC scribble setting without co-occurrence).
_base_ = [
    '../_base_/models/spml_effnet-lite0.py',
    '../_base_/datasets/camvid_scribbles_superpixels.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_cpu_1k.py'
]
crop_size = (160, 160)
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor)
custom_hooks = [dict(type='RandomStateHook'), dict(type='SPMLMemoryBankHook')]
