"""End-to-end runs of tools/train.py, tools/test.py and tools/dist_train.sh on CPU."""
import glob
import os.path as osp

import pytest

from ._run import python, run_tool, train_losses

BASELINE = 'configs/baselines/camvid_points_partial_ce.py'
# tiny settings for the generated tree: 48x64 images, 32x32 crops, 2 images a batch
TINY = ['train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False', 'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False', 'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        'train_dataloader.dataset.pipeline.4.scale=(64,48)',
        'train_dataloader.dataset.pipeline.5.crop_size=(32,32)',
        'model.data_preprocessor.size=(32,32)', 'default_hooks.logger.interval=1',
        'log_processor.window_size=1', 'train_cfg.val_interval=1000']


def data_opts(root):
    return [f'train_dataloader.dataset.data_root={root}',
            f'val_dataloader.dataset.data_root={root}',
            f'test_dataloader.dataset.data_root={root}']


@pytest.mark.slow
def test_resume_gives_identical_losses(camvid_tree, tmp_path):
    opts = TINY + data_opts(camvid_tree) + ['default_hooks.checkpoint.interval=10']
    full, part = str(tmp_path / 'full'), str(tmp_path / 'part')
    python('tools/train.py', BASELINE, '--work-dir', full, '--cfg-options',
           'train_cfg.max_iters=20', *opts)
    python('tools/train.py', BASELINE, '--work-dir', part, '--cfg-options',
           'train_cfg.max_iters=10', *opts)
    assert osp.isfile(osp.join(part, 'iter_10.pth'))
    python('tools/train.py', BASELINE, '--work-dir', part, '--resume', '--cfg-options',
           'train_cfg.max_iters=20', *opts)
    a, b = train_losses(full), train_losses(part)
    assert sorted(a) == list(range(1, 21)) and sorted(b) == list(range(1, 21))
    for it in range(11, 21):
        assert a[it] == pytest.approx(b[it], rel=1e-6, abs=1e-7), (it, a[it], b[it])
    # the first 10 iterations agree too, and losses are not constant (it trains)
    assert all(a[i] == pytest.approx(b[i], rel=1e-6) for i in range(1, 11))
    assert len({round(v, 6) for v in a.values()}) > 5


@pytest.mark.slow
def test_train_20_iters_on_shared_camvid_then_test(shared_camvid, tmp_path):
    """The README's demo commands (training shortened to 20 iterations)."""
    wd = str(tmp_path / 'wd')
    python('tools/train.py', BASELINE, '--work-dir', wd, '--cfg-options',
           'train_cfg.max_iters=20', 'train_cfg.val_interval=1000',
           'default_hooks.logger.interval=5')
    ckpt = osp.join(wd, 'iter_20.pth')
    assert osp.isfile(ckpt)
    losses = train_losses(wd)
    assert sorted(losses) == [5, 10, 15, 20]
    proc = python('tools/test.py', BASELINE, ckpt, '--work-dir', str(tmp_path / 'test'),
                  '--show-dir', str(tmp_path / 'vis'), '--cfg-options',
                  'test_dataloader.dataset.indices=50')
    out = proc.stdout + proc.stderr
    assert 'per class results' in out and 'mIoU' in out
    for name in ('sky', 'bicyclist'):
        assert name in out
    assert glob.glob(str(tmp_path / 'vis' / '**' / '*.png'), recursive=True)


@pytest.mark.slow
def test_dist_train_two_processes_gloo(camvid_tree, tmp_path):
    wd = str(tmp_path / 'dist')
    proc = run_tool(['bash', 'tools/dist_train.sh', BASELINE, '2', '--work-dir', wd,
                     '--cfg-options', 'train_cfg.max_iters=4', *TINY,
                     *data_opts(camvid_tree)], env={'PORT': '29731'})
    out = proc.stdout + proc.stderr
    assert 'Distributed training: True' in out and 'GPU number: 2' in out, out[-3000:]
    assert out.count('MMDistributedDataParallel') >= 1
    assert osp.isfile(osp.join(wd, 'iter_4.pth'))
    assert sorted(train_losses(wd)) == [1, 2, 3, 4]


def test_bad_config_path_is_clear():
    proc = python('tools/train.py', 'configs/does_not_exist.py', check=False)
    assert proc.returncode != 0 and 'does_not_exist.py' in proc.stderr + proc.stdout
