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
you trust completely (``weights_only=False``).
"""
import os

import numpy as np
import torch
from mmengine.runner.checkpoint import CheckpointLoader

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
        return torch.load(filename, map_location=map_location, weights_only=False)
    try:
        return torch.load(filename, map_location=map_location, weights_only=True)
    except Exception as exc:  # pickle.UnpicklingError and friends
        raise RuntimeError(
            f'could not load checkpoint {filename!r} with weights_only=True ({exc}). '
            'If you trust this file, set MMSPML_TRUSTED_CHECKPOINTS=1 to unpickle it '
            'fully.') from exc


def _history_buffer_getstate(self) -> dict:
    state = dict(self.__dict__)
    state.pop('statistics_methods', None)
    return state


def register_checkpoint_loader():
    """Idempotently allow-list mmengine's types and replace the local loader."""
    global _REGISTERED
    if _REGISTERED:
        return
    if hasattr(torch.serialization, 'add_safe_globals'):
        torch.serialization.add_safe_globals(_safe_globals())
    from mmengine.logging.history_buffer import HistoryBuffer
    HistoryBuffer.__getstate__ = _history_buffer_getstate
    CheckpointLoader.register_scheme(prefixes='', loader=load_local_checkpoint, force=True)
    _REGISTERED = True
