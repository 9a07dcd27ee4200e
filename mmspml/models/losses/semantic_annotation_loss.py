"""Semantic-annotation term of SPML (spml-method.md §4.2)."""
from typing import Optional

import torch
from torch import Tensor

from mmseg.registry import MODELS
from mmspml.functional import MemoryBatch, SegmentBatch, retrieval_accuracy
from ._base import _PixelSegmentLoss


@MODELS.register_module()
class SemanticAnnotationLoss(_PixelSegmentLoss):
    """Labeled pixels vs. labeled segments; positives = segments of the same class.

    * pixels: this process's pixels with ``semantic < num_classes``;
    * prototypes: the labeled current segments (compacted, order kept) followed by the
      labeled memory prototypes; the own segment is the pixel's segment;
    * positives: every labeled segment of the pixel's class (any image, or the memory);
      background is a class like the others.

    The reference adds the stage-1 classifier's CE to this term before weighting (§4.6);
    here the CE is a separate loss (e.g. ``PartialCrossEntropyLoss``) whose weight the
    config sets to the same ``loss_weight``.

    Args:
        concentration (float): ``kappa`` (6 in every released setting).
        loss_weight (float): weight (0.3 VOC tags/boxes, 1.0 scribbles, 0.1 points).
        loss_name (str): log key.
        chunk_size (int, optional): see the base class.
    """

    def __init__(self, concentration: float = 6.0, loss_weight: float = 1.0,
                 loss_name: str = 'loss_sem_ann', chunk_size: Optional[int] = None):
        super().__init__(concentration, loss_weight, loss_name, chunk_size)

    def _loss_sum(self, batch: SegmentBatch, memory: Optional[MemoryBatch]):
        num_classes = batch.num_classes
        pixels = batch.semantic < num_classes
        labeled = batch.prototype_semantic < num_classes
        # index of every segment among the labeled ones (pixels only use labeled segments)
        compact = torch.cumsum(labeled.long(), 0) - 1
        prototypes = batch.prototypes[labeled]
        labels = batch.prototype_semantic[labeled]
        if memory is not None:
            keep = memory.semantic < num_classes
            prototypes, labels = self._with_memory(prototypes, labels, memory.prototypes[keep],
                                                   memory.semantic[keep])
        total = self._contrast(batch.embeddings[pixels], batch.semantic[pixels],
                               compact[batch.segment_ids[pixels]], prototypes, labels)
        return total, int(pixels.sum())

    @torch.no_grad()
    def retrieval_accuracy(self, batch: SegmentBatch, memory: Optional[MemoryBatch] = None,
                           k: int = 5) -> Tensor:
        """The reference's logged ``accuracy`` (§4.7): top-``k`` retrieval among prototypes.

        Every prototype (current ones, then memory; labeled or not) queries all of them
        (itself included) and the fraction of its ``k`` nearest sharing its semantic value
        is averaged. A diagnostic: log it under a key without ``loss`` (e.g. ``acc_seg``).

        Returns:
            Tensor: scalar in ``[0, 1]``.
        """
        prototypes, labels = batch.prototypes, batch.prototype_semantic
        if memory is not None:
            prototypes, labels = self._with_memory(prototypes, labels, memory.prototypes,
                                                   memory.semantic)
        return retrieval_accuracy(prototypes, labels, prototypes, labels, k=k)
