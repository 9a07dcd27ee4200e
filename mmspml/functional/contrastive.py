"""The pixel-to-segment contrastive kernel shared by all SPML losses (§4.1) and its
retrieval-accuracy diagnostic (§4.7).

Shape shorthand: N pixels, K prototypes (segments), D dims, C classes. Pure torch.

With ``z_ik = kappa * x_i . mu_k``, positives ``P_i`` (same label, or label sets that
share a class), own segment ``o(i)`` and ``Q_i = P_i minus {o(i)}``:

* if ``Q_i`` is non-empty: ``num = LSE_{k in Q_i} z_ik`` and the negatives are
  ``k not in P_i`` (the own segment is in neither);
* else: ``num = z_{i,o(i)}`` and the negatives are ``k not in P_i``; with an empty label
  set the own segment is not a positive, so it appears in the numerator *and* among the
  negatives (the reference's ``SetSegSortLoss``, §4.1/§9.2);

``loss_i = log(exp(num) + sum_neg exp(z)) - num = softplus(LSE_neg - num)``, exactly 0
when there is no negative. This is the reference's ``group_mode='segsort+'`` in exact
arithmetic, evaluated in log space: the reference forms ``sum_P exp(z) - exp(z_own)``,
which cancels catastrophically in float32 at kappa = 16 (§8 item 5); here it cannot
(choice (b) of §8 item 5, "intended", matching the float64 reference).
"""
import numbers
from typing import Optional, Tuple

import torch
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from ._utils import _check_tensor

_REDUCTIONS = ('none', 'mean', 'sum')


def pixel_segment_contrastive_loss(embeddings: Tensor, labels: Tensor, own_segment: Tensor,
                                   prototypes: Tensor, prototype_labels: Tensor,
                                   concentration: float, reduction: str = 'mean',
                                   chunk_size: Optional[int] = None) -> Tensor:
    """SegSort+ pixel-to-prototype loss with single labels or label sets (§4.1, §9.1, §9.2).

    Inputs are used as given (the loss does not normalise them). Half-precision inputs
    are computed in float32.

    Args:
        embeddings (Tensor): ``[N, D]`` floating pixel embeddings (normally unit).
        labels (Tensor): ``[N]`` integer ids (positives = same id), or ``[N, C]`` multi-hot
            label sets, bool or numeric (positives = share at least one class; nonzero
            entries are members).
        own_segment (Tensor): ``[N]`` long index in ``[0, K)`` of each pixel's segment.
        prototypes (Tensor): ``[K, D]``, same dtype as ``embeddings``.
        prototype_labels (Tensor): ``[K]`` integer or ``[K, C]`` multi-hot, the same
            flavour as ``labels``.
        concentration (float): ``kappa > 0``.
        reduction (str): ``'none'`` (``[N]``), ``'mean'`` (0 for ``N = 0``) or ``'sum'``.
        chunk_size (int, optional): process pixels ``chunk_size`` at a time, so only
            ``[chunk_size, K]`` intermediates exist at once (gradient checkpointing per
            chunk when autograd is recording). Results are identical.

    Returns:
        Tensor: scalar, or ``[N]`` for ``reduction='none'``, in the computation dtype.
    """
    n, k, set_labels = _validate(embeddings, labels, own_segment, prototypes, prototype_labels)
    if isinstance(concentration, bool) or not isinstance(concentration, numbers.Real) \
            or not concentration > 0 or concentration == float('inf'):
        raise ValueError(f'concentration must be a positive finite number, got {concentration!r}')
    if reduction not in _REDUCTIONS:
        raise ValueError(f'reduction must be one of {_REDUCTIONS}, got {reduction!r}')
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int)
                                   or chunk_size < 1):
        raise ValueError(f'chunk_size must be None or a positive int, got {chunk_size!r}')

    dtype = torch.promote_types(embeddings.dtype, torch.float32)
    embeddings, prototypes = embeddings.to(dtype), prototypes.to(dtype)
    if set_labels:
        # multi-hot -> {0, 1} in the compute dtype; overlaps are small exact integers
        labels = (labels != 0).to(dtype)
        prototype_labels = (prototype_labels != 0).to(dtype)
    own_segment = own_segment.long()
    kappa = float(concentration)

    if chunk_size is None or n <= chunk_size:
        losses = _segsort_plus(embeddings, labels, own_segment, prototypes, prototype_labels,
                               kappa)
    else:
        recording = torch.is_grad_enabled() and (embeddings.requires_grad
                                                 or prototypes.requires_grad)
        parts = []
        for start in range(0, n, chunk_size):
            args = (embeddings[start:start + chunk_size], labels[start:start + chunk_size],
                    own_segment[start:start + chunk_size], prototypes, prototype_labels, kappa)
            if recording:
                parts.append(checkpoint(_segsort_plus, *args, use_reentrant=False))
            else:
                parts.append(_segsort_plus(*args))
        losses = torch.cat(parts)

    if reduction == 'none':
        return losses
    if reduction == 'sum':
        return losses.sum()
    return losses.sum() / max(n, 1)


