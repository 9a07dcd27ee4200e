# SPML on the small CPU model: the same dilated ResNet-18 (output stride 8, random init)
# as configs/_base_/models/fcn_r18-d8.py, with the SPML embedding head (ASPP-sum -> D,
# upsampled to stride 4) and its stage-1 classifier on the detached embedding.
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
        type='ResNetV1c',
        depth=18,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 2, 4),
        strides=(1, 2, 1, 1),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        contract_dilation=True),
    decode_head=dict(
        type='SPMLHead',
        in_channels=512,
        in_index=3,
        embed_dims=64,
        channels=128,  # classifier hidden width = 2 * embed_dims (spec §2.4)
        embedding_head='aspp',
        dilations=(1, 3, 6, 9),  # 20x20 feature maps at 160x160 crops
        num_classes=11,
        dropout_ratio=0.75,
        norm_cfg=norm_cfg,
        align_corners=False,
        segment_generator=dict(type='SegmentGenerator', grid=(6, 6), iterations=10,
                               use_location=True, use_overseg=True),
        contrastive_losses=[
            dict(type='SemanticAnnotationLoss', concentration=6, loss_weight=1.0),
            dict(type='ImageSimilarityLoss', concentration=16, loss_weight=0.1),
        ],
        memory_size=2,
        # the stage-1 CE on the detached embedding; weighted by w_ann (spec §4.6)
        loss_decode=dict(type='PartialCrossEntropyLoss', loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
