from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor, nn

from mmspml.functional import SegmentResult, color_features, generate_segments
from mmspml.functional._utils import _check_size, check_scalar


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
        ignore_index (int): label value of ignored pixels (never clustered). Inside
            :class:`SPMLHead` it is the head's ``ignore_index`` (the head sets it).
        use_color (bool): append the DensePose colour features of §2.3
            (:func:`mmspml.functional.color_features`: the image filtered by the 5x5
            distance kernel without padding, resized to the embedding, normalised per
            image and channel) to the clustering feature, after the location. The image
            comes from the data sample field ``img_rgb``
            (``PackSPMLInputs(pack_image=True)``). Default False (VOC: location only).
        color_kernel_size (int): size of the distance kernel (5).
    """

    def __init__(self, grid=(6, 6), iterations: int = 10, use_location: bool = True,
                 use_overseg: bool = True, ignore_index: int = 255, use_color: bool = False,
                 color_kernel_size: int = 5) -> None:
        super().__init__()
        try:
            self.grid = _check_size(grid, 'grid')
        except ValueError as exc:
            raise ValueError(f'SegmentGenerator: {exc}') from None
        self.iterations = check_scalar(iterations, 'SegmentGenerator: iterations',
                                       integer=True, low=0)
        self.use_location = bool(use_location)
        self.use_overseg = bool(use_overseg)
        self.ignore_index = check_scalar(ignore_index, 'SegmentGenerator: ignore_index',
                                         integer=True)
        self.use_color = bool(use_color)
        self.color_kernel_size = check_scalar(color_kernel_size,
                                              'SegmentGenerator: color_kernel_size',
                                              integer=True, low=3)

    def forward(self, embedding: Tensor, semantic: Tensor, overseg: Optional[Tensor] = None,
                image_id_offset: int = 0, image: Optional[Tensor] = None) -> SegmentResult:
        """
        Args:
            embedding (Tensor): ``[B, D, h, w]`` raw embedding.
            semantic (Tensor): ``[B, H, W]`` weak label at input resolution.
            overseg (Tensor, optional): ``[B, H, W]`` region ids; ignored when
                ``use_overseg`` is False.
            image_id_offset (int): global id of this process's first image.
            image (Tensor, optional): ``[B, 3, H, W]`` input images; needed (only) with
                ``use_color``.
        """
        size = embedding.shape[-2:]
        sem = resize_label(semantic, size)
        region = None
        if self.use_overseg and overseg is not None:
            region = resize_label(overseg, size)
            # region ids of ignored pixels do not matter; negative ids are not allowed
            region = torch.where(sem == self.ignore_index, torch.zeros_like(region), region)
        extra = None
        if self.use_color:
            if image is None:
                raise ValueError('SegmentGenerator(use_color=True) needs the input images '
                                 "(data sample field 'img_rgb': add "
                                 "PackSPMLInputs(pack_image=True) to the pipeline)")
            extra = color_features(image.to(embedding.dtype), size, self.color_kernel_size)
        return generate_segments(
            embedding, sem, region, grid=self.grid, iterations=self.iterations,
            ignore_index=self.ignore_index, use_location=self.use_location,
            extra_features=extra, image_id_offset=image_id_offset)

    def extra_repr(self) -> str:
        return (f'grid={self.grid}, iterations={self.iterations}, '
                f'use_location={self.use_location}, use_overseg={self.use_overseg}, '
                f'ignore_index={self.ignore_index}, use_color={self.use_color}')

