"""Explicit cross-process helpers; every function is a no-op without a process group.

SPML's prototypes are batch-global (spml-method.md §4.9): each process computes its own
segments, gathers everyone's prototypes *with autograd* and computes its local pixels'
losses against them. Loss normalisation uses global counts so that DDP's gradient
averaging reproduces the single-process mean over the whole batch exactly.
"""
from typing import List

import torch
import torch.distributed as dist


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def get_world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


def get_rank() -> int:
    return dist.get_rank() if is_distributed() else 0


def all_gather_sizes(n: int, device=None) -> List[int]:
    """The first-dimension sizes of every rank, in rank order."""
    if not is_distributed():
        return [int(n)]
    t = torch.tensor([int(n)], dtype=torch.long, device=device)
    out = [torch.zeros_like(t) for _ in range(get_world_size())]
    dist.all_gather(out, t)
    return [int(x.item()) for x in out]


def all_gather_cat(tensor: torch.Tensor, sizes: List[int] = None,
                   differentiable: bool = True) -> torch.Tensor:
    """Concatenate ``tensor`` ([n_r, ...], n_r may differ per rank) over ranks.

    With ``differentiable=True`` gradients flow back to every rank's input
    (``torch.distributed.nn.functional.all_gather``); the local slice of the result is
    the input itself so local autograd paths are kept exactly.
    """
    if not is_distributed():
        return tensor
    if sizes is None:
        sizes = all_gather_sizes(tensor.shape[0], tensor.device)
    n_max = max(sizes)
    pad = tensor.new_zeros((n_max - tensor.shape[0],) + tuple(tensor.shape[1:]))
    padded = torch.cat([tensor, pad], 0)
    if differentiable and tensor.requires_grad:
        from torch.distributed.nn.functional import all_gather
        parts = list(all_gather(padded))
    else:
        parts = [torch.empty_like(padded) for _ in sizes]
        dist.all_gather(parts, padded.contiguous())
    rank = get_rank()
    parts = [tensor if r == rank else p[:s] for r, (p, s) in enumerate(zip(parts, sizes))]
    return torch.cat(parts, 0)


def all_reduce_sum(value: torch.Tensor) -> torch.Tensor:
    """Sum of a (detached) tensor over ranks."""
    value = value.detach().clone()
    if is_distributed():
        dist.all_reduce(value, op=dist.ReduceOp.SUM)
    return value


def reduce_mean(values: torch.Tensor) -> torch.Tensor:
    """Mean of ``values`` ([n], this rank's items) over the items of *all* ranks.

    Returns ``sum_local / n_global * world_size``: DDP averages gradients over ranks, so
    the effective gradient is exactly that of the global mean. With no item anywhere the
    result is a zero that keeps the graph (never NaN, spml-method.md §8 item 17).
    """
    n_global = all_reduce_sum(values.new_tensor(float(values.numel())))
    total = values.sum()
    if float(n_global) == 0:
        return total * 0.0
    return total * (get_world_size() / n_global)
