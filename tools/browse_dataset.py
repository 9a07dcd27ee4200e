"""Look at what the training pipeline of a config feeds the model.

For every sample, writes ``OUTPUT_DIR/NNNNN_NAME.png`` with three panels -- the augmented
image, the weak label over it, the over-segmentation boundaries -- and a text band with
the image tags. Label colours: the dataset palette for classes, the grey-scale image
(darkened) where pixels are *unlabeled* (the unlabeled index), a grey/white checkerboard
where they are *ignored* (255: void and padding).

    python tools/browse_dataset.py CONFIG --output-dir DIR [--not-show]
                                   [--max-images N] [--show-interval S]
                                   [--seed S] [--nproc N] [--cfg-options k=v ...]

Sample ``i`` is augmented with the random state seeded by ``seed + i``, so the written
images do not depend on ``--nproc`` or on which samples are drawn.

Example::

    python tools/browse_dataset.py configs/_base_/datasets/voc12_aug_scribbles.py \
        --output-dir work_dirs/browse --not-show --max-images 20
"""
import argparse
import os
import random
import os.path as osp

import cv2
import mmcv
import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.utils import track_parallel_progress, track_progress

import mmspml  # noqa: F401  (registers datasets and transforms)
from mmspml.utils.launch import explain_missing_data

UNLABELED_DIM = 0.45  # brightness of the grey image where pixels are unlabeled
BOUNDARY_BGR = (0, 255, 255)  # yellow
FONT = cv2.FONT_HERSHEY_SIMPLEX


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Write (and show) the samples of a config\'s training pipeline: '
        'weak label, over-segmentation boundaries and image tags.')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--output-dir', required=True,
                        help='directory for the PNGs (created if missing)')
    parser.add_argument('--not-show', action='store_true',
                        help='only write the PNGs, open no window')
    parser.add_argument('--max-images', type=int, default=None,
                        help='stop after N samples (default: the whole dataset)')
    parser.add_argument('--show-interval', type=float, default=2,
                        help='seconds each window stays open (default 2)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the augmentations (sample i uses seed + i; default 0)')
    parser.add_argument('--nproc', type=int, default=1,
                        help='worker processes writing PNGs (default 1; --nproc > 1 '
                        'implies --not-show)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, key=value '
                        '(e.g. train_dataloader.dataset.data_root=DIR)')
    args = parser.parse_args(argv)
    if args.nproc < 1:
        parser.error(f'--nproc must be >= 1, got {args.nproc}')
    if args.max_images is not None and args.max_images < 1:
        parser.error(f'--max-images must be >= 1, got {args.max_images}')
    return args


def _to_bgr_uint8(inputs) -> np.ndarray:
    """``[3, H, W]`` tensor as packed (BGR, uint8 or float) -> ``[H, W, 3]`` uint8."""
    img = inputs.detach().cpu().numpy().transpose(1, 2, 0)
    return np.clip(np.round(img), 0, 255).astype(np.uint8) if img.dtype != np.uint8 \
        else np.ascontiguousarray(img)


