"""configs/stage2/voc.py trains 2 iterations on pseudo labels of a generated VOC tree and
keeps the embedding network frozen."""
import glob
import os
import os.path as osp
import shutil

import pytest
import torch

from tests._data_utils import write_voc_tree
from tests.test_tools._run import python, tiny_config


@pytest.mark.slow
def test_voc_stage2_trains_on_pseudo_labels(tmp_path):
    root = str(tmp_path / 'voc12')
    write_voc_tree(root, n=4, n_val=2)
    pseudo = tmp_path / 'pseudo'
    os.makedirs(pseudo)
    for d in ('VOC2012/segcls', 'sbd/dataset/clsimg'):  # dense labels as "pseudo labels"
        for f in glob.glob(osp.join(root, d, '*.png')):
            shutil.copy(f, pseudo)
    cfg = tiny_config('configs/stage2/voc.py', root, str(tmp_path / 's2.py'), max_iters=2,
                      val_interval=2)
    wd = str(tmp_path / 'wd')
    python('tools/train.py', cfg, '--work-dir', wd, '--cfg-options', 'load_from=None',
           f'train_dataloader.dataset.label_dir={pseudo}', 'param_scheduler.0.end=2',
           'default_hooks.checkpoint.interval=1')
    first, last = (torch.load(osp.join(wd, f'iter_{i}.pth'), map_location='cpu',
                              weights_only=False)['state_dict'] for i in (1, 2))
    assert not any(k.startswith('decode_head.conv_seg') for k in last)
    frozen = [k for k in last if k.startswith(('backbone.', 'decode_head.embedding.'))]
    assert frozen and all(torch.equal(first[k], last[k]) for k in frozen)  # incl. BN stats
    assert not torch.equal(first['decode_head.stage2_seg.weight'],
                           last['decode_head.stage2_seg.weight'])
