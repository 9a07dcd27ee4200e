"""Spherical (von Mises-Fisher) k-means with a regular-grid initialisation (§3.2, §3.3).

Shape shorthand: B images, h x w embedding resolution, P = h*w pixels per image,
N pixels of one set, D feature dims, K cluster slots. Pure torch.

Both k-means functions alternate ``mu_k = l2n(sum of members)`` (an empty cluster gets
the zero vector, so it scores 0 against every pixel and is never re-seeded) and
``label_i = argmax_k f_i . mu_k`` (first index on ties); they return the labels of the
last E-step. Assignments are integers, so they run under ``torch.no_grad()`` (§3.3:
equivalent to the reference, which builds a useless graph).
"""
from typing import Optional, Sequence

import torch
from torch import Tensor

from ._utils import (_check_size, _check_tensor, check_scalar, full_precision,
                     l2_normalize)


def grid_init_labels(grid: Sequence[int], size: Sequence[int], device=None) -> Tensor:
    """Initial cluster ids of a ``gy x gx`` grid over an ``h x w`` image (§3.2, §9.3).

    ``ylab = round(linspace(0, gy-1, h))``, ``xlab = round(linspace(0, gx-1, w))`` (round
    half to even) and ``id = ylab + gy * xlab`` (column-major). The first and last rows
    and columns of cells are half as tall/wide. ``linspace`` is evaluated in float32 on
    the CPU like the reference does on CPU: an exact ``.5`` may come out as ``.4999999``
    (e.g. ``gy = 4, h = 43``), and fixing the dtype/device makes the grid identical on
    every device. Ids lie in ``[0, gy*gx)`` and are sparse when the image is smaller than
    the grid (``[12, 12]`` on 3x3 gives ``0 72 132 / 6 78 138 / 11 83 143``).

    Args:
        grid (tuple[int, int]): ``(gy, gx)`` cells along y and x.
        size (tuple[int, int]): ``(h, w)``.
        device: device of the result.

    Returns:
        Tensor: ``[h, w]`` long.
    """
    gy, gx = _check_size(grid, 'grid')
    h, w = _check_size(size, 'size')
    ylab = torch.linspace(0, gy - 1, h, dtype=torch.float32).round().long()
    xlab = torch.linspace(0, gx - 1, w, dtype=torch.float32).round().long()
    labels = ylab[:, None] + gy * xlab[None, :]
    return labels.to(device) if device is not None else labels


@torch.no_grad()
@full_precision
def spherical_kmeans(features: Tensor, init_labels: Tensor, iterations: int = 10) -> Tensor:
    """Spherical k-means on one set of points (§3.3, one image).

    The initial labels are first compacted (``unique`` inverse, order kept), giving
    ``K0`` cluster slots; a slot that empties keeps a zero prototype.

    Args:
        features (Tensor): ``[N, D]`` floating, normally unit rows.
        init_labels (Tensor): ``[N]`` long, any (possibly sparse, non-negative) ids.
        iterations (int): number of M-step/E-step pairs; ``0`` returns the compacted
            initial labels. The loop stops early when an E-step leaves every label
            unchanged: the next M-step would give the same prototypes and so the same
            labels, so the result is exactly that of ``iterations`` steps.

    Returns:
        Tensor: ``[N]`` long in ``[0, K0)`` (labels of the last E-step).
    """
    _check_tensor(features, 'features', dim=2, floating=True)
    _check_tensor(init_labels, 'init_labels', shape=(features.shape[0],), floating=False)
    _check_iterations(iterations)
    features = features.detach()
    _, labels = torch.unique(init_labels, return_inverse=True)
    num_clusters = int(labels.max()) + 1 if labels.numel() else 0
    for _ in range(iterations):
        sums = features.new_zeros(num_clusters, features.shape[1]).index_add_(0, labels, features)
        new = (features @ l2_normalize(sums).t()).argmax(dim=1)
        if torch.equal(new, labels):
            break  # a fixed point: every further step would give these labels again
        labels = new
    return labels


