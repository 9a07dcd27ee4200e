"""Semantic co-occurrence term of SPML (spml-method.md §4.3)."""
from typing import Optional


from mmseg.registry import MODELS
from mmspml.functional import MemoryBatch, SegmentBatch
from ._base import _PixelSegmentLoss


@MODELS.register_module()
class SemanticCooccurrenceLoss(_PixelSegmentLoss):
    """All pixels vs. all segments; positives = segments of images sharing a foreground tag.

    * pixels: all of this process's valid pixels (labeled and unlabeled);
    * label sets: the foreground tags (classes ``1 .. C-1``) of the pixel's image vs. those
      of the prototype's image (``prototype_tags[:, 1:C]``);
    * prototypes: all current segments, then all memory prototypes.

    An image without a foreground tag has an empty set: only negatives, and the own term
    is both numerator and negative (§4.1).

    Args:
        concentration (float): ``kappa`` (8 tags/boxes/points, 12 scribbles).
        loss_weight (float): weight (0.3 tags/boxes, 0.5 scribbles, 0.1 points).
        loss_name (str): log key.
        chunk_size (int, optional): see the base class.
    """

    def __init__(self, concentration: float = 8.0, loss_weight: float = 1.0,
                 loss_name: str = 'loss_sem_occ', chunk_size: Optional[int] = None):
        super().__init__(concentration, loss_weight, loss_name, chunk_size)

    def _loss_sum(self, batch: SegmentBatch, memory: Optional[MemoryBatch]):
        num_classes = batch.num_classes
        tags = batch.prototype_tags[:, 1:num_classes] != 0  # [K, C-1]
        prototypes = batch.prototypes
        if memory is not None:
            prototypes, tags = self._with_memory(prototypes, tags, memory.prototypes,
                                                 memory.tags[:, 1:num_classes] != 0)
        # a segment lies in one image, so its tags are its pixels' image tags
        pixel_tags = tags[batch.segment_ids]
        total = self._contrast(batch.embeddings, pixel_tags, batch.segment_ids, prototypes,
                               tags)
        return total, batch.embeddings.shape[0]
