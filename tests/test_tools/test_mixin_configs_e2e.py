"""The mix-in configs (SPML as an auxiliary head of a plain mmseg model) train end to end
through tools/train.py: the VOC ones 2 iterations on a generated tree in VOC's layout,
the CamVid ones 10 iterations on the shared CamVid (the command of the README), validated on
10 of its val images."""
import glob
import math
import os.path as osp

import pytest
from mmengine.config import Config

from tests._data_utils import write_voc_tree
from tests.conftest import REPO
from tests.test_tools._run import python, tiny_config, train_losses

MIXIN = sorted(osp.relpath(p, REPO) for p in glob.glob(osp.join(REPO, 'configs', 'mixin',
                                                                  '*.py')))
VOC = [c for c in MIXIN if 'voc12aug' in c]
# the SPML + Gated CRF configs run in tests/test_tools/test_gated_crf_configs_e2e.py
CAMVID = [c for c in MIXIN if osp.basename(c).startswith('camvid')
          and not c.endswith('_gated_crf.py')]
LOSS_NAMES = dict(SemanticAnnotationLoss='loss_sem_ann',
                  SemanticCooccurrenceLoss='loss_sem_occ',
                  ImageSimilarityLoss='loss_img_sim', FeatureAffinityLoss='loss_feat_aff')


def test_mixin_configs_present():
    assert VOC == ['configs/mixin/deeplabv3plus_r50-d8_voc12aug_scribbles_spml.py',
                   'configs/mixin/segformer_mit-b0_voc12aug_points_spml.py']
    assert len(CAMVID) == 4  # DeepLabV3+ and SegFormer heads x points and scribbles


def _spml_keys(cfg):
    """Log keys of every SPML loss of the config's SPMLAuxHead."""
    aux = cfg.model.auxiliary_head
    heads = aux if isinstance(aux, list) else [aux]
    keys = []
    for i, head in enumerate(heads):
        if head['type'] != 'SPMLAuxHead':
            continue
        prefix = f'aux_{i}.' if isinstance(aux, list) else 'aux.'
        keys += [prefix + LOSS_NAMES[loss['type']] for loss in head['contrastive_losses']]
    assert keys, 'no SPMLAuxHead in the config'
    return keys


def _check_finite(wd, keys, iters):
    for key in keys:
        values = train_losses(wd, key)
        assert sorted(values) == list(range(1, iters + 1)), key
        assert all(math.isfinite(v) for v in values.values()), (key, values)


@pytest.mark.slow
@pytest.mark.parametrize('config', VOC)
def test_voc_mixin_config_trains_two_iterations(config, tmp_path):
    voc = str(tmp_path / 'voc12')
    write_voc_tree(voc, n=4, n_val=2)
    path = tiny_config(config, voc, str(tmp_path / osp.basename(config)), max_iters=2,
                       val_interval=2)
    cfg = Config.fromfile(path)
    wd = str(tmp_path / 'wd')
    proc = python('tools/train.py', path, '--work-dir', wd)
    assert osp.isfile(osp.join(wd, 'iter_2.pth'))
    assert 'mIoU' in proc.stdout + proc.stderr
    _check_finite(wd, _spml_keys(cfg) + ['decode.loss_ce'], 2)


@pytest.mark.slow
@pytest.mark.parametrize('config', CAMVID)
def test_camvid_mixin_config_trains_ten_iterations(config, shared_camvid, tmp_path):
    cfg = Config.fromfile(osp.join(REPO, config))
    wd = str(tmp_path / 'wd')
    proc = python('tools/train.py', config, '--work-dir', wd, '--cfg-options',
                  'train_cfg.max_iters=10', 'default_hooks.logger.interval=1',
                  'log_processor.window_size=1', 'val_dataloader.dataset.indices=10',
                  timeout=900)
    assert osp.isfile(osp.join(wd, 'iter_10.pth'))
    out = proc.stdout + proc.stderr
    assert 'Iter(val) [10/10]' in out and 'mIoU' in out  # validated on 10 val images
    _check_finite(wd, _spml_keys(cfg) + ['decode.loss_ce'], 10)
    acc = train_losses(wd, 'decode.acc_seg')
    assert all(0.0 <= v <= 100.0 for v in acc.values())


def _code(text):
    """Python lines without comments and blank lines."""
    lines = (line.split('#', 1)[0].rstrip() for line in text.splitlines())
    return [line for line in lines if line]


def test_readme_mixin_snippet_is_the_shipped_config():
    """The README's mix-in snippet is configs/mixin/deeplabv3plus_r50-d8_voc12aug_scribbles_spml.py
    (built by tests/test_configs.py, trained above): no download, the guide's changes."""
    readme = open(osp.join(REPO, 'README.md'), encoding='utf-8').read()
    section = readme[readme.index('## Using the losses in any mmseg model'):]
    snippet = section[section.index('```python\n') + 10:]
    snippet = snippet[:snippet.index('```')]
    shipped = open(osp.join(REPO, VOC[0]), encoding='utf-8').read()
    assert _code(snippet) == _code(shipped)
    assert not any('open-mmlab://' in line for line in _code(snippet))
    assert any(line.strip() == 'pretrained=None,' for line in _code(snippet))
    cfg = Config.fromfile(osp.join(REPO, VOC[0]))
    assert cfg.model.pretrained is None
    fcn = cfg.model.auxiliary_head[0]
    assert fcn['type'] == 'FCNHead'
    assert fcn['loss_decode']['type'] == 'PartialCrossEntropyLoss'  # not whole-image CE
