"""Nearest-prototype label transfer: k-NN voting (§6.3, §9.5) and the nearest labeled
segment of the same image (§4.5 step 1).

Shape shorthand: Q queries, M memory prototypes, K prototypes, D dims, C classes.
Pure torch; all functions return integer/bool results and run without gradient.
"""
from typing import Optional, Tuple

import torch
from torch import Tensor

from ._utils import _check_tensor, check_scalar


@torch.no_grad()
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
