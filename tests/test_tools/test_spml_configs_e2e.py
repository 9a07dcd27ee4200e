"""Every config in configs/spml/ trains 2 iterations (and validates) through tools/train.py
on a small generated tree in the dataset's real layout, with every SPML loss finite.

The configs are used as they are except for sizes (crops of 64 px, 2 images a batch, no
worker processes) so that ResNet-101 runs in seconds on a CPU."""
import glob
import math
import os.path as osp

import pytest
from mmengine.config import Config

from tests._data_utils import write_densepose_tree, write_voc_tree
from tests.conftest import REPO, write_camvid_tree
from tests.test_tools._run import python, tiny_config, train_losses

# *_precomputed.py differ from their base only by overseg_dir (files of
# tools/make_superpixels.py): tests/test_datasets/test_superpixel_switch.py covers them.
SPML_CONFIGS = sorted(osp.relpath(p, REPO)
                      for p in glob.glob(osp.join(REPO, 'configs', 'spml', '*.py'))
                      if 'precomputed' not in p and 'weak_folder' not in p)
# weak_folder_*.py read a user's converted folder (classes.txt, tags file):
# tests/test_tools/test_train_on_your_data.py trains them on one


@pytest.fixture(scope='module')
def trees(tmp_path_factory):
    root = tmp_path_factory.mktemp('e2e')
    voc, dp, cv = str(root / 'voc12'), str(root / 'densepose'), str(root / 'camvid')
    write_voc_tree(voc, n=4, n_val=2)
    write_densepose_tree(dp, n=4, n_val=2)
    write_camvid_tree(cv, splits=(('train', 4), ('val', 2)))
    return dict(voc=voc, densepose=dp, camvid=cv)


def test_every_spml_config_is_covered():
    assert len(SPML_CONFIGS) >= 7


@pytest.mark.slow
@pytest.mark.parametrize('config', SPML_CONFIGS)
def test_spml_config_trains_two_iterations(config, trees, tmp_path):
    name = osp.basename(config)
    root = trees['voc' if name.startswith('voc') else
                 'densepose' if name.startswith('densepose') else 'camvid']
    path = tiny_config(config, root, str(tmp_path / name), max_iters=2, val_interval=2)
    cfg = Config.fromfile(path)
    wd = str(tmp_path / 'wd')
    proc = python('tools/train.py', path, '--work-dir', wd)
    out = proc.stdout + proc.stderr
    assert osp.isfile(osp.join(wd, 'iter_2.pth'))
    assert 'mIoU' in out
    for loss in cfg.model.decode_head.contrastive_losses:
        key = 'decode.' + MODELS_LOSS_NAMES[loss['type']]
        values = train_losses(wd, key)
        assert sorted(values) == [1, 2], (key, out[-2000:])
        assert all(math.isfinite(v) for v in values.values()), key
    ce = train_losses(wd, 'decode.loss_ce')
    assert all(math.isfinite(v) for v in ce.values())


MODELS_LOSS_NAMES = dict(SemanticAnnotationLoss='loss_sem_ann',
                         SemanticCooccurrenceLoss='loss_sem_occ',
                         ImageSimilarityLoss='loss_img_sim',
                         FeatureAffinityLoss='loss_feat_aff')
