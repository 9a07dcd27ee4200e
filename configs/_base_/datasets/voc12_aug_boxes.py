# VOC 2012 + SBD, weak labels from bounding boxes: SEAM CAMs normalised inside each box,
# thresholded at 0.5, background outside all boxes (spec §1.3). Everything else as
# voc12_aug_tags.py.
_base_ = './voc12_aug_tags.py'
train_dataloader = dict(
    dataset=dict(weak_label='boxes', ann_file='seambox_train+_a6_th0.5_hed.txt'))