def _checkerboard(h: int, w: int, cell: int = 4) -> np.ndarray:
    ys, xs = np.mgrid[:h, :w]
    board = np.where(((ys // cell) + (xs // cell)) % 2 == 0, 255, 200).astype(np.uint8)
    return np.repeat(board[..., None], 3, axis=2)


def draw_label(img: np.ndarray, label: np.ndarray, palette, num_classes: int,
               ignore_index: int = 255, alpha: float = 0.6) -> np.ndarray:
    """Image ``[H, W, 3]`` BGR uint8 with the label ``[H, W]`` drawn over it."""
    out = img.astype(np.float32)
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float32)[..., None]
    colours = np.zeros((256, 3), np.float32)
    colours[:len(palette)] = np.asarray(palette, np.float32)[:, ::-1]  # RGB -> BGR
    is_class = label < num_classes
    out[is_class] = (1 - alpha) * out[is_class] + alpha * colours[label[is_class]]
    unlabeled = (label >= num_classes) & (label != ignore_index)
    out[unlabeled] = np.repeat(gray * UNLABELED_DIM, 3, axis=2)[unlabeled]
    ignore = label == ignore_index
    out[ignore] = _checkerboard(*label.shape)[ignore]
    return out.astype(np.uint8)


def draw_boundaries(img: np.ndarray, overseg: np.ndarray) -> np.ndarray:
    """Image with the borders between over-segmentation regions in yellow."""
    edge = np.zeros(overseg.shape, bool)
    edge[:, :-1] |= overseg[:, :-1] != overseg[:, 1:]
    edge[:-1, :] |= overseg[:-1, :] != overseg[1:, :]
    out = img.copy()
    out[edge] = BOUNDARY_BGR
    return out


def _text_lines(words, width: int, scale: float):
    lines, line = [], ''
    for word in words:
        cand = word if not line else f'{line}  {word}'
        if line and cv2.getTextSize(cand, FONT, scale, 1)[0][0] > width:
            lines.append(line)
            line = word
        else:
            line = cand
    return lines + [line] if line else lines


def render(sample: dict, classes, palette) -> np.ndarray:
    """The three panels and the text band of one packed sample, BGR uint8."""
    ds = sample['data_samples']
    img = _to_bgr_uint8(sample['inputs'])
    num_classes = ds.metainfo.get('num_classes', len(classes))
    unl = ds.metainfo.get('unlabeled_index', num_classes)
    panels = [img]
    words = []
    if 'gt_sem_seg' in ds:
        label = ds.gt_sem_seg.data[0].cpu().numpy()
        panels.append(draw_label(img, label, palette, num_classes))
        n_lab = int((label < num_classes).sum())
        words.append(f'labeled {n_lab}/{label.size} px;')
    if 'gt_overseg' in ds:
        overseg = ds.gt_overseg.data[0].cpu().numpy()
        panels.append(draw_boundaries(img, overseg))
        words.append(f'{len(np.unique(overseg))} regions;')
    tags = ds.metainfo.get('img_tags')
    if tags is not None:
        names = [classes[i] for i in np.flatnonzero(np.asarray(tags))]
        words += ['tags:'] + ([f'{n},' for n in names[:-1]] + names[-1:] if names
                              else ['(none)'])
    words.append(f'| grey = unlabeled ({unl}), checker = ignore (255)')
    sep = np.full((img.shape[0], 2, 3), 255, np.uint8)
    row = np.concatenate(sum([[p, sep] for p in panels], [])[:-1], axis=1)
    width = max(row.shape[1], 320)
    scale = 0.4
    lines = _text_lines(words, width - 8, scale)
    line_h = cv2.getTextSize('Ag', FONT, scale, 1)[0][1] + 8
    canvas = np.zeros((row.shape[0] + line_h * len(lines) + 4, width, 3), np.uint8)
    canvas[:row.shape[0], :row.shape[1]] = row
    for i, text in enumerate(lines):
        y = row.shape[0] + line_h * (i + 1)
        cv2.putText(canvas, text, (4, y - 2), FONT, scale, (255, 255, 255), 1,
                    cv2.LINE_AA)
    return canvas


_STATE = {}  # what _write needs; module-level so that worker processes can run it


def _write(idx: int) -> None:
    args = _STATE['args']
    seed = args.seed + idx
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    sample = _STATE['dataset'][idx]
    canvas = render(sample, _STATE['classes'], _STATE['palette'])
    name = osp.splitext(osp.basename(sample['data_samples'].img_path))[0]
    out = osp.join(args.output_dir, f'{idx:05d}_{name}.png')
    if not cv2.imwrite(out, canvas):
        raise SystemExit(f'could not write {out!r}')
    if _STATE['show']:
        mmcv.imshow(canvas, win_name=name, wait_time=args.show_interval)


def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(args.config):
        raise SystemExit(f'config file {args.config!r} does not exist')
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    from mmseg.registry import DATASETS
    with explain_missing_data():
        dataset = DATASETS.build(cfg.train_dataloader.dataset)
    meta = dataset.metainfo
    classes, palette = meta['classes'], meta['palette']
    os.makedirs(args.output_dir, exist_ok=True)
    n = len(dataset) if args.max_images is None else min(args.max_images, len(dataset))
    _STATE.update(dataset=dataset, classes=classes, palette=palette, args=args,
                  show=not args.not_show and args.nproc == 1)
    if args.nproc > 1:  # forked workers inherit _STATE
        track_parallel_progress(_write, list(range(n)), args.nproc)
    else:
        track_progress(_write, list(range(n)))
    print(f'\nwrote {n} images to {args.output_dir}')


if __name__ == '__main__':
    main()
