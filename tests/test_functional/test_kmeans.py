"""Grid initialisation (§9.3) and spherical k-means (§3.3): per-set vs. batched."""
import pytest
import torch

from mmspml.functional import (batched_spherical_kmeans, grid_init_labels, l2_normalize,
                               spherical_kmeans)

F64 = torch.float64


def test_grid_2x2_on_4x5():
    expected = torch.tensor([[0, 0, 0, 2, 2], [0, 0, 0, 2, 2], [1, 1, 1, 3, 3], [1, 1, 1, 3, 3]])
    assert torch.equal(grid_init_labels((2, 2), (4, 5)), expected)


def test_grid_6x6_on_128x128():
    labels = grid_init_labels((6, 6), (128, 128))
    rows, heights = torch.unique_consecutive(labels[:, 0], return_counts=True)
    assert rows.tolist() == [0, 1, 2, 3, 4, 5]
    assert heights.tolist() == [13, 26, 25, 25, 26, 13]
    starts = torch.cat([torch.zeros(1, dtype=torch.long), heights.cumsum(0)[:-1]])
    assert starts.tolist() == [0, 13, 39, 64, 89, 115]
    assert torch.unique_consecutive(labels[0]).tolist() == [0, 6, 12, 18, 24, 30]
    assert labels.dtype == torch.long


def test_grid_12x12_on_3x3_is_sparse():
    expected = torch.tensor([[0, 72, 132], [6, 78, 138], [11, 83, 143]])
    assert torch.equal(grid_init_labels((12, 12), (3, 3)), expected)


def test_grid_rejects_bad_arguments():
    with pytest.raises(ValueError, match='grid'):
        grid_init_labels((0, 2), (4, 4))
    with pytest.raises(ValueError, match='size'):
        grid_init_labels((2, 2), (4,))


def _naive_kmeans(features, init, iterations):
    """Slow float64 reference: Python loops over clusters, as §3.3 reads."""
    ids = sorted(set(init.tolist()))
    labels = [ids.index(v) for v in init.tolist()]
    f = features.double()
    for _ in range(iterations):
        protos = []
        for c in range(len(ids)):
            members = [i for i, lab in enumerate(labels) if lab == c]
            s = f[members].sum(0) if members else torch.zeros(f.shape[1], dtype=F64)
            protos.append(s / max(s.norm().item(), 1e-12))
        protos = torch.stack(protos)
        new = []
        for i in range(f.shape[0]):
            scores = (protos @ f[i]).tolist()
            new.append(scores.index(max(scores)))  # first index on ties
        labels = new
    return torch.tensor(labels)


def _same_partition(a, b):
    pairs = set(zip(a.tolist(), b.tolist()))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('iterations', [0, 1, 4])
def test_spherical_kmeans_matches_naive_loop(seed, iterations):
    g = torch.Generator().manual_seed(seed)
    f = l2_normalize(torch.randn(40, 3, generator=g, dtype=F64))
    init = torch.randint(0, 6, (40,), generator=g) * 7  # sparse ids
    out = spherical_kmeans(f, init, iterations)
    assert torch.equal(out, _naive_kmeans(f, init, iterations))
    assert out.dtype == torch.long and out.shape == (40,)


def test_empty_cluster_keeps_a_zero_prototype():
    # iteration 1: q1 ties with q0 (identical) -> first index, cluster 1 empties;
    # iteration 2: the zero prototype of cluster 1 scores 0, which beats s's negative
    # similarities to the other clusters, so s moves there (§3.3, §9.5)
    q = [0.0, 0.0, 1.0]
    r = [1.0, 0.0, 0.0]
    s = [-0.8, 0.0, -0.6]
    f = torch.tensor([q, q, r, r, s], dtype=F64)
    init = torch.tensor([0, 1, 2, 2, 2])
    assert spherical_kmeans(f, init, 1).tolist() == [0, 0, 2, 2, 2]
    assert spherical_kmeans(f, init, 2).tolist() == [0, 0, 2, 2, 1]
    for image_by_image in (False, True):
        batched = batched_spherical_kmeans(f[None], init[None],
                                           torch.ones(1, 5, dtype=torch.bool), 3, 2,
                                           image_by_image)
        assert batched[0].tolist() == [0, 0, 2, 2, 1]


