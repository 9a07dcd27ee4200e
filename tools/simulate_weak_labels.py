"""Simulate weak labels (points, scribbles, boxes, tags) from the dense labels of a dataset split.

Input layout (CamVid's)::

    DATA_ROOT/{split}.txt                       one NAME per line
    DATA_ROOT/{label_dir}/{split}/NAME{suffix}  dense uint8 labels: [0, C) classes, 255 ignore

Output (``--out DIR``)::

    points / scribbles: DIR/{split}/NAME.png   uint8: class, unlabeled index, 255 where dense is 255
    boxes:              DIR/{split}/NAME.png   uint8 box label + DIR/{split}_boxes.json
                                               (NAME -> [[cls, x0, y0, x1, y1], ...], half-open)
    tags:               DIR/{split}.json       NAME -> sorted list of class ids present

The random choices of an image depend only on ``--seed`` and its name (the basename of NAME), so the
output does not depend on ``--nproc`` and matches the on-the-fly ``SimulateWeakLabel`` transform.
See docs/weak_labels.md.

Example::

    python tools/simulate_weak_labels.py data/camvid --split train --kind points \
        --num-classes 11 --radius 2 --nproc 2 --out data/camvid_weak/points_r2
"""
import argparse
import json
import os
import os.path as osp
import sys

import cv2
import numpy as np
from mmengine.utils import track_parallel_progress, track_progress

from mmspml.datasets import weak_labels as wl
from mmspml.utils.list_file import read_list_file

KINDS = ('points', 'scribbles', 'boxes', 'tags')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Simulate weak labels from the dense labels of one dataset split.')
    parser.add_argument('data_root', help='dataset root holding {split}.txt and the label dir')
    parser.add_argument('--split', default='train', help='split name (default: train)')
    parser.add_argument('--label-dir', default='labels',
                        help='label directory relative to data_root; the split is appended '
                        '(default: labels -> DATA_ROOT/labels/{split}/)')
    parser.add_argument('--split-file', default=None,
                        help='list of names (default: DATA_ROOT/{split}.txt)')
    parser.add_argument('--label-suffix', default='.png', help='label file suffix (default .png)')
    parser.add_argument('--kind', required=True, choices=KINDS)
    parser.add_argument('--num-classes', type=int, required=True, help='C (classes 0..C-1)')
    parser.add_argument('--unlabeled-index', type=int, default=None,
                        help='value of unannotated valid pixels (default: C)')
    parser.add_argument('--points-per-segment', type=int, default=1, help='points (default 1)')
    parser.add_argument('--radius', type=float, default=0,
                        help='points: disk radius in pixels, restricted to the segment (default 0)')
    parser.add_argument('--length-fraction', type=float, default=1.0,
                        help='scribbles: kept fraction of each skeleton path, (0, 1] (default 1)')
    parser.add_argument('--width', type=int, default=3,
                        help='scribbles: line width in pixels (default 3)')
    parser.add_argument('--min-segment-size', type=int, default=1,
                        help='points/scribbles: segments with fewer pixels stay unlabeled')
    parser.add_argument('--min-box-size', type=int, default=1,
                        help='boxes: drop boxes narrower or lower than this (default 1)')
    parser.add_argument('--seed', type=int, default=0, help='base seed (default 0)')
    parser.add_argument('--nproc', type=int, default=1, help='worker processes (default 1)')
    parser.add_argument('--out', required=True, help='output directory')
    return parser.parse_args(argv)


def read_names(split_file):
    return [row[0] for row in read_list_file(split_file, what='split file')]


def read_label(path, num_classes):
    """Dense label uint8 [H, W], checked; errors name the file."""
    label = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if label is None:
        raise ValueError(f'{path}: cannot be read as an image')
    if label.dtype != np.uint8:
        raise ValueError(f'{path}: expected an 8-bit label PNG, got {label.dtype}')
    wl.check_label(label, num_classes, name=path)
    return label


