"""Checkpoints: clear errors for unreadable files, SPMLRunner's atomic saves and resume
from the work dir, and no global change to mmengine by ``import mmspml``."""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from torch import nn

from mmspml.engine.runner import SPMLRunner
from mmspml.utils.checkpoint import (UnreadableCheckpointError, checkpoint_is_readable,
                                     load_local_checkpoint, resume_checkpoint)
from tests.conftest import REPO


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
    with pytest.raises(RuntimeError, match='is truncated or corrupt') as info:
        load_local_checkpoint(path)
    assert 'iter_2.pth' in str(info.value)
    assert 'MMSPML_TRUSTED_CHECKPOINTS' not in str(info.value)


def test_truncated_checkpoint_with_trust_set_says_the_same(tmp_path, monkeypatch):
    path = _save(str(tmp_path / 'iter_2.pth'))
    _truncate(path)
    monkeypatch.setenv('MMSPML_TRUSTED_CHECKPOINTS', '1')
    with pytest.raises(RuntimeError, match='is truncated or corrupt'):
        load_local_checkpoint(path)


def test_complete_checkpoint_that_fails_to_load_is_not_called_truncated(tmp_path):
    path = _save(str(tmp_path / 'iter_2.pth'))

    def refuse(storage, location):  # e.g. a device that this machine does not have
        raise RuntimeError('no such device')

    with pytest.raises(RuntimeError, match='no such device') as info:
        load_local_checkpoint(path, map_location=refuse)
    assert 'the file itself is complete' in str(info.value)
    assert 'truncated' not in str(info.value)
    other = tmp_path / 'notes.pth'  # not a torch zip archive at all
    other.write_bytes(b'not a checkpoint')
    with pytest.raises(RuntimeError, match='not a torch zip archive') as info:
        load_local_checkpoint(str(other))
    assert 'truncated' not in str(info.value)


def test_weights_only_refusal_gets_the_trust_advice(tmp_path):
    path = str(tmp_path / 'obj.pth')
    torch.save(dict(meta=argparse.Namespace(a=1)), path)  # not on the allow-list
    with pytest.raises(RuntimeError, match='MMSPML_TRUSTED_CHECKPOINTS=1'):
        load_local_checkpoint(path)


def _runner(work_dir, name, max_iters=3, **kw):
    """A tiny SPMLRunner (one linear layer, 2-sample batches) saving every iteration."""
    from mmengine.model import BaseModel

    class Toy(BaseModel):
        def __init__(self):
            super().__init__()
            self.w = nn.Linear(2, 1)

        def forward(self, inputs, data_samples=None, mode='tensor'):
            out = self.w(inputs)
            return dict(loss=out.pow(2).mean()) if mode == 'loss' else out

    torch.manual_seed(0)
    data = [dict(inputs=torch.randn(2)) for _ in range(8)]
    loader = torch.utils.data.DataLoader(data, batch_size=2)
    return SPMLRunner(
        model=Toy(), work_dir=str(work_dir), experiment_name=name, train_dataloader=loader,
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
        train_cfg=dict(by_epoch=False, max_iters=max_iters), default_scope='mmseg',
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1,
                                           by_epoch=False)),
        log_level='WARNING', **kw)


