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

How it is computed (the fast path, :class:`_GroupedSegSort`): prototypes with the same
label (or the same label set) form a *group*; whether a prototype is a positive of a
pixel depends only on its group, so the positive mask is a small ``[N, U]`` pixel-by-group
table (U groups: classes, or the few distinct tag sets of the images) instead of an
``[N, K]`` mask. Per chunk of pixels the logits are computed once, shifted by an upper
bound of their row (``kappa |x_i| max|mu|``, folded into the matrix product) and
exponentiated once (``E = exp(z - shift)``, all terms <= 1, no overflow); the
own segment's entry is set to 0 and a column ``index_add_`` by group (``E @ onehot(group)``
without forming the ``[K, U]`` one-hot: ``O(chunk K)`` work whatever U is, which matters
for the image-similarity term, whose groups are the image's regions) gives every group's
sum of the *other* prototypes, from which the positive and negative sums are sums of
non-negative terms (never a difference, so no cancellation). The backward pass is
written by hand and recomputes each chunk's logits, so memory stays at two
``[chunk, K]`` buffers whatever N is. When the logits could span more than the
exponent range of the dtype (``2 kappa max|x| max|mu|`` above ~80 in float32) the
masked log-sum-exp evaluation (:func:`_segsort_plus`) is used instead.
"""
from typing import Optional, Tuple

import torch
from torch import Tensor
from torch.autograd.function import Function, once_differentiable
from torch.utils.checkpoint import checkpoint

from ._utils import _check_tensor, check_scalar, full_precision

_REDUCTIONS = ('none', 'mean', 'sum')


@full_precision
def pixel_segment_contrastive_loss(embeddings: Tensor, labels: Tensor, own_segment: Tensor,
                                   prototypes: Tensor, prototype_labels: Tensor,
                                   concentration: float, reduction: str = 'mean',
                                   chunk_size: Optional[int] = None) -> Tensor:
    """SegSort+ pixel-to-prototype loss with single labels or label sets (§4.1, §9.1, §9.2).

    Inputs are used as given (the loss does not normalise them). Float16/bfloat16
    inputs are computed in float32, and autocast is off inside (mixed precision would
    otherwise run the logits' matrix products in 16 bits).

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
        chunk_size (int, optional): pixels processed at a time; only ``[chunk_size, K]``
            intermediates exist at once. ``None`` (default) picks
            ``max(64, 2**21 // K)`` pixels (an 8 MiB float32 block of logits), so the
            memory of the kernel does not grow with N. Results are identical (up to
            rounding) for every value.

    Returns:
        Tensor: scalar, or ``[N]`` for ``reduction='none'``, in the computation dtype.
    """
    n, k, set_labels = _validate(embeddings, labels, own_segment, prototypes, prototype_labels)
    check_scalar(concentration, 'concentration', low=0, low_open=True)
    if reduction not in _REDUCTIONS:
        raise ValueError(f'reduction must be one of {_REDUCTIONS}, got {reduction!r}')
    check_scalar(chunk_size, 'chunk_size', integer=True, low=1, optional=True)
    if chunk_size is None:
        chunk_size = max(64, _AUTO_CHUNK_LOGITS // max(k, 1))

    dtype = torch.promote_types(embeddings.dtype, torch.float32)
    embeddings, prototypes = embeddings.to(dtype), prototypes.to(dtype)
    own_segment = own_segment.long()
    kappa = float(concentration)

    if n == 0 or k == 0:  # nothing to contrast: an empty result that keeps the graph
        losses = embeddings.sum(dim=1) * 0 + prototypes.sum() * 0
    elif _exponent_range_ok(embeddings, prototypes, kappa):
        group, positive = _positive_groups(labels, prototype_labels, set_labels, dtype)
        if reduction != 'none':
            with_grad = torch.is_grad_enabled() and (embeddings.requires_grad
                                                     or prototypes.requires_grad)
            total = _GroupedSegSortSum.apply(embeddings, prototypes, own_segment, group,
                                             positive, kappa, chunk_size, with_grad)
            return total if reduction == 'sum' else total / n
        losses = _GroupedSegSort.apply(embeddings, prototypes, own_segment, group, positive,
                                       kappa, chunk_size)
    else:
        losses = _masked_segsort_plus(embeddings, labels, own_segment, prototypes,
                                      prototype_labels, kappa, set_labels, chunk_size)

    if reduction == 'none':
        return losses
    if reduction == 'sum':
        return losses.sum()
    return losses.sum() / max(n, 1)


# logits per chunk when chunk_size is None (8 MiB in float32: stays in the CPU caches)
_AUTO_CHUNK_LOGITS = 2**21
# largest logit spread whose exp(z - max) stays a normal number (float32: e^-87 = 1.6e-38)
_MAX_SPREAD = {torch.float32: 80.0, torch.float64: 700.0}


def _exponent_range_ok(embeddings: Tensor, prototypes: Tensor, kappa: float) -> bool:
    """Whether every ``exp(z - rowmax(z))`` is a normal float (no underflow to 0)."""
    with torch.no_grad():
        spread = 2 * kappa * float(embeddings.norm(dim=1).max()) * \
            float(prototypes.norm(dim=1).max())
    return spread <= _MAX_SPREAD.get(embeddings.dtype, 80.0)


def _positive_groups(labels: Tensor, prototype_labels: Tensor, set_labels: bool,
                     dtype: torch.dtype) -> Tuple[Tensor, Tensor]:
    """Group prototypes by label (set) and tabulate which groups are each pixel's positives.

    Returns:
        tuple: ``group [K]`` long in ``[0, U)`` and ``positive [N, U]`` in ``dtype``
        (1 = every prototype of the group is a positive of the pixel).
    """
    if not set_labels:
        values, group = torch.unique(prototype_labels, return_inverse=True)
        index = torch.searchsorted(values, labels.to(values.dtype)).clamp_max(len(values) - 1)
        hit = values[index] == labels
        positive = labels.new_zeros(labels.shape[0], len(values), dtype=dtype)
        positive[hit, index[hit]] = 1
        return group, positive
    members = prototype_labels != 0  # [K, C]
    if members.shape[1] <= 62:  # pack each set into one int64: a 1-D unique
        bits = torch.ones(members.shape[1], dtype=torch.long,
                          device=members.device) << torch.arange(members.shape[1],
                                                                 device=members.device)
        _, first, group = _unique_first((members.long() * bits).sum(1))
        sets = members[first]
    else:
        sets, group = torch.unique(members.to(torch.uint8), dim=0, return_inverse=True)
    positive = ((labels != 0).to(dtype) @ (sets != 0).to(dtype).t()) > 0
    return group, positive.to(dtype)


def _unique_first(keys: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    """``unique(keys)``, the index of one occurrence of each value, and the inverse."""
    values, inverse = torch.unique(keys, return_inverse=True)
    first = inverse.new_empty(len(values)).scatter_(
        0, inverse, torch.arange(len(keys), device=keys.device))
    return values, first, inverse


class _Groups:
    """Per-call constants of the grouped evaluation (everything but the ``[c, K]`` blocks).

    ``group [K]`` the group of each prototype and ``sizes [U]`` the groups' sizes; per pixel:
    ``positive``/``negative`` ``[N, U]`` group tables, ``has_other`` (a positive besides
    the own segment), ``has_negative`` (a negative exists), ``own_negative`` (no other
    positive and the own segment is not a positive: its term is the numerator *and* a
    negative, the empty-set case of §4.1).
    """

    def __init__(self, x, mu, own, group, positive):
        k, u = mu.shape[0], positive.shape[1]
        self.group = group
        sizes = torch.bincount(group, minlength=u).to(x.dtype)
        own_positive = positive.gather(1, group[own][:, None]).squeeze(1) > 0
        count_positive = positive @ sizes
        self.has_other = count_positive - own_positive.to(x.dtype) > 0.5
        self.own_negative = ~own_positive & ~self.has_other
        count_negative = k - count_positive - (~own_positive & self.has_other).to(x.dtype)
        self.has_negative = count_negative > 0.5
        self.positive, self.negative = positive, 1 - positive


def _chunk_losses(block, own_c, own_logit, shift, groups, rows):
    """Losses of one chunk from ``block = exp(z - shift)`` (``[c, K]``, own entry zeroed
    in place). Returns ``(losses, own_exp, sum_q, sum_neg, gap)``, all ``[c]``."""
    own_exp = block.gather(1, own_c).squeeze(1)
    block.scatter_(1, own_c, 0)
    # [c, U] sums of the other prototypes per group (= block @ onehot(group))
    g = block.new_zeros(block.shape[0], groups.positive.shape[1]).index_add_(
        1, groups.group, block)
    sum_q = (g * groups.positive[rows]).sum(1)
    sum_neg = (g * groups.negative[rows]).sum(1)
    zero = block.new_zeros(())
    sum_neg = sum_neg + torch.where(groups.own_negative[rows], own_exp, zero)
    tiny = torch.finfo(block.dtype).tiny
    has_other, has_negative = groups.has_other[rows], groups.has_negative[rows]
    numerator = torch.where(has_other, sum_q.clamp_min(tiny).log() + shift, own_logit)
    lse_neg = sum_neg.clamp_min(tiny).log() + shift
    gap = torch.where(has_negative, lse_neg - numerator, zero)
    losses = torch.where(has_negative, torch.nn.functional.softplus(gap), zero)
    return losses, own_exp, sum_q, sum_neg, gap


def _chunk_logit_grad_(block, scale, own_c, own_exp, sum_q, sum_neg, w, groups, rows):
    """Turn ``block`` (``E`` with the own entry zeroed) into ``d loss / d z`` in place.

    ``w [c]`` = upstream gradient times ``d softplus``; ``scale`` = a ``[c, K]`` buffer.
    """
    tiny = torch.finfo(block.dtype).tiny
    zero = block.new_zeros(())
    inv_neg = w / sum_neg.clamp_min(tiny)
    has_other = groups.has_other[rows]
    inv_q = torch.where(has_other, w / sum_q.clamp_min(tiny), zero)
    coef = groups.negative[rows] * inv_neg[:, None] - groups.positive[rows] * inv_q[:, None]
    block.mul_(torch.index_select(coef, 1, groups.group, out=scale))  # coef @ onehot.t()
    own_grad = torch.where(groups.own_negative[rows], own_exp * inv_neg, zero) \
        - torch.where(has_other, zero, w)  # numerator = z_own when no other positive
    block.scatter_(1, own_c, own_grad[:, None])
    return block


class _GroupedSegSort(Function):
    """Per-pixel SegSort+ losses ``[N]`` from groups of prototypes (module docstring).

    With ``E_ik = exp(z_ik - m_i)`` (``m`` = the shift; own entry zeroed),
    ``G = E @ onehot(group)``, ``S_Q = sum_u pos_iu G_iu``,
    ``S_neg = sum_u (1 - pos_iu) G_iu (+ E_own if the own segment is a negative)``,
    ``num = log S_Q + m`` (or ``z_own``) and ``loss = softplus(log S_neg + m - num)``;
    ``d loss / d z_ik = a_i (E_ik [k neg] / S_neg - E_ik [k in Q] / S_Q)`` with
    ``a = sigmoid(log S_neg + m - num)``. Forward keeps only per-pixel scalars; backward
    recomputes each chunk's logits (the upstream gradient may differ per pixel).
    """

    @staticmethod
    def forward(ctx, x, mu, own, group, positive, kappa, chunk):
        n, k = x.shape[0], mu.shape[0]
        groups = _Groups(x, mu, own, group, positive)
        xk, shift, xa, mua = _shifted_operands(x, mu, kappa)
        own_logit = (xk * mu[own]).sum(1)
        losses, sum_q, sum_neg, gap = (x.new_empty(n) for _ in range(4))
        buffer = x.new_empty(min(chunk, n), k)
        for s in range(0, n, chunk):
            e = min(s + chunk, n)
            block = torch.mm(xa[s:e], mua.t(), out=buffer[:e - s]).exp_()  # exp(z - shift)
            losses[s:e], _, sum_q[s:e], sum_neg[s:e], gap[s:e] = _chunk_losses(
                block, own[s:e, None], own_logit[s:e], shift[s:e], groups, slice(s, e))
        ctx.save_for_backward(x, mu, own, shift, sum_q, sum_neg, gap)
        ctx.groups, ctx.kappa, ctx.chunk = groups, kappa, chunk
        return losses

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_losses):
        x, mu, own, shift, sum_q, sum_neg, gap = ctx.saved_tensors
        groups, kappa, chunk = ctx.groups, ctx.kappa, ctx.chunk
        n, k = x.shape[0], mu.shape[0]
        w = torch.where(groups.has_negative, grad_losses * torch.sigmoid(gap), x.new_zeros(()))
        xk, _, xa, mua = _shifted_operands(x, mu, kappa, shift)
        grad_xk = torch.empty_like(x) if ctx.needs_input_grad[0] else None
        grad_mu = torch.zeros_like(mu) if ctx.needs_input_grad[1] else None
        buffer, scale = x.new_empty(min(chunk, n), k), x.new_empty(min(chunk, n), k)
        for s in range(0, n, chunk):
            e = min(s + chunk, n)
            block = torch.mm(xa[s:e], mua.t(), out=buffer[:e - s]).exp_()
            o = own[s:e, None]
            own_exp = block.gather(1, o).squeeze(1)
            _chunk_logit_grad_(block, scale[:e - s], o, own_exp, sum_q[s:e], sum_neg[s:e],
                               w[s:e], groups, slice(s, e))
            if grad_xk is not None:
                torch.mm(block, mu, out=grad_xk[s:e])
            if grad_mu is not None:
                grad_mu.addmm_(block.t(), xk[s:e])
        grad_x = grad_xk * kappa if grad_xk is not None else None
        return grad_x, grad_mu, None, None, None, None, None


class _GroupedSegSortSum(Function):
    """``sum_i loss_i`` (a scalar) with the gradient computed during the forward pass.

    The upstream gradient of a sum is the same for every pixel, so ``d sum / d x`` and
    ``d sum / d mu`` can be accumulated chunk by chunk while each block of ``E`` is
    still in memory: one matrix product and one ``exp`` per logit in all, instead of
    recomputing them in the backward pass. Backward only scales the stored gradients.
    ``with_grad=False`` skips that work (no autograd recording).
    """

    @staticmethod
    def forward(ctx, x, mu, own, group, positive, kappa, chunk, with_grad):
        n, k = x.shape[0], mu.shape[0]
        groups = _Groups(x, mu, own, group, positive)
        xk, shift, xa, mua = _shifted_operands(x, mu, kappa)
        own_logit = (xk * mu[own]).sum(1)
        total = x.new_zeros(())
        grad_xk = x.new_empty(x.shape) if with_grad else None
        grad_mu = x.new_zeros(mu.shape) if with_grad else None
        buffer = x.new_empty(min(chunk, n), k)
        scale = x.new_empty(min(chunk, n), k) if with_grad else None
        zero = x.new_zeros(())
        for s in range(0, n, chunk):
            e, rows, o = min(s + chunk, n), slice(s, min(s + chunk, n)), own[s:s + chunk, None]
            block = torch.mm(xa[rows], mua.t(), out=buffer[:e - s]).exp_()
            losses, own_exp, sum_q, sum_neg, gap = _chunk_losses(
                block, o, own_logit[rows], shift[rows], groups, rows)
            total = total + losses.sum()
            if with_grad:
                w = torch.where(groups.has_negative[rows], torch.sigmoid(gap), zero)
                _chunk_logit_grad_(block, scale[:e - s], o, own_exp, sum_q, sum_neg, w,
                                   groups, rows)
                torch.mm(block, mu, out=grad_xk[rows])
                grad_mu.addmm_(block.t(), xk[rows])
        if with_grad:
            ctx.save_for_backward(grad_xk.mul_(kappa), grad_mu)
        return total

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_total):
        grad_x, grad_mu = ctx.saved_tensors
        return (grad_x * grad_total if ctx.needs_input_grad[0] else None,
                grad_mu * grad_total if ctx.needs_input_grad[1] else None,
                None, None, None, None, None, None)


def _shifted_operands(x: Tensor, mu: Tensor, kappa: float, shift: Optional[Tensor] = None):
    """``(kappa x, shift, [kappa x, -shift], [mu, 1])``: one ``mm`` gives ``z - shift``.

    ``shift_i = kappa |x_i| max_k |mu_k| >= max_k z_ik`` (Cauchy-Schwarz), so every
    ``exp(z - shift) <= 1``; folding it into the product saves two passes over the
    ``[chunk, K]`` block (a row maximum and a subtraction).
    """
    xk = x * kappa
    if shift is None:
        shift = xk.norm(dim=1) * mu.norm(dim=1).max()
    xa = torch.cat([xk, -shift[:, None]], dim=1)
    mua = torch.cat([mu, mu.new_ones(mu.shape[0], 1)], dim=1)
    return xk, shift, xa, mua


def _masked_segsort_plus(embeddings, labels, own_segment, prototypes, prototype_labels, kappa,
                         set_labels, chunk_size):
    """Dense masked log-sum-exp evaluation, for logits too spread for the fast path."""
    if set_labels:
        # multi-hot -> {0, 1} in the compute dtype; overlaps are small exact integers
        labels = (labels != 0).to(embeddings.dtype)
        prototype_labels = (prototype_labels != 0).to(embeddings.dtype)
    n = embeddings.shape[0]
    recording = torch.is_grad_enabled() and (embeddings.requires_grad
                                             or prototypes.requires_grad)
    parts = []
    for start in range(0, n, chunk_size):
        args = (embeddings[start:start + chunk_size], labels[start:start + chunk_size],
                own_segment[start:start + chunk_size], prototypes, prototype_labels, kappa)
        if recording and n > chunk_size:
            parts.append(checkpoint(_segsort_plus, *args, use_reentrant=False))
        else:
            parts.append(_segsort_plus(*args))
    return torch.cat(parts)


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
@full_precision
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
    check_scalar(k, 'k', integer=True, low=1)
    kk = min(k, prototypes.shape[0])
    if kk == 0 or embeddings.shape[0] == 0:
        return embeddings.new_zeros(())
    similarity = embeddings @ prototypes.to(embeddings.dtype).t()
    top = similarity.topk(kk, dim=1).indices
    hits = prototype_labels[top] == labels[:, None]
    return hits.to(embeddings.dtype).mean()
