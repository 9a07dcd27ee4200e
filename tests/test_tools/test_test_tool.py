"""tools/test.py --out, tools/dist_test.sh and tools/benchmark_kmeans.py as a user runs them
(README: "Works (tested)")."""
import glob
import os.path as osp
import sys

import cv2
import numpy as np
import pytest

from ._run import free_port, python, run_tool, tiny_config

BASELINE = 'configs/baselines/camvid_points_partial_ce.py'


@pytest.fixture(scope='module')
def trained(camvid_tree, tmp_path_factory):
    tmp = tmp_path_factory.mktemp('trained')
    cfg = tiny_config(BASELINE, camvid_tree, str(tmp / 'cfg.py'), size=(32, 32),
                      max_iters=2, val_interval=1000)
    wd = str(tmp / 'wd')
    python('tools/train.py', cfg, '--work-dir', wd)
    return cfg, osp.join(wd, 'iter_2.pth')


@pytest.mark.slow
def test_test_py_out_writes_one_prediction_png_per_image(trained, camvid_tree, tmp_path):
    cfg, ckpt = trained
    out = tmp_path / 'preds'
    proc = python('tools/test.py', cfg, ckpt, '--out', str(out), '--work-dir',
                  str(tmp_path / 'test'))
    assert 'mIoU' in proc.stdout + proc.stderr
    names = open(osp.join(camvid_tree, 'val.txt')).read().split()
    pngs = sorted(glob.glob(str(out / '*.png')))
    assert [osp.basename(p)[:-4] for p in pngs] == sorted(names)
    for p in pngs:
        pred = cv2.imread(p, cv2.IMREAD_UNCHANGED)
        assert pred.shape == (48, 64) and pred.dtype == np.uint8  # the label's size
        assert pred.max() < 11


@pytest.mark.slow
def test_dist_test_two_processes(trained, tmp_path):
    cfg, ckpt = trained
    proc = run_tool(['bash', 'tools/dist_test.sh', cfg, ckpt, '2', '--work-dir',
                     str(tmp_path / 'dist')],
                    env={'PORT': str(free_port()), 'PYTHON': sys.executable})
    out = proc.stdout + proc.stderr
    assert 'Distributed training: True' in out and 'GPU number: 2' in out, out[-3000:]
    assert 'mIoU' in out and 'Iter(test) [2/2]' in out  # 3 images over 2 processes
    # the log file is complete although the processes leave through os._exit
    logs = glob.glob(str(tmp_path / 'dist' / '*' / '*.log'))
    assert logs and 'mIoU' in open(logs[0]).read()


def test_benchmark_kmeans_runs_and_checks_partitions():
    proc = python('tools/benchmark_kmeans.py', '--images', '2', '--size', '16', '16',
                  '--dims', '8', '--grid', '2', '2', '--iterations', '3', '--repeats', '1')
    assert 'same partitions: True' in proc.stdout, proc.stdout
