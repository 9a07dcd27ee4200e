"""Pseudo-label propagation (spml-method.md §6.5): class-score restriction and the
random walk on the embedding affinity.

Shape shorthand: C classes, h x w the random-walk resolution (``H//8 x W//8`` of the
original image), n = h*w nodes, D embedding dims. Pure torch.
"""
import torch
from torch import Tensor

from ._utils import _check_tensor, check_scalar


def random_walk_transition(embedding: Tensor, beta: float = 5.0, exponent: float = 20.0,
                           steps: int = 6) -> Tensor:
    """The random-walk operator ``T^(2^steps)`` of §6.5.

    ``a_ij = exp(beta * (x_i . x_j - 1))``, ``A = a^exponent``, column-normalised
    ``T = A / colsum(A)``, then ``T <- T @ T`` repeated ``steps`` times (6 -> ``T^64``,
    0 -> ``T^1``). ``A`` is evaluated as ``exp(beta * exponent * (x_i . x_j - 1))`` (one
    ``exp`` instead of a power of a number in ``(0, 1]``); every column of ``A`` holds its
    diagonal entry ``exp(beta*exponent*(|x_i|^2 - 1))`` (1 for unit rows), so no column
    sum is 0.

    Args:
        embedding (Tensor): ``[n, D]`` floating; normally unit rows (the reference uses
            the L2-normalised embedding, averaged over the passes, not renormalised).
        beta (float): 5 in the reference.
        exponent (float): 20 in the reference.
        steps (int): number of squarings (``WALK_STEPS``, >= 0).

    Returns:
        Tensor: ``[n, n]`` column-stochastic, ``embedding``'s dtype.
    """
    _check_tensor(embedding, 'embedding', dim=2, floating=True)
    check_scalar(steps, 'steps', integer=True, low=0)
    for name, value in (('beta', beta), ('exponent', exponent)):
        if not value > 0:
            raise ValueError(f'{name} must be positive, got {value!r}')
    affinity = torch.exp((embedding @ embedding.t() - 1) * (float(beta) * float(exponent)))
    transition = affinity / affinity.sum(dim=0, keepdim=True)
    for _ in range(steps):
        transition = transition @ transition
    return transition


def random_walk(scores: Tensor, embedding: Tensor, beta: float = 5.0,
                exponent: float = 20.0, steps: int = 6) -> Tensor:
    """Propagate class scores along the embedding affinity: ``cam_rw = cam @ T`` (§6.5).

    Args:
        scores (Tensor): ``[C, h, w]`` floating class scores.
        embedding (Tensor): ``[D, h, w]`` floating (normally unit along ``D``).
        beta, exponent, steps: see :func:`random_walk_transition`.

    Returns:
        Tensor: ``[C, h, w]`` propagated scores in ``scores``' dtype.
    """
    _check_tensor(scores, 'scores', dim=3, floating=True)
    _check_tensor(embedding, 'embedding', dim=3, floating=True)
    c, h, w = scores.shape
    if tuple(embedding.shape[1:]) != (h, w):
        raise ValueError(f'embedding {tuple(embedding.shape)} and scores '
                         f'{tuple(scores.shape)} must share the spatial size')
    x = embedding.reshape(embedding.shape[0], h * w).t().to(scores.dtype)
    transition = random_walk_transition(x, beta, exponent, steps)
    return (scores.reshape(c, h * w) @ transition).reshape(c, h, w)


def restrict_class_scores(scores: Tensor, present: Tensor, max_floor: float = 0.0,
                          eps: float = 1e-12) -> Tensor:
    """Per-class max normalisation restricted to the classes of the weak label (§6.5).

    Every class present in the image's weak label is divided by its image-wide maximum,
    floored at ``max(max_floor, eps)`` (``max_floor = 0`` for the softmax/CAM generators,
    0.15 for the k-NN generator of §6.3 step 5); absent classes are set to 0. (The
    reference's k-NN generator leaves absent classes unchanged, §8 item 20; restricting
    them the same way in every generator is a deliberate choice of mmspml.)

    Args:
        scores (Tensor): ``[C, h, w]`` floating, non-negative.
        present (Tensor): ``[C]`` bool, the classes of the weak label.
        max_floor (float): lower bound of each class's maximum.
        eps (float): guards an all-zero class.

    Returns:
        Tensor: ``[C, h, w]`` in ``scores``' dtype.
    """
    _check_tensor(scores, 'scores', dim=3, floating=True)
    _check_tensor(present, 'present', shape=(scores.shape[0],))
    if present.dtype != torch.bool:
        raise ValueError(f'present must be a bool tensor, got {present.dtype}')
    peak = scores.flatten(1).amax(dim=1).clamp_min(max(float(max_floor), eps))
    out = scores / peak[:, None, None]
    return out * present[:, None, None].to(scores.dtype)
