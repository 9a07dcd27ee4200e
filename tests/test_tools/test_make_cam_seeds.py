"""tools/make_cam_seeds.py on a generated CamVid tree: tags from a file or from the label
files, seeds restricted to the tags, background class, classifier reuse, printed mIoU."""
import json
import os
import os.path as osp
import re

import cv2
import numpy as np
import pytest

from tests.conftest import write_camvid_tree
from tests.test_tools._run import python

CFG = 'configs/spml/camvid_scribbles.py'
NUM_CLASSES = 11


@pytest.fixture(scope='module')
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp('cam')
    data = write_camvid_tree(str(root / 'camvid'), splits=(('train', 4), ('val', 1)))
    names = [f'train_{i:03d}' for i in range(4)]
    return dict(root=root, names=names,
                opts=[f'train_dataloader.dataset.data_root={data}'],
                labels={n: cv2.imread(osp.join(data, 'labels', 'train', n + '.png'),
                                      cv2.IMREAD_UNCHANGED) for n in names})


def _seeds(out_dir, names):
    return {n: cv2.imread(osp.join(out_dir, n + '.png'), cv2.IMREAD_UNCHANGED) for n in names}


def test_tags_from_label_files_and_classifier_reuse(tree, tmp_path):
    out = str(tmp_path / 'seeds')
    clf = str(tmp_path / 'clf.pth')
    proc = python('tools/make_cam_seeds.py', CFG, '--out-dir', out, '--iters', '2',
                  '--batch-size', '2', '--size', '32', '--classifier', clf,
                  '--cfg-options', *tree['opts'])
    assert osp.isfile(clf) and 'cam classifier saved to' in proc.stdout
    seeds = _seeds(out, tree['names'])
    for n, seed in seeds.items():
        label = tree['labels'][n]
        assert seed.shape == label.shape and seed.dtype == np.uint8
        tagged = set(np.unique(label[label < NUM_CLASSES]).tolist())
        # only the image's own classes (its tags) or unlabeled; void stays void
        assert set(np.unique(seed).tolist()) <= tagged | {NUM_CLASSES, 255}
        assert np.all((seed == 255) == (label == 255))
    miou = float(re.search(r'seed mIoU: ([0-9.]+) \(4 images\)', proc.stdout).group(1))
    assert 0 <= miou <= 100
    assert re.search(r'seed coverage: [0-9.]+% of the labelled pixels', proc.stdout)

    # the saved classifier is reused (no training) and gives the same seeds
    out2 = str(tmp_path / 'seeds2')
    proc = python('tools/make_cam_seeds.py', CFG, '--out-dir', out2, '--classifier', clf,
                  '--cfg-options', *tree['opts'])
    assert f'cam classifier loaded from {clf}' in proc.stdout
    assert 'cam classifier iter' not in proc.stdout
    for n, seed in _seeds(out2, tree['names']).items():
        np.testing.assert_array_equal(seed, seeds[n])


def test_tags_file_background_class(tree, tmp_path):
    tags = {n: [3, 5] for n in tree['names']}  # 3 plays the background class here
    tags_file = str(tmp_path / 'tags.json')
    with open(tags_file, 'w') as f:
        json.dump(tags, f)
    dense_dir = tmp_path / 'dense'
    os.makedirs(dense_dir)
    for n, label in tree['labels'].items():
        cv2.imwrite(str(dense_dir / (n + '.png')), label)
    out = str(tmp_path / 'seeds')
    proc = python('tools/make_cam_seeds.py', CFG, '--out-dir', out, '--iters', '2',
                  '--batch-size', '2', '--size', '32', '--tags-file', tags_file,
                  '--background-class', '3', '--fg-threshold', '0.6', '--bg-threshold',
                  '0.2', '--dense-label-dir', str(dense_dir), '--cfg-options', *tree['opts'])
    values = set()
    for seed in _seeds(out, tree['names']).values():
        values |= set(np.unique(seed).tolist())
    assert values <= {3, 5, NUM_CLASSES, 255} and 3 in values
    assert re.search(r'seed mIoU: [0-9.]+ \(4 images\)', proc.stdout)


def test_bad_tags_file(tree, tmp_path):
    bad = str(tmp_path / 'bad.json')
    with open(bad, 'w') as f:
        json.dump({tree['names'][0]: [0, 99]}, f)
    proc = python('tools/make_cam_seeds.py', CFG, '--out-dir', str(tmp_path / 's'),
                  '--tags-file', bad, '--iters', '0', '--cfg-options', *tree['opts'],
                  check=False)
    assert proc.returncode != 0
    assert f"{bad}: image '{tree['names'][0]}' needs a list of class ids in [0, 11)" in (
        proc.stderr + proc.stdout)
    proc = python('tools/make_cam_seeds.py', CFG, '--out-dir', str(tmp_path / 's'),
                  '--bg-threshold', '0.1', check=False)
    assert proc.returncode == 2 and '--bg-threshold needs --background-class' in proc.stderr


