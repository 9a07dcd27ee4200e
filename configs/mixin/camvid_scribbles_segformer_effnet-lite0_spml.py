# SPML mixed into an mmseg model by config. The partial-CE baseline
# configs/baselines/camvid_scribbles_partial_ce_segformer_effnet-lite0.py (pretrained
# EfficientNet-Lite0 + SegFormer head, unchanged) plus
#   1. the weak-label dataset with an over-segmentation map (superpixels),
#   2. SPML's losses as an auxiliary head on the backbone's four levels,
#   3. the memory-bank hook.
_base_ = [
    '../_base_/models/segformer_effnet-lite0.py',
    '../_base_/datasets/camvid_scribbles_superpixels.py',  # 1. (baseline: camvid_scribbles.py)
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_cpu_1k.py'
]
crop_size = (160, 160)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    auxiliary_head=dict(  # 2.
        type='SPMLAuxHead',
        in_channels=[24, 40, 112, 320],
        in_index=[0, 1, 2, 3],
        input_transform='resize_concat',  # the four levels fused at stride 4
        embed_dims=64,
        embedding_head='conv',
        psp_channels=256,
        embedding_upsample=1,
        num_classes=11,
        norm_cfg=dict(type='BN', requires_grad=True),
        align_corners=False,
        segment_generator=dict(type='SegmentGenerator', grid=(6, 6), iterations=10),
        contrastive_losses=[
            dict(type='SemanticAnnotationLoss', concentration=6, loss_weight=1.0),
            dict(type='ImageSimilarityLoss', concentration=16, loss_weight=0.1),
        ],
        memory_size=2))
custom_hooks = [dict(type='RandomStateHook'), dict(type='SPMLMemoryBankHook')]  # 3.
