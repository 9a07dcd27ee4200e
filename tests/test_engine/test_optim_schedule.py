"""Parameter groups (spec §2.5, §10) and the reference poly schedule (§5.1, §9.5)."""
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmseg.registry import MODELS, PARAM_SCHEDULERS

from tests.conftest import REPO


def _model_and_wrapper(config):
    cfg = Config.fromfile(f'{REPO}/{config}')
    cfg.model.backbone.norm_cfg = dict(type='BN', requires_grad=True)
    cfg.model.decode_head.norm_cfg = dict(type='BN', requires_grad=True)
    model = MODELS.build(cfg.model)
    return model, build_optim_wrapper(model, cfg.optim_wrapper)


def test_spml_parameter_groups():
    model, wrapper = _model_and_wrapper('configs/spml/voc_scribbles.py')
    base_lr, base_wd = 3e-3, 5e-4
    by_id = {}
    for g in wrapper.optimizer.param_groups:
        for p in g['params']:
            by_id[id(p)] = (g['lr'] / base_lr, g['weight_decay'] / base_wd)
    expected = {
        'backbone.stem.0.weight': (0, 0), 'backbone.stem.1.bias': (0, 0),
        'backbone.layer1.0.conv1.weight': (0, 0),
        'backbone.layer2.0.conv1.weight': (1, 1), 'backbone.layer4.2.bn3.weight': (1, 1),
        'backbone.layer3.0.bn1.bias': (2, 0),
        'decode_head.embedding.convs.0.weight': (10, 1),
        'decode_head.embedding.convs.3.bias': (20, 0),
        'decode_head.classifier_conv.conv.weight': (10, 1),
        'decode_head.classifier_conv.bn.weight': (10, 1),
        'decode_head.classifier_conv.bn.bias': (20, 0),
        'decode_head.conv_seg.weight': (10, 1), 'decode_head.conv_seg.bias': (20, 0),
    }
    params = dict(model.named_parameters())
    for name, (lr_mult, wd_mult) in expected.items():
        assert by_id[id(params[name])] == pytest.approx((lr_mult, wd_mult)), name
    # every trainable parameter is in exactly one group; 5 groups in all
    assert len(by_id) == sum(p.requires_grad for p in model.parameters())
    assert len(wrapper.optimizer.param_groups) == 5


# spec §9.5: lr_poly(3e-3, t, 30000, warm-up 100) and stage 2 (T = 4000)
@pytest.mark.parametrize('total, values', [
    (30000, {0: 3.0e-4, 1: 3.27e-4, 50: 1.65e-3, 99: 2.973e-3, 100: 2.990998e-3,
             1000: 2.909848e-3, 15000: 1.607660e-3, 29999: 2.80357e-7}),
    (4000, {0: 3.0e-4, 100: 2.932415e-3, 3999: 1.718966e-6}),
])
def test_spml_poly_lr_matches_reference(total, values):
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([dict(params=[param], lr=3e-3), dict(params=[], lr=6e-2)],
                          lr=3e-3, momentum=0.9)
    sched = PARAM_SCHEDULERS.build(dict(type='SPMLPolyLR', optimizer=opt, power=0.9,
                                        warmup_iters=100, warmup_ratio=0.1, begin=0,
                                        end=total, by_epoch=False))
    seen = {}
    for t in range(total):
        if t in values:
            seen[t] = [g['lr'] for g in opt.param_groups]
        opt.step()
        sched.step()
    for t, lr in values.items():
        assert seen[t][0] == pytest.approx(lr, rel=2e-6), t
        assert seen[t][1] == pytest.approx(lr * 20, rel=2e-6), t  # multipliers are kept


def test_spml_poly_lr_needs_end():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    with pytest.raises(ValueError, match='end'):
        PARAM_SCHEDULERS.build(dict(type='SPMLPolyLR', optimizer=opt))
