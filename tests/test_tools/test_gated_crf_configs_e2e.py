"""The Gated CRF configs train through tools/train.py on the shared CamVid: SPML mix-in +
GatedCRFLoss for 20 iterations (64 x 64 crops, so it stays short) with every loss finite,
the CRF loss on the images LossImageHook handed it."""
import glob
import math
import os.path as osp

import pytest

from tests.conftest import REPO
from tests.test_tools._run import python, tiny_config, train_losses

GATED = sorted(osp.relpath(p, REPO) for p in
               glob.glob(osp.join(REPO, 'configs', '*', 'camvid_*gated_crf*.py')))


def test_gated_crf_configs_present():
    assert GATED == [
        'configs/baselines/camvid_dense_gated_crf_segformer_effnet-lite0.py',
        'configs/baselines/camvid_points_gated_crf_segformer_effnet-lite0.py',
        'configs/baselines/camvid_scribbles_gated_crf_segformer_effnet-lite0.py',
        'configs/mixin/camvid_points_segformer_effnet-lite0_spml_gated_crf.py',
        'configs/mixin/camvid_scribbles_segformer_effnet-lite0_spml_gated_crf.py']


@pytest.mark.slow
def test_spml_mixin_with_gated_crf_trains_twenty_iterations(shared_camvid, tmp_path):
    config = 'configs/mixin/camvid_scribbles_segformer_effnet-lite0_spml_gated_crf.py'
    path = tiny_config(config, shared_camvid, str(tmp_path / 'cfg.py'), size=(64, 64),
                       batch_size=2, max_iters=20, val_interval=1000)
    wd = str(tmp_path / 'wd')
    python('tools/train.py', path, '--work-dir', wd, timeout=600)
    assert osp.isfile(osp.join(wd, 'iter_20.pth'))
    for key in ('decode.loss_ce', 'decode.loss_gated_crf', 'aux.loss_sem_ann',
                'aux.loss_img_sim', 'loss'):
        values = train_losses(wd, key)
        assert sorted(values) == list(range(1, 21)), key
        assert all(math.isfinite(v) for v in values.values()), (key, values)
    assert all(v > 0 for v in train_losses(wd, 'decode.loss_gated_crf').values())


@pytest.mark.slow
def test_dense_bound_with_gated_crf_trains(shared_camvid, tmp_path):
    """The bound of the Gated CRF recipes: dense labels, the CE and the CRF term on the
    images, both finite and the CRF term positive."""
    config = 'configs/baselines/camvid_dense_gated_crf_segformer_effnet-lite0.py'
    path = tiny_config(config, shared_camvid, str(tmp_path / 'cfg.py'), size=(64, 64),
                       batch_size=2, max_iters=4, val_interval=1000)
    wd = str(tmp_path / 'wd')
    python('tools/train.py', path, '--work-dir', wd, timeout=600)
    for key in ('decode.loss_ce', 'decode.loss_gated_crf', 'loss'):
        values = train_losses(wd, key)
        assert sorted(values) == [1, 2, 3, 4], key
        assert all(math.isfinite(v) for v in values.values()), (key, values)
    assert all(v > 0 for v in train_losses(wd, 'decode.loss_gated_crf').values())
