"""Segments and prototypes of a batch (§3.3, §3.4) and the containers the losses read.

Shape shorthand: B images, h x w embedding resolution, P valid pixels (all images,
row-major image by image), D embedding dims, D' = D + L clustering-feature dims
(L = 2 location channels, plus any extra channels), K segments, M memory prototypes,
C classes. Pure torch.

A *segment* is a maximal set of valid pixels sharing (image, k-means cluster, semantic
value, over-segmentation region); its *prototype* is the normalised sum of its pixel
embeddings. Segment order is the sorted order of that 4-tuple, which is also the
reference's order (§3.4: sorted by image, then cluster, then semantic, then region).
"""
from dataclasses import dataclass
from typing import NamedTuple, Optional, Sequence

import torch
from torch import Tensor

from ._utils import (_check_size, _check_tensor, full_precision, l2_normalize,
                     location_features)
from .kmeans import batched_spherical_kmeans, grid_init_labels


class SegmentResult(NamedTuple):
    """Output of :func:`generate_segments` / :func:`segment_prototypes`.

    Pixel level (P valid pixels, row-major, image by image):

    - ``embeddings`` ``[P, D]``: unit pixel embeddings ``e``.
    - ``embeddings_with_loc`` ``[P, D']``: unit clustering features ``f``
      (``= embeddings`` when no location/extra channel is used).
    - ``semantic`` ``[P]`` long: semantic value (class, or unlabeled ``>= C``).
    - ``region`` ``[P]`` long: over-segmentation region id.
    - ``image_ids`` ``[P]`` long: global image id.
    - ``cluster_ids`` ``[P]`` long: k-means cluster of the pixel *within its image*
      (the grid slot id, not contiguous).
    - ``segment_ids`` ``[P]`` long in ``[0, K)``: index into the segment-level fields.
    - ``pixel_index`` ``[P]`` long: flat index ``b*h*w + y*w + x`` into the batch
      (:func:`segment_prototypes` alone gives ``arange(P)``, i.e. its input order).

    Segment level (K segments):

    - ``prototypes`` ``[K, D]``: ``l2n(sum of e)``, differentiable.
    - ``prototypes_with_loc`` ``[K, D']``: ``l2n(sum of f)``, differentiable.
    - ``prototype_semantic``, ``prototype_region``, ``prototype_image_ids`` ``[K]`` long.
    """
    embeddings: Tensor
    embeddings_with_loc: Tensor
    semantic: Tensor
    region: Tensor
    image_ids: Tensor
    cluster_ids: Tensor
    segment_ids: Tensor
    pixel_index: Tensor
    prototypes: Tensor
    prototypes_with_loc: Tensor
    prototype_semantic: Tensor
    prototype_region: Tensor
    prototype_image_ids: Tensor


@dataclass
class SegmentBatch:
    """What the SPML contrastive losses read (§4).

    Pixel level: THIS process's valid pixels (P).

    Attributes:
        embeddings (Tensor): ``[P, D]`` unit pixel embeddings.
        embeddings_with_loc (Tensor): ``[P, D']`` unit clustering features.
        semantic (Tensor): ``[P]`` long; ``< num_classes`` = class id, ``>= num_classes``
            = unlabeled-but-valid (§1.2). Ignored (255) pixels are not in the batch.
        region (Tensor): ``[P]`` long over-segmentation region id.
        image_ids (Tensor): ``[P]`` long global image id.
        segment_ids (Tensor): ``[P]`` long index into the prototype arrays below.

    Segment level: ALL processes' segments (K), already gathered by the caller.

    Attributes:
        prototypes (Tensor): ``[K, D]``.
        prototypes_with_loc (Tensor): ``[K, D']``.
        prototype_semantic (Tensor): ``[K]`` long.
        prototype_region (Tensor): ``[K]`` long.
        prototype_image_ids (Tensor): ``[K]`` long.
        prototype_tags (Tensor): ``[K, C]`` bool (``C >= num_classes`` columns; only the
            first ``num_classes`` are read): class tags of the segment's image, index 0 =
            background (§1.2).
        num_classes (int): ``C``.
    """
    embeddings: Tensor
    embeddings_with_loc: Tensor
    semantic: Tensor
    region: Tensor
    image_ids: Tensor
    segment_ids: Tensor
    prototypes: Tensor
    prototypes_with_loc: Tensor
    prototype_semantic: Tensor
    prototype_region: Tensor
    prototype_image_ids: Tensor
    prototype_tags: Tensor
    num_classes: int

    def __post_init__(self):
        if isinstance(self.num_classes, bool) or not isinstance(self.num_classes, int) \
                or self.num_classes < 1:
            raise ValueError(f'num_classes must be a positive int, got {self.num_classes!r}')
        _check_tensor(self.embeddings, 'embeddings', dim=2, floating=True)
        p = self.embeddings.shape[0]
        _check_tensor(self.embeddings_with_loc, 'embeddings_with_loc', dim=2, floating=True)
        if self.embeddings_with_loc.shape[0] != p:
            raise ValueError(f'embeddings_with_loc must have {p} rows, '
                             f'got shape {tuple(self.embeddings_with_loc.shape)}')
        for name in ('semantic', 'region', 'image_ids', 'segment_ids'):
            _check_tensor(getattr(self, name), name, shape=(p,), floating=False)
        _check_tensor(self.prototypes, 'prototypes', dim=2, floating=True,
                      shape=(None, self.embeddings.shape[1]))
        k = self.prototypes.shape[0]
        _check_tensor(self.prototypes_with_loc, 'prototypes_with_loc', floating=True,
                      shape=(k, self.embeddings_with_loc.shape[1]))
        for name in ('prototype_semantic', 'prototype_region', 'prototype_image_ids'):
            _check_tensor(getattr(self, name), name, shape=(k,), floating=False)
        _check_tensor(self.prototype_tags, 'prototype_tags', dim=2, shape=(k, None))
        if self.prototype_tags.shape[1] < self.num_classes:
            raise ValueError(f'prototype_tags must have at least num_classes='
                             f'{self.num_classes} columns, got {self.prototype_tags.shape[1]}')


