#!/usr/bin/env bash
# Derived from MMSegmentation 1.2.2 tools/slurm_train.sh (Copyright 2020 The MMSegmentation Authors,
# Apache License 2.0, see LICENSE); modified for mmspml: WORK_DIR and GPUS as arguments, GRES, the
# repository's .venv python, a usage message.
# Usage: tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [GPUS] [train.py args...]
# One task per GPU through srun, tools/train.py --launcher slurm. Environment:
#   GPUS           number of tasks (default 4; a number as 5th argument overrides it)
#   GPUS_PER_NODE  tasks and GPUs per node (default: GPUS, at most 8)
#   CPUS_PER_TASK  default 5
#   SRUN_ARGS      more srun options, e.g. "--time=2:00:00 --mem=32G"
#   GRES           srun --gres value (default gpu:GPUS_PER_NODE; GRES= : no --gres, CPU nodes)
#   MASTER_PORT    port of the rank-0 task (default 29500), PYTHON (default .venv/bin/python)
# Without GPUs the tasks use gloo on the CPU (mmspml/utils/launch.py).
set -x
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
if [ -z "$PARTITION" ] || [ -z "$JOB_NAME" ] || [ -z "$CONFIG" ] || [ -z "$WORK_DIR" ]; then
  echo "usage: $0 PARTITION JOB_NAME CONFIG WORK_DIR [GPUS] [train.py args...]" >&2; exit 2
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
    "$PYTHON" -u "$repo/tools/train.py" "${CONFIG}" --work-dir="${WORK_DIR}" --launcher="slurm" \
    "${PY_ARGS[@]}"
