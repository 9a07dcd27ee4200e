"""Checkpoint files: loading with ``torch.load(weights_only=True)``, atomic writing, the
checkpoint ``--resume`` continues from.

Nothing here changes mmengine or torch globally: :class:`~mmspml.engine.SPMLRunner`
(``runner_type = 'SPMLRunner'`` in ``configs/_base_/default_runtime.py``) and mmspml's
tools call these functions explicitly.

torch >= 2.6 loads with ``weights_only=True`` by default. mmengine 0.10.7 saves a
``message_hub`` (``HistoryBuffer`` objects holding numpy arrays) and numpy scalars in
every checkpoint, so its own loader fails on them with ``Weights only load failed``.
Instead of switching the safety check off, :func:`load_local_checkpoint` allow-lists the
few mmengine/numpy types that mmengine itself writes, for that one ``torch.load`` only
(``torch.serialization.safe_globals``, torch >= 2.5). ``HistoryBuffer`` pickles its
class-level statistics functions as ``getattr(HistoryBuffer, 'min')``; allowing ``getattr``
would let a checkpoint call arbitrary methods, so :func:`portable_message_hub` makes the
checkpoints that :class:`SPMLRunner` writes leave them out (``HistoryBuffer`` rebuilds them
when it is unpickled). Checkpoints holding other Python objects (e.g. written by plain
mmengine under torch >= 2.6) fail loudly; set ``MMSPML_TRUSTED_CHECKPOINTS=1`` to unpickle
checkpoints you trust completely (``weights_only=False``). An error names the file as
truncated or corrupt only when its zip archive fails the check of
:func:`checkpoint_is_readable`.
"""
import contextlib
import copyreg
import glob
import os
import os.path as osp
import pickle
import re
import zipfile
from typing import Optional, Tuple

import numpy as np
import torch

_ZIP_MAGIC = b'PK\x03\x04'


class UnreadableCheckpointError(RuntimeError):
    """``--resume`` found no readable checkpoint where ``last_checkpoint`` points."""


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


def _allow_listed():
    """The allow-list for one ``torch.load`` (torch < 2.5 has no scoped allow-list: then
    only plain tensors load, and mmengine's types get the trust advice)."""
    scoped = getattr(torch.serialization, 'safe_globals', None)
    return scoped(_safe_globals()) if scoped is not None else contextlib.nullcontext()


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
        with _allow_listed():
            return torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        if 'weights only' not in str(exc).lower() or not checkpoint_is_readable(filename):
            raise _unreadable(filename, exc) from exc
        # torch refused a Python object that is not on the allow-list
        raise RuntimeError(
            f'could not load checkpoint {filename!r} with weights_only=True ({exc}). '
            'If you trust this file, set MMSPML_TRUSTED_CHECKPOINTS=1 to unpickle it '
            'fully.') from exc
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise _unreadable(filename, exc) from exc


def load_checkpoint_file(filename: str, map_location=None):
    """A checkpoint from a local path (:func:`load_local_checkpoint`) or, for a URL-like
    name (``scheme://``), from mmengine's ``CheckpointLoader`` unchanged."""
    if '://' in str(filename):
        from mmengine.runner.checkpoint import CheckpointLoader
        return CheckpointLoader.load_checkpoint(filename, map_location)
    return load_local_checkpoint(osp.expanduser(str(filename)), map_location)


def _unreadable(filename: str, exc: BaseException) -> RuntimeError:
    what = f'{type(exc).__name__}: {exc}'
    with open(filename, 'rb') as f:
        zipped = f.read(4) == _ZIP_MAGIC
    if zipped and not checkpoint_is_readable(filename):
        return RuntimeError(f'checkpoint {filename!r} is truncated or corrupt (its zip '
                            f'archive fails the integrity check): {what}')
    if not zipped:
        return RuntimeError(f'could not load checkpoint {filename!r}, which is not a torch '
                            f'zip archive (a legacy torch file or not a checkpoint): {what}')
    return RuntimeError(f'could not load checkpoint {filename!r} (the file itself is '
                        f'complete): {what}')


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

    Returns ``(None, None)`` when there is no ``last_checkpoint`` (training then starts
    afresh, from ``load_from`` if the config has one) and ``(last, None)`` when the last
    checkpoint is readable. When it is not, the newest readable ``iter_*.pth`` /
    ``epoch_*.pth`` of ``work_dir`` is returned with a note naming both; with none readable
    an :class:`UnreadableCheckpointError` says so in one line.
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
    raise UnreadableCheckpointError(
        f'the last checkpoint {last} is unreadable (truncated or corrupt) and {work_dir} '
        'holds no other readable checkpoint to resume from')


def replace_when_complete(tmp: str, filename: str) -> None:
    """Flush ``tmp`` to disk and rename it to ``filename`` (atomic on one file system)."""
    with open(tmp, 'rb') as f:
        os.fsync(f.fileno())
    os.replace(tmp, filename)


class _PortableHistoryBuffer:
    """Pickles as mmengine's ``HistoryBuffer`` with its state but without the class-level
    statistics functions (which ``HistoryBuffer.__getstate__`` would add)."""

    def __init__(self, buffer) -> None:
        self.state = {k: v for k, v in vars(buffer).items() if k != 'statistics_methods'}

    @property
    def __class__(self):  # pickle checks that __newobj__ builds the object's class
        from mmengine.logging.history_buffer import HistoryBuffer
        return HistoryBuffer

    def __reduce_ex__(self, protocol):
        return copyreg.__newobj__, (self.__class__, ), self.state


def portable_message_hub(checkpoint: dict) -> None:
    """Make the ``HistoryBuffer`` objects of ``checkpoint['message_hub']`` (the copies that
    ``Runner.save_checkpoint`` puts there) pickle without ``getattr`` references."""
    from mmengine.logging.history_buffer import HistoryBuffer
    scalars = (checkpoint.get('message_hub') or {}).get('log_scalars')
    if not isinstance(scalars, dict):
        return
    for key, value in scalars.items():
        if isinstance(value, HistoryBuffer):
            scalars[key] = _PortableHistoryBuffer(value)
