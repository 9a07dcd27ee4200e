"""Tests of tools/{simulate_weak_labels,make_superpixels,convert_whats_the_point}.py.

A few runs go through ``subprocess`` (the real CLI, exit codes, messages); the rest call each tool's
``main(argv)`` in-process to keep the suite fast (every new process imports torch and mmseg).
"""
import importlib.util
import json
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest

from mmspml.datasets import weak_labels as wl

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(REPO, 'tools')
C = 4
NAMES = ['seq_0001', 'seq_0002', 'other_0003']


def load_tool(name):
    spec = importlib.util.spec_from_file_location(f'_tool_{name}', osp.join(TOOLS, name + '.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_cli(tool, *args):
    return subprocess.run([sys.executable, osp.join(TOOLS, tool + '.py'), *map(str, args)],
                          capture_output=True, text=True, cwd=REPO, timeout=120)


@pytest.fixture(scope='module')
def sim():
    return load_tool('simulate_weak_labels')


@pytest.fixture
def camvid_tree(tmp_path):
    """CamVid layout: images/train/*.jpg, labels/train/*.png, train.txt (3 images, 36x48)."""
    root = tmp_path / 'camvid'
    rng = np.random.default_rng(0)
    for sub in ('images/train', 'labels/train'):
        (root / sub).mkdir(parents=True)
    for i, name in enumerate(NAMES):
        lab = np.zeros((36, 48), np.uint8)
        lab[5:20, 4 + i:30] = 1
        lab[22:34, 10:14 + 3 * i] = 2
        lab[8:12, 36:44] = 3
        lab[30 - i, 40] = 3
        lab[:, 46:] = 255
        cv2.imwrite(str(root / 'labels/train' / f'{name}.png'), lab)
        img = rng.integers(0, 256, (36, 48, 3), dtype=np.uint8)
        cv2.imwrite(str(root / 'images/train' / f'{name}.jpg'), img)
    (root / 'train.txt').write_text('\n'.join(NAMES) + '\n')
    return root


def read_png(path):
    out = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert out is not None, path
    return out


def dense(root, name):
    return read_png(root / 'labels/train' / f'{name}.png')


# ---------------------------------------------------------------------------------------------
def test_help(sim, capsys):
    for tool in (sim, load_tool('make_superpixels'), load_tool('convert_whats_the_point')):
        with pytest.raises(SystemExit) as exc:
            tool.main(['--help'])
        assert exc.value.code == 0
        assert 'usage:' in capsys.readouterr().out


def test_simulate_points_cli_matches_library_and_nproc(camvid_tree, tmp_path, sim):
    out_cli, out_1 = tmp_path / 'cli', tmp_path / 'one'
    res = run_cli('simulate_weak_labels', camvid_tree, '--kind', 'points', '--num-classes', C,
                  '--radius', 2, '--points-per-segment', 2, '--unlabeled-index', 9,
                  '--seed', 5, '--nproc', 2, '--out', out_cli)
    assert res.returncode == 0, res.stderr
    sim.main([str(camvid_tree), '--kind', 'points', '--num-classes', str(C), '--radius', '2',
              '--points-per-segment', '2', '--unlabeled-index', '9', '--seed', '5',
              '--out', str(out_1)])
    for name in NAMES:
        got = read_png(out_cli / 'train' / f'{name}.png')
        expected = wl.simulate_points(dense(camvid_tree, name), C, wl.make_rng(5, name),
                                      points_per_segment=2, radius=2, unlabeled_index=9)
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(got, read_png(out_1 / 'train' / f'{name}.png'))
        assert got.dtype == np.uint8 and set(np.unique(got)) <= {0, 1, 2, 3, 9, 255}


def test_simulate_scribbles_seed_and_fraction(camvid_tree, tmp_path, sim):
    counts = {}
    for seed, frac in ((0, 1.0), (0, 0.3), (1, 0.3)):
        out = tmp_path / f's{seed}_{frac}'
        sim.main([str(camvid_tree), '--kind', 'scribbles', '--num-classes', str(C),
                  '--length-fraction', str(frac), '--width', '3', '--seed', str(seed),
                  '--out', str(out)])
        weak = np.stack([read_png(out / 'train' / f'{n}.png') for n in NAMES])
        ref = np.stack([dense(camvid_tree, n) for n in NAMES])
        np.testing.assert_array_equal(weak == 255, ref == 255)
        assert np.all(weak[weak < C] == ref[weak < C])
        counts[seed, frac] = weak
    assert (counts[0, 0.3] < C).sum() < (counts[0, 1.0] < C).sum()
    assert not np.array_equal(counts[0, 0.3], counts[1, 0.3])


def test_simulate_boxes_and_tags(camvid_tree, tmp_path, sim):
    sim.main([str(camvid_tree), '--kind', 'boxes', '--num-classes', str(C), '--out',
              str(tmp_path / 'b')])
    boxes = json.loads((tmp_path / 'b' / 'train_boxes.json').read_text())
    assert list(boxes) == NAMES
    for name in NAMES:
        label, expected = wl.simulate_boxes(dense(camvid_tree, name), C)
        assert boxes[name] == [list(b) for b in expected]
        np.testing.assert_array_equal(read_png(tmp_path / 'b' / 'train' / f'{name}.png'), label)
    assert boxes['seq_0001'][0] == [1, 4, 5, 30, 20]
    sim.main([str(camvid_tree), '--kind', 'tags', '--num-classes', str(C), '--out',
              str(tmp_path / 't')])
    tags = json.loads((tmp_path / 't' / 'train.json').read_text())
    assert tags == {name: [0, 1, 2, 3] for name in NAMES}
    assert not (tmp_path / 't' / 'train').exists()


def test_simulate_options_split_file_and_label_dir(camvid_tree, tmp_path, sim):
    (camvid_tree / 'gt' / 'val').mkdir(parents=True)
    lab = dense(camvid_tree, 'seq_0002')
    cv2.imwrite(str(camvid_tree / 'gt' / 'val' / 'seq_0002_L.png'), lab)
    (tmp_path / 'names.txt').write_text('seq_0002\n\n')
    sim.main([str(camvid_tree), '--split', 'val', '--label-dir', 'gt', '--label-suffix', '_L.png',
              '--split-file', str(tmp_path / 'names.txt'), '--kind', 'points',
              '--num-classes', str(C), '--out', str(tmp_path / 'o')])
    np.testing.assert_array_equal(read_png(tmp_path / 'o' / 'val' / 'seq_0002.png'),
                                  wl.simulate_points(lab, C, wl.make_rng(0, 'seq_0002')))


def test_simulate_errors_name_the_file(camvid_tree, tmp_path, sim):
    out = str(tmp_path / 'o')
    args = [str(camvid_tree), '--kind', 'points', '--out', out]
    bad = camvid_tree / 'labels/train/seq_0002.png'
    lab = dense(camvid_tree, 'seq_0002')
    lab[0, 0] = 7
    cv2.imwrite(str(bad), lab)
    with pytest.raises(ValueError, match=r'seq_0002\.png: unexpected label values 7'):
        sim.main(args + ['--num-classes', str(C)])
    (camvid_tree / 'labels/train/other_0003.png').unlink()
    res = run_cli('simulate_weak_labels', *args, '--num-classes', C)
    assert res.returncode != 0
    assert 'label file not found' in res.stderr and 'other_0003.png' in res.stderr
    assert 'Traceback' not in res.stderr
    with pytest.raises(ValueError, match='unlabeled_index'):
        sim.main(args + ['--num-classes', str(C), '--unlabeled-index', '255'])
    with pytest.raises(ValueError, match='length_fraction'):
        sim.main([str(camvid_tree), '--kind', 'scribbles', '--num-classes', str(C),
                  '--length-fraction', '0', '--out', out])
    with pytest.raises(FileNotFoundError, match='nope.txt'):
        sim.main(args + ['--num-classes', str(C), '--split-file', str(tmp_path / 'nope.txt')])


# ---------------------------------------------------------------------------------------------
def test_make_superpixels(camvid_tree, tmp_path):
    img_dir, out = camvid_tree / 'images/train', tmp_path / 'sp'
    (tmp_path / 'list.txt').write_text('seq_0001\nseq_0002\n')
    res = run_cli('make_superpixels', img_dir, out, '--list', tmp_path / 'list.txt',
                  '--method', 'slic', '--n-segments', 400, '--compactness', 5, '--nproc', 2)
    assert res.returncode == 0, res.stderr
    assert 'wrote 2 superpixel maps' in res.stdout
    assert not (out / 'other_0003.png').exists()
    for name in ('seq_0001', 'seq_0002'):
        got = read_png(out / f'{name}.png')
        assert got.dtype == np.uint16
        rgb = cv2.imread(str(img_dir / f'{name}.jpg'))[:, :, ::-1].copy()
        expected = wl.superpixels(rgb, 'slic', n_segments=400, compactness=5.0)
        np.testing.assert_array_equal(got, expected)
        assert got.max() > 255  # 16 bits kept through the PNG
        np.testing.assert_array_equal(np.unique(got), np.arange(int(got.max()) + 1))


def test_make_superpixels_felzenszwalb_and_corrupt_image(camvid_tree, tmp_path):
    tool = load_tool('make_superpixels')
    img_dir = camvid_tree / 'images/train'
    tool.main([str(img_dir), str(tmp_path / 'fz'), '--method', 'felzenszwalb', '--scale', '50',
               '--min-size', '5'])
    for name in NAMES:
        got = read_png(tmp_path / 'fz' / f'{name}.png')
        rgb = cv2.imread(str(img_dir / f'{name}.jpg'))[:, :, ::-1].copy()
        np.testing.assert_array_equal(
            got, wl.superpixels(rgb, 'felzenszwalb', scale=50, min_size=5))
    (img_dir / 'broken.jpg').write_bytes(b'not a jpeg at all')
    with pytest.raises(ValueError, match=r'broken\.jpg: cannot be read'):
        tool.main([str(img_dir), str(tmp_path / 'x')])


# ---------------------------------------------------------------------------------------------
def pick_real_ids(data, count=3):
    """The first ids (sorted) with >= 2 clicks, all inside a 500x375 image."""
    ids = [k for k in sorted(data)
           if len(data[k]) >= 2 and not wl.clicks_outside(data[k], (375, 500))]
    return ids[:count]


def test_convert_whats_the_point_real_file(tmp_path, shared_wtp_json):
    data = wl.load_whats_the_point(shared_wtp_json)
    ids = pick_real_ids(data)
    img_dir, out = tmp_path / 'JPEGImages', tmp_path / 'points'
    img_dir.mkdir()
    for image_id in ids:
        cv2.imwrite(str(img_dir / f'{image_id}.jpg'), np.full((375, 500, 3), 128, np.uint8))
    res = run_cli('convert_whats_the_point', shared_wtp_json, '--img-dir', img_dir,
                  '--out', out, '--radius', 0, '--nproc', 2)
    assert res.returncode == 0, res.stderr
    n_clicks = sum(len(data[i]) for i in ids)
    assert 'wrote 3 labels' in res.stdout and f'({n_clicks} clicks' in res.stdout
    assert f'skipped {len(data) - 3} ids' in res.stdout
    for image_id in ids:
        label = read_png(out / f'{image_id}.png')
        assert label.shape == (375, 500) and label.dtype == np.uint8
        expected = np.full((375, 500), 21, np.uint8)
        clicks = sorted(enumerate(data[image_id]), key=lambda ic: (ic[1]['rank'], ic[0]))
        for _, c in clicks[::-1]:  # the click that wins a shared pixel is painted last
            expected[min(int(np.floor(c['y'] + 0.5)), 374), min(int(np.floor(c['x'] + 0.5)),
                                                                 499)] = c['cls']
        np.testing.assert_array_equal(label, expected)

    tool = load_tool('convert_whats_the_point')
    tool.main([shared_wtp_json, '--img-dir', str(img_dir), '--out', str(tmp_path / 'r6'),
               '--radius', '6', '--unlabeled-index', '30'])
    for image_id in ids:
        label = read_png(tmp_path / 'r6' / f'{image_id}.png')
        for c in data[image_id]:
            row, col = int(np.floor(c['y'] + 0.5)), int(np.floor(c['x'] + 0.5))
            assert label[row, col] == c['cls']
        assert set(np.unique(label)) == {c['cls'] for c in data[image_id]} | {30}
    with pytest.raises(FileNotFoundError, match='--strict: image not found'):
        tool.main([shared_wtp_json, '--img-dir', str(img_dir), '--out', str(tmp_path / 's'),
                   '--strict'])


def test_convert_whats_the_point_outside_clicks(tmp_path, capsys):
    tool = load_tool('convert_whats_the_point')
    data = {'img_a': [dict(x=10.2, y=5.0, rank=1, cls=3), dict(x=620.9, y=5.0, rank=1, cls=4)],
            'img_b': [], 'img_c': [dict(x=1, y=1, rank=1, cls=2)]}
    json_path = tmp_path / 'wtp.json'
    json_path.write_text(json.dumps(data))
    img_dir = tmp_path / 'img'
    img_dir.mkdir()
    for name in ('img_a', 'img_b'):
        cv2.imwrite(str(img_dir / f'{name}.jpg'), np.zeros((20, 30, 3), np.uint8))
    argv = [str(json_path), '--img-dir', str(img_dir), '--out', str(tmp_path / 'o')]
    with pytest.raises(ValueError, match=r"img_a.*click #1 .*620\.9.*outside the 20x30 image"):
        tool.main(argv)
    tool.main(argv + ['--outside', 'drop'])
    summary = capsys.readouterr().out
    assert 'wrote 2 labels' in summary and '(1 clicks' in summary
    assert 'dropped 1 clicks' in summary and 'skipped 1 ids' in summary
    label = read_png(tmp_path / 'o' / 'img_a.png')
    assert label[5, 10] == 3 and set(np.unique(label)) == {3, 21}
    assert np.all(read_png(tmp_path / 'o' / 'img_b.png') == 21)
    (img_dir / 'img_c.jpg').write_bytes(b'\xff\xd8garbage')
    with pytest.raises(ValueError, match=r'img_c\.jpg: cannot be read'):
        tool.main(argv + ['--outside', 'drop'])
