"""Cross-process pieces SPML needs beyond ``mmengine.dist`` (no-ops without a process group).

SPML's prototypes are batch-global (spml-method.md §4.9): each process computes its own
segments, gathers everyone's prototypes *with autograd* and computes its local pixels'
losses against them. Loss normalisation uses global counts so that DDP's gradient
averaging reproduces the single-process mean over the whole batch exactly.

Rank, world size, gathering and reduction are mmengine's (``mmengine.dist``; ``get_rank``
is re-exported for the head); what is new here is the gather of tensors whose first
dimension differs per rank, with gradients flowing back to every rank, and the sum over
ranks (of the item counts the losses divide by).
"""
from typing import List

import torch
from mmengine.dist import all_gather, all_reduce, get_rank, get_world_size

__all__ = ['get_rank', 'all_gather_sizes', 'all_gather_cat', 'all_reduce_sum']


def all_gather_sizes(n: int, device=None) -> List[int]:
    """The first-dimension sizes of every rank, in rank order."""
    if get_world_size() == 1:
        return [int(n)]
    return [int(x.item()) for x in all_gather(torch.tensor([int(n)], device=device))]


def all_gather_cat(tensor: torch.Tensor, sizes: List[int] = None,
                   differentiable: bool = True) -> torch.Tensor:
    """Concatenate ``tensor`` ([n_r, ...], n_r may differ per rank) over ranks.

    With ``differentiable=True`` gradients flow back to every rank's input
    (``torch.distributed.nn.functional.all_gather``); the local slice of the result is
    the input itself so local autograd paths are kept exactly.
    """
    if get_world_size() == 1:
        return tensor
    if sizes is None:
        sizes = all_gather_sizes(tensor.shape[0], tensor.device)
    n_max = max(sizes)
    pad = tensor.new_zeros((n_max - tensor.shape[0],) + tuple(tensor.shape[1:]))
    padded = torch.cat([tensor, pad], 0).contiguous()
    if differentiable and tensor.requires_grad:
        from torch.distributed.nn.functional import all_gather as all_gather_with_grad
        parts = list(all_gather_with_grad(padded))
    else:
        parts = all_gather(padded)
    rank = get_rank()
    parts = [tensor if r == rank else p[:s] for r, (p, s) in enumerate(zip(parts, sizes))]
    return torch.cat(parts, 0)


def all_reduce_sum(value: torch.Tensor) -> torch.Tensor:
    """Sum of a (detached copy of a) tensor over ranks; the tensor itself when alone."""
    value = value.detach().clone()
    all_reduce(value, op='sum')
    return value
