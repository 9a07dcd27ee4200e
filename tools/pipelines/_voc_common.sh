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
