"""tools/pipelines/camvid_*.sh end to end with tiny iteration counts on a generated tree."""
import glob
import os
import os.path as osp
import re
import sys

import pytest

from tests.conftest import REPO, write_camvid_tree
from tests.test_tools._run import label_dir_miou, run_tool


def _run_pipeline(script, tmp_path):
    data = write_camvid_tree(str(tmp_path / 'camvid'), splits=(('train', 4), ('val', 2)))
    work = str(tmp_path / 'work')
    env = dict(ITERS='2', DATA_ROOT=data, NPROC='2', PYTHON=sys.executable,
               PYTHONPATH=REPO + os.pathsep + os.environ.get('PYTHONPATH', ''))
    proc = run_tool(['bash', f'tools/pipelines/{script}', work], env=env, timeout=900)
    return work, proc.stdout, data


def _check_printed_miou(out, label, work, subdir, data):
    """The mIoU a pipeline prints for the labels of ``work/subdir`` equals the one computed
    here from the PNGs written and the dense training labels."""
    printed = float(re.search(re.escape(label) + r': ([0-9.]+)', out).group(1))
    assert len(glob.glob(osp.join(work, subdir, '*.png'))) == 4, subdir
    assert printed == pytest.approx(
        label_dir_miou(osp.join(work, subdir), osp.join(data, 'labels', 'train'), 11),
        abs=0.006), label


@pytest.mark.slow
def test_camvid_scribbles_pipeline(tmp_path):
    work, out, data = _run_pipeline('camvid_scribbles.sh', tmp_path)
    _check_printed_miou(out, 'pseudo-label mIoU (train)', work, 'pseudo_labels', data)
    final = float(re.search(r'final mIoU \(val, stage 2, TTA\): ([0-9.]+)', out).group(1))
    assert 0 <= final <= 100
    assert osp.isfile(osp.join(work, 'stage1', 'iter_2.pth'))
    assert osp.isfile(osp.join(work, 'stage2', 'iter_1.pth'))
    assert 'ITERS=2 (stage 2: 1)' in out
    # stage 2 started from the stage-1 checkpoint
    logs = glob.glob(osp.join(work, 'stage2', '*', '*.log'))
    assert logs and 'Load checkpoint from ' + osp.join(work, 'stage1', 'iter_2.pth') in open(
        logs[0]).read()


@pytest.mark.slow
def test_camvid_tags_pipeline(tmp_path):
    work, out, data = _run_pipeline('camvid_tags.sh', tmp_path)
    for label, d in (('seed mIoU (train)', 'seeds'),
                     ('pseudo-label mIoU (train, round 1 random walk)', 'pseudo_rw'),
                     ('pseudo-label mIoU (train, round 2 k-NN)', 'pseudo_labels')):
        _check_printed_miou(out, label, work, d, data)
    final = float(re.search(r'final mIoU \(val, stage 2, TTA\): ([0-9.]+)', out).group(1))
    assert 0 <= final <= 100
    assert osp.isfile(osp.join(work, 'prototypes.pth'))
    assert osp.isfile(osp.join(work, 'stage2', 'iter_1.pth'))


@pytest.mark.slow
@pytest.mark.parametrize('control', ['0', '1'])
def test_camvid_mixin_pseudo_pipeline(tmp_path, control):
    data = write_camvid_tree(str(tmp_path / 'camvid'), splits=(('train', 4), ('val', 2)))
    work = str(tmp_path / 'work')
    env = dict(ITERS='2', DATA_ROOT=data, NPROC='1', CONTROL=control, SEED='3',
               PYTHON=sys.executable,
               PYTHONPATH=REPO + os.pathsep + os.environ.get('PYTHONPATH', ''))
    out = run_tool(['bash', 'tools/pipelines/camvid_mixin_pseudo.sh', work], env=env,
                   timeout=900).stdout
    assert f'LABELS=points SEED=3 CONTROL={control} ITERS=2' in out
    assert ('walk steps -1' if control == '1' else 'walk steps 6') in out
    _check_printed_miou(out, 'pseudo-label mIoU (train)', work, 'pseudo_labels', data)
    final = float(re.search(r'final mIoU \(val, retrained on the pseudo labels\): ([0-9.]+)',
                            out).group(1))
    assert 0 <= final <= 100
    # the retraining read the pseudo labels, with the seed asked for
    cfg = glob.glob(osp.join(work, 'retrain', '*.py'))
    text = open(cfg[0]).read()
    assert osp.join(work, 'pseudo_labels') in text and 'seed=3' in text
