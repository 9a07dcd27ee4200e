# SPML stage-1 model of the paper (spec §2): ResNet-101 with a deep stem (ResNetV1c),
# output stride 8 (dilations 2 and 4 with contract_dilation: the first block of a dilated
# stage uses half the dilation), BN momentum 3e-4, DeepLab-v2 ASPP-sum embedding head
# (D = 64) upsampled to stride 4, and the stage-1 classifier on the detached embedding.
# ImageNet weights are not downloaded: pass a local ResNet-101 (deep-stem) checkpoint with
#   --cfg-options model.pretrained=PATH       (docs/get_started.md).
norm_cfg = dict(type='SyncBN', requires_grad=True, momentum=3e-4)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size=(512, 512))
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='ResNetV1c',
        depth=101,
        stem_channels=128,
        base_channels=64,
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
        in_channels=2048,
        in_index=3,
        embed_dims=64,
        channels=128,
        embedding_head='aspp',
        dilations=(6, 12, 18, 24),
        num_classes=21,
        dropout_ratio=0.75,
        norm_cfg=norm_cfg,
        align_corners=False,
        segment_generator=dict(type='SegmentGenerator', grid=(6, 6), iterations=10,
                               use_location=True, use_overseg=True),
        contrastive_losses=[],  # set by each setting (configs/spml/*.py)
        memory_size=2,
        loss_decode=dict(type='PartialCrossEntropyLoss', loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
