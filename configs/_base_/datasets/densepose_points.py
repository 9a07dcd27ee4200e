# DensePose-COCO body parts (15 classes) from part points, in SPML's layout (spec §1.1-
# §1.3); evaluation on minival2014 (1,508 images). Layout and lists:
# docs/dataset_prepare.md. Paths are relative to the repository root or absolute.
_base_ = './tta.py'  # tta_pipeline for tools/test.py --tta
dataset_type = 'DensePoseDataset'
data_root = 'data/densepose'
crop_size = (512, 512)
num_classes = 15
# ImageNet mean in BGR = 0 after SegDataPreProcessor's normalisation (spec §1.5)
img_pad_val = (103.53, 116.28, 123.675)
train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True),
    dict(type='LoadWeakAnnotations'),  # 255 -> unlabeled index (spec §8-4)
    dict(type='LoadOverSegmentation'),
    # flip + left/right part swap on the label only (spec §1.5 step 3)
    dict(type='DensePoseFlip', prob=0.5),
    # after the flip so the tags name the swapped parts; before any crop. SPML does not
    # use tags for DensePose; they only feed the co-occurrence loss if one is configured.
    dict(type='AddImageTags'),
    dict(type='RandomRescale', ratio_range=(0.5, 1.5)),
    dict(type='PadSegFields', size=crop_size, img_pad_val=img_pad_val, seg_pad_val=255),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=1.0),
    # img_rgb: the image for the colour clustering features (SegmentGenerator use_color)
    dict(type='PackSPMLInputs', pack_image=True),
]
# Test: longer side 640 keeping the ratio (spec §6.1), dense parts at the original size.
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(640, 640), keep_ratio=True),
    dict(type='LoadWeakAnnotations', allow_unlabeled=False),
    dict(type='PackSPMLInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train2014',
        weak_label='points',
        ann_file='panoptic_train2014_points_pmi0.1_256.txt',
        overseg_dir='seginst/pmi_0.1_256',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='minival2014',
        weak_label='full',
        ann_file='panoptic_minival2014.txt',
        overseg_dir=None,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
