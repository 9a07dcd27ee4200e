"""Tiny dataset trees in SPML's real layouts (spml-method.md §1.1-§1.3), for tests.

``write_voc_tree`` and ``write_densepose_tree`` write every label directory SPML reads
plus SPML-named 3-column list files (and 1-column id lists), so a config only needs
``data_root`` pointed at the tree. Images are small (default 40x56) and random but
deterministic for a given ``seed``.

Encodings written (the conventions of :mod:`mmspml.datasets.weak_seg_dataset`):

* dense ground truth (``segcls``, ``clsimg``, ``densepose/gray``): classes, 255 void;
* weak labels (CAM tags/boxes, scribbles, points): classes where annotated and **255**
  where not (rloss style), which the datasets turn into the unlabeled index
  (``unlabeled_from_255``); they contain no void;
* over-segmentations: 8-bit grayscale region ids (a grid of blocks).
"""
import json
import os
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np

VOC_CLASSES = 21
DENSEPOSE_CLASSES = 15

VOC_LISTS = {
    'tags': 'seam_train+_a6_th0.2_hed.txt',
    'boxes': 'seambox_train+_a6_th0.5_hed.txt',
    'scribbles': 'scribble_train+_d3_hed.txt',
    'scribbles_0.8': 'scribble_train+_d3_0.8_hed.txt',
    'scribbles_0.5': 'scribble_train+_d3_0.5_hed.txt',
    'scribbles_0.3': 'scribble_train+_d3_0.3_hed.txt',
    'points': 'scribble_train+_d6_0.0_hed.txt',
    'full': 'panoptic_train+_hed.txt',
    'val': 'panoptic_val.txt',
}
VOC_LABEL_DIRS = {
    'tags': 'VOC2012/cam/seam_a6_th0.2',
    'boxes': 'VOC2012/cam/seambox_a6_th0.5',
    'scribbles': 'VOC2012/scribble/dilate_3',
    'scribbles_0.8': 'VOC2012/scribble/dilate_3_0.8',
    'scribbles_0.5': 'VOC2012/scribble/dilate_3_0.5',
    'scribbles_0.3': 'VOC2012/scribble/dilate_3_0.3',
    'points': 'VOC2012/scribble/dilate_6_0.0',
}
DENSEPOSE_LISTS = {
    'points': 'panoptic_train2014_points_pmi0.1_256.txt',
    'full': 'panoptic_train2014_pmi0.1_256.txt',
    'minival': 'panoptic_minival2014.txt',
    'sub': 'panoptic_train2014_sub.txt',
}


