#!/usr/bin/env bash
# SPML from image-level tags on CamVid crops, with the EfficientNet-Lite0 + SegFormer model
# of the label-efficiency benchmark (docs/pipeline.md; spec §5.4 "image tags"):
#   0. the crop dataset (tools/make_camvid_crop_tags.py: 9 half-size crops of every
#      training frame, tags = classes covering >= 1 % of the crop), unless CROP_ROOT has it
#   1. CAM seeds: multi-label classifier on the crop tags (the config's pretrained
#      EfficientNet-Lite0 at output stride 8), CAMs thresholded at 0.3
#      (tools/make_cam_seeds.py --tags-file; seed mIoU against the crops' dense labels)
#   2. stage 1 on the seeds: the SPML mix-in with the tags losses, co-occurrence included
#      (configs/spml_cam/camvid_crop_tags_segformer_effnet-lite0_spml.py); tested on val
#   3. pseudo labels: decode head's softmax (scale 1 +- flip), restricted to the seed's
#      classes (PSEUDO=classifier, the default), or the CAMs of step 1 restricted to the
#      crop's tags (PSEUDO=cam, the paper's tags generator, pseudo_camrw_crf.py); random
#      walk T^64 on the SPMLAuxHead embedding, DenseCRF when pydensecrf2 is installed
#   4. the same model trained afresh (ImageNet weights) on the pseudo labels as if dense
#      (configs/baselines/camvid_crop_dense_segformer_effnet-lite0.py)
#   5. test on CamVid's val frames (single scale, as the benchmark table)
# CONTROL=1 runs the control without SPML instead: stage 1 is the same model trained with
# partial CE on the seeds (configs/baselines/camvid_crop_tags_partial_ce_segformer_effnet-lite0.py;
# its val mIoU is "CAM seeds -> the model trained on them"), its pseudo labels skip the
# walk (it has no embedding; with PSEUDO=cam they are the CAMs + DenseCRF alone);
# everything else is the same.
# Prints the seed, stage-1, pseudo-label and final mIoU.
#
#   bash tools/pipelines/camvid_tags.sh [WORK_DIR]
# Environment: ITERS (stage 1 and retraining iterations, default 1000), CAM_ITERS (CAM
#   classifier iterations, default ITERS), SEED (default 0), CONTROL (0/1), CROP_ROOT
#   (the crop dataset, default data/camvid_crop_tags; written when it has no
#   train_tags.json), CAM_SIZE (the classifier's square training resize, default 112,
#   about a crop's size), SEEDS_FROM (the WORK_DIR of an earlier run with the same SEED,
#   CAM_ITERS, CAM_SIZE and CROP_ROOT, checked against its seeds.settings: its seeds/,
#   cams/ and seeds.log are reused and step 1 is skipped, e.g. for the control of an SPML
#   run, whose CAM step is the same), PSEUDO (classifier/cam, step 3), and those of
#   tools/pipelines/_camvid_common.sh (DATA_ROOT: the CamVid frames, NPROC, CRF, PYTHON).
ITERS=${ITERS:-1000}
source "$(dirname "$0")/_camvid_common.sh"
CAM_ITERS=${CAM_ITERS:-$ITERS}
CAM_SIZE=${CAM_SIZE:-112}
SEED=${SEED:-0}
CONTROL=${CONTROL:-0}
CROP_ROOT=${CROP_ROOT:-data/camvid_crop_tags}
PSEUDO=${PSEUDO:-classifier}
case "$PSEUDO" in classifier|cam) ;; *) echo "PSEUDO=$PSEUDO: expected classifier or cam" >&2; exit 1;; esac
if [ "$CONTROL" = 1 ]; then
    STAGE1_CFG=configs/baselines/camvid_crop_tags_partial_ce_segformer_effnet-lite0.py
    walk=-1; run=pce
else
    STAGE1_CFG=configs/spml_cam/camvid_crop_tags_segformer_effnet-lite0_spml.py
    walk=6; run=spml
fi
RETRAIN_CFG=configs/baselines/camvid_crop_dense_segformer_effnet-lite0.py
[ "$PSEUDO" = cam ] && run=${run}_cam
WORK=${1:-work_dirs/pipelines/camvid_tags_${run}_seed$SEED}
seed_opt=(randomness.seed="$SEED")
mkdir -p "$WORK"

if [ ! -f "$CROP_ROOT/train_tags.json" ]; then
    echo "== crop dataset: $CROP_ROOT"
    "$PY" tools/make_camvid_crop_tags.py "$DATA_ROOT" --out-dir "$CROP_ROOT" | tee "$WORK/crops.log"
fi
crop_abs="$(cd "$CROP_ROOT" && pwd)"
# training reads the crops, validation and test the CamVid frames
data=(train_dataloader.dataset.data_root="$crop_abs" val_dataloader.dataset.data_root="$DATA_ROOT"
      test_dataloader.dataset.data_root="$DATA_ROOT")

