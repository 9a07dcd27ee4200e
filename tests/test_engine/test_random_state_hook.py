"""RandomStateHook: every rank's torch RNG state is saved and each rank restores its own
(it once saved rank 0's and restored it on every rank). Runner.save_checkpoint runs on
rank 0 only: the states are gathered by all ranks just before a CheckpointHook saves."""
import os
import tempfile
import types

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from mmengine.hooks import CheckpointHook

from mmspml.engine.hooks import random_state_hook as rsh

RESUME = types.SimpleNamespace(_resume=True)


def _runner(it, interval=2, max_iters=10):
    """What the hook reads of a Runner at iteration ``it`` (0-based, before increment)."""
    return types.SimpleNamespace(hooks=[CheckpointHook(interval=interval, by_epoch=False)],
                                 iter=it, epoch=0, max_iters=max_iters, _resume=False)


def _fake_world(monkeypatch, rank, world, gathered=None):
    monkeypatch.setattr(rsh, 'get_rank', lambda: rank)
    monkeypatch.setattr(rsh, 'get_world_size', lambda: world)
    monkeypatch.setattr(rsh, 'all_gather_object', lambda obj: gathered)


def _state_after(seed, draws=3):
    torch.manual_seed(seed)
    torch.rand(draws)
    return torch.get_rng_state()


def test_each_rank_restores_its_own_state(monkeypatch):
    hook = rsh.RandomStateHook()
    states = [dict(torch=_state_after(10)), dict(torch=_state_after(11))]
    _fake_world(monkeypatch, 0, 2, gathered=states)
    hook.after_train_iter(_runner(0), 0)  # no checkpoint after iteration 1: no gather
    assert hook._gathered is None
    hook.after_train_iter(_runner(1), 1)  # CheckpointHook(interval=2) saves now
    ckpt = {}
    hook.before_save_checkpoint(_runner(1), ckpt)  # rank 0 only
    assert ckpt[hook._KEY] == dict(ranks=states, world_size=2)
    # a save at another moment (e.g. the best checkpoint after validation): rank 0's only
    other = {}
    hook.before_save_checkpoint(_runner(2), other)
    assert len(other[hook._KEY]['ranks']) == 1
    for rank in (0, 1):
        expected = states[rank]['torch']
        torch.set_rng_state(expected)
        want = torch.rand(5)
        torch.manual_seed(123)  # what mmengine does on resume
        _fake_world(monkeypatch, rank, 2)
        hook.after_load_checkpoint(RESUME, ckpt)
        torch.testing.assert_close(torch.rand(5), want, rtol=0, atol=0)
    # load_from (not a resume) leaves the RNG alone
    torch.manual_seed(5)
    want = torch.rand(3)
    torch.manual_seed(5)
    hook.after_load_checkpoint(types.SimpleNamespace(_resume=False), ckpt)
    torch.testing.assert_close(torch.rand(3), want, rtol=0, atol=0)


def test_other_world_size_keeps_the_fresh_seed_with_a_warning(monkeypatch):
    hook = rsh.RandomStateHook()
    ckpt = {hook._KEY: dict(ranks=[dict(torch=_state_after(10)),
                                   dict(torch=_state_after(11))], world_size=2)}
    _fake_world(monkeypatch, 0, 3)
    torch.manual_seed(7)
    want = torch.rand(4)
    torch.manual_seed(7)
    with pytest.warns(UserWarning, match='2-process run holds 2 RNG state'):
        hook.after_load_checkpoint(RESUME, ckpt)
    torch.testing.assert_close(torch.rand(4), want, rtol=0, atol=0)


def test_checkpoint_of_the_one_state_format(monkeypatch):
    hook = rsh.RandomStateHook()
    old = {hook._KEY: dict(torch=_state_after(10))}
    torch.set_rng_state(old[hook._KEY]['torch'])
    want = torch.rand(4)
    _fake_world(monkeypatch, 0, 1)
    torch.manual_seed(0)
    hook.after_load_checkpoint(RESUME, old)  # one process: restored as before
    torch.testing.assert_close(torch.rand(4), want, rtol=0, atol=0)
    _fake_world(monkeypatch, 1, 2)  # several: rank 0's state is not every rank's
    with pytest.warns(UserWarning, match='not restored'):
        hook.after_load_checkpoint(RESUME, old)


def _worker(rank, world, init_file, out_file):
    dist.init_process_group('gloo', init_method=f'file://{init_file}', rank=rank,
                            world_size=world)
    try:
        hook = rsh.RandomStateHook()
        torch.manual_seed(100 + rank)  # per-rank streams (e.g. diff_rank_seed)
        torch.rand(7)
        hook.after_train_iter(_runner(1), 1)  # every rank: a checkpoint is due
        if rank == 0:  # Runner.save_checkpoint: rank 0 only, no collective in it
            ckpt = {}
            hook.before_save_checkpoint(_runner(1), ckpt)
            torch.save(ckpt, f'{out_file}.ckpt')
        expected = torch.rand(6)  # the draws an uninterrupted run makes next
        dist.barrier()
        torch.manual_seed(0)  # resume re-seeds every rank alike
        hook.after_load_checkpoint(RESUME, torch.load(f'{out_file}.ckpt', weights_only=True))
        torch.save(dict(expected=expected, resumed=torch.rand(6)), f'{out_file}.{rank}')
    finally:
        dist.destroy_process_group()
    os._exit(0)  # see tests/test_models/test_spml_distributed.py (gloo teardown)


@pytest.mark.slow
def test_two_gloo_processes_each_resume_their_own_stream():
    with tempfile.TemporaryDirectory() as tmp:
        init_file, out_file = os.path.join(tmp, 'init'), os.path.join(tmp, 'out')
        # fork: the workers need nothing but this module's imports (spawn would import
        # torch and mmseg again, ~20 s on 2 cores)
        mp.start_processes(_worker, args=(2, init_file, out_file), nprocs=2, join=True,
                           start_method='fork')
        res = [torch.load(f'{out_file}.{r}', weights_only=True) for r in range(2)]
    for r in range(2):
        torch.testing.assert_close(res[r]['resumed'], res[r]['expected'], rtol=0, atol=0)
    assert not torch.equal(res[0]['resumed'], res[1]['resumed'])
