"""Low-level image-similarity term of SPML (spml-method.md §4.4)."""
from typing import Optional

import torch
from torch import Tensor

from mmseg.registry import MODELS
from mmspml.functional import MemoryBatch, SegmentBatch, l2_normalize
from ._base import _PixelSegmentLoss


@MODELS.register_module()
class ImageSimilarityLoss(_PixelSegmentLoss):
    """Within each image: pixels vs. its sub-segments; positives = same over-segmentation region.

    For every image of this process: the pixels' features (``embeddings_with_loc``, or
    the plain ``embeddings`` with ``use_location_features=False`` as in the DensePose
    setting) are contrasted with the image's segments, whose prototypes are recomputed as
    ``l2n(sum of the features)`` (differentiable); a segment's label is its region id.
    No cross-image term and no memory (``memory`` is ignored). The items averaged are the
    per-image pixel means, so every image weighs the same (§4.4).

    Args:
        concentration (float): ``kappa`` (16 in every released setting).
        loss_weight (float): weight (0.1 in every released setting).
        loss_name (str): log key.
        use_location_features (bool): use the clustering features (embedding + location).
        chunk_size (int, optional): see the base class.
    """

    def __init__(self, concentration: float = 16.0, loss_weight: float = 1.0,
                 loss_name: str = 'loss_img_sim', use_location_features: bool = True,
                 chunk_size: Optional[int] = None):
        super().__init__(concentration, loss_weight, loss_name, chunk_size)
        if not isinstance(use_location_features, bool):
            raise ValueError('use_location_features must be a bool, got '
                             f'{use_location_features!r}')
        self.use_location_features = use_location_features

    def _loss_sum(self, batch: SegmentBatch, memory: Optional[MemoryBatch]):
        features = batch.embeddings_with_loc if self.use_location_features else batch.embeddings
        # this process's segments, with prototypes from this process's pixels
        segments, own = torch.unique(batch.segment_ids, return_inverse=True)
        prototypes = l2_normalize(
            features.new_zeros(segments.numel(), features.shape[1]).index_add(0, own, features))
        regions = batch.prototype_region[segments]
        segment_images = batch.prototype_image_ids[segments]
        # a loop over the few images of this process; each is one small kernel call
        total = features.sum() * 0  # keeps the graph when there is no image
        images = torch.unique(batch.image_ids)
        for image in images:
            pixels = batch.image_ids == image
            in_image = segment_images == image
            local = torch.cumsum(in_image.long(), 0) - 1
            total = total + self._contrast(
                features[pixels], batch.region[pixels], local[own[pixels]],
                prototypes[in_image], regions[in_image], reduction='mean')
        return total, len(images)

    def extra_repr(self) -> str:
        return super().extra_repr() + f', use_location_features={self.use_location_features}'
