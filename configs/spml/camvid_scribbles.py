# SPML on simulated CamVid scribbles, sized for CPU; directly comparable with
# configs/baselines/camvid_scribbles_partial_ce.py (same backbone, data, schedule).
# Settings of the VOC scribble setting (spec §4.7): kappa ann/img = 6/16, w ann/img =
# 1.0/0.1, memory of 2 iterations; over-segmentation = SLIC superpixels computed on the
# fly (camvid_scribbles_precomputed.py reads tools/make_superpixels.py's maps instead).
# No co-occurrence term: every CamVid image shares a foreground class with every other
# one, so it would have no negatives and be identically 0 (docs/method.md).
_base_ = [
    '../_base_/models/spml_r18-d8.py',
    '../_base_/datasets/camvid_scribbles_superpixels.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_cpu_1k.py'
]
crop_size = (160, 160)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    decode_head=dict(contrastive_losses=[
        dict(type='SemanticAnnotationLoss', concentration=6, loss_weight=1.0),
        dict(type='ImageSimilarityLoss', concentration=16, loss_weight=0.1),
    ]))
custom_hooks = [dict(type='RandomStateHook'), dict(type='SPMLMemoryBankHook')]