@dataclass
class MemoryBatch:
    """Detached prototypes of previous iterations (§4.8).

    They are never a pixel's own segment and their image ids never collide with the
    current batch's.

    Attributes:
        prototypes (Tensor): ``[M, D]``.
        semantic (Tensor): ``[M]`` long semantic value of each prototype.
        tags (Tensor): ``[M, C]`` bool class tags of each prototype's image.
        image_ids (Tensor): ``[M]`` long (shifted) image ids.
    """
    prototypes: Tensor
    semantic: Tensor
    tags: Tensor
    image_ids: Tensor

    def __post_init__(self):
        _check_tensor(self.prototypes, 'prototypes', dim=2, floating=True)
        m = self.prototypes.shape[0]
        _check_tensor(self.semantic, 'semantic', shape=(m,), floating=False)
        _check_tensor(self.image_ids, 'image_ids', shape=(m,), floating=False)
        _check_tensor(self.tags, 'tags', dim=2, shape=(m, None))


@full_precision
def segment_prototypes(embeddings: Tensor, cluster_ids: Tensor, image_ids: Tensor,
                       semantic: Tensor, region: Tensor,
                       features_with_loc: Optional[Tensor] = None) -> SegmentResult:
    """Split clustered pixels into pure segments and compute their prototypes (§3.4).

    Segments are the distinct ``(image, cluster, semantic, region)`` tuples; prototypes
    are ``l2n(sum)`` of the members' rows (differentiable).

    Args:
        embeddings (Tensor): ``[P, D]`` floating (unit pixel embeddings).
        cluster_ids (Tensor): ``[P]`` long cluster id (unique within an image suffices).
        image_ids (Tensor): ``[P]`` long.
        semantic (Tensor): ``[P]`` long.
        region (Tensor): ``[P]`` long.
        features_with_loc (Tensor, optional): ``[P, D']`` floating; ``None`` uses
            ``embeddings``.

    Returns:
        SegmentResult: with ``pixel_index = arange(P)``.
    """
    _check_tensor(embeddings, 'embeddings', dim=2, floating=True)
    p = embeddings.shape[0]
    for name, t in (('cluster_ids', cluster_ids), ('image_ids', image_ids),
                    ('semantic', semantic), ('region', region)):
        _check_tensor(t, name, shape=(p,), floating=False)
    if features_with_loc is None:
        features_with_loc = embeddings
    _check_tensor(features_with_loc, 'features_with_loc', dim=2, floating=True, shape=(p, None))

    unique_keys, segment_ids = _unique_rows([image_ids, cluster_ids, semantic, region])
    k = unique_keys.shape[0]
    prototypes = l2_normalize(
        embeddings.new_zeros(k, embeddings.shape[1]).index_add(0, segment_ids, embeddings))
    if features_with_loc is embeddings:
        prototypes_with_loc = prototypes
    else:
        prototypes_with_loc = l2_normalize(
            features_with_loc.new_zeros(k, features_with_loc.shape[1])
            .index_add(0, segment_ids, features_with_loc))
    return SegmentResult(
        embeddings=embeddings,
        embeddings_with_loc=features_with_loc,
        semantic=semantic,
        region=region,
        image_ids=image_ids,
        cluster_ids=cluster_ids,
        segment_ids=segment_ids,
        pixel_index=torch.arange(p, device=embeddings.device),
        prototypes=prototypes,
        prototypes_with_loc=prototypes_with_loc,
        prototype_semantic=unique_keys[:, 2],
        prototype_region=unique_keys[:, 3],
        prototype_image_ids=unique_keys[:, 0])


