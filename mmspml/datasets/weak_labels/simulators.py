"""Weak-label simulators: points, scribbles and boxes from a dense label.

All random choices for one image come from :func:`make_rng` keyed by the image name.
Conventions: see :mod:`mmspml.datasets.weak_labels`. Points and scribbles are drawn by the
functions of :mod:`.rasterise`, the ones the annotation converters use, and the simulators can
return the points and polylines they drew (``return_shapes=True``) so that a simulated label can
be written in an annotation tool's format and imported back to the same pixels.
"""
import math
import zlib
from typing import List, Optional, Tuple

import cv2
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from mmspml.functional._utils import check_scalar
from .label_checks import IGNORE_INDEX, _dense_input, _resolve_unlabeled, connected_segments
from .rasterise import (Box, draw_disks, line_pixels, paint_boxes, path_vertices,
                        pixels_to_points, scribble_radius)


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
    seed = check_scalar(seed, 'make_rng: seed', integer=True, low=0)
    return np.random.default_rng([seed, zlib.crc32(key.encode('utf-8'))])


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


def simulate_points(label,
                    num_classes: int,
                    rng: np.random.Generator,
                    points_per_segment: int = 1,
                    radius: float = 0,
                    unlabeled_index: Optional[int] = None,
                    min_segment_size: int = 1,
                    within_segment: bool = True,
                    return_shapes: bool = False):
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
        within_segment (bool): restrict each disk to the point's segment (default). False draws
            whole disks, as a click imported from an annotation tool is drawn: a disk then
            reaches into neighbouring segments (later segments paint over earlier ones) and
            may give a pixel a class other than its dense class; 255 stays 255.
        return_shapes (bool): also return the points drawn.

    Returns:
        np.ndarray: uint8 [H, W]; class at the points, 255 where ``label`` is 255, the unlabeled
        index elsewhere. With ``return_shapes=True`` a tuple ``(label, shapes)``, ``shapes`` a
        list of ``dict(kind='points', cls=int, points=[[x, y]])`` in drawing order, ``x, y`` the
        continuous coordinates of the point's pixel centre (:mod:`.rasterise`).
    """
    unlabeled = _resolve_unlabeled(num_classes, unlabeled_index)
    points_per_segment = check_scalar(points_per_segment, 'points_per_segment', integer=True, low=1)
    min_segment_size = check_scalar(min_segment_size, 'min_segment_size', integer=True, low=1)
    radius = check_scalar(radius, 'radius', low=0)
    label = _dense_input(label, num_classes)

    out = np.full(label.shape, unlabeled, dtype=np.uint8)
    seg_ids, seg_class = connected_segments(label, num_classes)
    shapes = []
    for s, idx in enumerate(_segment_pixels(seg_ids, len(seg_class))):
        if idx.size < min_segment_size:
            continue
        chosen = idx[rng.choice(idx.size, size=min(points_per_segment, idx.size), replace=False)]
        pixels = np.stack([chosen // label.shape[1], chosen % label.shape[1]], axis=1)
        # a disk of radius < 1 is the pixel itself: nothing to restrict
        crop = _segment_crop(seg_ids, idx, s) if within_segment and radius >= 1 else None
        _draw(out, pixels, int(seg_class[s]), radius, crop)
        shapes += [dict(kind='points', cls=int(seg_class[s]), points=[p])
                   for p in pixels_to_points(pixels)]
    out[label == IGNORE_INDEX] = IGNORE_INDEX
    return (out, shapes) if return_shapes else out


def _draw(out: np.ndarray, pixels: np.ndarray, cls: int, radius: float, crop=None) -> None:
    """Paint the disks of ``radius`` around ``pixels`` (image coordinates) with ``cls``: anywhere
    in the image, or only inside the segment ``crop = (r0, c0, mask)`` of
    :func:`_segment_crop`."""
    if crop is None:
        out[draw_disks(pixels, out.shape, radius)] = cls
        return
    r0, c0, mask = crop
    grown = draw_disks(pixels - np.array([r0, c0]), mask.shape, radius, within=mask)
    out[r0:r0 + mask.shape[0], c0:c0 + mask.shape[1]][grown] = cls


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
                       min_segment_size: int = 1,
                       within_segment: bool = True,
                       return_shapes: bool = False):
    """Scribble annotations from a dense label.

    Per connected segment (8-connectivity, at least ``min_segment_size`` pixels):

    1. the path of :func:`_skeleton_path` along ``skimage.morphology.skeletonize(segment)``
       (``L0`` pixels; a segment whose skeleton is empty uses its centre-most pixel, ``L0 = 1``);
    2. a contiguous window of ``L = max(1, round(length_fraction * L0))`` path pixels, centred at
       ``u * L0`` with ``u ~ U(0, 1)`` (one draw per segment) and shifted to lie inside the path.
       With the same generator the windows are nested, so a smaller fraction labels a subset of
       the pixels of a larger one;
    3. drawn as a polyline (:func:`~.rasterise.path_vertices`, :func:`~.rasterise.line_pixels`)
       with a disk of diameter ``width`` (radius ``(width - 1) / 2``) restricted to the
       segment (:func:`~.rasterise.draw_disks`, the converters' line drawing).

    Every kept segment gets at least one labelled pixel; every labelled pixel has its dense class.

    Args:
        label (np.ndarray): dense uint8 [H, W], values in ``[0, C)`` or 255.
        num_classes (int): ``C``.
        rng (np.random.Generator): from :func:`make_rng`; one ``random()`` per kept segment.
        length_fraction (float): kept part of each path, ``0 < f <= 1``.
        width (int): line width in pixels (>= 1).
        unlabeled_index (int, optional): value of unannotated valid pixels (default ``C``).
        min_segment_size (int): smaller segments get no scribble (>= 1).
        within_segment (bool): restrict each stroke to its segment (default). False draws the
            whole stroke, as a polyline imported from an annotation tool is drawn: a wide stroke
            then spills into neighbouring segments (later segments paint over earlier ones) and
            may give a pixel a class other than its dense class; 255 stays 255.
        return_shapes (bool): also return the polylines drawn.

    Returns:
        np.ndarray: uint8 [H, W]; class on the scribbles, 255 where ``label`` is 255, the unlabeled
        index elsewhere. With ``return_shapes=True`` a tuple ``(label, shapes)``, ``shapes`` a
        list of ``dict(kind='scribbles', cls=int, points=[[x, y], ...])`` (one polyline per
        segment, in drawing order; vertices at pixel centres in continuous coordinates; a
        one-pixel scribble is a zero-length segment, its pixel twice).
    """
    unlabeled = _resolve_unlabeled(num_classes, unlabeled_index)
    width = check_scalar(width, 'width', integer=True, low=1)
    min_segment_size = check_scalar(min_segment_size, 'min_segment_size', integer=True, low=1)
    length_fraction = check_scalar(length_fraction, 'length_fraction', low=0, low_open=True,
                                   high=1)
    label = _dense_input(label, num_classes)

    radius = scribble_radius(width)
    out = np.full(label.shape, unlabeled, dtype=np.uint8)
    seg_ids, seg_class = connected_segments(label, num_classes)
    shapes = []
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
        vertices = path_vertices(path[start:start + keep]) + np.array([r0, c0])
        _draw(out, line_pixels(vertices), int(seg_class[s]), radius,
              (r0, c0, mask) if within_segment else None)
        # a one-pixel path as a zero-length segment: a polyline needs two vertices
        shapes.append(dict(kind='scribbles', cls=int(seg_class[s]),
                           points=pixels_to_points(vertices[[0, -1]] if len(vertices) == 1
                                                   else vertices)))
    out[label == IGNORE_INDEX] = IGNORE_INDEX
    return (out, shapes) if return_shapes else out


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
    min_box_size = check_scalar(min_box_size, 'min_box_size', integer=True, low=1)
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
    paint_boxes(out, boxes)
    out[label == IGNORE_INDEX] = IGNORE_INDEX
    return out, boxes


