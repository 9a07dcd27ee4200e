"""tools/pipelines/camvid_*.sh end to end with tiny iteration counts on a generated tree."""
import glob
import os
import os.path as osp
import re
import sys

import pytest

from tests.conftest import REPO, write_camvid_tree
from tests.test_tools._run import run_tool


def _run_pipeline(script, tmp_path):
    data = write_camvid_tree(str(tmp_path / 'camvid'), splits=(('train', 4), ('val', 2)))
    work = str(tmp_path / 'work')
    env = dict(ITERS='2', DATA_ROOT=data, NPROC='2', PYTHON=sys.executable,
               PYTHONPATH=REPO + os.pathsep + os.environ.get('PYTHONPATH', ''))
    proc = run_tool(['bash', f'tools/pipelines/{script}', work], env=env, timeout=900)
    return work, proc.stdout


@pytest.mark.slow
def test_camvid_scribbles_pipeline(tmp_path):
    work, out = _run_pipeline('camvid_scribbles.sh', tmp_path)
    pseudo = float(re.search(r'pseudo-label mIoU \(train\): ([0-9.]+)', out).group(1))
    final = float(re.search(r'final mIoU \(val, stage 2, TTA\): ([0-9.]+)', out).group(1))
    assert 0 <= pseudo <= 100 and 0 <= final <= 100
    assert len(os.listdir(osp.join(work, 'pseudo_labels'))) == 4
    assert osp.isfile(osp.join(work, 'stage1', 'iter_2.pth'))
    assert osp.isfile(osp.join(work, 'stage2', 'iter_1.pth'))
    assert 'ITERS=2 (stage 2: 1)' in out
    # stage 2 started from the stage-1 checkpoint
    logs = glob.glob(osp.join(work, 'stage2', '*', '*.log'))
    assert logs and 'Load checkpoint from ' + osp.join(work, 'stage1', 'iter_2.pth') in open(
        logs[0]).read()


@pytest.mark.slow
def test_camvid_tags_pipeline(tmp_path):
    work, out = _run_pipeline('camvid_tags.sh', tmp_path)
    values = {}
    for key in ('seed mIoU \\(train\\)', 'round 1 random walk\\)', 'round 2 k-NN\\)',
                'final mIoU \\(val, stage 2, TTA\\)'):
        values[key] = float(re.search(key + r': ([0-9.]+)', out).group(1))
        assert 0 <= values[key] <= 100, key
    for d in ('seeds', 'pseudo_rw', 'pseudo_labels'):
        assert len([f for f in os.listdir(osp.join(work, d)) if f.endswith('.png')]) == 4, d
    assert osp.isfile(osp.join(work, 'seeds', 'cam_classifier.pth'))  # inside --out-dir
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
    pseudo = float(re.search(r'pseudo-label mIoU \(train\): ([0-9.]+)', out).group(1))
    final = float(re.search(r'final mIoU \(val, retrained on the pseudo labels\): ([0-9.]+)',
                            out).group(1))
    assert 0 <= pseudo <= 100 and 0 <= final <= 100
    assert len(os.listdir(osp.join(work, 'pseudo_labels'))) == 4
    # the retraining read the pseudo labels, with the seed asked for
    cfg = glob.glob(osp.join(work, 'retrain', '*.py'))
    text = open(cfg[0]).read()
    assert osp.join(work, 'pseudo_labels') in text and 'seed=3' in text
