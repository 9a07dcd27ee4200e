"""VOCWeakDataset / DensePoseDataset on tiny trees in SPML's real layouts, and the
dataset base configs built on them."""
import json
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmseg.registry import DATASETS

from mmspml.datasets import DensePoseDataset, VOCWeakDataset
from mmspml.datasets.transforms import DENSEPOSE_FLIP_MAP
from tests._data_utils import (DENSEPOSE_LISTS, VOC_LABEL_DIRS, VOC_LISTS,
                               weak_label_of, write_densepose_tree, write_voc_tree)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATA_CFGS = osp.join(REPO, 'configs', '_base_', 'datasets')
LOAD = [dict(type='LoadImageFromFile'), dict(type='LoadWeakAnnotations')]
PACK = LOAD + [dict(type='AddImageTags'), dict(type='LoadOverSegmentation'),
               dict(type='PackSPMLInputs')]


@pytest.fixture(scope='module')
def voc(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('voc12'))
    return root, write_voc_tree(root, n=4, n_val=2)


@pytest.fixture(scope='module')
def densepose(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('densepose'))
    return root, write_densepose_tree(root, n=3, n_val=2)


def copy_tree(src, tmp_path):
    root = str(tmp_path / 'copy')
    shutil.copytree(src, root)
    return root


def voc_ds(root, **kw):
    kw.setdefault('pipeline', LOAD)
    return VOCWeakDataset(data_root=root, **kw)


def read(path):
    return cv2.imread(path, cv2.IMREAD_UNCHANGED)


# ------------------------------------------------------------------ VOC paths
@pytest.mark.parametrize('kind, length, directory', [
    ('tags', 1.0, 'VOC2012/cam/seam_a6_th0.2'),
    ('boxes', 1.0, 'VOC2012/cam/seambox_a6_th0.5'),
    ('scribbles', 1.0, 'VOC2012/scribble/dilate_3'),
    ('scribbles', 0.5, 'VOC2012/scribble/dilate_3_0.5'),
    ('points', 1.0, 'VOC2012/scribble/dilate_6_0.0'),
])
def test_voc_weak_label_dirs(voc, kind, length, directory):
    root, ids = voc
    key = kind if length == 1.0 else f'{kind}_{length}'
    for ann_file in (VOC_LISTS[key], 'VOC2012/ImageSets/Segmentation/{split}.txt'):
        ds = voc_ds(root, weak_label=kind, scribble_length=length, ann_file=ann_file)
        assert len(ds) == 4 and ds.num_classes == 21 and ds.unlabeled_index == 21
        infos = [ds.get_data_info(i) for i in range(len(ds))]
        assert [i['name'] for i in infos] == ids['train_aug']
        assert all(i['seg_map_path'] == osp.join(root, directory, i['name'] + '.png')
                   for i in infos)
        assert all(i['overseg_path'] == osp.join(root, 'VOC2012/hed', i['name'] + '.png')
                   and i['img_path'] == osp.join(root, 'VOC2012/JPEGImages',
                                                 i['name'] + '.jpg') for i in infos)
        assert all(i['unlabeled_from_255'] for i in infos)


def test_voc_full_searches_segcls_then_sbd(voc):
    root, ids = voc
    ds = voc_ds(root, weak_label='full', ann_file=VOC_LISTS['full'])
    paths = {i['name']: i['seg_map_path'] for i in map(ds.get_data_info, range(len(ds)))}
    for name in ids['voc']:
        assert paths[name] == osp.join(root, 'VOC2012/segcls', name + '.png')
    for name in ids['sbd']:
        assert paths[name] == osp.join(root, 'sbd/dataset/clsimg', name + '.png')
    assert not ds.get_data_info(0)['unlabeled_from_255']
    val = voc_ds(root, split='val', weak_label='full', ann_file=VOC_LISTS['val'],
                 overseg_dir=None)
    assert len(val) == 2 and 'overseg_path' not in val.get_data_info(0)


