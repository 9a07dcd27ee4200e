"""Small tensor helpers shared by the SPML functions (spml-method.md §2.3, notation).

Shape shorthand: B images, h x w embedding resolution, P pixels, D embedding dims,
K segments/clusters, C classes. Pure torch; nothing here imports mmseg/mmengine.
"""
import contextlib
import dataclasses
import functools
import math
import numbers
from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor

_LOW_PRECISION = (torch.float16, torch.bfloat16)


def _to_float32(x):
    """A float16/bfloat16 tensor as float32; a dataclass of tensors (``SegmentBatch``,
    ``MemoryBatch``) with its low-precision fields cast; anything else as it is."""
    if isinstance(x, Tensor):
        return x.float() if x.dtype in _LOW_PRECISION else x
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        cast = {f.name: _to_float32(getattr(x, f.name)) for f in dataclasses.fields(x)
                if isinstance(getattr(x, f.name), Tensor)}
        changed = {k: v for k, v in cast.items() if v is not getattr(x, k)}
        return dataclasses.replace(x, **changed) if changed else x
    return x


def full_precision(fn):
    """Decorator: run ``fn`` in float32 under mixed precision.

    Autocast (``torch.autocast``, mmengine's ``AmpOptimWrapper``) is switched off inside
    ``fn`` and its float16/bfloat16 tensor arguments (also the tensor fields of a
    dataclass argument) are cast to float32 (autograd flows back through the casts).
    SPML's k-means, L2 normalisations, exponentials of ``kappa``-scaled logits and
    segment sums lose too much with 8 (bfloat16) or 11 (float16) mantissa bits: a 1/256
    error on a unit dot product is 0.06 on a logit at ``kappa = 16``. Float32 and
    float64 inputs are used as given.
    """
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        args = [_to_float32(a) for a in args]
        kwargs = {k: _to_float32(v) for k, v in kwargs.items()}
        with contextlib.ExitStack() as stack:
            for device in ('cpu', 'cuda'):
                if torch.is_autocast_enabled(device):
                    stack.enter_context(torch.autocast(device, enabled=False))
            return fn(*args, **kwargs)
    return wrapper


def l2_normalize(x: Tensor, dim: int = -1, eps: float = 1e-12) -> Tensor:
    """``x / max(||x||_2, eps)`` along ``dim`` (the reference's ``normalize_embedding``).

    Args:
        x (Tensor): any floating tensor, e.g. ``[P, D]``.
        dim (int): the dimension normalised.
        eps (float): lower bound of the norm, so a zero vector stays zero (§9.5).

    Returns:
        Tensor: same shape and dtype as ``x``; differentiable.
    """
    return x / x.norm(p=2, dim=dim, keepdim=True).clamp_min(eps)


def location_features(size: Sequence[int], dtype: torch.dtype = torch.float32,
                      device=None) -> Tensor:
    """Pixel coordinates ``(y, x)`` in ``[-0.5, 0.5]`` (§2.3).

    ``y = linspace(0, 1, h) - 0.5`` and ``x = linspace(0, 1, w) - 0.5``, computed in
    ``dtype`` on the CPU (so every device gets bit-identical values) and then moved.

    Args:
        size (tuple[int, int]): ``(h, w)``.
        dtype (torch.dtype): floating dtype of the result (§9.4 computes it in float32).
        device: device of the result.

    Returns:
        Tensor: ``[h, w, 2]`` of ``dtype``, channel 0 = y, channel 1 = x.
    """
    h, w = _check_size(size, 'size')
    if not dtype.is_floating_point:
        raise ValueError(f'dtype must be a floating dtype, got {dtype}')
    y = torch.linspace(0, 1, h, dtype=dtype) - 0.5
    x = torch.linspace(0, 1, w, dtype=dtype) - 0.5
    loc = torch.stack([y[:, None].expand(h, w), x[None, :].expand(h, w)], dim=-1)
    return loc.to(device) if device is not None else loc


def _check_size(size: Sequence[int], name: str) -> Tuple[int, int]:
    """Validate a ``(h, w)`` / ``(gy, gx)`` pair of positive ints."""
    try:
        a, b = (int(v) for v in size)
        ok = all(int(v) == v for v in size)
    except (TypeError, ValueError):
        ok = False
    if not ok or a < 1 or b < 1:
        raise ValueError(f'{name} must be two positive integers, got {size!r}')
    return a, b


def _check_tensor(t, name: str, dim: Optional[int] = None, floating: Optional[bool] = None,
                  shape: Optional[Sequence[Optional[int]]] = None) -> Tensor:
    """Raise ``ValueError`` naming ``name`` unless ``t`` has the requested form.

    ``floating=True`` asks for a floating dtype, ``False`` for an integer dtype (not
    bool); ``shape`` entries that are ``None`` are free.
    """
    if not isinstance(t, Tensor):
        raise ValueError(f'{name} must be a torch.Tensor, got {type(t).__name__}')
    if dim is not None and t.dim() != dim:
        raise ValueError(f'{name} must be {dim}-D, got shape {tuple(t.shape)}')
    if floating is True and not t.is_floating_point():
        raise ValueError(f'{name} must be a floating tensor, got {t.dtype}')
    if floating is False and (t.is_floating_point() or t.is_complex() or t.dtype == torch.bool):
        raise ValueError(f'{name} must be an integer tensor, got {t.dtype}')
    if shape is not None:
        if len(shape) != t.dim() or any(s is not None and s != n for s, n in zip(shape, t.shape)):
            want = tuple('*' if s is None else s for s in shape)
            raise ValueError(f'{name} must have shape {want}, got {tuple(t.shape)}')
    return t


def check_scalar(value, name: str, integer: bool = False, low=None, high=None,
                 low_open: bool = False, high_open: bool = False,
                 optional: bool = False):
    """Return ``value`` as an ``int``/``float`` or raise ``ValueError`` naming ``name``.

    The one argument check of the package: a ``bool`` is never a number, a real must be
    finite, and the bounds ``low``/``high`` are inclusive unless ``low_open``/``high_open``.
    ``optional=True`` lets ``None`` through (returned as ``None``).
    """
    if value is None and optional:
        return None
    kind = numbers.Integral if integer else numbers.Real
    ok = not isinstance(value, bool) and isinstance(value, kind)
    if ok and not integer:
        ok = math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        what = 'an int' if integer else 'a finite number'
        bounds = []
        if low is not None:
            bounds.append(f'{">" if low_open else ">="} {low}')
        if high is not None:
            bounds.append(f'{"<" if high_open else "<="} {high}')
        if bounds:
            what += ' ' + ' and '.join(bounds)
        if optional:
            what = 'None or ' + what
        raise ValueError(f'{name} must be {what}, got {value!r}')
    return int(value) if integer else float(value)
