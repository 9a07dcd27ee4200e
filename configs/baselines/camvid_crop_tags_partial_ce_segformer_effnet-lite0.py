# Partial cross-entropy on CAM seeds of CamVid crops: the control of
# configs/spml_cam/camvid_crop_tags_segformer_effnet-lite0_spml.py (same model, data, crop,
# schedule; no SPML) in tools/pipelines/camvid_tags.sh (CONTROL=1), which sets
# train_dataloader.dataset.label_dir to the seeds.
_base_ = [
    '../_base_/models/segformer_effnet-lite0.py', '../_base_/datasets/camvid_crop_tags.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_cpu_1k.py'
]
crop_size = (96, 128)
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor)
