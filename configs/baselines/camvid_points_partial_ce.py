# Partial cross-entropy on simulated CamVid points: the baseline SPML must beat.
_base_ = [
    '../_base_/models/fcn_r18-d8.py', '../_base_/datasets/camvid_points.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_cpu_1k.py'
]
crop_size = (160, 160)
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor)