def test_voc_verbatim_list_and_mismatch_warning(voc, monkeypatch):
    root, _ = voc
    ds = voc_ds(root, weak_label=None, ann_file=VOC_LISTS['boxes'])
    assert '/seambox_a6_th0.5/' in ds.get_data_info(0)['seg_map_path']
    assert not ds.get_data_info(0)['unlabeled_from_255']
    with pytest.raises(ValueError, match='1-column list needs weak_label'):
        voc_ds(root, weak_label=None)
    logs = []
    monkeypatch.setattr('mmspml.datasets._spml_list_dataset.print_log',
                        lambda msg, **kw: logs.append(msg))
    ds = voc_ds(root, weak_label='boxes', ann_file=VOC_LISTS['tags'],
                overseg_dir='VOC2012/slic', check_files=False)
    info = ds.get_data_info(0)
    assert '/seambox_a6_th0.5/' in info['seg_map_path']  # the configured kind wins
    assert '/VOC2012/slic/' in info['overseg_path']
    assert len(logs) == 1 and '8 column(s)' in logs[0] and 'seam_a6_th0.2' in logs[0]


def test_voc_bad_arguments(voc):
    root, _ = voc
    with pytest.raises(ValueError, match="weak_label='scribble'"):
        voc_ds(root, weak_label='scribble')
    with pytest.raises(ValueError, match='scribble_length=0.7'):
        voc_ds(root, weak_label='scribbles', scribble_length=0.7)
    with pytest.raises(ValueError, match="scribble_length=0.5 needs weak_label='scribbles'"):
        voc_ds(root, weak_label='tags', scribble_length=0.5)
    with pytest.raises(FileNotFoundError, match='nope.*dataset_prepare'):
        voc_ds(osp.join(root, 'nope'))


def test_voc_missing_files_named(voc, tmp_path):
    root = copy_tree(voc[0], tmp_path)
    name = voc[1]['train_aug'][1]
    os.remove(osp.join(root, 'VOC2012/hed', name + '.png'))
    with pytest.raises(FileNotFoundError, match=f'hed/{name}.png'):
        voc_ds(root, weak_label='points', ann_file=VOC_LISTS['points'])
    sbd = voc[1]['sbd'][0]
    os.remove(osp.join(root, 'sbd/dataset/clsimg', sbd + '.png'))
    with pytest.raises(FileNotFoundError, match=f'segcls/{sbd}.png.*nor in.*clsimg'):
        voc_ds(root, weak_label='full', overseg_dir=None)


# ------------------------------------------------------------------ VOC samples
def test_voc_scribbles_255_becomes_unlabeled(voc):
    root, ids = voc
    ds = voc_ds(root, weak_label='scribbles', ann_file=VOC_LISTS['scribbles'],
                pipeline=PACK)
    name = ids['train_aug'][0]
    raw = read(osp.join(root, VOC_LABEL_DIRS['scribbles'], name + '.png'))
    assert (raw == 255).any()
    sample = ds[0]
    label = weak_label_of(sample['data_samples'])[0].numpy()
    expect = np.where(raw == 255, 21, raw)
    np.testing.assert_array_equal(label, expect)
    tags = sample['data_samples'].img_tags
    assert np.flatnonzero(tags).tolist() == sorted(set(np.unique(raw)) - {255})
    ovs = sample['data_samples'].gt_overseg.data[0].numpy()
    np.testing.assert_array_equal(ovs, read(osp.join(root, 'VOC2012/hed', name + '.png')))
    # the dense ground truth keeps its void
    gt = voc_ds(root, split='val', weak_label='full', ann_file=VOC_LISTS['val'],
                overseg_dir=None,
                pipeline=[dict(type='LoadImageFromFile'),
                          dict(type='LoadWeakAnnotations', allow_unlabeled=False)])[0]
    assert (gt['gt_seg_map'] == 255).any() and not (gt['gt_seg_map'] == 21).any()


def test_voc_tags_file(voc, tmp_path):
    root, ids = voc
    ds = voc_ds(root, weak_label='tags', tags_file='tags_train_aug.json',
                ann_file=VOC_LISTS['tags'], pipeline=PACK)
    info = ds.get_data_info(0)
    assert 'seg_map_path' not in info and info['img_tag_ids']
    sample = ds[0]['data_samples']
    assert (weak_label_of(sample) == 21).all()  # all unlabeled, no 255 before padding
    tags = json.load(open(osp.join(root, 'tags_train_aug.json')))
    assert np.flatnonzero(sample.img_tags).tolist() == tags[ids['train_aug'][0]]
    # bad files
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps({ids['train_aug'][0]: [1, 21]}))
    with pytest.raises(ValueError, match=r'bad.json.*tags \[21\]'):
        voc_ds(root, weak_label='tags', tags_file=str(bad))
    bad.write_text(json.dumps({ids['train_aug'][0]: [1]}))
    with pytest.raises(ValueError, match=f"{ids['train_aug'][1]}.*no entry.*bad.json"):
        voc_ds(root, weak_label='tags', tags_file=str(bad))
    with pytest.raises(ValueError, match="tags_file needs weak_label='tags'"):
        voc_ds(root, weak_label='boxes', tags_file='tags_train_aug.json')
    with pytest.raises(FileNotFoundError, match='missing.json'):
        voc_ds(root, weak_label='tags', tags_file='missing.json')


