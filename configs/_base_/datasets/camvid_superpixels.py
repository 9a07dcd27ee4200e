# CamVid with an over-segmentation map for SPML's region terms (over-segmentation
# refinement of the segments, image-similarity loss; spec §1.4). The maps are the 16-bit
# superpixels written by tools/make_superpixels.py (docs/dataset_prepare.md):
#   python tools/make_superpixels.py ../shared/data/camvid/images/train \
#       data/camvid_superpixels/train --list ../shared/data/camvid/train.txt --nproc 2
# superpixel_dir is resolved against the repository (this file's location), so the
# default works from any working directory; an absolute path works too.
# This base trains on the dense labels; camvid_{points,scribbles}_superpixels.py insert
# the weak-label step. The pipeline is camvid.py's plus the over-segmentation map and a
# pad of every seg field to the crop (SegDataPreProcessor pads only the label).
_base_ = './camvid.py'
superpixel_dir = '{{ fileDirname }}/../../../data/camvid_superpixels/{split}'
# ImageNet mean in BGR = 0 after SegDataPreProcessor's normalisation, the value the
# preprocessor pads the image with in the plain CamVid configs
img_pad_val = (103.53, 116.28, 123.675)
train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True),
    dict(type='LoadWeakAnnotations'),
    dict(type='AddImageTags'),  # from the full label, before any crop
    dict(type='LoadOverSegmentation'),
    dict(type='RandomResize', scale=(240, 180), ratio_range=(0.75, 1.5),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size={{_base_.crop_size}}, cat_max_ratio=1.0),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PadSegFields', size={{_base_.crop_size}}, img_pad_val=img_pad_val,
         seg_pad_val=255),
    dict(type='PackSPMLInputs'),
]
train_dataloader = dict(
    dataset=dict(overseg_dir=superpixel_dir, pipeline=train_pipeline))
