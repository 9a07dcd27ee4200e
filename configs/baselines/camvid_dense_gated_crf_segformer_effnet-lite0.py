# The upper bound that matches the Gated CRF recipes of the label-efficiency benchmark
# (docs/benchmarks.md): camvid_dense_segformer_effnet-lite0.py (dense labels) with the same
# GatedCRFLoss term as camvid_scribbles_gated_crf_segformer_effnet-lite0.py, so that a weak
# recipe with the CRF loss is compared with dense labels given the same loss.
_base_ = './camvid_dense_segformer_effnet-lite0.py'
gated_crf = dict(type='GatedCRFLoss', loss_weight=0.03)  # the weak recipes' weight
model = dict(decode_head=dict(loss_decode=[
    dict(type='PartialCrossEntropyLoss', loss_weight=1.0), gated_crf]))
custom_hooks = [dict(type='RandomStateHook'), dict(type='LossImageHook')]
