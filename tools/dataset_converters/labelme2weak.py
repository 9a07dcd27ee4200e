"""Convert LabelMe annotations (one JSON file per image) into weak labels for WeakSegDataset.

Shapes (``shape_type``): ``point`` -> points (a disk of ``--radius``), ``line`` and
``linestrip`` -> scribbles (a polyline of ``--width`` pixels), ``rectangle`` -> boxes,
``polygon`` -> a dense region (``--polygon box``: its bounding box). Image-level ``flags`` that
are true -> image tags (flags that are false tag nothing). The shape label ``__ignore__``
(``--ignore-label``) writes 255. The image is ``imagePath`` relative to the JSON file (or its
file name in ``--img-dir``); its size must match ``imageWidth``/``imageHeight``.

Output: the layout of :mod:`mmspml.datasets.weak_labels.annotations` (``OUT/classes.txt``,
``OUT/{split}.txt``, ``OUT/{split}_tags.json``, ``OUT/images/{split}/``,
``OUT/labels/{split}/``) and a summary. See docs/train_on_your_data.md.

Example::

    python tools/dataset_converters/labelme2weak.py data/my_labelme --out data/my_weak \
        --classes sky,building,road,car --width 3 --radius 2
"""
import argparse
import glob
import os.path as osp

from mmspml.datasets.weak_labels.annotations import (AnnotationError, ImageAnnotation, Shape,
                                                     add_common_args, check_points, class_table,
                                                     convert, read_json, run_cli)

PROG = 'labelme2weak'
# shape_type -> (kind, least points, exact number of points or None)
SHAPE_TYPES = {
    'point': ('points', 1, 1),
    'line': ('scribbles', 2, 2),
    'linestrip': ('scribbles', 2, None),
    'rectangle': ('boxes', 2, 2),
    'polygon': ('regions', 3, None),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert LabelMe JSON files into weak labels (WeakSegDataset layout).')
    parser.add_argument('inputs', nargs='+',
                        help='LabelMe JSON files or folders of them (*.json, not recursive)')
    parser.add_argument('--img-dir', default=None,
                        help='look for the images here (by file name) instead of at imagePath '
                        'relative to each JSON file')
    add_common_args(parser)
    return parser.parse_args(argv)


def list_json(inputs):
    files = []
    for item in inputs:
        if osp.isdir(item):
            found = sorted(glob.glob(osp.join(item, '*.json')))
            if not found:
                raise AnnotationError(f'{item}: no *.json file in this folder')
            files += found
        elif osp.isfile(item):
            files.append(item)
        else:
            raise FileNotFoundError(f'{item!r} is neither a JSON file nor a folder')
    return files


def _int(value, where):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise AnnotationError(f'{where}: expected a positive integer, got {value!r}')
    return value


def read_labelme(path: str, img_dir=None) -> ImageAnnotation:
    """One LabelMe file as an :class:`ImageAnnotation` (every field checked, errors name the
    file and the shape)."""
    data = read_json(path)
    if not isinstance(data, dict):
        raise AnnotationError(f'{path}: expected a LabelMe JSON object, got '
                              f'{type(data).__name__}')
    if not data:
        raise AnnotationError(f'{path}: empty annotation file')
    image_path = data.get('imagePath')
    if not isinstance(image_path, str) or not image_path:
        raise AnnotationError(f'{path}: imagePath is missing (the image file of the annotation)')
    image_path = image_path.replace('\\', '/')  # LabelMe on Windows
    if img_dir is not None:
        image_path = osp.join(img_dir, osp.basename(image_path))
    else:
        image_path = osp.normpath(osp.join(osp.dirname(path), image_path))
    size = None
    if data.get('imageHeight') is not None or data.get('imageWidth') is not None:
        size = (_int(data.get('imageHeight'), f'{path}: imageHeight'),
                _int(data.get('imageWidth'), f'{path}: imageWidth'))
    flags = data.get('flags') or {}
    if not isinstance(flags, dict):
        raise AnnotationError(f'{path}: flags must be an object {{name: true/false}}, got '
                              f'{flags!r}')
    tags = [name for name, on in flags.items() if on is True]
    shapes_in = data.get('shapes', [])
    if not isinstance(shapes_in, list):
        raise AnnotationError(f'{path}: shapes must be a list, got {type(shapes_in).__name__}')
    shapes = []
    for i, sh in enumerate(shapes_in):
        if not isinstance(sh, dict):
            raise AnnotationError(f'{path}: shape {i}: expected an object, got {sh!r}')
        shape_type = sh.get('shape_type') or 'polygon'  # LabelMe's default
        where = f'shape {i} ({shape_type})'
        if shape_type not in SHAPE_TYPES:
            raise AnnotationError(f'{path}: {where}: shape_type {shape_type!r} is not '
                                  f'supported (supported: {", ".join(SHAPE_TYPES)})')
        label = sh.get('label')
        if not isinstance(label, str) or not label:
            raise AnnotationError(f'{path}: {where}: label must be a non-empty string, got '
                                  f'{label!r}')
        kind, n_min, n_exact = SHAPE_TYPES[shape_type]
        points = check_points(sh.get('points'), n_min, f'{path}: {where}')
        if n_exact is not None and len(points) != n_exact:
            raise AnnotationError(f'{path}: {where}: expected {n_exact} points, got '
                                  f'{len(points)}')
        shapes.append(Shape(kind, label, points, where, polygon=shape_type == 'polygon'))
    name = osp.splitext(osp.basename(path))[0]
    return ImageAnnotation(name=name, source=path, image_path=image_path, size=size,
                           shapes=shapes, tags=tags)


def main(argv=None):
    args = parse_args(argv)
    table = class_table(args)
    files = list_json(args.inputs)
    return convert((read_labelme(f, args.img_dir) for f in files), args, table, PROG)


if __name__ == '__main__':
    run_cli(main)
