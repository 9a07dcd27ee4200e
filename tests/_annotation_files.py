"""Writers of annotation-tool files (LabelMe JSON, CVAT for images 1.1 XML, COCO JSON) for
the converter tests: shapes as the simulators return them (``return_shapes=True``) or written
by hand, ``dict(kind, cls, points)`` with class ids and continuous coordinates."""
import json
from xml.sax.saxutils import quoteattr

LABELME_TYPES = dict(points='point', scribbles='linestrip', boxes='rectangle',
                     regions='polygon')
CVAT_TAGS = dict(points='points', scribbles='polyline', boxes='box', regions='polygon')


def box_shape(cls, x0, y0, x1, y1):
    """A simulated box ``(cls, x0, y0, x1, y1)`` (half-open pixel bounds) as a shape."""
    return dict(kind='boxes', cls=cls, points=[[x0, y0], [x1, y1]])


def write_labelme(path, image_file, hw, shapes, classes, flags=None):
    """One LabelMe JSON file; ``image_file`` relative to the JSON's folder."""
    data = dict(version='5.2.1', flags=flags or {}, imagePath=image_file, imageData=None,
                imageHeight=int(hw[0]), imageWidth=int(hw[1]),
                shapes=[dict(label=s['label'] if 'label' in s else classes[s['cls']],
                             points=s['points'], group_id=None, description='',
                             shape_type=(s['shape_type'] if 'shape_type' in s
                                         else LABELME_TYPES[s['kind']]),
                             flags={}) for s in shapes])
    with open(path, 'w') as f:
        json.dump(data, f)
    return path


def _pts(points):
    return ';'.join(f'{x:.2f},{y:.2f}' for x, y in points)


def cvat_element(shape, classes, z_order=0):
    label = quoteattr(shape['label'] if 'label' in shape else classes[shape['cls']])
    tag = shape.get('tag', CVAT_TAGS.get(shape.get('kind')))
    common = f'label={label} source="manual" occluded="0" z_order="{z_order}"'
    if tag == 'box':
        (x0, y0), (x1, y1) = shape['points']
        return (f'<box {common} xtl="{x0:.2f}" ytl="{y0:.2f}" xbr="{x1:.2f}" '
                f'ybr="{y1:.2f}"></box>')
    if tag == 'tag':
        return f'<tag label={label} source="manual"></tag>'
    return f'<{tag} {common} points="{_pts(shape["points"])}"></{tag}>'


def write_cvat(path, images, classes):
    """``images``: list of ``(file name, (H, W), [shape or raw element string, ...])``."""
    labels = ''.join(f'<label><name>{n}</name><color>#000000</color><type>any</type>'
                     f'<attributes></attributes></label>' for n in classes)
    body = []
    for i, (name, hw, shapes) in enumerate(images):
        els = [s if isinstance(s, str) else cvat_element(s, classes) for s in shapes]
        body.append(f'  <image id="{i}" name={quoteattr(name)} width="{hw[1]}" '
                    f'height="{hw[0]}">\n    ' + '\n    '.join(els) + '\n  </image>')
    xml = ('<?xml version="1.0" encoding="utf-8"?>\n<annotations>\n  <version>1.1</version>\n'
           f'  <meta><task><id>1</id><name>t</name><labels>{labels}</labels></task></meta>\n'
           + '\n'.join(body) + '\n</annotations>\n')
    with open(path, 'w') as f:
        f.write(xml)
    return path


def write_coco(path, images, classes, cat_ids=None):
    """``images``: list of ``(file name, (H, W), [annotation dicts without ids])``."""
    cat_ids = cat_ids or list(range(1, len(classes) + 1))
    data = dict(images=[], annotations=[],
                categories=[dict(id=i, name=n, supercategory='x')
                            for i, n in zip(cat_ids, classes)])
    for img_id, (name, hw, anns) in enumerate(images, 1):
        data['images'].append(dict(id=img_id, file_name=name, height=int(hw[0]),
                                   width=int(hw[1])))
        for ann in anns:
            data['annotations'].append(dict(ann, id=len(data['annotations']) + 1,
                                            image_id=img_id))
    with open(path, 'w') as f:
        json.dump(data, f)
    return path

