#!/usr/bin/env bash
# Derived from MMSegmentation 1.2.2 tools/dist_train.sh (Copyright 2020 The MMSegmentation Authors,
# Apache License 2.0, see LICENSE).
# Usage: tools/dist_train.sh CONFIG NUM_PROCESSES [train.py args...]
# One process per GPU; on a machine without GPU the processes use gloo on the CPU.
CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
repo="$(cd "$(dirname "$0")/.." && pwd)"
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$repo/.venv/bin/python" ]; then PYTHON="$repo/.venv/bin/python"; else PYTHON=python; fi
fi
if [ -z "$CONFIG" ] || [ -z "$GPUS" ]; then
  echo "usage: $0 CONFIG NUM_PROCESSES [train.py args...]" >&2; exit 2
fi
OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} \
"$PYTHON" -m torch.distributed.run \
    --nnodes=$NNODES --node_rank=$NODE_RANK --master_addr=$MASTER_ADDR \
    --nproc_per_node=$GPUS --master_port=$PORT \
    "$repo/tools/train.py" "$CONFIG" --launcher pytorch "${@:3}"