def _independent_miou(seed_dir, names, dense):
    from mmspml.apis.label_metrics import label_stats, miou_from_stats
    total = sum(label_stats(cv2.imread(osp.join(seed_dir, n + '.png'), cv2.IMREAD_UNCHANGED),
                            dense[n], NUM_CLASSES) for n in names)
    return miou_from_stats(total)['mIoU']


def test_weak_label_files_measure_against_dense_label_dir(tree, tmp_path):
    """Tags from scribble label files: the seed mIoU is measured against
    --dense-label-dir (never against the scribbles), and without it none is printed; the
    classifier is written inside --out-dir."""
    scribbles, dense_dir = tmp_path / 'scribbles', tmp_path / 'dense'
    os.makedirs(scribbles)
    os.makedirs(dense_dir)
    for n, label in tree['labels'].items():
        weak = np.full_like(label, NUM_CLASSES)  # unlabeled, but every 6th row
        weak[::6] = label[::6]
        cv2.imwrite(str(scribbles / (n + '.png')), weak)
        cv2.imwrite(str(dense_dir / (n + '.png')), label)
    opts = tree['opts'] + [f'train_dataloader.dataset.label_dir={scribbles}']
    out = str(tmp_path / 'seeds')
    proc = python('tools/make_cam_seeds.py', CFG, '--out-dir',
                  out, '--iters', '2', '--batch-size', '2', '--size', '32',
                  '--num-workers', '1', '--dense-label-dir', str(dense_dir),
                  '--cfg-options', *opts)
    printed = float(re.search(r'seed mIoU: ([0-9.]+) \(4 images\)', proc.stdout).group(1))
    assert printed == pytest.approx(_independent_miou(out, tree['names'], tree['labels']),
                                    abs=0.005)
    # the classifier stays inside --out-dir; nothing is written beside it
    assert osp.isfile(osp.join(out, 'cam_classifier.pth'))
    assert sorted(os.listdir(tmp_path)) == ['dense', 'scribbles', 'seeds']

    proc = python('tools/make_cam_seeds.py', CFG, '--out-dir',
                  str(tmp_path / 'seeds2'), '--classifier',
                  osp.join(out, 'cam_classifier.pth'), '--cfg-options', *opts)
    assert not re.search(r'seed mIoU: [0-9.]', proc.stdout)
    assert 'no seed mIoU: the label files are weak labels' in proc.stdout


def _load_tool():
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'make_cam_seeds_tool', osp.join(osp.dirname(osp.dirname(osp.dirname(
            osp.abspath(__file__)))), 'tools', 'make_cam_seeds.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_images_are_streamed_not_held(tree, tmp_path, monkeypatch):
    """At most a batch of images is alive at any time (the tool once kept every
    training image in memory: tens of GB on VOC)."""
    import weakref
    tool = _load_tool()
    alive, peak = [0], [0]
    real = tool.load_training_sample

    class Img(np.ndarray):  # a weak-referenceable view of the loaded image
        pass

    def tracked(*a, **kw):
        s = real(*a, **kw)
        s.img = s.img.view(Img)
        alive[0] += 1
        weakref.finalize(s.img, lambda: alive.__setitem__(0, alive[0] - 1))
        peak[0] = max(peak[0], alive[0])
        return s

    monkeypatch.setattr(tool, 'load_training_sample', tracked)
    out = str(tmp_path / 'seeds')
    tool.main([CFG, '--out-dir', out, '--iters', '1', '--batch-size', '2', '--size', '32',
               '--num-workers', '0', '--device', 'cpu', '--cfg-options', *tree['opts']])
    assert sorted(os.listdir(out)) == ['cam_classifier.pth'] + sorted(
        n + '.png' for n in tree['names'])
    assert 1 <= peak[0] <= 2  # a batch (2), never the 4 training images


def test_device_argument(monkeypatch):
    tool = _load_tool()
    monkeypatch.setattr(tool.torch.cuda, 'is_available', lambda: True)
    assert tool.parse_args([CFG, '--out-dir', 'x']).device == 'cuda'
    monkeypatch.setattr(tool.torch.cuda, 'is_available', lambda: False)
    assert tool.parse_args([CFG, '--out-dir', 'x']).device == 'cpu'
    with pytest.raises(SystemExit, match='--device cuda: CUDA is not available'):
        tool._device('cuda')
    assert tool._device('cpu').type == 'cpu'
