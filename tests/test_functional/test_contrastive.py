"""The pixel-to-segment kernel against spml-method.md §9.1/§9.2 and its properties."""
import math

import pytest
import torch

from mmspml.functional import (l2_normalize, pixel_segment_contrastive_loss,
                               retrieval_accuracy)

F64 = torch.float64


def _reference_inputs(dtype=F64):
    x = torch.tensor([(1, 0, 0), (0.8, 0.6, 0), (0, 1, 0), (0, 0.6, 0.8)], dtype=dtype)
    mu = l2_normalize(torch.tensor([(1, 0.2, 0), (0.6, 0.8, 0), (0, 1, 0.3), (0.2, 0, 1)],
                                   dtype=dtype))
    return x, mu, torch.arange(4)


@pytest.mark.parametrize('kappa, per_pixel, mean', [
    (1, [0.795944398, 0.786358526, 1.491151803, 0.800191119], 0.968411462),
    (2, [0.557926608, 0.556622696, 2.005971778, 0.574156205], 0.923669322),
    (6, [0.109707941, 0.141185632, 4.834328092, 0.147436315], 1.308164495),
])
def test_single_label_reference_values(kappa, per_pixel, mean):
    x, mu, own = _reference_inputs()
    y = torch.tensor([0, 0, 1, 1])
    losses = pixel_segment_contrastive_loss(x, y, own, mu, y, kappa, reduction='none')
    torch.testing.assert_close(losses, torch.tensor(per_pixel, dtype=F64), rtol=1e-6, atol=0)
    loss = pixel_segment_contrastive_loss(x, y, own, mu, y, kappa)
    torch.testing.assert_close(loss, torch.tensor(mean, dtype=F64), rtol=1e-6, atol=0)


def test_single_label_hand_check_pixel_2():
    # §9.1: own prototype left out, num = e^0, den = 1 + e^{2*0.196} + e^{2*0.8}
    x, mu, own = _reference_inputs()
    y = torch.tensor([0, 0, 1, 1])
    losses = pixel_segment_contrastive_loss(x, y, own, mu, y, 2, reduction='none')
    c = (x[2] @ mu[:2].t()).tolist()
    assert math.isclose(losses[2].item(), math.log(1 + math.exp(2 * c[0]) + math.exp(2 * c[1])),
                        rel_tol=1e-12)


def test_single_label_fallback_to_own_term():
    x, mu, own = _reference_inputs()
    y = torch.tensor([0, 0, 1, 2])
    losses = pixel_segment_contrastive_loss(x, y, own, mu, y, 2, reduction='none')
    expected = torch.tensor([0.557926608, 0.556622696, 0.739326133, 1.046793048], dtype=F64)
    torch.testing.assert_close(losses, expected, rtol=1e-6, atol=0)
    assert math.isclose(losses.mean().item(), 0.725167121, rel_tol=1e-6)


@pytest.mark.parametrize('as_type', [torch.bool, torch.long, F64])
def test_label_set_reference_values(as_type):
    x, mu, own = _reference_inputs()
    sets = torch.tensor([(1, 0, 0), (1, 1, 0), (0, 0, 1), (0, 0, 0)]).to(as_type)
    proto_sets = torch.tensor([(1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 0, 1)]).to(as_type)
    losses = pixel_segment_contrastive_loss(x, sets, own, mu, proto_sets, 2, reduction='none')
    expected = torch.tensor([1.365694338, 0.353466438, 2.005971778, 1.347683838], dtype=F64)
    torch.testing.assert_close(losses, expected, rtol=1e-6, atol=0)
    assert math.isclose(losses.mean().item(), 1.268204098, rel_tol=1e-6)


def test_empty_set_counts_own_term_twice():
    x, mu, own = _reference_inputs()
    sets = torch.zeros(4, 3, dtype=torch.bool)
    losses = pixel_segment_contrastive_loss(x, sets, own, mu, sets, 2, reduction='none')
    z = 2 * (x @ mu.t())
    own_z = z.diagonal()
    expected = torch.logsumexp(z, 1) + torch.log1p(torch.exp(own_z - torch.logsumexp(z, 1))) \
        - own_z
    torch.testing.assert_close(losses, expected, rtol=1e-12, atol=1e-12)