def test_voc_bad_label_value_and_corrupt_image(voc, tmp_path):
    root = copy_tree(voc[0], tmp_path)
    name = voc[1]['train_aug'][0]
    path = osp.join(root, VOC_LABEL_DIRS['points'], name + '.png')
    label = read(path)
    label[0, 0] = 30  # not a VOC class, not the unlabeled index
    cv2.imwrite(path, label)
    ds = voc_ds(root, weak_label='points')
    with pytest.raises(ValueError, match=rf'{name}.png.*\[30\]'):
        ds[0]
    with open(osp.join(root, 'VOC2012/JPEGImages', name + '.jpg'), 'wb') as f:
        f.write(b'not a jpeg')
    with pytest.raises(Exception, match=f'{name}.jpg'):
        ds[0]


def test_voc_image_without_labeled_pixel(voc, tmp_path):
    """A scribble file with no scribble: all unlabeled, no tag, still a valid sample
    (SPML's annotation loss skips it; co-occurrence/image-similarity still use it)."""
    root = copy_tree(voc[0], tmp_path)
    name = voc[1]['train_aug'][0]
    path = osp.join(root, VOC_LABEL_DIRS['scribbles'], name + '.png')
    cv2.imwrite(path, np.full_like(read(path), 255))
    sample = voc_ds(root, weak_label='scribbles', pipeline=PACK)[0]['data_samples']
    assert (weak_label_of(sample) == 21).all() and not sample.img_tags.any()


# ------------------------------------------------------------------ DensePose
def test_densepose_layout(densepose):
    root, names = densepose
    ds = DensePoseDataset(data_root=root, ann_file=DENSEPOSE_LISTS['points'], pipeline=PACK)
    assert len(ds) == 3 and ds.num_classes == 15 and ds.unlabeled_index == 15
    assert ds.metainfo['classes'][14] == 'head' and len(ds.metainfo['palette']) == 15
    info = ds.get_data_info(0)
    assert info['seg_map_path'].endswith(
        f'segcls/densepose_points/gray/{names["train2014"][0]}.png')
    assert info['overseg_path'].endswith(f'seginst/pmi_0.1_256/{names["train2014"][0]}.png')
    label = weak_label_of(ds[0]['data_samples'])
    assert set(label.unique().tolist()) <= set(range(16)) and (label == 15).any()
    # 1-column name lists: image directory from the split
    ds1 = DensePoseDataset(data_root=root, ann_file='{split}.txt', pipeline=PACK)
    assert ds1.get_data_info(0)['img_path'] == info['img_path']
    val = DensePoseDataset(data_root=root, split='minival2014', weak_label='full',
                           overseg_dir=None, pipeline=LOAD)
    assert len(val) == 2 and '/images/val2014/' in val.get_data_info(0)['img_path']
    assert '/segcls/densepose/gray/' in val.get_data_info(0)['seg_map_path']
    assert not val.get_data_info(0)['unlabeled_from_255']
    val1 = DensePoseDataset(data_root=root, split='minival2014', weak_label='full',
                            ann_file='{split}.txt', overseg_dir=None, pipeline=LOAD)
    assert val1.get_data_info(1)['img_path'] == val.get_data_info(1)['img_path']


def test_densepose_flip_in_pipeline(densepose):
    root, names = densepose
    pipeline = LOAD + [dict(type='LoadOverSegmentation'),
                       dict(type='DensePoseFlip', prob=1.0)]
    ds = DensePoseDataset(data_root=root, weak_label='full',
                          ann_file=DENSEPOSE_LISTS['full'], pipeline=pipeline)
    r = ds[0]
    raw = read(ds.get_data_info(0)['seg_map_path'])[:, ::-1]
    expect = raw.copy()
    expect[raw < 15] = np.asarray(DENSEPOSE_FLIP_MAP)[raw[raw < 15]]
    np.testing.assert_array_equal(r['gt_seg_map'], expect)
    ovs = read(ds.get_data_info(0)['overseg_path'])
    np.testing.assert_array_equal(r['gt_overseg'], ovs[:, ::-1])


