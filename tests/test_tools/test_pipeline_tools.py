"""tools/make_pseudo_labels.py, tools/extract_prototypes.py and the k-NN test mode on a
generated CamVid tree with a 2-iteration stage-1 model."""
import json
import os
import os.path as osp
import re

import cv2
import numpy as np
import pytest
import torch

from tests.conftest import write_camvid_tree
from tests.test_tools._run import REPO, independent_miou, python, tiny_config

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
    return independent_miou(pairs, NUM_CLASSES)


def _pngs(out):
    return sorted(f for f in os.listdir(out) if f.endswith('.png'))


def _printed(pattern, text):
    m = re.findall(pattern, text)
    assert m, text[-3000:]
    return float(m[-1])


def test_pseudo_labels_classifier_restricted_resumable_parallel(stage1, tmp_path):
    out = str(tmp_path / 'pl')
    proc = python('tools/make_pseudo_labels.py', stage1['cfg'], stage1['ckpt'], '--out-dir',
                  out, '--walk-steps', '6')
    labels = _weak_and_dense(stage1['cfg'])
    assert sorted(os.listdir(out)) == sorted([n + '.png' for n in labels] + ['manifest.json'])
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

    # another option (no random walk): the labels of the first run are stale, made again
    proc = python('tools/make_pseudo_labels.py', stage1['cfg'], stage1['ckpt'], '--out-dir',
                  out, '--walk-steps', '-1', '--nproc', '2')
    assert (f'4 pseudo labels in {out} were made from something else (different options '
            '(walk_steps)): deleted, making them again') in proc.stdout
    pairs = [(cv2.imread(osp.join(out, n + '.png'), cv2.IMREAD_UNCHANGED), labels[n][1])
             for n in sorted(labels)]
    assert not (pairs[0][0] == 0).all()  # the hand-made label is gone
    assert _printed(r'pseudo-label mIoU: ([0-9.]+)', proc.stdout) == pytest.approx(
        _miou(pairs), abs=0.006)


def _tool():
    import importlib
    import sys
    tools = osp.join(REPO, 'tools')
    if tools not in sys.path:  # importable by name: spawned workers import it too
        sys.path.insert(0, tools)
    return importlib.import_module('make_pseudo_labels')


def test_devices_and_workers_with_cuda_reported_available(monkeypatch):
    """The pipelines' --nproc 2 on a GPU machine: one process per GPU, at most 2."""
    tool = _tool()
    argv = ['cfg.py', 'ckpt.pth', '--out-dir', 'out', '--nproc', '2']
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    assert tool.parse_args(argv).devices == ['cpu', 'cpu']
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    for count, devices in ((1, ['cuda:0']), (4, ['cuda:0', 'cuda:1'])):
        monkeypatch.setattr(torch.cuda, 'device_count', lambda: count)
        assert tool.parse_args(argv).devices == devices
        assert tool.parse_args(argv + ['--device', 'cuda']).devices == devices
        assert tool._start_method(devices) == 'spawn'
    assert tool.parse_args(argv + ['--device', 'cpu']).devices == ['cpu', 'cpu']
    assert tool._start_method(['cpu', 'cpu']) == 'fork'
    assert tool.worker_devices('cuda:3', 1) == ['cuda:3']
    for device, nproc, match in (('cuda:1', 2, 'one process per GPU use --device cuda'),
                                 ('cuda:4', 1, 'has 4 GPU'), ('tpu', 1, 'expected auto')):
        with pytest.raises(ValueError, match=match):
            tool.worker_devices(device, nproc)
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    with pytest.raises(ValueError, match='CUDA is not available'):
        tool.worker_devices('cuda', 1)


def test_spawned_workers_make_the_same_labels(stage1, tmp_path, monkeypatch):
    """The GPU path (spawned processes, each building its model) run on CPU devices."""
    tool = _tool()
    common = [stage1['cfg'], stage1['ckpt'], '--walk-steps', '-1', '--no-flip',
              '--limit', '2']
    tool.main(common + ['--out-dir', str(tmp_path / 'one')])
    monkeypatch.setattr(tool, '_start_method', lambda devices: 'spawn')
    tool.main(common + ['--out-dir', str(tmp_path / 'two'), '--nproc', '2',
                        '--device', 'cpu'])
    assert _pngs(tmp_path / 'one') == _pngs(tmp_path / 'two') and _pngs(tmp_path / 'one')
    for f in _pngs(tmp_path / 'one'):
        np.testing.assert_array_equal(cv2.imread(str(tmp_path / 'one' / f)),
                                      cv2.imread(str(tmp_path / 'two' / f)))


