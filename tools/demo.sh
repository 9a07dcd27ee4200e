#!/usr/bin/env bash
# Demo: train a small SPML model on simulated CamVid scribbles (../shared/data/camvid) on
# the CPU, then evaluate it on the 101 validation images.
#   bash tools/demo.sh [ITERS] [CONFIG]      (default 200 iterations, camvid_scribbles)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
ITERS=${1:-200}
CONFIG=${2:-configs/spml/camvid_scribbles.py}
PY=${PYTHON:-$repo/.venv/bin/python}
WORK=${WORK_DIR:-work_dirs/demo_$(basename "$CONFIG" .py)}
[ -x "$PY" ] || { echo "run 'bash tools/install.sh' first ($PY not found)" >&2; exit 1; }
# the poly schedule (one PolyLR in every CamVid config) ends with the shortened training,
# so the learning rate decays over ITERS iterations, not over the config's 1000
"$PY" tools/train.py "$CONFIG" --work-dir "$WORK" --cfg-options \
    train_cfg.max_iters="$ITERS" param_scheduler.0.end="$ITERS" \
    val_cfg=None val_dataloader=None val_evaluator=None \
    default_hooks.checkpoint.interval="$ITERS" default_hooks.logger.interval=20
"$PY" tools/test.py "$CONFIG" "$WORK/iter_$ITERS.pth" --work-dir "$WORK/test"
