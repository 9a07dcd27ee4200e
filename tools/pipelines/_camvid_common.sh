# Shared settings of tools/pipelines/camvid_*.sh (sourced, not run): the CPU-sized
# CamVid recipes. Environment: ITERS (stage-1 iterations; stage 2 gets ITERS/2; default
# 200), DATA_ROOT (default ../shared/data/camvid), NPROC (pseudo-label workers, default 2:
# CPU processes, or with a GPU one process per GPU, at most NPROC),
# CRF (1/0, default 1 when pydensecrf2 is importable), PYTHON (default .venv/bin/python).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
ITERS=${ITERS:-200}
S2_ITERS=$(( ITERS / 2 > 0 ? ITERS / 2 : 1 ))
DATA_ROOT=${DATA_ROOT:-../shared/data/camvid}
NPROC=${NPROC:-2}
PY=${PYTHON:-$repo/.venv/bin/python}
[ -x "$PY" ] || command -v "$PY" >/dev/null || { echo "python $PY not found (set PYTHON)" >&2; exit 1; }
if [ -z "${CRF:-}" ]; then
    if "$PY" -c 'import pydensecrf.densecrf' 2>/dev/null; then CRF=1; else CRF=0; fi
fi
crf_flag=(); [ "$CRF" = 1 ] && crf_flag=(--crf)
data=(train_dataloader.dataset.data_root="$DATA_ROOT" val_dataloader.dataset.data_root="$DATA_ROOT"
      test_dataloader.dataset.data_root="$DATA_ROOT")
start=$(date +%s)

schedule() {  # iterations, no validation during training, one checkpoint at the end
    echo train_cfg.max_iters="$1" param_scheduler.0.end="$1" default_hooks.checkpoint.interval="$1" \
         val_cfg=None val_dataloader=None val_evaluator=None default_hooks.logger.interval=20
}
miou() {  # NAME LOG: the last "NAME mIoU: X" of a tool's log
    grep -o "$1 mIoU: [0-9.na]*" "$2" | tail -1 | awk '{print $3}'
}
stage2_and_test() {  # STAGE2_CFG WORK STAGE1_CKPT PSEUDO_DIR; sets final_miou
    local abs; abs="$(cd "$4" && pwd)"
    echo "== stage 2: $S2_ITERS iterations"
    "$PY" tools/train.py "$1" --work-dir "$2/stage2" --cfg-options "${data[@]}" \
        $(schedule "$S2_ITERS") load_from="$3" train_dataloader.dataset.label_dir="$abs"
    echo "== test (val, multi-scale + flip)"
    "$PY" tools/test.py "$1" "$2/stage2/iter_$S2_ITERS.pth" --tta \
        --work-dir "$2/test_tta" --cfg-options "${data[@]}" 2>&1 | tee "$2/test_tta.log"
    final_miou=$(grep -o 'mIoU: [0-9.]*' "$2/test_tta.log" | tail -1 | awk '{print $2}')
}

# retrain_and_test CONFIG WORK: CONFIG trained afresh on WORK/pseudo_labels for $ITERS
# iterations (WORK/retrain; seed options in seed_opt), then tested on val, single scale
# (WORK/test.log). Used by camvid_mixin_pseudo.sh and camvid_tags.sh.
retrain_and_test() {
    echo "== retraining on the pseudo labels: $ITERS iterations"
    local pseudo_abs
    pseudo_abs="$(cd "$2/pseudo_labels" && pwd)"
    "$PY" tools/train.py "$1" --work-dir "$2/retrain" --cfg-options "${data[@]}" \
        "${seed_opt[@]}" $(schedule "$ITERS") train_dataloader.dataset.label_dir="$pseudo_abs"
    echo "== test (val, single scale)"
    "$PY" tools/test.py "$1" "$2/retrain/iter_$ITERS.pth" --work-dir "$2/test" \
        --cfg-options "${data[@]}" 2>&1 | tee "$2/test.log"
}
