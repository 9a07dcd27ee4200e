"""Segments and prototypes (§3.3, §3.4, §9.6 properties)."""
import pytest
import torch

from mmspml.functional import (MemoryBatch, SegmentBatch, generate_segments, l2_normalize,
                               location_features, segment_prototypes)

F64 = torch.float64


def test_l2_normalize_keeps_zero():
    x = torch.tensor([[0.0, 0.0], [3.0, 4.0]], dtype=F64)
    assert torch.equal(l2_normalize(x), torch.tensor([[0.0, 0.0], [0.6, 0.8]], dtype=F64))


def test_location_features_float32_values():
    loc = location_features((8, 8), torch.float32)
    expected = [-0.5, -0.357142866, -0.214285702, -0.071428537, 0.071428537, 0.214285731,
                0.357142866, 0.5]
    assert loc.shape == (8, 8, 2) and loc.dtype == torch.float32
    torch.testing.assert_close(loc[:, 0, 0], torch.tensor(expected), rtol=0, atol=1e-8)
    torch.testing.assert_close(loc[0, :, 1], torch.tensor(expected), rtol=0, atol=1e-8)
    assert (loc[:, :, 0] == loc[:, :1, 0]).all() and (loc[:, :, 1] == loc[:1, :, 1]).all()
    assert location_features((3, 5), F64).dtype == F64


def _random_inputs(seed, b=3, d=5, h=9, w=10):
    g = torch.Generator().manual_seed(seed)
    emb = torch.randn(b, d, h, w, generator=g, dtype=F64)
    sem = torch.randint(0, 3, (b, h, w), generator=g)
    sem[torch.rand(b, h, w, generator=g) < 0.2] = 255
    sem[:, 0, :3] = 21  # unlabeled but valid
    region = torch.randint(0, 4, (b, h, w), generator=g)
    return emb, sem, region


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_segments_are_pure_and_cover_valid_pixels(seed):
    emb, sem, region = _random_inputs(seed)
    b, d, h, w = emb.shape
    res = generate_segments(emb, sem, region, grid=(3, 3), iterations=4, image_id_offset=5)
    valid = sem != 255
    p = int(valid.sum())
    k = res.prototypes.shape[0]
    assert res.embeddings.shape == (p, d) and res.embeddings_with_loc.shape == (p, d + 2)
    assert torch.equal(res.pixel_index, valid.view(-1).nonzero().squeeze(1))
    # pixel fields are the batch's values at pixel_index
    assert torch.equal(res.semantic, sem.view(-1)[res.pixel_index])
    assert torch.equal(res.region, region.view(-1)[res.pixel_index])
    assert torch.equal(res.image_ids, res.pixel_index // (h * w) + 5)
    e = l2_normalize(emb.permute(0, 2, 3, 1).reshape(-1, d))[res.pixel_index]
    torch.testing.assert_close(res.embeddings, e)
    # Σ sizes = number of valid pixels, no empty segment
    sizes = torch.bincount(res.segment_ids, minlength=k)
    assert sizes.sum() == p and (sizes > 0).all()
    # every segment pure in (image, cluster, semantic, region) and distinct tuples differ
    tuples = torch.stack([res.image_ids, res.cluster_ids, res.semantic, res.region], 1)
    for s in range(k):
        members = tuples[res.segment_ids == s]
        assert (members == members[0]).all()
        assert members[0].tolist() == [res.prototype_image_ids[s].item(), members[0, 1].item(),
                                       res.prototype_semantic[s].item(),
                                       res.prototype_region[s].item()]
    assert torch.unique(tuples, dim=0).shape[0] == k
    # prototypes are l2n(sum) of the members
    sums = torch.zeros(k, d, dtype=F64).index_add(0, res.segment_ids, res.embeddings)
    torch.testing.assert_close(res.prototypes, l2_normalize(sums))
    sums = torch.zeros(k, d + 2, dtype=F64).index_add(0, res.segment_ids, res.embeddings_with_loc)
    torch.testing.assert_close(res.prototypes_with_loc, l2_normalize(sums))


def test_region_none_splits_by_label_only_and_no_location():
    emb, sem, _ = _random_inputs(4)
    res = generate_segments(emb, sem, None, grid=(2, 2), iterations=2, use_location=False)
    assert (res.region == 0).all() and (res.prototype_region == 0).all()
    assert res.embeddings_with_loc is res.embeddings
    assert res.prototypes_with_loc is res.prototypes


def test_extra_features_are_appended():
    emb, sem, region = _random_inputs(5)
    b, d, h, w = emb.shape
    colour = torch.rand(b, h, w, 3, dtype=torch.float32)
    res = generate_segments(emb, sem, region, (2, 2), 2, extra_features=colour)
    assert res.embeddings_with_loc.shape[1] == d + 2 + 3
    assert res.embeddings_with_loc.dtype == F64


def test_invariant_to_positive_rescaling_of_raw_embedding():
    emb, sem, region = _random_inputs(6)
    g = torch.Generator().manual_seed(0)
    scale = torch.rand(emb.shape[0], 1, *emb.shape[2:], generator=g, dtype=F64) * 10 + 0.1
    a = generate_segments(emb, sem, region, (3, 3), 5)
    b = generate_segments(emb * scale, sem, region, (3, 3), 5)
    assert torch.equal(a.segment_ids, b.segment_ids)
    assert torch.equal(a.cluster_ids, b.cluster_ids)
    torch.testing.assert_close(a.prototypes, b.prototypes, rtol=1e-12, atol=1e-12)


def test_prototypes_are_differentiable_and_all_ignored_batch_is_empty():
    emb, sem, region = _random_inputs(7)
    emb.requires_grad_(True)
    res = generate_segments(emb, sem, region, (3, 3), 3)
    (res.prototypes.sum() + res.prototypes_with_loc.sum()).backward()
    assert emb.grad is not None and emb.grad.abs().sum() > 0
    empty = generate_segments(emb.detach(), torch.full_like(sem, 255), region, (3, 3), 3)
    assert empty.prototypes.shape == (0, emb.shape[1]) and empty.segment_ids.numel() == 0


def test_segment_prototypes_directly():
    e = l2_normalize(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.0]], dtype=F64))
    res = segment_prototypes(e, torch.tensor([5, 5, 9, 5]), torch.tensor([0, 0, 0, 1]),
                             torch.tensor([1, 1, 1, 1]), torch.tensor([0, 0, 0, 0]))
    assert res.segment_ids.tolist() == [0, 0, 1, 2]
    assert res.pixel_index.tolist() == [0, 1, 2, 3]
    torch.testing.assert_close(res.prototypes[0], e[2])
    assert res.prototype_image_ids.tolist() == [0, 0, 1]
    with pytest.raises(ValueError, match='region'):
        segment_prototypes(e, torch.zeros(4).long(), torch.zeros(4).long(), torch.zeros(4).long(),
                           torch.zeros(3).long())


