# The pretrained EfficientNet-Lite0 of segformer_effnet-lite0.py at output stride 16 with
# mmseg's DeepLabV3+ head instead (ASPP on the stride-16 level, 320 ch; low-level features
# from the stride-4 level, 24 ch), sized for CamVid crops on a CPU; partial
# cross-entropy on the decode head, as there.
_base_ = './segformer_effnet-lite0.py'
model = dict(
    backbone=dict(output_stride=16),
    decode_head=dict(
        _delete_=True,
        type='DepthwiseSeparableASPPHead',
        in_channels=320,
        in_index=3,
        channels=128,
        dilations=(1, 2, 4, 6),  # 10x10 maps at 160x160 crops
        c1_in_channels=24,
        c1_channels=48,
        dropout_ratio=0.1,
        num_classes=11,
        norm_cfg={{_base_.norm_cfg}},
        align_corners=False,
        loss_decode=dict(type='PartialCrossEntropyLoss', loss_weight=1.0)))
