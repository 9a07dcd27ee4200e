"""Feature-affinity term of SPML (spml-method.md §4.5)."""
from typing import Optional


from mmseg.registry import MODELS
from mmspml.functional import MemoryBatch, SegmentBatch, nearest_labeled_label_sets
from mmspml.functional._utils import check_scalar
from ._base import _PixelSegmentLoss


@MODELS.register_module()
class FeatureAffinityLoss(_PixelSegmentLoss):
    """All pixels vs. all segments with label sets propagated from nearby labeled segments.

    A working version of the DensePose ``feat_aff`` term: the released code configures it
    (kappa 12, weight 0.5) but never applies it (it calls the disabled co-occurrence loss
    instead, §4.5 / §8 item 3), so the released DensePose result was trained without it.

    1. every segment takes the class of its most similar labeled segment of the same image
       (cosine of ``prototypes_with_loc``) if that similarity is ``>= threshold``, else
       an empty set (:func:`mmspml.functional.nearest_labeled_label_sets`);
    2. empty sets become "all classes": such segments are positives for every pixel and
       their pixels have no negative (loss exactly 0);
    3. a pixel's set is its segment's; the set kernel runs over all pixels vs. all current
       segments (``memory`` is ignored: the DensePose setting has no memory bank).

    The reference DensePose model feeds ``prototypes_with_loc`` built from
    ``l2n(cat(0.1 * e, location, colour))`` (§3.3); that choice is the caller's.

    Args:
        concentration (float): ``kappa`` (12 as configured by the reference).
        loss_weight (float): weight (0.5 as configured by the reference).
        loss_name (str): log key.
        threshold (float): minimal cosine similarity to the nearest labeled segment.
        chunk_size (int, optional): see the base class.
    """

    def __init__(self, concentration: float = 12.0, loss_weight: float = 1.0,
                 loss_name: str = 'loss_feat_aff', threshold: float = 0.95,
                 chunk_size: Optional[int] = None):
        super().__init__(concentration, loss_weight, loss_name, chunk_size)
        self.threshold = check_scalar(threshold, 'threshold', low=-1, high=1)

    def _loss_sum(self, batch: SegmentBatch, memory: Optional[MemoryBatch]):
        sets = nearest_labeled_label_sets(batch.prototypes_with_loc, batch.prototype_semantic,
                                          batch.prototype_image_ids, batch.num_classes,
                                          self.threshold)
        sets = sets | ~sets.any(dim=1, keepdim=True)  # empty -> all classes
        total = self._contrast(batch.embeddings, sets[batch.segment_ids], batch.segment_ids,
                               batch.prototypes, sets)
        return total, batch.embeddings.shape[0]

    def extra_repr(self) -> str:
        return super().extra_repr() + f', threshold={self.threshold}'