def test_slot_without_valid_pixel_is_not_a_candidate():
    # slot 0 holds only an ignored pixel; s has a negative similarity to the only real
    # cluster. Per-image k-means (compacted init) keeps one cluster, so must the batch.
    r = [1.0, 0.0, 0.0]
    s = [-0.8, 0.0, -0.6]
    f = torch.tensor([[[0.0, 1.0, 0.0], r, r, s]], dtype=F64)
    init = torch.tensor([[0, 1, 1, 1]])
    valid = torch.tensor([[False, True, True, True]])
    assert spherical_kmeans(f[0, 1:], init[0, 1:], 3).tolist() == [0, 0, 0]
    for image_by_image in (False, True):
        out = batched_spherical_kmeans(f, init, valid, 2, 3, image_by_image)
        assert out.tolist() == [[-1, 1, 1, 1]]


def _random_batch(seed, b=4, h=6, w=7, d=3, dtype=F64):
    g = torch.Generator().manual_seed(seed)
    f = l2_normalize(torch.randn(b, h * w, d, generator=g, dtype=dtype))
    grid = (3, 4)
    init = grid_init_labels(grid, (h, w)).view(1, -1).expand(b, -1)
    valid = torch.rand(b, h * w, generator=g) > 0.3
    valid[0, :w * 2] = False  # image 0 loses the first grid row of cells
    valid[1] = True
    valid[2] = False  # no valid pixel at all
    return f, init, valid, grid[0] * grid[1]


@pytest.mark.parametrize('seed', [0, 1, 2, 3, 4])
@pytest.mark.parametrize('iterations', [0, 1, 3, 10])
@pytest.mark.parametrize('image_by_image', [False, True])
def test_batched_matches_per_image(seed, iterations, image_by_image):
    # low-dimensional random features: negative similarities and emptied clusters are
    # common, so the zero-prototype and absent-slot rules are exercised
    f, init, valid, k = _random_batch(seed)
    out = batched_spherical_kmeans(f, init, valid, k, iterations, image_by_image)
    # both evaluations give identical labels (slot ids included)
    assert torch.equal(out, batched_spherical_kmeans(f, init, valid, k, iterations,
                                                     not image_by_image))
    assert out.shape == init.shape and out.dtype == torch.long
    assert torch.equal(out < 0, ~valid)
    for i in range(f.shape[0]):
        if not valid[i].any():
            continue
        ref = _naive_kmeans(f[i][valid[i]], init[i][valid[i]], iterations)
        assert _same_partition(out[i][valid[i]], ref)
        assert _same_partition(out[i][valid[i]], spherical_kmeans(
            f[i][valid[i]], init[i][valid[i]], iterations))
        # slot ids stay those of the initialisation
        assert set(out[i][valid[i]].tolist()) <= set(init[i][valid[i]].tolist())


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_kmeans_never_increases_the_number_of_clusters(seed):
    f, init, valid, k = _random_batch(seed, d=5)
    for iterations in range(6):
        out = batched_spherical_kmeans(f, init, valid, k, iterations)
        for i in range(f.shape[0]):
            assert out[i][valid[i]].unique().numel() <= init[i][valid[i]].unique().numel()


def test_kmeans_has_no_gradient_and_rejects_bad_arguments():
    f, init, valid, k = _random_batch(0)
    f.requires_grad_(True)
    out = batched_spherical_kmeans(f, init, valid, k, 2)
    assert not out.requires_grad
    with pytest.raises(ValueError, match='init_labels'):
        batched_spherical_kmeans(f, init, valid, 3, 2)
    with pytest.raises(ValueError, match='valid'):
        batched_spherical_kmeans(f, init, valid.long(), k, 2)
    with pytest.raises(ValueError, match='iterations'):
        spherical_kmeans(f[0], init[0], -1)
    with pytest.raises(ValueError, match='init_labels'):
        spherical_kmeans(f[0], init[0][:-1], 1)


@pytest.mark.parametrize('seed', [0, 1])
def test_spherical_kmeans_stops_at_a_fixed_point(seed, monkeypatch):
    """Once an E-step changes no label the loop ends; the labels are those of the full
    number of iterations (the naive loop runs all of them)."""
    import mmspml.functional.kmeans as km
    g = torch.Generator().manual_seed(seed)
    f = l2_normalize(torch.randn(60, 3, generator=g, dtype=F64))
    init = torch.randint(0, 5, (60,), generator=g)
    steps = []
    real = km.l2_normalize
    monkeypatch.setattr(km, 'l2_normalize', lambda *a, **k: steps.append(1) or real(*a, **k))
    out = spherical_kmeans(f, init, 30)
    assert torch.equal(out, _naive_kmeans(f, init, 30))
    assert 1 < len(steps) < 30  # converged after a few steps, and stopped
    assert torch.equal(spherical_kmeans(f, init, len(steps) - 1), out)
