"""Convert What's-the-Point clicks (Bearman et al., ECCV 2016) into point-label PNGs.

Input: the JSON ``{image_id: [{"x", "y", "rank", "cls"}, ...]}`` (VOC 2012 ids, sub-pixel
coordinates, VOC class ids) and the VOC ``JPEGImages`` directory (for the image sizes).
Output: ``OUT/<id>.png``, uint8, the size of ``IMG_DIR/<id>.jpg``: click classes on disks of
``--radius`` pixels, the unlabeled index everywhere else (no 255: nothing is void in a point
label). Overlapping disks: the nearest click wins, ties to the lower rank, then the earlier click.

Ids without an image are counted and reported (an error with ``--strict``). Clicks more than one
pixel outside their image are an error unless ``--outside drop`` (the released VOC file has at
least 18 such clicks, in 12 images). See docs/weak_labels.md.

Example::

    python tools/convert_whats_the_point.py voc_whats_the_point.json \
        --img-dir data/VOCdevkit/VOC2012/JPEGImages --out data/voc_points/r6 \
        --radius 6 --outside drop --nproc 2
"""
import argparse
import os
import os.path as osp
import sys

import cv2
from mmengine.utils import track_parallel_progress, track_progress

from mmspml.datasets.weak_labels.whats_the_point import (clicks_outside, clicks_to_label,
                                                        load_whats_the_point)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Rasterise What's-the-Point clicks into OUT/<id>.png point labels.")
    parser.add_argument('json', help="What's-the-Point JSON file")
    parser.add_argument('--img-dir', required=True, help='VOC2012/JPEGImages (for image sizes)')
    parser.add_argument('--out', required=True, help='output directory')
    parser.add_argument('--ext', default='.jpg', help='image suffix (default .jpg)')
    parser.add_argument('--radius', type=float, default=6,
                        help='disk radius around each click in pixels (default 6)')
    parser.add_argument('--num-classes', type=int, default=21, help='C (default 21, VOC)')
    parser.add_argument('--unlabeled-index', type=int, default=None,
                        help='value of unclicked pixels (default: C)')
    parser.add_argument('--outside', choices=('error', 'drop'), default='error',
                        help='clicks more than 1 px outside their image: error (default) or drop')
    parser.add_argument('--strict', action='store_true',
                        help='error if an id of the JSON has no image (default: skip and count)')
    parser.add_argument('--nproc', type=int, default=1, help='worker processes (default 1)')
    return parser.parse_args(argv)


def process(task):
    """Write one label; returns (clicks written, clicks dropped)."""
    image_id, clicks, img_path, out_path, options = task
    image = cv2.imread(img_path, cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ValueError(f'{img_path}: cannot be read as an image (corrupt?)')
    try:
        label = clicks_to_label(clicks, image.shape[:2], **options)
    except ValueError as exc:
        raise ValueError(f'image {image_id!r} ({img_path}): {exc}') from None
    if not cv2.imwrite(out_path, label):
        raise OSError(f'{out_path}: cannot be written')
    dropped = len(clicks_outside(clicks, image.shape[:2])) if options['outside'] == 'drop' else 0
    return len(clicks) - dropped, dropped


def main(argv=None):
    args = parse_args(argv)
    if args.nproc < 1:
        raise ValueError(f'--nproc must be >= 1, got {args.nproc}')
    options = dict(num_classes=args.num_classes, radius=args.radius,
                   unlabeled_index=args.unlabeled_index, outside=args.outside)
    clicks_to_label([], (1, 1), **options)  # reject bad option values before any work
    data = load_whats_the_point(args.json)
    if not osp.isdir(args.img_dir):
        raise FileNotFoundError(f'image directory not found: {args.img_dir}')
    os.makedirs(args.out, exist_ok=True)
    tasks, missing = [], []
    for image_id in sorted(data):
        img_path = osp.join(args.img_dir, image_id + args.ext)
        if not osp.isfile(img_path):
            missing.append(img_path)
            continue
        tasks.append((image_id, data[image_id], img_path, osp.join(args.out, image_id + '.png'),
                      options))
    if missing and args.strict:
        more = f' (and {len(missing) - 1} more)' if len(missing) > 1 else ''
        raise FileNotFoundError(f'--strict: image not found: {missing[0]}{more}')
    if args.nproc > 1 and tasks:
        counts = track_parallel_progress(process, tasks, args.nproc, file=sys.stderr)
    elif tasks:
        counts = track_progress(process, tasks, file=sys.stderr)
    else:
        counts = []
    written = sum(kept for kept, _ in counts)
    dropped = sum(drop for _, drop in counts)
    print(f'{args.json}: {len(data)} ids; wrote {len(tasks)} labels to {args.out} '
          f'({written} clicks, radius {args.radius:g}); dropped {dropped} clicks outside their '
          f'image; skipped {len(missing)} ids without an image in {args.img_dir}')


if __name__ == '__main__':
    try:
        main()
    except (ValueError, OSError) as exc:  # bad input: one line naming the file, no traceback
        sys.exit(f'{osp.basename(sys.argv[0])}: error: {exc}')
