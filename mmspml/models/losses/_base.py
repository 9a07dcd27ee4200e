"""Shared base of the four SPML pixel-to-segment losses (spml-method.md §4).

Every term is the one kernel :func:`mmspml.functional.pixel_segment_contrastive_loss`
(SegSort+ over a positive set, §4.1); the subclasses only choose the pixels, the
prototypes and what "positive" means.
"""
from typing import Optional

import torch
from mmengine.dist import get_world_size
from torch import Tensor, nn

from mmspml.functional import MemoryBatch, SegmentBatch, pixel_segment_contrastive_loss
from mmspml.functional._utils import check_scalar, full_precision
from mmspml.utils.dist import all_reduce_sum


class _PixelSegmentLoss(nn.Module):
    """Base class: ``forward(batch, memory) = loss_weight * global mean of the items``.

    Subclasses implement :meth:`_loss_sum`, returning the sum of the per-item losses of
    this process (items = pixels, or images for the image-similarity term) and their
    number; the mean over the items of all processes is ``sum * world_size / n_global``
    (DDP averages gradients over ranks, so this is the gradient of the global mean), and
    0, not NaN, when no process has an item (§8 item 17). The kernel is asked for sums,
    not per-pixel losses: it then computes the gradient while the logits are in memory
    (:func:`mmspml.functional.pixel_segment_contrastive_loss`).

    Args:
        concentration (float): ``kappa > 0`` of the kernel.
        loss_weight (float): non-negative weight of the returned loss.
        loss_name (str): key of the loss in the log dict; must start with ``'loss_'``
            so that mmengine adds it to the total loss.
        chunk_size (int, optional): pixels per chunk of the kernel (bounds memory to
            ``[chunk_size, K]`` intermediates, §8 item 6); ``None`` = all at once.
    """

    def __init__(self, concentration: float, loss_weight: float = 1.0,
                 loss_name: str = 'loss_spml', chunk_size: Optional[int] = None):
        super().__init__()
        self.concentration = check_scalar(concentration, 'concentration', low=0, low_open=True)
        self.loss_weight = check_scalar(loss_weight, 'loss_weight', low=0)
        if not isinstance(loss_name, str) or not loss_name.startswith('loss_'):
            raise ValueError(f"loss_name must be a str starting with 'loss_', got {loss_name!r}")
        self._loss_name = loss_name
        self.chunk_size = check_scalar(chunk_size, 'chunk_size', integer=True, low=1,
                                       optional=True)

    @property
    def loss_name(self) -> str:
        """The log key of this loss (mmseg convention)."""
        return self._loss_name

    @full_precision
    def forward(self, batch: SegmentBatch, memory: Optional[MemoryBatch] = None) -> Tensor:
        """Weighted loss of the batch, in float32 outside autocast (float16/bfloat16
        fields of ``batch`` and ``memory`` are cast; ``mmspml.functional._utils
        .full_precision``).

        Args:
            batch (SegmentBatch): this process's pixels and all processes' segments.
            memory (MemoryBatch, optional): detached prototypes of previous iterations.

        Returns:
            Tensor: scalar, ``loss_weight * mean`` over the items of all processes.
        """
        if not isinstance(batch, SegmentBatch):
            raise TypeError(f'batch must be a SegmentBatch, got {type(batch).__name__}')
        if memory is not None and not isinstance(memory, MemoryBatch):
            raise TypeError(f'memory must be None or a MemoryBatch, got {type(memory).__name__}')
        total, count = self._loss_sum(batch, memory)
        n_global = all_reduce_sum(total.new_tensor(float(count)))
        if float(n_global) == 0:
            return total * 0.0
        return self.loss_weight * total * (get_world_size() / n_global)

    def _loss_sum(self, batch: SegmentBatch, memory: Optional[MemoryBatch]):
        """``(sum of this process's item losses (scalar), number of items)``."""
        raise NotImplementedError

    def _contrast(self, embeddings: Tensor, labels: Tensor, own_segment: Tensor,
                  prototypes: Tensor, prototype_labels: Tensor,
                  reduction: str = 'sum') -> Tensor:
        """The kernel's sum (or mean) over the pixels (see the functional for the shapes)."""
        return pixel_segment_contrastive_loss(
            embeddings, labels, own_segment, prototypes, prototype_labels,
            self.concentration, reduction=reduction, chunk_size=self.chunk_size)

    @staticmethod
    def _with_memory(prototypes: Tensor, labels: Tensor, memory_prototypes: Tensor,
                     memory_labels: Tensor):
        """Append memory prototypes (detached, cast to the current dtype) after the current."""
        return (torch.cat([prototypes, memory_prototypes.detach().to(prototypes.dtype)]),
                torch.cat([labels, memory_labels.to(labels.dtype)]))

    def extra_repr(self) -> str:
        return (f'concentration={self.concentration}, loss_weight={self.loss_weight}, '
                f"loss_name='{self.loss_name}', chunk_size={self.chunk_size}")
