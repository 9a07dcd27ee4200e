# Stage 2 (spml-method.md §5.3) of the CamVid scribble pipeline: a fresh classifier
# (3x3 conv-BN-ReLU, dropout 0.65, 1x1) trained with the pseudo labels of
# tools/make_pseudo_labels.py on the frozen embedding of configs/spml/camvid_scribbles.py.
# tools/pipelines/camvid_scribbles.sh sets both paths below with --cfg-options
# (load_from=STAGE1_CKPT train_dataloader.dataset.label_dir=PSEUDO_DIR).
_base_ = [
    '../_base_/models/spml_r18-d8.py', '../_base_/datasets/camvid.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_cpu_1k.py'
]
crop_size = (160, 160)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    # the whole embedding network is frozen: ResNet stem + 4 stages in eval mode
    backbone=dict(frozen_stages=4, norm_eval=True),
    decode_head=dict(
        _delete_=True,
        type='SPMLStage2Head',
        in_channels=512,
        in_index=3,
        embed_dims=64,
        channels=128,
        embedding_head='aspp',
        dilations=(1, 3, 6, 9),  # as stage 1 (configs/_base_/models/spml_r18-d8.py)
        num_classes=11,
        dropout_ratio=0.65,
        norm_cfg={{_base_.norm_cfg}},
        align_corners=False,
        loss_decode=dict(type='PartialCrossEntropyLoss', loss_weight=1.0)))
# absolute (relative to this file) so they do not depend on the dataset's data_root
pseudo_label_dir = '{{ fileDirname }}/../../work_dirs/pipelines/camvid_scribbles/pseudo_labels'
load_from = '{{ fileDirname }}/../../work_dirs/pipelines/camvid_scribbles/stage1/iter_1000.pth'
train_dataloader = dict(dataset=dict(label_dir=pseudo_label_dir))
custom_hooks = [dict(type='RandomStateHook')]
