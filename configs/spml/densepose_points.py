# SPML stage 1 on DensePose-COCO part points (15 classes; spec §4.7, §5.2): PSP embedding
# head with D = 32, 12x12 k-means grid, no memory bank, 45k iterations x 16 images.
# Losses: semantic annotation (kappa 6, w 1.0, + CE), low-level image similarity on the
# plain embedding (kappa 16, w 0.1), and feature affinity (kappa 12, w 0.5). The
# released code configures feature affinity but never applies it (spec §4.5, §8 item 3);
# mmspml implements it (docs/method.md). Delete the FeatureAffinityLoss entry to train
# what the released code trained.
_base_ = [
    '../_base_/models/spml_r101-d8.py', '../_base_/datasets/densepose_points.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_spml_30k.py'
]
model = dict(
    decode_head=dict(
        embedding_head='psp',
        embed_dims=32,
        channels=64,
        pool_scales=(1, 2, 3, 6),
        psp_channels=512,
        num_classes=15,
        # location + colour clustering features (spec §2.3; the image comes from
        # PackSPMLInputs(pack_image=True) in the dataset base)
        segment_generator=dict(grid=(12, 12), use_color=True),
        memory_size=0,
        contrastive_losses=[
            dict(type='SemanticAnnotationLoss', concentration=6, loss_weight=1.0),
            dict(type='ImageSimilarityLoss', concentration=16, loss_weight=0.1,
                 use_location_features=False),
            dict(type='FeatureAffinityLoss', concentration=12, loss_weight=0.5),
        ],
        loss_decode=dict(type='PartialCrossEntropyLoss', loss_weight=1.0)))
param_scheduler = [
    dict(type='SPMLPolyLR', power=0.9, warmup_iters=100, warmup_ratio=0.1, begin=0,
         end=45000, by_epoch=False)
]
train_cfg = dict(max_iters=45000)
custom_hooks = [dict(type='RandomStateHook'), dict(type='SPMLMemoryBankHook')]
