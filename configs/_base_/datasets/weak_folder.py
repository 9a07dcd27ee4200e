# Your own weakly labelled images in the layout of the annotation converters
# (tools/dataset_converters/*2weak.py; docs/train_on_your_data.md):
#   DATA_ROOT/classes.txt                 class names, line i = class id i
#   DATA_ROOT/train.txt                   "images/train/NAME.EXT labels/train/NAME.png" a line
#   DATA_ROOT/train_tags.json             image-level tags
#   DATA_ROOT/images/train/, labels/train/  (labels: classes, unlabeled index = C, 255 ignore)
# and, for validation and testing, dense masks of some images (CamVid's layout):
#   DATA_ROOT/val.txt (one NAME a line), images/val/NAME.jpg, labels/val/NAME.png
# Set data_root for every loader in your config (docs/train_on_your_data.md shows one).
# Images of any size are rescaled to about 512x384 (ratio 0.5-2 in training) and cropped.
_base_ = './tta.py'  # tta_pipeline for tools/test.py --tta
dataset_type = 'WeakSegDataset'
data_root = 'data/my_weak'
crop_size = (256, 256)
scale = (512, 384)
# SLIC on the fly, computed once per image and then read from a cache (keyed by the
# image's pixels and the parameters; ComputeSuperpixels' cache_dir)
superpixels = dict(method='slic', n_segments=300, compactness=10, sigma=1,
                   cache_dir='{{ fileDirname }}/../../../data/cache/superpixels')
img_pad_val = (103.53, 116.28, 123.675)  # ImageNet mean (BGR): 0 after normalisation
train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True),
    dict(type='LoadWeakAnnotations'),
    dict(type='AddImageTags'),  # from the tags file: before any crop
    dict(type='LoadOverSegmentation', compute_if_missing=superpixels),
    dict(type='RandomResize', scale=scale, ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=1.0),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PadSegFields', size=crop_size, img_pad_val=img_pad_val, seg_pad_val=255),
    dict(type='PackSPMLInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=scale, keep_ratio=True),
    dict(type='LoadWeakAnnotations', allow_unlabeled=False),  # at the original size
    dict(type='PackSPMLInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 ann_file='{split}.txt', classes_file='classes.txt',
                 tags_file='{split}_tags.json', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='val',
                 ann_file='{split}.txt', classes_file='classes.txt',
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
