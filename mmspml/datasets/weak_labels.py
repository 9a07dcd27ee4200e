"""Weak-label simulation and conversion (pure NumPy / SciPy / scikit-image / OpenCV).

Label conventions (stated once for the project; ``spml-method.md`` §1.2 and §8-4):

* A label map is ``np.uint8 [H, W]``, one channel.
* ``0 .. C-1`` are classes (``C = num_classes``; on VOC 0 is the background).
* ``255`` is *ignore* (void, padding): the pixel takes part in nothing. Every function here keeps
  255 exactly where its dense input has 255 and never writes 255 anywhere else.
* The *unlabeled index* ``U`` (default ``C``, any value with ``C <= U < 255``) marks a valid pixel
  that carries no annotation: SPML clusters it and uses it in the co-occurrence and image-similarity
  losses, but not in the annotation loss. Weak labels written here are ``U`` wherever nothing was
  annotated; unlabeled pixels are never turned into 0 or 255.
* Simulators take a *dense* label (values in ``[0, C)`` or 255) and only ever copy a pixel's own
  dense class to it (points, scribbles), so a simulated point/scribble label is never wrong.

Shorthand: ``H, W`` label size, ``C`` classes, ``n`` connected segments (connected components of one
class), ``K`` superpixel regions.

Randomness: all random choices for one image come from :func:`make_rng` keyed by the image name, so
the result depends only on ``(seed, name, parameters, label)``, not on processing order or on the
number of worker processes.
"""
import json
import math
import numbers
import zlib
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

IGNORE_INDEX = 255

__all__ = [
    'IGNORE_INDEX', 'make_rng', 'check_label', 'image_tags', 'connected_segments',
    'simulate_points', 'simulate_scribbles', 'simulate_boxes', 'superpixels',
    'load_whats_the_point', 'clicks_outside', 'clicks_to_label'
]


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def make_rng(seed: int, key: str) -> np.random.Generator:
    """Random generator for one image: ``default_rng([seed, crc32(key)])``.

    Args:
        seed (int): base seed (>= 0).
        key (str): the image name (e.g. ``'0001TP_006690'``, no directory, no extension).

    Returns:
        np.random.Generator: independent of any other image's generator.
    """
    if not isinstance(key, str):
        raise TypeError(f'make_rng: key must be a str (the image name), got {type(key).__name__}')
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f'make_rng: seed must be a non-negative int, got {seed!r}')
    return np.random.default_rng([int(seed), zlib.crc32(key.encode('utf-8'))])


def _check_num_classes(num_classes) -> int:
    if (isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral)
            or not 1 <= num_classes < IGNORE_INDEX):
        raise ValueError(f'num_classes must be an int in [1, 255), got {num_classes!r}')
    return int(num_classes)


def _resolve_unlabeled(num_classes: int, unlabeled_index: Optional[int]) -> int:
    """``unlabeled_index`` or its default ``num_classes``, checked against ``C <= U < 255``."""
    num_classes = _check_num_classes(num_classes)
    if unlabeled_index is None:
        return num_classes
    if (isinstance(unlabeled_index, bool) or not isinstance(unlabeled_index, numbers.Integral)
            or not num_classes <= unlabeled_index < IGNORE_INDEX):
        raise ValueError(f'unlabeled_index must be an int with num_classes={num_classes} <= '
                         f'unlabeled_index < 255, got {unlabeled_index!r}')
    return int(unlabeled_index)


def _check_positive_int(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f'{name} must be an int >= {minimum}, got {value!r}')
    return int(value)


def _disk(radius: float) -> np.ndarray:
    """uint8 [2R+1, 2R+1] disk ``dx^2 + dy^2 <= radius^2`` with ``R = floor(radius)``."""
    r = int(math.floor(radius))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    return (yy * yy + xx * xx <= radius * radius).astype(np.uint8)


