# SPML stage 1 on CamVid "tags" weak labels: the thresholded CAM seeds written by
#   python tools/make_cam_seeds.py configs/spml/camvid_scribbles.py --out-dir SEEDS
# (tags = the classes of CamVid's label files; each tagged class where its CAM is high,
# unlabeled elsewhere). Same model, losses and superpixels as
# configs/spml/camvid_scribbles.py; only the weak labels differ.
# tools/pipelines/camvid_tags.sh sets train_dataloader.dataset.label_dir=SEEDS.
_base_ = '../spml/camvid_scribbles.py'
seed_dir = '{{ fileDirname }}/../../work_dirs/pipelines/camvid_tags/seeds'
superpixels = _base_.superpixels  # on the fly, cached (configs/_base_/datasets/camvid.py)
img_pad_val = (103.53, 116.28, 123.675)
train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True),
    dict(type='LoadWeakAnnotations'),  # the seed PNG: classes, unlabeled (11), void 255
    dict(type='AddImageTags'),
    dict(type='LoadOverSegmentation', compute_if_missing=superpixels),
    dict(type='RandomResize', scale=(240, 180), ratio_range=(0.75, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size={{_base_.crop_size}}, cat_max_ratio=1.0),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PadSegFields', size={{_base_.crop_size}}, img_pad_val=img_pad_val,
         seg_pad_val=255),
    dict(type='PackSPMLInputs'),
]
train_dataloader = dict(dataset=dict(label_dir=seed_dir, pipeline=train_pipeline))