def test_no_negative_gives_exact_zero():
    x, mu, own = _reference_inputs()
    y = torch.zeros(4, dtype=torch.long)
    losses = pixel_segment_contrastive_loss(x, y, own, mu, y, 16, reduction='none')
    assert torch.equal(losses, torch.zeros(4, dtype=F64))


def test_no_float32_cancellation():
    # the own segment dominates (e^16) and the only other positive is far away (e^-16):
    # the reference's float32 subtraction would give a loss ~0; the intended value is
    # log(1 + e^16), which the log-space kernel gets in float32 too
    x = torch.tensor([[1.0, 0.0]])
    mu = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]])
    y, py = torch.tensor([0]), torch.tensor([0, 0, 1])
    expected = math.log1p(math.exp(16.0))
    for dtype in (torch.float32, F64):
        loss = pixel_segment_contrastive_loss(x.to(dtype), y, torch.tensor([0]), mu.to(dtype),
                                              py, 16)
        assert math.isclose(loss.item(), expected, rel_tol=1e-6)


def _random_problem(seed, n=30, k=9, d=6, classes=4, dtype=F64):
    g = torch.Generator().manual_seed(seed)
    x = l2_normalize(torch.randn(n, d, generator=g, dtype=dtype))
    own = torch.randint(0, k, (n,), generator=g)
    own[:k] = torch.arange(k)
    # prototypes are the members' means, as in SPML, so own terms dominate at high kappa
    mu = l2_normalize(torch.zeros(k, d, dtype=dtype).index_add(0, own, x))
    proto_labels = torch.randint(0, classes, (k,), generator=g)
    proto_sets = torch.rand(k, classes, generator=g) < 0.4
    return x, own, mu, proto_labels, proto_labels[own], proto_sets, proto_sets[own]


@pytest.mark.parametrize('seed', [0, 1, 2, 3])
@pytest.mark.parametrize('flavour', ['single', 'set'])
def test_float32_matches_float64_at_kappa_16(seed, flavour):
    x, own, mu, pl, yl, ps, ys = _random_problem(seed)
    y, p = (yl, pl) if flavour == 'single' else (ys, ps)
    l64 = pixel_segment_contrastive_loss(x, y, own, mu, p, 16, reduction='none')
    l32 = pixel_segment_contrastive_loss(x.float(), y, own, mu.float(), p, 16, reduction='none')
    assert l32.dtype == torch.float32
    torch.testing.assert_close(l32.double(), l64, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize('flavour', ['single', 'set'])
@pytest.mark.parametrize('reduction', ['none', 'mean'])
def test_gradcheck(flavour, reduction):
    x, own, mu, pl, yl, ps, ys = _random_problem(5, n=7, k=5, d=3, classes=3)
    y, p = (yl, pl) if flavour == 'single' else (ys, ps)
    if flavour == 'set':
        y = y.clone()
        y[0] = False  # an empty set: own term twice
    x.requires_grad_(True)
    mu.requires_grad_(True)

    def fn(a, b):
        return pixel_segment_contrastive_loss(a, y, own, b, p, 3.0, reduction=reduction)

    assert torch.autograd.gradcheck(fn, (x, mu))


@pytest.mark.parametrize('flavour', ['single', 'set'])
@pytest.mark.parametrize('chunk_size', [1, 4, 7, 1000])
def test_chunked_equals_unchunked(flavour, chunk_size):
    x, own, mu, pl, yl, ps, ys = _random_problem(7, n=23)
    y, p = (yl, pl) if flavour == 'single' else (ys, ps)
    results = []
    for chunk in (None, chunk_size):
        xa, mua = x.clone().requires_grad_(True), mu.clone().requires_grad_(True)
        loss = pixel_segment_contrastive_loss(xa, y, own, mua, p, 8, chunk_size=chunk)
        loss.backward()
        results.append((loss.detach(), xa.grad, mua.grad))
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)
    with torch.no_grad():
        torch.testing.assert_close(
            pixel_segment_contrastive_loss(x, y, own, mu, p, 8, 'none', chunk_size=chunk_size),
            pixel_segment_contrastive_loss(x, y, own, mu, p, 8, 'none'), rtol=1e-12, atol=0)


