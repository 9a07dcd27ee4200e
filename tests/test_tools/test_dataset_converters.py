"""tools/dataset_converters/{labelme,cvat,coco,painted}2weak.py: the shapes of each format, bad
inputs (the message names the file and the shape) and the round trip
simulated label -> annotation-tool file -> converter -> the simulator's raster.

The converters' ``main(argv)`` runs in-process (no torch import per call); one subprocess run
checks the command line's one-line error.
"""
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
from PIL import Image

from mmspml.datasets import weak_labels as wl
from mmspml.datasets.weak_labels.rasterise import disk
from tests._annotation_files import (box_shape, cvat_element, write_coco, write_cvat,
                                     write_labelme)
from tests.conftest import REPO

CONVERTERS = osp.join(REPO, 'tools', 'dataset_converters')
CAMVID_CLASSES = ['sky', 'building', 'pole', 'road', 'pavement', 'tree', 'sign-symbol',
                  'fence', 'car', 'pedestrian', 'bicyclist']
FRAMES = ['0001TP_006690', '0006R0_f00930', '0016E5_00390']  # three CamVid sequences
CLASSES = ['background', 'road', 'car', 'person']
# pycocotools' mask decoding under numpy 2
pytestmark = pytest.mark.filterwarnings('ignore:__array__ implementation:DeprecationWarning')


