# SPML (SPMLHead, spec §2) on simulated CamVid points with the pretrained
# EfficientNet-Lite0; baseline: configs/baselines/camvid_points_partial_ce_segformer_effnet-lite0.py.
# Losses as configs/spml/camvid_points.py (w_ann 0.1, CE weight 1).
_base_ = [
    '../_base_/models/spml_effnet-lite0.py',
    '../_base_/datasets/camvid_points_superpixels.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_cpu_1k.py'
]
crop_size = (160, 160)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    decode_head=dict(contrastive_losses=[
        dict(type='SemanticAnnotationLoss', concentration=6, loss_weight=0.1),
        dict(type='ImageSimilarityLoss', concentration=16, loss_weight=0.1),
    ]))
custom_hooks = [dict(type='RandomStateHook'), dict(type='SPMLMemoryBankHook')]