def _segsort_plus(embeddings: Tensor, labels: Tensor, own_segment: Tensor, prototypes: Tensor,
                  prototype_labels: Tensor, kappa: float) -> Tensor:
    """Per-pixel losses ``[n]`` of one chunk (see the module docstring)."""
    logits = kappa * (embeddings @ prototypes.t())  # [n, K]
    if logits.shape[1] == 0:  # no prototype (then also no pixel): keep the graph
        return logits.sum(dim=1)
    if labels.dim() == 1:
        positive = labels[:, None] == prototype_labels[None, :]
    else:
        positive = (labels @ prototype_labels.t()) > 0
    own = own_segment[:, None] == torch.arange(prototypes.shape[0], device=logits.device)
    other_positive = positive & ~own
    has_other = other_positive.any(dim=1)
    lse_other, _ = _masked_logsumexp(logits, other_positive)
    own_logit = logits.gather(1, own_segment[:, None]).squeeze(1)
    numerator = torch.where(has_other, lse_other, own_logit)
    negative = ~positive & ~(own & has_other[:, None])
    lse_negative, has_negative = _masked_logsumexp(logits, negative)
    # log(e^num + e^neg) - num, without subtracting two large numbers
    loss = torch.logaddexp(torch.zeros_like(numerator), lse_negative - numerator)
    return torch.where(has_negative, loss, torch.zeros_like(loss))


def _masked_logsumexp(x: Tensor, mask: Tensor) -> Tuple[Tensor, Tensor]:
    """Row-wise ``log sum_{mask} exp(x)`` of ``x [n, K]`` and whether the row is non-empty.

    Empty rows give 0 (not -inf) with zero gradient, so the caller can ``torch.where``
    them away without NaN gradients.
    """
    masked = x.masked_fill(~mask, float('-inf'))
    nonempty = mask.any(dim=1)
    shift = masked.detach().amax(dim=1).masked_fill(~nonempty, 0)
    total = (masked - shift[:, None]).exp().sum(dim=1)
    total = torch.where(nonempty, total, torch.ones_like(total))
    return total.log() + shift, nonempty


def _validate(embeddings, labels, own_segment, prototypes, prototype_labels):
    """Shape/dtype checks of the kernel; returns ``(N, K, set_labels)``."""
    _check_tensor(embeddings, 'embeddings', dim=2, floating=True)
    n, d = embeddings.shape
    _check_tensor(prototypes, 'prototypes', dim=2, floating=True, shape=(None, d))
    k = prototypes.shape[0]
    if prototypes.dtype != embeddings.dtype:
        raise ValueError(f'prototypes dtype {prototypes.dtype} differs from embeddings dtype '
                         f'{embeddings.dtype}')
    _check_tensor(own_segment, 'own_segment', shape=(n,), floating=False)
    if n and (int(own_segment.min()) < 0 or int(own_segment.max()) >= k):
        raise ValueError(f'own_segment values must lie in [0, K={k}), got range '
                         f'[{int(own_segment.min())}, {int(own_segment.max())}]')
    if not isinstance(labels, Tensor) or labels.dim() not in (1, 2):
        raise ValueError('labels must be a [N] integer tensor or a [N, C] multi-hot tensor, got '
                         f'{tuple(labels.shape) if isinstance(labels, Tensor) else type(labels)}')
    if labels.dim() == 1:
        _check_tensor(labels, 'labels', shape=(n,), floating=False)
        _check_tensor(prototype_labels, 'prototype_labels', shape=(k,), floating=False)
        return n, k, False
    _check_tensor(labels, 'labels', shape=(n, None))
    _check_tensor(prototype_labels, 'prototype_labels', shape=(k, labels.shape[1]))
    return n, k, True


@torch.no_grad()
def retrieval_accuracy(embeddings: Tensor, labels: Tensor, prototypes: Tensor,
                       prototype_labels: Tensor, k: int = 5) -> Tensor:
    """Fraction of each query's ``k`` most similar prototypes that share its label, averaged.

    The reference logs this as ``accuracy`` (§4.7) with the prototypes themselves as the
    queries (so each finds itself). ``k' = min(k, K)``; 0 with no query or no prototype.

    Args:
        embeddings (Tensor): ``[N, D]`` floating queries.
        labels (Tensor): ``[N]`` integer.
        prototypes (Tensor): ``[K, D]`` floating.
        prototype_labels (Tensor): ``[K]`` integer.
        k (int): number of retrieved prototypes.

    Returns:
        Tensor: scalar in ``[0, 1]`` (``embeddings``' dtype), no gradient.
    """
    _check_tensor(embeddings, 'embeddings', dim=2, floating=True)
    _check_tensor(labels, 'labels', shape=(embeddings.shape[0],), floating=False)
    _check_tensor(prototypes, 'prototypes', dim=2, floating=True, shape=(None, embeddings.shape[1]))
    _check_tensor(prototype_labels, 'prototype_labels', shape=(prototypes.shape[0],),
                  floating=False)
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f'k must be a positive int, got {k!r}')
    kk = min(k, prototypes.shape[0])
    if kk == 0 or embeddings.shape[0] == 0:
        return embeddings.new_zeros(())
    similarity = embeddings @ prototypes.to(embeddings.dtype).t()
    top = similarity.topk(kk, dim=1).indices
    hits = prototype_labels[top] == labels[:, None]
    return hits.to(embeddings.dtype).mean()
