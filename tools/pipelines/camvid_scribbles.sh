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
# Environment: ITERS (stage-1 iterations; stage 2 gets ITERS/2; default 200),
#   DATA_ROOT (default ../shared/data/camvid), NPROC (pseudo-label workers, default 2),
#   CRF (1/0, default 1 when pydensecrf2 is importable), PYTHON (default .venv/bin/python).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
ITERS=${ITERS:-200}
S2_ITERS=$(( ITERS / 2 > 0 ? ITERS / 2 : 1 ))
WORK=${1:-work_dirs/pipelines/camvid_scribbles}
DATA_ROOT=${DATA_ROOT:-../shared/data/camvid}
NPROC=${NPROC:-2}
PY=${PYTHON:-$repo/.venv/bin/python}
[ -x "$PY" ] || command -v "$PY" >/dev/null || { echo "python $PY not found (set PYTHON)" >&2; exit 1; }
if [ -z "${CRF:-}" ]; then
    if "$PY" -c 'import pydensecrf.densecrf' 2>/dev/null; then CRF=1; else CRF=0; fi
fi
STAGE1_CFG=configs/spml/camvid_scribbles.py
STAGE2_CFG=configs/stage2/camvid_scribbles.py
data=(train_dataloader.dataset.data_root="$DATA_ROOT" val_dataloader.dataset.data_root="$DATA_ROOT"
      test_dataloader.dataset.data_root="$DATA_ROOT")
schedule() {  # iterations, no validation during training, one checkpoint at the end
    echo train_cfg.max_iters="$1" param_scheduler.0.end="$1" default_hooks.checkpoint.interval="$1" \
         val_cfg=None val_dataloader=None val_evaluator=None default_hooks.logger.interval=20
}
start=$(date +%s)

echo "== stage 1: $ITERS iterations"
"$PY" tools/train.py "$STAGE1_CFG" --work-dir "$WORK/stage1" --cfg-options "${data[@]}" $(schedule "$ITERS")
ckpt1="$WORK/stage1/iter_$ITERS.pth"

echo "== pseudo labels (crf=$CRF)"
crf_flag=(); [ "$CRF" = 1 ] && crf_flag=(--crf)
"$PY" tools/make_pseudo_labels.py "$STAGE1_CFG" "$ckpt1" --out-dir "$WORK/pseudo_labels" \
    --source classifier --walk-steps 6 --nproc "$NPROC" "${crf_flag[@]}" \
    --cfg-options "${data[@]}" | tee "$WORK/pseudo_labels.log"
pseudo_miou=$(grep -o 'pseudo-label mIoU: [0-9.na]*' "$WORK/pseudo_labels.log" | tail -1 | awk '{print $3}')

echo "== stage 2: $S2_ITERS iterations"
pseudo_abs="$(cd "$WORK/pseudo_labels" && pwd)"
"$PY" tools/train.py "$STAGE2_CFG" --work-dir "$WORK/stage2" --cfg-options "${data[@]}" \
    $(schedule "$S2_ITERS") load_from="$ckpt1" train_dataloader.dataset.label_dir="$pseudo_abs"

echo "== test (val, multi-scale + flip)"
"$PY" tools/test.py "$STAGE2_CFG" "$WORK/stage2/iter_$S2_ITERS.pth" --tta \
    --work-dir "$WORK/test_tta" --cfg-options "${data[@]}" 2>&1 | tee "$WORK/test_tta.log"
final_miou=$(grep -o 'mIoU: [0-9.]*' "$WORK/test_tta.log" | tail -1 | awk '{print $2}')

echo "== camvid_scribbles pipeline: ITERS=$ITERS (stage 2: $S2_ITERS), crf=$CRF, $(( $(date +%s) - start )) s"
echo "pseudo-label mIoU (train): $pseudo_miou"
echo "final mIoU (val, stage 2, TTA): $final_miou"
