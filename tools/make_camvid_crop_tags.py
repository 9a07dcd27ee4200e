"""A CamVid crop dataset with image-level tags that vary: the crops of every frame of a
split, tagged with the classes that cover at least ``--threshold`` of the crop.

CamVid's frames all carry nearly the same tags (9 of its 11 classes are in >= 86 % of the
training frames), so a classifier on them has nothing to localise. Half-size crops
differ: over the 9 crops of each training frame (crop = half the frame, stride a quarter
of it, a 3 x 3 grid), small classes are in some crops and not in others.

    python tools/make_camvid_crop_tags.py ../shared/data/camvid --out-dir data/camvid_crop_tags

Output (the CamVid layout, read by ``CamVidDataset(data_root=OUT, img_suffix='.png')``)::

    OUT/images/{split}/NAME_yIxJ.png    the crops (PNG: lossless crops of the frames)
    OUT/unlabeled/{split}/NAME_yIxJ.png the weak "label" of a tags-only crop: every pixel
                                        unlabeled (value --num-classes), so nothing but
                                        the tags file carries supervision
    OUT/labels/{split}/NAME_yIxJ.png    the crop of the dense label: for evaluation only
                                        (seed / pseudo-label mIoU), never for training
    OUT/{split}.txt                     the crop names
    OUT/{split}_tags.json               {"NAME_yIxJ": [class ids]}, the format of
                                        ``tools/make_cam_seeds.py --tags-file``

``I``/``J`` are the crop's row/column in the grid. Crop names start with the frame's
name, so CamVid's sequence prefix (``0001TP``, ``0006R0``, ``0016E5``) is kept. Prints
the number of crops, the per-class tag frequency of the crops and, for comparison, of the
whole frames (a class present with any pixel).
"""
import argparse
import json
import os
import os.path as osp

import cv2
import numpy as np

from mmspml.utils.list_file import read_list_file

CAMVID_CLASSES = ('sky', 'building', 'pole', 'road', 'pavement', 'tree', 'sign-symbol',
                  'fence', 'car', 'pedestrian', 'bicyclist')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='CamVid crops with image-level tags')
    p.add_argument('data_root', help='CamVid root: images/{split}/NAME.jpg, '
                   'labels/{split}/NAME.png, {split}.txt')
    p.add_argument('--out-dir', required=True)
    p.add_argument('--split', default='train')
    p.add_argument('--threshold', type=float, default=0.01,
                   help='a class is a tag of a crop when it covers at least this fraction '
                   'of the crop\'s pixels (default 0.01)')
    p.add_argument('--grid', type=int, default=3,
                   help='crops per side (default 3: stride a quarter frame)')
    p.add_argument('--crop-fraction', type=float, default=0.5,
                   help='crop side / frame side (default 0.5)')
    p.add_argument('--num-classes', type=int, default=len(CAMVID_CLASSES))
    args = p.parse_args(argv)
    if not 0 < args.threshold <= 1:
        p.error(f'--threshold must be in (0, 1], got {args.threshold}')
    if args.grid < 1 or not 0 < args.crop_fraction <= 1:
        p.error('--grid >= 1 and --crop-fraction in (0, 1] are required')
    if args.grid == 1 and args.crop_fraction != 1:
        p.error('--grid 1 takes the whole frame: use --crop-fraction 1')
    if not 1 <= args.num_classes < 255:
        p.error(f'--num-classes must be in [1, 254], got {args.num_classes}')
    return args


def crop_boxes(h, w, grid=3, fraction=0.5):
    """``[(i, j, y0, x0, ch, cw)]``: a ``grid x grid`` lattice of ``fraction``-size crops
    spread evenly from the top-left to the bottom-right corner (240 x 180, 3, 0.5: crops
    of 120 x 90 at x 0/60/120, y 0/45/90)."""
    ch, cw = max(1, int(h * fraction)), max(1, int(w * fraction))
    if grid == 1:
        return [(0, 0, 0, 0, ch, cw)]
    ys = [round(i * (h - ch) / (grid - 1)) for i in range(grid)]
    xs = [round(j * (w - cw) / (grid - 1)) for j in range(grid)]
    return [(i, j, y, x, ch, cw) for i, y in enumerate(ys) for j, x in enumerate(xs)]


