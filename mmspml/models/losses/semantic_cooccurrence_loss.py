"""Semantic co-occurrence term of SPML (spml-method.md §4.3)."""
from typing import Optional

import torch
from torch import Tensor

from mmseg.registry import MODELS
from mmspml.functional import MemoryBatch, SegmentBatch
from mmspml.functional._utils import check_scalar
from ._base import _PixelSegmentLoss


@MODELS.register_module()
class SemanticCooccurrenceLoss(_PixelSegmentLoss):
    """All pixels vs. all segments; positives = segments of images sharing a foreground tag.

    * pixels: all of this process's valid pixels (labeled and unlabeled);
    * label sets: the foreground tags (every class but ``background_index``; ``1 .. C-1`` by
      default) of the pixel's image vs. those of the prototype's image;
    * prototypes: all current segments, then all memory prototypes.

    An image without a foreground tag has an empty set: only negatives, and the own term
    is both numerator and negative (§4.1).

    Args:
        concentration (float): ``kappa`` (8 tags/boxes/points, 12 scribbles).
        loss_weight (float): weight (0.3 tags/boxes, 0.5 scribbles, 0.1 points).
        loss_name (str): log key.
        chunk_size (int, optional): see the base class.
        background_index (int, optional): the class that is not a tag for co-occurrence:
            0 (default) is VOC's background (§4.3); ``None`` makes every class a tag (a
            dataset without a background class, e.g. CamVid, where class 0 is sky).
    """

    def __init__(self, concentration: float = 8.0, loss_weight: float = 1.0,
                 loss_name: str = 'loss_sem_occ', chunk_size: Optional[int] = None,
                 background_index: Optional[int] = 0):
        super().__init__(concentration, loss_weight, loss_name, chunk_size)
        self.background_index = check_scalar(background_index, 'background_index',
                                             integer=True, low=0, optional=True)

    def _foreground(self, num_classes: int, device) -> Tensor:
        """Column indices of the tags that count (all classes but the background)."""
        if self.background_index is not None and self.background_index >= num_classes:
            raise ValueError(f'background_index={self.background_index} is not a class of '
                             f'the batch (num_classes={num_classes})')
        cols = torch.arange(num_classes, device=device)
        return cols if self.background_index is None else cols[cols != self.background_index]

    def _loss_sum(self, batch: SegmentBatch, memory: Optional[MemoryBatch]):
        num_classes = batch.num_classes
        fg = self._foreground(num_classes, batch.prototype_tags.device)
        tags = batch.prototype_tags[:, fg] != 0  # [K, C-1] (C without a background)
        prototypes = batch.prototypes
        if memory is not None:
            prototypes, tags = self._with_memory(prototypes, tags, memory.prototypes,
                                                 memory.tags[:, fg.to(memory.tags.device)] != 0)
        # a segment lies in one image, so its tags are its pixels' image tags
        pixel_tags = tags[batch.segment_ids]
        total = self._contrast(batch.embeddings, pixel_tags, batch.segment_ids, prototypes,
                               tags)
        return total, batch.embeddings.shape[0]

    def extra_repr(self) -> str:
        return super().extra_repr() + f', background_index={self.background_index}'
