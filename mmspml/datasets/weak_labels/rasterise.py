"""Rasterisation shared by the weak-label simulators and the annotation converters.

One set of functions turns points, polylines and boxes into pixels, so that a scribble
simulated from a dense label and the same polyline drawn in an annotation tool and imported
(``tools/dataset_converters/``) label exactly the same pixels.

Coordinates. Annotation tools (LabelMe, CVAT, COCO) give *continuous* image coordinates
``(x, y)`` in which pixel ``(row, col)`` covers ``[col, col + 1) x [row, row + 1)``; its centre
is ``(col + 0.5, row + 0.5)``. Pixel arrays here are int64 ``[N, 2]`` of ``(row, col)``.

* a point (or a polyline vertex) lands on the pixel that contains it, ``(floor(y), floor(x))``
  (:func:`points_to_pixels`);
* a polyline is the 8-connected digital line through its vertex pixels (:func:`line_pixels`),
  drawn with a disk of diameter ``width`` (radius ``(width - 1) / 2``, :func:`scribble_radius`);
  a point with a disk of radius ``radius`` (:func:`draw_disks`);
* a box ``(x0, y0, x1, y1)`` covers the pixels whose centre lies in it (:func:`box_to_bounds`);
  box labels are painted largest first, so smaller boxes stay on top (:func:`paint_boxes`);
* a polygon covers the pixels whose centre lies inside it (:func:`polygon_mask`).
"""
import math
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

from mmspml.functional._utils import check_scalar

Box = Tuple[int, int, int, int, int]  # (cls, x0, y0, x1, y1), half-open pixel bounds


def disk(radius: float) -> np.ndarray:
    """uint8 [2R+1, 2R+1] disk ``dx^2 + dy^2 <= radius^2`` with ``R = floor(radius)``."""
    r = int(math.floor(radius))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    return (yy * yy + xx * xx <= radius * radius).astype(np.uint8)


def scribble_radius(width: int) -> float:
    """Disk radius of a line of ``width`` pixels (an integer >= 1): ``(width - 1) / 2``."""
    width = check_scalar(width, 'width', integer=True, low=1)
    return (width - 1) / 2


def points_to_pixels(points_xy, shape: Optional[Tuple[int, int]] = None) -> np.ndarray:
    """Pixels ``(floor(y), floor(x))`` of continuous points ``[[x, y], ...]``.

    With ``shape = (H, W)``, a coordinate exactly on the far border (``x == W`` or ``y == H``)
    belongs to the last pixel; the result may still lie outside the image (the caller decides
    whether that is an error or clipped).
    """
    pts = np.asarray(points_xy, dtype=np.float64).reshape(-1, 2)
    rows, cols = np.floor(pts[:, 1]), np.floor(pts[:, 0])
    if shape is not None:
        rows[pts[:, 1] == shape[0]] = shape[0] - 1
        cols[pts[:, 0] == shape[1]] = shape[1] - 1
    return np.stack([rows, cols], axis=1).astype(np.int64)


def pixels_to_points(pixels) -> list:
    """Continuous ``[[x, y], ...]`` at the centres of ``(row, col)`` pixels (python floats):
    the inverse of :func:`points_to_pixels`, used to export simulated labels."""
    pix = np.asarray(pixels, dtype=np.int64).reshape(-1, 2)
    return [[float(c) + 0.5, float(r) + 0.5] for r, c in pix]


def line_pixels(vertices) -> np.ndarray:
    """Pixels of the 8-connected digital polyline through the vertex pixels ``(row, col)``.

    Each segment from ``a`` to ``b`` has ``n = max(|dr|, |dc|)`` steps; step ``t`` is the pixel
    ``a + round((b - a) * t / n)`` (halves rounded up), so consecutive pixels are 8-neighbours
    and a segment along a row, a column or a diagonal is exactly its pixels. Repeated
    consecutive vertices are dropped.

    Args:
        vertices: int [K, 2] ``(row, col)``, K >= 1.

    Returns:
        np.ndarray: int64 [N, 2], in path order, consecutive pixels distinct.
    """
    v = np.asarray(vertices, dtype=np.int64).reshape(-1, 2)
    if len(v) == 0:
        return v
    keep = np.ones(len(v), bool)
    keep[1:] = np.any(v[1:] != v[:-1], axis=1)
    v = v[keep]
    if len(v) == 1:
        return v
    delta = v[1:] - v[:-1]
    steps = np.abs(delta).max(axis=1)  # >= 1
    seg = np.repeat(np.arange(len(steps)), steps)
    t = np.arange(int(steps.sum())) - np.repeat(np.cumsum(steps) - steps, steps)
    n = steps[seg]
    # a + floor((2 * d * t + n) / (2 n)): round half up, exact integer arithmetic
    offs = (2 * delta[seg] * t[:, None] + n[:, None]) // (2 * n[:, None])
    return np.concatenate([v[seg] + offs, v[-1:]], axis=0)


