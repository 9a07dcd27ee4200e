"""Over-segment images into superpixels, the stand-in for SPML's HED/PMI-owt-ucm regions.

Writes ``OUT_DIR/NAME.png``: 16-bit single-channel PNG of region ids ``0..K-1`` (read it back with
``cv2.imread(path, cv2.IMREAD_UNCHANGED)``). SLIC and Felzenszwalb are deterministic, so there is no
seed. See docs/weak_labels.md for the quality trade-off against owt-ucm.

Example (CamVid train, a few hundred regions per 240x180 image)::

    python tools/make_superpixels.py data/camvid/images/train data/camvid_superpixels/train \
        --list data/camvid/train.txt --method slic --n-segments 300 --nproc 2
"""
import argparse
import os
import os.path as osp
import sys

import cv2
import numpy as np
from mmengine.utils import track_parallel_progress, track_progress

from mmspml.datasets.weak_labels.over_segmentation import superpixels
from mmspml.utils.list_file import read_list_file


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Write 16-bit superpixel id maps OUT_DIR/NAME.png for the images in IMG_DIR.')
    parser.add_argument('img_dir', help='image directory')
    parser.add_argument('out_dir', help='output directory')
    parser.add_argument('--list', default=None,
                        help='file with one NAME per line (default: every IMG_DIR/*EXT)')
    parser.add_argument('--ext', default='.jpg', help='image suffix (default .jpg)')
    parser.add_argument('--method', default='slic', choices=('slic', 'felzenszwalb'))
    parser.add_argument('--n-segments', type=int, default=300,
                        help='slic: approximate number of regions (default 300)')
    parser.add_argument('--compactness', type=float, default=10.0,
                        help='slic: colour vs. space weight; larger = squarer regions (default 10)')
    parser.add_argument('--sigma', type=float, default=None,
                        help='Gaussian pre-smoothing (default: 1.0 for slic, 0.8 for felzenszwalb)')
    parser.add_argument('--scale', type=float, default=100.0,
                        help='felzenszwalb: larger = larger regions (default 100)')
    parser.add_argument('--min-size', type=int, default=50,
                        help='felzenszwalb: minimum region size in pixels (default 50)')
    parser.add_argument('--nproc', type=int, default=1, help='worker processes (default 1)')
    return parser.parse_args(argv)


def method_params(args):
    if args.method == 'slic':
        params = dict(n_segments=args.n_segments, compactness=args.compactness)
    else:
        params = dict(scale=args.scale, min_size=args.min_size)
    if args.sigma is not None:
        params['sigma'] = args.sigma
    return params


def process(task):
    """Superpixels of one image; returns its number of regions."""
    img_path, out_path, method, params = task
    bgr = cv2.imread(img_path, cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f'{img_path}: cannot be read as an image (missing or corrupt)')
    regions = superpixels(np.ascontiguousarray(bgr[:, :, ::-1]), method, **params)
    os.makedirs(osp.dirname(out_path), exist_ok=True)
    if not cv2.imwrite(out_path, regions):
        raise OSError(f'{out_path}: cannot be written')
    return int(regions.max()) + 1


def list_names(args):
    if args.list is None:
        if not osp.isdir(args.img_dir):
            raise FileNotFoundError(f'image directory not found: {args.img_dir}')
        names = sorted(f[:-len(args.ext)] for f in os.listdir(args.img_dir)
                       if f.endswith(args.ext))
        if not names:
            raise ValueError(f'{args.img_dir}: no *{args.ext} images')
        return names
    return [row[0] for row in read_list_file(args.list)]


def main(argv=None):
    args = parse_args(argv)
    if args.nproc < 1:
        raise ValueError(f'--nproc must be >= 1, got {args.nproc}')
    params = method_params(args)
    superpixels(np.zeros((2, 2, 3), np.uint8), args.method, **params)  # reject bad values early
    names = list_names(args)
    img_paths = [osp.join(args.img_dir, name + args.ext) for name in names]
    missing = [p for p in img_paths if not osp.isfile(p)]
    if missing:
        more = f' (and {len(missing) - 1} more)' if len(missing) > 1 else ''
        raise FileNotFoundError(f'image not found: {missing[0]}{more}')
    tasks = [(path, osp.join(args.out_dir, name + '.png'), args.method, params)
             for name, path in zip(names, img_paths)]
    if args.nproc > 1:
        counts = track_parallel_progress(process, tasks, args.nproc, file=sys.stderr)
    else:
        counts = track_progress(process, tasks, file=sys.stderr)
    counts = np.asarray(counts)
    print(f'wrote {len(names)} superpixel maps to {args.out_dir}: regions per image '
          f'min {counts.min()}, mean {counts.mean():.1f}, max {counts.max()}')


if __name__ == '__main__':
    try:
        main()
    except (ValueError, OSError) as exc:  # bad input: one line naming the file, no traceback
        sys.exit(f'{osp.basename(sys.argv[0])}: error: {exc}')