def test_manifest_keeps_matching_labels_and_deletes_stale_ones(tmp_path, capsys):
    tool = _tool()
    out = str(tmp_path / 'out')
    ckpt = tmp_path / 'a.pth'
    ckpt.write_bytes(b'weights 1')
    from mmengine.config import Config
    cfg = Config(dict(model=dict(type='X')))
    args = tool.parse_args([str(tmp_path / 'c.py'), str(ckpt), '--out-dir', out,
                            '--device', 'cpu'])
    first = tool.manifest_of(args, cfg)
    os.makedirs(out)
    for n in ('a', 'b', 'other'):
        cv2.imwrite(osp.join(out, n + '.png'), np.zeros((2, 2), np.uint8))
    tool.prepare_out_dir(out, first, ['a', 'b'])  # no manifest: not trusted
    assert 'no readable manifest.json' in capsys.readouterr().out
    assert sorted(os.listdir(out)) == ['manifest.json', 'other.png']
    cv2.imwrite(osp.join(out, 'a.png'), np.zeros((2, 2), np.uint8))
    tool.prepare_out_dir(out, tool.manifest_of(args, cfg), ['a', 'b'])  # same: kept
    assert osp.isfile(osp.join(out, 'a.png'))
    ckpt.write_bytes(b'weights 2')  # retrained in place: same path, other content
    second = tool.manifest_of(args, cfg)
    assert second['checkpoint']['path'] == first['checkpoint']['path'] and second != first
    tool.prepare_out_dir(out, second, ['a', 'b'])
    assert 'different checkpoint' in capsys.readouterr().out
    assert not osp.isfile(osp.join(out, 'a.png'))
    cv2.imwrite(osp.join(out, 'a.png'), np.zeros((2, 2), np.uint8))
    other_cfg = Config(dict(model=dict(type='Y')))  # e.g. --cfg-options
    tool.prepare_out_dir(out, tool.manifest_of(args, other_cfg), ['a', 'b'])
    assert 'different config' in capsys.readouterr().out
    with open(osp.join(out, 'manifest.json')) as f:
        assert json.load(f) == tool.manifest_of(args, other_cfg)


def test_random_walk_changes_the_pseudo_labels(stage1, tmp_path):
    maps = {}
    for steps in ('-1', '6'):
        out = str(tmp_path / steps)
        python('tools/make_pseudo_labels.py', stage1['cfg'], stage1['ckpt'], '--out-dir',
               out, '--walk-steps', steps, '--no-flip')
        maps[steps] = np.stack([cv2.imread(osp.join(out, f), cv2.IMREAD_UNCHANGED)
                                for f in _pngs(out)])
    assert (maps['-1'] != maps['6']).any()


def test_prototypes_knn_pseudo_labels_and_knn_test_mode(stage1, tmp_path):
    bank_file = str(tmp_path / 'bank.pth')
    proc = python('tools/extract_prototypes.py', stage1['cfg'], stage1['ckpt'], '--out',
                  bank_file, '--labels', 'dense', '--grid', '4', '4')
    bank = torch.load(bank_file, weights_only=True)  # plain data: no unpickling needed
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
    assert len(_pngs(out)) == 4
    # a 1x1 grid is one segment an image: the whole image gets one label (§8 item 18)
    pairs = []
    for name, (weak, dense) in _weak_and_dense(stage1['cfg']).items():
        pl = cv2.imread(osp.join(out, name + '.png'), cv2.IMREAD_UNCHANGED)
        assert len(np.unique(pl[weak != 255])) == 1
        pairs.append((pl, dense))
    assert _printed(r'pseudo-label mIoU: ([0-9.]+)', proc.stdout) == pytest.approx(
        _miou(pairs), abs=0.006)

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