def test_invariant_to_permuting_prototypes():
    x, own, mu, pl, yl, ps, ys = _random_problem(11)
    perm = torch.randperm(mu.shape[0], generator=torch.Generator().manual_seed(0))
    inverse = torch.argsort(perm)
    for y, p in ((yl, pl), (ys, ps)):
        a = pixel_segment_contrastive_loss(x, y, own, mu, p, 6, 'none')
        b = pixel_segment_contrastive_loss(x, y, inverse[own], mu[perm], p[perm], 6, 'none')
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)


def test_reductions_and_empty_input():
    x, own, mu, pl, yl, _, _ = _random_problem(3)
    none = pixel_segment_contrastive_loss(x, yl, own, mu, pl, 6, reduction='none')
    assert none.shape == (x.shape[0],)
    torch.testing.assert_close(pixel_segment_contrastive_loss(x, yl, own, mu, pl, 6, 'sum'),
                               none.sum())
    torch.testing.assert_close(pixel_segment_contrastive_loss(x, yl, own, mu, pl, 6), none.mean())
    # zero pixels (and zero prototypes): 0, not NaN, and backward works
    for k in (0, 3):
        xe = torch.zeros(0, 6, dtype=F64, requires_grad=True)
        mue = torch.zeros(k, 6, dtype=F64, requires_grad=True)
        empty = torch.zeros(0, dtype=torch.long)
        loss = pixel_segment_contrastive_loss(xe, empty, empty, mue, torch.zeros(k).long(), 6)
        assert loss.item() == 0.0
        loss.backward()
        assert torch.isfinite(mue.grad).all()
        assert pixel_segment_contrastive_loss(xe, empty, empty, mue, torch.zeros(k).long(), 6,
                                              'none').shape == (0,)


@pytest.mark.parametrize('change, match', [
    (dict(embeddings=torch.zeros(4)), 'embeddings'),
    (dict(embeddings=torch.zeros(4, 3, dtype=torch.long)), 'embeddings'),
    (dict(prototypes=torch.zeros(4, 2, dtype=F64)), 'prototypes'),
    (dict(prototypes=torch.zeros(4, 3, dtype=torch.float32)), 'prototypes'),
    (dict(own_segment=torch.tensor([0, 1, 2])), 'own_segment'),
    (dict(own_segment=torch.tensor([0, 1, 2, 4])), 'own_segment'),
    (dict(own_segment=torch.tensor([0., 1., 2., 3.])), 'own_segment'),
    (dict(labels=torch.tensor([0, 0, 1])), 'labels'),
    (dict(labels=torch.zeros(4, 3, dtype=torch.bool)), 'prototype_labels'),
    (dict(prototype_labels=torch.tensor([0, 1])), 'prototype_labels'),
    (dict(labels=torch.zeros(4, 2, 2)), 'labels'),
    (dict(concentration=0), 'concentration'),
    (dict(concentration=float('nan')), 'concentration'),
    (dict(reduction='avg'), 'reduction'),
    (dict(chunk_size=0), 'chunk_size'),
])
def test_bad_inputs_raise(change, match):
    x, mu, own = _reference_inputs()
    y = torch.tensor([0, 0, 1, 1])
    kwargs = dict(embeddings=x, labels=y, own_segment=own, prototypes=mu, prototype_labels=y,
                  concentration=2.0)
    kwargs.update(change)
    with pytest.raises(ValueError, match=match):
        pixel_segment_contrastive_loss(**kwargs)


