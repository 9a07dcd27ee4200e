"""tools/make_pseudo_labels.py, tools/extract_prototypes.py and the k-NN test mode on a
generated CamVid tree with a 2-iteration stage-1 model."""
import os
import os.path as osp
import re

import cv2
import numpy as np
import pytest
import torch

from tests.conftest import write_camvid_tree
from tests.test_tools._run import python, tiny_config

NUM_CLASSES = 11


@pytest.fixture(scope='module')
def stage1(tmp_path_factory):
    root = tmp_path_factory.mktemp('pipeline')
    data = write_camvid_tree(str(root / 'camvid'), splits=(('train', 4), ('val', 2)))
    cfg = tiny_config('configs/spml/camvid_scribbles.py', data, str(root / 's1.py'),
                      max_iters=2, val_interval=2)
    python('tools/train.py', cfg, '--work-dir', str(root / 's1'))
    return dict(root=root, data=data, cfg=cfg, ckpt=str(root / 's1' / 'iter_2.pth'))


def _weak_and_dense(cfg):
    from mmspml.apis.dense_prediction import (iter_training_samples, load_config,
                                              training_samples)
    dataset, steps = training_samples(load_config(cfg))
    return {s.name: (s.weak, s.dense) for s in iter_training_samples(dataset, steps)}


def _miou(pairs):
    """Independent mIoU (percent) over (pred, gt) pairs; classes absent from both skipped."""
    ious = []
    for c in range(NUM_CLASSES):
        inter = union = 0
        for pred, gt in pairs:
            valid = gt < NUM_CLASSES
            inter += np.sum((pred == c) & (gt == c) & valid)
            union += np.sum(((pred == c) | (gt == c)) & valid)
        if union:
            ious.append(100 * inter / union)
    return float(np.mean(ious))


def _printed(pattern, text):
    m = re.findall(pattern, text)
    assert m, text[-3000:]
    return float(m[-1])


def test_pseudo_labels_classifier_restricted_resumable_parallel(stage1, tmp_path):
    out = str(tmp_path / 'pl')
    proc = python('tools/make_pseudo_labels.py', stage1['cfg'], stage1['ckpt'], '--out-dir',
                  out, '--walk-steps', '6')
    labels = _weak_and_dense(stage1['cfg'])
    assert sorted(os.listdir(out)) == sorted(n + '.png' for n in labels)
    pairs = []
    for name, (weak, dense) in labels.items():
        pl = cv2.imread(osp.join(out, name + '.png'), cv2.IMREAD_UNCHANGED)
        assert pl.dtype == np.uint8 and pl.shape == weak.shape
        allowed = set(np.unique(weak[weak < NUM_CLASSES]).tolist())
        assert set(np.unique(pl[weak != 255]).tolist()) <= allowed  # classes of the weak label
        assert (pl[weak == 255] == 255).all()
        pairs.append((pl, dense))
    printed = _printed(r'pseudo-label mIoU: ([0-9.]+)', proc.stdout)
    assert printed == pytest.approx(_miou(pairs), abs=0.006)

    # resumable: an existing file is kept as it is (and counted), a missing one is rebuilt
    first = sorted(labels)[0]
    zeros = np.zeros_like(labels[first][0])
    cv2.imwrite(osp.join(out, first + '.png'), zeros)
    last = sorted(labels)[-1]
    kept = cv2.imread(osp.join(out, last + '.png'), cv2.IMREAD_UNCHANGED)
    os.remove(osp.join(out, last + '.png'))
    proc = python('tools/make_pseudo_labels.py', stage1['cfg'], stage1['ckpt'], '--out-dir',
                  out, '--nproc', '2')
    assert (cv2.imread(osp.join(out, first + '.png'), cv2.IMREAD_UNCHANGED) == 0).all()
    np.testing.assert_array_equal(
        cv2.imread(osp.join(out, last + '.png'), cv2.IMREAD_UNCHANGED), kept)
    pairs[sorted(labels).index(first)] = (zeros, labels[first][1])
    assert _printed(r'pseudo-label mIoU: ([0-9.]+)', proc.stdout) == pytest.approx(
        _miou(pairs), abs=0.006)
    assert not [f for f in os.listdir(out) if 'tmp' in f]


def test_random_walk_changes_the_pseudo_labels(stage1, tmp_path):
    maps = {}
    for steps in ('-1', '6'):
        out = str(tmp_path / steps)
        python('tools/make_pseudo_labels.py', stage1['cfg'], stage1['ckpt'], '--out-dir',
               out, '--walk-steps', steps, '--no-flip')
        maps[steps] = np.stack([cv2.imread(osp.join(out, f), cv2.IMREAD_UNCHANGED)
                                for f in sorted(os.listdir(out))])
    assert (maps['-1'] != maps['6']).any()


