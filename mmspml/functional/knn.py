"""Nearest-prototype label transfer: k-NN voting and per-pixel k-NN scores (§6.3, §9.5),
segment majority labels of the prototype bank (§6.2) and the nearest labeled segment of
the same image (§4.5 step 1).

Shape shorthand: Q queries, M memory prototypes, K prototypes, D dims, C classes.
Pure torch; all functions return integer/bool results and run without gradient.
"""
from typing import Optional, Tuple

import torch
from torch import Tensor

from ._utils import _check_tensor, check_scalar, full_precision
from .segments import generate_segments


@torch.no_grad()
@full_precision
def knn_vote(queries: Tensor, memory: Tensor, memory_labels: Tensor, k: int = 20,
             num_classes: Optional[int] = None) -> Tuple[Tensor, Tensor, Tensor]:
    """Unweighted majority vote of the ``k`` most cosine-similar memory entries (§6.3).

    Uses ``topk`` (the reference fully ``argsort``s every row, §8 item 6) and no chunk
    arithmetic, so a single query or a single memory entry works (§8 item 18).

    Args:
        queries (Tensor): ``[Q, D]`` floating, unit rows (e.g. segment prototypes).
        memory (Tensor): ``[M, D]`` floating, unit rows; ``M >= 1``.
        memory_labels (Tensor): ``[M]`` integer class ids in ``[0, C)``.
        k (int): neighbours; ``k' = min(k, M)`` are used.
        num_classes (int, optional): ``C``; default ``max(memory_labels) + 1``.

    Returns:
        tuple[Tensor, Tensor, Tensor]: ``topk_labels`` ``[Q, k']`` long (most similar
        first), ``majority`` ``[Q]`` long (ties -> smallest class id) and ``scores``
        ``[Q, C]`` vote fractions (``#votes / k'``, the soft scores of §6.3 step 4) in
        ``queries``' dtype.
    """
    _check_tensor(queries, 'queries', dim=2, floating=True)
    _check_tensor(memory, 'memory', dim=2, floating=True, shape=(None, queries.shape[1]))
    m = memory.shape[0]
    if m == 0:
        raise ValueError('memory must hold at least one entry, got shape '
                         f'{tuple(memory.shape)}')
    _check_tensor(memory_labels, 'memory_labels', shape=(m,), floating=False)
    k = check_scalar(k, 'k', integer=True, low=1)
    low, high = int(memory_labels.min()), int(memory_labels.max())
    if num_classes is None:
        num_classes = high + 1
    else:
        num_classes = check_scalar(num_classes, 'num_classes', integer=True, low=1)
    if low < 0 or high >= num_classes:
        raise ValueError(f'memory_labels must lie in [0, num_classes={num_classes}), got '
                         f'range [{low}, {high}]')

    kk = min(k, m)
    similarity = queries @ memory.to(queries.dtype).t()
    topk_labels = memory_labels.long()[similarity.topk(kk, dim=1).indices]  # [Q, k']
    votes = torch.zeros(queries.shape[0], num_classes, dtype=torch.long, device=queries.device)
    votes.scatter_add_(1, topk_labels, torch.ones_like(topk_labels))
    majority = votes.argmax(dim=1)  # first maximum = smallest class id
    return topk_labels, majority, votes.to(queries.dtype) / kk


@torch.no_grad()
def nearest_labeled_label_sets(prototypes: Tensor, prototype_labels: Tensor,
                               prototype_image_ids: Tensor, num_classes: int,
                               threshold: float = 0.95) -> Tensor:
    """Label set of every prototype from its nearest labeled prototype of the same image.

    §4.5 step 1 (the reference's ``gather_multiset_labels_per_batch_by_nearest_neighbor``
    with ``top_k = 1``): among the prototypes of the same image whose label is a class
    (``< num_classes``), take the most cosine-similar one (a labeled prototype normally
    finds itself); if that similarity is ``>= threshold`` the set is ``{its class}``,
    otherwise (or with no labeled prototype in the image) it is empty.

    Args:
        prototypes (Tensor): ``[K, D]`` floating, unit rows.
        prototype_labels (Tensor): ``[K]`` integer; ``>= num_classes`` = unlabeled.
        prototype_image_ids (Tensor): ``[K]`` integer.
        num_classes (int): ``C``.
        threshold (float): minimal cosine similarity.

    Returns:
        Tensor: ``[K, C]`` bool, at most one ``True`` per row.
    """
    _check_tensor(prototypes, 'prototypes', dim=2, floating=True)
    k = prototypes.shape[0]
    _check_tensor(prototype_labels, 'prototype_labels', shape=(k,), floating=False)
    _check_tensor(prototype_image_ids, 'prototype_image_ids', shape=(k,), floating=False)
    num_classes = check_scalar(num_classes, 'num_classes', integer=True, low=1)
    sets = torch.zeros(k, num_classes, dtype=torch.bool, device=prototypes.device)
    if k == 0:
        return sets
    labeled = (prototype_labels >= 0) & (prototype_labels < num_classes)
    candidate = (prototype_image_ids[:, None] == prototype_image_ids[None, :]) & labeled[None, :]
    similarity = (prototypes @ prototypes.t()).masked_fill(~candidate, float('-inf'))
    best = similarity.argmax(dim=1)  # first index on ties
    best_similarity = similarity.gather(1, best[:, None]).squeeze(1)
    keep = best_similarity >= threshold  # False for -inf (no labeled prototype)
    rows = keep.nonzero().squeeze(1)
    sets[rows, prototype_labels.long()[best[rows]]] = True
    return sets


