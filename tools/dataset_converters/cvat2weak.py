"""Convert a "CVAT for images 1.1" XML export into weak labels for WeakSegDataset.

Elements of each ``<image name width height>``: ``<points>`` -> points (every point of the
element; a disk of ``--radius``), ``<polyline>`` -> scribbles (``--width`` pixels), ``<box>`` ->
boxes, ``<polygon>`` -> a dense region (``--polygon box``: its bounding box), ``<tag>`` -> image
tags. Within a kind, shapes are drawn by ``z_order``, then in file order. Other elements
(``mask``, ``ellipse``, ``cuboid``, ``skeleton``) and video tracks are errors. The class names are
the task's (or project's) labels in the file's ``<meta>``, unless ``--classes`` /
``--classes-file`` give them; the label ``__ignore__`` (``--ignore-label``) writes 255.
Images are ``IMG_DIR/<name>`` (default: the ``images`` folder beside the XML file, as CVAT
exports it); names with folders become ``folder__file``.

Example::

    python tools/dataset_converters/cvat2weak.py export/annotations.xml --out data/my_weak \
        --width 3 --radius 2
"""
import argparse
import os.path as osp
import xml.etree.ElementTree as ET

from mmspml.datasets.weak_labels.annotations import (AnnotationError, ImageAnnotation, Shape,
                                                     add_common_args, check_points, class_table,
                                                     convert, run_cli)

PROG = 'cvat2weak'
ELEMENTS = {'points': 'points', 'polyline': 'scribbles', 'box': 'boxes', 'polygon': 'regions'}
LEAST_POINTS = {'points': 1, 'polyline': 2, 'polygon': 3}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert a CVAT for images 1.1 XML file into weak labels '
        '(WeakSegDataset layout).')
    parser.add_argument('xml', help='the annotations.xml of a CVAT for images 1.1 export')
    parser.add_argument('--img-dir', default=None,
                        help='folder of the images (default: images/ beside the XML file)')
    add_common_args(parser)
    return parser.parse_args(argv)


def parse_xml(path: str) -> ET.Element:
    if not osp.isfile(path):
        raise FileNotFoundError(f'annotation file {path!r} does not exist')
    if osp.getsize(path) == 0 or not open(path, 'rb').read().strip():
        raise AnnotationError(f'{path}: empty annotation file')
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise AnnotationError(f'{path}: not valid XML ({exc})') from None
    if root.tag != 'annotations':
        raise AnnotationError(f'{path}: root element <{root.tag}>, expected <annotations> '
                              '(CVAT for images 1.1)')
    if root.find('track') is not None:
        raise AnnotationError(f'{path}: has <track> elements (CVAT for video); export the '
                              'task as "CVAT for images 1.1"')
    if root.find('image') is None:
        raise AnnotationError(f'{path}: empty annotation file (no <image> element)')
    return root


def meta_labels(root: ET.Element):
    """Label names of ``<meta>`` (task, project or job), in file order."""
    for where in ('meta/task/labels', 'meta/project/labels', 'meta/job/labels'):
        labels = root.find(where)
        if labels is not None:
            names = [el.findtext('name') for el in labels.findall('label')]
            return [n for n in names if n]
    return []


def _float(el, key, where):
    try:
        return float(el.attrib[key])
    except (KeyError, ValueError):
        raise AnnotationError(f'{where}: attribute {key}={el.attrib.get(key)!r} is not a '
                              'number') from None


def _points(text, n_min, where):
    try:
        pts = [[float(v) for v in p.split(',')] for p in (text or '').split(';') if p.strip()]
    except ValueError:
        pts = text
    return check_points(pts, n_min, where)


def read_image(el: ET.Element, path: str, img_dir: str) -> ImageAnnotation:
    name = el.attrib.get('name')
    where_img = f'{path}: <image id={el.attrib.get("id")!r} name={name!r}>'
    if not name:
        raise AnnotationError(f'{where_img}: no name attribute')
    size = (int(_float(el, 'height', where_img)), int(_float(el, 'width', where_img)))
    shapes, tags = [], []
    for i, child in enumerate(el):
        where = f'<image name={name!r}> element {i} <{child.tag}>'
        label = child.attrib.get('label')
        if child.tag not in ELEMENTS and child.tag != 'tag':
            raise AnnotationError(f'{path}: {where}: not supported (supported: '
                                  f'{", ".join(list(ELEMENTS) + ["tag"])})')
        if not label:
            raise AnnotationError(f'{path}: {where}: no label attribute')
        if child.tag == 'tag':
            tags.append(label)
            continue
        z = int(_float(child, 'z_order', f'{path}: {where}')) if 'z_order' in child.attrib else 0
        if child.tag == 'box':
            pts = [[_float(child, 'xtl', f'{path}: {where}'),
                    _float(child, 'ytl', f'{path}: {where}')],
                   [_float(child, 'xbr', f'{path}: {where}'),
                    _float(child, 'ybr', f'{path}: {where}')]]
            shapes.append((z, i, Shape('boxes', label, pts, where)))
        elif child.tag == 'points':
            pts = _points(child.attrib.get('points'), 1, f'{path}: {where}')
            shapes += [(z, i, Shape('points', label, [p], f'{where} point {j}'))
                       for j, p in enumerate(pts)]
        else:
            pts = _points(child.attrib.get('points'), LEAST_POINTS[child.tag],
                          f'{path}: {where}')
            shapes.append((z, i, Shape(ELEMENTS[child.tag], label, pts, where,
                                       polygon=child.tag == 'polygon')))
    shapes.sort(key=lambda t: (t[0], t[1]))  # z_order, then file order
    return ImageAnnotation(name=osp.splitext(name.replace('\\', '/'))[0].replace('/', '__'),
                           source=path, image_path=osp.join(img_dir, name), size=size,
                           shapes=[s for _, _, s in shapes], tags=tags)


def main(argv=None):
    args = parse_args(argv)
    root = parse_xml(args.xml)
    table = class_table(args, meta_labels(root), f'{args.xml} <meta> labels')
    img_dir = args.img_dir or osp.join(osp.dirname(args.xml), 'images')
    if not osp.isdir(img_dir):
        raise FileNotFoundError(f'image folder {img_dir!r} does not exist (--img-dir)')
    images = (read_image(el, args.xml, img_dir) for el in root.iter('image'))
    return convert(images, args, table, PROG)


if __name__ == '__main__':
    run_cli(main)
