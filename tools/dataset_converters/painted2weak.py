"""Convert painted scribbles (PNGs painted over a blank canvas) into weak labels for
WeakSegDataset.

Each ``PAINT_DIR/NAME.png`` is an RGB, RGBA or palette PNG the size of its image
``IMG_DIR/NAME.{jpg,jpeg,png,bmp,tif,tiff}``, painted with one colour per class over a blank
canvas. ``--colors FILE`` is a JSON object ``{"class name": [R, G, B] or "#RRGGBB", ...}`` (the
name ``__ignore__``, ``--ignore-label``, writes 255). Pixels of the blank colour (``--blank``,
default black) or fully transparent pixels are unlabeled. A colour within ``--tolerance``
(largest channel difference) of a table colour takes the nearest one; any other colour is an
error naming the file, the colour and where it is (anti-aliased brushes leave such colours:
paint with a hard brush, or raise ``--tolerance``). The class names are the colour table's
in file order, unless ``--classes`` / ``--classes-file`` give them. The summary counts each
connected stroke of one colour as a scribble.

Example::

    python tools/dataset_converters/painted2weak.py data/my_paint --img-dir data/my_images \
        --colors colors.json --out data/my_weak
"""
import argparse
import glob
import os.path as osp
import re
from collections import Counter

import cv2
import numpy as np
from PIL import Image

from mmspml.datasets.weak_labels.annotations import (AnnotationError, ImageAnnotation,
                                                     add_common_args, class_table, convert,
                                                     read_json, render_options, run_cli)

PROG = 'painted2weak'
IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert painted scribble PNGs into weak labels (WeakSegDataset layout).')
    parser.add_argument('paint_dir', help='folder of the painted PNGs (NAME.png)')
    parser.add_argument('--img-dir', required=True, help='folder of the images (NAME.jpg, ...)')
    parser.add_argument('--colors', required=True,
                        help='JSON {"class name": [R, G, B] or "#RRGGBB"}')
    parser.add_argument('--blank', default='0,0,0',
                        help='colour of the unpainted canvas, R,G,B (default 0,0,0)')
    parser.add_argument('--tolerance', type=int, default=0,
                        help='largest channel difference to a table colour (default 0)')
    add_common_args(parser, geometry=False)
    return parser.parse_args(argv)


def parse_color(value, where):
    """``[R, G, B]``, ``"R,G,B"`` or ``"#RRGGBB"`` -> (R, G, B)."""
    rgb = None
    if isinstance(value, str) and re.fullmatch(r'#[0-9a-fA-F]{6}', value.strip()):
        v = value.strip()
        rgb = tuple(int(v[i:i + 2], 16) for i in (1, 3, 5))
    elif isinstance(value, str) and re.fullmatch(r'\s*\d+\s*,\s*\d+\s*,\s*\d+\s*', value):
        rgb = tuple(int(v) for v in value.split(','))
    elif (isinstance(value, list) and len(value) == 3
          and all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        rgb = tuple(value)
    if rgb is None or not all(0 <= v <= 255 for v in rgb):
        raise AnnotationError(f'{where}: colour {value!r} is not [R, G, B], "R,G,B" or '
                              '"#RRGGBB" with values 0..255')
    return rgb


def read_colors(path):
    data = read_json(path)
    if not isinstance(data, dict) or not data:
        raise AnnotationError(f'{path}: expected a non-empty JSON object '
                              '{"class name": [R, G, B], ...}')
    colors = {name: parse_color(value, f'{path}: {name!r}') for name, value in data.items()}
    seen = {}
    for name, rgb in colors.items():
        if rgb in seen:
            raise AnnotationError(f'{path}: {name!r} and {seen[rgb]!r} have the same colour '
                                  f'{rgb}')
        seen[rgb] = name
    return colors


def find_image(img_dir, name, source):
    tried = [osp.join(img_dir, name + ext) for ext in IMAGE_EXTS]
    for path in tried:
        if osp.isfile(path):
            return path
    raise AnnotationError(f'{source}: no image for it in {img_dir!r} (tried '
                          f'{", ".join(osp.basename(t) for t in tried)})')


def paint_to_label(path, colors, ids, blank, tolerance, unlabeled):
    """uint8 label of one painted PNG and its stroke count."""
    try:
        with Image.open(path) as im:
            rgba = np.asarray(im.convert('RGBA'))
    except (OSError, ValueError) as exc:
        raise AnnotationError(f'{path}: cannot be read as an image ({exc})') from None
    rgb = rgba[..., :3].astype(np.int64)
    packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    packed[rgba[..., 3] == 0] = -1  # transparent = blank
    values, inverse = np.unique(packed.ravel(), return_inverse=True)
    table = [(np.array(blank), unlabeled)] + [(np.array(rgb_), ids[name])
                                              for name, rgb_ in colors.items()]
    lut = np.empty(len(values), np.uint8)
    for i, v in enumerate(values):
        if v < 0:
            lut[i] = unlabeled
            continue
        colour = np.array([(v >> 16) & 255, (v >> 8) & 255, v & 255])
        diffs = [int(np.abs(colour - c).max()) for c, _ in table]
        best = int(np.argmin(diffs))
        if diffs[best] > tolerance:
            where = np.argwhere(packed == v)
            known = ', '.join(f'{n} {tuple(c)}' for n, c in colors.items())
            raise AnnotationError(
                f'{path}: {len(where)} pixels have colour {tuple(colour.tolist())}, which is '
                f'neither a class colour ({known}) nor the blank colour {tuple(blank)}; first '
                f'at (x={where[0][1]}, y={where[0][0]}) (an anti-aliased brush? paint with a '
                'hard brush or raise --tolerance)')
        lut[i] = table[best][1]
    label = lut[inverse].reshape(packed.shape)
    strokes = 0
    for cls in np.unique(label):
        if cls != unlabeled:
            n, _ = cv2.connectedComponents((label == cls).astype(np.uint8), connectivity=8)
            strokes += n - 1
    return label, strokes


def main(argv=None):
    args = parse_args(argv)
    colors = read_colors(args.colors)
    blank = parse_color(args.blank, '--blank')
    if not 0 <= args.tolerance <= 255:
        raise AnnotationError(f'--tolerance {args.tolerance}: must be in 0..255')
    table = class_table(args, [n for n in colors if n != args.ignore_label],
                        f'{args.colors} colour table')
    ids = {name: table.index(name, f'{args.colors}') for name in colors}
    if blank in colors.values():
        raise AnnotationError(f'--blank {blank} is also the colour of a class in {args.colors}')
    unlabeled = render_options(args, table).unlabeled
    if not osp.isdir(args.paint_dir):
        raise FileNotFoundError(f'folder {args.paint_dir!r} does not exist')
    files = sorted(glob.glob(osp.join(args.paint_dir, '*.png')))
    if not files:
        raise AnnotationError(f'{args.paint_dir}: no *.png file in this folder')

    def annotations():
        for path in files:
            name = osp.splitext(osp.basename(path))[0]
            label, strokes = paint_to_label(path, colors, ids, blank, args.tolerance, unlabeled)
            labeled = bool((label != unlabeled).any())
            yield ImageAnnotation(name=name, source=path,
                                  image_path=find_image(args.img_dir, name, path),
                                  size=label.shape, label=label if labeled else None,
                                  counts=Counter(scribbles=strokes))

    return convert(annotations(), args, table, PROG)


if __name__ == '__main__':
    run_cli(main)
