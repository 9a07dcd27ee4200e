# camvid_scribbles.py (simulated scribbles) + the superpixel over-segmentation of
# camvid_superpixels.py (see there for how to make the maps).
_base_ = './camvid_scribbles.py'
# Superpixels are computed on the fly (SLIC, deterministic) unless the dataset's
# overseg_dir is set: then the 16-bit maps of tools/make_superpixels.py (same function,
# same parameters, same maps) are read instead, e.g. superpixel_dir below
# (configs/spml/camvid_*_precomputed.py do that).
superpixels = dict(method='slic', n_segments=300, compactness=10, sigma=1)
superpixel_dir = '{{ fileDirname }}/../../../data/camvid_superpixels/{split}'
img_pad_val = (103.53, 116.28, 123.675)  # BGR ImageNet mean = 0 after normalisation
train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True),
    dict(type='LoadWeakAnnotations'),
    {{_base_.weak_label}},
    dict(type='AddImageTags'),
    dict(type='LoadOverSegmentation', compute_if_missing=superpixels),
    dict(type='RandomResize', scale=(240, 180), ratio_range=(0.75, 1.5),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size={{_base_.crop_size}}, cat_max_ratio=1.0),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PadSegFields', size={{_base_.crop_size}}, img_pad_val=img_pad_val,
         seg_pad_val=255),
    dict(type='PackSPMLInputs'),
]
train_dataloader = dict(
    dataset=dict(overseg_dir=None, pipeline=train_pipeline))
