# SPML on the small CPU model: the same dilated ResNet-18 (output stride 8, random init)
# and data preprocessor as fcn_r18-d8.py (the partial-CE baseline), with the SPML
# embedding head (ASPP-sum -> D, upsampled to stride 4) and its stage-1 classifier on the
# detached embedding instead of the FCN head.
_base_ = './fcn_r18-d8.py'
model = dict(
    decode_head=dict(
        _delete_=True,
        type='SPMLHead',
        in_channels=512,
        in_index=3,
        embed_dims=64,
        channels=128,  # classifier hidden width = 2 * embed_dims (spec §2.4)
        embedding_head='aspp',
        dilations=(1, 3, 6, 9),  # 20x20 feature maps at 160x160 crops
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
        # the stage-1 CE on the detached embedding; weighted by w_ann (spec §4.6)
        loss_decode=dict(type='PartialCrossEntropyLoss', loss_weight=1.0)))