def test_spml_runner_saves_atomically_and_loadably(tmp_path):
    from mmengine.fileio import LocalBackend
    wd = tmp_path / 'wd'
    runner = _runner(wd, 'atomic')
    runner.train()
    names = sorted(os.listdir(wd))
    assert {'iter_1.pth', 'iter_2.pth', 'iter_3.pth', 'last_checkpoint'} <= set(names)
    assert not [n for n in names if n.endswith('.tmp')]
    # loads with weights_only=True: the message hub's HistoryBuffers carry no getattr
    ckpt = load_local_checkpoint(str(wd / 'iter_3.pth'))
    loss = ckpt['message_hub']['log_scalars']['train/loss']
    assert ckpt['meta']['iter'] == 3 and type(loss).__name__ == 'HistoryBuffer'
    assert len(loss.data[0]) == 3 and loss.mean() == pytest.approx(loss.data[0].mean())
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(wd / 'iter_3.pth').st_mode & 0o777 == 0o666 & ~umask

    real_put = LocalBackend.put

    def crash(self, obj, filepath):  # a crash in the middle of writing
        real_put(self, obj[:len(obj) // 3], filepath)
        raise KeyboardInterrupt

    before = (wd / 'iter_3.pth').read_bytes()
    LocalBackend.put = crash
    try:
        with pytest.raises(KeyboardInterrupt):
            runner.save_checkpoint(str(wd), 'iter_3.pth', by_epoch=False)
    finally:
        LocalBackend.put = real_put
    assert (wd / 'iter_3.pth').read_bytes() == before  # old one intact
    assert sorted(os.listdir(wd)) == names  # no temporary file left behind


def test_spml_runner_resume_means_the_work_dir_even_with_load_from(tmp_path):
    first = tmp_path / 'stage1'
    _runner(first, 'stage1', max_iters=2).train()
    stage1 = str(first / 'iter_2.pth')
    wd = tmp_path / 'stage2'
    # resume=True in an empty work dir: start afresh from load_from (weights only)
    fresh = _runner(wd, 'fresh', resume=True, load_from=stage1)
    fresh.load_or_resume()
    assert fresh.iter == 0 and not fresh._resume
    w1 = load_local_checkpoint(stage1)['state_dict']['w.weight']
    assert torch.equal(fresh.model.w.weight.detach(), w1)
    fresh.train()
    # resume=True with checkpoints: the work dir's last one, not load_from's
    again = _runner(wd, 'again', max_iters=4, resume=True, load_from=stage1)
    again.load_or_resume()
    assert again.iter == 3
    w3 = load_local_checkpoint(str(wd / 'iter_3.pth'))['state_dict']['w.weight']
    assert torch.equal(again.model.w.weight.detach(), w3)


_FINGERPRINT = r"""
import copyreg, json, sys
import torch
import mmengine.runner.runner as runner_module
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner import Runner
from mmengine.runner.checkpoint import CheckpointLoader
def name(f):
    f = f[0] if isinstance(f, tuple) else f
    return f'{getattr(f, "__module__", "")}.{getattr(f, "__qualname__", repr(f))}'
# (other libraries that mmseg imports register their own types: not compared)
OURS = ('mmengine', 'mmseg', 'mmcv', 'mmspml', 'numpy', 'builtins', 'copyreg', 'torch.nn')
ours = lambda objs: sorted(n for n in map(name, objs) if n.startswith(OURS))
fingerprint = lambda: json.dumps(dict(
    runner={k: name(v) for k, v in vars(Runner).items() if callable(v)},
    module_save=name(runner_module.save_checkpoint),
    schemes={k: name(v) for k, v in CheckpointLoader._schemes.items()},
    history_buffer={k: name(v) for k, v in vars(HistoryBuffer).items() if callable(v)},
    safe_globals=ours(torch.serialization.get_safe_globals()),
    copyreg=ours(copyreg.dispatch_table)), sort_keys=True)
print(fingerprint())
import mmspml  # what custom_imports=['mmspml'] does
assert 'mmseg' in sys.modules
print(fingerprint())
"""


def test_importing_mmspml_changes_nothing_in_mmengine():
    """custom_imports=['mmspml'] in anyone's config leaves mmengine's Runner, checkpoint
    loaders, HistoryBuffer pickling and torch's allow-list as they were."""
    env = dict(os.environ, PYTHONPATH=REPO)
    out = subprocess.run([sys.executable, '-c', _FINGERPRINT], cwd=REPO, env=env,
                         capture_output=True, text=True, check=True).stdout
    plain, with_mmspml = (json.loads(line) for line in out.strip().splitlines()[-2:])
    assert plain['runner'] and plain['schemes'] and plain['history_buffer']
    assert with_mmspml == plain


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
    with pytest.raises(UnreadableCheckpointError, match='no other readable checkpoint'):
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


def test_spml_runner_formats_the_config_text_once(tmp_path, monkeypatch):
    """yapf runs once for the log, the work dir's config file and every checkpoint's meta,
    all of which get Config.pretty_text; a changed config is formatted again."""
    import mmengine.config.config as config_module
    from mmengine.config import Config
    real, calls = config_module.FormatCode, []

    def counting(text, **kw):
        calls.append(text)
        return real(text, **kw)

    monkeypatch.setattr(config_module, 'FormatCode', counting)
    cfg = Config(dict(model=dict(type='Toy'), nested=dict(a=[1, 2], b='x')))
    expected = cfg.pretty_text
    assert len(calls) == 1
    wd = tmp_path / 'wd'
    runner = _runner(wd, 'format', cfg=cfg)
    runner.train()  # logs the config, writes it to the work dir, saves 3 checkpoints
    assert len(calls) == 2  # the one above, and one for the runner
    (dumped, ) = [p for p in os.listdir(wd) if p.endswith('.py')]
    assert (wd / dumped).read_text() == expected
    assert load_local_checkpoint(str(wd / 'iter_3.pth'))['meta']['cfg'] == expected
    runner.cfg.nested.b = 'y'
    assert runner.cfg.pretty_text == Config(runner.cfg.to_dict()).pretty_text
    assert "b='y'" in runner.cfg.pretty_text and len(calls) == 4