# ------------------------------------------------------------------ base configs
@pytest.mark.parametrize('name, tree', [
    ('voc12_aug_tags', 'voc'), ('voc12_aug_boxes', 'voc'), ('voc12_aug_scribbles', 'voc'),
    ('voc12_aug_points', 'voc'), ('densepose_points', 'densepose'),
])
def test_data_configs(name, tree, request):
    root, _ = request.getfixturevalue(tree)
    cfg = Config.fromfile(osp.join(DATA_CFGS, name + '.py'))
    assert cfg.crop_size == (512, 512)
    assert cfg.train_dataloader.batch_size == 4
    assert cfg.train_dataloader.sampler.type == 'InfiniteSampler'
    assert cfg.val_evaluator == dict(type='IoUMetric', iou_metrics=['mIoU'])
    train = cfg.train_dataloader.dataset
    train.data_root = root
    np.random.seed(0)
    ds = DATASETS.build(train)
    sample = ds[0]
    ds_ = sample['data_samples']
    assert sample['inputs'].shape == (3, 512, 512)
    label, ovs = weak_label_of(ds_)[0], ds_.gt_overseg.data[0]
    assert label.shape == ovs.shape == (512, 512)
    # the image (40x56 after a rescale <= 1.5) is padded bottom/right: 255 in both maps
    assert (label[100:, :] == 255).all() and (ovs[100:, :] == 255).all()
    assert ds_.img_tags.shape == (cfg.num_classes, )
    # padded image = the mean, i.e. 0 after the preprocessor's normalisation
    np.testing.assert_allclose(sample['inputs'][:, 511, 511].numpy(),
                               [103.53, 116.28, 123.675], atol=1e-4)
    val = cfg.val_dataloader.dataset
    val.data_root = root
    vs = DATASETS.build(val)[0]
    assert max(vs['inputs'].shape[1:]) == (640 if tree == 'densepose' else 512)
    assert vs['data_samples'].gt_sem_seg.data.shape == (1, 40, 56)


@pytest.mark.parametrize('name', ['camvid_superpixels', 'camvid_points_superpixels',
                                  'camvid_scribbles_superpixels'])
def test_camvid_superpixel_configs(name, camvid_tree, tmp_path):
    from mmspml.datasets.weak_labels.over_segmentation import superpixels
    cfg = Config.fromfile(osp.join(DATA_CFGS, name + '.py'))
    # default: superpixels on the fly; superpixel_dir is the documented pre-computed place
    assert cfg.train_dataloader.dataset.overseg_dir is None
    assert osp.normpath(cfg.superpixel_dir) == osp.join(REPO, 'data', 'camvid_superpixels',
                                                       '{split}')
    sp_dir = tmp_path / 'sp' / 'train'
    sp_dir.mkdir(parents=True)
    for n in open(osp.join(camvid_tree, 'train.txt')).read().split()[:2]:
        img = cv2.imread(osp.join(camvid_tree, 'images', 'train', n + '.jpg'))
        cv2.imwrite(str(sp_dir / (n + '.png')),
                    superpixels(img, 'slic', n_segments=20).astype(np.uint16))
    train = cfg.train_dataloader.dataset
    train.update(data_root=camvid_tree, overseg_dir=str(tmp_path / 'sp' / '{split}'),
                 ann_file=str(tmp_path / 'two.txt'))
    (tmp_path / 'two.txt').write_text('\n'.join(sorted(os.listdir(sp_dir))).replace(
        '.png', ''))
    sample = DATASETS.build(train)[1]
    ds = sample['data_samples']
    assert sample['inputs'].shape == (3, 160, 160)
    assert ds.gt_sem_seg.data.shape == ds.gt_overseg.data.shape == (1, 160, 160)
    label, ovs = weak_label_of(ds), ds.gt_overseg.data
    assert (label[ovs == 255] == 255).all()  # padding: 255 in both maps
    assert 'img_tags' in ds
