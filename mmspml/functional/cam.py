"""Class activation maps and their thresholding into "tags" weak labels (seeds).

Shape shorthand: B images, F feature channels, h x w feature resolution, H x W image,
C classes. Pure torch.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from ._utils import _check_tensor


def class_activation_maps(features: Tensor, weight: Tensor, size=None,
                          eps: float = 1e-5) -> Tensor:
    """CAMs of a GAP + linear multi-label classifier, each scaled to max 1 per image.

    ``cam_c = relu(w_c . f)`` at every position (the classifier's logit is the spatial
    mean of ``w_c . f`` plus the bias), divided by its image-wide maximum (``+ eps``, so
    a class that never fires stays 0), then optionally resized bilinearly to ``size``.

    Args:
        features (Tensor): ``[B, F, h, w]`` floating.
        weight (Tensor): ``[C, F]`` classifier weights.
        size (tuple[int, int], optional): ``(H, W)`` of the result.
        eps (float): added to the maximum.

    Returns:
        Tensor: ``[B, C, h, w]`` (or ``[B, C, H, W]``) in ``[0, 1]``.
    """
    _check_tensor(features, 'features', dim=4, floating=True)
    _check_tensor(weight, 'weight', dim=2, floating=True, shape=(None, features.shape[1]))
    cam = F.relu(torch.einsum('bfhw,cf->bchw', features, weight.to(features.dtype)))
    cam = cam / (cam.flatten(2).amax(dim=2)[..., None, None] + eps)
    if size is not None:
        cam = F.interpolate(cam, size=tuple(int(s) for s in size), mode='bilinear',
                            align_corners=False)
    return cam


def cam_seed_label(cams: Tensor, tags: Tensor, fg_threshold: float = 0.3,
                   bg_threshold: Optional[float] = None,
                   background_class: Optional[int] = None,
                   unlabeled_index: Optional[int] = None) -> Tensor:
    """Threshold the CAMs of the tagged classes into a weak "tags" label.

    Only classes in ``tags`` compete. A pixel whose highest tagged CAM is
    ``>= fg_threshold`` gets that class; with ``background_class`` (VOC: 0; it is not a
    tag), pixels whose highest CAM is ``< bg_threshold`` (default ``fg_threshold``) get
    the background class; all other pixels are unlabeled (``unlabeled_index``, default
    ``C``). An image without tags is all unlabeled.

    Args:
        cams (Tensor): ``[C, H, W]`` floating in ``[0, 1]``.
        tags (Tensor): ``[C]`` bool.
        fg_threshold (float): foreground threshold.
        bg_threshold (float, optional): background threshold (``<= fg_threshold``).
        background_class (int, optional): class id of the background, if the dataset
            has one.
        unlabeled_index (int, optional): value of unlabeled pixels.

    Returns:
        Tensor: ``[H, W]`` uint8.
    """
    _check_tensor(cams, 'cams', dim=3, floating=True)
    c = cams.shape[0]
    _check_tensor(tags, 'tags', shape=(c,))
    if tags.dtype != torch.bool:
        raise ValueError(f'tags must be a bool tensor, got {tags.dtype}')
    unl = c if unlabeled_index is None else int(unlabeled_index)
    if not c <= unl < 255:
        raise ValueError(f'unlabeled_index must lie in [C={c}, 255), got {unl}')
    bg = fg_threshold if bg_threshold is None else float(bg_threshold)
    if not 0 <= bg <= fg_threshold <= 1:
        raise ValueError('need 0 <= bg_threshold <= fg_threshold <= 1, got '
                         f'{bg}, {fg_threshold}')
    if background_class is not None and not 0 <= int(background_class) < c:
        raise ValueError(f'background_class must be a class id in [0, {c}), got '
                         f'{background_class}')
    fg_tags = tags.clone()
    if background_class is not None:
        fg_tags[int(background_class)] = False
    label = torch.full(cams.shape[1:], unl, dtype=torch.uint8, device=cams.device)
    if not fg_tags.any():
        peak = torch.zeros(cams.shape[1:], dtype=cams.dtype, device=cams.device)
    else:
        masked = cams.masked_fill(~fg_tags[:, None, None], float('-inf'))
        peak, best = masked.max(dim=0)
        keep = peak >= fg_threshold
        label[keep] = best[keep].to(torch.uint8)
    if background_class is not None:
        label[peak < bg] = int(background_class)
    return label
