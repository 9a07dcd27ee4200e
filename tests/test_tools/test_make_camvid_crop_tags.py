"""tools/make_camvid_crop_tags.py on a generated CamVid tree: 9 crops a frame, tags from
the crop's dense label at the threshold, a layout CamVidDataset and make_cam_seeds read."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from tests.conftest import write_camvid_tree
from tools.make_camvid_crop_tags import crop_boxes, main


def test_crop_grid_of_a_camvid_frame():
    boxes = crop_boxes(180, 240)
    assert [(y, x) for _, _, y, x, _, _ in boxes] == [
        (y, x) for y in (0, 45, 90) for x in (0, 60, 120)]
    assert {(ch, cw) for *_, ch, cw in boxes} == {(90, 120)}
    assert crop_boxes(5, 7, grid=1, fraction=1.0) == [(0, 0, 0, 0, 5, 7)]


def test_crop_dataset_on_a_generated_tree(tmp_path, capsys):
    root = write_camvid_tree(str(tmp_path / 'camvid'), splits=(('train', 3), ))
    out = str(tmp_path / 'crops')
    main([root, '--out-dir', out, '--threshold', '0.05'])
    printed = capsys.readouterr().out
    names = open(osp.join(out, 'train.txt')).read().split()
    assert len(names) == 27 and names[:2] == ['train_000_y0x0', 'train_000_y0x1']
    tags = json.load(open(osp.join(out, 'train_tags.json')))
    assert sorted(tags) == sorted(names)
    counts = np.zeros(11)
    for frame in ('train_000', 'train_001', 'train_002'):
        img = cv2.imread(osp.join(root, 'images', 'train', frame + '.jpg'))
        label = cv2.imread(osp.join(root, 'labels', 'train', frame + '.png'), -1)
        for i, y in enumerate((0, 12, 24)):
            for j, x in enumerate((0, 16, 32)):
                name = f'{frame}_y{i}x{j}'
                crop_lab = label[y:y + 24, x:x + 32]
                assert np.array_equal(cv2.imread(osp.join(out, 'images', 'train', name + '.png')),
                                      img[y:y + 24, x:x + 32])  # lossless crop
                assert np.array_equal(cv2.imread(osp.join(out, 'labels', 'train', name + '.png'),
                                                 -1), crop_lab)
                blank = cv2.imread(osp.join(out, 'unlabeled', 'train', name + '.png'), -1)
                assert blank.shape == (24, 32) and (blank == 11).all()
                expect = [k for k in range(11) if (crop_lab == k).mean() >= 0.05]
                assert tags[name] == expect
                counts[expect] += 1
    assert any(0 < n < 27 for n in counts)  # tags differ between crops
    for k, cls in enumerate(('sky', 'building', 'pole')):
        assert f'{cls:<12} {100 * counts[k] / 27:>8.1f}' in printed
    assert '27 crops of 3 frames (train)' in printed
    # the layout the tags configs read: CamVidDataset with PNG crops, blank weak labels
    from mmspml.datasets import CamVidDataset
    ds = CamVidDataset(data_root=out, img_suffix='.png', label_dir='unlabeled/{split}')
    assert len(ds) == 27 and ds.get_data_info(0)['seg_map_path'].endswith(
        osp.join('unlabeled', 'train', 'train_000_y0x0.png'))


def test_lower_threshold_gives_more_tags_and_bad_inputs_fail(tmp_path):
    root = write_camvid_tree(str(tmp_path / 'camvid'), splits=(('train', 2), ))
    main([root, '--out-dir', str(tmp_path / 'a'), '--threshold', '0.3'])
    main([root, '--out-dir', str(tmp_path / 'b'), '--threshold', '0.001'])
    a = json.load(open(tmp_path / 'a' / 'train_tags.json'))
    b = json.load(open(tmp_path / 'b' / 'train_tags.json'))
    assert all(set(a[k]) <= set(b[k]) for k in a) and sum(map(len, b.values())) > sum(
        map(len, a.values()))
    with pytest.raises(SystemExit):
        main([root, '--out-dir', str(tmp_path / 'c'), '--threshold', '0'])
    os.remove(osp.join(root, 'labels', 'train', 'train_001.png'))
    with pytest.raises(SystemExit, match='train_001.png'):
        main([root, '--out-dir', str(tmp_path / 'd')])
