# Shared settings of tools/pipelines/voc_*.sh (sourced, not run). The paper's settings
# (spml-method.md §5): stage 1 = configs/spml/voc_KIND.py (4 GPUs x 4 images, 30k
# iterations), stage 2 = configs/stage2/voc.py (1 GPU x 16 images, 4k iterations).
# Environment: GPUS (stage-1 processes, default 4), DATA_ROOT (default data/voc12),
#   PRETRAINED (ImageNet ResNet-101 deep-stem checkpoint, passed as model.pretrained;
#   strongly recommended), PYTHON. Pseudo labels run on the first GPU (--device).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
GPUS=${GPUS:-4}
DATA_ROOT=${DATA_ROOT:-data/voc12}
if [ -z "${PYTHON:-}" ]; then
    if [ -x "$repo/.venv/bin/python" ]; then PYTHON="$repo/.venv/bin/python"; else PYTHON=python; fi
fi
export PYTHON
PY=$PYTHON
data=(train_dataloader.dataset.data_root="$DATA_ROOT" val_dataloader.dataset.data_root="$DATA_ROOT"
      test_dataloader.dataset.data_root="$DATA_ROOT")
pretrained=(); [ -n "${PRETRAINED:-}" ] && pretrained=(model.pretrained="$PRETRAINED")
dense_dirs=("$DATA_ROOT/VOC2012/segcls" "$DATA_ROOT/sbd/dataset/clsimg")
STAGE2_CFG=configs/stage2/voc.py

stage1() {  # CONFIG WORK: 30k iterations on $GPUS processes
    bash tools/dist_train.sh "$1" "$GPUS" --work-dir "$2" --cfg-options "${data[@]}" "${pretrained[@]}"
}
stage2() {  # WORK STAGE1_CKPT PSEUDO_DIR: 4k iterations on one GPU
    local abs; abs="$(cd "$3" && pwd)"
    "$PY" tools/train.py "$STAGE2_CFG" --work-dir "$1" --cfg-options "${data[@]}" \
        load_from="$2" train_dataloader.dataset.label_dir="$abs"
}
miou() { grep -o "$1 mIoU: [0-9.na]*" "$2" | tail -1 | awk '{print $3}'; }
test_miou() { grep -o 'mIoU: [0-9.]*' "$1" | tail -1 | awk '{print $2}'; }

# The scribble/point recipe (spec §5.4 "VOC scribbles / points"): stage 1 on the weak
# labels -> restricted stage-1 softmax + random walk + CRF -> stage 2 -> single-scale test
# and multi-scale + flip + CRF test.   Usage: scribble_point_pipeline KIND WORK
scribble_point_pipeline() {
    local cfg="configs/spml/voc_$1.py" work="$2"
    stage1 "$cfg" "$work/stage1"
    local ckpt1="$work/stage1/iter_30000.pth"
    "$PY" tools/make_pseudo_labels.py "$cfg" "$ckpt1" --out-dir "$work/pseudo_labels" \
        --source classifier --walk-steps 6 --crf --dense-label-dir "${dense_dirs[@]}" \
        --cfg-options "${data[@]}" | tee "$work/pseudo_labels.log"
    stage2 "$work/stage2" "$ckpt1" "$work/pseudo_labels"
    "$PY" tools/test.py "$STAGE2_CFG" "$work/stage2/iter_4000.pth" --work-dir "$work/test" \
        --cfg-options "${data[@]}" 2>&1 | tee "$work/test.log"
    "$PY" tools/test.py "$STAGE2_CFG" "$work/stage2/iter_4000.pth" --work-dir "$work/test_msc_crf" \
        --tta --cfg-options "${data[@]}" tta_model.type=CRFSegTTAModel 2>&1 | tee "$work/test_msc_crf.log"
    echo "pseudo-label mIoU (train_aug): $(miou pseudo-label "$work/pseudo_labels.log")"
    echo "final mIoU (val, single scale): $(test_miou "$work/test.log")"
    echo "final mIoU (val, multi-scale + flip + CRF): $(test_miou "$work/test_msc_crf.log")"
}