def _unique_rows(columns):
    """``torch.unique(stack(columns, 1), dim=0, return_inverse=True)``, fast.

    ``unique(dim=0)`` compares rows one by one on CPU (tens of thousands of tiny ops);
    packing each row into one int64 (mixed radix over the column ranges, first column
    most significant) keeps the lexicographic order and needs a 1-D ``unique``. Falls
    back to ``unique(dim=0)`` if the ranges do not fit in 63 bits.
    """
    keys = torch.stack(columns, dim=1).long()
    if keys.shape[0] == 0:
        return torch.unique(keys, dim=0, return_inverse=True)
    low, high = keys.min(dim=0).values, keys.max(dim=0).values
    spans = [int(v) for v in (high - low + 1)]
    total = 1
    for span in spans:
        total *= span
    if total >= 2**63:
        return torch.unique(keys, dim=0, return_inverse=True)
    packed = torch.zeros_like(keys[:, 0])
    for j, span in enumerate(spans):
        packed = packed * span + (keys[:, j] - low[j])
    values, inverse = torch.unique(packed, return_inverse=True)
    unique_keys = keys.new_empty(len(values), keys.shape[1])
    for j in range(len(spans) - 1, -1, -1):
        unique_keys[:, j] = values % spans[j] + low[j]
        values = torch.div(values, spans[j], rounding_mode='floor')
    return unique_keys, inverse


@full_precision
def generate_segments(embedding: Tensor, semantic: Tensor, region: Optional[Tensor],
                      grid: Sequence[int], iterations: int = 10, ignore_index: int = 255,
                      use_location: bool = True, extra_features: Optional[Tensor] = None,
                      image_id_offset: int = 0) -> SegmentResult:
    """Cluster every image and split the clusters into segments (§3.3 + the split of §3.4).

    ``e = l2n(embedding)`` per pixel; the clustering feature is
    ``f = l2n(cat(e, location, extra))`` (``f = e`` with neither). Pixels whose semantic
    value is ``ignore_index`` are dropped before clustering and take part in nothing.
    Each image is clustered by spherical k-means from a ``grid`` initialisation (all
    images at once, :func:`batched_spherical_kmeans`), then split by semantic value and
    region (:func:`segment_prototypes`). Prototypes are differentiable w.r.t.
    ``embedding``; the clustering is not. Float16/bfloat16 inputs are computed in
    float32, outside autocast (:func:`~mmspml.functional._utils.full_precision`).

    Args:
        embedding (Tensor): ``[B, D, h, w]`` floating raw embedding (not normalised).
        semantic (Tensor): ``[B, h, w]`` long semantic values at embedding resolution.
        region (Tensor, optional): ``[B, h, w]`` long over-segmentation; ``None`` =
            all zeros (segments split by label only).
        grid (tuple[int, int]): ``(gy, gx)`` initial grid.
        iterations (int): k-means iterations.
        ignore_index (int): semantic value of ignored pixels.
        use_location (bool): append the ``(y, x)`` features of :func:`location_features`
            (computed in ``embedding``'s dtype).
        extra_features (Tensor, optional): ``[B, h, w, L]`` further clustering channels
            (e.g. colour; cast to ``embedding``'s dtype).
        image_id_offset (int): image ``b`` gets global id ``image_id_offset + b``.

    Returns:
        SegmentResult: over the valid pixels of all images.
    """
    _check_tensor(embedding, 'embedding', dim=4, floating=True)
    b, d, h, w = embedding.shape
    _check_tensor(semantic, 'semantic', shape=(b, h, w), floating=False)
    if region is None:
        region = torch.zeros_like(semantic)
    _check_tensor(region, 'region', shape=(b, h, w), floating=False)
    _check_size(grid, 'grid')
    if extra_features is not None:
        _check_tensor(extra_features, 'extra_features', shape=(b, h, w, None))

    e = l2_normalize(embedding.permute(0, 2, 3, 1), dim=-1)  # [B, h, w, D]
    parts = [e]
    if use_location:
        loc = location_features((h, w), dtype=e.dtype, device=e.device)
        parts.append(loc.expand(b, h, w, 2))
    if extra_features is not None:
        parts.append(extra_features.to(e.dtype))
    f = l2_normalize(torch.cat(parts, dim=-1), dim=-1) if len(parts) > 1 else e

    valid = (semantic != ignore_index).view(b, h * w)
    init = grid_init_labels(grid, (h, w), device=e.device).view(1, h * w).expand(b, h * w)
    clusters = batched_spherical_kmeans(
        f.reshape(b, h * w, -1), init, valid, num_clusters=int(grid[0]) * int(grid[1]),
        iterations=iterations)

    pixel_index = valid.reshape(-1).nonzero().squeeze(1)
    image_ids = torch.div(pixel_index, h * w, rounding_mode='floor') + int(image_id_offset)
    result = segment_prototypes(
        e.reshape(b * h * w, d)[pixel_index],
        clusters.reshape(-1)[pixel_index],
        image_ids,
        semantic.reshape(-1)[pixel_index].long(),
        region.reshape(-1)[pixel_index].long(),
        None if f is e else f.reshape(b * h * w, -1)[pixel_index])
    return result._replace(pixel_index=pixel_index)
