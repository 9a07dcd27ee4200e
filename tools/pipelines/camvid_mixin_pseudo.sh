#!/usr/bin/env bash
# SPML mixed into an mmseg model, then its pseudo labels (docs/pipeline.md, §4), on CamVid
# points or scribbles with the pretrained EfficientNet-Lite0 + SegFormer head of the
# label-efficiency benchmark (docs/benchmarks.md):
#   1. stage 1: the mix-in config (configs/mixin/camvid_LABELS_segformer_effnet-lite0_spml.py)
#   2. pseudo labels: decode head's softmax (scale 1 +- flip), restricted to the classes of
#      each image's weak label, random walk T^64 on the SPMLAuxHead embedding, DenseCRF
#      when pydensecrf2 is installed
#   3. the same model trained afresh (ImageNet weights) on the pseudo labels as if dense
#      (configs/baselines/camvid_dense_segformer_effnet-lite0.py, label_dir = pseudo labels)
#   4. test on val (single scale, as the benchmark table)
# CONTROL=1 runs the self-training control instead: stage 1 is the partial-CE model
# (configs/baselines/camvid_LABELS_partial_ce_segformer_effnet-lite0.py) and its pseudo
# labels skip the walk (it has no embedding); everything else is the same.
#
#   bash tools/pipelines/camvid_mixin_pseudo.sh [WORK_DIR]
# Environment: LABELS (points | scribbles, default points), SEED (default 0), ITERS
#   (stage 1 and retraining iterations, default 1000), STAGE1_CKPT (skip stage 1 and use
#   this checkpoint of the stage-1 config), CONTROL (0/1), and those of
#   tools/pipelines/_camvid_common.sh (DATA_ROOT, NPROC, CRF, PYTHON).
ITERS=${ITERS:-1000}
source "$(dirname "$0")/_camvid_common.sh"
LABELS=${LABELS:-points}
SEED=${SEED:-0}
CONTROL=${CONTROL:-0}
case "$LABELS" in points|scribbles) ;; *) echo "LABELS must be points or scribbles, got $LABELS" >&2; exit 1;; esac
if [ "$CONTROL" = 1 ]; then
    STAGE1_CFG=configs/baselines/camvid_${LABELS}_partial_ce_segformer_effnet-lite0.py
    walk=-1; run=pce
else
    STAGE1_CFG=configs/mixin/camvid_${LABELS}_segformer_effnet-lite0_spml.py
    walk=6; run=spml
fi
RETRAIN_CFG=configs/baselines/camvid_dense_segformer_effnet-lite0.py
WORK=${1:-work_dirs/pipelines/camvid_mixin_${run}_${LABELS}_seed$SEED}
seed_opt=(randomness.seed="$SEED")
mkdir -p "$WORK"

if [ -n "${STAGE1_CKPT:-}" ]; then
    ckpt1=$STAGE1_CKPT
    echo "== stage 1: $ckpt1"
else
    echo "== stage 1: $ITERS iterations ($STAGE1_CFG)"
    "$PY" tools/train.py "$STAGE1_CFG" --work-dir "$WORK/stage1" \
        --cfg-options "${data[@]}" "${seed_opt[@]}" $(schedule "$ITERS")
    ckpt1="$WORK/stage1/iter_$ITERS.pth"
fi

echo "== pseudo labels (walk steps $walk, crf=$CRF)"
"$PY" tools/make_pseudo_labels.py "$STAGE1_CFG" "$ckpt1" --out-dir "$WORK/pseudo_labels" \
    --source classifier --walk-steps "$walk" --nproc "$NPROC" "${crf_flag[@]}" \
    --cfg-options "${data[@]}" | tee "$WORK/pseudo_labels.log"

retrain_and_test "$RETRAIN_CFG" "$WORK"

echo "== camvid_mixin_pseudo: LABELS=$LABELS SEED=$SEED CONTROL=$CONTROL ITERS=$ITERS, crf=$CRF, $(( $(date +%s) - start )) s"
echo "pseudo-label mIoU (train): $(miou pseudo-label "$WORK/pseudo_labels.log")"
echo "final mIoU (val, retrained on the pseudo labels): $(grep -o 'mIoU: [0-9.]*' "$WORK/test.log" | tail -1 | awk '{print $2}')"
