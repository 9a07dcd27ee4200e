"""The common part of the annotation converters (``tools/dataset_converters/*2weak.py``).

Each converter reads one annotation tool's files into :class:`ImageAnnotation` records (shapes
with class names and continuous coordinates, image-level tags); everything after that is here:
class names, validation, rasterisation (:mod:`.rasterise`, the simulators' functions), the
output layout and the summary.

Output layout (``OUT``; read by :class:`~mmspml.datasets.WeakSegDataset` with
``configs/_base_/datasets/weak_folder.py``)::

    OUT/classes.txt                    one class name a line; line i is class id i
    OUT/{split}.txt                    "images/{split}/NAME.EXT labels/{split}/NAME.png" a line
    OUT/{split}_tags.json              {"NAME": [class ids]}: image-level tags
    OUT/images/{split}/NAME.EXT        the image (copied, or a symbolic link)
    OUT/labels/{split}/NAME.png        uint8 weak label: class ids, the unlabeled index, 255

Label values: ``0..C-1`` classes, the unlabeled index ``U`` (default ``C``) where nothing was
annotated, 255 only where a shape of the ignore label (``__ignore__``, LabelMe's convention) was
drawn. Painting order: boxes (largest first; with a background class, pixels outside every box of
an image that has boxes are background: the box convention of SPML's VOC box labels and of
``simulate_boxes``), then regions, scribbles and points in file order, then ignore shapes.
Tags are the classes of the image's shapes, the classes present in its label and its image-level
tags.
"""
import argparse
import json
import os
import os.path as osp
import shutil
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from .label_checks import IGNORE_INDEX, check_label
from .rasterise import (box_to_bounds, draw_disks, line_pixels, paint_boxes, points_to_pixels,
                        polygon_mask, scribble_radius)

KINDS = ('points', 'scribbles', 'boxes', 'regions', 'tags')
SHAPE_KINDS = KINDS[:4]
IGNORE_LABEL = '__ignore__'


class AnnotationError(ValueError):
    """Bad annotation input; the message names the file (and the shape)."""


@dataclass
class Shape:
    """One annotated shape.

    Attributes:
        kind (str): ``'points'``, ``'scribbles'``, ``'boxes'`` or ``'regions'``.
        label (str): class name as written in the file.
        points (list): ``[[x, y], ...]`` continuous image coordinates (a box: two corners).
        where (str): how messages name the shape, e.g. ``'shape 3 (polygon)'``.
        mask (np.ndarray, optional): bool [H, W] of a region given as pixels (COCO
            segmentation); ``points`` then only serve the outside check (may be empty).
        polygon (bool): a region from a polygon (``--polygon box`` turns it into its box).
    """
    kind: str
    label: str
    points: list
    where: str
    mask: Optional[np.ndarray] = None
    polygon: bool = False


@dataclass
class ImageAnnotation:
    """The annotation of one image.

    Attributes:
        name (str): sample name (output file stem).
        source (str): the annotation file, for messages.
        image_path (str): the image file.
        size (tuple, optional): ``(H, W)`` the annotation declares; checked against the image.
        shapes (list[Shape]): in file order.
        tags (list[str]): image-level class names.
        label (np.ndarray, optional): a ready uint8 label (painted scribbles); no shapes then.
        counts (Counter): added to the summary's shape counts (what a reader counted itself:
            the strokes of a painted label, skipped crowd annotations).
    """
    name: str
    source: str
    image_path: str
    size: Optional[Tuple[int, int]] = None
    shapes: List[Shape] = field(default_factory=list)
    tags: List[str] = field(default_factory=list)
    label: Optional[np.ndarray] = None
    counts: Counter = field(default_factory=Counter)


