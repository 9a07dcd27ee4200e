# SPML stage 1 on PASCAL VOC 2012 + SBD (train_aug, 10,582 images) with
# weak labels of type "tags" (SEAM CAMs thresholded at 0.2); the paper's setting (spec §4.7, §5.2):
# kappa ann/occ/img = 6/8/16, weights 0.3/0.3/0.1, memory of 2 iterations,
# ResNet-101 (OS 8), 6x6 k-means grid, 10 iterations, 30k iterations x 16 images.
# Run with 4 GPUs:  tools/dist_train.sh configs/spml/voc_tags.py 4
# (data layout: docs/dataset_prepare.md; training fails with a pointer there when
# data/voc12 is missing).
_base_ = [
    '../_base_/models/spml_r101-d8.py', '../_base_/datasets/voc12_aug_tags.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_spml_30k.py'
]
model = dict(
    decode_head=dict(
        contrastive_losses=[
            dict(type='SemanticAnnotationLoss', concentration=6, loss_weight=0.3),
            dict(type='SemanticCooccurrenceLoss', concentration=8, loss_weight=0.3),
            dict(type='ImageSimilarityLoss', concentration=16, loss_weight=0.1),
        ],
        # the reference multiplies the stage-1 CE by w_ann too (spec §4.6, §8 item 2)
        loss_decode=dict(type='PartialCrossEntropyLoss', loss_weight=0.3)))
custom_hooks = [dict(type='RandomStateHook'), dict(type='SPMLMemoryBankHook')]