def _segment_pixels(seg_ids: np.ndarray, num_segments: int) -> List[np.ndarray]:
    """Flat pixel indices (int64, raster order) of every segment ``0..n-1``."""
    flat = seg_ids.ravel()
    order = np.argsort(flat, kind='stable')
    counts = np.bincount(flat[flat >= 0], minlength=num_segments)
    start = int(np.count_nonzero(flat < 0))
    bounds = start + np.concatenate([[0], np.cumsum(counts)])
    return [order[bounds[s]:bounds[s + 1]] for s in range(num_segments)]


def _segment_crop(seg_ids: np.ndarray, idx: np.ndarray, s: int):
    """Bounding box ``(r0, c0)`` and boolean mask [h, w] of segment ``s`` given its pixels."""
    width = seg_ids.shape[1]
    rows, cols = idx // width, idx % width
    r0, r1, c0, c1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    return r0, c0, seg_ids[r0:r1, c0:c1] == s


def _dilate_within(seeds: np.ndarray, mask: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Dilate the boolean ``seeds`` by ``kernel`` and keep only pixels of ``mask`` (same shape)."""
    if kernel.shape == (1, 1):
        return seeds & mask
    pad = kernel.shape[0] // 2
    src = np.pad(seeds.astype(np.uint8), pad)
    grown = cv2.dilate(src, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return grown[pad:pad + mask.shape[0], pad:pad + mask.shape[1]].astype(bool) & mask


def _dense_input(label, num_classes: int) -> np.ndarray:
    label = np.asarray(label)
    check_label(label, num_classes, unlabeled_index=None, name='label')
    return label


def _format_values(values: np.ndarray, limit: int = 10) -> str:
    shown = ', '.join(str(v) for v in values[:limit].tolist())
    return shown + (f', ... ({values.size} values)' if values.size > limit else '')


# --------------------------------------------------------------------------------------------
# label checks and statistics
# --------------------------------------------------------------------------------------------
def check_label(label,
                num_classes: int,
                unlabeled_index: Optional[int] = None,
                ignore_index: int = IGNORE_INDEX,
                name: str = 'label') -> None:
    """Raise ``ValueError`` unless ``label`` is a 2-D integer map of allowed values.

    Allowed values are ``[0, num_classes)``, ``ignore_index`` and, only if ``unlabeled_index`` is
    given, ``unlabeled_index``. With the default ``unlabeled_index=None`` this checks a *dense*
    label (ground truth); pass the unlabeled index to check a weak label.

    Args:
        label (np.ndarray): integer [H, W].
        num_classes (int): ``C``.
        unlabeled_index (int, optional): also accept this value (``C <= U < 255``).
        ignore_index (int): the ignore value. Default 255.
        name (str): what to call the label in the message (usually its file path).
    """
    num_classes = _check_num_classes(num_classes)
    if unlabeled_index is not None:
        unlabeled_index = _resolve_unlabeled(num_classes, unlabeled_index)
    label = np.asarray(label)
    if label.ndim != 2:
        raise ValueError(f'{name}: expected a single-channel 2-D label map [H, W], '
                         f'got shape {label.shape}')
    if label.dtype.kind not in 'ui':
        raise ValueError(f'{name}: expected an integer label map, got dtype {label.dtype}')
    values = np.unique(label)
    ok = (values >= 0) & (values < num_classes) | (values == ignore_index)
    if unlabeled_index is not None:
        ok |= values == unlabeled_index
    if not ok.all():
        allowed = f'[0, {num_classes})' + (f', {unlabeled_index} (unlabeled)'
                                            if unlabeled_index is not None else '')
        raise ValueError(f'{name}: unexpected label values {_format_values(values[~ok])} '
                         f'(allowed: {allowed}, {ignore_index} (ignore))')


def image_tags(label, num_classes: int) -> np.ndarray:
    """Classes present in ``label``.

    Args:
        label (np.ndarray): integer [H, W] (dense or weak).
        num_classes (int): ``C``.

    Returns:
        np.ndarray: bool [C]; ``True`` for every class with at least one pixel. Unlabeled and
        ignore pixels (values ``>= C``) are not tags.
    """
    num_classes = _check_num_classes(num_classes)
    label = np.asarray(label)
    values = label[(label >= 0) & (label < num_classes)].astype(np.int64)
    return np.bincount(values.ravel(), minlength=num_classes) > 0


def connected_segments(label, num_classes: int,
                       connectivity: int = 2) -> Tuple[np.ndarray, np.ndarray]:
    """Connected components of every class.

    Segments are numbered by class (ascending), then by the raster order of their first pixel.

    Args:
        label (np.ndarray): integer [H, W].
        num_classes (int): ``C``; values outside ``[0, C)`` belong to no segment.
        connectivity (int): 1 = 4-neighbourhood, 2 = 8-neighbourhood (scikit-image convention).

    Returns:
        tuple: ``seg_ids`` int32 [H, W] (segment id, -1 outside classes) and ``seg_class``
        int64 [n] (class of each segment).
    """
    num_classes = _check_num_classes(num_classes)
    if connectivity not in (1, 2):
        raise ValueError(f'connectivity must be 1 or 2, got {connectivity!r}')
    label = np.asarray(label)
    if label.ndim != 2:
        raise ValueError(f'label: expected a 2-D label map, got shape {label.shape}')
    structure = ndimage.generate_binary_structure(2, connectivity)
    seg_ids = np.full(label.shape, -1, dtype=np.int32)
    seg_class = []
    for cls in np.flatnonzero(image_tags(label, num_classes)):
        components, count = ndimage.label(label == cls, structure=structure)
        inside = components > 0
        seg_ids[inside] = components[inside] - 1 + len(seg_class)
        seg_class.extend([int(cls)] * count)
    return seg_ids, np.asarray(seg_class, dtype=np.int64)


# --------------------------------------------------------------------------------------------
# simulators
# --------------------------------------------------------------------------------------------
def simulate_points(label,
                    num_classes: int,
                    rng: np.random.Generator,
                    points_per_segment: int = 1,
                    radius: float = 0,
                    unlabeled_index: Optional[int] = None,
                    min_segment_size: int = 1) -> np.ndarray:
    """Point annotations from a dense label.

    For every connected segment (:func:`connected_segments`, 8-connectivity) with at least
    ``min_segment_size`` pixels, ``points_per_segment`` distinct pixels are drawn uniformly (all of
    them if the segment is smaller) and labelled with the segment's class; each point is then grown
    to the disk ``dx^2 + dy^2 <= radius^2`` *intersected with its own segment*, so no pixel ever
    gets a class different from its dense class. Smaller segments stay unlabeled.

    Args:
        label (np.ndarray): dense uint8 [H, W], values in ``[0, C)`` or 255.
        num_classes (int): ``C``.
        rng (np.random.Generator): from :func:`make_rng`; one ``choice`` per kept segment.
        points_per_segment (int): points per segment (>= 1).
        radius (float): disk radius in pixels (>= 0; 0 = single pixels).
        unlabeled_index (int, optional): value of unannotated valid pixels (default ``C``).
        min_segment_size (int): segments with fewer pixels get no point (>= 1).

    Returns:
        np.ndarray: uint8 [H, W]; class at the points, 255 where ``label`` is 255, the unlabeled
        index elsewhere.
    """
    unlabeled = _resolve_unlabeled(num_classes, unlabeled_index)
    points_per_segment = _check_positive_int(points_per_segment, 'points_per_segment')
    min_segment_size = _check_positive_int(min_segment_size, 'min_segment_size')
    if not isinstance(radius, numbers.Real) or not radius >= 0:
        raise ValueError(f'radius must be a number >= 0, got {radius!r}')
    label = _dense_input(label, num_classes)

    out = np.full(label.shape, unlabeled, dtype=np.uint8)
    out[label == IGNORE_INDEX] = IGNORE_INDEX
    seg_ids, seg_class = connected_segments(label, num_classes)
    kernel = _disk(radius)
    for s, idx in enumerate(_segment_pixels(seg_ids, len(seg_class))):
        if idx.size < min_segment_size:
            continue
        chosen = idx[rng.choice(idx.size, size=min(points_per_segment, idx.size), replace=False)]
        if kernel.shape == (1, 1):
            out.flat[chosen] = seg_class[s]
            continue
        r0, c0, mask = _segment_crop(seg_ids, idx, s)
        seeds = np.zeros_like(mask)
        seeds[chosen // label.shape[1] - r0, chosen % label.shape[1] - c0] = True
        grown = _dilate_within(seeds, mask, kernel)
        out[r0:r0 + mask.shape[0], c0:c0 + mask.shape[1]][grown] = seg_class[s]
    return out


def _skeleton_path(mask: np.ndarray) -> np.ndarray:
    """Ordered pixels int64 [L, 2] (row, col) of a long path along the skeleton of ``mask``.

    The path is the double-sweep approximation of the skeleton graph's geodesic diameter
    (8-neighbour graph, edge lengths 1 and sqrt(2)): the farthest skeleton pixel ``A`` from the
    first skeleton pixel in raster order, then the shortest path from ``A`` to the pixel farthest
    from ``A``. Exact for tree-shaped skeletons (no holes). Empty if the skeleton is empty.
    """
    from skimage.morphology import skeletonize  # local: slow-ish import, only needed here

    skeleton = skeletonize(np.pad(mask, 1))[1:-1, 1:-1] & mask
    rows, cols = np.nonzero(skeleton)
    num = rows.size
    if num <= 1:
        return np.stack([rows, cols], axis=1).astype(np.int64)
    index = np.full(mask.shape, -1, dtype=np.int64)
    index[rows, cols] = np.arange(num)
    padded = np.pad(index, 1, constant_values=-1)
    src, dst, weight = [], [], []
    for dr, dc, w in ((0, 1, 1.0), (1, -1, math.sqrt(2)), (1, 0, 1.0), (1, 1, math.sqrt(2))):
        nb = padded[rows + 1 + dr, cols + 1 + dc]
        keep = nb >= 0
        src.append(np.arange(num)[keep])
        dst.append(nb[keep])
        weight.append(np.full(int(keep.sum()), w))
    src, dst, weight = np.concatenate(src), np.concatenate(dst), np.concatenate(weight)
    graph = coo_matrix((weight, (src, dst)), shape=(num, num)).tocsr()

    def farthest(start: int):
        dist, pred = dijkstra(graph, directed=False, indices=start, return_predecessors=True)
        dist[~np.isfinite(dist)] = -1.0
        return int(np.argmax(dist)), pred

    a, _ = farthest(0)
    b, pred = farthest(a)
    path = [b]
    while path[-1] != a:
        path.append(int(pred[path[-1]]))
    path = np.asarray(path[::-1], dtype=np.int64)  # from A to B
    return np.stack([rows[path], cols[path]], axis=1)


def _centre_pixel(mask: np.ndarray) -> Tuple[int, int]:
    """(row, col) of the pixel farthest from the border of ``mask`` (first in raster order)."""
    dist = cv2.distanceTransform(np.pad(mask.astype(np.uint8), 1), cv2.DIST_L2, 5)[1:-1, 1:-1]
    r, c = np.unravel_index(int(np.argmax(dist)), mask.shape)
    return int(r), int(c)


def simulate_scribbles(label,
                       num_classes: int,
                       rng: np.random.Generator,
                       length_fraction: float = 1.0,
                       width: int = 3,
                       unlabeled_index: Optional[int] = None,
                       min_segment_size: int = 1) -> np.ndarray:
    """Scribble annotations from a dense label.

    Per connected segment (8-connectivity, at least ``min_segment_size`` pixels):

    1. the path of :func:`_skeleton_path` along ``skimage.morphology.skeletonize(segment)``
       (``L0`` pixels; a segment whose skeleton is empty uses its centre-most pixel, ``L0 = 1``);
    2. a contiguous window of ``L = max(1, round(length_fraction * L0))`` path pixels, centred at
       ``u * L0`` with ``u ~ U(0, 1)`` (one draw per segment) and shifted to lie inside the path.
       With the same generator the windows are nested, so a smaller fraction labels a subset of
       the pixels of a larger one;
    3. drawn with a disk of diameter ``width`` (radius ``(width - 1) / 2``) restricted to the
       segment.

    Every kept segment gets at least one labelled pixel; every labelled pixel has its dense class.

    Args:
        label (np.ndarray): dense uint8 [H, W], values in ``[0, C)`` or 255.
        num_classes (int): ``C``.
        rng (np.random.Generator): from :func:`make_rng`; one ``random()`` per kept segment.
        length_fraction (float): kept part of each path, ``0 < f <= 1``.
        width (int): line width in pixels (>= 1).
        unlabeled_index (int, optional): value of unannotated valid pixels (default ``C``).
        min_segment_size (int): smaller segments get no scribble (>= 1).

    Returns:
        np.ndarray: uint8 [H, W]; class on the scribbles, 255 where ``label`` is 255, the unlabeled
        index elsewhere.
    """
    unlabeled = _resolve_unlabeled(num_classes, unlabeled_index)
    width = _check_positive_int(width, 'width')
    min_segment_size = _check_positive_int(min_segment_size, 'min_segment_size')
    if not isinstance(length_fraction, numbers.Real) or not 0 < length_fraction <= 1:
        raise ValueError(f'length_fraction must be in (0, 1], got {length_fraction!r}')
    label = _dense_input(label, num_classes)

    out = np.full(label.shape, unlabeled, dtype=np.uint8)
    out[label == IGNORE_INDEX] = IGNORE_INDEX
    seg_ids, seg_class = connected_segments(label, num_classes)
    kernel = _disk((width - 1) / 2)
    for s, idx in enumerate(_segment_pixels(seg_ids, len(seg_class))):
        if idx.size < min_segment_size:
            continue
        r0, c0, mask = _segment_crop(seg_ids, idx, s)
        path = _skeleton_path(mask)
        if len(path) == 0:
            path = np.asarray([_centre_pixel(mask)], dtype=np.int64)
        total = len(path)
        keep = max(1, int(round(length_fraction * total)))
        centre = rng.random() * total
        start = min(max(int(math.floor(centre - keep / 2)), 0), total - keep)
        seeds = np.zeros_like(mask)
        seeds[path[start:start + keep, 0], path[start:start + keep, 1]] = True
        grown = _dilate_within(seeds, mask, kernel)
        out[r0:r0 + mask.shape[0], c0:c0 + mask.shape[1]][grown] = seg_class[s]
    return out


Box = Tuple[int, int, int, int, int]  # (cls, x0, y0, x1, y1), half-open pixel bounds


def simulate_boxes(label,
                   num_classes: int,
                   instances=None,
                   min_box_size: int = 1) -> Tuple[np.ndarray, List[Box]]:
    """Bounding-box annotations from a dense label (the SPML box setting, ``spml-method.md`` §1.3).

    Objects are the connected components (8-connectivity) of the foreground classes ``1..C-1``, or,
    if ``instances`` is given, its instances: every id other than 0 (no instance) and 255 (void),
    as in VOC ``SegmentationObject``; an instance's class is the most frequent foreground class
    under it (smallest id on ties; instances over background/void only are skipped). Class 0 is
    the background and gets no box.

    The box label paints the boxes in decreasing-area order (smaller boxes on top; equal areas keep
    the object order) with their class; pixels outside every box are 0 (background) and pixels that
    are 255 in ``label`` stay 255. Box labels have no unlabeled pixels.

    Args:
        label (np.ndarray): dense uint8 [H, W], values in ``[0, C)`` or 255.
        num_classes (int): ``C``.
        instances (np.ndarray, optional): integer [H, W] instance ids.
        min_box_size (int): boxes narrower or lower than this many pixels are dropped.

    Returns:
        tuple: the box label (uint8 [H, W]) and the boxes as a list of python-int tuples
        ``(cls, x0, y0, x1, y1)`` in object order (class, then raster order of the first pixel;
        instance id order with ``instances``), half-open pixel bounds: the box covers
        ``label[y0:y1, x0:x1]``.
    """
    min_box_size = _check_positive_int(min_box_size, 'min_box_size')
    label = _dense_input(label, num_classes)
    objects = []  # (cls, flat pixel indices)
    if instances is None:
        seg_ids, seg_class = connected_segments(label, num_classes)
        for s, idx in enumerate(_segment_pixels(seg_ids, len(seg_class))):
            if seg_class[s] != 0:
                objects.append((int(seg_class[s]), idx))
    else:
        instances = np.asarray(instances)
        if instances.shape != label.shape or instances.dtype.kind not in 'ui':
            raise ValueError(f'instances: expected an integer map of shape {label.shape}, '
                             f'got {instances.dtype} {instances.shape}')
        flat_inst, flat_label = instances.ravel(), label.ravel()
        for inst in np.unique(flat_inst):
            if inst in (0, IGNORE_INDEX):
                continue
            idx = np.flatnonzero(flat_inst == inst)
            classes = flat_label[idx]
            classes = classes[(classes > 0) & (classes < num_classes)]
            if classes.size == 0:
                continue
            objects.append((int(np.argmax(np.bincount(classes))), idx))

    width = label.shape[1]
    boxes = []
    for cls, idx in objects:
        rows, cols = idx // width, idx % width
        box = (cls, int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1)
        if min(box[3] - box[1], box[4] - box[2]) >= min_box_size:
            boxes.append(box)

    out = np.zeros(label.shape, dtype=np.uint8)
    areas = [-(x1 - x0) * (y1 - y0) for _, x0, y0, x1, y1 in boxes]
    for i in np.argsort(areas, kind='stable'):
        cls, x0, y0, x1, y1 = boxes[i]
        out[y0:y1, x0:x1] = cls
    out[label == IGNORE_INDEX] = IGNORE_INDEX
    return out, boxes


# --------------------------------------------------------------------------------------------
# over-segmentation
# --------------------------------------------------------------------------------------------
_SUPERPIXEL_DEFAULTS = {
    'slic': dict(n_segments=300, compactness=10.0, sigma=1.0),
    'felzenszwalb': dict(scale=100.0, sigma=0.8, min_size=50),
}


def superpixels(image, method: str = 'slic', **params) -> np.ndarray:
    """Colour-based over-segmentation, a stand-in for HED/PMI-owt-ucm regions (§1.4).

    Args:
        image (np.ndarray): uint8 [H, W, 3], RGB.
        method (str): ``'slic'`` (params ``n_segments=300, compactness=10.0, sigma=1.0``; SLIC in
            CIELAB with connectivity enforced) or ``'felzenszwalb'`` (params ``scale=100.0,
            sigma=0.8, min_size=50``). Both are deterministic.
        **params: overrides of the parameters above.

    Returns:
        np.ndarray: uint16 [H, W] region ids ``0..K-1``, every id used.
    """
    from skimage.segmentation import felzenszwalb, slic  # local: heavy import

    if method not in _SUPERPIXEL_DEFAULTS:
        raise ValueError(f'method must be one of {tuple(_SUPERPIXEL_DEFAULTS)}, got {method!r}')
    unknown = sorted(set(params) - set(_SUPERPIXEL_DEFAULTS[method]))
    if unknown:
        raise ValueError(f'unknown {method} parameters {unknown}; '
                         f'expected {sorted(_SUPERPIXEL_DEFAULTS[method])}')
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f'image must be uint8 [H, W, 3] RGB, got {image.dtype} {image.shape}')
    kwargs = {**_SUPERPIXEL_DEFAULTS[method], **params}
    for key, value in kwargs.items():
        positive = key in ('n_segments', 'compactness', 'scale')
        integer = key in ('n_segments', 'min_size')
        if (isinstance(value, bool) or not isinstance(value, numbers.Real)
                or not (value > 0 if positive else value >= 0)
                or integer and value != int(value)):
            kind = ('positive ' if positive else 'non-negative ') + ('int' if integer else 'number')
            raise ValueError(f'{method}: {key} must be a {kind}, got {value!r}')
    if method == 'slic':
        regions = slic(image, n_segments=int(kwargs['n_segments']),
                       compactness=float(kwargs['compactness']), sigma=float(kwargs['sigma']),
                       start_label=0, enforce_connectivity=True, channel_axis=-1)
    else:
        regions = felzenszwalb(image, scale=float(kwargs['scale']), sigma=float(kwargs['sigma']),
                               min_size=int(kwargs['min_size']), channel_axis=-1)
    _, contiguous = np.unique(regions, return_inverse=True)
    num = int(contiguous.max()) + 1
    if num > np.iinfo(np.uint16).max + 1:
        raise ValueError(f'{method} produced {num} regions; at most 65536 fit into uint16 ids')
    return contiguous.reshape(regions.shape).astype(np.uint16)


# --------------------------------------------------------------------------------------------
# What's the Point (Bearman et al., ECCV 2016) clicks
# --------------------------------------------------------------------------------------------
_CLICK_KEYS = ('x', 'y', 'rank', 'cls')


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value) -> bool:
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and math.isfinite(value))


def load_whats_the_point(path: str) -> Dict[str, List[dict]]:
    """Read and validate a What's-the-Point click file.

    Format: a JSON object ``{image_id: [{"x": float, "y": float, "rank": int, "cls": int}, ...]}``
    with sub-pixel coordinates in the original image (x = column, y = row), ``rank`` = 1-based order
    of the click among the clicks of its class in that image, ``cls`` = class id (VOC: 0 is
    background).
    An image may have no clicks (empty list).

    Args:
        path (str): the JSON file.

    Returns:
        dict: image id -> list of ``dict(x=float, y=float, rank=int, cls=int)`` in file order.
    """
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
    except json.JSONDecodeError as exc:
        raise ValueError(f'{path}: not valid JSON ({exc})') from None
    if not isinstance(data, dict):
        raise ValueError(f'{path}: expected a JSON object mapping image ids to click lists, '
                         f'got {type(data).__name__}')
    out = {}
    for image_id, clicks in data.items():
        if not isinstance(clicks, list):
            raise ValueError(f'{path}: image {image_id!r}: expected a list of clicks, '
                             f'got {clicks!r}')
        parsed = []
        for i, click in enumerate(clicks):
            where = f'{path}: image {image_id!r}, click #{i} {click!r}'
            if not isinstance(click, dict) or set(click) != set(_CLICK_KEYS):
                raise ValueError(f'{where}: expected an object with exactly the keys '
                                 f'{list(_CLICK_KEYS)}')
            if not (_is_real(click['x']) and _is_real(click['y'])):
                raise ValueError(f'{where}: x and y must be finite numbers')
            if not (_is_int(click['rank']) and _is_int(click['cls']) and click['cls'] >= 0):
                raise ValueError(f'{where}: rank must be an int and cls an int >= 0')
            parsed.append(dict(x=float(click['x']), y=float(click['y']), rank=int(click['rank']),
                               cls=int(click['cls'])))
        out[image_id] = parsed
    return out


def _click_pixel(x: float, y: float) -> Tuple[int, int]:
    """(row, col) of a sub-pixel click: ``(floor(y + 0.5), floor(x + 0.5))``."""
    return int(math.floor(y + 0.5)), int(math.floor(x + 0.5))


def clicks_outside(clicks: Sequence[dict], size: Tuple[int, int]) -> List[int]:
    """Positions in ``clicks`` of the clicks that :func:`clicks_to_label` rejects or drops.

    Args:
        clicks (Sequence[dict]): ``dict(x, y, ...)`` with finite x, y.
        size (tuple[int, int]): ``(H, W)``.

    Returns:
        list[int]: indices of clicks whose rounded pixel is more than one pixel outside the image.
    """
    height, width = (int(v) for v in size)
    out = []
    for i, click in enumerate(clicks):
        row, col = _click_pixel(click['x'], click['y'])
        if not (-1 <= col <= width and -1 <= row <= height):
            out.append(i)
    return out


def clicks_to_label(clicks: Sequence[dict],
                    size: Tuple[int, int],
                    num_classes: int = 21,
                    radius: float = 0,
                    unlabeled_index: Optional[int] = None,
                    outside: str = 'error') -> np.ndarray:
    """Rasterise clicks into a point label.

    A click ``(x, y)`` lands on pixel ``(row, col) = (floor(y + 0.5), floor(x + 0.5))``. A rounded
    position at most one pixel beyond the image (``-1 <= col <= W``, ``-1 <= row <= H``) is clipped
    into it; one further out is an error naming the click (``outside='error'``) or is dropped
    (``outside='drop'``; the real VOC file has at least 18 such clicks, in 12 images). Each
    click labels the disk ``dx^2 + dy^2 <= radius^2`` around its pixel.

    Overlaps: a pixel covered by several disks takes the class of the *nearest* click; ties go to
    the lower ``rank`` (rank 1 is each class's first click), then to the click listed first. So
    every click's own pixel keeps its class unless two clicks round to the same pixel.

    Args:
        clicks (Sequence[dict]): ``dict(x, y, cls[, rank])`` (rank defaults to 1), e.g. one entry
            of :func:`load_whats_the_point`.
        size (tuple[int, int]): ``(H, W)`` of the image.
        num_classes (int): ``C``; every ``cls`` must be in ``[0, C)``.
        radius (float): disk radius in pixels (>= 0).
        unlabeled_index (int, optional): value of unclicked pixels (default ``C``).
        outside (str): ``'error'`` or ``'drop'``, see above.

    Returns:
        np.ndarray: uint8 [H, W]; click classes on the disks, the unlabeled index elsewhere (a point
        label has no 255).
    """
    unlabeled = _resolve_unlabeled(num_classes, unlabeled_index)
    if outside not in ('error', 'drop'):
        raise ValueError(f"outside must be 'error' or 'drop', got {outside!r}")
    if not isinstance(radius, numbers.Real) or not radius >= 0:
        raise ValueError(f'radius must be a number >= 0, got {radius!r}')
    height, width = (int(v) for v in size)
    if height < 1 or width < 1:
        raise ValueError(f'size must be a positive (H, W), got {size!r}')

    placed = []  # (rank, list position, row, col, cls)
    for i, click in enumerate(clicks):
        x, y, cls, rank = click.get('x'), click.get('y'), click.get('cls'), click.get('rank', 1)
        if not (_is_real(x) and _is_real(y) and _is_int(cls) and _is_int(rank)):
            raise ValueError(f'click #{i} {click!r}: expected finite x, y and int cls, rank')
        if not 0 <= cls < num_classes:
            raise ValueError(f'click #{i} {click!r}: cls must be in [0, {num_classes})')
        row, col = _click_pixel(x, y)
        if not (-1 <= col <= width and -1 <= row <= height):
            if outside == 'drop':
                continue
            raise ValueError(f'click #{i} {click!r} lies outside the {height}x{width} image '
                             f'(rounded to row {row}, col {col})')
        placed.append((rank, i, min(max(row, 0), height - 1), min(max(col, 0), width - 1), cls))

    out = np.full((height, width), unlabeled, dtype=np.uint8)
    best = np.full((height, width), np.inf)
    reach = int(math.floor(radius))
    for _, _, row, col, cls in sorted(placed):
        r0, r1 = max(row - reach, 0), min(row + reach + 1, height)
        c0, c1 = max(col - reach, 0), min(col + reach + 1, width)
        yy, xx = np.mgrid[r0:r1, c0:c1]
        d2 = (yy - row)**2 + (xx - col)**2
        win_best = best[r0:r1, c0:c1]
        # strict '<': an equally near click processed earlier (lower rank / listed first) wins
        take = (d2 <= radius * radius) & (d2 < win_best)
        win_best[take] = d2[take]
        out[r0:r1, c0:c1][take] = cls
    return out