# ----------------------------------------------------------------------------------- classes
class ClassTable:
    """Class names -> ids; ``ignore_label`` -> 255; anything else is an error naming the file,
    the shape and the known names."""

    def __init__(self, names: Sequence[str], ignore_label: str = IGNORE_LABEL,
                 what: str = 'classes') -> None:
        names = [str(n) for n in names]
        if not names:
            raise AnnotationError(f'{what}: no class names')
        if len(names) >= IGNORE_INDEX:
            raise AnnotationError(f'{what}: {len(names)} classes; at most 254 fit an 8-bit '
                                  'label with the unlabeled index')
        dup = sorted(n for n, c in Counter(names).items() if c > 1)
        if dup:
            raise AnnotationError(f'{what}: class names {dup} appear more than once')
        bad = [n for n in names if not n.strip() or n != n.strip()]
        if bad:
            raise AnnotationError(f'{what}: empty class name or surrounding spaces: {bad!r}')
        if ignore_label in names:
            raise AnnotationError(f'{what}: {ignore_label!r} is the ignore label, not a class '
                                  '(--ignore-label names another)')
        self.names = names
        self.ignore_label = ignore_label
        self._ids = {n: i for i, n in enumerate(names)}

    def __len__(self) -> int:
        return len(self.names)

    def index(self, name: str, where: str) -> int:
        if name == self.ignore_label:
            return IGNORE_INDEX
        if name not in self._ids:
            raise AnnotationError(
                f'{where}: label {name!r} is not a class; known: {", ".join(self.names)} '
                f'(and {self.ignore_label!r} for ignore)')
        return self._ids[name]


