"""AddImageTags, SimulateWeakLabel, ComputeSuperpixels, PackSPMLInputs on odd inputs."""
import numpy as np
import pytest
import torch

from mmspml.datasets.transforms import (AddImageTags, ComputeSuperpixels, PackSPMLInputs,
                                        SimulateWeakLabel)
from tests._data_utils import weak_label_of


def results(label, img=None):
    h, w = label.shape
    img = np.random.default_rng(0).integers(0, 255, (h, w, 3), dtype=np.uint8) \
        if img is None else img
    return dict(img=img, gt_seg_map=label, img_path='x/odd_0001.jpg', num_classes=4,
                unlabeled_index=4, seg_fields=['gt_seg_map'], img_shape=(h, w),
                ori_shape=(h, w))


@pytest.mark.parametrize('shape', [(1, 1), (1, 9), (9, 1), (5, 7)])
@pytest.mark.parametrize('kind', ['points', 'scribbles', 'boxes'])
def test_simulate_on_thin_and_tiny_labels(shape, kind):
    label = (np.arange(np.prod(shape)).reshape(shape) % 3).astype(np.uint8)  # 1-px regions
    out = SimulateWeakLabel(kind=kind, seed=0)(results(label.copy()))['gt_seg_map']
    assert out.shape == shape and out.dtype == np.uint8
    if kind != 'boxes':
        labeled = out < 4
        assert labeled.any() and (out[labeled] == label[labeled]).all()
        assert set(np.unique(out)) <= {0, 1, 2, 4}


@pytest.mark.parametrize('kind', ['points', 'scribbles', 'boxes'])
def test_all_ignore_label_stays_ignore(kind):
    label = np.full((6, 5), 255, np.uint8)
    out = SimulateWeakLabel(kind=kind)(results(label.copy()))['gt_seg_map']
    assert (out == 255).all()


def test_tags_of_all_ignore_and_unlabeled_only_labels():
    for value in (255, 4):
        r = AddImageTags()(results(np.full((3, 4), value, np.uint8)))
        assert r['img_tags'].dtype == np.bool_ and not r['img_tags'].any()
    r = AddImageTags()(results(np.array([[0, 3, 4, 255]], np.uint8)))
    assert r['img_tags'].tolist() == [True, False, False, True]
    assert repr(AddImageTags()) == 'AddImageTags(num_classes=None)'


@pytest.mark.parametrize('shape', [(1, 7), (7, 1), (2, 2), (13, 17)])
def test_superpixels_on_odd_sizes(shape):
    r = ComputeSuperpixels(method='slic', n_segments=4)(
        results(np.zeros(shape, np.uint8)))
    ovs = r['gt_overseg']
    assert ovs.shape == shape and ovs.dtype == np.int32 and ovs.min() == 0
    assert r['seg_fields'] == ['gt_seg_map', 'gt_overseg']
    float_img = results(np.zeros(shape, np.uint8))
    float_img['img'] = r['img'].astype(np.float32)
    assert np.array_equal(ComputeSuperpixels(method='slic', n_segments=4)(float_img)
                          ['gt_overseg'], ovs)
    with pytest.raises(ValueError, match='method'):
        ComputeSuperpixels(method='watershed')
    assert repr(ComputeSuperpixels(n_segments=4)) == \
        "ComputeSuperpixels(method='slic', n_segments=4)"


def test_pack_carries_overseg_tags_and_ids():
    r = results(np.array([[0, 4, 255]], np.uint8))
    r = AddImageTags()(r)
    r['gt_overseg'] = np.array([[300, 2, 7]], np.int32)
    r['sample_idx'] = 5
    packed = PackSPMLInputs()(r)
    ds = packed['data_samples']
    assert ds.gt_overseg.data.dtype == torch.int64
    assert ds.gt_overseg.data.tolist() == [[[300, 2, 7]]]
    assert weak_label_of(ds).tolist() == [[[0, 4, 255]]]
    assert ds.gt_sem_seg.data.tolist() == [[[0, 255, 255]]]  # unlabeled -> ignore for CE
    assert ds.unlabeled_index == 4 and ds.num_classes == 4 and ds.sample_idx == 5
    assert ds.img_tags.tolist() == [True, False, False, False]
    r['gt_overseg'] = np.zeros((1, 3, 1), np.int32)
    with pytest.raises(ValueError, match='gt_overseg'):
        PackSPMLInputs()(r)
