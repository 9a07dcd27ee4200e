"""Checkpoints: clear errors for unreadable files, atomic saves, resume past a truncated one."""
import argparse
import os
import os.path as osp

import pytest
import torch

from mmspml.utils.checkpoint import (atomic_save_checkpoint, checkpoint_is_readable,
                                     load_local_checkpoint, resume_checkpoint)


def _save(path, value=1.0):
    torch.save(dict(state_dict=dict(w=torch.tensor([value]))), path)
    return path


def _truncate(path):
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])


def test_truncated_checkpoint_is_named_without_the_trust_advice(tmp_path):
    path = _save(str(tmp_path / 'iter_2.pth'))
    _truncate(path)
    with pytest.raises(RuntimeError, match='not a readable torch checkpoint') as info:
        load_local_checkpoint(path)
    assert 'iter_2.pth' in str(info.value)
    assert 'MMSPML_TRUSTED_CHECKPOINTS' not in str(info.value)


def test_truncated_checkpoint_with_trust_set_says_the_same(tmp_path, monkeypatch):
    path = _save(str(tmp_path / 'iter_2.pth'))
    _truncate(path)
    monkeypatch.setenv('MMSPML_TRUSTED_CHECKPOINTS', '1')
    with pytest.raises(RuntimeError, match='not a readable torch checkpoint'):
        load_local_checkpoint(path)


def test_weights_only_refusal_gets_the_trust_advice(tmp_path):
    path = str(tmp_path / 'obj.pth')
    torch.save(dict(meta=argparse.Namespace(a=1)), path)  # not on the allow-list
    with pytest.raises(RuntimeError, match='MMSPML_TRUSTED_CHECKPOINTS=1'):
        load_local_checkpoint(path)


def test_runner_saves_atomically(tmp_path, monkeypatch):
    import mmengine.runner.runner as mmengine_runner
    assert mmengine_runner.save_checkpoint is atomic_save_checkpoint  # import mmspml did it
    path = _save(str(tmp_path / 'iter_1.pth'), 1.0)
    real_save = torch.save

    def crash(obj, f, *a, **kw):  # a crash in the middle of writing
        real_save(obj, f, *a, **kw)
        f.truncate(10)
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, 'save', crash)
    with pytest.raises(KeyboardInterrupt):
        atomic_save_checkpoint(dict(state_dict=dict(w=torch.tensor([2.0]))), path)
    monkeypatch.setattr(torch, 'save', real_save)
    assert os.listdir(tmp_path) == ['iter_1.pth']  # no temporary file left behind
    assert load_local_checkpoint(path)['state_dict']['w'].item() == 1.0  # old one intact
    atomic_save_checkpoint(dict(state_dict=dict(w=torch.tensor([3.0]))), path)
    assert load_local_checkpoint(path)['state_dict']['w'].item() == 3.0
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600


def test_resume_checkpoint_falls_back_to_the_newest_readable(tmp_path):
    wd = str(tmp_path)
    assert resume_checkpoint(wd) == (None, None)
    for it in (1, 2, 3):
        _save(osp.join(wd, f'iter_{it}.pth'), it)
    last = osp.join(wd, 'iter_3.pth')
    with open(osp.join(wd, 'last_checkpoint'), 'w') as f:
        f.write(last)
    assert resume_checkpoint(wd) == (last, None)
    _truncate(last)
    _truncate(osp.join(wd, 'iter_2.pth'))
    assert not checkpoint_is_readable(last)
    path, note = resume_checkpoint(wd)
    assert path == osp.join(wd, 'iter_1.pth')
    assert note == (f'the last checkpoint {last} is unreadable (truncated or corrupt); '
                    f'resuming from the newest readable one, {path}')
    _truncate(path)
    with pytest.raises(RuntimeError, match='no other readable checkpoint'):
        resume_checkpoint(wd)


@pytest.mark.slow
def test_train_resume_after_a_truncated_last_checkpoint(camvid_tree, tmp_path):
    from tests.test_tools._run import python, tiny_config, train_losses
    cfg = tiny_config('configs/baselines/camvid_points_partial_ce.py', camvid_tree,
                      str(tmp_path / 'cfg.py'), size=(32, 32), val_interval=1000)
    wd = str(tmp_path / 'wd')
    opts = ['--cfg-options', 'default_hooks.checkpoint.interval=1']
    python('tools/train.py', cfg, '--work-dir', wd, *opts, 'train_cfg.max_iters=2')
    _truncate(osp.join(wd, 'iter_2.pth'))
    proc = python('tools/train.py', cfg, '--work-dir', wd, '--resume', *opts,
                  'train_cfg.max_iters=3')
    out = proc.stdout + proc.stderr
    assert (f'the last checkpoint {osp.join(wd, "iter_2.pth")} is unreadable (truncated or '
            f'corrupt); resuming from the newest readable one, {osp.join(wd, "iter_1.pth")}'
            in out)
    assert 'Traceback' not in out
    assert 'resumed epoch: 0, iter: 1' in out  # continued at iteration 2
    assert sorted(train_losses(wd, 'loss')) == [1, 2, 3]
    assert checkpoint_is_readable(osp.join(wd, 'iter_3.pth'))
