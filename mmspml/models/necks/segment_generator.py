from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor, nn

from mmspml.functional import SegmentResult, generate_segments


def resize_label(label: Tensor, size: Sequence[int]) -> Tensor:
    """Nearest down-sampling of ``[B, H, W]`` integer maps to ``size`` (h, w).

    PyTorch's legacy ``nearest`` (source index ``floor(i * H / h)``, the top-left pixel
    of every block), as the reference does (spml-method.md §3.1, §8 item 16).
    """
    if tuple(label.shape[-2:]) == tuple(size):
        return label.long()
    return F.interpolate(label[:, None].float(), size=tuple(size),
                         mode='nearest')[:, 0].long()


@MODELS.register_module()
class SegmentGenerator(nn.Module):
    """Segment-generator neck: spherical k-means per image + split into segments.

    From the raw embedding, the weak label (which also gives the valid-pixel mask:
    everything but ``ignore_index``), the over-segmentation map and the location
    features, it runs the batched spherical k-means of spml-method.md §3.3 (grid
    initialisation §3.2) and splits every cluster by weak label and over-segmentation
    region (§3.4). Pure delegation to :func:`mmspml.functional.generate_segments`.

    Args:
        grid (tuple[int, int]): initial ``(gy, gx)`` grid; 6x6 for VOC, 12x12 DensePose.
        iterations (int): k-means iterations (10 in every released setting).
        use_location (bool): append (y, x) location channels to the clustering feature.
        use_overseg (bool): split clusters by over-segmentation region. With ``False``
            (or when a sample has no over-segmentation map) clusters are split by label
            only and every pixel of an image is in region 0.
        ignore_index (int): label value of ignored pixels (never clustered).
    """

    def __init__(self, grid=(6, 6), iterations: int = 10, use_location: bool = True,
                 use_overseg: bool = True, ignore_index: int = 255) -> None:
        super().__init__()
        if len(tuple(grid)) != 2 or min(grid) < 1:
            raise ValueError(f'SegmentGenerator: grid must be two positive ints, got {grid!r}')
        if iterations < 0:
            raise ValueError(f'SegmentGenerator: iterations must be >= 0, got {iterations}')
        self.grid = tuple(int(g) for g in grid)
        self.iterations = int(iterations)
        self.use_location = bool(use_location)
        self.use_overseg = bool(use_overseg)
        self.ignore_index = int(ignore_index)

    def forward(self, embedding: Tensor, semantic: Tensor, overseg: Optional[Tensor] = None,
                image_id_offset: int = 0) -> SegmentResult:
        """
        Args:
            embedding (Tensor): ``[B, D, h, w]`` raw embedding.
            semantic (Tensor): ``[B, H, W]`` weak label at input resolution.
            overseg (Tensor, optional): ``[B, H, W]`` region ids; ignored when
                ``use_overseg`` is False.
            image_id_offset (int): global id of this process's first image.
        """
        size = embedding.shape[-2:]
        sem = resize_label(semantic, size)
        region = None
        if self.use_overseg and overseg is not None:
            region = resize_label(overseg, size)
            # region ids of ignored pixels do not matter; negative ids are not allowed
            region = torch.where(sem == self.ignore_index, torch.zeros_like(region), region)
        return generate_segments(
            embedding, sem, region, grid=self.grid, iterations=self.iterations,
            ignore_index=self.ignore_index, use_location=self.use_location,
            image_id_offset=image_id_offset)

    def extra_repr(self) -> str:
        return (f'grid={self.grid}, iterations={self.iterations}, '
                f'use_location={self.use_location}, use_overseg={self.use_overseg}')