def crop_tags(label, num_classes, threshold):
    """Sorted class ids covering at least ``threshold`` of the label's pixels."""
    counts = np.bincount(label.ravel(), minlength=256)[:num_classes]
    return [int(c) for c in np.flatnonzero(counts >= threshold * label.size)]


def _read(path, flags):
    img = cv2.imread(path, flags)
    if img is None:
        raise SystemExit(f'cannot read {path} (missing or not an image)')
    return img


def main(argv=None):
    args = parse_args(argv)
    root, split, c = args.data_root, args.split, args.num_classes
    names = [row[0] for row in read_list_file(osp.join(root, f'{split}.txt'), max_fields=1,
                                              what='CamVid list file')]
    dirs = {k: osp.join(args.out_dir, k, split) for k in ('images', 'labels', 'unlabeled')}
    for d in dirs.values():
        os.makedirs(d, exist_ok=True)
    tags, crops = {}, []
    frame_counts = np.zeros(c, np.int64)
    for name in names:
        img = _read(osp.join(root, 'images', split, name + '.jpg'), cv2.IMREAD_COLOR)
        label = _read(osp.join(root, 'labels', split, name + '.png'), cv2.IMREAD_UNCHANGED)
        if label.ndim != 2 or label.shape != img.shape[:2]:
            raise SystemExit(f'label of {name} has shape {label.shape}, the image '
                             f'{img.shape[:2]}: expected one 8-bit class map of the image size')
        bad = np.setdiff1d(np.unique(label), np.r_[np.arange(c), 255])
        if bad.size:
            raise SystemExit(f'label of {name} holds values {bad.tolist()}, expected 0..{c - 1} '
                             'or 255')
        frame_counts[crop_tags(label, c, 1e-12)] += 1  # any pixel
        for i, j, y, x, ch, cw in crop_boxes(*label.shape, args.grid, args.crop_fraction):
            crop = f'{name}_y{i}x{j}'
            lab = label[y:y + ch, x:x + cw]
            cv2.imwrite(osp.join(dirs['images'], crop + '.png'), img[y:y + ch, x:x + cw])
            cv2.imwrite(osp.join(dirs['labels'], crop + '.png'), lab)
            cv2.imwrite(osp.join(dirs['unlabeled'], crop + '.png'),
                        np.full(lab.shape, c, np.uint8))
            tags[crop] = crop_tags(lab, c, args.threshold)
            crops.append(crop)
    with open(osp.join(args.out_dir, f'{split}.txt'), 'w') as f:
        f.write('\n'.join(crops) + '\n')
    with open(osp.join(args.out_dir, f'{split}_tags.json'), 'w') as f:
        json.dump(tags, f, indent=0, sort_keys=True)
    crop_counts = np.zeros(c, np.int64)
    for ids in tags.values():
        crop_counts[ids] += 1
    classes = CAMVID_CLASSES if c == len(CAMVID_CLASSES) else tuple(map(str, range(c)))
    print(f'{len(crops)} crops of {len(names)} frames ({split}), tag threshold '
          f'{args.threshold:g} of the crop; mean tags per crop '
          f'{crop_counts.sum() / max(len(crops), 1):.2f}')
    print(f'{"class":<12} {"crops %":>8} {"frames %":>9}')
    for k, name in enumerate(classes):
        print(f'{name:<12} {100 * crop_counts[k] / max(len(crops), 1):>8.1f} '
              f'{100 * frame_counts[k] / max(len(names), 1):>9.1f}')
    print(f'wrote {args.out_dir}: images/, unlabeled/, labels/ (evaluation only), '
          f'{split}.txt, {split}_tags.json')


if __name__ == '__main__':
    main()
