# Stage 2 (spml-method.md §5.3) for every VOC setting (tags, boxes, scribbles, points):
# a fresh classifier (3x3 conv-BN-ReLU, dropout 0.65, 1x1; plain BN) on the frozen
# ResNet-101 + ASPP embedding of a configs/spml/voc_*.py stage-1 checkpoint, trained with
# pseudo labels of tools/make_pseudo_labels.py: 1 GPU x 16 images, 4,000 iterations,
# lr 3e-3 with the reference's poly + warm-up schedule and parameter groups, 512 crops,
# scale 0.5-2.0 and flip (the reference's grayscale/blur augmentation is not applied).
#   python tools/train.py configs/stage2/voc.py --cfg-options load_from=STAGE1_CKPT \
#       train_dataloader.dataset.label_dir=/abs/PSEUDO_DIR
# (tools/pipelines/voc_*.sh do this).
_base_ = [
    '../_base_/models/spml_r101-d8.py', '../_base_/datasets/voc12_aug_boxes.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_spml_30k.py'
]
model = dict(
    backbone=dict(frozen_stages=4, norm_eval=True),  # the embedding network is frozen
    decode_head=dict(
        _delete_=True,
        type='SPMLStage2Head',
        in_channels=2048,
        in_index=3,
        embed_dims=64,
        channels=128,
        embedding_head='aspp',
        dilations=(6, 12, 18, 24),
        num_classes=21,
        dropout_ratio=0.65,
        norm_cfg=dict(type='BN', requires_grad=True),
        align_corners=False,
        loss_decode=dict(type='PartialCrossEntropyLoss', loss_weight=1.0)))
pseudo_label_dir = '{{ fileDirname }}/../../work_dirs/pipelines/voc/pseudo_labels'
load_from = '{{ fileDirname }}/../../work_dirs/pipelines/voc/stage1/iter_30000.pth'
crop_size = (512, 512)
img_pad_val = (103.53, 116.28, 123.675)
train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True),
    dict(type='LoadWeakAnnotations'),  # pseudo labels: classes and 255 (ignore)
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomRescale', ratio_range=(0.5, 2.0)),
    dict(type='PadSegFields', size=crop_size, img_pad_val=img_pad_val, seg_pad_val=255),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=1.0),
    dict(type='PackSPMLInputs'),
]
train_dataloader = dict(
    batch_size=16,
    dataset=dict(weak_label='full', label_dir=pseudo_label_dir, overseg_dir=None,
                 pipeline=train_pipeline))
param_scheduler = [
    dict(type='SPMLPolyLR', power=0.9, warmup_iters=100, warmup_ratio=0.1, begin=0,
         end=4000, by_epoch=False)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=4000, val_interval=4000)
default_hooks = dict(checkpoint=dict(interval=4000))
custom_hooks = [dict(type='RandomStateHook')]
