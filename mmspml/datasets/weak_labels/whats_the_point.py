"""What's the Point (Bearman et al., ECCV 2016) click files: parsing and rasterising."""
import json
import math
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from mmspml.functional._utils import check_scalar
from .label_checks import _resolve_unlabeled


_CLICK_KEYS = ('x', 'y', 'rank', 'cls')


def _is_int(value) -> bool:
    return _passes(value, integer=True)


def _is_real(value) -> bool:
    return _passes(value, integer=False)


def _passes(value, integer: bool) -> bool:
    try:
        check_scalar(value, 'value', integer=integer)
    except ValueError:
        return False
    return True


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
    radius = check_scalar(radius, 'radius', low=0)
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