def test_generate_segments_rejects_bad_shapes():
    emb, sem, region = _random_inputs(0)
    with pytest.raises(ValueError, match='semantic'):
        generate_segments(emb, sem[:, :-1], region, (2, 2))
    with pytest.raises(ValueError, match='embedding'):
        generate_segments(emb[0], sem, region, (2, 2))
    with pytest.raises(ValueError, match='grid'):
        generate_segments(emb, sem, region, (2,))


def test_batch_containers_validate_shapes():
    p, k, d = 4, 2, 3
    fields = dict(
        embeddings=torch.zeros(p, d), embeddings_with_loc=torch.zeros(p, d + 2),
        semantic=torch.zeros(p).long(), region=torch.zeros(p).long(),
        image_ids=torch.zeros(p).long(), segment_ids=torch.zeros(p).long(),
        prototypes=torch.zeros(k, d), prototypes_with_loc=torch.zeros(k, d + 2),
        prototype_semantic=torch.zeros(k).long(), prototype_region=torch.zeros(k).long(),
        prototype_image_ids=torch.zeros(k).long(),
        prototype_tags=torch.zeros(k, 5, dtype=torch.bool), num_classes=5)
    SegmentBatch(**fields)
    for name, bad in (('segment_ids', torch.zeros(p + 1).long()),
                      ('prototype_tags', torch.zeros(k, 4, dtype=torch.bool)),
                      ('prototypes', torch.zeros(k, d + 1)), ('num_classes', 0)):
        with pytest.raises(ValueError, match=name):
            SegmentBatch(**dict(fields, **{name: bad}))
    MemoryBatch(torch.zeros(3, d), torch.zeros(3).long(), torch.zeros(3, 5, dtype=torch.bool),
                torch.zeros(3).long())
    with pytest.raises(ValueError, match='tags'):
        MemoryBatch(torch.zeros(3, d), torch.zeros(3).long(), torch.zeros(2, 5),
                    torch.zeros(3).long())


@pytest.mark.parametrize('high', [5, 2**40])
def test_packed_unique_rows_equal_unique_dim0(high):
    # segments are found by a 1-D unique of one packed int64 key per pixel; same order
    # and inverse as unique(dim=0) (including negative ids, and the fallback when the
    # column ranges do not fit in 63 bits)
    from mmspml.functional.segments import _unique_rows
    g = torch.Generator().manual_seed(0)
    cols = [torch.randint(-3, high, (500,), generator=g) for _ in range(4)]
    values, inverse = _unique_rows(cols)
    ref_values, ref_inverse = torch.unique(torch.stack(cols, 1), dim=0, return_inverse=True)
    assert torch.equal(values, ref_values) and torch.equal(inverse, ref_inverse)