def load(name):
    spec = importlib.util.spec_from_file_location(f'_conv_{name}',
                                                  osp.join(CONVERTERS, name + '.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def labelme():
    return load('labelme2weak')


@pytest.fixture(scope='module')
def cvat():
    return load('cvat2weak')


@pytest.fixture(scope='module')
def coco():
    return load('coco2weak')


@pytest.fixture(scope='module')
def painted():
    return load('painted2weak')


def read(path):
    out = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert out is not None, path
    return out


def write_image(path, hw=(40, 60), seed=0):
    img = np.random.default_rng(seed).integers(0, 256, (*hw, 3), dtype=np.uint8)
    cv2.imwrite(str(path), img)
    return str(path)


def layout(out, split='train'):
    """(list rows, tags, classes) of a converted split."""
    rows = [line.split() for line in open(osp.join(out, f'{split}.txt')).read().splitlines()]
    tags = json.load(open(osp.join(out, f'{split}_tags.json')))
    classes = open(osp.join(out, 'classes.txt')).read().split('\n')[:-1]
    return rows, tags, classes


def test_help(labelme, cvat, coco, painted, capsys):
    for tool in (labelme, cvat, coco, painted):
        with pytest.raises(SystemExit) as exc:
            tool.main(['--help'])
        assert exc.value.code == 0
        out = capsys.readouterr().out
        assert 'usage:' in out and '--out' in out and '--classes-file' in out
        assert ('--width' in out) == (tool is not painted)  # painted labels draw nothing


# ------------------------------------------------------------------------------- LabelMe
@pytest.fixture
def lm_dir(tmp_path):
    d = tmp_path / 'lm'
    d.mkdir()
    write_image(d / 'a.jpg')
    return d


def lm_file(d, shapes, flags=None, name='a', image='a.jpg', hw=(40, 60)):
    return write_labelme(str(d / f'{name}.json'), image, hw, shapes, CLASSES, flags)


def test_labelme_shapes_to_label_tags_and_layout(labelme, lm_dir, tmp_path, capsys):
    shapes = [
        dict(shape_type='rectangle', label='car', points=[[40, 30], [10, 5]]),  # any corner order
        dict(shape_type='rectangle', label='person', points=[[20, 10], [25, 20]]),  # on top
        dict(shape_type='polygon', label='road', points=[[0, 30], [20, 30], [20, 40], [0, 40]]),
        dict(shape_type='line', label='person', points=[[45.5, 2.5], [45.5, 12.5]]),
        dict(shape_type='linestrip', label='road', points=[[50.5, 20.5], [55.5, 20.5],
                                                           [55.5, 25.5]]),
        dict(shape_type='point', label='car', points=[[5.9, 35.2]]),
        dict(shape_type='rectangle', label='__ignore__', points=[[56, 0], [60, 4]]),
    ]
    lm_file(lm_dir, shapes, flags=dict(person=True, car=False))
    out = str(tmp_path / 'out')
    summary = labelme.main([str(lm_dir), '--out', out, '--classes', ','.join(CLASSES),
                            '--radius', '1', '--width', '1'])
    rows, tags, classes = layout(out)
    assert classes == CLASSES
    assert rows == [['images/train/a.jpg', 'labels/train/a.png']]
    assert (read(osp.join(out, 'images/train/a.jpg')) == read(lm_dir / 'a.jpg')).all()
    label = read(osp.join(out, 'labels/train/a.png'))
    exp = np.zeros((40, 60), np.uint8)  # "background" exists: outside the boxes
    exp[5:30, 10:40] = 2  # car box, pixels whose centre is inside
    exp[10:20, 20:25] = 3  # smaller box on top
    exp[30:40, 0:20] = 1  # polygon: centres inside
    exp[2:13, 45] = 3  # line, width 1
    exp[20, 50:56] = 1
    exp[20:26, 55] = 1
    exp[34:37, 4:7][disk(1).astype(bool)] = 2  # point at pixel (35, 5), radius 1
    exp[0:4, 56:60] = 255  # ignore
    assert (label == exp).all()
    assert tags == {'a': [0, 1, 2, 3]}
    assert summary['shapes'] == dict(points=1, scribbles=2, boxes=3, regions=1, tags=1)
    assert summary['class_pixels'] == np.bincount(label.ravel(), minlength=4)[:4].tolist()
    printed = capsys.readouterr().out
    assert 'labelme2weak: 1 images' in printed and 'points 1, scribbles 2, boxes 3' in printed
    assert f'{"car":<20}   2 {100 * (exp == 2).mean():>10.3f}' in printed


def test_labelme_options(labelme, lm_dir, tmp_path, capsys):
    shapes = [dict(shape_type='polygon', label='road', points=[[10, 10], [30, 10], [20, 30]]),
              dict(shape_type='rectangle', label='car', points=[[0, 0], [5, 5]]),
              dict(shape_type='point', label='person', points=[[50.5, 30.5]])]
    lm_file(lm_dir, shapes)
    classes = ['road', 'car', 'person']  # no background class: outside boxes stays unlabeled
    out = str(tmp_path / 'o1')
    labelme.main([str(lm_dir), '--out', out, '--classes', ','.join(classes), '--polygon', 'box',
                  '--unlabeled-index', '7', '--symlink-images', '--kinds', 'boxes,points'])
    label = read(osp.join(out, 'labels/train/a.png'))
    exp = np.full((40, 60), 7, np.uint8)
    exp[10:30, 10:30] = 0  # the polygon's bounding box
    exp[0:5, 0:5] = 1
    exp[30, 50] = 2
    assert (label == exp).all()
    assert osp.islink(osp.join(out, 'images/train/a.jpg'))
    # --background names the class outside the boxes; --kinds drops the points
    out = str(tmp_path / 'o2')
    s = labelme.main([str(lm_dir), '--out', out, '--classes', ','.join(classes),
                      '--background', 'road', '--kinds', 'boxes'])
    label = read(osp.join(out, 'labels/train/a.png'))
    assert (label[0:5, 0:5] == 1).all() and (label[label != 1] == 0).all()
    assert s['shapes']['not imported (--kinds)'] == 2
    # a shape that covers no pixel centre is counted, not drawn
    lm_file(lm_dir, shapes + [dict(shape_type='polygon', label='car',
                                   points=[[40, 5], [50, 5], [45, 5.2]])])
    s = labelme.main([str(lm_dir), '--out', str(tmp_path / 'o4'), '--classes',
                      ','.join(classes)])
    assert s['shapes']['covering no pixel'] == 1 and s['shapes']['regions'] == 2
    assert 'covering no pixel 1' in capsys.readouterr().out
    # images elsewhere: --img-dir; a file without shapes is skipped and counted
    other = tmp_path / 'imgs'
    other.mkdir()
    os.rename(lm_dir / 'a.jpg', other / 'a.jpg')
    lm_file(lm_dir, [], name='b', image='b.jpg')
    s = labelme.main([str(lm_dir), '--out', str(tmp_path / 'o3'), '--classes',
                      ','.join(classes), '--img-dir', str(other)])
    assert s['images'] == 1 and s['skipped'] == 1


def _lm_error(labelme, d, tmp_path, *extra, classes=CLASSES):
    with pytest.raises((ValueError, OSError)) as exc:
        labelme.main([str(d), '--out', str(tmp_path / 'out'), '--classes', ','.join(classes),
                      *extra])
    return str(exc.value)


def test_labelme_bad_inputs_name_file_and_shape(labelme, lm_dir, tmp_path):
    f = lm_file(lm_dir, [dict(shape_type='point', label='cra', points=[[1, 1]])])
    msg = _lm_error(labelme, lm_dir, tmp_path)
    assert f in msg and 'shape 0 (point)' in msg and "'cra'" in msg
    assert 'known: background, road, car, person' in msg
    # a shape outside the image: an error, or clipped and counted
    f = lm_file(lm_dir, [dict(shape_type='linestrip', label='car',
                              points=[[50.5, 10.5], [70.5, 10.5]])])
    msg = _lm_error(labelme, lm_dir, tmp_path)
    assert f in msg and 'shape 0 (linestrip)' in msg and '(70.5, 10.5)' in msg
    assert '60x40' in msg and '--outside clip' in msg
    s = labelme.main([str(lm_dir), '--out', str(tmp_path / 'clip'), '--classes',
                      ','.join(CLASSES), '--outside', 'clip', '--width', '1'])
    assert s['shapes']['clipped'] == 1
    label = read(tmp_path / 'clip/labels/train/a.png')
    assert (label[10, 50:60] == 2).all() and (label == 2).sum() == 10
    # the image's size differs from the annotation's
    f = lm_file(lm_dir, [dict(shape_type='point', label='car', points=[[1, 1]])], hw=(41, 60))
    msg = _lm_error(labelme, lm_dir, tmp_path)
    assert f in msg and '60x41' in msg and '60x40' in msg
    # the image is missing
    f = lm_file(lm_dir, [dict(shape_type='point', label='car', points=[[1, 1]])],
                image='gone.jpg')
    msg = _lm_error(labelme, lm_dir, tmp_path)
    assert f in msg and 'gone.jpg' in msg and 'does not exist' in msg
    # unsupported shape type, wrong number of points, unknown flag
    f = lm_file(lm_dir, [dict(shape_type='circle', label='car', points=[[1, 1], [3, 3]])])
    msg = _lm_error(labelme, lm_dir, tmp_path)
    assert f in msg and 'shape 0 (circle)' in msg and 'not supported' in msg
    f = lm_file(lm_dir, [dict(shape_type='rectangle', label='car', points=[[1, 1]])])
    msg = _lm_error(labelme, lm_dir, tmp_path)
    assert f in msg and 'shape 0 (rectangle)' in msg
    f = lm_file(lm_dir, [dict(shape_type='point', label='car', points=[[1, 1]])],
                flags=dict(bus=True, truck=False))
    msg = _lm_error(labelme, lm_dir, tmp_path)
    assert f in msg and "'bus'" in msg and 'known:' in msg and 'truck' not in msg
    # empty / invalid files
    (lm_dir / 'a.json').write_text('')
    msg = _lm_error(labelme, lm_dir, tmp_path)
    assert str(lm_dir / 'a.json') in msg and 'empty annotation file' in msg
    (lm_dir / 'a.json').write_text('{}')
    assert 'empty annotation file' in _lm_error(labelme, lm_dir, tmp_path)
    (lm_dir / 'a.json').write_text('{"shapes": [')
    msg = _lm_error(labelme, lm_dir, tmp_path)
    assert str(lm_dir / 'a.json') in msg and 'not valid JSON' in msg
    # no classes, duplicate classes, the ignore label as a class
    msg = _lm_error(labelme, lm_dir, tmp_path, classes=['car', 'car'])
    assert "['car']" in msg and 'more than once' in msg
    with pytest.raises(ValueError, match='--classes a,b,c'):
        labelme.main([str(lm_dir), '--out', str(tmp_path / 'out')])


def test_labelme_cli_error_is_one_line(lm_dir, tmp_path):
    lm_file(lm_dir, [dict(shape_type='point', label='cra', points=[[1, 1]])])
    proc = subprocess.run([sys.executable, osp.join(CONVERTERS, 'labelme2weak.py'),
                           str(lm_dir), '--out', str(tmp_path / 'out'), '--classes', 'car'],
                          capture_output=True, text=True, cwd=REPO, timeout=120,
                          env=dict(os.environ, PYTHONPATH=REPO))
    assert proc.returncode == 1
    assert proc.stderr.startswith('labelme2weak.py: error: ') and 'a.json' in proc.stderr
    assert 'Traceback' not in proc.stderr


def test_layout_refuses_other_classes_and_duplicate_names(labelme, lm_dir, tmp_path):
    lm_file(lm_dir, [dict(shape_type='point', label='car', points=[[1, 1]])])
    out = str(tmp_path / 'out')
    labelme.main([str(lm_dir), '--out', out, '--classes', ','.join(CLASSES)])
    # a second split with the classes file of the first: fine
    labelme.main([str(lm_dir), '--out', out, '--classes-file', osp.join(out, 'classes.txt'),
                  '--split', 'extra'])
    assert layout(out, 'extra')[0] == [['images/extra/a.jpg', 'labels/extra/a.png']]
    msg = _lm_error(labelme, lm_dir, tmp_path, classes=['car', 'road'])
    assert osp.join(out, 'classes.txt') in msg and 'other classes' in msg
    other = tmp_path / 'other'
    other.mkdir()
    write_image(other / 'a.jpg')
    lm_file(other, [dict(shape_type='point', label='car', points=[[1, 1]])])
    with pytest.raises(ValueError, match="sample name 'a' is also the name of"):
        labelme.main([str(lm_dir), str(other), '--out', str(tmp_path / 'o2'), '--classes',
                      ','.join(CLASSES)])


# ---------------------------------------------------------------------------------- CVAT
def test_cvat_elements(cvat, tmp_path):
    img_dir = tmp_path / 'images'
    (img_dir / 'seq').mkdir(parents=True)
    write_image(img_dir / 'seq' / 'f0.png')
    write_image(img_dir / 'f1.jpg', seed=1)
    f0 = [
        dict(tag='box', label='car', points=[[10, 5], [40, 30]]),
        dict(tag='polygon', label='road', points=[[0, 30], [20, 30], [20, 40], [0, 40]]),
        dict(tag='polyline', label='person', points=[[45.5, 2.5], [45.5, 12.5]]),
        dict(tag='points', label='car', points=[[5.5, 35.5], [7.5, 35.5]]),  # two points
        dict(tag='tag', label='person'),
    ]
    xml = write_cvat(str(tmp_path / 'annotations.xml'),
                     [('seq/f0.png', (40, 60), f0), ('f1.jpg', (40, 60), [])], CLASSES)
    out = str(tmp_path / 'out')
    s = cvat.main([xml, '--out', out, '--width', '1', '--radius', '0'])  # classes from <meta>
    rows, tags, classes = layout(out)
    assert classes == CLASSES
    assert rows == [['images/train/seq__f0.png', 'labels/train/seq__f0.png']]
    assert s['skipped'] == 1 and s['shapes'] == dict(points=2, scribbles=1, boxes=1, regions=1,
                                                     tags=1)
    label = read(osp.join(out, 'labels/train/seq__f0.png'))
    exp = np.zeros((40, 60), np.uint8)
    exp[5:30, 10:40] = 2
    exp[30:40, 0:20] = 1
    exp[2:13, 45] = 3
    exp[35, [5, 7]] = 2
    assert (label == exp).all() and tags == {'seq__f0': [0, 1, 2, 3]}


def test_cvat_z_order_decides_overlaps(cvat, tmp_path):
    (tmp_path / 'images').mkdir()
    write_image(tmp_path / 'images/a.jpg')
    els = [cvat_element(dict(tag='polygon', label='car',
                             points=[[0, 0], [30, 0], [30, 30], [0, 30]]), CLASSES, z_order=1),
           cvat_element(dict(tag='polygon', label='road',
                             points=[[10, 10], [40, 10], [40, 40], [10, 40]]), CLASSES)]
    xml = write_cvat(str(tmp_path / 'a.xml'), [('a.jpg', (40, 60), els)], CLASSES)
    cvat.main([xml, '--out', str(tmp_path / 'out')])
    label = read(tmp_path / 'out/labels/train/a.png')
    assert label[15, 15] == 2  # z_order 1 drawn after the file's earlier z_order-0 road
    assert label[35, 35] == 1 and label[5, 5] == 2 and label[5, 50] == 4


@pytest.mark.parametrize('element, expect', [
    (dict(tag='box', label='truck', points=[[1, 1], [5, 5]]),
     ["<box>", "'truck'", 'known: background, road, car, person']),
    ('<mask label="car" rle="1, 2" left="0" top="0" width="2" height="2"></mask>',
     ['<mask>', 'not supported']),
    (dict(tag='polyline', label='car', points=[[1.5, 1.5], [61.5, 1.5]]),
     ['<polyline>', '(61.5, 1.5)', 'outside']),
    (dict(tag='polygon', label='car', points=[[1, 1], [2, 2]]),
     ['<polygon>', 'at least 3 points']),
])
def test_cvat_bad_elements_name_file_and_element(cvat, tmp_path, element, expect):
    (tmp_path / 'images').mkdir()
    write_image(tmp_path / 'images/a.jpg')
    xml = write_cvat(str(tmp_path / 'a.xml'), [('a.jpg', (40, 60), [element])], CLASSES)
    with pytest.raises(ValueError) as exc:
        cvat.main([xml, '--out', str(tmp_path / 'out')])
    msg = str(exc.value)
    assert xml in msg and "<image name='a.jpg'> element 0" in msg.replace('"', "'")
    for e in expect:
        assert e in msg, msg


def test_cvat_bad_files(cvat, tmp_path):
    (tmp_path / 'images').mkdir()
    xml = tmp_path / 'a.xml'
    xml.write_text('')
    for content, expect in [('', 'empty annotation file'),
                            ('<annotations><version>1.1</version></annotations>',
                             'empty annotation file (no <image> element)'),
                            ('<annotations><track id="0" label="car"/></annotations>',
                             'CVAT for video'),
                            ('<annotations><image', 'not valid XML')]:
        xml.write_text(content)
        with pytest.raises(ValueError) as exc:
            cvat.main([str(xml), '--out', str(tmp_path / 'out')])
        assert str(xml) in str(exc.value) and expect in str(exc.value)
    el = dict(tag='box', label='car', points=[[1, 1], [5, 5]])
    write_cvat(str(xml), [('a.jpg', (40, 60), [el])], CLASSES)
    with pytest.raises(ValueError, match='a.jpg.*does not exist'):
        cvat.main([str(xml), '--out', str(tmp_path / 'out')])
    write_image(tmp_path / 'images/a.jpg', hw=(40, 61))
    with pytest.raises(ValueError) as exc:
        cvat.main([str(xml), '--out', str(tmp_path / 'out')])
    assert str(xml) in str(exc.value) and '61x40' in str(exc.value)


# ---------------------------------------------------------------------------------- COCO
def test_coco_boxes_keypoints_segmentation_through_pycocotools(coco, tmp_path):
    from pycocotools import mask as mask_utils

    rng = np.random.default_rng(3)
    dense = np.zeros((48, 64), np.uint8)
    dense[5:20, 8:30] = 1
    dense[25:45, 30:60] = 2
    dense[30:40, 5:15] = 3
    write_image(tmp_path / 'im.jpg', hw=(48, 64))
    sim_boxes, boxes = wl.simulate_boxes(dense, 4)
    sim_pts, pts = wl.simulate_points(dense, 4, rng, points_per_segment=3, radius=1,
                                      within_segment=False, return_shapes=True)
    cat_ids = [1, 2, 3, 7]  # category ids need not be 1..C: classes are in id order
    anns = [dict(category_id=cat_ids[cls], bbox=[x0, y0, x1 - x0, y1 - y0], iscrowd=0,
                 area=1) for cls, x0, y0, x1, y1 in boxes]
    for cls in range(4):  # the points of a class as the keypoints of one annotation
        kps = [v for s in pts if s['cls'] == cls for v in (*s['points'][0], 2)]
        anns.append(dict(category_id=cat_ids[cls], keypoints=kps + [0, 0, 0], num_keypoints=3,
                         iscrowd=0, area=1))
    rle = mask_utils.encode(np.asfortranarray((dense == 3).astype(np.uint8)))
    rle['counts'] = rle['counts'].decode('ascii')
    anns.append(dict(category_id=7, segmentation=rle, iscrowd=0, area=1))
    anns.append(dict(category_id=2, bbox=[0, 0, 64, 48], iscrowd=1, area=1))  # skipped
    js = write_coco(str(tmp_path / 'coco.json'), [('im.jpg', (48, 64), anns)], CLASSES,
                    cat_ids=cat_ids)
    args = [js, '--img-dir', str(tmp_path), '--radius', '1']
    s = coco.main(args + ['--out', str(tmp_path / 'b'), '--kinds', 'boxes,tags'])
    assert (read(tmp_path / 'b/labels/train/im.png') == sim_boxes).all()
    assert s['shapes']['crowd (skipped)'] == 1 and s['shapes']['boxes'] == 3
    assert layout(str(tmp_path / 'b'))[1] == {'im': [0, 1, 2, 3]}
    coco.main(args + ['--out', str(tmp_path / 'p'), '--kinds', 'points'])
    assert (read(tmp_path / 'p/labels/train/im.png') == sim_pts).all()
    coco.main(args + ['--out', str(tmp_path / 'r'), '--kinds', 'regions'])
    region = read(tmp_path / 'r/labels/train/im.png')
    assert ((region == 3) == (dense == 3)).all() and (region[dense != 3] == 4).all()


def test_coco_polygon_segmentation_and_size_check(coco, tmp_path):
    write_image(tmp_path / 'im.jpg', hw=(48, 64))
    poly = [[10, 10, 30, 10, 30, 20, 10, 20]]  # x, y pairs: a 20 x 10 rectangle
    js = write_coco(str(tmp_path / 'c.json'), [('im.jpg', (48, 64), [
        dict(category_id=3, segmentation=poly, iscrowd=0, area=1)])], CLASSES)
    args = [js, '--img-dir', str(tmp_path)]
    coco.main(args + ['--out', str(tmp_path / 'r'), '--kinds', 'regions'])
    label = read(tmp_path / 'r/labels/train/im.png')
    exp = np.full((48, 64), 4, np.uint8)  # pycocotools' raster of the polygon
    exp[10:20, 10:30] = 2
    assert (label == exp).all()
    coco.main(args + ['--out', str(tmp_path / 'b'), '--polygon', 'box'])
    label = read(tmp_path / 'b/labels/train/im.png')
    exp = np.zeros((48, 64), np.uint8)  # the box of the polygon; background outside
    exp[10:20, 10:30] = 2
    assert (label == exp).all()
    write_coco(js, [('im.jpg', (40, 64), [dict(category_id=3, bbox=[1, 1, 2, 2])])], CLASSES)
    with pytest.raises(ValueError) as exc:
        coco.main(args + ['--out', str(tmp_path / 'x')])
    assert js in str(exc.value) and '64x40' in str(exc.value) and '64x48' in str(exc.value)


def test_coco_bad_inputs(coco, tmp_path):
    write_image(tmp_path / 'im.jpg', hw=(48, 64))
    js = str(tmp_path / 'coco.json')

    def err(anns, *extra, images=(('im.jpg', (48, 64)),)):
        write_coco(js, [(n, hw, anns) for n, hw in images], CLASSES)
        with pytest.raises((ValueError, OSError)) as exc:
            coco.main([js, '--img-dir', str(tmp_path), '--out', str(tmp_path / 'o'), *extra])
        assert not osp.exists(tmp_path / 'o' / 'train.txt')  # no list file after an error
        assert js in str(exc.value)
        return str(exc.value)

    assert 'empty annotation file' in err([], images=())
    assert 'category_id 9' in err([dict(category_id=9, bbox=[1, 1, 2, 2])])
    msg = err([dict(category_id=1, bbox=[1, 1, -2, 2])])
    assert 'annotation id 1' in msg and 'bbox' in msg
    msg = err([dict(category_id=3, bbox=[1, 1, 2, 2])], '--classes', 'background,road')
    assert "'car'" in msg and 'known: background, road' in msg
    msg = err([dict(category_id=1, bbox=[60, 1, 10, 2])])
    assert 'annotation id 1' in msg and '(70, 3)' in msg and 'outside' in msg
    msg = err([dict(category_id=1, keypoints=[1, 1, 2, 5])])
    assert 'keypoints' in msg
    msg = err([dict(category_id=1, bbox=[1, 1, 2, 2])], images=[('gone.jpg', (48, 64))])
    assert 'gone.jpg' in msg and 'does not exist' in msg


# ------------------------------------------------------------------------------- painted
def test_painted_rgb_palette_and_transparency(painted, tmp_path):
    img_dir, paint = tmp_path / 'img', tmp_path / 'paint'
    img_dir.mkdir(), paint.mkdir()
    write_image(img_dir / 'a.jpg'), write_image(img_dir / 'b.png', seed=1)
    write_image(img_dir / 'c.jpg', seed=2)
    colors = tmp_path / 'colors.json'
    colors.write_text(json.dumps({'road': [128, 64, 128], 'car': '#FF0000',
                                  '__ignore__': '255,255,255'}))
    a = np.zeros((40, 60, 3), np.uint8)
    a[5:8, 10:30] = (128, 64, 128)
    a[20:30, 40:42] = (250, 3, 0)  # within --tolerance 5 of car
    a[20:22, 5:10] = (128, 64, 128)  # a second road stroke
    a[0:2, 0:2] = 255
    Image.fromarray(a, 'RGB').save(paint / 'a.png')
    b = np.zeros((40, 60), np.uint8)  # palette: index 1 = car, 2 = road
    b[10:12, 10:50] = 1
    b[30, 30] = 2
    pb = Image.fromarray(b, 'P')
    pb.putpalette([0, 0, 0, 255, 0, 0, 128, 64, 128] + [0] * 759)
    pb.save(paint / 'b.png')
    c = np.zeros((40, 60, 4), np.uint8)  # RGBA: transparent pixels are blank
    c[..., :3] = (255, 0, 0)
    c[3:6, 3:6, 3] = 255
    Image.fromarray(c, 'RGBA').save(paint / 'c.png')
    out = str(tmp_path / 'out')
    s = painted.main([str(paint), '--img-dir', str(img_dir), '--colors', str(colors), '--out',
                      out, '--tolerance', '5'])
    rows, tags, classes = layout(out)
    assert classes == ['road', 'car'] and [r[0] for r in rows] == [
        'images/train/a.jpg', 'images/train/b.png', 'images/train/c.jpg']
    la = read(osp.join(out, 'labels/train/a.png'))
    exp = np.full((40, 60), 2, np.uint8)
    exp[5:8, 10:30] = 0
    exp[20:30, 40:42] = 1
    exp[20:22, 5:10] = 0
    exp[0:2, 0:2] = 255
    assert (la == exp).all()
    lb = read(osp.join(out, 'labels/train/b.png'))
    assert (lb == np.where(b == 1, 1, np.where(b == 2, 0, 2))).all()
    lc = read(osp.join(out, 'labels/train/c.png'))
    assert (lc == 1).sum() == 9 and (lc[lc != 1] == 2).all()
    assert tags == {'a': [0, 1], 'b': [0, 1], 'c': [1]}
    assert s['shapes']['scribbles'] == 4 + 2 + 1  # connected strokes of one colour (ignore too)


def test_painted_bad_inputs(painted, tmp_path):
    img_dir, paint = tmp_path / 'img', tmp_path / 'paint'
    img_dir.mkdir(), paint.mkdir()
    write_image(img_dir / 'a.jpg')
    colors = tmp_path / 'colors.json'
    colors.write_text(json.dumps({'road': [128, 64, 128], 'car': '#FF0000'}))
    a = np.zeros((40, 60, 3), np.uint8)
    a[4, 7] = (250, 3, 0)
    Image.fromarray(a, 'RGB').save(paint / 'a.png')
    args = [str(paint), '--img-dir', str(img_dir), '--colors', str(colors), '--out',
            str(tmp_path / 'out')]
    with pytest.raises(ValueError) as exc:
        painted.main(args)
    msg = str(exc.value)
    assert str(paint / 'a.png') in msg and '(250, 3, 0)' in msg and '(x=7, y=4)' in msg
    assert 'road (128, 64, 128)' in msg and '--tolerance' in msg
    Image.fromarray(np.full((41, 60, 3), (255, 0, 0), np.uint8), 'RGB').save(paint / 'a.png')
    with pytest.raises(ValueError) as exc:
        painted.main(args)
    assert str(paint / 'a.png') in str(exc.value) and '60x41' in str(exc.value)
    os.remove(img_dir / 'a.jpg')
    with pytest.raises(ValueError, match='no image for it'):
        painted.main(args)
    write_image(img_dir / 'a.jpg')
    Image.fromarray(np.zeros((40, 60, 3), np.uint8), 'RGB').save(paint / 'a.png')
    with pytest.raises(ValueError, match=r'no annotated image found \(1 without annotation'):
        painted.main(args)  # nothing painted
    os.remove(paint / 'a.png')
    with pytest.raises(ValueError, match=f'{paint}: no \\*.png file'):
        painted.main(args)
    colors.write_text(json.dumps({'road': [1, 2, 3], 'car': '#010203'}))
    with pytest.raises(ValueError, match="'car' and 'road' have the same colour"):
        painted.main(args)
    colors.write_text('')
    with pytest.raises(ValueError, match='colors.json: empty annotation file'):
        painted.main(args)


# --------------------------------------------------------- round trip on real CamVid frames
@pytest.fixture(scope='module')
def camvid_frames(shared_camvid):
    return [(n, osp.join(shared_camvid, 'images/train', n + '.jpg'),
             read(osp.join(shared_camvid, 'labels/train', n + '.png'))) for n in FRAMES]


def _simulated(camvid_frames):
    """Per variant: converter options and, per frame, (simulated label, shapes)."""
    variants = {}
    for name, _, dense in camvid_frames:
        rng = lambda: wl.make_rng(0, name)  # noqa: E731
        sims = dict(
            scribbles_w3=(['--width', '3'], wl.simulate_scribbles(
                dense, 11, rng(), width=3, within_segment=False, return_shapes=True)),
            scribbles_w1=(['--width', '1'], wl.simulate_scribbles(
                dense, 11, rng(), width=1, length_fraction=0.5, return_shapes=True)),
            points_r2=(['--radius', '2'], wl.simulate_points(
                dense, 11, rng(), points_per_segment=2, radius=2, within_segment=False,
                return_shapes=True)),
            points_r0=(['--radius', '0'], wl.simulate_points(dense, 11, rng(),
                                                             return_shapes=True)))
        label, boxes = wl.simulate_boxes(dense, 11)
        sims['boxes'] = (['--background', 'sky'], (label, [box_shape(*b) for b in boxes]))
        for key, (opts, sim) in sims.items():
            variants.setdefault(key, (opts, []))[1].append(sim)
    return variants


def _check_round_trip(out, camvid_frames, sims, key):
    for (name, _, dense), (sim, shapes) in zip(camvid_frames, sims):
        got = read(osp.join(out, 'labels/train', name + '.png'))
        valid = dense != 255
        assert (got[valid] == sim[valid]).all(), (key, name, int((got != sim)[valid].sum()))
        assert (sim[~valid] == 255).all() and not (got == 255).any()
        if key in ('scribbles_w1', 'points_r0'):  # drawn inside segments: void untouched
            assert (got[~valid] == 11).all()
        assert shapes and len(np.unique(sim[valid])) > 2, key


def test_round_trip_painted_camvid_scribbles(painted, camvid_frames, tmp_path):
    """Simulated scribbles painted in CamVid's colours (void in white = ignore) and read back:
    the same label, 255 included."""
    from mmspml.datasets import CamVidDataset
    palette = CamVidDataset.METAINFO['palette']
    colors = dict(zip(CAMVID_CLASSES, palette), __ignore__=[255, 255, 255])
    (tmp_path / 'colors.json').write_text(json.dumps(colors))
    paint = tmp_path / 'paint'
    paint.mkdir()
    sims = []
    for name, _, dense in camvid_frames:
        sim = wl.simulate_scribbles(dense, 11, wl.make_rng(0, name), width=3)
        rgb = np.zeros((*sim.shape, 3), np.uint8)
        for k, c in enumerate(palette):
            rgb[sim == k] = c
        rgb[sim == 255] = 255
        Image.fromarray(rgb, 'RGB').save(paint / f'{name}.png')
        sims.append(sim)
    out = tmp_path / 'out'
    painted.main([str(paint), '--img-dir', osp.dirname(camvid_frames[0][1]), '--colors',
                  str(tmp_path / 'colors.json'), '--out', str(out)])
    for (name, _, _), sim in zip(camvid_frames, sims):
        assert (read(out / 'labels/train' / f'{name}.png') == sim).all()


@pytest.mark.parametrize('fmt', ['labelme', 'cvat'])
def test_round_trip_simulated_camvid_labels(fmt, labelme, cvat, camvid_frames, tmp_path):
    img_dir = osp.dirname(camvid_frames[0][1])
    for key, (opts, sims) in _simulated(camvid_frames).items():
        out = str(tmp_path / key)
        common = ['--out', out, '--classes', ','.join(CAMVID_CLASSES), *opts]
        if fmt == 'labelme':
            d = tmp_path / f'lm_{key}'
            d.mkdir()
            for (name, img, dense), (_, shapes) in zip(camvid_frames, sims):
                write_labelme(str(d / f'{name}.json'), osp.basename(img), dense.shape,
                              shapes, CAMVID_CLASSES)
            labelme.main([str(d), '--img-dir', img_dir, *common])
        else:
            images = []
            for (name, img, dense), (_, shapes) in zip(camvid_frames, sims):
                if key.startswith('points'):  # consecutive points of a class: one <points>
                    grouped = []
                    for s in shapes:
                        if grouped and grouped[-1]['cls'] == s['cls']:
                            grouped[-1]['points'] = grouped[-1]['points'] + s['points']
                        else:
                            grouped.append(dict(s))
                    assert len(grouped) < len(shapes)
                    shapes = grouped
                images.append((osp.basename(img), dense.shape, shapes))
            xml = write_cvat(str(tmp_path / f'{key}.xml'), images, CAMVID_CLASSES)
            cvat.main([xml, '--img-dir', img_dir, *common])
        _check_round_trip(out, camvid_frames, sims, key)
