# The EfficientNet-Lite0 + SegFormer model trained on the dense labels of the CamVid crops
# (labels/{split} of tools/make_camvid_crop_tags.py): the dense bound of the crop setting,
# and the retraining step of tools/pipelines/camvid_tags.sh, which sets
# train_dataloader.dataset.label_dir to the pseudo labels.
_base_ = './camvid_crop_tags_partial_ce_segformer_effnet-lite0.py'
train_dataloader = dict(dataset=dict(label_dir='labels/{split}'))
