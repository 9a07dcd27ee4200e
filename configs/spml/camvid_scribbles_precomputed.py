# camvid_scribbles.py reading pre-computed superpixels instead of computing them per sample:
#   .venv/bin/python tools/make_superpixels.py ../shared/data/camvid/images/train \
#       data/camvid_superpixels/train --list ../shared/data/camvid/train.txt --nproc 2
# (same SLIC parameters as the on-the-fly default, so the same maps; docs/weak_labels.md)
_base_ = './camvid_scribbles.py'
train_dataloader = dict(dataset=dict(overseg_dir={{_base_.superpixel_dir}}))