@torch.no_grad()
@full_precision
def batched_spherical_kmeans(features: Tensor, init_labels: Tensor, valid: Tensor,
                             num_clusters: int, iterations: int = 10,
                             image_by_image: Optional[bool] = None) -> Tensor:
    """Spherical k-means on every image of a batch (§3.3).

    Two evaluations give the same labels: all images at once (below), or image by image
    (:func:`spherical_kmeans` on each image's valid pixels, its compacted ids mapped back
    to the slot ids). ``image_by_image=None`` picks the second on CPU, where it is the
    faster one (fewer pixels: only valid ones; ``mm`` + ``index_add_`` beat ``bmm`` +
    ``scatter_add_``; ``tools/benchmark_kmeans.py`` measures both), and the batched one
    elsewhere (one kernel per step instead of one per image).

    Every image has ``K = num_clusters`` fixed slots. Per iteration there is one
    ``scatter_add_`` (the M-step of all images) and one ``bmm`` (all E-steps); no Python
    loop over images and no ``unique`` inside the iterations. Only valid pixels are
    clustered and contribute to the prototypes.

    A slot that holds no valid pixel at initialisation is masked out of the E-step, so
    the result is the same partition as :func:`spherical_kmeans` run per image on the
    valid pixels (which compacts the initial labels first). The reference compacts the
    whole grid instead, so an unused cell stays a zero-prototype candidate; the two
    differ only for a pixel whose similarity to every non-empty cluster is negative.
    Slots that empty during the iterations keep a zero prototype in both.

    Args:
        features (Tensor): ``[B, P, D]`` floating (values at invalid pixels are unused).
        init_labels (Tensor): ``[B, P]`` long slot ids in ``[0, K)`` (checked at valid
            pixels only).
        valid (Tensor): ``[B, P]`` bool; an image may have no valid pixel.
        num_clusters (int): ``K``.
        iterations (int): number of M-step/E-step pairs (``0`` returns the init labels).
        image_by_image (bool, optional): force one evaluation (``None``: by device).

    Returns:
        Tensor: ``[B, P]`` long, the slot id in ``[0, K)`` of every valid pixel and
        ``-1`` elsewhere. Slot ids are those of ``init_labels`` (not compacted).
    """
    _check_tensor(features, 'features', dim=3, floating=True)
    b, p, d = features.shape
    _check_tensor(init_labels, 'init_labels', shape=(b, p), floating=False)
    _check_tensor(valid, 'valid', shape=(b, p))
    if valid.dtype != torch.bool:
        raise ValueError(f'valid must be a bool tensor, got {valid.dtype}')
    check_scalar(num_clusters, 'num_clusters', integer=True, low=1)
    _check_iterations(iterations)
    k = num_clusters
    init_labels = init_labels.masked_fill(~valid, 0)
    if init_labels.numel() and (int(init_labels.min()) < 0 or int(init_labels.max()) >= k):
        raise ValueError(f'init_labels of valid pixels must lie in [0, num_clusters={k})')

    if image_by_image is None:
        image_by_image = features.device.type == 'cpu'
    if image_by_image:
        out = init_labels.masked_fill(~valid, -1)
        for i in range(b):
            if iterations and bool(valid[i].any()):
                slots = torch.unique(init_labels[i][valid[i]])
                out[i][valid[i]] = slots[spherical_kmeans(
                    features[i][valid[i]], init_labels[i][valid[i]], iterations)]
        return out

    features = torch.where(valid[..., None], features.detach(), features.new_zeros(()))
    # [B, D, P] copy for the M-step: scatter_add_ along the last dim is several times
    # faster than index_add_ over B*P rows on CPU (same summation order per slot)
    features_t = features.transpose(1, 2).contiguous()
    offsets = (torch.arange(b, device=features.device) * k)[:, None]
    present = torch.zeros(b * k, dtype=torch.bool, device=features.device)
    present[(init_labels + offsets)[valid]] = True
    # masking costs a pass over [B, P, K]: only when some image has an unused slot
    absent = None if bool(present.all()) else ~present.view(b, 1, k)

    labels = init_labels
    for _ in range(iterations):
        # invalid pixels have zero features: they add nothing to whatever slot they hold
        sums = features_t.new_zeros(b, d, k).scatter_add_(
            2, labels[:, None, :].expand(b, d, p), features_t)
        prototypes = l2_normalize(sums, dim=1)  # [B, D, K]
        scores = torch.bmm(features, prototypes)
        if absent is not None:
            scores.masked_fill_(absent, float('-inf'))
        labels = scores.argmax(dim=2)
    return labels.masked_fill(~valid, -1)


def _check_iterations(iterations):
    check_scalar(iterations, 'iterations', integer=True, low=0)
