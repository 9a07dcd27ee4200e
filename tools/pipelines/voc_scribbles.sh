#!/usr/bin/env bash
# SPML on VOC 2012 scribbles (spml-method.md §5.4 "VOC scribbles / points"; reported
# 76.1 val "with denseCRF"):
#   stage 1 on the scribbles -> stage-1 softmax (scale 1 +- flip) restricted to the labelled
#   classes + random walk T^64 + DenseCRF -> stage 2 on these pseudo labels (the intended
#   behaviour; the reference's script trains it on the raw scribbles, §8 item 9) -> test
#   single scale, and multi-scale + flip + DenseCRF (the README's claim, §8 item 10).
#   bash tools/pipelines/voc_scribbles.sh [WORK_DIR]     (GPUs; settings: _voc_common.sh)
source "$(dirname "$0")/_voc_common.sh"
WORK=${1:-work_dirs/pipelines/voc_scribbles}
stage1 configs/spml/voc_scribbles.py "$WORK/stage1"
ckpt1="$WORK/stage1/iter_30000.pth"
"$PY" tools/make_pseudo_labels.py configs/spml/voc_scribbles.py "$ckpt1" --out-dir "$WORK/pseudo_labels" \
    --source classifier --walk-steps 6 --crf --dense-label-dir "${dense_dirs[@]}" \
    --cfg-options "${data[@]}" | tee "$WORK/pseudo_labels.log"
stage2 "$WORK/stage2" "$ckpt1" "$WORK/pseudo_labels"
"$PY" tools/test.py "$STAGE2_CFG" "$WORK/stage2/iter_4000.pth" --work-dir "$WORK/test" \
    --cfg-options "${data[@]}" 2>&1 | tee "$WORK/test.log"
"$PY" tools/test.py "$STAGE2_CFG" "$WORK/stage2/iter_4000.pth" --work-dir "$WORK/test_msc_crf" --tta \
    --cfg-options "${data[@]}" tta_model.type=CRFSegTTAModel 2>&1 | tee "$WORK/test_msc_crf.log"
echo "pseudo-label mIoU (train_aug): $(miou pseudo-label "$WORK/pseudo_labels.log")"
echo "final mIoU (val, single scale): $(test_miou "$WORK/test.log")"
echo "final mIoU (val, multi-scale + flip + CRF): $(test_miou "$WORK/test_msc_crf.log")"
