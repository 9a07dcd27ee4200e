"""The Gated CRF loss against its formula written as a per-pixel double loop (float64),
its gradient (gradcheck) and its gate (invalid pixels change nothing)."""
import math

import pytest
import torch

from mmspml.functional import gated_crf_loss

F64 = torch.float64
KERNELS = ((1.0, 15.0, 6.0), (0.5, None, 3.0))  # an RGB+XY kernel and an XY-only kernel


def _loop_reference(probs, image, valid, radius, kernels, xy_step, reduction='mean'):
    """sum over valid i, valid j != i in the window of k_ij (1 - p_i . p_j), pixel by pixel."""
    b, c, h, w = probs.shape
    total = 0.0
    for n in range(b):
        for y in range(h):
            for x in range(w):
                if not valid[n, y, x]:
                    continue
                for v in range(max(0, y - radius), min(h, y + radius + 1)):
                    for u in range(max(0, x - radius), min(w, x + radius + 1)):
                        if (v, u) == (y, x) or not valid[n, v, u]:
                            continue
                        colour = float(((image[n, :, y, x] - image[n, :, v, u]) ** 2).sum())
                        dist = ((y - v) ** 2 + (x - u) ** 2) * xy_step ** 2
                        k = 0.0
                        for weight, s_rgb, s_xy in kernels:
                            e = 0.0
                            if s_rgb is not None:
                                e -= colour / (2 * s_rgb ** 2)
                            if s_xy is not None:
                                e -= dist / (2 * s_xy ** 2)
                            k += weight * math.exp(e)
                        agree = float((probs[n, :, y, x] * probs[n, :, v, u]).sum())
                        total += k * (1 - agree)
    if reduction == 'sum':
        return total
    return total / max(int(valid.sum()), 1)


def _inputs(seed, b=2, c=3, h=6, w=7):
    g = torch.Generator().manual_seed(seed)
    probs = torch.randn(b, c, h, w, generator=g, dtype=F64).softmax(dim=1)
    # two colour regions plus noise, so the RGB kernel matters
    image = torch.rand(b, 3, h, w, generator=g, dtype=F64) * 20
    image[:, :, :, w // 2:] += 60
    valid = torch.rand(b, h, w, generator=g) > 0.25
    return probs, image, valid


@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('radius, xy_step', [(2, 1.0), (1, 4.0), (3, 2.0)])
def test_matches_per_pixel_double_loop(seed, radius, xy_step):
    probs, image, valid = _inputs(seed)
    ref = _loop_reference(probs, image, valid, radius, KERNELS, xy_step, 'sum')
    assert ref > 0
    for reduction, expect in (('sum', ref), ('mean', ref / int(valid.sum()))):
        out = gated_crf_loss(probs, image, valid, radius, KERNELS, xy_step=xy_step,
                             reduction=reduction)
        assert out.dtype == F64
        assert math.isclose(float(out), expect, rel_tol=1e-10), (reduction, out, expect)


def test_radius_larger_than_the_image():
    probs, image, valid = _inputs(3, h=2, w=3)
    out = gated_crf_loss(probs, image, valid, 5, KERNELS)
    assert math.isclose(float(out), _loop_reference(probs, image, valid, 5, KERNELS, 1.0),
                        rel_tol=1e-10)


def test_gradcheck():
    probs, image, valid = _inputs(4, b=1, c=3, h=4, w=5)
    logits = probs.log().clone().requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda z: gated_crf_loss(z.softmax(dim=1), image, valid, 2, KERNELS, xy_step=2.0),
        (logits, ))
    p = probs.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda q: gated_crf_loss(q, image, valid, 1, KERNELS, reduction='sum'), (p, ))


def test_invalid_pixels_change_nothing():
    probs, image, valid = _inputs(5)
    p = probs.clone().requires_grad_(True)
    loss = gated_crf_loss(p, image, valid, 2, KERNELS)
    loss.backward()
    inv = ~valid[:, None].expand_as(p)
    assert (p.grad[inv] == 0).all() and (p.grad[~inv] != 0).any()
    # other colours and predictions where the gate is closed: the same loss
    g = torch.Generator().manual_seed(9)
    other_p = torch.where(inv, torch.rand(p.shape, generator=g, dtype=F64), probs)
    other_img = torch.where(~valid[:, None].expand_as(image),
                            torch.rand(image.shape, generator=g, dtype=F64) * 255, image)
    assert float(gated_crf_loss(other_p, other_img, valid, 2, KERNELS)) == loss.item()


def test_one_hot_agreeing_prediction_has_zero_loss_and_no_valid_pixel_gives_zero():
    probs, image, valid = _inputs(6)
    same = torch.zeros_like(probs)
    same[:, 1] = 1
    assert float(gated_crf_loss(same, image, valid, 2, KERNELS)) == 0.0
    p = probs.clone().requires_grad_(True)
    out = gated_crf_loss(p, image, torch.zeros_like(valid), 2, KERNELS)
    assert out.item() == 0.0 and out.requires_grad


def test_bad_arguments():
    probs, image, valid = _inputs(7)
    with pytest.raises(ValueError, match='radius'):
        gated_crf_loss(probs, image, valid, 0, KERNELS)
    with pytest.raises(ValueError, match='neither sigma_rgb nor sigma_xy'):
        gated_crf_loss(probs, image, valid, 1, ((1.0, None, None), ))
    with pytest.raises(ValueError, match='weight'):
        gated_crf_loss(probs, image, valid, 1, ((0.0, 1.0, 1.0), ))
    with pytest.raises(ValueError, match='kernels'):
        gated_crf_loss(probs, image, valid, 1, ())
    with pytest.raises(ValueError, match='valid must be a bool'):
        gated_crf_loss(probs, image, valid.long(), 1, KERNELS)
    with pytest.raises(ValueError, match='image must have shape'):
        gated_crf_loss(probs, image[:, :, :5], valid, 1, KERNELS)
    with pytest.raises(ValueError, match='reduction'):
        gated_crf_loss(probs, image, valid, 1, KERNELS, reduction='none')
