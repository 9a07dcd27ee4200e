"""mmspml.datasets.weak_labels.rasterise: the drawing shared by the simulators and the
annotation converters, and the shapes the simulators return."""
import numpy as np
import pytest

from mmspml.datasets import weak_labels as wl
from mmspml.datasets.weak_labels.rasterise import (box_to_bounds, disk, draw_disks, line_pixels,
                                                   paint_boxes, path_vertices, pixels_to_points,
                                                   points_to_pixels, polygon_mask,
                                                   scribble_radius)
from tests.conftest import make_blocky_label


def test_line_pixels_is_8_connected_through_the_vertices():
    assert line_pixels([[2, 3]]).tolist() == [[2, 3]]
    assert line_pixels([[0, 0], [0, 3]]).tolist() == [[0, 0], [0, 1], [0, 2], [0, 3]]
    assert line_pixels([[0, 0], [2, 2], [2, 2], [0, 2]]).tolist() == [
        [0, 0], [1, 1], [2, 2], [1, 2], [0, 2]]  # the repeated vertex is dropped
    p = line_pixels([[0, 0], [3, 7], [-2, 1]])
    assert np.abs(np.diff(p, axis=0)).max() == 1  # 8-neighbours, no repeat
    assert (np.abs(np.diff(p, axis=0)).sum(1) > 0).all()
    assert p[0].tolist() == [0, 0] and [3, 7] in p.tolist() and p[-1].tolist() == [-2, 1]
    assert len(p) == 7 + 6 + 1  # max(|dr|, |dc|) steps per segment
    # a segment (3, 7): rows round(3 t / 7), half up
    assert p[:8, 0].tolist() == [0, 0, 1, 1, 2, 2, 3, 3]


def test_path_vertices_inverts_line_pixels():
    rng = np.random.default_rng(0)
    steps = np.array([[0, 1], [1, 1], [1, 0], [1, -1], [0, -1], [-1, -1], [-1, 0], [-1, 1]])
    path = np.cumsum(np.concatenate([[[10, 10]], steps[rng.integers(0, 8, 60).repeat(3)]]),
                     axis=0)
    path = path[np.concatenate([[True], np.any(np.diff(path, axis=0) != 0, axis=1)])]
    v = path_vertices(path)
    assert len(v) < len(path) and (line_pixels(v) == path).all()
    with pytest.raises(ValueError, match='8-neighbours'):
        path_vertices([[0, 0], [0, 2]])


def test_points_and_pixels():
    assert points_to_pixels([[0, 0], [5.99, 2.01], [60, 40]], (40, 60)).tolist() == [
        [0, 0], [2, 5], [39, 59]]  # the far border belongs to the last pixel
    assert points_to_pixels([[-0.5, 3]]).tolist() == [[3, -1]]
    pix = np.array([[3, 4], [0, 0]])
    assert (points_to_pixels(pixels_to_points(pix)) == pix).all()


def test_draw_disks_clips_and_restricts():
    assert (draw_disks([[2, 3]], (5, 6), 0) == (np.arange(30).reshape(5, 6) == 15)).all()
    out = draw_disks([[-1, 2]], (5, 6), 2)  # centre outside: the part inside is drawn
    full = np.zeros((9, 10), bool)
    full[1:6, 2:7] = disk(2).astype(bool)  # the same disk on a larger canvas, centre (3, 4)
    assert (out == full[4:9, 2:8]).all() and out.sum() == 3 + 1
    assert not draw_disks([[-4, 2], [2, 9]], (5, 6), 2).any()  # too far outside
    within = np.zeros((5, 6), bool)
    within[:, :3] = True
    assert (draw_disks([[2, 2]], (5, 6), 1.5, within) ==
            (draw_disks([[2, 2]], (5, 6), 1.5) & within)).all()
    assert scribble_radius(3) == 1 and scribble_radius(1) == 0
    with pytest.raises(ValueError, match='width'):
        scribble_radius(0)


def test_boxes_and_polygons():
    assert box_to_bounds(2, 3, 7, 9) == (2, 3, 7, 9)  # integer corners: themselves
    assert box_to_bounds(7, 9, 2, 3) == (2, 3, 7, 9)
    assert box_to_bounds(2.5, 3.4, 6.5, 8.6) == (2, 3, 7, 9)  # centres 2.5 .. 6.5 inside
    assert box_to_bounds(2.6, 3.6, 6.4, 8.4) == (3, 4, 6, 8)
    out = np.zeros((6, 8), np.uint8)
    paint_boxes(out, [(1, 0, 0, 3, 3), (2, -2, -2, 20, 20), (3, 5, 4, 8, 6)])
    assert out[0, 0] == 1 and out[5, 0] == 2 and out[4, 5] == 3  # large first, clipped
    mask = polygon_mask([[1, 1], [5, 1], [5, 4], [1, 4]], (6, 8))
    exp = np.zeros((6, 8), bool)
    exp[1:4, 1:5] = True  # centres inside
    assert (mask == exp).all()


@pytest.mark.parametrize('seed', [0, 1])
def test_simulator_shapes_redraw_to_the_label(seed):
    label = make_blocky_label(np.random.default_rng(seed), 40, 56, 5)
    valid = label != 255
    for within in (True, False):
        kw = dict(within_segment=within)
        plain = wl.simulate_scribbles(label, 5, wl.make_rng(seed, 'a'), width=3, **kw)
        out, shapes = wl.simulate_scribbles(label, 5, wl.make_rng(seed, 'a'), width=3,
                                            return_shapes=True, **kw)
        assert (out == plain).all() and all(len(s['points']) >= 2 for s in shapes)
        redraw = np.full(label.shape, 5, np.uint8)
        for s in shapes:
            mask = draw_disks(line_pixels(points_to_pixels(s['points'])), label.shape, 1)
            redraw[mask & (valid if not within else label == s['cls'])] = s['cls']
        if within:  # strokes stay in their segment: at least as many as the label shows
            assert ((out != 5) & valid).sum() <= ((redraw != 5) & valid).sum()
            assert (out[valid & (out != 5)] == label[valid & (out != 5)]).all()
        else:  # an unrestricted stroke is exactly the redrawn polyline
            assert (out[valid] == redraw[valid]).all()
        pts, pshapes = wl.simulate_points(label, 5, wl.make_rng(seed, 'a'), radius=2,
                                          points_per_segment=2, return_shapes=True, **kw)
        redraw = np.full(label.shape, 5, np.uint8)
        for s in pshapes:
            redraw[draw_disks(points_to_pixels(s['points']), label.shape, 2)] = s['cls']
        if not within:
            assert (pts[valid] == redraw[valid]).all()
        assert (pts[~valid] == 255).all() and (out[~valid] == 255).all()
    # a wide unrestricted stroke leaves its segment; a width-1 stroke never does
    a = wl.simulate_scribbles(label, 5, wl.make_rng(seed, 'a'), width=3)
    b = wl.simulate_scribbles(label, 5, wl.make_rng(seed, 'a'), width=3, within_segment=False)
    assert (a != b).any()
    a = wl.simulate_scribbles(label, 5, wl.make_rng(seed, 'a'), width=1)
    b = wl.simulate_scribbles(label, 5, wl.make_rng(seed, 'a'), width=1, within_segment=False)
    assert (a == b).all()
