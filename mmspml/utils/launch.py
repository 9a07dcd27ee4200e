"""Launcher glue for tools/train.py and tools/test.py (CPU-only distributed runs).

mmengine 0.10.7's ``init_dist`` calls ``torch.cuda.set_device`` and its default DDP
wrapper passes ``device_ids=[LOCAL_RANK]``; both fail without a GPU. On a machine
without CUDA we initialise a gloo process group ourselves (the Runner then skips its
own ``init_dist``), wrap with ``device_ids=None`` and replace SyncBN by BN (SyncBN needs
GPUs). ``--launcher slurm`` takes rank, world size and the master's address from Slurm's
variables as mmengine's ``_init_dist_slurm`` does (``scontrol show hostname`` of
``SLURM_NODELIST``), then the same gloo group. With CUDA nothing is changed.
"""
import contextlib
import logging
import os
import subprocess
import sys

import torch
import torch.distributed as dist
from mmengine.logging import print_log


def _replace_syncbn(obj):
    n = 0
    if isinstance(obj, dict):
        if obj.get('type') == 'SyncBN':
            obj['type'] = 'BN'
            n += 1
        for v in obj.values():
            n += _replace_syncbn(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            n += _replace_syncbn(v)
    return n


def prepare_cpu_runtime(cfg, launcher: str) -> None:
    """Adapt ``cfg`` (in place) to a CPU-only machine; no-op when CUDA is available."""
    if torch.cuda.is_available():
        return
    if _replace_syncbn(cfg.model):
        print_log('No GPU: SyncBN replaced by BN in the model config.', logger='current')
    if launcher == 'none':
        return
    if not dist.is_initialized():
        if launcher == 'slurm':
            slurm_environment()
        for var in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
            if var not in os.environ:
                raise RuntimeError(
                    f'--launcher {launcher}: environment variable {var} is not set; '
                    'start with tools/dist_train.sh (torchrun)')
        dist.init_process_group(backend='gloo')
    cfg.env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
    wrapper = dict(cfg.get('model_wrapper_cfg') or dict(type='MMDistributedDataParallel'))
    wrapper.update(device_ids=None, broadcast_buffers=wrapper.get('broadcast_buffers', False))
    wrapper.setdefault('find_unused_parameters', cfg.get('find_unused_parameters', False))
    cfg.model_wrapper_cfg = wrapper


def slurm_environment() -> None:
    """Set ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT`` from
    the variables ``srun`` gives every task, as mmengine's ``_init_dist_slurm`` does:
    ``SLURM_PROCID``, ``SLURM_NTASKS``, ``SLURM_LOCALID`` (default ``SLURM_PROCID``), the first
    host of ``scontrol show hostname $SLURM_NODELIST`` unless ``MASTER_ADDR`` is set, and
    ``MASTER_PORT`` (default 29500)."""
    for var in ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_NODELIST'):
        if var not in os.environ:
            raise RuntimeError(f'--launcher slurm: environment variable {var} is not set; '
                               'start with tools/slurm_train.sh (srun)')
    if 'MASTER_ADDR' not in os.environ:
        nodes = os.environ['SLURM_NODELIST']
        try:
            out = subprocess.run(['scontrol', 'show', 'hostname', nodes], capture_output=True,
                                 text=True, check=True).stdout.split()
        except (OSError, subprocess.CalledProcessError) as exc:
            raise RuntimeError(f'--launcher slurm: `scontrol show hostname {nodes}` failed '
                               f'({exc}); set MASTER_ADDR') from None
        if not out:
            raise RuntimeError(f'--launcher slurm: `scontrol show hostname {nodes}` printed '
                               'no host; set MASTER_ADDR')
        os.environ['MASTER_ADDR'] = out[0]
    os.environ.setdefault('MASTER_PORT', '29500')
    os.environ['WORLD_SIZE'] = os.environ['SLURM_NTASKS']
    os.environ['RANK'] = os.environ['SLURM_PROCID']
    os.environ['LOCAL_RANK'] = os.environ.get('SLURM_LOCALID', os.environ['SLURM_PROCID'])


@contextlib.contextmanager
def explain_missing_data():
    """Turn a missing dataset into a one-line error instead of a deep traceback.

    Datasets raise ``FileNotFoundError`` mentioning ``docs/dataset_prepare.md`` when their
    ``data_root`` or list file is absent (e.g. VOC, which cannot be downloaded at run
    time); the user then sees that message and the exit status is 1.
    """
    try:
        yield
    except FileNotFoundError as exc:
        if 'dataset_prepare' not in str(exc):
            raise
        raise SystemExit(f'error: {exc}') from None


def shutdown_distributed() -> None:
    """End a finished distributed run: wait for every process, destroy the process group,
    flush the logs and leave without interpreter teardown.

    Even after ``destroy_process_group``, a gloo process sometimes aborts in interpreter
    teardown ("terminate called without an active exception", SIGABRT), and torchrun then
    reports a run whose checkpoints and metrics were all written as failed (seen in 1 of
    3 CI runs of ``tools/dist_test.sh``). The tools call this as their last step, so the
    process exits with status 0 through ``os._exit`` once everything is flushed. A
    non-distributed run returns normally.
    """
    if not (dist.is_available() and dist.is_initialized()):
        return
    dist.barrier()
    dist.destroy_process_group()
    logging.shutdown()  # flushes and closes mmengine's log files
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
