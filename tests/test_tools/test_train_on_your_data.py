"""docs/train_on_your_data.md, walked: the commands of its marked blocks run in order in a
workspace holding the repository's tools/demo/configs and a user's folder of LabelMe files
(six CamVid frames, scribbles simulated along skeletons and written as LabelMe line strips;
three CamVid validation frames as the dense masks).

Test-only changes, so that it takes under a minute on 2 cores: the config written from the
page gets 20 iterations, 64x64 crops, batch 2 and no worker processes appended, and the
commands use ``iter_20.pth`` for ``iter_1000.pth``.
"""
import json
import os
import os.path as osp
import re
import shutil
import sys

import cv2
import numpy as np
import pytest
from mmengine.config import Config

from mmspml.datasets import weak_labels as wl
from tests._annotation_files import write_labelme
from tests.conftest import REPO
from tests.test_tools._run import run_tool, shrink_sizes, train_losses

DOC = osp.join(REPO, 'docs', 'train_on_your_data.md')
CLASSES = ['sky', 'building', 'pole', 'road', 'pavement', 'tree', 'sign-symbol', 'fence',
           'car', 'pedestrian', 'bicyclist']
STEP = re.compile(r'<!-- tutorial-test: (run|write (\S+)) -->\n```\w+\n(.*?)```', re.S)


def doc_steps():
    """``[(path to write or None, code)]`` of the marked blocks, in page order."""
    return [(m.group(2), m.group(3)) for m in STEP.finditer(open(DOC).read())]


def test_doc_marks_every_step():
    steps = doc_steps()
    assert [p for p, _ in steps] == [None, 'configs/my/my_weak_mixin.py', None, None, None, None]
    tools = [re.search(r'python (\S+)', c).group(1) for p, c in steps if p is None]
    assert tools == ['tools/dataset_converters/labelme2weak.py', 'tools/browse_dataset.py',
                     'tools/train.py', 'tools/test.py', 'demo/image_demo.py']


def make_workspace(ws, camvid):
    """The repository's tools, demo and configs (links), the user's LabelMe folder and the
    dense masks of three validation frames."""
    for d in ('tools', 'demo'):
        os.symlink(osp.join(REPO, d), osp.join(ws, d))
    os.makedirs(osp.join(ws, 'configs', 'my'))
    for d in os.listdir(osp.join(REPO, 'configs')):
        os.symlink(osp.join(REPO, 'configs', d), osp.join(ws, 'configs', d))
    lm = osp.join(ws, 'data', 'my_labelme')
    os.makedirs(lm)
    names = open(osp.join(camvid, 'train.txt')).read().split()[::61][:6]
    for i, name in enumerate(names, 1):
        frame = f'frame_{i:04d}'
        shutil.copy(osp.join(camvid, 'images/train', name + '.jpg'),
                    osp.join(lm, frame + '.jpg'))
        dense = cv2.imread(osp.join(camvid, 'labels/train', name + '.png'),
                           cv2.IMREAD_UNCHANGED)
        _, shapes = wl.simulate_scribbles(dense, 11, wl.make_rng(0, name), width=3,
                                          length_fraction=0.5, within_segment=False,
                                          return_shapes=True)
        flags = {c: bool((dense == k).any()) for k, c in enumerate(CLASSES)}
        write_labelme(osp.join(lm, frame + '.json'), frame + '.jpg', dense.shape, shapes,
                      CLASSES, flags)
    val = open(osp.join(camvid, 'val.txt')).read().split()[::40][:3]
    root = osp.join(ws, 'data', 'my_weak')
    for sub in ('images', 'labels'):
        os.makedirs(osp.join(root, sub, 'val'))
        ext = '.jpg' if sub == 'images' else '.png'
        for name in val:
            shutil.copy(osp.join(camvid, sub, 'val', name + ext),
                        osp.join(root, sub, 'val', name + ext))
    with open(osp.join(root, 'val.txt'), 'w') as f:
        f.write('\n'.join(val) + '\n')
    return names, val


