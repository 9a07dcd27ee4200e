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