def test_prototypes_knn_pseudo_labels_and_knn_test_mode(stage1, tmp_path):
    bank_file = str(tmp_path / 'bank.pth')
    proc = python('tools/extract_prototypes.py', stage1['cfg'], stage1['ckpt'], '--out',
                  bank_file, '--labels', 'dense', '--grid', '4', '4')
    bank = torch.load(bank_file, weights_only=False)
    assert bank['prototypes'].shape[1] == 64 and bank['num_classes'] == NUM_CLASSES
    assert bank['labels'].shape == (bank['prototypes'].shape[0],)
    assert bank['labels'].max() < NUM_CLASSES
    torch.testing.assert_close(bank['prototypes'].norm(dim=1),
                               torch.ones(len(bank['labels'])))
    # at most 16 segments (4x4 grid) an image, all of the 4 images contribute
    assert len(bank['labels']) <= 4 * 16 and len(bank['names']) == 4
    assert f'{len(bank["labels"])} prototypes of 4 images' in proc.stdout

    out = str(tmp_path / 'knn')
    proc = python('tools/make_pseudo_labels.py', stage1['cfg'], stage1['ckpt'], '--out-dir',
                  out, '--source', 'knn', '--prototypes', bank_file, '--walk-steps', '-1',
                  '--knn-grid', '1', '1')
    assert len(os.listdir(out)) == 4 and 'pseudo-label mIoU' in proc.stdout
    # a 1x1 grid is one segment an image: the whole image gets one label (§8 item 18)
    for name, (weak, _) in _weak_and_dense(stage1['cfg']).items():
        pl = cv2.imread(osp.join(out, name + '.png'), cv2.IMREAD_UNCHANGED)
        assert len(np.unique(pl[weak != 255])) == 1

    knn_cfg = tiny_config('configs/knn/camvid_scribbles.py', stage1['data'],
                          str(tmp_path / 'knn.py'))
    slide = ['model.test_cfg.mode=slide', 'model.test_cfg.crop_size=(32,32)',
             'model.test_cfg.stride=(24,24)']
    for extra, options in (([], []), (['--tta'], []), ([], slide)):
        proc = python('tools/test.py', knn_cfg, stage1['ckpt'], '--work-dir',
                      str(tmp_path / 'test'), *extra, '--cfg-options',
                      f'model.decode_head.prototype_file={bank_file}', *options)
        assert 0 <= _printed(r'mIoU: ([0-9.]+)', proc.stdout + proc.stderr) <= 100
    proc = python('tools/test.py', knn_cfg, stage1['ckpt'], '--work-dir',
                  str(tmp_path / 'test'), '--cfg-options',
                  f'model.decode_head.prototype_file={tmp_path}/absent.pth', check=False)
    assert proc.returncode != 0 and 'tools/extract_prototypes.py' in proc.stderr


def test_bad_arguments(stage1, tmp_path):
    proc = python('tools/make_pseudo_labels.py', stage1['cfg'], stage1['ckpt'], '--out-dir',
                  str(tmp_path), '--source', 'knn', check=False)
    assert proc.returncode == 2 and '--prototypes' in proc.stderr
    proc = python('tools/make_pseudo_labels.py', stage1['cfg'], str(tmp_path / 'no.pth'),
                  '--out-dir', str(tmp_path), check=False)
    assert proc.returncode != 0 and 'no.pth' in proc.stderr


@pytest.mark.parametrize('config,has_embedding', [
    ('configs/mixin/camvid_points_segformer_effnet-lite0_spml.py', True),
    ('configs/baselines/camvid_points_partial_ce_segformer_effnet-lite0.py', False)])
def test_pseudo_labels_of_mixin_and_plain_models(stage1, tmp_path, config, has_embedding):
    """SPML mixed into an mmseg model: the decode head's softmax, walked on the
    SPMLAuxHead's embedding; a plain mmseg model: its softmax without a walk."""
    cfg = tiny_config(config, stage1['data'], str(tmp_path / 'cfg.py'), max_iters=2,
                      val_interval=2)
    python('tools/train.py', cfg, '--work-dir', str(tmp_path / 'w'))
    ckpt = str(tmp_path / 'w' / 'iter_2.pth')
    labels = _weak_and_dense(cfg)
    walked = python('tools/make_pseudo_labels.py', cfg, ckpt, '--out-dir',
                    str(tmp_path / 'rw'), '--walk-steps', '6', check=False)
    if not has_embedding:
        assert walked.returncode != 0
        assert 'gives no embedding' in walked.stderr and '--walk-steps -1' in walked.stderr
    else:
        assert walked.returncode == 0, walked.stderr[-3000:]
    python('tools/make_pseudo_labels.py', cfg, ckpt, '--out-dir', str(tmp_path / 'plain'),
           '--walk-steps', '-1')
    maps = {}
    for d in ('rw', 'plain') if has_embedding else ('plain',):
        for name, (weak, _) in labels.items():
            pl = cv2.imread(str(tmp_path / d / (name + '.png')), cv2.IMREAD_UNCHANGED)
            allowed = set(np.unique(weak[weak < NUM_CLASSES]).tolist())
            assert set(np.unique(pl[weak != 255]).tolist()) <= allowed
            maps.setdefault(d, []).append(pl)
    if has_embedding:  # the walk on the SPML embedding changes them
        assert any((a != b).any() for a, b in zip(maps['rw'], maps['plain']))
