_base_ = './camvid.py'
# a skeleton scribble (width 3, full length) per connected segment of every class
# (docs/weak_labels.md)
weak_label_steps = [dict(type='SimulateWeakLabel', kind='scribbles', seed=0,
                         length_fraction=1.0, width=3)]
train_pipeline = _base_.load_steps + weak_label_steps + _base_.train_steps
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