def read_classes_file(path: str) -> List[str]:
    """Class names, one a line (blank lines skipped)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'classes file {path!r} does not exist')
    with open(path, encoding='utf-8') as f:
        names = [line.strip() for line in f if line.strip()]
    if not names:
        raise AnnotationError(f'classes file {path!r} is empty')
    return names


def class_table(args, default: Optional[Sequence[str]] = None,
                default_what: str = 'classes') -> ClassTable:
    """The class table from ``--classes`` / ``--classes-file``, else ``default`` (the names the
    annotation file declares); an error if there is neither."""
    if args.classes and args.classes_file:
        raise AnnotationError('give --classes or --classes-file, not both')
    if args.classes:
        names, what = [n.strip() for n in args.classes.split(',')], '--classes'
    elif args.classes_file:
        names, what = read_classes_file(args.classes_file), args.classes_file
    elif default:
        names, what = list(default), default_what
    else:
        raise AnnotationError('the class names are needed: --classes a,b,c or '
                              '--classes-file FILE (one name a line; line i = class id i)')
    return ClassTable(names, args.ignore_label, what)


# ----------------------------------------------------------------------------------- options
def add_common_args(parser: argparse.ArgumentParser, geometry: bool = True) -> None:
    """Options every converter shares (``geometry=False``: the painted-label converter, which
    draws nothing)."""
    parser.add_argument('--out', required=True, help='output directory (the dataset root)')
    parser.add_argument('--split', default='train', help='split name (default: train)')
    parser.add_argument('--classes', default=None,
                        help='class names in id order, comma-separated')
    parser.add_argument('--classes-file', default=None,
                        help='class names in id order, one a line')
    parser.add_argument('--ignore-label', default=IGNORE_LABEL,
                        help=f'label name of "ignore" shapes, written as 255 (default '
                        f'{IGNORE_LABEL})')
    parser.add_argument('--unlabeled-index', type=int, default=None,
                        help='value of unannotated pixels (default: the number of classes)')
    parser.add_argument('--symlink-images', action='store_true',
                        help='link the images into OUT instead of copying them')
    if not geometry:
        return
    parser.add_argument('--kinds', default=','.join(KINDS),
                        help=f'annotation kinds to import, comma-separated (default: all of '
                        f'{",".join(KINDS)})')
    parser.add_argument('--width', type=int, default=3,
                        help='scribbles: line width in pixels (default 3, as the simulator)')
    parser.add_argument('--radius', type=float, default=0,
                        help='points: disk radius in pixels (default 0: one pixel)')
    parser.add_argument('--polygon', choices=('region', 'box'), default='region',
                        help='a polygon labels its inside (region, default) or is taken as '
                        'its bounding box (box)')
    parser.add_argument('--background', default=None,
                        help='class of the pixels outside every box of an image with boxes '
                        '(default: the class named background or _background_ if there is '
                        'one; otherwise those pixels stay unlabeled)')
    parser.add_argument('--outside', choices=('error', 'clip'), default='error',
                        help='a shape reaching outside its image is an error (default) or is '
                        'clipped to the image and counted')


@dataclass
class RenderOptions:
    kinds: Tuple[str, ...] = KINDS
    width: int = 3
    radius: float = 0
    polygon: str = 'region'
    background: Optional[int] = None
    outside: str = 'error'
    unlabeled: int = 0


def render_options(args, table: ClassTable) -> RenderOptions:
    """Check the shared options and resolve names (messages name the option)."""
    unlabeled = len(table) if args.unlabeled_index is None else args.unlabeled_index
    if not len(table) <= unlabeled < IGNORE_INDEX:
        raise AnnotationError(f'--unlabeled-index {unlabeled}: must be >= the number of classes '
                              f'({len(table)}) and < 255')
    if not hasattr(args, 'kinds'):
        return RenderOptions(unlabeled=unlabeled)
    kinds = tuple(k.strip() for k in args.kinds.split(',') if k.strip())
    bad = [k for k in kinds if k not in KINDS]
    if bad or not kinds:
        raise AnnotationError(f'--kinds {args.kinds!r}: expected some of {", ".join(KINDS)}')
    scribble_radius(args.width)  # checks the width
    if not args.radius >= 0:
        raise AnnotationError(f'--radius {args.radius}: must be >= 0')
    if args.background is not None:
        background = table.index(args.background, '--background')
        if background == IGNORE_INDEX:
            raise AnnotationError('--background must name a class, not the ignore label')
    else:
        auto = [n for n in ('background', '_background_') if n in table.names]
        background = table.names.index(auto[0]) if auto else None
    return RenderOptions(kinds, args.width, args.radius, args.polygon, background, args.outside,
                         unlabeled)


# -------------------------------------------------------------------------------- rendering
def _outside(points, hw: Tuple[int, int]):
    """The first point outside the closed image rectangle ``[0, W] x [0, H]``, or None."""
    h, w = hw
    for x, y in points:
        if not (0 <= x <= w and 0 <= y <= h):
            return x, y
    return None


def _box_bounds(shape: Shape, hw: Tuple[int, int]) -> Tuple[int, int, int, int]:
    """Half-open pixel bounds ``(c0, r0, c1, r1)`` of a box shape, clipped to the image."""
    pts = np.asarray(shape.points, np.float64).reshape(-1, 2)
    c0, r0, c1, r1 = box_to_bounds(pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(),
                                   pts[:, 1].max())
    return max(c0, 0), max(r0, 0), min(c1, hw[1]), min(r1, hw[0])


def _shape_mask(shape: Shape, hw: Tuple[int, int], opts: RenderOptions) -> np.ndarray:
    """bool [H, W]: the pixels of one shape, clipped to the image."""
    if shape.kind == 'points':
        return draw_disks(points_to_pixels(shape.points, hw), hw, opts.radius)
    if shape.kind == 'scribbles':
        pixels = line_pixels(points_to_pixels(shape.points, hw))
        return draw_disks(pixels, hw, scribble_radius(opts.width))
    if shape.kind == 'boxes':
        c0, r0, c1, r1 = _box_bounds(shape, hw)
        mask = np.zeros(hw, bool)
        mask[r0:r1, c0:c1] = True
        return mask
    if shape.mask is not None:  # the annotation's own size, checked against the image
        return shape.mask.astype(bool)
    return polygon_mask(shape.points, hw)


_ORDER = dict(boxes=0, regions=1, scribbles=2, points=3)  # painting order of the kinds


def render(ann: ImageAnnotation, hw: Tuple[int, int], table: ClassTable, opts: RenderOptions,
           counts: Counter) -> Tuple[np.ndarray, List[int]]:
    """The weak label (uint8 [H, W]) and the sorted tag ids of one image; ``counts`` gains the
    shapes per kind, clipped shapes and shapes that cover no pixel."""
    h, w = hw
    out = np.full(hw, opts.unlabeled, np.uint8)
    image_tags = {table.index(t, f'{ann.source}: image tag') for t in ann.tags}
    if IGNORE_INDEX in image_tags:
        raise AnnotationError(f'{ann.source}: {table.ignore_label!r} cannot be an image tag')
    if 'tags' in opts.kinds:
        tags = image_tags
        counts['tags'] += len(ann.tags)
    else:
        tags = set()
        counts['not imported (--kinds)'] += len(ann.tags)
    items = []  # (shape, class id); every shape checked before any is drawn
    for shape in ann.shapes:
        where = f'{ann.source}: {shape.where}'
        shape.where = where
        if shape.kind == 'regions' and shape.polygon and opts.polygon == 'box':
            shape.kind = 'boxes'
        if shape.kind not in opts.kinds:
            counts['not imported (--kinds)'] += 1
            continue
        cls = table.index(shape.label, where)
        bad = _outside(shape.points, hw)
        if bad is not None:
            if opts.outside == 'error':
                raise AnnotationError(
                    f'{where}, label {shape.label!r}: point ({bad[0]:g}, {bad[1]:g}) lies '
                    f'outside the image ({w}x{h}; {ann.image_path}); --outside clip clips '
                    'such shapes')
            counts['clipped'] += 1
        counts[shape.kind] += 1
        items.append((shape, cls))
    # boxes (largest first, over the background), regions, scribbles, points, then ignore
    items.sort(key=lambda it: (it[1] == IGNORE_INDEX, _ORDER[it[0].kind]))
    boxes = [(cls, ) + _box_bounds(shape, hw) for shape, cls in items
             if shape.kind == 'boxes' and cls != IGNORE_INDEX]
    if boxes and opts.background is not None:
        out[:] = opts.background
    paint_boxes(out, boxes)
    for shape, cls in items:
        if shape.kind == 'boxes' and cls != IGNORE_INDEX:
            c0, r0, c1, r1 = _box_bounds(shape, hw)
            drawn = c1 > c0 and r1 > r0
        else:
            mask = _shape_mask(shape, hw, opts)
            drawn = bool(mask.any())
            out[mask] = cls
        if not drawn:
            counts['covering no pixel'] += 1
        elif cls != IGNORE_INDEX:
            tags.add(cls)
    values = np.unique(out)
    tags |= {int(v) for v in values if v < len(table)}
    return out, sorted(tags)


# ----------------------------------------------------------------------------------- images
def image_size(path: str, source: str) -> Tuple[int, int]:
    """``(H, W)`` of an image as the training pipeline decodes it (OpenCV, colour)."""
    if not osp.isfile(path):
        raise AnnotationError(f'{source}: image file {path!r} does not exist')
    img = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise AnnotationError(f'{source}: image file {path!r} cannot be decoded')
    return img.shape[:2]


def check_size(ann: ImageAnnotation, hw: Tuple[int, int]) -> None:
    if ann.size is not None and tuple(int(v) for v in ann.size) != tuple(hw):
        raise AnnotationError(
            f'{ann.source}: the annotation is for a {ann.size[1]}x{ann.size[0]} image but the '
            f'image {ann.image_path!r} is {hw[1]}x{hw[0]} (w x h)')


# ----------------------------------------------------------------------------------- layout
class LayoutWriter:
    """Writes the output layout of one split (see the module docstring)."""

    def __init__(self, out: str, split: str, table: ClassTable, unlabeled: int,
                 symlink_images: bool = False) -> None:
        if not split or '/' in split or split != split.strip():
            raise AnnotationError(f'--split {split!r}: expected a plain name')
        self.out, self.split, self.table = out, split, table
        self.unlabeled, self.symlink = unlabeled, symlink_images
        self.img_dir = osp.join(out, 'images', split)
        self.label_dir = osp.join(out, 'labels', split)
        classes_path = osp.join(out, 'classes.txt')
        if osp.isfile(classes_path):
            old = read_classes_file(classes_path)
            if old != table.names:
                raise AnnotationError(
                    f'{classes_path} lists other classes ({", ".join(old)}) than this '
                    f'conversion ({", ".join(table.names)}); convert every split with the same '
                    f'classes (--classes-file {classes_path}) or use another --out')
        self.classes_path = classes_path
        os.makedirs(self.img_dir, exist_ok=True)
        os.makedirs(self.label_dir, exist_ok=True)
        self.rows: List[str] = []
        self.tags: Dict[str, List[int]] = {}
        self.sources: Dict[str, str] = {}

    def add(self, ann: ImageAnnotation, label: np.ndarray, tags: List[int]) -> None:
        name = ann.name
        if not name or '/' in name or name.startswith('.'):
            raise AnnotationError(f'{ann.source}: sample name {name!r} is not a plain file name')
        if name in self.sources:
            raise AnnotationError(f'{ann.source}: sample name {name!r} is also the name of '
                                  f'{self.sources[name]}; names must be unique in a split')
        self.sources[name] = ann.source
        check_label(label, len(self.table), self.unlabeled, name=f'{ann.source}: label')
        ext = osp.splitext(ann.image_path)[1].lower() or '.png'
        img_rel = f'images/{self.split}/{name}{ext}'
        dst = osp.join(self.out, img_rel)
        if osp.lexists(dst):
            os.remove(dst)
        if self.symlink:
            os.symlink(osp.abspath(ann.image_path), dst)
        else:
            shutil.copyfile(ann.image_path, dst)
        label_rel = f'labels/{self.split}/{name}.png'
        if not cv2.imwrite(osp.join(self.out, label_rel), label):
            raise OSError(f'{osp.join(self.out, label_rel)}: cannot be written')
        self.rows.append(f'{img_rel} {label_rel}')
        self.tags[name] = [int(t) for t in tags]

    def finish(self) -> Tuple[str, str]:
        """Write the class names, list and tags files (only once every image was written, so a
        conversion stopped by an error leaves no list file behind)."""
        with open(self.classes_path, 'w', encoding='utf-8') as f:
            f.write('\n'.join(self.table.names) + '\n')
        list_path = osp.join(self.out, f'{self.split}.txt')
        tags_path = osp.join(self.out, f'{self.split}_tags.json')
        with open(list_path, 'w', encoding='utf-8') as f:
            f.write('\n'.join(self.rows) + '\n')
        with open(tags_path, 'w', encoding='utf-8') as f:  # one image a line
            f.write('{\n' + ',\n'.join(f'{json.dumps(n)}: {json.dumps(t)}'
                                        for n, t in sorted(self.tags.items())) + '\n}\n')
        return list_path, tags_path


# ---------------------------------------------------------------------------------- summary
def format_summary(prog: str, summary: dict) -> str:
    """The printed summary: images, shapes per kind, labeled-pixel fraction per class."""
    lines = [f'{prog}: {summary["images"]} images -> {summary["list_file"]} '
             f'({summary["skipped"]} without annotation skipped)']
    shapes = summary['shapes']
    lines.append('shapes: ' + ', '.join(f'{k} {shapes.get(k, 0)}' for k in KINDS))
    extra = {k: v for k, v in shapes.items() if k not in KINDS}
    if extra:
        lines.append('        ' + ', '.join(f'{k} {v}' for k, v in sorted(extra.items())))
    total = max(summary['pixels'], 1)
    lines.append(f'{"class":<20} {"id":>3} {"labeled %":>10} {"images":>7}')
    for i, name in enumerate(summary['classes']):
        lines.append(f'{name:<20} {i:>3} {100 * summary["class_pixels"][i] / total:>10.3f} '
                     f'{summary["class_images"][i]:>7}')
    lines.append(f'{"(unlabeled)":<20} {summary["unlabeled_index"]:>3} '
                 f'{100 * summary["unlabeled_pixels"] / total:>10.3f}')
    lines.append(f'{"(ignore)":<20} {IGNORE_INDEX:>3} '
                 f'{100 * summary["ignore_pixels"] / total:>10.3f}')
    return '\n'.join(lines)


def convert(annotations: Iterable[ImageAnnotation], args, table: ClassTable,
            prog: str) -> dict:
    """Render (or take the ready label of) every annotation, write the layout, print the
    summary and return it as a dict."""
    opts = render_options(args, table)
    writer = LayoutWriter(args.out, args.split, table, opts.unlabeled, args.symlink_images)
    counts = Counter()
    hist = np.zeros(256, np.int64)
    class_images = np.zeros(len(table), np.int64)
    images = skipped = 0
    for ann in annotations:
        counts.update(ann.counts)
        if ann.label is None and not ann.shapes and not ann.tags:
            skipped += 1
            continue
        hw = image_size(ann.image_path, ann.source)
        check_size(ann, hw)
        if ann.label is not None:
            label = ann.label
            tags = sorted({int(v) for v in np.unique(label) if v < len(table)})
        else:
            label, tags = render(ann, hw, table, opts, counts)
        writer.add(ann, label, tags)
        hist += np.bincount(label.ravel(), minlength=256)
        class_images[[t for t in tags if t < len(table)]] += 1
        images += 1
    if images == 0:
        raise AnnotationError(f'no annotated image found ({skipped} without annotation)')
    list_path, tags_path = writer.finish()
    summary = dict(images=images, skipped=skipped, list_file=list_path, tags_file=tags_path,
                   shapes=dict(counts), classes=list(table.names),
                   class_pixels=hist[:len(table)].tolist(), class_images=class_images.tolist(),
                   unlabeled_index=opts.unlabeled, unlabeled_pixels=int(hist[opts.unlabeled]),
                   ignore_pixels=int(hist[IGNORE_INDEX]), pixels=int(hist.sum()))
    print(format_summary(prog, summary))
    return summary


def run_cli(main: Callable, argv=None) -> None:
    """Run a converter's ``main``; bad input ends with one line naming the file."""
    try:
        main(argv)
    except (ValueError, OSError) as exc:
        sys.exit(f'{osp.basename(sys.argv[0])}: error: {exc}')


def read_json(path: str):
    """JSON content of an annotation file; empty or invalid files are errors naming it."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'annotation file {path!r} does not exist')
    with open(path, encoding='utf-8') as f:
        text = f.read()
    if not text.strip():
        raise AnnotationError(f'{path}: empty annotation file')
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise AnnotationError(f'{path}: not valid JSON ({exc})') from None


def check_points(points, n_min: int, where: str) -> list:
    """``[[x, y], ...]`` of finite numbers with at least ``n_min`` points."""
    ok = isinstance(points, (list, tuple)) and len(points) >= n_min
    if ok:
        try:
            arr = np.asarray(points, dtype=np.float64)
        except (TypeError, ValueError):
            ok = False
        else:
            ok = arr.ndim == 2 and arr.shape[1] == 2 and bool(np.isfinite(arr).all())
    if not ok:
        raise AnnotationError(f'{where}: expected at least {n_min} points [x, y] of finite '
                              f'numbers, got {points!r}'[:300])
    return arr.tolist()
