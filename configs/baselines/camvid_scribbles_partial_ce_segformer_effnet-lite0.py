# Partial cross-entropy on simulated CamVid scribbles with the pretrained EfficientNet-Lite0 +
# SegFormer head: the baseline of configs/mixin/camvid_scribbles_segformer_effnet-lite0_spml.py
# and configs/spml/camvid_scribbles_effnet-lite0.py (same backbone, data, crop, schedule).
_base_ = [
    '../_base_/models/segformer_effnet-lite0.py', '../_base_/datasets/camvid_scribbles.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_cpu_1k.py'
]
crop_size = (160, 160)
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor)
