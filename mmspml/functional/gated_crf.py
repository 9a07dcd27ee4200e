"""The Gated CRF loss (Obukhov et al., "Gated CRF Loss for Weakly Supervised Semantic
Image Segmentation", 2019): a pairwise Potts energy on the soft prediction within a local
window, with Gaussian kernels on colour and position, gated by a validity mask.

Shape shorthand: B images, C classes, h x w the grid the loss works on (normally the
logits pooled to a stride of the input), F colour channels. Pure torch.

For every valid pixel ``i`` and every valid pixel ``j != i`` with ``|y_i - y_j| <= r`` and
``|x_i - x_j| <= r`` (the ``(2r+1)^2`` window, nothing outside the grid)::

    k_ij = sum_k w_k exp(- |c_i - c_j|^2 / (2 sigma_rgb_k^2) - |q_i - q_j|^2 / (2 sigma_xy_k^2))
    loss = sum_{i, j} k_ij (1 - sum_c p_i(c) p_j(c)) / N

``c`` the colour, ``q`` the position in input pixels (grid index times ``xy_step``),
``N`` the number of valid pixels (``reduction='mean'``, the reference's normalisation by
the valid destination pixels) or 1 (``'sum'``). A pixel is *gated*: invalid pixels (the
padding of a batch, a masked-out region) take part in no pair, as source or as
destination, so neither their colour nor their prediction changes the loss. The sum runs
over ordered pairs, as the reference's, so each unordered pair counts twice.
"""
from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor

from ._utils import _check_tensor, check_scalar

#: one kernel: (weight, sigma_rgb or None, sigma_xy or None)
Kernel = Tuple[float, Optional[float], Optional[float]]


def _check_kernels(kernels: Sequence[Kernel]) -> Tuple[Kernel, ...]:
    if isinstance(kernels, (str, bytes)) or not isinstance(kernels, (list, tuple)) \
            or not kernels:
        raise ValueError('kernels must be a non-empty sequence of (weight, sigma_rgb, '
                         f'sigma_xy), got {kernels!r}')
    out = []
    for i, kernel in enumerate(kernels):
        if not isinstance(kernel, (list, tuple)) or len(kernel) != 3:
            raise ValueError(f'kernels[{i}] must be (weight, sigma_rgb, sigma_xy), got '
                             f'{kernel!r}')
        weight, s_rgb, s_xy = kernel
        weight = check_scalar(weight, f'kernels[{i}] weight', low=0, low_open=True)
        s_rgb = check_scalar(s_rgb, f'kernels[{i}] sigma_rgb', low=0, low_open=True,
                             optional=True)
        s_xy = check_scalar(s_xy, f'kernels[{i}] sigma_xy', low=0, low_open=True,
                            optional=True)
        if s_rgb is None and s_xy is None:
            raise ValueError(f'kernels[{i}] has neither sigma_rgb nor sigma_xy (a constant '
                             'kernel is a plain Potts term, not a CRF kernel)')
        out.append((weight, s_rgb, s_xy))
    return tuple(out)


def _pair_slices(dy: int, dx: int, h: int, w: int):
    """Slices of the sources ``i`` and destinations ``j = i + (dy, dx)`` inside the grid."""
    src = (slice(0, h - dy), slice(max(0, -dx), w - max(0, dx)))
    dst = (slice(dy, h), slice(max(0, dx), w + min(0, dx)))
    return src, dst


def gated_crf_loss(probs: Tensor, image: Tensor, valid: Tensor, radius: int,
                   kernels: Sequence[Kernel], xy_step: float = 1.0,
                   reduction: str = 'mean') -> Tensor:
    """Gated CRF loss of a batch of soft predictions (the formula of the module docstring).

    Each unordered pair of the window is visited once and counted twice (``k`` and the
    Potts term are symmetric), one window offset at a time, so memory stays at a few
    ``[B, C, h, w]`` tensors whatever the radius.

    Args:
        probs (Tensor): ``[B, C, h, w]`` floating class probabilities (softmax output).
        image (Tensor): ``[B, F, h, w]`` floating colour features on the same grid (e.g.
            RGB in 0..255, then ``sigma_rgb`` is in those units).
        valid (Tensor): ``[B, h, w]`` bool, False where a pixel must take part in no pair.
        radius (int): ``r >= 1``, the window is ``(2r+1) x (2r+1)`` grid cells.
        kernels (sequence): ``(weight > 0, sigma_rgb, sigma_xy)`` per Gaussian kernel; a
            sigma of ``None`` leaves that modality out of the kernel.
        xy_step (float): input pixels between two neighbouring grid cells (the pooling
            factor), so that ``sigma_xy`` is in input pixels.
        reduction (str): ``'mean'`` (divide by the number of valid pixels, at least 1) or
            ``'sum'``.

    Returns:
        Tensor: scalar of ``probs``' dtype; 0 (with a graph) when no pair is valid.
    """
    _check_tensor(probs, 'probs', dim=4, floating=True)
    b, _, h, w = probs.shape
    _check_tensor(image, 'image', dim=4, floating=True, shape=(b, None, h, w))
    _check_tensor(valid, 'valid', dim=3, shape=(b, h, w))
    if valid.dtype != torch.bool:
        raise ValueError(f'valid must be a bool tensor, got {valid.dtype}')
    radius = check_scalar(radius, 'radius', integer=True, low=1)
    xy_step = check_scalar(xy_step, 'xy_step', low=0, low_open=True)
    kernels = _check_kernels(kernels)
    if reduction not in ('mean', 'sum'):
        raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
    image = image.to(probs.dtype)
    total = probs.sum() * 0.0  # keeps the graph when no pair is valid
    for dy in range(0, radius + 1):
        for dx in range(-radius, radius + 1):
            if (dy == 0 and dx <= 0) or dy >= h or abs(dx) >= w:
                continue  # the other half of the window, the pixel itself, or no pair
            src, dst = _pair_slices(dy, dx, h, w)
            gate = valid[:, src[0], src[1]] & valid[:, dst[0], dst[1]]
            colour = (image[:, :, src[0], src[1]] - image[:, :, dst[0], dst[1]]).square().sum(1)
            dist_xy = float(dy * dy + dx * dx) * xy_step * xy_step
            kernel = probs.new_zeros(colour.shape)
            for weight, s_rgb, s_xy in kernels:
                exponent = torch.zeros_like(colour)
                if s_rgb is not None:
                    exponent = exponent - colour / (2 * s_rgb * s_rgb)
                if s_xy is not None:
                    exponent = exponent - dist_xy / (2 * s_xy * s_xy)
                kernel = kernel + weight * exponent.exp()
            kernel = kernel * gate
            agree = (probs[:, :, src[0], src[1]] * probs[:, :, dst[0], dst[1]]).sum(1)
            total = total + (kernel * (1 - agree)).sum()
    total = 2 * total
    if reduction == 'sum':
        return total
    return total / valid.sum().clamp(min=1).to(total.dtype)