def path_vertices(pixels) -> np.ndarray:
    """The fewest vertices whose :func:`line_pixels` is the given 8-connected pixel path.

    Keeps the first and last pixel and every pixel where the step direction changes, so a
    straight (row, column or diagonal) run becomes one segment.
    """
    p = np.asarray(pixels, dtype=np.int64).reshape(-1, 2)
    step = p[1:] - p[:-1]
    if len(p) >= 2 and np.abs(step).max() > 1:
        raise ValueError('path_vertices: consecutive pixels must be 8-neighbours')
    if len(p) <= 2:
        return p
    turn = np.any(step[1:] != step[:-1], axis=1)
    keep = np.concatenate([[True], turn, [True]])
    return p[keep]


def draw_disks(pixels, shape: Tuple[int, int], radius: float,
               within: Optional[np.ndarray] = None) -> np.ndarray:
    """Union of the disks ``dx^2 + dy^2 <= radius^2`` centred at ``pixels``, inside the image.

    Centres may lie outside the image (a clipped annotation): only the part of their disk that
    falls inside is drawn.

    Args:
        pixels: int [N, 2] ``(row, col)``.
        shape (tuple): ``(H, W)`` of the result.
        radius (float): >= 0 (0 = the pixels themselves).
        within (np.ndarray, optional): bool [H, W]; the result is restricted to it (the
            simulators keep a scribble inside its own segment).

    Returns:
        np.ndarray: bool [H, W].
    """
    radius = check_scalar(radius, 'radius', low=0)
    h, w = int(shape[0]), int(shape[1])
    out = np.zeros((h, w), bool)
    pix = np.asarray(pixels, dtype=np.int64).reshape(-1, 2)
    kernel = disk(radius)
    r = kernel.shape[0] // 2
    # centres farther than r outside the image cannot reach it
    near = ((pix[:, 0] >= -r) & (pix[:, 0] < h + r) & (pix[:, 1] >= -r) & (pix[:, 1] < w + r))
    pix = pix[near]
    if len(pix) == 0:
        return out
    # a canvas holding every centre with a margin of r, so the dilation is exact
    r0, c0 = int(pix[:, 0].min()) - r, int(pix[:, 1].min()) - r
    r1, c1 = int(pix[:, 0].max()) + r + 1, int(pix[:, 1].max()) + r + 1
    canvas = np.zeros((r1 - r0, c1 - c0), np.uint8)
    canvas[pix[:, 0] - r0, pix[:, 1] - c0] = 1
    if r > 0:
        canvas = cv2.dilate(canvas, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    ir0, ic0, ir1, ic1 = max(r0, 0), max(c0, 0), min(r1, h), min(c1, w)
    out[ir0:ir1, ic0:ic1] = canvas[ir0 - r0:ir1 - r0, ic0 - c0:ic1 - c0].astype(bool)
    if within is not None:
        out &= within
    return out


def box_to_bounds(x0: float, y0: float, x1: float, y1: float) -> Tuple[int, int, int, int]:
    """Half-open pixel bounds ``(c0, r0, c1, r1)`` of the continuous box ``[x0, x1] x [y0, y1]``:
    the pixels whose centre lies in the box (``label[r0:r1, c0:c1]``). Integer corners map to
    themselves, so the boxes of :func:`~mmspml.datasets.weak_labels.simulate_boxes` round-trip.
    Not clipped to any image."""
    xa, xb = min(x0, x1), max(x0, x1)
    ya, yb = min(y0, y1), max(y0, y1)
    return (int(math.ceil(xa - 0.5)), int(math.ceil(ya - 0.5)),
            int(math.floor(xb + 0.5)), int(math.floor(yb + 0.5)))


def paint_boxes(out: np.ndarray, boxes: Sequence[Box]) -> None:
    """Paint ``(cls, x0, y0, x1, y1)`` boxes (half-open pixel bounds, clipped to ``out``) into
    ``out`` in place, in decreasing-area order (smaller boxes on top; equal areas keep the given
    order): the box convention of SPML's box labels (``simulate_boxes``)."""
    h, w = out.shape[:2]
    areas = [-(x1 - x0) * (y1 - y0) for _, x0, y0, x1, y1 in boxes]
    for i in np.argsort(areas, kind='stable'):
        cls, x0, y0, x1, y1 = boxes[i]
        out[max(y0, 0):min(y1, h), max(x0, 0):min(x1, w)] = cls


def polygon_mask(points_xy, shape: Tuple[int, int]) -> np.ndarray:
    """bool [H, W]: pixels whose centre lies inside the polygon ``[[x, y], ...]`` (clipped to the
    image; ``skimage.draw.polygon`` on coordinates shifted by half a pixel)."""
    from skimage.draw import polygon  # local: only the converters need it

    pts = np.asarray(points_xy, dtype=np.float64).reshape(-1, 2)
    out = np.zeros(tuple(shape), bool)
    rr, cc = polygon(pts[:, 1] - 0.5, pts[:, 0] - 0.5, shape=tuple(shape))
    out[rr, cc] = True
    return out

