# Stage 2 of the CamVid tags pipeline (tools/pipelines/camvid_tags.sh): as
# configs/stage2/camvid_scribbles.py, on the pseudo labels of the tags stage-1 model.
_base_ = './camvid_scribbles.py'
pseudo_label_dir = '{{ fileDirname }}/../../work_dirs/pipelines/camvid_tags/pseudo_labels'
load_from = '{{ fileDirname }}/../../work_dirs/pipelines/camvid_tags/stage1/iter_1000.pth'
train_dataloader = dict(dataset=dict(label_dir=pseudo_label_dir))
