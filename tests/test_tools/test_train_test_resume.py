"""End-to-end runs of tools/train.py, tools/test.py and tools/dist_train.sh on CPU."""
import glob
import math
import os.path as osp
import sys

import pytest

from ._run import free_port, python, run_tool, tiny_config, train_losses

BASELINE = 'configs/baselines/camvid_points_partial_ce.py'
SPML = 'configs/spml/camvid_scribbles.py'
SPML_KEYS = ('decode.loss_sem_ann', 'decode.loss_img_sim', 'decode.loss_ce')


@pytest.mark.slow
@pytest.mark.parametrize('config', [BASELINE, SPML])
def test_resume_gives_identical_losses(config, camvid_tree, tmp_path):
    """4 iterations + resume to 8 == 8 uninterrupted (SPML: incl. the memory bank)."""
    cfg = tiny_config(config, camvid_tree, str(tmp_path / 'cfg.py'), size=(32, 32),
                      val_interval=1000)
    ckpt = ['default_hooks.checkpoint.interval=4']
    full, part = str(tmp_path / 'full'), str(tmp_path / 'part')
    python('tools/train.py', cfg, '--work-dir', full, '--cfg-options',
           'train_cfg.max_iters=8', *ckpt)
    python('tools/train.py', cfg, '--work-dir', part, '--cfg-options',
           'train_cfg.max_iters=4', *ckpt)
    assert osp.isfile(osp.join(part, 'iter_4.pth'))
    python('tools/train.py', cfg, '--work-dir', part, '--resume', '--cfg-options',
           'train_cfg.max_iters=8', *ckpt)
    keys = ('loss',) + (SPML_KEYS if config == SPML else ())
    for key in keys:
        a, b = train_losses(full, key), train_losses(part, key)
        assert sorted(a) == list(range(1, 9)) and sorted(b) == list(range(1, 9)), key
        for it in range(1, 9):
            assert a[it] == pytest.approx(b[it], rel=1e-6, abs=1e-7), (key, it, a[it], b[it])
        assert len({round(v, 6) for v in a.values()}) > 5  # it trains: losses change


@pytest.mark.slow
@pytest.mark.parametrize('config', [BASELINE, SPML])
def test_train_4_iters_on_shared_camvid_then_test(config, shared_camvid, tmp_path):
    """The README's commands (training shortened to 4 iterations, testing to 10 images)
    on the real CamVid."""
    wd = str(tmp_path / 'wd')
    python('tools/train.py', config, '--work-dir', wd, '--cfg-options',
           'train_cfg.max_iters=4', 'default_hooks.logger.interval=2',
           'val_cfg=None', 'val_dataloader=None', 'val_evaluator=None')
    ckpt = osp.join(wd, 'iter_4.pth')
    assert osp.isfile(ckpt)
    for key in ('loss',) + (SPML_KEYS if config == SPML else ()):
        losses = train_losses(wd, key)
        assert sorted(losses) == [2, 4], key
        assert all(math.isfinite(v) for v in losses.values()), key
    proc = python('tools/test.py', config, ckpt, '--work-dir', str(tmp_path / 'test'),
                  '--show-dir', str(tmp_path / 'vis'), '--cfg-options',
                  'test_dataloader.dataset.indices=10', 'default_hooks.visualization.interval=5')
    out = proc.stdout + proc.stderr
    assert 'per class results' in out and 'mIoU' in out
    for name in ('sky', 'bicyclist'):
        assert name in out
    assert glob.glob(str(tmp_path / 'vis' / '**' / '*.png'), recursive=True)
    # multi-scale + flip test-time augmentation
    proc = python('tools/test.py', config, ckpt, '--tta', '--work-dir',
                  str(tmp_path / 'tta'), '--cfg-options', 'test_dataloader.dataset.indices=2')
    assert 'Iter(test) [2/2]' in proc.stdout + proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize('config', [BASELINE, SPML])
def test_dist_train_two_processes_gloo(config, camvid_tree, tmp_path):
    cfg = tiny_config(config, camvid_tree, str(tmp_path / 'cfg.py'), size=(32, 32),
                      max_iters=4, val_interval=1000)
    wd = str(tmp_path / 'dist')
    proc = run_tool(['bash', 'tools/dist_train.sh', cfg, '2', '--work-dir', wd],
                    env={'PORT': str(free_port()), 'PYTHON': sys.executable})
    out = proc.stdout + proc.stderr
    assert 'Distributed training: True' in out and 'GPU number: 2' in out, out[-3000:]
    assert osp.isfile(osp.join(wd, 'iter_4.pth'))
    # RandomStateHook (in both configs): both ranks' RNG states, gathered before rank 0 saved
    import torch
    rng = torch.load(osp.join(wd, 'iter_4.pth'), map_location='cpu',
                     weights_only=False)['mmspml_rng_state']
    assert rng['world_size'] == 2 and len(rng['ranks']) == 2
    for key in ('loss',) + (SPML_KEYS if config == SPML else ()):
        losses = train_losses(wd, key)
        assert sorted(losses) == [1, 2, 3, 4], key
        assert all(math.isfinite(v) for v in losses.values()), key


def test_bad_config_path_is_clear():
    proc = python('tools/train.py', 'configs/does_not_exist.py', check=False)
    assert proc.returncode != 0 and 'does_not_exist.py' in proc.stderr + proc.stdout


@pytest.mark.slow
def test_stage2_resume_continues_the_work_dir_not_load_from(camvid_tree, tmp_path):
    """configs/stage2 set load_from (the stage-1 checkpoint): --resume still means the work
    dir's last checkpoint, and an empty work dir starts afresh from load_from."""
    import torch
    from mmengine.config import Config
    from mmseg.registry import MODELS
    torch.manual_seed(1)  # a stage-1 checkpoint as the Runner writes it (weights + meta)
    model = MODELS.build(Config.fromfile(SPML).model)
    stage1 = str(tmp_path / 'stage1.pth')
    torch.save(dict(meta=dict(epoch=0, iter=1), state_dict=model.state_dict()), stage1)
    s2 = tiny_config('configs/stage2/camvid_scribbles.py', camvid_tree,
                     str(tmp_path / 's2.py'), size=(32, 32), val_interval=1000)
    wd = str(tmp_path / 'stage2')
    opts = ['--cfg-options', f'load_from={stage1}', 'default_hooks.checkpoint.interval=1',
            f'train_dataloader.dataset.label_dir={camvid_tree}/labels/train',
            'param_scheduler.0.end=3']
    proc = python('tools/train.py', s2, '--work-dir', wd, '--resume', *opts,
                  'train_cfg.max_iters=2')
    out = proc.stdout + proc.stderr
    assert f'training starts from load_from={stage1}' in out
    assert f'Load checkpoint from {stage1}' in out and 'resumed epoch' not in out
    assert sorted(train_losses(wd)) == [1, 2]
    trained = torch.load(osp.join(wd, 'iter_2.pth'), weights_only=False)['state_dict']
    backbone = [k for k in trained if k.startswith('backbone.')]
    assert backbone and all(torch.equal(trained[k], model.state_dict()[k])
                            for k in backbone)  # loaded from load_from, frozen
    proc = python('tools/train.py', s2, '--work-dir', wd, '--resume', *opts,
                  'train_cfg.max_iters=3')
    out = proc.stdout + proc.stderr
    assert 'resumed epoch: 0, iter: 2' in out and stage1 not in out.split('resumed')[0][-300:]
    assert sorted(train_losses(wd)) == [1, 2, 3]
