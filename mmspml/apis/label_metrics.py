"""Confusion statistics and mIoU of label maps against dense labels (spml-method.md §7):
the numbers the pipeline tools print for pseudo labels and CAM seeds."""
from typing import Sequence

import numpy as np


def label_stats(pred: np.ndarray, gt: np.ndarray, num_classes: int) -> np.ndarray:
    """``[3, C]`` int64: per class ``TP + FN`` (GT histogram), ``TP + FP`` and ``TP``.

    Only pixels with ``0 <= gt < C`` count; predictions ``>= C`` (ignore, unlabeled) are
    never a TP/FP of any class (they are misses).
    """
    if pred.shape != gt.shape:
        raise ValueError(f'prediction {pred.shape} and dense label {gt.shape} differ in size')
    gt = gt.astype(np.int64).ravel()
    pred = pred.astype(np.int64).ravel()
    valid = gt < num_classes
    counted = valid & (pred < num_classes)
    out = np.zeros((3, num_classes), np.int64)
    out[0] = np.bincount(gt[valid], minlength=num_classes)
    out[1] = np.bincount(pred[counted], minlength=num_classes)
    out[2] = np.bincount(gt[counted & (pred == gt)], minlength=num_classes)
    return out


def miou_from_stats(stats: np.ndarray, class_names: Sequence[str] = ()) -> dict:
    """``{'mIoU': float, 'IoU': [C]}`` in percent; a class absent from both the labels and
    the predictions is NaN and left out of the mean (mmseg's ``IoUMetric``)."""
    gt, pred, tp = stats.astype(np.float64)
    union = gt + pred - tp
    with np.errstate(invalid='ignore', divide='ignore'):
        iou = np.where(union > 0, tp / union, np.nan) * 100
    return dict(mIoU=float(np.nanmean(iou)) if np.isfinite(iou).any() else float('nan'),
                IoU=iou.tolist(), classes=list(class_names))


def format_miou(what: str, result: dict, num_images: int) -> str:
    per_class = ', '.join(f'{n}={v:.1f}' for n, v in zip(result['classes'], result['IoU']))
    return (f'{what} mIoU: {result["mIoU"]:.2f} ({num_images} images)'
            + (f'\n  per class: {per_class}' if per_class else ''))
