"""The CamVid SPML configs' superpixel switch: on-the-fly maps == tools/make_superpixels.py."""
import os.path as osp

import numpy as np
from mmengine.config import Config
from mmseg.registry import DATASETS

from tests.conftest import REPO
from tests.test_tools.test_weak_label_tools import load_tool


def _first_steps(cfg, root, n_steps):
    ds_cfg = cfg.train_dataloader.dataset
    ds_cfg.data_root = root
    ds_cfg.pipeline = ds_cfg.pipeline[:n_steps]
    return DATASETS.build(ds_cfg)


def test_precomputed_switch_reads_identical_maps(camvid_tree, tmp_path):
    live = Config.fromfile(osp.join(REPO, 'configs/spml/camvid_scribbles.py'))
    pre = Config.fromfile(osp.join(REPO, 'configs/spml/camvid_scribbles_precomputed.py'))
    assert live.train_dataloader.dataset.overseg_dir is None
    assert pre.train_dataloader.dataset.overseg_dir.endswith('data/camvid_superpixels/{split}')
    steps = [t['type'] for t in live.train_dataloader.dataset.pipeline]
    n = steps.index('LoadOverSegmentation') + 1
    params = live.superpixels
    out = str(tmp_path / 'sp')
    load_tool('make_superpixels').main(
        [osp.join(camvid_tree, 'images', 'train'), osp.join(out, 'train'), '--list',
         osp.join(camvid_tree, 'train.txt'), '--method', params['method'],
         '--n-segments', str(params['n_segments']), '--compactness',
         str(params['compactness']), '--sigma', str(params['sigma'])])
    pre.train_dataloader.dataset.overseg_dir = osp.join(out, '{split}')
    a, b = _first_steps(live, camvid_tree, n), _first_steps(pre, camvid_tree, n)
    assert 'overseg_path' in b.get_data_info(0) and 'overseg_path' not in a.get_data_info(0)
    for i in range(len(a)):
        ra, rb = a[i], b[i]
        assert ra['gt_overseg'].max() > 5  # a real over-segmentation
        assert np.array_equal(ra['gt_overseg'], rb['gt_overseg'])
        assert 'gt_overseg' in ra['seg_fields'] and 'gt_overseg' in rb['seg_fields']