@torch.no_grad()
def segment_majority_labels(segment_ids: Tensor, labels: Tensor, num_segments: int,
                            num_values: int = 256) -> Tensor:
    """Majority value of ``labels`` inside every segment (§6.2 ``find_majority_label_index``).

    Every value competes, including the ignore (255) and unlabeled indices, as in the
    reference; the caller discards prototypes whose majority is not a class. Ties go to
    the smallest value; a segment without pixels gets ``num_values - 1``.

    Args:
        segment_ids (Tensor): ``[P]`` integer in ``[0, num_segments)``.
        labels (Tensor): ``[P]`` integer in ``[0, num_values)``.
        num_segments (int): ``K``.
        num_values (int): number of distinct label values (256 for 8-bit maps).

    Returns:
        Tensor: ``[K]`` long.
    """
    _check_tensor(segment_ids, 'segment_ids', dim=1, floating=False)
    _check_tensor(labels, 'labels', shape=(segment_ids.shape[0],), floating=False)
    if segment_ids.numel():
        if int(segment_ids.min()) < 0 or int(segment_ids.max()) >= num_segments:
            raise ValueError(f'segment_ids must lie in [0, num_segments={num_segments})')
        if int(labels.min()) < 0 or int(labels.max()) >= num_values:
            raise ValueError(f'labels must lie in [0, num_values={num_values})')
    counts = torch.zeros(num_segments * num_values, dtype=torch.long,
                         device=segment_ids.device)
    counts.index_add_(0, segment_ids.long() * num_values + labels.long(),
                      torch.ones_like(segment_ids, dtype=torch.long))
    counts = counts.view(num_segments, num_values)
    majority = counts.argmax(dim=1)
    return majority.masked_fill(counts.sum(dim=1) == 0, num_values - 1)


@torch.no_grad()
@full_precision
def knn_segment_scores(embedding: Tensor, memory: Tensor, memory_labels: Tensor,
                       num_classes: int, k: int = 20, grid=(12, 12),
                       iterations: int = 10) -> Tensor:
    """Per-pixel k-NN class scores of one image (§6.3 steps 1-4).

    The image is segmented by spherical k-means on ``l2n(cat(l2n(e), location))`` from a
    ``grid`` initialisation (every pixel valid, one label, no over-segmentation: the
    "fake labels" of §6.2), each segment's prototype ``l2n(sum e)`` votes with its ``k``
    most similar memory prototypes (:func:`knn_vote`), and every pixel gets its segment's
    vote fractions. Works with a single segment (the reference divides by zero, §8 item
    18) and with fewer than ``k`` memory entries.

    Args:
        embedding (Tensor): ``[D, h, w]`` floating (raw or unit).
        memory (Tensor): ``[M, D]`` unit prototypes, ``M >= 1``.
        memory_labels (Tensor): ``[M]`` integer in ``[0, C)``.
        num_classes (int): ``C``.
        k (int): neighbours (20).
        grid (tuple[int, int]): k-means grid (12x12 VOC, 24x24 DensePose).
        iterations (int): k-means iterations (10).

    Returns:
        Tensor: ``[C, h, w]`` vote fractions (sum 1 per pixel), ``embedding``'s dtype.
    """
    _check_tensor(embedding, 'embedding', dim=3, floating=True)
    d, h, w = embedding.shape
    semantic = torch.zeros(1, h, w, dtype=torch.long, device=embedding.device)
    seg = generate_segments(embedding[None], semantic, None, grid, iterations,
                            use_location=True)
    _, _, scores = knn_vote(seg.prototypes, memory.to(embedding.dtype), memory_labels, k=k,
                            num_classes=num_classes)
    out = scores[seg.segment_ids]  # [P, C], pixels in row-major order (all valid)
    return out.t().reshape(num_classes, h, w)
