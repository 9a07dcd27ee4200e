# CamVid crops with image-level tags (tools/make_camvid_crop_tags.py, docs/pipeline.md):
# training reads the 9 half-size crops of every training frame (120 x 90 PNGs) under
# crop_root; validation and test read the full val frames of camvid.py's data_root.
# A crop's weak label is all unlabeled (unlabeled/{split}) until a pipeline points
# label_dir at its CAM seeds or pseudo labels; labels/{split} (the crops' dense labels)
# serves evaluation and the dense bound only. The crops are augmented at their own
# scale (not resized to a frame's 240 x 180) and cropped to 96 x 128, 8 to a batch (the
# pixels of 4 x 160 x 160).
_base_ = './camvid.py'
crop_root = 'data/camvid_crop_tags'
crop_size = (96, 128)
crop_augment_steps = [
    dict(type='RandomResize', scale=(120, 90), ratio_range=(0.75, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=1.0),
    dict(type='RandomFlip', prob=0.5),
]
train_pipeline = (_base_.load_steps + [_base_.tags_step] + crop_augment_steps +
                  [dict(type='PackSPMLInputs')])
# superpixels of SPML's region terms (as camvid.py's, computed on the fly), a quarter as
# many per crop as per frame: the same superpixel size
crop_superpixels = dict(_base_.superpixels, n_segments=75)
superpixel_train_pipeline = _base_.superpixel_load_steps + [
    _base_.tags_step, dict(type='LoadOverSegmentation', compute_if_missing=crop_superpixels)
] + crop_augment_steps + [
    dict(type='PadSegFields', size=crop_size, img_pad_val=_base_.img_pad_val, seg_pad_val=255),
    dict(type='PackSPMLInputs'),
]
train_dataloader = dict(
    batch_size=8,
    dataset=dict(data_root=crop_root, img_suffix='.png', label_dir='unlabeled/{split}',
                 pipeline=train_pipeline))
