#!/usr/bin/env bash
# SPML on VOC 2012 image tags (spml-method.md §5.4 "VOC image tags"; reported 69.5 val):
#   1. stage 1 on the thresholded SEAM CAM labels of the reference layout
#      (VOC2012/cam/seam_a6_th0.2; with tags only, make them with tools/make_cam_seeds.py)
#   2. round-1 labels: stage-1 softmax (scale 1 +- flip) restricted to the tags + random
#      walk T^64 + DenseCRF (the reference walks the raw SEAM CAMs here instead)
#   3. prototype bank of them (scales 0.5/1/1.5), 20-NN votes (scales 0.5/1/1.5/2 +- flip,
#      tag-wise max floored at 0.15) + DenseCRF
#   4. stage 2 #1; its softmax (scales 0.75/1 +- flip, one walk step T^1, no CRF)
#      restricted to the tags; prototype bank + 20-NN + DenseCRF again; stage 2 #2
#   5. test: scales 0.5-1.5 +- flip + DenseCRF
#   bash tools/pipelines/voc_tags.sh [WORK_DIR]     (GPUs; settings: _voc_common.sh)
source "$(dirname "$0")/_voc_common.sh"
WORK=${1:-work_dirs/pipelines/voc_tags}
CFG1=configs/spml/voc_tags.py
# stage-2 checkpoints read the training images with the tags' CAM labels as weak labels
tag_data=(train_dataloader.dataset.weak_label=tags train_dataloader.dataset.label_dir=None
          "train_dataloader.dataset.ann_file=seam_train+_a6_th0.2_hed.txt")
knn_round() {  # CONFIG CKPT LABEL_DIR OUT_DIR [extra cfg-options]: bank + k-NN labels
    "$PY" tools/extract_prototypes.py "$1" "$2" --out "$4.prototypes.pth" --label-dir "$3" \
        --scales 0.5 1 1.5 --cfg-options "${data[@]}"
    "$PY" tools/make_pseudo_labels.py "$1" "$2" --out-dir "$4" --source knn \
        --prototypes "$4.prototypes.pth" --scales 0.5 1 1.5 2 --walk-steps -1 --crf \
        --dense-label-dir "${dense_dirs[@]}" --cfg-options "${data[@]}" | tee "$4.log"
}

stage1 "$CFG1" "$WORK/stage1"
ckpt1="$WORK/stage1/iter_30000.pth"
"$PY" tools/make_pseudo_labels.py "$CFG1" "$ckpt1" --out-dir "$WORK/round1_rw" \
    --source classifier --walk-steps 6 --crf --dense-label-dir "${dense_dirs[@]}" \
    --cfg-options "${data[@]}" | tee "$WORK/round1_rw.log"
knn_round "$CFG1" "$ckpt1" "$WORK/round1_rw" "$WORK/round1_nn"
stage2 "$WORK/stage2_1" "$ckpt1" "$WORK/round1_nn"

"$PY" tools/make_pseudo_labels.py "$STAGE2_CFG" "$WORK/stage2_1/iter_4000.pth" \
    --out-dir "$WORK/round2_rw" --source classifier --scales 0.75 1 --walk-steps 0 \
    --dense-label-dir "${dense_dirs[@]}" --cfg-options "${data[@]}" "${tag_data[@]}" \
    | tee "$WORK/round2_rw.log"
knn_round "$CFG1" "$ckpt1" "$WORK/round2_rw" "$WORK/round2_nn"
stage2 "$WORK/stage2_2" "$ckpt1" "$WORK/round2_nn"

"$PY" tools/test.py "$STAGE2_CFG" "$WORK/stage2_2/iter_4000.pth" --work-dir "$WORK/test" --tta \
    --cfg-options "${data[@]}" tta_model.type=CRFSegTTAModel 2>&1 | tee "$WORK/test.log"
for r in round1_rw round1_nn round2_rw round2_nn; do
    echo "pseudo-label mIoU ($r, train_aug): $(miou pseudo-label "$WORK/$r.log")"
done
echo "final mIoU (val, multi-scale + flip + CRF): $(test_miou "$WORK/test.log")"