def _blocks(rng, h, w, classes: Sequence[int], background: int = 0, n: int = 4):
    """A label of random axis-aligned blocks of ``classes`` on ``background``."""
    label = np.full((h, w), background, np.uint8)
    for _ in range(n):
        bh, bw = rng.integers(max(h // 4, 2), max(h // 2, 3)), \
            rng.integers(max(w // 4, 2), max(w // 2, 3))
        y0, x0 = rng.integers(0, max(h - bh, 1)), rng.integers(0, max(w - bw, 1))
        label[y0:y0 + bh, x0:x0 + bw] = rng.choice(classes)
    return label


def _image(rng, label):
    palette = rng.integers(0, 255, (256, 3), dtype=np.uint8)
    noise = rng.integers(0, 20, label.shape + (3, ), dtype=np.uint8)
    return palette[label] + noise


def _overseg(h, w, cell: int = 8) -> np.ndarray:
    """Grid of ``cell`` x ``cell`` regions, 8-bit ids (wrap at 256 never happens for
    the small sizes used in tests)."""
    ys, xs = np.mgrid[:h, :w]
    cols = -(-w // cell)
    return ((ys // cell) * cols + xs // cell).astype(np.uint8)


def _scribbles(dense, fraction: float, void=255):
    """Horizontal 1-px lines every 6 rows, truncated to ``fraction`` of the width."""
    h, w = dense.shape
    out = np.full_like(dense, 255)
    keep = max(int(round(w * fraction)), 1)
    rows = np.arange(2, h, 6)
    out[rows, :keep] = dense[rows, :keep]
    out[dense == void] = 255
    return out


def _points(dense, void=255, step: int = 9, radius: int = 1):
    h, w = dense.shape
    out = np.full_like(dense, 255)
    for y in range(step // 2, h, step):
        for x in range(step // 2, w, step):
            if dense[y, x] != void:
                out[max(y - radius, 0):y + radius + 1,
                    max(x - radius, 0):x + radius + 1] = dense[y, x]
    return out


def _cam(dense, rng, keep: float = 0.7):
    """Thresholded-CAM-like label: the dense label on a random ``keep`` share of the
    pixels, 255 (unlabeled) elsewhere and on void."""
    out = dense.copy()
    out[rng.random(dense.shape) > keep] = 255
    return out


def _boxes(dense, num_classes: int, void=255):
    """Background outside all boxes; inside a box its class on its pixels, unlabeled
    (255) on the rest (what box-restricted CAMs look like)."""
    out = np.zeros_like(dense)
    for c in range(1, num_classes):
        ys, xs = np.nonzero(dense == c)
        if ys.size:
            out[ys.min():ys.max() + 1, xs.min():xs.max() + 1] = 255
    for c in range(1, num_classes):
        ys, xs = np.nonzero(dense == c)
        if ys.size:
            box = out[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
            box[dense[ys.min():ys.max() + 1, xs.min():xs.max() + 1] == c] = c
    return out


def _write(path, array):
    os.makedirs(osp.dirname(path), exist_ok=True)
    if not cv2.imwrite(path, array):
        raise IOError(f'could not write {path}')


def _write_list(path, lines: List[str]):
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')


def write_voc_tree(root: str, n: int = 4, n_val: int = 2,
                   size: Tuple[int, int] = (40, 56), seed: int = 0) -> Dict[str, List[str]]:
    """VOC 2012 + SBD in SPML's layout under ``root``.

    ``n`` training ids (the first ``ceil(n/2)`` are "VOC" images with
    ``VOC2012/segcls`` ground truth, the rest "SBD" images with ``sbd/dataset/clsimg``)
    and ``n_val`` validation ids; ``size`` = (h, w) of every image. Writes all the label
    directories of :data:`VOC_LABEL_DIRS`, ``VOC2012/hed``, the SPML lists of
    :data:`VOC_LISTS` at ``root``, ``VOC2012/ImageSets/Segmentation/{train_aug,val}.txt``
    and ``tags_train_aug.json`` (``{id: [classes present]}``).

    Returns:
        dict: ``{'train_aug': [ids], 'val': [ids], 'voc': [...], 'sbd': [...]}``.
    """
    rng = np.random.default_rng(seed)
    h, w = size
    n_voc = (n + 1) // 2
    voc_ids = [f'2007_{i:06d}' for i in range(n_voc)]
    sbd_ids = [f'2008_{i:06d}' for i in range(n - n_voc)]
    val_ids = [f'2011_{i:06d}' for i in range(n_val)]
    tags = {}
    lists = {k: [] for k in VOC_LISTS}
    for img_id in voc_ids + sbd_ids + val_ids:
        dense = _blocks(rng, h, w, classes=range(1, VOC_CLASSES))
        is_sbd = img_id in sbd_ids
        if not is_sbd:  # VOC ground truth has void borders around objects
            edges = cv2.morphologyEx(dense, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
            dense[edges > 0] = 255
        gt_dir = 'sbd/dataset/clsimg' if is_sbd else 'VOC2012/segcls'
        img_rel = f'VOC2012/JPEGImages/{img_id}.jpg'
        gt_rel = f'{gt_dir}/{img_id}.png'
        hed_rel = f'VOC2012/hed/{img_id}.png'
        _write(osp.join(root, img_rel), _image(rng, dense))
        _write(osp.join(root, gt_rel), dense)
        _write(osp.join(root, hed_rel), _overseg(h, w))
        if img_id in val_ids:
            lists['val'].append(f'{img_rel} {gt_rel} {gt_rel}')
            continue
        weak = {
            'tags': _cam(dense, rng),
            'boxes': _boxes(dense, VOC_CLASSES),
            'scribbles': _scribbles(dense, 1.0),
            'scribbles_0.8': _scribbles(dense, 0.8),
            'scribbles_0.5': _scribbles(dense, 0.5),
            'scribbles_0.3': _scribbles(dense, 0.3),
            'points': _points(dense),
        }
        for kind, label in weak.items():
            rel = f'{VOC_LABEL_DIRS[kind]}/{img_id}.png'
            _write(osp.join(root, rel), label)
            lists[kind].append(f'{img_rel} {rel} {hed_rel}')
        lists['full'].append(f'{img_rel} {gt_rel} {hed_rel}')
        present = np.unique(dense)
        tags[img_id] = [int(c) for c in present if c < VOC_CLASSES]
    for kind, name in VOC_LISTS.items():
        _write_list(osp.join(root, name), lists[kind])
    seg_sets = osp.join(root, 'VOC2012', 'ImageSets', 'Segmentation')
    _write_list(osp.join(seg_sets, 'train_aug.txt'), voc_ids + sbd_ids)
    _write_list(osp.join(seg_sets, 'val.txt'), val_ids)
    with open(osp.join(root, 'tags_train_aug.json'), 'w') as f:
        json.dump(tags, f)
    return dict(train_aug=voc_ids + sbd_ids, val=val_ids, voc=voc_ids, sbd=sbd_ids)


def _person(rng, h, w):
    """A dense DensePose-like part label: background 0, a person box split into part
    blocks 1..14 (left/right parts on the matching image side), 255 void on a strip."""
    label = np.zeros((h, w), np.uint8)
    y0, x0 = rng.integers(0, h // 4 + 1), rng.integers(0, w // 4 + 1)
    y1, x1 = y0 + max(h // 2, 4), x0 + max(w // 2, 4)
    ph, pw = y1 - y0, x1 - x0
    # rows: head, arms, torso, legs; columns: the person's right (image left) / left
    label[y0:y1, x0:x1] = 1
    label[y0:y0 + ph // 5, x0:x1] = 14
    cx = x0 + pw // 2
    for r, (right, left) in enumerate([(11, 10), (13, 12), (2, 3), (6, 7), (8, 9), (5, 4)]):
        ya = y0 + ph // 5 + r * max(ph // 8, 1)
        yb = ya + max(ph // 8, 1)
        label[ya:yb, x0:x0 + pw // 4] = right
        label[ya:yb, cx + pw // 4:x1] = left
    if rng.random() < 0.5:
        label[h - 2:, :] = 255
    return label


def write_densepose_tree(root: str, n: int = 4, n_val: int = 2,
                         size: Tuple[int, int] = (40, 56),
                         seed: int = 0) -> Dict[str, List[str]]:
    """DensePose-COCO in SPML's layout under ``root``.

    ``n`` train2014 and ``n_val`` val2014 (minival) images of ``size`` = (h, w), with
    ``segcls/densepose/gray`` (dense parts), ``segcls/densepose_points/gray`` (part points,
    255 elsewhere), ``seginst/pmi_0.1_256`` (8-bit regions) and the SPML lists of
    :data:`DENSEPOSE_LISTS` at ``root`` (plus 1-column ``train2014.txt`` /
    ``minival2014.txt`` name lists).

    Returns:
        dict: ``{'train2014': [names], 'minival2014': [names]}``.
    """
    rng = np.random.default_rng(seed)
    h, w = size
    train = [f'COCO_train2014_{i:012d}' for i in range(n)]
    val = [f'COCO_val2014_{i:012d}' for i in range(n_val)]
    lists = {k: [] for k in DENSEPOSE_LISTS}
    for names, image_set in ((train, 'train2014'), (val, 'val2014')):
        for name in names:
            dense = _person(rng, h, w)
            img_rel = f'images/{image_set}/{name}.jpg'
            gt_rel = f'segcls/densepose/gray/{name}.png'
            pts_rel = f'segcls/densepose_points/gray/{name}.png'
            ovs_rel = f'seginst/pmi_0.1_256/{name}.png'
            _write(osp.join(root, img_rel), _image(rng, dense))
            _write(osp.join(root, gt_rel), dense)
            _write(osp.join(root, pts_rel), _points(dense, step=5, radius=0))
            _write(osp.join(root, ovs_rel), _overseg(h, w, cell=6))
            if image_set == 'train2014':
                lists['points'].append(f'{img_rel} {pts_rel} {ovs_rel}')
                lists['full'].append(f'{img_rel} {gt_rel} {ovs_rel}')
                lists['sub'].append(f'{img_rel} {gt_rel} {gt_rel}')
            else:
                lists['minival'].append(f'{img_rel} {gt_rel} {gt_rel}')
    for kind, name in DENSEPOSE_LISTS.items():
        _write_list(osp.join(root, name), lists[kind])
    _write_list(osp.join(root, 'train2014.txt'), train)
    _write_list(osp.join(root, 'minival2014.txt'), val)
    return dict(train2014=train, minival2014=val)


def weak_label_of(sample):
    """The weak label of a packed sample (unlabeled index kept): ``gt_weak_seg`` when
    PackSPMLInputs split it off (the label had unlabeled pixels), else ``gt_sem_seg``."""
    return (sample.gt_weak_seg if 'gt_weak_seg' in sample else sample.gt_sem_seg).data
