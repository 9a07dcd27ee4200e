"""SPML's geometric pipeline on every seg field (spml-method.md §1.5, §10).

The key check: a label and an over-segmentation map that encode the *same* pixel ids
must still agree pixel by pixel after flip / rescale / crop / pad, with 16-bit region ids
(> 255) kept exactly, and padding 255 in both.
"""
import os.path as osp

import cv2
import numpy as np
import pytest
from mmseg.registry import TRANSFORMS
from PIL import Image

from mmspml.datasets.transforms import (DENSEPOSE_FLIP_MAP, AddImageTags, DensePoseFlip,
                                        LoadOverSegmentation, LoadWeakAnnotations,
                                        PackSPMLInputs, PadSegFields, RandomRescale)

C = 21
ID0 = 1000  # first region id: above 255 so 16-bit ids are exercised and differ from pad


def coded_results(h, w, channels=3):
    """Results whose label, over-segmentation map and (nearest-interpolated) image all
    encode the pixel index p = y * w + x: label = p % C, overseg = ID0 + p,
    image = (p // 256, p % 256, 7)."""
    p = np.arange(h * w, dtype=np.int64).reshape(h, w)
    img = np.stack([p // 256, p % 256, np.full_like(p, 7)], -1).astype(np.uint8)
    return dict(img=img[..., :channels], img_shape=(h, w), ori_shape=(h, w),
                gt_seg_map=(p % C).astype(np.uint8),
                gt_overseg=(ID0 + p).astype(np.int32),
                seg_fields=['gt_seg_map', 'gt_overseg'])


def assert_aligned(r, pad_val=255):
    """Label, over-segmentation and image still agree pixel by pixel."""
    label, ovs, img = r['gt_seg_map'], r['gt_overseg'], r['img']
    assert label.shape == ovs.shape == img.shape[:2]
    assert label.dtype == np.uint8 and ovs.dtype == np.int32
    pad = ovs == pad_val
    np.testing.assert_array_equal(label == pad_val, pad)
    p = ovs[~pad].astype(np.int64) - ID0
    assert (p >= 0).all()
    np.testing.assert_array_equal(label[~pad], p % C)
    np.testing.assert_array_equal(img[~pad][:, 0], p // 256)
    np.testing.assert_array_equal(img[~pad][:, 1], p % 256)
    return pad


def build(cfg):
    return TRANSFORMS.build(cfg)


# ------------------------------------------------------------------ every seg field
@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('hw', [(37, 53), (9, 1), (1, 14)])
def test_pipeline_keeps_seg_fields_aligned(seed, hw):
    np.random.seed(seed)
    h, w = hw
    r = coded_results(h, w)
    ids = set(r['gt_overseg'].ravel().tolist())
    pipeline = [
        build(dict(type='RandomFlip', prob=0.5)),
        RandomRescale(ratio_range=(0.5, 1.5), interpolation='nearest'),
        PadSegFields(size=(24, 20), img_pad_val=0),
        build(dict(type='RandomCrop', crop_size=(24, 20), cat_max_ratio=1.0)),
    ]
    for t in pipeline:
        r = t(r)
    assert r['img'].shape[:2] == (24, 20)
    pad = assert_aligned(r)
    assert set(r['gt_overseg'][~pad].tolist()) <= ids  # values survive exactly
    assert (r['img'][pad] == 0).all()
    # the recorded valid pixels follow the crop after the padding
    assert r['valid_mask'].dtype == np.uint8
    np.testing.assert_array_equal(r['valid_mask'] == 0, pad)
    packed = PackSPMLInputs()(r)['data_samples']
    np.testing.assert_array_equal(packed.valid_mask.data[0].numpy(), ~pad)


def test_mmseg_flip_flips_overseg_too():
    r = coded_results(5, 7)
    ref = r['gt_overseg'].copy()
    r = build(dict(type='RandomFlip', prob=1.0))(r)
    np.testing.assert_array_equal(r['gt_overseg'], ref[:, ::-1])
    assert_aligned(r)


def test_mmcv_random_resize_resizes_overseg_too():
    """The CamVid pipelines use mmcv's RandomResize: under the mmseg scope it builds
    mmseg's Resize, which resizes every seg field (mmcv's own only gt_seg_map)."""
    np.random.seed(0)
    t = build(dict(type='RandomResize', scale=(30, 20), ratio_range=(0.75, 1.5),
                   keep_ratio=True, interpolation='nearest'))
    r = t(coded_results(10, 15))
    assert r['gt_overseg'].shape != (10, 15)
    assert_aligned(r)


def test_crop_larger_than_image_then_pad():
    r = coded_results(6, 4)
    r = build(dict(type='RandomCrop', crop_size=(10, 12)))(r)
    assert r['img'].shape[:2] == (6, 4)  # RandomCrop does not pad
    r = PadSegFields(size=(10, 12), img_pad_val=(1, 2, 3))(r)
    pad = assert_aligned(r)
    assert pad.sum() == 10 * 12 - 6 * 4 and not pad[:6, :4].any()  # bottom/right
    assert (r['img'][pad] == [1, 2, 3]).all()
    assert r['img_shape'] == (10, 12) and r['pad_shape'][:2] == (10, 12)
    # img_shape no longer tells the padding: valid_mask does
    np.testing.assert_array_equal(r['valid_mask'], (~pad).astype(np.uint8))
    assert r['seg_fields'] == ['gt_seg_map', 'gt_overseg', 'valid_mask']
    again = PadSegFields(size=(11, 13))(r)  # a second padding pads the mask with 0
    assert again['valid_mask'].sum() == 6 * 4 and again['valid_mask'].shape == (11, 13)
    assert again['seg_fields'].count('valid_mask') == 1


# ------------------------------------------------------------------ RandomRescale
@pytest.mark.parametrize('hw, ratio, expect', [((41, 57), 0.5, (20, 28)),
                                               ((41, 57), 1.5, (61, 85)),
                                               ((7, 1), 0.5, (3, 1)),
                                               ((1, 9), 0.5, (1, 4))])
def test_random_rescale_truncates_like_spml(hw, ratio, expect):
    r = coded_results(*hw)
    r = RandomRescale(ratio_range=(ratio, ratio), interpolation='nearest')(r)
    assert r['img'].shape[:2] == expect and r['img_shape'] == expect
    assert r['scale_factor'] == (expect[1] / hw[1], expect[0] / hw[0])
    assert_aligned(r)


def test_random_rescale_bilinear_image_nearest_labels():
    np.random.seed(3)
    r = coded_results(16, 16)
    r['img'] = r['img'].astype(np.float32)
    r = RandomRescale(ratio_range=(0.5, 1.5))(r)
    assert r['img'].dtype == np.float32
    ratio = r['img'].shape[0] / 16
    assert 0.5 <= ratio <= 1.5
    assert set(np.unique(r['gt_overseg'])) <= set(range(ID0, ID0 + 256))
    np.testing.assert_array_equal(r['gt_seg_map'], (r['gt_overseg'] - ID0) % C)


@pytest.mark.parametrize('bad', [(0, 1.5), (1.5, 0.5), (1.0, ), 'x'])
def test_random_rescale_rejects(bad):
    with pytest.raises(ValueError, match='ratio_range'):
        RandomRescale(ratio_range=bad)


# ------------------------------------------------------------------ PadSegFields
def test_pad_float_mean_is_exact_and_uint8_rounds():
    mean = (103.53, 116.28, 123.675)
    r = coded_results(3, 4)
    r['img'] = r['img'].astype(np.float32)
    out = PadSegFields(size=5, img_pad_val=mean)(r)
    np.testing.assert_allclose(out['img'][4, 0], mean, rtol=0, atol=1e-4)
    r = PadSegFields(size=5, img_pad_val=103.5)(coded_results(3, 4))
    assert r['img'].dtype == np.uint8
    assert (r['img'][4, 0] == 104).all()  # a scalar fills every channel


def test_pad_leaves_larger_maps_and_all_ignore():
    r = coded_results(8, 9)
    r['gt_seg_map'][:] = 255  # all-ignore label
    out = PadSegFields(size=(4, 4))(r)
    assert out['img'].shape[:2] == (8, 9) and (out['gt_seg_map'] == 255).all()


def test_pad_rejects_mismatched_fields_and_bad_args():
    r = coded_results(4, 4)
    r['gt_overseg'] = r['gt_overseg'][:3]
    with pytest.raises(ValueError, match='gt_overseg.*every seg field'):
        PadSegFields(size=6)(r)
    for kw in (dict(size=0), dict(size=(4, )), dict(size=4, img_pad_val='mean'),
               dict(size=4, seg_pad_val=2.5)):
        with pytest.raises(ValueError):
            PadSegFields(**kw)
    with pytest.raises(ValueError, match='2 values'):
        PadSegFields(size=6, img_pad_val=(0, 0))(coded_results(4, 4))


# ------------------------------------------------------------------ DensePoseFlip
def test_densepose_flip_swaps_parts_in_label_only():
    label = np.array([list(range(15)) + [15, 200, 255]], np.uint8).repeat(2, 0)
    ovs = np.tile(np.arange(18, dtype=np.int32), (2, 1))
    r = dict(img=np.zeros((2, 18, 3), np.uint8), gt_seg_map=label.copy(),
             gt_overseg=ovs.copy(), seg_fields=['gt_seg_map', 'gt_overseg'])
    r = DensePoseFlip(prob=1.0)(r)
    flipped = label[:, ::-1]
    expect = flipped.copy()
    expect[flipped < 15] = np.asarray(DENSEPOSE_FLIP_MAP)[flipped[flipped < 15]]
    np.testing.assert_array_equal(r['gt_seg_map'], expect)
    # 2 <-> 3 ... 12 <-> 13 swapped; 0, 1, 14, 15, 200 (unlabeled), 255 kept
    assert r['gt_seg_map'][0].tolist() == [255, 200, 15, 14, 12, 13, 10, 11, 8, 9, 6, 7,
                                           4, 5, 2, 3, 1, 0]
    np.testing.assert_array_equal(r['gt_overseg'], ovs[:, ::-1])  # flipped, not remapped
    assert r['flip'] and r['flip_direction'] == 'horizontal'


def test_densepose_flip_twice_is_identity_and_no_flip_no_swap():
    rng = np.random.default_rng(0)
    label = rng.integers(0, 15, (6, 9)).astype(np.uint8)
    r = dict(img=np.zeros((6, 9, 3), np.uint8), gt_seg_map=label.copy(),
             seg_fields=['gt_seg_map'])
    t = DensePoseFlip(prob=1.0)
    np.testing.assert_array_equal(t(t(r))['gt_seg_map'], label)
    r = DensePoseFlip(prob=0.0)(dict(r, gt_seg_map=label.copy()))
    np.testing.assert_array_equal(r['gt_seg_map'], label)
    r = DensePoseFlip(prob=1.0, direction='vertical')(dict(r, gt_seg_map=label.copy()))
    np.testing.assert_array_equal(r['gt_seg_map'], label[::-1])  # no left/right swap


def test_densepose_flip_rejects_non_permutation():
    with pytest.raises(ValueError, match='permutation'):
        DensePoseFlip(flip_map=(0, 1, 1))
    with pytest.raises(ValueError, match='swap_keys'):
        DensePoseFlip(swap_keys='gt_seg_map')


# ------------------------------------------------------------------ LoadOverSegmentation
def load(path, **results):
    return LoadOverSegmentation()(dict(overseg_path=str(path), seg_fields=[], **results))


def test_load_overseg_8_and_16_bit(tmp_path):
    ids = np.arange(6 * 7).reshape(6, 7)
    p8, p16 = tmp_path / 'a.png', tmp_path / 'b.png'
    cv2.imwrite(str(p8), ids.astype(np.uint8))
    cv2.imwrite(str(p16), (ids * 1500).astype(np.uint16))
    r = load(p8, img=np.zeros((6, 7, 3), np.uint8), gt_seg_map=np.zeros((6, 7), np.uint8))
    assert r['gt_overseg'].dtype == np.int32 and r['seg_fields'] == ['gt_overseg']
    np.testing.assert_array_equal(r['gt_overseg'], ids)
    r = load(p16)
    np.testing.assert_array_equal(r['gt_overseg'], ids * 1500)
    assert r['gt_overseg'].max() == 61500


def test_load_overseg_rejects_bad_files(tmp_path):
    ids = (np.arange(20).reshape(4, 5) % 7).astype(np.uint8)
    pal = tmp_path / 'palette.png'
    im = Image.fromarray(ids, mode='P')
    im.putpalette([v for i in range(256) for v in (i, 255 - i, 7)])
    im.save(pal)
    with pytest.raises(ValueError, match=r'palette\.png.*a palette PNG'):
        load(pal)
    rgb = tmp_path / 'rgb.png'
    cv2.imwrite(str(rgb), np.dstack([ids] * 3))
    with pytest.raises(ValueError, match=r'rgb\.png.*an RGB PNG'):
        load(rgb)
    bad = tmp_path / 'corrupt.png'
    bad.write_bytes(b'\x89PNG\r\n\x1a\n' + b'garbage' * 5)
    with pytest.raises(ValueError, match=r'corrupt\.png.*could not be decoded'):
        load(bad)
    ok = tmp_path / 'ok.png'
    cv2.imwrite(str(ok), ids)
    with pytest.raises(ValueError, match=r'ok\.png.*size \(5, 4\).*image has size \(6, 4\)'):
        load(ok, img=np.zeros((4, 6, 3), np.uint8))
    with pytest.raises(ValueError, match=r'ok\.png.*label has size \(5, 3\)'):
        load(ok, gt_seg_map=np.zeros((3, 5), np.uint8))
    with pytest.raises(FileNotFoundError, match='missing.png'):
        load(tmp_path / 'missing.png')
    with pytest.raises(KeyError, match='overseg_dir'):
        LoadOverSegmentation()(dict(img_path='x.jpg'))


# ------------------------------------------------------------------ weak-label loading
def _label_results(tmp_path, label, **extra):
    path = osp.join(str(tmp_path), 'label.png')
    cv2.imwrite(path, label)
    return dict(seg_map_path=path, seg_fields=[], reduce_zero_label=False, num_classes=C,
                unlabeled_index=C, ignore_index=255, img=np.zeros(label.shape + (3, )),
                img_path='img.jpg', **extra)


def test_unlabeled_from_255(tmp_path):
    label = np.array([[0, 5, 255], [255, 20, 21]], np.uint8)
    r = LoadWeakAnnotations()(_label_results(tmp_path, label, unlabeled_from_255=True))
    assert r['gt_seg_map'].tolist() == [[0, 5, 21], [21, 20, 21]]
    r = LoadWeakAnnotations()(_label_results(tmp_path, label))  # flag absent: kept
    assert r['gt_seg_map'].tolist() == label.tolist()
    r = LoadWeakAnnotations(unlabeled_from_255=False)(
        _label_results(tmp_path, label, unlabeled_from_255=True))  # argument wins
    assert r['gt_seg_map'][0, 2] == 255
    with pytest.raises(ValueError, match='unlabeled_from_255 with allow_unlabeled=False'):
        LoadWeakAnnotations(allow_unlabeled=False)(
            _label_results(tmp_path, label, unlabeled_from_255=True))
    assert 'unlabeled_from_255=None' in repr(LoadWeakAnnotations())


def test_tags_only_sample_and_no_labeled_pixel():
    r = dict(img=np.zeros((5, 6, 3), np.uint8), img_path='a.jpg', seg_fields=[],
             num_classes=C, unlabeled_index=C, img_tag_ids=[0, 15],
             reduce_zero_label=False)
    r = LoadWeakAnnotations()(r)
    assert (r['gt_seg_map'] == C).all() and r['gt_seg_map'].shape == (5, 6)
    assert r['seg_fields'] == ['gt_seg_map']
    r = AddImageTags()(r)
    assert np.flatnonzero(r['img_tags']).tolist() == [0, 15]
    # a weak label with no class pixel: no tags, the sample still packs
    r.pop('img_tag_ids')
    r = AddImageTags()(r)
    assert r['img_tags'].dtype == np.bool_ and not r['img_tags'].any()
    packed = PackSPMLInputs()(dict(r, gt_overseg=np.zeros((5, 6), np.int32)))
    assert (packed['data_samples'].gt_weak_seg.data == C).all()
    assert (packed['data_samples'].gt_sem_seg.data == 255).all()
    assert packed['data_samples'].gt_overseg.data.shape == (1, 5, 6)
    with pytest.raises(ValueError, match=r"\[21\] of 'a.jpg'"):
        AddImageTags()(dict(r, img_tag_ids=[3, 21]))


# ------------------------------------------------------------------ repr
@pytest.mark.parametrize('t, args', [
    (LoadOverSegmentation(backend_args=dict(backend='local')), ['backend_args']),
    (RandomRescale(ratio_range=(0.5, 2.0)), ['ratio_range=(0.5, 2.0)', 'interpolation',
                                             'backend']),
    (PadSegFields(size=(3, 4), img_pad_val=1.5, seg_pad_val=7),
     ['size=(3, 4)', 'img_pad_val=1.5', 'seg_pad_val=7']),
    (DensePoseFlip(prob=0.3), ['prob=0.3', 'direction', 'flip_map', 'swap_keys']),
])
def test_repr_prints_every_arg(t, args):
    text = repr(t)
    for a in args:
        assert a in text


def test_pack_splits_weak_label_for_plain_ce_heads():
    """Unlabeled pixels: ignore in gt_sem_seg (any mmseg head), kept in gt_weak_seg (SPML)."""
    label = np.array([[0, C, 255], [3, C, C]], np.uint8)
    base = dict(img=np.zeros((2, 3, 3), np.uint8), img_path='a.jpg', seg_fields=['gt_seg_map'],
                gt_seg_map=label, num_classes=C, reduce_zero_label=False)
    s = PackSPMLInputs()(dict(base))['data_samples']
    assert s.gt_sem_seg.data[0].tolist() == [[0, 255, 255], [3, 255, 255]]
    assert s.gt_weak_seg.data[0].tolist() == label.tolist()
    # a custom ignore index is respected
    other = np.array([[0, C, C + 1], [3, C, C]], np.uint8)
    s = PackSPMLInputs()(dict(base, gt_seg_map=other, ignore_index=C + 1))['data_samples']
    assert s.gt_sem_seg.data[0].tolist() == [[0, C + 1, C + 1], [3, C + 1, C + 1]]
    # off: the weak label stays in gt_sem_seg (PartialCrossEntropyLoss reads it)
    s = PackSPMLInputs(unlabeled_to_ignore=False)(dict(base))['data_samples']
    assert 'gt_weak_seg' not in s and s.gt_sem_seg.data[0].tolist() == label.tolist()
    # a dense label (no unlabeled pixel) is packed once
    dense = dict(base, gt_seg_map=np.array([[0, 1, 255], [3, 2, 2]], np.uint8))
    s = PackSPMLInputs()(dense)['data_samples']
    assert 'gt_weak_seg' not in s and s.gt_sem_seg.data[0, 0].tolist() == [0, 1, 255]
    assert 'unlabeled_to_ignore=True' in repr(PackSPMLInputs())
    with pytest.raises(TypeError, match='unlabeled_to_ignore'):
        PackSPMLInputs(unlabeled_to_ignore=1)
