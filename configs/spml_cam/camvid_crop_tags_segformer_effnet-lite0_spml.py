# SPML stage 1 on CAM seeds of CamVid crops (tools/pipelines/camvid_tags.sh): the SPML
# mix-in of the label-efficiency benchmark (EfficientNet-Lite0 + SegFormer head, partial
# CE on the seeds, SPMLAuxHead) with the paper's tags losses (spec §4.7: annotation 0.3,
# co-occurrence 0.3, image similarity 0.1). Crop tags vary (docs/pipeline.md), so the
# co-occurrence term has negatives here, unlike on whole CamVid frames. The pipeline
# sets train_dataloader.dataset.label_dir to the seeds.
_base_ = [
    '../_base_/models/segformer_effnet-lite0.py', '../_base_/datasets/camvid_crop_tags.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_cpu_1k.py',
    '../_base_/models/spml_aux_head_effnet-lite0.py',  # defines spml_aux_head
]
crop_size = (96, 128)
data_preprocessor = dict(size=crop_size)
tag_losses = [
    dict(type='SemanticAnnotationLoss', concentration=6, loss_weight=0.3),
    dict(type='SemanticCooccurrenceLoss', concentration=8, loss_weight=0.3),
    dict(type='ImageSimilarityLoss', concentration=16, loss_weight=0.1),
]
model = dict(data_preprocessor=data_preprocessor,
             auxiliary_head=dict(_base_.spml_aux_head, contrastive_losses=tag_losses))
train_dataloader = dict(dataset=dict(pipeline=_base_.superpixel_train_pipeline))
custom_hooks = [dict(type='RandomStateHook'), dict(type='SPMLMemoryBankHook')]
