"""ComputeSuperpixels(cache_dir=...): each image's map is computed once, then read back."""
import glob
import os.path as osp

import numpy as np
import pytest

from mmspml.datasets.transforms import ComputeSuperpixels, LoadOverSegmentation
from mmspml.datasets.weak_labels import over_segmentation


@pytest.fixture
def count_calls(monkeypatch):
    calls = []
    real = over_segmentation.superpixels

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(over_segmentation, 'superpixels', counting)
    return calls


def _image(seed=0, shape=(30, 40)):
    rng = np.random.default_rng(seed)
    img = np.zeros((*shape, 3), np.uint8)
    img[:, shape[1] // 2:] = 200
    return img + rng.integers(0, 30, img.shape, dtype=np.uint8)


def test_cache_gives_the_same_map_and_computes_once(tmp_path, count_calls):
    img = _image()
    plain = ComputeSuperpixels(n_segments=20)(dict(img=img))['gt_overseg']
    cached = ComputeSuperpixels(n_segments=20, cache_dir=str(tmp_path))
    first = cached(dict(img=img))['gt_overseg']
    # a new instance (another worker, another run) and the float image of LoadImageFromFile
    again = ComputeSuperpixels(n_segments=20, cache_dir=str(tmp_path))(
        dict(img=img.astype(np.float32)))
    assert len(count_calls) == 2  # the plain one and the first cached call
    for m in (first, again['gt_overseg']):
        assert m.dtype == np.int32 and np.array_equal(m, plain)
    assert again['seg_fields'] == ['gt_overseg']
    assert len(glob.glob(osp.join(str(tmp_path), '*', '*', '*.png'))) == 1


def test_cache_keys_on_pixels_and_parameters(tmp_path, count_calls):
    t = ComputeSuperpixels(n_segments=20, cache_dir=str(tmp_path))
    t(dict(img=_image(0)))
    t(dict(img=_image(1)))  # other pixels: computed
    ComputeSuperpixels(n_segments=10, cache_dir=str(tmp_path))(dict(img=_image(0)))
    assert len(count_calls) == 3
    other = ComputeSuperpixels(n_segments=10)(dict(img=_image(0)))['gt_overseg']
    hit = ComputeSuperpixels(n_segments=10, cache_dir=str(tmp_path))(
        dict(img=_image(0)))['gt_overseg']
    assert len(count_calls) == 4 and np.array_equal(hit, other)
    assert len(glob.glob(osp.join(str(tmp_path), '*'))) == 2  # one folder per parameter set


def test_broken_cache_entry_is_recomputed(tmp_path, count_calls):
    t = ComputeSuperpixels(n_segments=20, cache_dir=str(tmp_path))
    want = t(dict(img=_image()))['gt_overseg']
    (entry,) = glob.glob(osp.join(str(tmp_path), '*', '*', '*.png'))
    with open(entry, 'wb') as f:
        f.write(b'not a png')
    got = t(dict(img=_image()))['gt_overseg']
    assert len(count_calls) == 2 and np.array_equal(got, want)
    assert ComputeSuperpixels(n_segments=20, cache_dir=str(tmp_path))(
        dict(img=_image()))['gt_overseg'].shape == want.shape and len(count_calls) == 2


def test_load_over_segmentation_passes_the_cache_on(tmp_path, count_calls):
    t = LoadOverSegmentation(compute_if_missing=dict(method='slic', n_segments=20,
                                                     cache_dir=str(tmp_path)))
    a = t(dict(img=_image()))['gt_overseg']
    b = t(dict(img=_image()))['gt_overseg']
    assert len(count_calls) == 1 and np.array_equal(a, b)
    with pytest.raises(ValueError, match='cache_dir must be a str'):
        ComputeSuperpixels(cache_dir=3)


def test_cache_dir_through_a_symlink_and_dotdot(tmp_path, count_calls):
    """'{{ fileDirname }}/../../..' of a config reached through a symlinked folder: the
    cache lives where the kernel resolves the path (a lexical normalisation would point
    at a folder that does not exist)."""
    import os
    real = tmp_path / 'repo' / 'configs' / 'base'
    real.mkdir(parents=True)
    (tmp_path / 'ws' / 'configs').mkdir(parents=True)
    os.symlink(real, tmp_path / 'ws' / 'configs' / 'base')
    cache = str(tmp_path / 'ws' / 'configs' / 'base' / '..' / '..' / 'cache')
    t = ComputeSuperpixels(n_segments=20, cache_dir=cache)
    a = t(dict(img=_image()))['gt_overseg']
    b = t(dict(img=_image()))['gt_overseg']
    assert len(count_calls) == 1 and np.array_equal(a, b)
    assert glob.glob(str(tmp_path / 'repo' / 'cache' / '*' / '*' / '*.png'))
