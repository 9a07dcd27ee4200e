# SPML mix-in and the Gated CRF loss together, by config alone: the delta over
# camvid_points_segformer_effnet-lite0_spml.py is the decode head's loss_decode list (partial
# CE + GatedCRFLoss, as configs/baselines/camvid_points_gated_crf_segformer_effnet-lite0.py)
# and LossImageHook, which hands the loss the batch's images.
_base_ = './camvid_points_segformer_effnet-lite0_spml.py'
gated_crf = dict(type='GatedCRFLoss', loss_weight=0.1)  # defaults: RGB 15, XY 24 px, r=5 x 4 px
model = dict(decode_head=dict(loss_decode=[
    dict(type='PartialCrossEntropyLoss', loss_weight=1.0), gated_crf]))
custom_hooks = [dict(type='RandomStateHook'), dict(type='SPMLMemoryBankHook'),
                dict(type='LossImageHook')]
