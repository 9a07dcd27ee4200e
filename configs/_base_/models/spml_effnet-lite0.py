# SPML's own head (SPMLHead: embedding + stage-1 classifier on the detached embedding,
# spec §2.2/§2.4) on the pretrained EfficientNet-Lite0: the four levels are fused at
# stride 4 (resize + concat, 496 ch) and projected to the D = 64 embedding by a light
# 1x1 conv head (the ASPP of the ResNet model would cost most of a CPU step there).
_base_ = './segformer_effnet-lite0.py'
model = dict(
    decode_head=dict(
        _delete_=True,
        type='SPMLHead',
        in_channels=[24, 40, 112, 320],
        in_index=[0, 1, 2, 3],
        input_transform='resize_concat',
        embed_dims=64,
        channels=128,  # classifier hidden width = 2 * embed_dims (spec §2.4)
        embedding_head='conv',
        psp_channels=256,
        embedding_upsample=1,
        num_classes=11,
        dropout_ratio=0.75,
        norm_cfg={{_base_.norm_cfg}},
        align_corners=False,
        segment_generator=dict(type='SegmentGenerator', grid=(6, 6), iterations=10,
                               use_location=True, use_overseg=True),
        contrastive_losses=[
            dict(type='SemanticAnnotationLoss', concentration=6, loss_weight=1.0),
            dict(type='ImageSimilarityLoss', concentration=16, loss_weight=0.1),
        ],
        memory_size=2,
        loss_decode=dict(type='PartialCrossEntropyLoss', loss_weight=1.0)))
