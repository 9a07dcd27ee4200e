_base_ = './camvid.py'
# one point per connected segment of every class, dilated by a radius-2 disk restricted
# to the segment (docs/weak_labels.md)
weak_label = dict(type='SimulateWeakLabel', kind='points', seed=0,
                  points_per_segment=1, radius=2)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadWeakAnnotations'),
    weak_label,
    dict(type='AddImageTags'),
    dict(type='RandomResize', scale=(240, 180), ratio_range=(0.75, 1.5),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size={{_base_.crop_size}}, cat_max_ratio=1.0),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSPMLInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
