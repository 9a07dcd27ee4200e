# CamVid with an over-segmentation map for SPML's region terms (over-segmentation
# refinement of the segments, image-similarity loss; spec §1.4): SLIC superpixels, by
# default computed on the fly; or pre-computed (docs/dataset_prepare.md) with
#   python tools/make_superpixels.py ../shared/data/camvid/images/train \
#       data/camvid_superpixels/train --list ../shared/data/camvid/train.txt --nproc 2
# and read from superpixel_dir (resolved against this file's location, so it works from
# any working directory; an absolute path works too).
# This base trains on the dense labels; camvid_{points,scribbles}_superpixels.py insert
# the weak-label step. The pipeline is camvid.py's plus the over-segmentation map and a
# pad of every seg field to the crop (SegDataPreProcessor pads only the label).
_base_ = './camvid.py'
# Superpixels are computed on the fly (SLIC, deterministic) unless the dataset's
# overseg_dir is set: then the 16-bit maps of tools/make_superpixels.py (same function,
# same parameters, same maps) are read instead, e.g. superpixel_dir below
# (configs/spml/camvid_*_precomputed.py do that).
superpixels = dict(method='slic', n_segments=300, compactness=10, sigma=1)
superpixel_dir = '{{ fileDirname }}/../../../data/camvid_superpixels/{split}'
# ImageNet mean in BGR = 0 after SegDataPreProcessor's normalisation, the value the
# preprocessor pads the image with in the plain CamVid configs
img_pad_val = (103.53, 116.28, 123.675)
train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True),
    dict(type='LoadWeakAnnotations'),
    dict(type='AddImageTags'),  # from the full label, before any crop
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
