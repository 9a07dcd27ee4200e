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
