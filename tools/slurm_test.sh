#!/usr/bin/env bash
# Derived from MMSegmentation 1.2.2 tools/slurm_test.sh (Copyright 2020 The MMSegmentation Authors,
# Apache License 2.0, see LICENSE); modified for mmspml: GPUS as an argument, GRES, the
# repository's .venv python, a usage message, srun in the foreground.
# Usage: tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [GPUS] [test.py args...]
# Environment as tools/slurm_train.sh (GPUS, GPUS_PER_NODE, CPUS_PER_TASK, SRUN_ARGS, GRES,
# MASTER_PORT, PYTHON).
set -x
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
CHECKPOINT=$4
if [ -z "$PARTITION" ] || [ -z "$JOB_NAME" ] || [ -z "$CONFIG" ] || [ -z "$CHECKPOINT" ]; then
  echo "usage: $0 PARTITION JOB_NAME CONFIG CHECKPOINT [GPUS] [test.py args...]" >&2; exit 2
fi
if [[ "${5:-}" =~ ^[0-9]+$ ]]; then
  GPUS=$5; PY_ARGS=("${@:6}")
else
  GPUS=${GPUS:-4}; PY_ARGS=("${@:5}")
fi
GPUS_PER_NODE=${GPUS_PER_NODE:-$(( GPUS < 8 ? GPUS : 8 ))}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
GRES=${GRES-gpu:${GPUS_PER_NODE}}
repo="$(cd "$(dirname "$0")/.." && pwd)"
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$repo/.venv/bin/python" ]; then PYTHON="$repo/.venv/bin/python"; else PYTHON=python; fi
fi
# shellcheck disable=SC2086  # SRUN_ARGS is a list of options
PYTHONPATH="$repo":$PYTHONPATH \
srun -p ${PARTITION} \
    --job-name=${JOB_NAME} \
    ${GRES:+--gres=${GRES}} \
    --ntasks=${GPUS} \
    --ntasks-per-node=${GPUS_PER_NODE} \
    --cpus-per-task=${CPUS_PER_TASK} \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    "$PYTHON" -u "$repo/tools/test.py" "${CONFIG}" "${CHECKPOINT}" --launcher="slurm" \
    "${PY_ARGS[@]}"
