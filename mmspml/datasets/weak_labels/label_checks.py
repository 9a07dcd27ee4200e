"""Label-map checks and statistics: value checks, image tags, connected segments.

Conventions: see :mod:`mmspml.datasets.weak_labels`.
"""
from typing import Optional, Tuple

import numpy as np
from scipy import ndimage

from mmspml.functional._utils import check_scalar

IGNORE_INDEX = 255


def _check_num_classes(num_classes) -> int:
    return check_scalar(num_classes, 'num_classes', integer=True, low=1, high=IGNORE_INDEX,
                        high_open=True)


def _resolve_unlabeled(num_classes: int, unlabeled_index: Optional[int]) -> int:
    """``unlabeled_index`` or its default ``num_classes``, checked against ``C <= U < 255``."""
    num_classes = _check_num_classes(num_classes)
    if unlabeled_index is None:
        return num_classes
    return check_scalar(unlabeled_index, f'unlabeled_index (num_classes={num_classes})',
                        integer=True, low=num_classes, high=IGNORE_INDEX, high_open=True)


def _dense_input(label, num_classes: int) -> np.ndarray:
    label = np.asarray(label)
    check_label(label, num_classes, unlabeled_index=None, name='label')
    return label


def _format_values(values: np.ndarray, limit: int = 10) -> str:
    shown = ', '.join(str(v) for v in values[:limit].tolist())
    return shown + (f', ... ({values.size} values)' if values.size > limit else '')


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


