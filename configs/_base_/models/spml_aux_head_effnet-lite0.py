# SPML as an auxiliary head (SPMLAuxHead) on the four EfficientNet-Lite0 levels, fused at
# stride 4; shared by the CamVid mix-in configs, which set
#   model = dict(auxiliary_head=_base_.spml_aux_head)  (and the loss weights of their setting)
# Losses: the paper's scribble setting without co-occurrence (CamVid has no image whose
# classes are disjoint from another's, so that term would have no negatives).
spml_aux_head = dict(
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
    memory_size=2)
# the paper's point setting (spec §4.7): w_ann 0.1
point_losses = [
    dict(type='SemanticAnnotationLoss', concentration=6, loss_weight=0.1),
    dict(type='ImageSimilarityLoss', concentration=16, loss_weight=0.1),
]
