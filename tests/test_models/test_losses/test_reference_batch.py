"""End-to-end check of spml-method.md §9.4: segments of a tiny batch and the three losses."""
from collections import Counter

import pytest
import torch

from mmspml.functional import (MemoryBatch, SegmentBatch, generate_segments,
                               retrieval_accuracy)
from mmspml.models.losses import (ImageSimilarityLoss, SemanticAnnotationLoss,
                                  SemanticCooccurrenceLoss)
from tests._reference_inputs import reference_inputs

C, UNL, IGN = 21, 21, 255
KMEANS_TABLE = torch.tensor([
    [[1, 0, 0, 0, 0, 2, 2, 2], [1, 0, 0, 0, 2, 2, 2, 3], [0, 0, 0, 0, 2, 2, 1, 3],
     [0, 0, 0, 1, 1, 1, 3, 3], [0, 0, 1, 1, 1, 3, 3, 3], [1, 1, 1, 1, 3, 3, 3, 2],
     [1, 1, 1, 3, 3, 3, 2, 2], [-1, -1, -1, -1, -1, -1, -1, -1]],
    [[3, 0, 0, 0, 1, 1, 2, 2], [0, 0, 0, 1, 1, 2, 2, 2], [0, 0, 1, 1, 2, 2, 2, 2],
     [0, 1, 1, 1, 2, 2, 0, 3], [2, 1, 1, 1, 0, 0, 3, 3], [1, 1, 1, 0, 0, 0, 3, 3],
     [1, 1, 1, 0, 0, 3, 3, 3], [1, 1, 0, 0, 3, 3, 3, 3]]])


def _inputs(dtype):
    return reference_inputs(dtype)


def _segments(dtype, scale=None):
    emb, semantic, region, tags, loc = _inputs(dtype)
    if scale is not None:
        emb = emb * scale
    res = generate_segments(emb, semantic, region, grid=(2, 2), iterations=3,
                            use_location=False, extra_features=loc)
    proto_tags = tags[res.prototype_image_ids][:, :C]
    batch = SegmentBatch(
        embeddings=res.embeddings, embeddings_with_loc=res.embeddings_with_loc,
        semantic=res.semantic, region=res.region, image_ids=res.image_ids,
        segment_ids=res.segment_ids, prototypes=res.prototypes,
        prototypes_with_loc=res.prototypes_with_loc, prototype_semantic=res.prototype_semantic,
        prototype_region=res.prototype_region, prototype_image_ids=res.prototype_image_ids,
        prototype_tags=proto_tags, num_classes=C)
    memory = MemoryBatch(prototypes=res.prototypes.detach(), semantic=res.prototype_semantic,
                         tags=proto_tags, image_ids=res.prototype_image_ids + 2)
    return res, batch, memory


def _losses():
    return (SemanticAnnotationLoss(concentration=6, loss_weight=0.3),
            SemanticCooccurrenceLoss(concentration=8, loss_weight=0.3),
            ImageSimilarityLoss(concentration=16, loss_weight=0.1))


def _same_partition(a, b):
    pairs = set(zip(a.tolist(), b.tolist()))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


def test_reference_segments():
    res, _, _ = _segments(torch.float64)
    assert res.embeddings.shape[0] == 120
    assert Counter(res.image_ids.tolist()) == {0: 56, 1: 64}
    labels = torch.full((2 * 64,), -1)
    labels[res.pixel_index] = res.cluster_ids
    labels = labels.view(2, 8, 8)
    assert torch.equal(labels < 0, KMEANS_TABLE < 0)
    for i in range(2):
        valid = KMEANS_TABLE[i] >= 0
        assert _same_partition(labels[i][valid], KMEANS_TABLE[i][valid])
    assert res.prototypes.shape[0] == 32
    per_image = Counter(zip(res.prototype_image_ids.tolist(), res.prototype_semantic.tolist()))
    assert per_image == {(0, 0): 5, (0, 5): 6, (0, UNL): 3, (1, 7): 9, (1, UNL): 9}
    sizes = sorted(torch.bincount(res.segment_ids).tolist(), reverse=True)
    assert sizes == [13, 9, 8, 8, 8, 7, 6, 6, 6, 6, 5, 4] + [3] * 5 + [2] * 4 + [1] * 11


