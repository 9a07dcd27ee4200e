"""Every config builds (a stale key fails here), and a missing dataset gives a clear error."""
import glob
import os.path as osp

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
    assert head.num_classes == len(
        __import__('mmseg.registry', fromlist=['DATASETS']).DATASETS.get(
            cfg.train_dataloader.dataset.type).METAINFO['classes'])
    if type(head).__name__ == 'SPMLHead':
        hooks = [h['type'] for h in cfg.get('custom_hooks', [])]
        assert 'SPMLMemoryBankHook' in hooks or head.memory_bank.size == 0


@pytest.mark.parametrize('config', ['configs/spml/voc_tags.py',
                                    'configs/spml/densepose_points.py'])
def test_missing_dataset_gives_one_line_error(config, tmp_path):
    proc = python('tools/train.py', config, '--work-dir', str(tmp_path), '--cfg-options',
                  f'train_dataloader.dataset.data_root={tmp_path}/absent', check=False)
    assert proc.returncode == 1
    assert 'dataset_prepare.md' in proc.stderr and 'absent' in proc.stderr
    assert 'Traceback' not in proc.stderr
