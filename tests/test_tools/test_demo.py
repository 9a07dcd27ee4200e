"""tools/demo.sh shortens the poly schedule with the training (2 iterations on a
generated tree)."""
import os.path as osp
import sys

import pytest

from tests.test_tools._run import run_tool, tiny_config


@pytest.mark.slow
def test_demo_schedule_ends_with_the_training(camvid_tree, tmp_path):
    from mmspml.utils.checkpoint import load_local_checkpoint
    cfg = tiny_config('configs/spml/camvid_scribbles.py', camvid_tree,
                      str(tmp_path / 'demo_cfg.py'), size=(32, 32))
    work = str(tmp_path / 'demo')
    proc = run_tool(['bash', 'tools/demo.sh', '2', cfg],
                    env={'PYTHON': sys.executable, 'WORK_DIR': work})
    assert 'mIoU' in proc.stdout + proc.stderr
    ckpt = load_local_checkpoint(osp.join(work, 'iter_2.pth'))
    assert [s['end'] for s in ckpt['param_schedulers']] == [2]
    # PolyLR(eta_min=1e-4) has reached its end: every parameter group is at eta_min
    # (ending at 1000, the learning rate would still be about 0.01 times the group's factor)
    lrs = [g['lr'] for g in ckpt['optimizer']['param_groups']]
    assert lrs and all(lr == pytest.approx(1e-4) for lr in lrs), lrs
