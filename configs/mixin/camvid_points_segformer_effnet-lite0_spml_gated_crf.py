# SPML mix-in and the Gated CRF loss together, by config alone: the delta over
# camvid_points_segformer_effnet-lite0_spml.py is the decode head's loss_decode list (partial
# CE + GatedCRFLoss, as configs/baselines/camvid_points_gated_crf_segformer_effnet-lite0.py)
# and LossImageHook, which hands the loss the batch's images.
_base_ = './camvid_points_segformer_effnet-lite0_spml.py'
# loss_weight chosen on CamVid scribbles, seed 0, val and held-out sequence 0006R0 (docs/
# benchmarks.md): 0.1 merged road into sky in every run, 0.03 beat 0.01 on both checks
gated_crf = dict(type='GatedCRFLoss', loss_weight=0.03)  # RGB 15, XY 24 px, r=5 x 4 px
model = dict(decode_head=dict(loss_decode=[
    dict(type='PartialCrossEntropyLoss', loss_weight=1.0), gated_crf]))
custom_hooks = [dict(type='RandomStateHook'), dict(type='SPMLMemoryBankHook'),
                dict(type='LossImageHook')]
