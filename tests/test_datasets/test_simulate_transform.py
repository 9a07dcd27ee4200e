"""The on-the-fly weak labels equal the PNGs written by tools/simulate_weak_labels.py."""
import os.path as osp

import cv2
import numpy as np
import pytest
from mmseg.registry import DATASETS

from tests.test_tools.test_weak_label_tools import load_tool


@pytest.mark.parametrize('kind, params, cli', [
    ('points', dict(points_per_segment=1, radius=2), ['--radius', '2']),
    ('scribbles', dict(length_fraction=0.5, width=3), ['--length-fraction', '0.5']),
])
def test_transform_matches_tool(camvid_tree, tmp_path, kind, params, cli):
    out = str(tmp_path / kind)
    load_tool('simulate_weak_labels').main(
        [camvid_tree, '--kind', kind, '--num-classes', '11', '--seed', '3', '--out', out,
         *cli])
    pipe = [dict(type='LoadImageFromFile'), dict(type='LoadWeakAnnotations'),
            dict(type='SimulateWeakLabel', kind=kind, seed=3, **params)]
    ds = DATASETS.build(dict(type='CamVidDataset', data_root=camvid_tree, pipeline=pipe))
    from_files = DATASETS.build(dict(type='CamVidDataset', data_root=camvid_tree,
                                     label_dir=osp.join(out, '{split}'),
                                     pipeline=pipe[:2]))
    for i in range(len(ds)):
        a = ds[i]['gt_seg_map']
        b = from_files[i]['gt_seg_map']
        name = osp.basename(ds[i]['img_path'])[:-4]
        c = cv2.imread(osp.join(out, 'train', name + '.png'), cv2.IMREAD_UNCHANGED)
        assert np.array_equal(a, b) and np.array_equal(a, c)
        dense = cv2.imread(osp.join(camvid_tree, 'labels', 'train', name + '.png'),
                           cv2.IMREAD_UNCHANGED)
        assert np.array_equal(a == 255, dense == 255)  # ignore stays ignore, nothing else
        labeled = a < 11
        assert labeled.any() and (a[~labeled & (dense != 255)] == 11).all()
        assert np.array_equal(a[labeled], dense[labeled])


def test_simulate_weak_label_repr_and_bad_kind():
    from mmspml.datasets.transforms import SimulateWeakLabel
    t = SimulateWeakLabel(kind='points', seed=1, radius=2)
    assert repr(t) == "SimulateWeakLabel(kind='points', seed=1, radius=2)"
    with pytest.raises(ValueError, match='kind'):
        SimulateWeakLabel(kind='circles')


def test_boxes_transform_matches_tool(camvid_tree, tmp_path):
    out = str(tmp_path / 'boxes')
    load_tool('simulate_weak_labels').main(
        [camvid_tree, '--kind', 'boxes', '--num-classes', '11', '--min-box-size', '3',
         '--out', out])
    pipe = [dict(type='LoadImageFromFile'), dict(type='LoadWeakAnnotations'),
            dict(type='SimulateWeakLabel', kind='boxes', min_box_size=3)]
    ds = DATASETS.build(dict(type='CamVidDataset', data_root=camvid_tree, pipeline=pipe))
    assert len(ds) > 0
    for i in range(len(ds)):
        a = ds[i]['gt_seg_map']
        name = osp.basename(ds[i]['img_path'])[:-4]
        c = cv2.imread(osp.join(out, 'train', name + '.png'), cv2.IMREAD_UNCHANGED)
        assert np.array_equal(a, c), name
        dense = cv2.imread(osp.join(camvid_tree, 'labels', 'train', name + '.png'),
                           cv2.IMREAD_UNCHANGED)
        assert np.array_equal(a == 255, dense == 255)
        assert len(np.unique(a[a != 255])) > 1  # boxes of several classes over background


@pytest.mark.parametrize('kind', ['points', 'scribbles'])
def test_memo_returns_the_simulation_and_simulates_each_label_once(kind, monkeypatch):
    from mmspml.datasets.transforms import SimulateWeakLabel
    from mmspml.datasets.weak_labels import simulators as wl
    rng = np.random.default_rng(0)
    labels = [np.kron(rng.integers(0, 4, (6, 8)), np.ones((5, 5), int)).astype(np.uint8)
              for _ in range(2)]

    def results(label, name):
        return dict(gt_seg_map=label.copy(), img_path=f'/x/{name}.png', num_classes=4,
                    unlabeled_index=4)

    plain = SimulateWeakLabel(kind=kind, seed=2, cache_size=0)
    memo = SimulateWeakLabel(kind=kind, seed=2, cache_size=2)
    fn = getattr(wl, f'simulate_{kind}')
    calls = []
    monkeypatch.setattr(wl, f'simulate_{kind}', lambda *a, **k: calls.append(1) or fn(*a, **k))
    want = [plain(results(lab, 'a'))['gt_seg_map'] for lab in labels]
    assert len(calls) == 2 and not np.array_equal(want[0], want[1])
    calls.clear()
    for _ in range(3):
        for lab, w in zip(labels, want):
            out = memo(results(lab, 'a'))['gt_seg_map']  # same name, other label: no clash
            assert np.array_equal(out, w)
            out[:] = 0  # the caller's copy; the memo keeps its own
    assert len(calls) == 2
    other = memo(results(labels[0], 'b'))['gt_seg_map']  # another name: its own rng
    assert np.array_equal(other, plain(results(labels[0], 'b'))['gt_seg_map'])
    assert len(memo._cache) == 2  # bounded by cache_size, oldest dropped
    with pytest.raises(ValueError, match='cache_size'):
        SimulateWeakLabel(kind=kind, cache_size=-1)