def test_cam_source_pseudo_labels(stage1, tmp_path):
    """The tags generator (§6.5, ``pseudo_camrw_crf.py``): the CAMs written by
    make_cam_seeds.py --cam-dir, restricted to the image's tags, with and without the
    walk on the stage-1 embedding."""
    cams_dir = tmp_path / 'cams'
    python('tools/make_cam_seeds.py', 'configs/spml/camvid_scribbles.py', '--out-dir',
           str(tmp_path / 'seeds'), '--iters', '2', '--batch-size', '2', '--size', '32',
           '--cam-dir', str(cams_dir), '--cfg-options',
           f'train_dataloader.dataset.data_root={stage1["data"]}')
    labels = _weak_and_dense(stage1['cfg'])
    cams = {}
    for name, (weak, dense) in labels.items():
        with np.load(cams_dir / (name + '.npz')) as f:
            ids, cam = f['classes'], f['cams']
        tags = np.unique(dense[dense < NUM_CLASSES])  # the tags: classes of the label file
        np.testing.assert_array_equal(ids, tags)
        assert cam.dtype == np.float16 and cam.shape == (len(ids),) + weak.shape
        assert cam.min() >= 0 and cam.max() <= 1 and cam.max() > 0
        # the seeds are these CAMs thresholded at 0.3 (unlabeled 11 below it)
        seed = cv2.imread(str(tmp_path / 'seeds' / (name + '.png')), cv2.IMREAD_UNCHANGED)
        # where float16 rounding cannot change it: the top CAM away from 0.3 and the next
        top2 = np.sort(cam.astype(np.float32), axis=0)[::-1][:2]
        sure = (np.abs(top2[0] - 0.3) > 1e-2) & ((top2[0] - top2[1] > 4e-3)
                                                  if len(ids) > 1 else True)
        assert sure.mean() > 0.5
        expect = np.where(cam.max(axis=0) >= 0.3, ids[cam.argmax(axis=0)], NUM_CLASSES)
        np.testing.assert_array_equal(seed[sure & (dense != 255)],
                                      expect[sure & (dense != 255)])
        cams[name] = (ids, cam)

    out = tmp_path / 'cam'
    proc = python('tools/make_pseudo_labels.py', stage1['cfg'], stage1['ckpt'], '--out-dir',
                  str(out), '--source', 'cam', '--cam-dir', str(cams_dir), '--walk-steps', '-1')
    pairs = []
    for name, (weak, dense) in labels.items():
        ids, cam = cams[name]
        expect = ids[cam.astype(np.float32).argmax(axis=0)].astype(np.uint8)
        expect[weak == 255] = 255
        pl = cv2.imread(str(out / (name + '.png')), cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(pl, expect)  # no walk: the CAMs' argmax
        pairs.append((pl, dense))
    assert _printed(r'pseudo-label mIoU: ([0-9.]+)', proc.stdout) == pytest.approx(
        _miou(pairs), abs=0.006)

    python('tools/make_pseudo_labels.py', stage1['cfg'], stage1['ckpt'], '--out-dir',
           str(tmp_path / 'camrw'), '--source', 'cam', '--cam-dir', str(cams_dir))
    changed = False
    for name, (weak, _) in labels.items():
        pl = cv2.imread(str(tmp_path / 'camrw' / (name + '.png')), cv2.IMREAD_UNCHANGED)
        assert set(np.unique(pl[weak != 255]).tolist()) <= set(cams[name][0].tolist())
        changed |= (pl != cv2.imread(str(out / (name + '.png')), cv2.IMREAD_UNCHANGED)).any()
    assert changed  # the walk on the stage-1 embedding moves the labels

    proc = python('tools/make_pseudo_labels.py', stage1['cfg'], stage1['ckpt'], '--out-dir',
                  str(tmp_path / 'x'), '--source', 'cam', check=False)
    assert proc.returncode == 2 and '--source cam needs --cam-dir' in proc.stderr
    proc = python('tools/make_pseudo_labels.py', stage1['cfg'], stage1['ckpt'], '--out-dir',
                  str(tmp_path / 'x'), '--background-class', '0', check=False)
    assert proc.returncode == 2 and '--background-class is an option of --source cam' in (
        proc.stderr)
    proc = python('tools/make_pseudo_labels.py', stage1['cfg'], stage1['ckpt'], '--out-dir',
                  str(tmp_path / 'x'), '--source', 'cam', '--cam-dir',
                  str(tmp_path / 'seeds'), check=False)  # a directory without CAM files
    assert proc.returncode != 0 and 'does not exist: write the CAMs' in proc.stderr


def test_load_cams_background_and_bad_files(tmp_path):
    tool = _tool()
    cam = np.array([[[0.0, 0.5], [1.0, 0.2]]], np.float16)
    path = str(tmp_path / 'a.npz')
    np.savez(path, classes=np.array([2], np.uint8), cams=cam)
    scores, present = tool.load_cams(path, (2, 2), 4, background_class=0,
                                     background_power=6)
    assert present.tolist() == [True, False, True, False]
    np.testing.assert_allclose(scores[2].numpy(), cam[0].astype(np.float32))
    np.testing.assert_allclose(scores[0].numpy(), (1 - cam[0].astype(np.float64)) ** 6,
                               rtol=1e-6)
    assert (scores[[1, 3]] == 0).all()
    for kwargs, match in ((dict(size=(3, 2)), r'cams must be \[1, 3, 2\]'),
                          (dict(num_classes=2), r'distinct ids in \[0, 2\)'),
                          (dict(background_class=2), 'background class 2 must be')):
        args = dict(size=(2, 2), num_classes=4)
        args.update(kwargs)
        with pytest.raises(ValueError, match=match):
            tool.load_cams(path, **args)
    np.savez(path, cams=cam)
    with pytest.raises(ValueError, match='expected the arrays classes and cams'):
        tool.load_cams(path, (2, 2), 4)
    np.savez(path, classes=np.array([1], np.uint8), cams=np.full((1, 2, 2), np.nan))
    with pytest.raises(ValueError, match='non-finite'):
        tool.load_cams(path, (2, 2), 4)
