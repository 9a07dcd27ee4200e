# SPML mixed into a DeepLabV3+ (mmseg's DepthwiseSeparableASPPHead) on the pretrained
# EfficientNet-Lite0 (output stride 16), CamVid scribbles, sized for a CPU. Against the
# partial-CE model (configs/_base_/models/deeplabv3plus_effnet-lite0.py on
# ../_base_/datasets/camvid_scribbles.py) the delta is: the dataset base with superpixels,
# the auxiliary head and the memory-bank hook.
_base_ = [
    '../_base_/models/deeplabv3plus_effnet-lite0.py',
    '../_base_/datasets/camvid_scribbles_superpixels.py',  # weak labels + superpixels
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_cpu_1k.py'
]
crop_size = (160, 160)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    auxiliary_head=dict(
        type='SPMLAuxHead',
        in_channels=[24, 320],  # stride-4 and stride-16 levels, fused at stride 4
        in_index=[0, 3],
        input_transform='resize_concat',
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
custom_hooks = [dict(type='RandomStateHook'), dict(type='SPMLMemoryBankHook')]
