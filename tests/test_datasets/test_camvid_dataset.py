import json
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
from mmseg.registry import DATASETS

from mmspml.datasets import CamVidDataset, WeakSegDataset

PIPE = [dict(type='LoadImageFromFile'), dict(type='LoadWeakAnnotations'),
        dict(type='AddImageTags'), dict(type='PackSPMLInputs')]


def build(root, split='train', **kw):
    return DATASETS.build(dict(type='CamVidDataset', data_root=root, split=split,
                               pipeline=kw.pop('pipeline', PIPE), **kw))


def test_shared_camvid_layout(shared_camvid):
    train, val = build(shared_camvid), build(shared_camvid, 'val')
    assert (len(train), len(val)) == (367, 101)
    assert train.metainfo['classes'][0] == 'sky' and len(train.metainfo['classes']) == 11
    assert train.metainfo['palette'][10] == [0, 128, 192]
    sample = val[0]
    ds = sample['data_samples']
    assert sample['inputs'].shape == (3, 180, 240)
    label = ds.gt_sem_seg.data
    assert label.shape == (1, 180, 240)
    vals = set(label.unique().tolist())
    assert vals <= set(range(11)) | {255}
    assert ds.num_classes == 11 and ds.unlabeled_index == 11
    assert ds.img_tags.dtype == np.bool_ and ds.img_tags.sum() == len(vals - {255})


def test_generated_tree_and_split_override(camvid_tree, tmp_path):
    ds = build(camvid_tree, 'val')
    assert len(ds) == 3
    # a held-out split in the same layout (what --cfg-options ...split=test does)
    root = str(tmp_path / 'held_out')
    shutil.copytree(camvid_tree, root)
    os.rename(osp.join(root, 'images', 'val'), osp.join(root, 'images', 'test'))
    os.rename(osp.join(root, 'labels', 'val'), osp.join(root, 'labels', 'test'))
    os.rename(osp.join(root, 'val.txt'), osp.join(root, 'test.txt'))
    test = build(root, 'test')
    assert len(test) == 3 and test[0]['data_samples'].img_path.startswith(root)


def test_three_column_list(camvid_tree, tmp_path):
    lst = tmp_path / 'list.txt'
    lst.write_text('images/train/train_000.jpg labels/train/train_000.png '
                   'labels/train/train_000.png\n')
    ds = WeakSegDataset(data_root=camvid_tree, ann_file=str(lst), overseg_dir='x',
                        metainfo=CamVidDataset.METAINFO, pipeline=PIPE)
    assert ds.get_data_info(0)['overseg_path'].endswith('train_000.png')
    assert ds.get_data_info(0)['name'] == 'train_000'


