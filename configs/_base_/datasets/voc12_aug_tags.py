# PASCAL VOC 2012 + SBD (train_aug, 10,582 images; val 1,449) in SPML's layout, weak
# labels from image tags: SEAM CAMs thresholded at 0.2 (spec §1.3). Layout and list files:
# docs/dataset_prepare.md. Paths are relative to the repository root or absolute.
# voc12_aug_{boxes,scribbles,points}.py change only the label kind and the list file.
_base_ = './tta.py'  # tta_pipeline for tools/test.py --tta
dataset_type = 'VOCWeakDataset'
data_root = 'data/voc12'
crop_size = (512, 512)
num_classes = 21
# SPML pads the image with the ImageNet mean (0 after SegDataPreProcessor's
# normalisation); BGR order because LoadImageFromFile gives BGR and the preprocessor
# swaps to RGB. Images are loaded as float32 so this value is kept exactly (as SPML,
# which augments float images).
img_pad_val = (103.53, 116.28, 123.675)
# Stage-1 augmentation (spec §1.5): tags from the full weak label, flip, own size x
# U(0.5, 1.5), pad to 512 (bottom/right; image = mean, label and over-segmentation 255),
# random 512 crop. Every geometric step also transforms the over-segmentation map
# (it is in seg_fields).
train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True),
    dict(type='LoadWeakAnnotations'),  # 255 -> unlabeled index for weak labels (spec §8-4)
    dict(type='AddImageTags'),  # before any crop: cropping never removes a tag
    dict(type='LoadOverSegmentation'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomRescale', ratio_range=(0.5, 1.5)),
    dict(type='PadSegFields', size=crop_size, img_pad_val=img_pad_val, seg_pad_val=255),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=1.0),
    dict(type='PackSPMLInputs'),
]
# Test: longer side 512 keeping the ratio (spec §6.1; mmcv rounds where SPML truncates,
# +-1 px), dense ground truth at the original size.
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(512, 512), keep_ratio=True),
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
        split='train_aug',
        weak_label='tags',
        ann_file='seam_train+_a6_th0.2_hed.txt',
        overseg_dir='VOC2012/hed',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='val',
        weak_label='full',
        ann_file='panoptic_val.txt',
        overseg_dir=None,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
