#!/usr/bin/env bash
# The staged SPML pipeline on simulated CamVid scribbles, sized for a CPU
# (docs/pipeline.md; spml-method.md §5.4, "VOC scribbles" recipe with CamVid's small model):
#   1. stage 1: SPML embedding + joint classifier          (configs/spml/camvid_scribbles.py)
#   2. pseudo labels: stage-1 softmax (scale 1 +- flip), restricted to the classes of each
#      image's scribbles, random walk T^64, DenseCRF when pydensecrf2 is installed
#   3. stage 2: new classifier on the frozen embedding      (configs/stage2/camvid_scribbles.py)
#   4. test on val with multi-scale + flip (tools/test.py --tta)
# Prints the pseudo-label mIoU (vs. the dense training labels) and the final mIoU.
#
#   bash tools/pipelines/camvid_scribbles.sh [WORK_DIR]
# Environment (tools/pipelines/_camvid_common.sh): ITERS (stage-1 iterations; stage 2 gets
#   ITERS/2; default 200), DATA_ROOT (default ../shared/data/camvid), NPROC (pseudo-label
#   workers, default 2), CRF (1/0, default 1 when pydensecrf2 is importable), PYTHON.
source "$(dirname "$0")/_camvid_common.sh"
WORK=${1:-work_dirs/pipelines/camvid_scribbles}
STAGE1_CFG=configs/spml/camvid_scribbles.py
STAGE2_CFG=configs/stage2/camvid_scribbles.py

echo "== stage 1: $ITERS iterations"
"$PY" tools/train.py "$STAGE1_CFG" --work-dir "$WORK/stage1" --cfg-options "${data[@]}" $(schedule "$ITERS")
ckpt1="$WORK/stage1/iter_$ITERS.pth"

echo "== pseudo labels (crf=$CRF)"
"$PY" tools/make_pseudo_labels.py "$STAGE1_CFG" "$ckpt1" --out-dir "$WORK/pseudo_labels" \
    --source classifier --walk-steps 6 --nproc "$NPROC" "${crf_flag[@]}" \
    --cfg-options "${data[@]}" | tee "$WORK/pseudo_labels.log"

stage2_and_test "$STAGE2_CFG" "$WORK" "$ckpt1" "$WORK/pseudo_labels"

echo "== camvid_scribbles pipeline: ITERS=$ITERS (stage 2: $S2_ITERS), crf=$CRF, $(( $(date +%s) - start )) s"
echo "pseudo-label mIoU (train): $(miou pseudo-label "$WORK/pseudo_labels.log")"
echo "final mIoU (val, stage 2, TTA): $final_miou"