# what the CAM step depends on; SEEDS_FROM must have been made with the same
cam_settings="SEED=$SEED CAM_ITERS=$CAM_ITERS CAM_SIZE=$CAM_SIZE CROP_ROOT=$crop_abs"
if [ -n "${SEEDS_FROM:-}" ]; then
    # seeds.settings is written last, when the CAM step has ended
    { grep -q "seed mIoU" "$SEEDS_FROM/seeds.log" && [ -f "$SEEDS_FROM/seeds.settings" ]; } \
        2>/dev/null || {
        echo "SEEDS_FROM=$SEEDS_FROM: no finished CAM step there (seeds.log without a seed" \
             "mIoU, or no seeds.settings, which the CAM step writes when it ends)" >&2
        exit 1; }
    made="$(cat "$SEEDS_FROM/seeds.settings")"
    [ "$made" = "$cam_settings" ] || {
        echo "SEEDS_FROM=$SEEDS_FROM: its CAM step ran with $made; this run needs $cam_settings" >&2
        exit 1; }
    if [ "$PSEUDO" = cam ] && [ ! -d "$SEEDS_FROM/cams" ]; then
        echo "SEEDS_FROM=$SEEDS_FROM: no cams/ there (PSEUDO=cam needs the CAMs of its CAM step)" >&2
        exit 1
    fi
    echo "== CAM seeds: reused from $SEEDS_FROM"
    cp "$SEEDS_FROM/seeds.log" "$WORK/seeds.log"
    seeds_abs="$(cd "$SEEDS_FROM/seeds" && pwd)"
    cams_abs="$(cd "$SEEDS_FROM" && pwd)/cams"
else
    echo "== CAM seeds: classifier $CAM_ITERS iterations"
    rm -f "$WORK/seeds.settings"  # a CAM step rewriting this work dir has not ended
    "$PY" tools/make_cam_seeds.py "$STAGE1_CFG" --out-dir "$WORK/seeds" --iters "$CAM_ITERS" \
        --size "$CAM_SIZE" --seed "$SEED" --fg-threshold 0.3 \
        --tags-file "$crop_abs/train_tags.json" --dense-label-dir "$crop_abs/labels/train" \
        --cam-dir "$WORK/cams" \
        --cfg-options "${data[@]}" model.backbone.output_stride=8 | tee "$WORK/seeds.log"
    seeds_abs="$(cd "$WORK/seeds" && pwd)"
    cams_abs="$(cd "$WORK/cams" && pwd)"
    echo "$cam_settings" > "$WORK/seeds.settings"
fi
seed_cfg=(train_dataloader.dataset.label_dir="$seeds_abs")

echo "== stage 1: $ITERS iterations ($STAGE1_CFG)"
"$PY" tools/train.py "$STAGE1_CFG" --work-dir "$WORK/stage1" \
    --cfg-options "${data[@]}" "${seed_cfg[@]}" "${seed_opt[@]}" $(schedule "$ITERS")
ckpt1="$WORK/stage1/iter_$ITERS.pth"
"$PY" tools/test.py "$STAGE1_CFG" "$ckpt1" --work-dir "$WORK/stage1_test" \
    --cfg-options "${data[@]}" 2>&1 | tee "$WORK/stage1_test.log"

source_opt=(--source classifier)
[ "$PSEUDO" = cam ] && source_opt=(--source cam --cam-dir "$cams_abs")
echo "== pseudo labels ($PSEUDO, walk steps $walk, crf=$CRF)"
"$PY" tools/make_pseudo_labels.py "$STAGE1_CFG" "$ckpt1" --out-dir "$WORK/pseudo_labels" \
    "${source_opt[@]}" --walk-steps "$walk" --nproc "$NPROC" "${crf_flag[@]}" \
    --dense-label-dir "$crop_abs/labels/train" \
    --cfg-options "${data[@]}" "${seed_cfg[@]}" | tee "$WORK/pseudo_labels.log"

retrain_and_test "$RETRAIN_CFG" "$WORK"

val_miou() { grep -o 'mIoU: [0-9.]*' "$1" | tail -1 | awk '{print $2}'; }
echo "== camvid_tags: SEED=$SEED CONTROL=$CONTROL PSEUDO=$PSEUDO ITERS=$ITERS CAM_ITERS=$CAM_ITERS, crf=$CRF, $(( $(date +%s) - start )) s"
echo "seed mIoU (train crops): $(miou seed "$WORK/seeds.log")"
echo "stage-1 mIoU (val, trained on the seeds): $(val_miou "$WORK/stage1_test.log")"
echo "pseudo-label mIoU (train crops): $(miou pseudo-label "$WORK/pseudo_labels.log")"
echo "final mIoU (val, retrained on the pseudo labels): $(val_miou "$WORK/test.log")"
