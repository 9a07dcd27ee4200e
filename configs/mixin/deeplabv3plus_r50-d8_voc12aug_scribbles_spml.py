# SPML mixed into mmseg's own DeepLabV3+ (ResNet-50, VOC 2012 aug, 20k schedule) to learn
# from ScribbleSup scribbles. mmseg's leaf config
#   mmseg::deeplabv3plus/deeplabv3plus_r50-d8_4xb4-20k_voc12aug-512x512.py
# is rebuilt from mmseg's own bases with ONE base swapped (the dataset) and the lines
# marked "SPML" added; every other setting is mmseg's.
# docs/add_spml_to_your_model.md explains each line. Multi-GPU:
#   tools/dist_train.sh configs/mixin/deeplabv3plus_r50-d8_voc12aug_scribbles_spml.py 4
_base_ = [
    'mmseg::_base_/models/deeplabv3plus_r50-d8.py',
    '../_base_/datasets/voc12_aug_scribbles.py',  # SPML: weak labels + over-segmentation
    'mmseg::_base_/default_runtime.py', 'mmseg::_base_/schedules/schedule_20k.py'
]
custom_imports = dict(imports=['mmspml'], allow_failed_imports=False)  # SPML
# mmseg's runtime base has no runner_type: mmspml's Runner (atomic checkpoints, --resume
# from the work dir) is asked for here
runner_type = 'SPMLRunner'
crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    data_preprocessor=data_preprocessor,
    # mmseg's base downloads 'open-mmlab://resnet50_v1c'; nothing is downloaded here:
    # pass a local checkpoint with --cfg-options model.pretrained=PATH
    pretrained=None,
    decode_head=dict(
        num_classes=21,
        # SPML: CE over the labeled pixels (mmseg's CE averages over all pixels)
        loss_decode=dict(type='PartialCrossEntropyLoss', loss_weight=1.0)),
    auxiliary_head=[
        dict(  # mmseg's FCN auxiliary head, unchanged but for its loss
            type='FCNHead', in_channels=1024, in_index=2, channels=256, num_convs=1,
            concat_input=False, dropout_ratio=0.1, num_classes=21, norm_cfg=norm_cfg,
            align_corners=False,
            loss_decode=dict(type='PartialCrossEntropyLoss', loss_weight=0.4)),
        dict(  # SPML: the paper's scribble setting (spec §4.7) on the stride-8 features
            type='SPMLAuxHead', in_channels=2048, in_index=3, embed_dims=64,
            embedding_head='aspp', dilations=(6, 12, 18, 24), embedding_upsample=2,
            num_classes=21, norm_cfg=norm_cfg, align_corners=False,
            segment_generator=dict(type='SegmentGenerator', grid=(6, 6), iterations=10),
            contrastive_losses=[
                dict(type='SemanticAnnotationLoss', concentration=6, loss_weight=1.0),
                dict(type='SemanticCooccurrenceLoss', concentration=12, loss_weight=0.5),
                dict(type='ImageSimilarityLoss', concentration=16, loss_weight=0.1),
            ],
            memory_size=2),
    ])
custom_hooks = [dict(type='SPMLMemoryBankHook')]  # SPML: fills the memory bank
