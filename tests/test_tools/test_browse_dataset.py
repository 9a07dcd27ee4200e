"""tools/browse_dataset.py, run in-process on a generated VOC tree."""
import importlib.util
import os
import os.path as osp
import sys

import cv2
import numpy as np
import pytest

from tests._data_utils import write_voc_tree

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location(
        '_tool_browse_dataset', osp.join(REPO, 'tools', 'browse_dataset.py'))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # --nproc pickles its worker function by module name
    spec.loader.exec_module(module)
    return module


def test_help(tool, capsys):
    with pytest.raises(SystemExit) as exc:
        tool.parse_args(['--help'])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for flag in ('--output-dir', '--not-show', '--max-images', '--cfg-options', '--seed',
                 '--nproc'):
        assert flag in out


def test_writes_one_png_per_sample(tool, tmp_path):
    root = str(tmp_path / 'voc12')
    write_voc_tree(root, n=3, n_val=1)
    out = str(tmp_path / 'out')
    cfg = osp.join(REPO, 'configs', '_base_', 'datasets', 'voc12_aug_scribbles.py')
    tool.main([cfg, '--output-dir', out, '--not-show', '--max-images', '2',
               '--cfg-options', f'train_dataloader.dataset.data_root={root}'])
    files = sorted(os.listdir(out))
    assert files == ['00000_2007_000000.png', '00001_2007_000001.png']
    img = cv2.imread(osp.join(out, files[0]))
    assert img.shape[0] > 512 and img.shape[1] >= 3 * 512  # three panels + text band


def test_seed_is_deterministic_and_independent_of_nproc(tool, tmp_path):
    root = str(tmp_path / 'voc12')
    write_voc_tree(root, n=3, n_val=1)
    cfg = osp.join(REPO, 'configs', '_base_', 'datasets', 'voc12_aug_scribbles.py')
    opts = ['--cfg-options', f'train_dataloader.dataset.data_root={root}',
            'train_dataloader.dataset.pipeline.6.size=(96,96)',
            'train_dataloader.dataset.pipeline.7.crop_size=(96,96)']

    def run(name, *extra):
        out = str(tmp_path / name)
        tool.main([cfg, '--output-dir', out, '--not-show', *extra, *opts])
        return [cv2.imread(osp.join(out, f)) for f in sorted(os.listdir(out))]

    a, b = run('a', '--seed', '3'), run('b', '--seed', '3', '--nproc', '2')
    c = run('c', '--seed', '4')
    assert len(a) == len(b) == 3
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))


def test_label_colours_are_distinct(tool):
    img = np.full((4, 6, 3), 100, np.uint8)
    label = np.array([[0, 1, 21, 255, 21, 1]] * 4, np.uint8)
    palette = [[0, 0, 0], [255, 0, 0]]
    out = tool.draw_label(img, label, palette, num_classes=2)
    cls0, cls1, unl, ign = out[0, 0], out[0, 1], out[0, 2], out[0, 3]
    assert len({tuple(v) for v in (cls0, cls1, unl, ign)}) == 4
    assert tuple(cls1) == (40, 40, 193)  # 0.4 * image + 0.6 * red (BGR)
    edges = tool.draw_boundaries(img, np.array([[1, 1, 2, 2, 2, 2]] * 4))
    assert (edges[:, 1] == tool.BOUNDARY_BGR).all()  # last pixel before the border
    assert (edges[:, [0, 2, 3, 4, 5]] == 100).all()
