"""Tests of mmspml.datasets.weak_labels (pure numpy; no mmseg/torch needed by the module)."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest
from scipy import ndimage

from mmspml.datasets import weak_labels as wl
from tests.conftest import require_shared
C = 5


def toy_label():
    """uint8 [48, 64], classes 0..4 and 255, with the shapes the simulators must handle."""
    lab = np.zeros((48, 64), np.uint8)  # class 0: a large background segment with holes
    lab[4:20, 6:40] = 1                 # rectangle
    lab[24:44, 8:12] = 2                # L-shape ...
    lab[40:44, 8:30] = 2
    lab[26:40, 40:60] = 3               # ring around a class-0 hole (skeleton with a cycle)
    lab[31:35, 46:54] = 0
    lab[22, 50] = 4                     # a single pixel
    lab[2, 44] = 2                      # two same-class pixels one pixel apart: two segments
    lab[2, 46] = 2
    lab[:, 62:] = 255                   # void
    lab[46:, :] = 255
    lab[10, 20] = 255                   # void inside a segment
    return lab


def segments_of(label):
    seg_ids, seg_class = wl.connected_segments(label, C)
    return seg_ids, seg_class


def check_weak_invariants(weak, dense, unlabeled):
    """255 exactly where dense is 255; labeled pixels carry their dense class; rest unlabeled."""
    assert weak.dtype == np.uint8 and weak.shape == dense.shape
    np.testing.assert_array_equal(weak == 255, dense == 255)
    labeled = weak < C
    np.testing.assert_array_equal(weak[labeled], dense[labeled])
    assert np.all(weak[~labeled & (dense != 255)] == unlabeled)


# ---------------------------------------------------------------------------------------------
def test_make_rng_depends_on_seed_and_key_only():
    a = wl.make_rng(3, '0001TP_006690').random(8)
    np.testing.assert_array_equal(a, wl.make_rng(3, '0001TP_006690').random(8))
    assert not np.array_equal(a, wl.make_rng(4, '0001TP_006690').random(8))
    assert not np.array_equal(a, wl.make_rng(3, '0001TP_006720').random(8))
    with pytest.raises(TypeError, match='key'):
        wl.make_rng(0, 5)
    with pytest.raises(ValueError, match='seed'):
        wl.make_rng(-1, 'x')


def test_check_label():
    lab = toy_label()
    wl.check_label(lab, C)                       # dense: classes + 255
    weak = lab.copy()
    weak[0, 0] = C
    wl.check_label(weak, C, unlabeled_index=C)   # weak: + the unlabeled index
    with pytest.raises(ValueError, match=r'some/file\.png.*\b5\b'):
        wl.check_label(weak, C, name='some/file.png')  # unlabeled not allowed in a dense label
    weak[1, 1], weak[2, 2] = 7, 254
    with pytest.raises(ValueError, match=r'x\.png: unexpected label values 7, 254'):
        wl.check_label(weak, C, unlabeled_index=C, name='x.png')
    with pytest.raises(ValueError, match=r'x\.png.*2-D'):
        wl.check_label(np.zeros((4, 4, 3), np.uint8), C, name='x.png')
    with pytest.raises(ValueError, match='integer'):
        wl.check_label(np.zeros((4, 4), np.float32), C)
    for bad in (C - 1, 255, 300):
        with pytest.raises(ValueError, match='unlabeled_index'):
            wl.check_label(lab, C, unlabeled_index=bad)


def test_image_tags_exclude_unlabeled_and_ignore():
    lab = np.array([[0, 3, 255], [6, 6, 3]], np.uint8)  # 6 = unlabeled for C = 6
    np.testing.assert_array_equal(wl.image_tags(lab, 6), [1, 0, 0, 1, 0, 0])
    assert wl.image_tags(lab, 6).dtype == bool
    np.testing.assert_array_equal(wl.image_tags(toy_label(), C), [1, 1, 1, 1, 1])


def test_connected_segments():
    lab = np.array([[1, 0, 1],
                    [0, 1, 0],
                    [2, 9, 255]], np.uint8)
    ids8, cls8 = wl.connected_segments(lab, 3, connectivity=2)
    ids4, cls4 = wl.connected_segments(lab, 3, connectivity=1)
    # class order first, then raster order of the first pixel
    np.testing.assert_array_equal(cls8, [0, 1, 2])
    np.testing.assert_array_equal(ids8, [[1, 0, 1], [0, 1, 0], [2, -1, -1]])
    np.testing.assert_array_equal(cls4, [0, 0, 0, 1, 1, 1, 2])
    np.testing.assert_array_equal(ids4, [[3, 0, 4], [1, 5, 2], [6, -1, -1]])
    assert ids4.dtype == np.int32
    seg_ids, seg_class = segments_of(toy_label())
    # 0: outer background + hole; 1: rectangle; 2: L + two dots; 3: ring; 4: pixel
    np.testing.assert_array_equal(seg_class, [0, 0, 1, 2, 2, 2, 3, 4])


# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('radius,unlabeled', [(0, None), (2.5, 17), (6, C)])
def test_points_invariants_and_radius_restricted_to_segment(seed, radius, unlabeled):
    lab = toy_label()
    seg_ids, seg_class = segments_of(lab)
    kwargs = dict(points_per_segment=2, unlabeled_index=unlabeled)
    weak = wl.simulate_points(lab, C, wl.make_rng(seed, 'toy'), radius=radius, **kwargs)
    check_weak_invariants(weak, lab, C if unlabeled is None else unlabeled)
    # the points themselves do not depend on the radius (one rng.choice per segment)
    points = wl.simulate_points(lab, C, wl.make_rng(seed, 'toy'), radius=0, **kwargs) < C
    for s in range(len(seg_class)):
        in_seg = seg_ids == s
        assert (points & in_seg).sum() == min(2, in_seg.sum())
        assert (weak[in_seg] < C).any()
    # slow reference: labeled iff a point of the *same segment* lies within the radius
    expected = np.zeros(lab.shape, bool)
    pr, pc = np.nonzero(points)
    for r, c in zip(*np.nonzero(seg_ids >= 0)):
        same = seg_ids[pr, pc] == seg_ids[r, c]
        expected[r, c] = np.any((pr[same] - r)**2 + (pc[same] - c)**2 <= radius * radius)
    np.testing.assert_array_equal(weak < C, expected)


def test_points_determinism_and_min_segment_size():
    lab = toy_label()
    a = wl.simulate_points(lab, C, wl.make_rng(0, 'img_a'), radius=1)
    np.testing.assert_array_equal(a, wl.simulate_points(lab, C, wl.make_rng(0, 'img_a'), radius=1))
    assert not np.array_equal(a, wl.simulate_points(lab, C, wl.make_rng(1, 'img_a'), radius=1))
    assert not np.array_equal(a, wl.simulate_points(lab, C, wl.make_rng(0, 'img_b'), radius=1))
    weak = wl.simulate_points(lab, C, wl.make_rng(0, 'x'), min_segment_size=2)
    assert weak[22, 50] == C and weak[2, 44] == C and weak[2, 46] == C  # 1-pixel segments
    assert (weak < C).sum() == 5  # the five larger segments, one point each
    with pytest.raises(ValueError, match='points_per_segment'):
        wl.simulate_points(lab, C, wl.make_rng(0, 'x'), points_per_segment=0)
    with pytest.raises(ValueError, match='radius'):
        wl.simulate_points(lab, C, wl.make_rng(0, 'x'), radius=-1)
    dense_with_unlabeled = lab.copy()
    dense_with_unlabeled[0, 0] = C
    with pytest.raises(ValueError, match='unexpected label values 5'):
        wl.simulate_points(dense_with_unlabeled, C, wl.make_rng(0, 'x'))


# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize('seed', [0, 7])
def test_scribbles_invariants_width_one_is_a_connected_path(seed):
    lab = toy_label()
    seg_ids, seg_class = segments_of(lab)
    weak = wl.simulate_scribbles(lab, C, wl.make_rng(seed, 'toy'), width=1, unlabeled_index=9)
    check_weak_invariants(weak, lab, 9)
    eight = np.ones((3, 3), bool)
    for s in range(len(seg_class)):
        drawn = (weak < C) & (seg_ids == s)
        assert drawn.any()
        assert ndimage.label(drawn, structure=eight)[1] == 1  # one contiguous stroke
    # the rectangle's skeleton path spans most of its length (it is a scribble, not a dot)
    cols = np.nonzero((weak == 1))[1]
    assert cols.max() - cols.min() >= 20
    assert weak[22, 50] == 4  # single-pixel segment keeps its pixel


def test_scribbles_length_fraction_nested_and_monotone():
    lab = toy_label()
    masks = [wl.simulate_scribbles(lab, C, wl.make_rng(3, 'toy'), length_fraction=f) < C
             for f in (0.1, 0.3, 0.6, 1.0)]
    for short, long in zip(masks[:-1], masks[1:]):
        assert np.all(long[short])              # shorter scribbles are sub-strokes
        assert short.sum() < long.sum()
    for width in (1, 3, 5):                     # wider strokes cover more, still inside segments
        weak = wl.simulate_scribbles(lab, C, wl.make_rng(3, 'toy'), width=width)
        check_weak_invariants(weak, lab, C)
    assert ((wl.simulate_scribbles(lab, C, wl.make_rng(3, 'toy'), width=1) < C).sum()
            < (wl.simulate_scribbles(lab, C, wl.make_rng(3, 'toy'), width=5) < C).sum())


def test_scribbles_determinism_and_errors():
    lab = toy_label()
    a = wl.simulate_scribbles(lab, C, wl.make_rng(0, 'k'), length_fraction=0.5)
    np.testing.assert_array_equal(
        a, wl.simulate_scribbles(lab, C, wl.make_rng(0, 'k'), length_fraction=0.5))
    assert not np.array_equal(
        a, wl.simulate_scribbles(lab, C, wl.make_rng(1, 'k'), length_fraction=0.5))
    for bad in (0, 1.5):
        with pytest.raises(ValueError, match='length_fraction'):
            wl.simulate_scribbles(lab, C, wl.make_rng(0, 'k'), length_fraction=bad)
    with pytest.raises(ValueError, match='width'):
        wl.simulate_scribbles(lab, C, wl.make_rng(0, 'k'), width=0)


@pytest.mark.parametrize('name', ['0001TP_006690', '0016E5_06420'])
def test_simulators_on_real_camvid_labels(name, shared_camvid):
    path = require_shared(osp.join(shared_camvid, 'labels', 'train', name + '.png'))
    lab = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    seg_ids, seg_class = wl.connected_segments(lab, 11)
    for weak in (wl.simulate_points(lab, 11, wl.make_rng(0, name), radius=3),
                 wl.simulate_scribbles(lab, 11, wl.make_rng(0, name))):
        np.testing.assert_array_equal(weak == 255, lab == 255)
        labeled = weak < 11
        np.testing.assert_array_equal(weak[labeled], lab[labeled])
        assert np.all(weak[~labeled & (lab != 255)] == 11)
        assert len(np.unique(seg_ids[labeled])) == len(seg_class)


# ---------------------------------------------------------------------------------------------
def test_boxes_from_components():
    lab = np.zeros((20, 30), np.uint8)
    lab[12:16, 2:6] = 1      # small class-1 square (generated first) ...
    lab[2:18, 8:10] = 2      # ... inside the box of a large class-2 L-shape (generated later)
    lab[16:18, 0:10] = 2
    lab[3:5, 20:28] = 3
    lab[8:14, 22] = 3        # 1 px wide: dropped with min_box_size=2
    lab[0, :] = 255
    lab[13, 3] = 255         # void inside a box stays void
    out, boxes = wl.simulate_boxes(lab, C)
    assert boxes == [(1, 2, 12, 6, 16), (2, 0, 2, 10, 18), (3, 20, 3, 28, 5), (3, 22, 8, 23, 14)]
    assert all(isinstance(v, int) for box in boxes for v in box)
    expected = np.zeros_like(lab)
    expected[2:18, 0:10] = 2
    expected[12:16, 2:6] = 1  # smaller box on top although generated first
    expected[3:5, 20:28] = 3
    expected[8:14, 22] = 3
    expected[lab == 255] = 255
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == np.uint8
    out2, boxes2 = wl.simulate_boxes(lab, C, min_box_size=2)
    assert boxes2 == boxes[:3] and np.all(out2[8:14, 22] == 0)


def test_boxes_from_instances():
    lab = np.zeros((12, 24), np.uint8)
    lab[2:10, 2:20] = 1
    lab[2:10, 15:20] = 3
    inst = np.zeros_like(lab)
    inst[2:10, 2:11] = 4            # class 1
    inst[2:10, 11:20] = 2           # mostly class 3 (5 of 9 columns) -> class 3
    inst[0, :] = 255                # void instance id: ignored
    inst[11, 0:3] = 7               # over background only: skipped
    out, boxes = wl.simulate_boxes(lab, C, instances=inst)
    assert boxes == [(3, 11, 2, 20, 10), (1, 2, 2, 11, 10)]  # instance id order
    assert np.all(out[2:10, 2:11] == 1) and np.all(out[2:10, 11:20] == 3)
    assert out.sum() == 8 * 9 * 1 + 8 * 9 * 3
    with pytest.raises(ValueError, match='instances'):
        wl.simulate_boxes(lab, C, instances=inst[:5])


# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize('method,params', [('slic', dict(n_segments=600, compactness=5.0)),
                                           ('felzenszwalb', dict(scale=1.0, min_size=1))])
def test_superpixels_contiguous_uint16_round_trip(method, params, tmp_path):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)
    regions = wl.superpixels(image, method, **params)
    assert regions.dtype == np.uint16 and regions.shape == (60, 80)
    ids = np.unique(regions)
    np.testing.assert_array_equal(ids, np.arange(ids.size))
    assert ids.size > 256  # ids above 8 bits must survive the PNG
    path = str(tmp_path / 'sp.png')
    assert cv2.imwrite(path, regions)
    back = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    assert back.dtype == np.uint16
    np.testing.assert_array_equal(back, regions)
    np.testing.assert_array_equal(regions, wl.superpixels(image, method, **params))


def test_superpixels_rejects_bad_input():
    with pytest.raises(ValueError, match='uint8'):
        wl.superpixels(np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match='method'):
        wl.superpixels(np.zeros((4, 4, 3), np.uint8), method='hed')
    with pytest.raises(ValueError, match='unknown slic parameters'):
        wl.superpixels(np.zeros((4, 4, 3), np.uint8), scale=3)
    with pytest.raises(ValueError, match='n_segments'):
        wl.superpixels(np.zeros((4, 4, 3), np.uint8), n_segments=0)


# ---------------------------------------------------------------------------------------------
def test_load_real_whats_the_point_file(shared_wtp_json):
    data = wl.load_whats_the_point(shared_wtp_json)
    assert len(data) == 12180
    clicks = [c for v in data.values() for c in v]
    assert len(clicks) == 32697
    assert all(isinstance(c['x'], float) and isinstance(c['cls'], int) for c in clicks)
    assert {c['cls'] for c in clicks} <= set(range(21))
    assert data['2008_004171'] == [dict(x=253.3783783783784, y=322.39114916002427, rank=1,
                                        cls=16)]


@pytest.mark.parametrize('content,match', [
    ('[1, 2]', 'expected a JSON object'),
    ('{"a": {"x": 1}}', "image 'a': expected a list"),
    ('{"a": [{"x": 1, "y": 2, "cls": 3}]}', r"image 'a', click #0 .*exactly the keys"),
    ('{"a": [{"x": 1, "y": 2, "rank": 1, "cls": 3, "z": 0}]}', 'exactly the keys'),
    ('{"a": [], "b": [{"x": "1", "y": 2, "rank": 1, "cls": 3}]}', "image 'b'.*x and y"),
    ('{"a": [{"x": 1, "y": 2, "rank": 1, "cls": true}]}', 'cls'),
    ('{"a": [{"x": 1, "y": 2, "rank": 1.5, "cls": 2}]}', 'rank'),
    ('{"a": [', 'not valid JSON'),
])
def test_load_whats_the_point_rejects_bad_entries(tmp_path, content, match):
    path = tmp_path / 'bad.json'
    path.write_text(content)
    with pytest.raises(ValueError, match=r'bad\.json.*' + match):
        wl.load_whats_the_point(str(path))


def test_clicks_to_label_rounding_clipping_and_classes():
    clicks = [dict(x=2.5, y=1.49, rank=1, cls=3),    # -> row 1, col 3
              dict(x=-0.7, y=3.2, rank=1, cls=0),    # col -1 -> clipped to 0
              dict(x=9.6, y=7.5, rank=2, cls=20)]    # col 10 = W -> 9, row 8 = H -> 7
    out = wl.clicks_to_label(clicks, (8, 10))
    expected = np.full((8, 10), 21, np.uint8)
    expected[1, 3], expected[3, 0], expected[7, 9] = 3, 0, 20
    np.testing.assert_array_equal(out, expected)
    inner = [dict(x=4.4, y=3.5, rank=1, cls=3)]       # -> row 4, col 4
    out = wl.clicks_to_label(inner, (8, 10), radius=2, unlabeled_index=30)
    assert (out == 3).sum() == 13 and out[6, 4] == 3 and out[6, 5] == 30  # dx^2 + dy^2 <= 4
    assert set(np.unique(out)) == {3, 30}
    assert (wl.clicks_to_label(clicks[:1], (8, 10), radius=2) == 3).sum() == 12  # cut by the top
    far = dict(x=11.6, y=2.0, rank=1, cls=1)  # rounds to col 12 > W
    with pytest.raises(ValueError, match=r"click #1 .*'x': 11\.6.*outside the 8x10 image"):
        wl.clicks_to_label([clicks[0], far], (8, 10))
    np.testing.assert_array_equal(
        wl.clicks_to_label([clicks[0], far], (8, 10), outside='drop'),
        wl.clicks_to_label([clicks[0]], (8, 10)))
    assert wl.clicks_outside([clicks[0], far, clicks[2]], (8, 10)) == [1]
    with pytest.raises(ValueError, match=r'cls must be in \[0, 21\)'):
        wl.clicks_to_label([dict(x=1, y=1, rank=1, cls=21)], (8, 10))


def test_clicks_to_label_overlap_nearest_then_rank_then_order():
    clicks = [dict(x=2, y=2, rank=2, cls=5), dict(x=6, y=2, rank=1, cls=7)]
    out = wl.clicks_to_label(clicks, (5, 9), radius=3)
    assert out[2, 2] == 5 and out[2, 6] == 7          # centres keep their class
    assert out[2, 3] == 5 and out[2, 5] == 7          # nearest click wins
    assert out[2, 4] == 7                             # equidistant: lower rank wins
    same_rank = [dict(x=2, y=2, rank=1, cls=5), dict(x=6, y=2, rank=1, cls=7)]
    assert wl.clicks_to_label(same_rank, (5, 9), radius=3)[2, 4] == 5  # then the first listed
    on_top = [dict(x=4, y=2, rank=3, cls=1), dict(x=4.2, y=2.1, rank=1, cls=2)]
    assert wl.clicks_to_label(on_top, (5, 9))[2, 4] == 2  # same pixel: lower rank


def test_whats_the_point_json_round_trip(tmp_path):
    data = {'2007_000001': [dict(x=10.4, y=20.6, rank=1, cls=15)], '2007_000002': []}
    path = tmp_path / 'wtp.json'
    path.write_text(json.dumps(data))
    loaded = wl.load_whats_the_point(str(path))
    assert loaded == data
    out = wl.clicks_to_label(loaded['2007_000001'], (30, 40))
    assert out[21, 10] == 15 and (out == 15).sum() == 1
    assert np.all(wl.clicks_to_label(loaded['2007_000002'], (30, 40)) == 21)
