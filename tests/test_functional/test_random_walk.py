"""Random walk of §6.5 against its formula written out densely (float64)."""
import math

import pytest
import torch

from mmspml.functional import (l2_normalize, random_walk, random_walk_transition,
                               restrict_class_scores)

F64 = torch.float64


def _dense_reference(x, cam, steps):
    """exp(5(cos - 1))^20 entry by entry, column sums, T^(2^steps) by repeated products."""
    n = x.shape[0]
    a = [[math.exp(5 * (float(x[i] @ x[j]) - 1)) ** 20 for j in range(n)] for i in range(n)]
    a = torch.tensor(a, dtype=F64)
    t = a / a.sum(dim=0, keepdim=True)
    power = torch.eye(n, dtype=F64)
    for _ in range(2 ** steps):
        power = power @ t
    return cam @ power


@pytest.mark.parametrize('steps', [0, 1, 6])
def test_random_walk_matches_dense_formula(steps):
    g = torch.Generator().manual_seed(steps)
    d, h, w, c = 5, 3, 4, 3
    emb = l2_normalize(torch.randn(d, h, w, generator=g, dtype=F64), dim=0)
    # make neighbouring pixels similar so that T is far from the identity
    emb = l2_normalize(emb + 2 * emb.mean(dim=(1, 2), keepdim=True), dim=0)
    cam = torch.rand(c, h, w, generator=g, dtype=F64)
    out = random_walk(cam, emb, steps=steps)
    ref = _dense_reference(emb.reshape(d, -1).t(), cam.reshape(c, -1), steps)
    torch.testing.assert_close(out.reshape(c, -1), ref, rtol=1e-9, atol=1e-12)
    assert not torch.allclose(out, cam)  # the walk moved the scores


def test_transition_is_column_stochastic_and_mass_preserving():
    g = torch.Generator().manual_seed(0)
    x = l2_normalize(torch.randn(12, 4, generator=g, dtype=F64))
    t = random_walk_transition(x, steps=3)
    torch.testing.assert_close(t.sum(dim=0), torch.ones(12, dtype=F64))
    cam = torch.rand(2, 12, generator=g, dtype=F64)
    torch.testing.assert_close((cam @ t).sum(dim=1), cam.sum(dim=1))
    # two orthogonal groups never exchange mass: exp(100 * (0 - 1)) underflows to ~4e-44
    x = torch.tensor([[1., 0], [1, 0], [0, 1], [0, 1]], dtype=F64)
    t = random_walk_transition(x, steps=6)
    torch.testing.assert_close(t, torch.tensor([[.5, .5, 0, 0], [.5, .5, 0, 0],
                                                [0, 0, .5, .5], [0, 0, .5, .5]], dtype=F64))


def test_random_walk_bad_input():
    with pytest.raises(ValueError, match='spatial size'):
        random_walk(torch.rand(2, 3, 3), torch.rand(4, 3, 2))
    with pytest.raises(ValueError, match='steps'):
        random_walk_transition(torch.rand(3, 2), steps=-1)


def test_restrict_class_scores():
    s = torch.tensor([[[0.2, 0.4]], [[0.1, 0.05]], [[0.5, 1.0]]], dtype=F64)
    out = restrict_class_scores(s, torch.tensor([True, True, False]))
    torch.testing.assert_close(out, torch.tensor([[[0.5, 1.0]], [[1.0, 0.5]], [[0., 0.]]],
                                                 dtype=F64))
    # the k-NN generator floors the maximum at 0.15 (§6.3 step 5)
    out = restrict_class_scores(s, torch.tensor([True, True, True]), max_floor=0.15)
    torch.testing.assert_close(out[1], torch.tensor([[0.1 / 0.15, 0.05 / 0.15]], dtype=F64))
    torch.testing.assert_close(out[2], s[2])
    zero = restrict_class_scores(torch.zeros(2, 1, 2, dtype=F64), torch.tensor([True, True]))
    assert torch.isfinite(zero).all() and (zero == 0).all()
