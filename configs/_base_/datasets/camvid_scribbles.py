_base_ = './camvid.py'
# a skeleton scribble (width 3, full length) per connected segment of every class
# (docs/weak_labels.md)
weak_label = dict(type='SimulateWeakLabel', kind='scribbles', seed=0,
                  length_fraction=1.0, width=3)
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
