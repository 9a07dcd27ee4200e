# SPML mixed into mmseg's own SegFormer (MiT-B0) to learn from ScribbleSup points on VOC
# 2012 aug. mmseg's leaf config
#   mmseg::segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py
# is rebuilt from mmseg's own bases with the ADE20k dataset base swapped for the weak VOC
# one; its optimiser lines are mmseg's leaf's; the lines marked "SPML" are added.
# docs/add_spml_to_your_model.md explains each line.
_base_ = [
    'mmseg::_base_/models/segformer_mit-b0.py',
    '../_base_/datasets/voc12_aug_points.py',  # SPML: weak labels + over-segmentation
    'mmseg::_base_/default_runtime.py', 'mmseg::_base_/schedules/schedule_160k.py'
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
    # mmseg's leaf downloads the MiT-B0 ImageNet weights; nothing is downloaded here:
    # pass a local file with --cfg-options model.backbone.init_cfg.type=Pretrained \
    #     model.backbone.init_cfg.checkpoint=PATH
    decode_head=dict(
        num_classes=21,
        # SPML: CE over the labeled pixels (mmseg's CE averages over all pixels)
        loss_decode=dict(type='PartialCrossEntropyLoss', loss_weight=1.0)),
    auxiliary_head=dict(  # SPML: the paper's point setting (spec §4.7)
        type='SPMLAuxHead', in_channels=[32, 64, 160, 256], in_index=[0, 1, 2, 3],
        input_transform='resize_concat',  # the four levels fused at stride 4
        embed_dims=64, embedding_head='conv', psp_channels=256, embedding_upsample=1,
        num_classes=21, norm_cfg=norm_cfg, align_corners=False,
        segment_generator=dict(type='SegmentGenerator', grid=(6, 6), iterations=10),
        contrastive_losses=[
            dict(type='SemanticAnnotationLoss', concentration=6, loss_weight=0.1),
            dict(type='SemanticCooccurrenceLoss', concentration=8, loss_weight=0.1),
            dict(type='ImageSimilarityLoss', concentration=16, loss_weight=0.1),
        ],
        memory_size=2))
custom_hooks = [dict(type='SPMLMemoryBankHook')]  # SPML: fills the memory bank
# mmseg's leaf: AdamW, no decay on norms/position blocks, head x10, warm-up + poly
optim_wrapper = dict(
    _delete_=True, type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=0.00006, betas=(0.9, 0.999), weight_decay=0.01),
    paramwise_cfg=dict(custom_keys={'pos_block': dict(decay_mult=0.),
                                    'norm': dict(decay_mult=0.),
                                    'head': dict(lr_mult=10.)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(type='PolyLR', eta_min=0.0, power=1.0, begin=1500, end=160000, by_epoch=False)
]
train_dataloader = dict(batch_size=2, num_workers=2)
