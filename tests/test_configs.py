"""Every config builds (a stale key fails here), and a missing dataset gives a clear error."""
import glob
import itertools
import os.path as osp
import re

import pytest
from mmengine.config import Config
from mmseg.registry import MODELS

from tests.conftest import REPO
from tests.test_tools._run import python

CONFIGS = sorted(p for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
                 if '_base_' not in p)


def test_configs_found():
    names = {osp.relpath(p, osp.join(REPO, 'configs')) for p in CONFIGS}
    assert {'spml/voc_tags.py', 'spml/voc_boxes.py', 'spml/voc_scribbles.py',
            'spml/voc_points.py', 'spml/densepose_points.py', 'spml/camvid_points.py',
            'spml/camvid_scribbles.py', 'baselines/camvid_points_partial_ce.py',
            'baselines/camvid_scribbles_partial_ce.py'} <= names


def _expand(pattern):
    """Names of a docs pattern: ``{a,b}`` one of, ``[x]`` optional, ``[x|y]`` optional
    one of (nested)."""
    start = next((i for i, ch in enumerate(pattern) if ch in '{['), None)
    if start is None:
        return {pattern}
    close = {'{': '}', '[': ']'}[pattern[start]]
    depth, end = 0, start
    for end in range(start, len(pattern)):
        depth += pattern[end] in '{['
        depth -= pattern[end] in '}]'
        if depth == 0:
            break
    assert pattern[end] == close, pattern
    inner, alternatives, depth, cur = pattern[start + 1:end], [], 0, ''
    for ch in inner:
        depth += ch in '{['
        depth -= ch in '}]'
        if depth == 0 and ch == (',' if close == '}' else '|'):
            alternatives.append(cur)
            cur = ''
        else:
            cur += ch
    alternatives.append(cur)
    if close == ']':
        alternatives.append('')
    return {n for alt in alternatives
            for n in _expand(pattern[:start] + alt + pattern[end + 1:])}


def test_get_started_config_tree_lists_every_config():
    """The tree of docs/get_started.md §3 names exactly the config files there are."""
    text = open(osp.join(REPO, 'docs', 'get_started.md'), encoding='utf-8').read()
    tree = text[text.index('```\nconfigs/_base_/ ') + 4:]
    tree = tree[:tree.index('```')]
    listed, folder = set(), None
    for line in tree.splitlines():
        if line.startswith('configs/'):
            folder, line = line.split(None, 1)
        line = re.sub(r'\([^)]*\)', '', line)  # remarks in parentheses
        for pattern in re.split(r',(?:\s+|$)', line.strip()):
            if pattern.strip():
                listed |= {osp.join(folder, n) for n in _expand(pattern.strip())}
    files = {osp.relpath(p, REPO)
             for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True)}
    listed = {osp.normpath(n) for n in listed}
    assert listed == files, (sorted(listed - files), sorted(files - listed))


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, REPO))
def test_config_builds_model(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmseg'
    assert 'mmspml' in cfg.custom_imports['imports']
    assert cfg.get('runner_type') == 'SPMLRunner'  # atomic saving, --resume from work_dir
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader', 'val_evaluator',
                'optim_wrapper', 'param_scheduler', 'train_cfg'):
        assert key in cfg, key
    model = MODELS.build(cfg.model)
    head = model.decode_head
    hooks = [h['type'] for h in cfg.get('custom_hooks', [])]
    if cfg.train_dataloader.dataset.get('classes_file'):
        # the classes are the user's (classes.txt): the hook checks the heads at run time
        assert 'CheckNumClassesHook' in hooks
    else:
        assert head.num_classes == len(
            __import__('mmseg.registry', fromlist=['DATASETS']).DATASETS.get(
                cfg.train_dataloader.dataset.type).METAINFO['classes'])
    if type(head).__name__ == 'SPMLHead':
        assert 'SPMLMemoryBankHook' in hooks or head.memory_bank.size == 0
    # a loss that reads the image gets it only through LossImageHook
    if any(callable(getattr(m, 'set_image_batch', None)) for m in model.modules()):
        assert 'LossImageHook' in hooks


@pytest.mark.parametrize('config', ['configs/spml/voc_tags.py',
                                    'configs/spml/densepose_points.py'])
def test_missing_dataset_gives_one_line_error(config, tmp_path):
    proc = python('tools/train.py', config, '--work-dir', str(tmp_path), '--cfg-options',
                  f'train_dataloader.dataset.data_root={tmp_path}/absent', check=False)
    assert proc.returncode == 1
    assert 'dataset_prepare.md' in proc.stderr and 'absent' in proc.stderr
    assert 'Traceback' not in proc.stderr
