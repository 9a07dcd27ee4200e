#!/usr/bin/env bash
# SPML on VOC 2012 bounding boxes (spml-method.md §5.4 "VOC boxes"; reported 73.5 val):
#   stage 1 on the box-CAM labels -> stage-1 softmax (scale 1 +- flip) restricted to the
#   box classes + random walk T^64 + DenseCRF -> stage 2 -> single-scale test + DenseCRF.
#   bash tools/pipelines/voc_boxes.sh [WORK_DIR]     (GPUs; settings: _voc_common.sh)
source "$(dirname "$0")/_voc_common.sh"
WORK=${1:-work_dirs/pipelines/voc_boxes}
stage1 configs/spml/voc_boxes.py "$WORK/stage1"
ckpt1="$WORK/stage1/iter_30000.pth"
"$PY" tools/make_pseudo_labels.py configs/spml/voc_boxes.py "$ckpt1" --out-dir "$WORK/pseudo_labels" \
    --source classifier --walk-steps 6 --crf --dense-label-dir "${dense_dirs[@]}" \
    --cfg-options "${data[@]}" | tee "$WORK/pseudo_labels.log"
stage2 "$WORK/stage2" "$ckpt1" "$WORK/pseudo_labels"
"$PY" tools/test.py "$STAGE2_CFG" "$WORK/stage2/iter_4000.pth" --work-dir "$WORK/test" \
    --cfg-options "${data[@]}" model.type=CRFEncoderDecoder 2>&1 | tee "$WORK/test.log"
echo "pseudo-label mIoU (train_aug): $(miou pseudo-label "$WORK/pseudo_labels.log")"
echo "final mIoU (val, single scale + CRF): $(test_miou "$WORK/test.log")"
