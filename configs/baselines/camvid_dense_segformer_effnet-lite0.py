# Upper bound of the label-efficiency benchmark: the pretrained EfficientNet-Lite0 +
# SegFormer-head model of the partial-CE baselines, trained on the dense CamVid labels.
_base_ = [
    '../_base_/models/segformer_effnet-lite0.py', '../_base_/datasets/camvid.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_cpu_1k.py'
]
crop_size = (160, 160)
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor)
