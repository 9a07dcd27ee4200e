_base_ = './camvid.py'
# one point per connected segment of every class, dilated by a radius-2 disk restricted
# to the segment (docs/weak_labels.md)
weak_label_steps = [dict(type='SimulateWeakLabel', kind='points', seed=0,
                         points_per_segment=1, radius=2)]
train_pipeline = _base_.load_steps + weak_label_steps + _base_.train_steps
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