# ---------------------------------------------------------------- bad input
def test_missing_data_root(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.*dataset_prepare'):
        build(str(tmp_path / 'nope'))


def test_missing_and_empty_split_file(camvid_tree, tmp_path):
    with pytest.raises(FileNotFoundError, match='test.txt'):
        build(camvid_tree, 'test')
    root = str(tmp_path / 'r')
    shutil.copytree(camvid_tree, root)
    open(osp.join(root, 'train.txt'), 'w').close()
    with pytest.raises(ValueError, match='train.txt.*empty'):
        build(root)


def test_missing_image_and_label(camvid_tree, tmp_path):
    root = str(tmp_path / 'r')
    shutil.copytree(camvid_tree, root)
    os.remove(osp.join(root, 'labels', 'train', 'train_001.png'))
    with pytest.raises(FileNotFoundError, match='train_001.png'):
        build(root)
    os.remove(osp.join(root, 'images', 'val', 'val_002.jpg'))
    with pytest.raises(FileNotFoundError, match='val_002.jpg'):
        build(root, 'val')


def test_size_mismatch(camvid_tree, tmp_path):
    root = str(tmp_path / 'r')
    shutil.copytree(camvid_tree, root)
    bad = osp.join(root, 'labels', 'val', 'val_000.png')
    cv2.imwrite(bad, np.zeros((10, 12), np.uint8))
    ds = build(root, 'val')
    with pytest.raises(ValueError, match=r'val_000.png.*size \(12, 10\)'):
        ds[0]


@pytest.mark.parametrize('value, ok', [(10, True), (11, True), (12, False), (254, False),
                                       (255, True)])
def test_label_values(camvid_tree, tmp_path, value, ok):
    root = str(tmp_path / 'r')
    shutil.copytree(camvid_tree, root)
    path = osp.join(root, 'labels', 'val', 'val_001.png')
    label = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    label[5, 5] = value
    cv2.imwrite(path, label)
    ds = build(root, 'val')
    if ok:
        ds[1]
    else:
        with pytest.raises(ValueError, match=rf'val_001.png.*\[{value}\]'):
            ds[1]
    # dense ground truth rejects the unlabeled index too
    gt = build(root, 'val', pipeline=[dict(type='LoadImageFromFile'),
                                      dict(type='LoadWeakAnnotations', allow_unlabeled=False)])
    if value in (11, 12, 254):
        with pytest.raises(ValueError, match='val_001.png'):
            gt[1]


def test_unlabeled_index_validation(camvid_tree):
    with pytest.raises(ValueError, match='unlabeled_index=5'):
        build(camvid_tree, unlabeled_index=5)
    with pytest.raises(ValueError, match='unlabeled_index=255'):
        build(camvid_tree, unlabeled_index=255)
    ds = build(camvid_tree, unlabeled_index=200)
    assert ds[0]['data_samples'].unlabeled_index == 200


def test_corrupt_label(camvid_tree, tmp_path):
    root = str(tmp_path / 'r')
    shutil.copytree(camvid_tree, root)
    with open(osp.join(root, 'labels', 'val', 'val_000.png'), 'wb') as f:
        f.write(b'not a png')
    with pytest.raises(ValueError, match='val_000.png'):
        build(root, 'val')[0]


def test_16_bit_and_palette_labels(camvid_tree, tmp_path):
    from PIL import Image
    root = str(tmp_path / 'r')
    shutil.copytree(camvid_tree, root)
    path = osp.join(root, 'labels', 'val', 'val_000.png')
    label = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    # a 16-bit PNG whose values fit in 8 bits reads as the same ids
    cv2.imwrite(path, label.astype(np.uint16))
    ds = build(root, 'val')
    assert np.array_equal(ds[0]['data_samples'].gt_sem_seg.data[0].numpy(), label)
    # values > 255 would wrap around in mmseg's uint8 cast (256 -> class 0): rejected
    big = label.astype(np.uint16)
    big[0, 0] = 256
    cv2.imwrite(path, big)
    with pytest.raises(ValueError, match=r'val_000.png.*16-bit.*256'):
        build(root, 'val')[0]
    # a palette PNG (VOC's SegmentationClass format) reads as its indices
    im = Image.fromarray(label, mode='P')
    im.putpalette([v for i in range(256) for v in (i, 255 - i, 7)])
    im.save(path)
    assert np.array_equal(build(root, 'val')[0]['data_samples'].gt_sem_seg.data[0].numpy(),
                          label)
    # an RGB label is rejected, naming the file
    cv2.imwrite(path, np.dstack([label] * 3))
    with pytest.raises(ValueError, match='val_000.png.*single-channel'):
        build(root, 'val')[0]


def test_data_prefix_is_rejected_not_ignored(camvid_tree):
    with pytest.raises(ValueError, match=r"data_prefix=\{'img_path': 'x'\} is not used.*img_dir"):
        build(camvid_tree, data_prefix=dict(img_path='x'))


def test_classes_file_and_tags_file(camvid_tree, tmp_path):
    """The files the annotation converters write: classes.txt and {split}_tags.json."""
    root = str(tmp_path / 'tree')
    shutil.copytree(camvid_tree, root)
    names = open(osp.join(root, 'val.txt')).read().split()
    classes = [f'c{i}' for i in range(11)]
    with open(osp.join(root, 'classes.txt'), 'w') as f:
        f.write('\n'.join(classes) + '\n\n')
    tags = {n: [i, 10] for i, n in enumerate(names)}
    with open(osp.join(root, 'val_tags.json'), 'w') as f:
        f.write(json.dumps(tags))

    def make(**kw):
        return WeakSegDataset(data_root=root, split='val', pipeline=PIPE, **kw)

    ds = make(classes_file='classes.txt', tags_file='{split}_tags.json')
    assert ds.metainfo['classes'] == tuple(classes) and ds.unlabeled_index == 11
    for i in range(len(names)):
        assert np.flatnonzero(ds[i]['data_samples'].img_tags).tolist() == [i, 10]
    # the same classes in metainfo are fine, others are an error naming the file
    make(classes_file='classes.txt', metainfo=dict(classes=classes))
    with pytest.raises(ValueError, match=r'classes\.txt.*give one of them'):
        make(classes_file='classes.txt', metainfo=dict(classes=classes[:3]))
    with pytest.raises(FileNotFoundError, match=r'classes_file .*nope\.txt.* does not exist'):
        make(classes_file='nope.txt')
    open(osp.join(root, 'empty.txt'), 'w').close()
    with pytest.raises(ValueError, match=r'empty\.txt.* is empty'):
        make(classes_file='empty.txt')
    # a listed image without tags, a tag that is not a class, a missing tags file
    del tags[names[1]]
    tags[names[0]] = [11]
    with open(osp.join(root, 'bad_tags.json'), 'w') as f:
        f.write(json.dumps(tags))
    with pytest.raises(ValueError, match=r'bad_tags\.json.*tags \[11\]'):
        make(classes_file='classes.txt', tags_file='bad_tags.json')
    tags[names[0]] = [1]
    with open(osp.join(root, 'bad_tags.json'), 'w') as f:
        f.write(json.dumps(tags))
    with pytest.raises(ValueError, match=f"'{names[1]}'.*no entry in tags_file"):
        make(classes_file='classes.txt', tags_file='bad_tags.json')
    with pytest.raises(FileNotFoundError, match='tags_file .*gone.json'):
        make(classes_file='classes.txt', tags_file='gone.json')
