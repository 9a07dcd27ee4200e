"""tools/pipelines/camvid_*.sh end to end with tiny iteration counts on a generated tree."""
import glob
import os
import os.path as osp
import re
import sys

import cv2
import numpy as np
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
    """Crop dataset -> CAM seeds -> stage 1 (SPML mix-in, or partial CE for the control)
    -> pseudo labels -> retraining -> test on the val frames, at ITERS=2; the control
    reuses the SPML run's CAM seeds and CAMs through SEEDS_FROM, and makes its pseudo
    labels from the CAMs (PSEUDO=cam)."""
    data = write_camvid_tree(str(tmp_path / 'camvid'), splits=(('train', 2), ('val', 2)))
    crops = str(tmp_path / 'crops')
    base = dict(ITERS='2', DATA_ROOT=data, CROP_ROOT=crops, NPROC='1', SEED='3', CRF='0',
                PYTHON=sys.executable,
                PYTHONPATH=REPO + os.pathsep + os.environ.get('PYTHONPATH', ''))
    spml_work = str(tmp_path / 'spml')
    missing = run_tool(['bash', 'tools/pipelines/camvid_tags.sh', str(tmp_path / 'early')],
                       env=dict(base, CONTROL='1', SEEDS_FROM=spml_work), timeout=900,
                       check=False)
    assert missing.returncode != 0
    assert f'SEEDS_FROM={spml_work}: no finished CAM step' in missing.stderr
    bad = run_tool(['bash', 'tools/pipelines/camvid_tags.sh', str(tmp_path / 'early')],
                   env=dict(base, PSEUDO='softmax'), timeout=900, check=False)
    assert bad.returncode != 0 and 'PSEUDO=softmax: expected classifier or cam' in bad.stderr
    for control in ('0', '1'):
        work = spml_work if control == '0' else str(tmp_path / 'control')
        env = dict(base, CONTROL=control)
        if control == '1':
            env.update(SEEDS_FROM=spml_work, PSEUDO='cam')
            # a CAM step that printed its seed mIoU but has not ended (no seeds.settings
            # yet) is refused: a control started beside the SPML run waits for it
            settings = osp.join(spml_work, 'seeds.settings')
            os.rename(settings, settings + '.away')
            early = run_tool(['bash', 'tools/pipelines/camvid_tags.sh', work], env=env,
                             timeout=900, check=False)
            os.rename(settings + '.away', settings)
            assert early.returncode != 0
            assert f'SEEDS_FROM={spml_work}: no finished CAM step' in early.stderr
            # seeds of another CAM setting are refused, naming both settings
            other = run_tool(['bash', 'tools/pipelines/camvid_tags.sh', work],
                             env=dict(env, SEED='4'), timeout=900, check=False)
            assert other.returncode != 0
            assert (f'its CAM step ran with SEED=3 CAM_ITERS=2 CAM_SIZE=112 CROP_ROOT={crops}; '
                    f'this run needs SEED=4 ' in other.stderr), other.stderr
        out = run_tool(['bash', 'tools/pipelines/camvid_tags.sh', work], env=env,
                       timeout=900).stdout
        pseudo = 'cam' if control == '1' else 'classifier'
        assert f'SEED=3 CONTROL={control} PSEUDO={pseudo} ITERS=2 CAM_ITERS=2' in out
        assert ('pseudo labels (cam, walk steps -1' if control == '1'
                else 'pseudo labels (classifier, walk steps 6') in out
        assert ('CAM seeds: reused from ' + spml_work in out) == (control == '1')
        for key in ('stage-1 mIoU \\(val, trained on the seeds\\)',
                    'final mIoU \\(val, retrained on the pseudo labels\\)'):
            value = float(re.search(key + r': ([0-9.]+)', out).group(1))
            assert 0 <= value <= 100, key
        names = open(osp.join(crops, 'train.txt')).read().split()
        assert len(names) == 18  # 9 crops of each of the 2 frames
        # the printed seed and pseudo-label mIoU are those of the PNGs used and written,
        # against the dense labels of the crops (computed here independently)
        for label, d in (('seed mIoU (train crops)', osp.join(spml_work, 'seeds')),
                         ('pseudo-label mIoU (train crops)', osp.join(work, 'pseudo_labels'))):
            printed = float(re.search(re.escape(label) + r': ([0-9.]+)', out).group(1))
            assert printed == pytest.approx(label_dir_miou(
                d, osp.join(crops, 'labels', 'train'), 11), abs=0.006), label
            pngs = [f for f in os.listdir(d) if f.endswith('.png')]
            assert sorted(pngs) == sorted(n + '.png' for n in names), d
        assert osp.isdir(osp.join(work, 'seeds')) == (control == '0')
        # the CAM step wrote the CAMs of every crop; without a walk or CRF, the control's
        # pseudo labels are their argmax over the crop's tags
        assert sorted(os.listdir(osp.join(spml_work, 'cams'))) == sorted(
            n + '.npz' for n in names)
        if control == '1':
            for n in names:
                with np.load(osp.join(spml_work, 'cams', n + '.npz')) as f:
                    ids, cams = f['classes'], f['cams'].astype(np.float32)
                pl = cv2.imread(osp.join(work, 'pseudo_labels', n + '.png'),
                                cv2.IMREAD_UNCHANGED)
                expect = ids[cams.argmax(axis=0)]
                np.testing.assert_array_equal(pl[pl != 255], expect[pl != 255])
        # stage 1 trained on the (SPML run's) seeds of the crops, the retraining on the
        # pseudo labels; both were tested on the val frames of DATA_ROOT
        stage1 = open(glob.glob(osp.join(work, 'stage1', '*.py'))[0]).read()
        assert (osp.join(spml_work, 'seeds') in stage1 and crops in stage1
                and 'seed=3' in stage1)
        assert ('SemanticCooccurrenceLoss' in stage1) == (control == '0')
        retrain = open(glob.glob(osp.join(work, 'retrain', '*.py'))[0]).read()
        assert osp.join(work, 'pseudo_labels') in retrain
        assert 'Iter(test) [2/2]' in open(osp.join(work, 'test.log')).read()


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
