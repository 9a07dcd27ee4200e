"""Checkpoint loading that works with ``torch.load(weights_only=True)``.

torch >= 2.6 loads with ``weights_only=True`` by default. mmengine 0.10.7 saves a
``message_hub`` (``HistoryBuffer`` objects holding numpy arrays) and numpy scalars in
every checkpoint, so ``--resume`` and ``load_from`` fail with ``Weights only load
failed``. Instead of switching the safety check off we allow-list the few
mmengine/numpy types that mmengine itself writes and re-register mmengine's loader for
local paths (prefix ``''``) so that it uses them. ``HistoryBuffer`` pickles its
class-level statistics functions as ``getattr(HistoryBuffer, 'min')``; allowing
``getattr`` would let a checkpoint call arbitrary methods, so instead we stop writing
them (they are re-registered by ``HistoryBuffer.__init__`` and by the code that adds
custom ones). Checkpoints holding other Python objects (e.g. written by plain mmengine
under torch >= 2.6) still fail loudly; set ``MMSPML_TRUSTED_CHECKPOINTS=1`` to unpickle checkpoints
you trust completely (``weights_only=False``). A file that is not a readable checkpoint at
all (truncated, corrupt) gets an error that says so instead.

Checkpoints are written atomically: :func:`atomic_save_checkpoint` replaces the
``save_checkpoint`` that ``mmengine.runner.runner`` calls (what ``Runner.save_checkpoint``,
hence ``CheckpointHook``, uses) and writes a local checkpoint to a temporary file in the
same directory, then renames it, so a crash while saving never leaves a truncated
``iter_N.pth``. :func:`resume_checkpoint` lets ``tools/train.py --resume`` fall back to the
newest readable checkpoint when the last one is unreadable anyway (disk trouble, copies).
"""
import glob
import os
import os.path as osp
import pickle
import re
import tempfile
import zipfile
from typing import Optional, Tuple

import numpy as np
import torch
import mmengine.runner.runner as mmengine_runner
from mmengine.fileio import LocalBackend, get_file_backend
from mmengine.runner.checkpoint import CheckpointLoader
from mmengine.runner.checkpoint import save_checkpoint as _mmengine_save_checkpoint

_REGISTERED = False


def _safe_globals():
    from mmengine.logging.history_buffer import HistoryBuffer
    types = [HistoryBuffer, np.ndarray, np.dtype, np.bool_, np.float64, np.float32,
             np.int64, np.int32]
    # numpy 1.x / 2.x spell the array reconstructor differently
    for modname in ('numpy._core.multiarray', 'numpy.core.multiarray'):
        try:
            mod = __import__(modname, fromlist=['_reconstruct', 'scalar'])
        except ImportError:
            continue
        types += [mod._reconstruct, mod.scalar]
        break
    # dtype classes such as numpy.dtypes.Float64DType (numpy >= 1.25)
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        types += [getattr(dtypes, n) for n in dir(dtypes) if n.endswith('DType')]
    return types


def load_local_checkpoint(filename, map_location=None):
    """Load a local checkpoint with the allow-list above (mmengine loader API)."""
    if not os.path.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename!r} does not exist')
    trusted = os.environ.get('MMSPML_TRUSTED_CHECKPOINTS', '0') == '1'
    if trusted:
        try:
            return torch.load(filename, map_location=map_location, weights_only=False)
        except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError) as exc:
            raise _unreadable(filename, exc) from exc
    try:
        return torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        if 'weights only' not in str(exc).lower():
            raise _unreadable(filename, exc) from exc
        # torch refused a Python object that is not on the allow-list
        raise RuntimeError(
            f'could not load checkpoint {filename!r} with weights_only=True ({exc}). '
            'If you trust this file, set MMSPML_TRUSTED_CHECKPOINTS=1 to unpickle it '
            'fully.') from exc
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise _unreadable(filename, exc) from exc


def _unreadable(filename: str, exc: BaseException) -> RuntimeError:
    return RuntimeError(f'checkpoint {filename!r} is not a readable torch checkpoint '
                        f'(truncated or corrupt file?): {type(exc).__name__}: {exc}')


def checkpoint_is_readable(filename: str) -> bool:
    """Whether ``filename`` is a complete torch zip checkpoint (every member's CRC checked;
    nothing is unpickled)."""
    try:
        with zipfile.ZipFile(filename) as z:
            return z.testzip() is None
    except (OSError, zipfile.BadZipFile, EOFError, ValueError):
        return False


def resume_checkpoint(work_dir: str) -> Tuple[Optional[str], Optional[str]]:
    """The checkpoint ``--resume`` should load from ``work_dir`` and a one-line note.

    Returns ``(None, None)`` when there is no ``last_checkpoint`` (mmengine then starts
    from scratch) and ``(last, None)`` when the last checkpoint is readable. When it is not,
    the newest readable ``iter_*.pth`` / ``epoch_*.pth`` of ``work_dir`` is returned with a
    note naming both; with none readable a ``RuntimeError`` says so in one line.
    """
    record = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(record):
        return None, None
    with open(record) as f:
        last = f.read().strip()
    if checkpoint_is_readable(last):
        return last, None
    found = []
    for path in glob.glob(osp.join(work_dir, '*.pth')):
        m = re.fullmatch(r'(iter|epoch)_(\d+)\.pth', osp.basename(path))
        if m and osp.abspath(path) != osp.abspath(last):
            found.append((int(m.group(2)), path))
    for _, path in sorted(found, reverse=True):
        if checkpoint_is_readable(path):
            return path, (f'the last checkpoint {last} is unreadable (truncated or corrupt); '
                          f'resuming from the newest readable one, {path}')
    raise RuntimeError(f'the last checkpoint {last} is unreadable (truncated or corrupt) and '
                       f'{work_dir} holds no other readable checkpoint to resume from')


def atomic_save_checkpoint(checkpoint, filename, file_client_args=None, backend_args=None):
    """mmengine's ``save_checkpoint``, but a local file is written to a temporary file in
    the same directory and renamed (``os.replace``) only once it is complete."""
    if (file_client_args is not None or str(filename).startswith('pavi://') or
            not isinstance(get_file_backend(filename, backend_args=backend_args),
                           LocalBackend)):
        return _mmengine_save_checkpoint(checkpoint, filename, file_client_args, backend_args)
    directory = osp.dirname(osp.abspath(filename))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=osp.basename(filename) + '.', suffix='.tmp',
                               dir=directory)
    try:
        with os.fdopen(fd, 'wb') as f:
            torch.save(checkpoint, f)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # what a plain open() would give, not mkstemp's 0600
        os.replace(tmp, filename)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def _history_buffer_getstate(self) -> dict:
    state = dict(self.__dict__)
    state.pop('statistics_methods', None)
    return state


def register_checkpoint_loader():
    """Idempotently allow-list mmengine's types, replace the local loader and make the
    Runner's checkpoint saving atomic (the module docstring lists every change)."""
    global _REGISTERED
    if _REGISTERED:
        return
    if hasattr(torch.serialization, 'add_safe_globals'):
        torch.serialization.add_safe_globals(_safe_globals())
    from mmengine.logging.history_buffer import HistoryBuffer
    HistoryBuffer.__getstate__ = _history_buffer_getstate
    CheckpointLoader.register_scheme(prefixes='', loader=load_local_checkpoint, force=True)
    mmengine_runner.save_checkpoint = atomic_save_checkpoint
    _REGISTERED = True