def small_overrides(path):
    """Python lines appended to the page's config: 20 iterations, 64x64, batch 2."""
    cfg = Config.fromfile(path)
    train = cfg.train_dataloader.dataset.pipeline
    test = cfg.test_dataloader.dataset.pipeline
    shrink_sizes(train, (64, 64))
    shrink_sizes(test, (64, 64))
    loader = dict(num_workers=0, persistent_workers=False)
    return '\n'.join([
        '# test-only (tests/test_tools/test_train_on_your_data.py)',
        'train_cfg = dict(max_iters=20, val_interval=20)',
        'default_hooks = dict(checkpoint=dict(interval=20), logger=dict(interval=5))',
        f'train_dataloader = dict(train_dataloader, batch_size=2, **{loader!r}, '
        f'dataset=dict(train_dataloader["dataset"], pipeline={list(map(dict, train))!r}))',
        f'val_dataloader = dict(val_dataloader, **{loader!r}, '
        f'dataset=dict(val_dataloader["dataset"], pipeline={list(map(dict, test))!r}))',
        'test_dataloader = val_dataloader',
        'model = dict(model, data_preprocessor=dict(size=(64, 64)))', ''])


@pytest.mark.slow
def test_train_on_your_data_walkthrough(shared_camvid, tmp_path):
    ws = str(tmp_path)
    names, val = make_workspace(ws, shared_camvid)
    env = dict(os.environ, PYTHONPATH=REPO, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1',
               PATH=osp.dirname(sys.executable) + os.pathsep + os.environ['PATH'])
    outputs = []
    for path, code in doc_steps():
        if path is not None:
            with open(osp.join(ws, path), 'w') as f:
                f.write(code)
            with open(osp.join(ws, path), 'a') as f:
                f.write(small_overrides(osp.join(ws, path)))
            continue
        code = code.replace('iter_1000.pth', 'iter_20.pth')
        proc = run_tool(['bash', '-e', '-c', code], cwd=ws, env=env, timeout=300, check=False)
        assert proc.returncode == 0, f'{code}\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}'
        outputs.append(proc.stdout + proc.stderr)
    convert, browse, train, test, demo = outputs
    weak = osp.join(ws, 'data', 'my_weak')
    # converted: six images, their labels use classes, 11 (unlabeled) and no ignore
    assert 'labelme2weak: 6 images' in convert
    shown = re.search(r"For the test's six.*?```\n(.*?)```", open(DOC).read(), re.S).group(1)
    assert shown.splitlines() == convert.strip().splitlines()[-len(shown.splitlines()):]
    rows = open(osp.join(weak, 'train.txt')).read().split('\n')[:-1]
    assert len(rows) == 6 and rows[0] == 'images/train/frame_0001.jpg labels/train/frame_0001.png'
    tags = json.load(open(osp.join(weak, 'train_tags.json')))
    for i in range(1, 7):
        label = cv2.imread(osp.join(weak, 'labels/train', f'frame_{i:04d}.png'),
                           cv2.IMREAD_UNCHANGED)
        values = set(np.unique(label).tolist())
        assert 11 in values and values - {11} and max(values) == 11
        assert set(tags[f'frame_{i:04d}']) >= values - {11}
    assert len([p for p in os.listdir(osp.join(ws, 'work_dirs', 'my_browse'))
                if p.endswith('.png')]) == 4
    wd = osp.join(ws, 'work_dirs', 'my_weak_mixin')
    assert osp.isfile(osp.join(wd, 'iter_20.pth'))
    losses = train_losses(wd, 'aux.loss_sem_ann')
    # logged every 5 iterations and at the end of each pass over the 6 images (batch 2)
    assert {5, 10, 15, 20} <= set(losses) and all(np.isfinite(list(losses.values())))
    assert 'mIoU' in train  # validated on the three dense masks
    assert 'per class results' in test and 'pedestrian' in test and 'mIoU' in test
    assert 'Iter(test) [3/3]' in test
    pred = cv2.imread(osp.join(ws, 'work_dirs', 'frame_0001_pred.png'))
    assert pred is not None and pred.shape == (180, 240, 3)
    assert 'predicted classes:' in demo