def process(task):
    """Simulate one image; returns the per-image JSON entry (boxes/tags) or None."""
    name, label_path, out_path, args = task
    label = read_label(label_path, args['num_classes'])
    kind = args['kind']
    if kind == 'tags':
        return [int(c) for c in np.flatnonzero(wl.image_tags(label, args['num_classes']))]
    entry = None
    if kind == 'points':
        rng = wl.make_rng(args['seed'], osp.basename(name))
        weak = wl.simulate_points(label, args['num_classes'], rng,
                                  points_per_segment=args['points_per_segment'],
                                  radius=args['radius'], unlabeled_index=args['unlabeled_index'],
                                  min_segment_size=args['min_segment_size'])
    elif kind == 'scribbles':
        rng = wl.make_rng(args['seed'], osp.basename(name))
        weak = wl.simulate_scribbles(label, args['num_classes'], rng,
                                     length_fraction=args['length_fraction'],
                                     width=args['width'], unlabeled_index=args['unlabeled_index'],
                                     min_segment_size=args['min_segment_size'])
    else:
        weak, boxes = wl.simulate_boxes(label, args['num_classes'],
                                        min_box_size=args['min_box_size'])
        entry = [list(box) for box in boxes]
    os.makedirs(osp.dirname(out_path), exist_ok=True)
    if not cv2.imwrite(out_path, weak):
        raise OSError(f'{out_path}: cannot be written')
    return entry


def check_options(args):
    """Reject bad numeric options before any file is read (the simulators' own checks, run on a
    1x1 label, so the messages are the library's)."""
    if args.nproc < 1:
        raise ValueError(f'--nproc must be >= 1, got {args.nproc}')
    probe = np.zeros((1, 1), np.uint8)
    if args.kind == 'points':
        wl.simulate_points(probe, args.num_classes, wl.make_rng(args.seed, ''),
                           args.points_per_segment, args.radius, args.unlabeled_index,
                           args.min_segment_size)
    elif args.kind == 'scribbles':
        wl.simulate_scribbles(probe, args.num_classes, wl.make_rng(args.seed, ''),
                              args.length_fraction, args.width, args.unlabeled_index,
                              args.min_segment_size)
    elif args.kind == 'boxes':
        wl.simulate_boxes(probe, args.num_classes, min_box_size=args.min_box_size)
    else:
        wl.image_tags(probe, args.num_classes)


def main(argv=None):
    args = parse_args(argv)
    check_options(args)
    split_file = args.split_file or osp.join(args.data_root, f'{args.split}.txt')
    names = read_names(split_file)
    label_root = osp.join(args.data_root, args.label_dir, args.split)
    label_paths = [osp.join(label_root, name + args.label_suffix) for name in names]
    missing = [p for p in label_paths if not osp.isfile(p)]
    if missing:
        more = f' (and {len(missing) - 1} more)' if len(missing) > 1 else ''
        raise FileNotFoundError(f'label file not found: {missing[0]}{more}')

    options = dict(kind=args.kind, num_classes=args.num_classes,
                   unlabeled_index=args.unlabeled_index,
                   points_per_segment=args.points_per_segment, radius=args.radius,
                   length_fraction=args.length_fraction, width=args.width,
                   min_segment_size=args.min_segment_size, min_box_size=args.min_box_size,
                   seed=args.seed)
    tasks = [(name, path, osp.join(args.out, args.split, name + '.png'), options)
             for name, path in zip(names, label_paths)]
    if args.nproc > 1:
        results = track_parallel_progress(process, tasks, args.nproc, file=sys.stderr)
    else:
        results = track_progress(process, tasks, file=sys.stderr)

    os.makedirs(args.out, exist_ok=True)
    if args.kind in ('tags', 'boxes'):
        suffix = '' if args.kind == 'tags' else '_boxes'
        json_path = osp.join(args.out, f'{args.split}{suffix}.json')
        with open(json_path, 'w', encoding='utf-8') as f:
            json.dump(dict(zip(names, results)), f)
        print(f'wrote {json_path}')
    if args.kind != 'tags':
        print(f'wrote {len(names)} {args.kind} labels to {osp.join(args.out, args.split)}')


if __name__ == '__main__':
    try:
        main()
    except (ValueError, OSError) as exc:  # bad input: one line naming the file, no traceback
        sys.exit(f'{osp.basename(sys.argv[0])}: error: {exc}')
