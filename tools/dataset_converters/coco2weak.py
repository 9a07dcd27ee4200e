"""Convert a COCO annotation file (read with pycocotools) into weak labels for WeakSegDataset.

Per annotation (the class is its category's name): ``bbox`` -> a box, ``keypoints`` -> points
(every keypoint with visibility > 0, a disk of ``--radius``; DensePose-style part points),
``segmentation`` (polygons or RLE, rasterised by pycocotools) -> a dense region (polygons with
``--polygon box``: their bounding box). ``--kinds`` picks what to import, e.g. ``--kinds
points`` for the keypoints of a keypoint file whose annotations also have boxes. Image tags are
the categories of the image's annotations. Crowd annotations (``iscrowd: 1``) are skipped and
counted. Class names: the categories in id order, unless ``--classes`` / ``--classes-file`` give
them (then every category must be one of them). Images: ``IMG_DIR/file_name``.

Example::

    python tools/dataset_converters/coco2weak.py instances_train.json --img-dir images/ \
        --out data/my_weak --kinds boxes,tags
"""
import argparse
import contextlib
import io
import math
import os.path as osp
from collections import Counter

from mmspml.datasets.weak_labels.annotations import (AnnotationError, ImageAnnotation, Shape,
                                                     add_common_args, check_points, class_table,
                                                     convert, read_json, run_cli)

PROG = 'coco2weak'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert a COCO JSON file into weak labels (WeakSegDataset layout).')
    parser.add_argument('json', help='COCO annotation file')
    parser.add_argument('--img-dir', required=True, help='folder of the images (file_name)')
    add_common_args(parser)
    return parser.parse_args(argv)


def load_coco(path: str):
    """A ``pycocotools.coco.COCO`` of the checked file."""
    from pycocotools.coco import COCO  # the dev/converter dependency, only needed here

    data = read_json(path)
    if not isinstance(data, dict):
        raise AnnotationError(f'{path}: expected a COCO JSON object, got {type(data).__name__}')
    for key in ('images', 'annotations', 'categories'):
        if not isinstance(data.get(key), list):
            raise AnnotationError(f'{path}: "{key}" must be a list (COCO format)')
    if not data['images']:
        raise AnnotationError(f'{path}: empty annotation file (no images)')
    images = {img.get('id') for img in data['images']}
    cats = {cat.get('id') for cat in data['categories']}
    for ann in data['annotations']:
        where = f'{path}: annotation id {ann.get("id")!r}'
        if ann.get('image_id') not in images:
            raise AnnotationError(f'{where}: image_id {ann.get("image_id")!r} is not an image')
        if ann.get('category_id') not in cats:
            raise AnnotationError(f'{where}: category_id {ann.get("category_id")!r} is not a '
                                  'category')
    coco = COCO()
    coco.dataset = data
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints progress
        coco.createIndex()
    return coco


def read_image(coco, img_id, path: str, img_dir: str) -> ImageAnnotation:
    img = coco.imgs[img_id]
    file_name = img.get('file_name')
    if not isinstance(file_name, str) or not file_name:
        raise AnnotationError(f'{path}: image id {img_id!r}: no file_name')
    size = None
    if img.get('height') is not None and img.get('width') is not None:
        size = (int(img['height']), int(img['width']))
    shapes, counts = [], Counter()
    for ann in coco.loadAnns(coco.getAnnIds(imgIds=[img_id])):
        where = f'annotation id {ann.get("id")!r} (image {file_name})'
        if ann.get('iscrowd'):
            counts['crowd (skipped)'] += 1
            continue
        cat = coco.cats[ann['category_id']]['name']
        bbox = ann.get('bbox')
        if bbox is not None:
            if (not isinstance(bbox, list) or len(bbox) != 4
                    or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in bbox)
                    or bbox[2] < 0 or bbox[3] < 0):
                raise AnnotationError(f'{path}: {where}: bbox must be [x, y, w, h] with w, h '
                                      f'>= 0, got {bbox!r}')
            x, y, w, h = bbox
            shapes.append(Shape('boxes', cat, [[x, y], [x + w, y + h]], f'{where} bbox'))
        seg = ann.get('segmentation')
        if seg:
            if size is None:
                raise AnnotationError(f'{path}: {where}: a segmentation needs the image\'s '
                                      'width and height')
            polygon = isinstance(seg, list)
            vertices = []
            if polygon:
                for part in seg:
                    vertices += check_points([part[i:i + 2] for i in range(0, len(part), 2)],
                                             3, f'{path}: {where} segmentation')
            try:
                mask = coco.annToMask(ann).astype(bool)
            except Exception as exc:  # pycocotools raises assorted types on bad input
                raise AnnotationError(f'{path}: {where}: segmentation cannot be decoded '
                                      f'({type(exc).__name__}: {exc})') from None
            shapes.append(Shape('regions', cat, vertices, f'{where} segmentation', mask=mask,
                                polygon=polygon))
        kps = ann.get('keypoints')
        if kps:
            if len(kps) % 3:
                raise AnnotationError(f'{path}: {where}: keypoints must be [x, y, v, ...], got '
                                      f'{len(kps)} numbers')
            for k in range(0, len(kps), 3):
                if kps[k + 2] > 0:
                    pt = check_points([kps[k:k + 2]], 1, f'{path}: {where} keypoint {k // 3}')
                    shapes.append(Shape('points', cat, pt, f'{where} keypoint {k // 3}'))
    name = osp.splitext(file_name.replace('\\', '/'))[0].replace('/', '__')
    return ImageAnnotation(name=name, source=path, image_path=osp.join(img_dir, file_name),
                           size=size, shapes=shapes, counts=counts)


def main(argv=None):
    args = parse_args(argv)
    coco = load_coco(args.json)
    cats = [coco.cats[i]['name'] for i in sorted(coco.cats)]
    table = class_table(args, cats, f'{args.json} categories')
    images = (read_image(coco, i, args.json, args.img_dir) for i in sorted(coco.imgs))
    return convert(images, args, table, PROG)


if __name__ == '__main__':
    run_cli(main)
