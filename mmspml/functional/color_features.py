"""DensePose colour clustering features (spml-method.md §2.3, §8 item 22). Pure torch."""
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from ._utils import _check_size, _check_tensor, check_scalar


def distance_kernel(size: int = 5, dtype: torch.dtype = torch.float32) -> Tensor:
    """The reference's ``GaussianConv2d`` kernel: ``k(dx, dy) = sqrt(dx² + dy²) / Σ``.

    A distance kernel (zero at the centre, largest in the corners), not a Gaussian
    (§8 item 22); it sums to 1.

    Args:
        size (int): odd kernel size (5 in the DensePose model).
        dtype (torch.dtype): floating dtype of the result.

    Returns:
        Tensor: ``[size, size]``.
    """
    if check_scalar(size, 'size', integer=True, low=3) % 2 == 0:
        raise ValueError(f'size must be odd, got {size!r}')
    r = torch.arange(size, dtype=torch.float64) - size // 2
    k = (r[:, None] ** 2 + r[None, :] ** 2).sqrt()
    return (k / k.sum()).to(dtype)


def color_features(image: Tensor, size: Sequence[int], kernel_size: int = 5) -> Tensor:
    """Filtered, per-image normalised colour channels at the embedding resolution (§2.3).

    Every channel of ``image`` is convolved with :func:`distance_kernel` *without
    padding* (the output is ``kernel_size - 1`` pixels smaller), bilinearly resized to
    ``size`` (``align_corners=False``), and then, per image and channel, the mean is
    subtracted and the result divided by its largest absolute value (range [-1, 1]; a
    constant channel gives 0).

    The reference filters the mean/std-normalised image. The kernel sums to 1 and both
    the resize and the final normalisation remove any per-channel ``a * x + b``
    (``a > 0``), so the raw image gives the same features.

    Args:
        image (Tensor): ``[B, 3, H, W]`` floating, ``H, W >= kernel_size``.
        size (tuple[int, int]): ``(h, w)`` of the result.
        kernel_size (int): odd filter size (5).

    Returns:
        Tensor: ``[B, h, w, 3]`` of ``image``'s dtype, channel order of ``image``.
    """
    _check_tensor(image, 'image', dim=4, floating=True)
    h, w = _check_size(size, 'size')
    b, c, height, width = image.shape
    kernel = distance_kernel(kernel_size, image.dtype).to(image.device)
    if min(height, width) < kernel_size:
        raise ValueError(f'image must be at least {kernel_size}x{kernel_size}, got shape '
                         f'{tuple(image.shape)}')
    x = F.conv2d(image, kernel.expand(c, 1, kernel_size, kernel_size), groups=c)
    x = F.interpolate(x, size=(h, w), mode='bilinear', align_corners=False)
    x = x - x.mean(dim=(2, 3), keepdim=True)
    scale = x.abs().amax(dim=(2, 3), keepdim=True)
    x = torch.where(scale > 0, x / scale.clamp_min(torch.finfo(x.dtype).tiny), x)
    return x.permute(0, 2, 3, 1)
