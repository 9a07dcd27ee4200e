"""GatedCRFLoss (the registered module) = loss_weight * the functional on the pooled
logits and image; it ignores padding, and works inside an mmseg decode head's loss_decode."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmspml.functional import gated_crf_loss
from mmspml.models.losses import GatedCRFLoss
from tests.test_functional.test_gated_crf import _loop_reference

F64 = torch.float64


def _batch(seed=0, b=2, c=4, h=8, w=10):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(b, c, h, w, generator=g, dtype=F64)
    image = torch.rand(b, 3, h, w, generator=g, dtype=F64) * 40
    image[:, :, h // 2:] += 100
    return logits, image


def test_downsample_one_is_the_functional_on_the_softmax():
    logits, image = _batch()
    valid = torch.ones(2, 8, 10, dtype=torch.bool)
    valid[1, 6:] = False
    loss = GatedCRFLoss(kernels=[dict(weight=1.0, sigma_rgb=20.0, sigma_xy=3.0)],
                        radius=2, downsample=1, loss_weight=0.3)
    out = loss(logits, None, images=image, valid=valid)
    ref = gated_crf_loss(logits.softmax(1), image, valid, 2, ((1.0, 20.0, 3.0), ))
    assert out.dtype == F64 and math.isclose(float(out), 0.3 * float(ref), rel_tol=1e-12)


def test_downsample_pools_logits_and_image_and_keeps_only_fully_valid_cells():
    logits, image = _batch(1)
    valid = torch.zeros(2, 8, 10, dtype=torch.bool)
    valid[0, :7, :9] = True  # cells of row 3 and column 4 are partly padding: invalid
    valid[1] = True
    kernels = [dict(weight=1.0, sigma_rgb=15.0, sigma_xy=24.0), dict(weight=0.2, sigma_xy=8.0)]
    out = GatedCRFLoss(kernels=kernels, radius=2, downsample=2)(logits, None, images=image,
                                                                 valid=valid)
    p = F.avg_pool2d(logits, 2).softmax(1)
    img = F.avg_pool2d(image, 2)
    cells = torch.zeros(2, 4, 5, dtype=torch.bool)
    cells[0, :3, :4] = True
    cells[1] = True
    ref = _loop_reference(p, img, cells, 2, ((1.0, 15.0, 24.0), (0.2, None, 8.0)), 2.0)
    assert math.isclose(float(out), ref, rel_tol=1e-10)


def test_padding_changes_neither_the_loss_nor_gets_a_gradient():
    logits, image = _batch(2, h=12, w=16)
    valid = torch.zeros(2, 12, 16, dtype=torch.bool)
    valid[0, :10, :13] = True  # a sample smaller than the padded batch
    valid[1, :12, :16] = True
    loss = GatedCRFLoss(radius=2, downsample=4)
    x = logits.clone().requires_grad_(True)
    out = loss(x, None, images=image, valid=valid)
    out.backward()
    pad = ~valid[:, None].expand_as(x)
    assert (x.grad[pad] == 0).all() and (x.grad[~pad] != 0).any()
    g = torch.Generator().manual_seed(7)
    other_logits = torch.where(pad, 50 * torch.randn(x.shape, generator=g, dtype=F64), logits)
    other_image = torch.where(~valid[:, None].expand_as(image),
                              255 * torch.rand(image.shape, generator=g, dtype=F64), image)
    assert loss(other_logits, None, images=other_image, valid=valid).item() == out.item()
    assert out.item() > 0


def test_in_a_decode_head_loss_decode_list():
    """mmseg's BaseDecodeHead.loss_by_feat calls it beside the partial CE: one log key
    each; the image comes from set_image_batch (what LossImageHook calls)."""
    head = MODELS.build(dict(
        type='SegformerHead', in_channels=[4, 4], in_index=[0, 1], channels=8,
        num_classes=3, align_corners=False,
        loss_decode=[dict(type='PartialCrossEntropyLoss', loss_weight=1.0),
                     dict(type='GatedCRFLoss', loss_weight=0.5, downsample=2, radius=2)]))
    samples = []
    for i in range(2):
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=torch.full((1, 16, 16), 255, dtype=torch.long))
        s.gt_sem_seg.data[0, i, :4] = i
        samples.append(s)
    logits = torch.randn(2, 3, 8, 8, requires_grad=True)
    crf = head.loss_decode[1]
    with pytest.raises(RuntimeError, match='LossImageHook'):
        head.loss_by_feat(logits, samples)
    image = torch.rand(2, 3, 16, 16) * 255
    valid = torch.ones(2, 16, 16, dtype=torch.bool)
    crf.set_image_batch(image, valid)
    losses = head.loss_by_feat(logits, samples)
    assert set(losses) == {'loss_ce', 'loss_gated_crf', 'acc_seg'}
    up = F.interpolate(logits, (16, 16), mode='bilinear', align_corners=False)
    expect = crf(up, None, images=image, valid=valid)
    assert math.isclose(losses['loss_gated_crf'].item(), expect.item(), rel_tol=1e-6)
    losses['loss_gated_crf'].backward()
    assert logits.grad.abs().sum() > 0
    crf.set_image_batch(None, None)
    with pytest.raises(RuntimeError, match='LossImageHook'):
        crf(up)


def test_bad_configs_and_inputs():
    for kw, match in ((dict(kernels=[dict(weight=1.0)]), 'neither'),
                      (dict(kernels=[dict(weight=1.0, sigma=3.0)]), 'kernels\\[0\\]'),
                      (dict(kernels=dict(weight=1.0, sigma_xy=3.0)), 'non-empty list'),
                      (dict(radius=0), 'radius'), (dict(downsample=0), 'downsample'),
                      (dict(reduction='none'), 'reduction'), (dict(loss_name='crf'), 'loss_')):
        with pytest.raises(ValueError, match=match):
            GatedCRFLoss(**kw)
    loss = GatedCRFLoss(downsample=2)
    logits, image = _batch()
    with pytest.raises(ValueError, match='do not match'):
        loss(logits, None, images=image[:, :, :6])
    with pytest.raises(ValueError, match='valid must be a bool'):
        loss(logits, None, images=image, valid=torch.ones(2, 8, 10))
    with pytest.raises(ValueError, match='per-pixel weight'):
        loss(logits, None, weight=torch.ones(2, 8, 10), images=image)
    with pytest.raises(ValueError, match='smaller than downsample'):
        GatedCRFLoss(downsample=16)(logits, None, images=image)
    assert 'radius=5' in repr(GatedCRFLoss()) and loss.loss_name == 'loss_gated_crf'


def test_half_precision_logits_give_a_float32_loss():
    logits, image = _batch(3)
    loss = GatedCRFLoss(downsample=2, radius=2)
    ref = loss(logits.float(), None, images=image.float())
    out = loss(logits.bfloat16(), None, images=image.float())
    assert out.dtype == torch.float32 and torch.isfinite(out)
    assert math.isclose(out.item(), ref.item(), rel_tol=2e-2)
