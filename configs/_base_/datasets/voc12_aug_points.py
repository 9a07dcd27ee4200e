# VOC 2012 + SBD, ScribbleSup points dilated to disks of size 6 (spec §1.3); 255 in the
# PNGs = unlabeled, turned into the unlabeled index at load time (spec §8-4). What's-the-
# Point clicks converted by tools/convert_whats_the_point.py work the same way with
#   --cfg-options train_dataloader.dataset.label_dir=DIR
_base_ = './voc12_aug_tags.py'
train_dataloader = dict(
    dataset=dict(weak_label='points', ann_file='scribble_train+_d6_0.0_hed.txt'))
