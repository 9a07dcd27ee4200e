# VOC 2012 + SBD, ScribbleSup scribbles rasterised rloss-style with width 3 (spec §1.3);
# 255 in the PNGs = unlabeled, turned into the unlabeled index at load time (spec §8-4).
# Shortened scribbles: scribble_length=0.8 / 0.5 / 0.3 with the matching list, e.g.
#   --cfg-options train_dataloader.dataset.scribble_length=0.5 \
#       train_dataloader.dataset.ann_file=scribble_train+_d3_0.5_hed.txt
_base_ = './voc12_aug_tags.py'
train_dataloader = dict(
    dataset=dict(weak_label='scribbles', scribble_length=1.0,
                 ann_file='scribble_train+_d3_hed.txt'))