def test_num_classes_hook_stops_a_mismatched_config(tmp_path):
    """The hook of the generic configs: a head whose num_classes is not the dataset's."""
    from types import SimpleNamespace

    import torch.nn as nn

    from mmspml.engine.hooks import CheckNumClassesHook
    dataset = SimpleNamespace(metainfo=dict(classes=('a', 'b', 'c')))
    loader = SimpleNamespace(dataset=dataset)
    model = nn.Module()
    model.decode_head = SimpleNamespace(num_classes=3)
    model.auxiliary_head = nn.ModuleList([nn.Identity(), nn.Identity()])
    model.auxiliary_head[1].num_classes = 4
    runner = SimpleNamespace(model=model, train_dataloader=loader, test_dataloader=loader,
                             val_dataloader=loader)
    hook = CheckNumClassesHook()
    for step in (hook.before_train, hook.before_val, hook.before_test):
        with pytest.raises(ValueError, match=r'auxiliary_head\[1\].num_classes = 4 .* 3 '
                                             r'classes \(a, b, c\); set num_classes=3'):
            step(runner)
    model.auxiliary_head[1].num_classes = 3
    hook.before_train(runner)


@pytest.mark.parametrize('config', ['configs/mixin/weak_folder_segformer_effnet-lite0_spml.py',
                                    'configs/spml/weak_folder_effnet-lite0.py'])
def test_generic_configs_train_on_the_converted_layout(config, tmp_path):
    """Both configs of step 4 read a converted folder (classes.txt, the 2-column list, the
    tags file) and give finite losses; only the heads' num_classes needs setting."""
    import importlib.util

    from mmengine.dataset import pseudo_collate
    from mmseg.registry import DATASETS, MODELS

    spec = importlib.util.spec_from_file_location(
        '_labelme2weak', osp.join(REPO, 'tools', 'dataset_converters', 'labelme2weak.py'))
    labelme = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(labelme)
    lm = tmp_path / 'lm'
    lm.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        cv2.imwrite(str(lm / f'im{i}.jpg'), rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))
        shapes = [dict(shape_type='linestrip', label='road', points=[[2, 40], [60, 44]]),
                  dict(shape_type='point', label='car', points=[[30, 20]])]
        write_labelme(str(lm / f'im{i}.json'), f'im{i}.jpg', (48, 64), shapes, None,
                      dict(sky=i == 1))
    root = str(tmp_path / 'weak')
    labelme.main([str(lm), '--out', root, '--classes', 'sky,road,car'])
    cfg = Config.fromfile(osp.join(REPO, config))
    cfg.train_dataloader.dataset.data_root = root
    shrink_sizes(cfg.train_dataloader.dataset.pipeline, (32, 32))
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    assert dataset.metainfo['classes'] == ('sky', 'road', 'car')
    samples = [dataset[0], dataset[1]]
    tags = [s['data_samples'].metainfo['img_tags'].tolist() for s in samples]
    assert tags == [[False, True, True], [True, True, True]]  # the flag of im1: sky
    cfg.model.decode_head.num_classes = 3
    if 'auxiliary_head' in cfg.model:
        cfg.model.auxiliary_head.num_classes = 3
    cfg.model.data_preprocessor.size = (32, 32)
    model = MODELS.build(cfg.model)
    data = model.data_preprocessor(pseudo_collate(samples), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert 'decode.loss_ce' in losses and len(losses) >= 3
    for key, value in losses.items():
        if 'loss' in key:
            assert bool(np.isfinite(value.detach().numpy()).all()), key
