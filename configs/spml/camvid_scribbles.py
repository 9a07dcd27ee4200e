# SPML on simulated CamVid scribbles, sized for CPU; directly comparable with
# configs/baselines/camvid_scribbles_partial_ce.py (same backbone, data, schedule).
# Loss settings of the VOC scribble setting (spec §4.7): kappa ann/occ = 6/12,
# w ann/occ = 1.0/0.5, memory of 2 iterations. Without an over-segmentation map the
# image-similarity term has no meaning (every pixel would be in one region), so it is
# only in the *_superpixels configs (docs/method.md).
_base_ = [
    '../_base_/models/spml_r18-d8.py', '../_base_/datasets/camvid_scribbles.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_cpu_1k.py'
]
crop_size = (160, 160)
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor)
custom_hooks = [dict(type='RandomStateHook'), dict(type='SPMLMemoryBankHook')]