def test_retrieval_accuracy():
    q = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    p = l2_normalize(torch.tensor([[1.0, 0.1], [1.0, 0.3], [0.0, 1.0], [0.2, 1.0]]))
    pl = torch.tensor([0, 1, 1, 1])
    # query 0: top-2 = protos 0 (label 0), 1 (label 1); query 1: protos 2, 3 (label 1)
    acc = retrieval_accuracy(q, torch.tensor([0, 1]), p, pl, k=2)
    assert acc.item() == pytest.approx((1 / 2 + 2 / 2) / 2)
    # k larger than K uses all prototypes
    acc = retrieval_accuracy(q, torch.tensor([0, 1]), p, pl, k=10)
    assert acc.item() == pytest.approx((1 / 4 + 3 / 4) / 2)
    assert retrieval_accuracy(q[:0], pl[:0], p, pl).item() == 0.0
    with pytest.raises(ValueError, match='k'):
        retrieval_accuracy(q, torch.tensor([0, 1]), p, pl, k=0)


@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('flavour', ['single', 'set'])
@pytest.mark.parametrize('reduction', ['none', 'sum'])
def test_grouped_fast_path_equals_masked_evaluation(seed, flavour, reduction):
    # labels drawn independently of the own segment: the own prototype may be a
    # negative, a pixel may have no positive at all, a set may be empty
    from mmspml.functional.contrastive import _masked_segsort_plus
    g = torch.Generator().manual_seed(seed)
    x, own, mu, pl, _, ps, _ = _random_problem(seed, n=40, k=11, classes=4)
    if flavour == 'single':
        y, p = torch.randint(0, 6, (40,), generator=g), pl
    else:
        y, p = torch.rand(40, 4, generator=g) < 0.3, ps
    results = []
    for fast in (True, False):
        xa, mua = x.clone().requires_grad_(True), mu.clone().requires_grad_(True)
        if fast:
            losses = pixel_segment_contrastive_loss(xa, y, own, mua, p, 7.0, reduction,
                                                    chunk_size=9)
        else:
            losses = _masked_segsort_plus(xa, y, own, mua, p, 7.0, flavour == 'set', 1000)
            losses = losses if reduction == 'none' else losses.sum()
        # per-pixel losses get different upstream gradients; the sum's gradient is
        # computed during the forward pass and scaled by the upstream value
        weight = torch.linspace(0.5, 2, 40, dtype=F64) if reduction == 'none' else 1.7
        (losses * weight).sum().backward()
        results.append((losses.detach(), xa.grad, mua.grad))
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_spread_logits_use_the_masked_evaluation_in_float32():
    # unit vectors: logits span 2 * kappa; at kappa = 60 (120 > 80) exp(z - shift) could
    # underflow in float32, so the kernel evaluates masked log-sum-exps instead (kappa 30
    # takes the fast path); both match float64
    x, own, mu, pl, yl, _, _ = _random_problem(4, n=25, k=7)
    for kappa in (30.0, 60.0):
        l64 = pixel_segment_contrastive_loss(x, yl, own, mu, pl, kappa, 'none')
        l32 = pixel_segment_contrastive_loss(x.float(), yl, own, mu.float(), pl, kappa, 'none')
        assert torch.isfinite(l32).all()
        torch.testing.assert_close(l32.double(), l64, rtol=1e-4, atol=1e-5)


def test_chunk_size_bounds_the_kernel_memory():
    # the fast path never holds more than two [chunk, K] blocks: with chunk 64 an
    # [N = 2048, K = 64] problem allocates no tensor with N * K / 4 elements
    x, own, mu, pl, yl, _, _ = _random_problem(6, n=2048, k=64, d=8)
    x.requires_grad_(True)
    largest = []

    class Spy(torch.utils._python_dispatch.TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            if isinstance(out, torch.Tensor):
                largest.append(out.numel())
            return out

    for reduction in ('mean', 'none'):
        largest.clear()
        with Spy():
            loss = pixel_segment_contrastive_loss(x, yl, own, mu, pl, 6.0, reduction,
                                                  chunk_size=64)
            loss.sum().backward()
        assert 64 * 64 <= max(largest) < 2048 * 64 // 4