@pytest.mark.parametrize('use_memory, expected, accuracy', [
    (False, (0.49836441, 0.33576828, 0.51922144), 0.33125),
    (True, (0.30099622, 0.23311182, 0.51922144), 0.475),
])
def test_reference_losses_float64(use_memory, expected, accuracy):
    _, batch, memory = _segments(torch.float64)
    memory = memory if use_memory else None
    for loss, value in zip(_losses(), expected):
        out = loss(batch, memory)
        assert out.dtype == torch.float64 and out.dim() == 0
        torch.testing.assert_close(out, torch.tensor(value, dtype=torch.float64), rtol=1e-6,
                                   atol=0)
    ann = _losses()[0]
    assert ann.retrieval_accuracy(batch, memory).item() == pytest.approx(accuracy, abs=1e-12)
    # the same through the functional: all prototypes query all prototypes
    protos, labels = batch.prototypes, batch.prototype_semantic
    if use_memory:
        protos = torch.cat([protos, memory.prototypes])
        labels = torch.cat([labels, memory.semantic])
    assert retrieval_accuracy(protos, labels, protos, labels, 5).item() == \
        pytest.approx(accuracy, abs=1e-12)


def test_reference_image_similarity_float32_is_the_intended_value():
    # the reference's float32 run gives 0.37458611 (cancellation, §8 item 5); the
    # log-space kernel gives the intended (float64) value in float32 too
    _, batch, memory = _segments(torch.float32)
    sem_ann, sem_occ, img_sim = _losses()
    torch.testing.assert_close(img_sim(batch), torch.tensor(0.51922144), rtol=1e-6, atol=0)
    torch.testing.assert_close(img_sim(batch, memory), torch.tensor(0.51922144), rtol=1e-6,
                               atol=0)
    torch.testing.assert_close(sem_ann(batch), torch.tensor(0.49836439), rtol=1e-6, atol=0)
    torch.testing.assert_close(sem_occ(batch, memory), torch.tensor(0.23311183), rtol=1e-6,
                               atol=0)


def test_losses_invariant_to_positive_rescaling_of_raw_embedding():
    g = torch.Generator().manual_seed(0)
    scale = torch.rand(2, 1, 8, 8, generator=g, dtype=torch.float64) * 5 + 0.2
    _, batch, memory = _segments(torch.float64)
    _, scaled, scaled_memory = _segments(torch.float64, scale)
    for loss in _losses():
        torch.testing.assert_close(loss(batch, memory), loss(scaled, scaled_memory),
                                   rtol=1e-10, atol=0)


def test_losses_invariant_to_permuting_prototypes():
    _, batch, memory = _segments(torch.float64)
    perm = torch.randperm(batch.prototypes.shape[0], generator=torch.Generator().manual_seed(3))
    inverse = torch.argsort(perm)
    fields = {name: getattr(batch, name)[perm] for name in (
        'prototypes', 'prototypes_with_loc', 'prototype_semantic', 'prototype_region',
        'prototype_image_ids', 'prototype_tags')}
    permuted = SegmentBatch(**dict(vars(batch), segment_ids=inverse[batch.segment_ids], **fields))
    mperm = torch.randperm(memory.prototypes.shape[0], generator=torch.Generator().manual_seed(4))
    permuted_memory = MemoryBatch(memory.prototypes[mperm], memory.semantic[mperm],
                                  memory.tags[mperm], memory.image_ids[mperm])
    for loss in _losses():
        torch.testing.assert_close(loss(batch, memory), loss(permuted, permuted_memory),
                                   rtol=1e-12, atol=0)


def test_gradients_reach_the_raw_embedding():
    emb, semantic, region, tags, loc = _inputs(torch.float64)
    emb.requires_grad_(True)
    res = generate_segments(emb, semantic, region, (2, 2), 3, use_location=False,
                            extra_features=loc)
    batch = SegmentBatch(res.embeddings, res.embeddings_with_loc, res.semantic, res.region,
                         res.image_ids, res.segment_ids, res.prototypes, res.prototypes_with_loc,
                         res.prototype_semantic, res.prototype_region, res.prototype_image_ids,
                         tags[res.prototype_image_ids][:, :C], C)
    total = sum(loss(batch) for loss in _losses())
    total.backward()
    assert torch.isfinite(emb.grad).all() and emb.grad.abs().sum() > 0
