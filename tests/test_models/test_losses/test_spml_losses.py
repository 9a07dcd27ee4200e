"""The four SPML loss modules = loss_weight * the functional kernel on chosen pixels/prototypes."""
import math

import pytest
import torch

from mmseg.registry import MODELS
from mmspml.functional import (MemoryBatch, SegmentBatch, l2_normalize,
                               pixel_segment_contrastive_loss)
from mmspml.models.losses import (FeatureAffinityLoss, ImageSimilarityLoss,
                                  SemanticAnnotationLoss, SemanticCooccurrenceLoss)

F64 = torch.float64
C = 3  # classes 0, 1, 2; 3 = unlabeled
# segment: (image, semantic, region); segment 5 lies on another process (no pixel here)
SEGMENTS = [(0, 1, 0), (0, 2, 0), (0, 3, 1), (1, 2, 0), (1, 3, 2), (2, 1, 0)]
PIXEL_SEGMENTS = [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
IMAGE_TAGS = {0: [1, 1, 0, 1], 1: [0, 0, 1, 1], 2: [0, 1, 0, 0]}  # over C + 1 values


def _batch(seed=0, semantic_override=None):
    g = torch.Generator().manual_seed(seed)
    seg = torch.tensor(PIXEL_SEGMENTS)
    info = torch.tensor(SEGMENTS)
    emb = l2_normalize(torch.randn(len(seg), 4, generator=g, dtype=F64))
    emb_loc = l2_normalize(torch.randn(len(seg), 6, generator=g, dtype=F64))
    protos = l2_normalize(torch.randn(len(SEGMENTS), 4, generator=g, dtype=F64))
    protos_loc = l2_normalize(torch.randn(len(SEGMENTS), 6, generator=g, dtype=F64))
    semantic = info[seg, 1] if semantic_override is None else semantic_override
    prototype_semantic = info[:, 1] if semantic_override is None else \
        torch.full((len(SEGMENTS),), semantic_override[0].item())
    tags = torch.tensor([IMAGE_TAGS[i] for i in info[:, 0].tolist()], dtype=torch.bool)
    return SegmentBatch(
        embeddings=emb, embeddings_with_loc=emb_loc, semantic=semantic, region=info[seg, 2],
        image_ids=info[seg, 0], segment_ids=seg, prototypes=protos, prototypes_with_loc=protos_loc,
        prototype_semantic=prototype_semantic, prototype_region=info[:, 2],
        prototype_image_ids=info[:, 0], prototype_tags=tags, num_classes=C)


def _memory(seed=1):
    g = torch.Generator().manual_seed(seed)
    return MemoryBatch(prototypes=l2_normalize(torch.randn(3, 4, generator=g, dtype=F64)),
                       semantic=torch.tensor([1, 3, 2]),
                       tags=torch.tensor([[1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 1, 0]]).bool(),
                       image_ids=torch.tensor([10, 11, 12]))


def _kernel(x, y, own, mu, p, kappa):
    return pixel_segment_contrastive_loss(x, y, own, mu, p, kappa, reduction='none')


@pytest.mark.parametrize('with_memory', [False, True])
def test_semantic_annotation_equals_weighted_kernel(with_memory):
    batch, memory = _batch(), _memory() if with_memory else None
    pixels = [0, 1, 2, 3, 6, 7]  # semantic < C
    labeled = [0, 1, 3, 5]  # labeled segments, compacted in order
    own = torch.tensor([0, 0, 1, 1, 2, 2])
    protos, labels = batch.prototypes[labeled], torch.tensor([1, 2, 2, 1])
    if with_memory:
        protos = torch.cat([protos, memory.prototypes[[0, 2]]])
        labels = torch.cat([labels, torch.tensor([1, 2])])
    expected = 0.3 * _kernel(batch.embeddings[pixels], batch.semantic[pixels], own, protos,
                             labels, 6.0).mean()
    out = SemanticAnnotationLoss(concentration=6, loss_weight=0.3)(batch, memory)
    torch.testing.assert_close(out, expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize('with_memory', [False, True])
def test_semantic_cooccurrence_equals_weighted_kernel(with_memory):
    batch, memory = _batch(), _memory() if with_memory else None
    fg = torch.tensor([IMAGE_TAGS[s[0]][1:C] for s in SEGMENTS], dtype=torch.bool)
    protos, sets = batch.prototypes, fg
    if with_memory:
        protos = torch.cat([protos, memory.prototypes])
        sets = torch.cat([sets, memory.tags[:, 1:C]])
    seg = torch.tensor(PIXEL_SEGMENTS)
    expected = 0.5 * _kernel(batch.embeddings, fg[seg], seg, protos, sets, 8.0).mean()
    out = SemanticCooccurrenceLoss(concentration=8, loss_weight=0.5)(batch, memory)
    torch.testing.assert_close(out, expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize('use_loc', [True, False])
def test_image_similarity_equals_mean_of_per_image_kernels(use_loc):
    batch = _batch()
    feats = batch.embeddings_with_loc if use_loc else batch.embeddings
    per_image = []
    # image 0: pixels 0-5 in segments 0, 1, 2 (regions 0, 0, 1); image 1: pixels 6-9 in
    # segments 3, 4 (regions 0, 2); segment 5 has no pixel here and takes no part
    for pixels, groups, regions in (([0, 1, 2, 3, 4, 5], [[0, 1], [2, 3], [4, 5]], [0, 0, 1]),
                                    ([6, 7, 8, 9], [[6, 7], [8, 9]], [0, 2])):
        protos = l2_normalize(torch.stack([feats[grp].sum(0) for grp in groups]))
        own = torch.tensor([i for i, grp in enumerate(groups) for _ in grp])
        per_image.append(_kernel(feats[pixels], batch.region[pixels], own, protos,
                                 torch.tensor(regions), 16.0).mean())
    expected = 0.1 * torch.stack(per_image).mean()
    loss = ImageSimilarityLoss(concentration=16, loss_weight=0.1, use_location_features=use_loc)
    torch.testing.assert_close(loss(batch, _memory()), expected, rtol=1e-12, atol=0)


def test_unlabeled_only_batch_gives_zero_semantic_annotation():
    batch = _batch(semantic_override=torch.full((10,), C))
    batch.embeddings.requires_grad_(True)
    loss = SemanticAnnotationLoss()(batch, _memory())
    assert loss.item() == 0.0 and torch.isfinite(loss)
    loss.backward()  # keeps a graph, no NaN
    assert torch.isfinite(batch.embeddings.grad).all()


def test_feature_affinity_hand_computed():
    protos = l2_normalize(torch.tensor([[1, 0, 0], [0.99, 0.1, 0], [0, 0, 1], [0, 1, 0]],
                                       dtype=F64))
    pixels = l2_normalize(torch.tensor([[1, 0.2, 0], [0.9, 0.1, 0.1], [0.1, 0.1, 1],
                                        [0.2, 1, 0]], dtype=F64))
    seg = torch.arange(4)
    batch = SegmentBatch(
        embeddings=pixels, embeddings_with_loc=pixels, semantic=torch.tensor([1, 3, 3, 2]),
        region=torch.zeros(4).long(), image_ids=torch.zeros(4).long(), segment_ids=seg,
        prototypes=protos, prototypes_with_loc=protos,
        prototype_semantic=torch.tensor([1, 3, 3, 2]),
        prototype_region=torch.zeros(4).long(), prototype_image_ids=torch.zeros(4).long(),
        prototype_tags=torch.ones(4, C, dtype=torch.bool), num_classes=C)
    # sets: seg0 {1}; seg1 {1} (cos 0.995 to seg0); seg2 all (nothing within 0.95); seg3 {2}
    z = (12 * pixels @ protos.t()).tolist()
    e = [[math.exp(v) for v in row] for row in z]
    expected = [math.log(1 + e[0][3] / (e[0][1] + e[0][2])),
                math.log(1 + e[1][3] / (e[1][0] + e[1][2])),
                0.0,  # "all classes": no negative
                math.log(1 + (e[3][0] + e[3][1]) / e[3][2])]
    loss = FeatureAffinityLoss(loss_weight=0.5)(batch)
    assert loss.item() == pytest.approx(0.5 * sum(expected) / 4, rel=1e-12)
    # a stricter threshold empties seg1's set, which then becomes "all classes"
    strict = [math.log(1 + e[0][3] / (e[0][1] + e[0][2])), 0.0, 0.0,
              math.log(1 + e[3][0] / (e[3][1] + e[3][2]))]
    loss = FeatureAffinityLoss(loss_weight=0.5, threshold=0.999)(batch)
    assert loss.item() == pytest.approx(0.5 * sum(strict) / 4, rel=1e-12)


def test_chunking_does_not_change_the_losses():
    batch, memory = _batch(), _memory()
    for cls in (SemanticAnnotationLoss, SemanticCooccurrenceLoss, ImageSimilarityLoss,
                FeatureAffinityLoss):
        torch.testing.assert_close(cls(chunk_size=3)(batch, memory), cls()(batch, memory),
                                   rtol=1e-12, atol=0)


def test_registry_names_and_defaults():
    names = {'SemanticAnnotationLoss': ('loss_sem_ann', 6.0),
             'SemanticCooccurrenceLoss': ('loss_sem_occ', 8.0),
             'ImageSimilarityLoss': ('loss_img_sim', 16.0),
             'FeatureAffinityLoss': ('loss_feat_aff', 12.0)}
    for type_name, (loss_name, kappa) in names.items():
        loss = MODELS.build(dict(type=type_name, loss_weight=0.3))
        assert loss.loss_name == loss_name and loss.concentration == kappa
        assert loss.loss_weight == 0.3
        renamed = MODELS.build(dict(type=type_name, loss_name='loss_custom'))
        assert renamed.loss_name == 'loss_custom'


@pytest.mark.parametrize('kwargs, match', [
    (dict(concentration=0), 'concentration'),
    (dict(concentration=float('inf')), 'concentration'),
    (dict(loss_weight=-1.0), 'loss_weight'),
    (dict(loss_name='sem_ann'), 'loss_name'),
    (dict(chunk_size=0), 'chunk_size'),
])
def test_constructor_validation(kwargs, match):
    for cls in (SemanticAnnotationLoss, SemanticCooccurrenceLoss, ImageSimilarityLoss,
                FeatureAffinityLoss):
        with pytest.raises(ValueError, match=match):
            cls(**kwargs)
    with pytest.raises(ValueError, match='threshold'):
        FeatureAffinityLoss(threshold=2.0)
    with pytest.raises(ValueError, match='use_location_features'):
        ImageSimilarityLoss(use_location_features='yes')
    with pytest.raises(TypeError, match='batch'):
        SemanticAnnotationLoss()(dict(a=1))
