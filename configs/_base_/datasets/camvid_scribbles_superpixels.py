# camvid_scribbles.py (simulated scribbles) with the over-segmentation map of SPML's
# region terms: SLIC superpixels on the fly or pre-computed (camvid.py says how).
_base_ = './camvid_scribbles.py'
train_pipeline = (_base_.superpixel_load_steps + _base_.weak_label_steps +
                  _base_.superpixel_train_steps)
train_dataloader = dict(dataset=dict(overseg_dir=None, pipeline=train_pipeline))
