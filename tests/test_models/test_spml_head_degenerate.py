"""Degenerate batches through SPMLHead.loss: losses and gradients finite, never NaN.

One test per case, each in float32 and float64: an image whose pixels are all ignore, an
image that is one segment, a batch without any labeled pixel, a crop with one class,
concentration 64, a batch of one image.
"""
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

C = 5      # classes
UNL = C    # unlabeled index
H = W = 32  # label size; features 4x4 -> embedding 8x8 (stride 4)
DTYPES = [torch.float32, torch.float64]


def make_head(dtype, concentration=(6, 8, 16), grid=(2, 2), memory_size=0):
    k_ann, k_occ, k_img = concentration
    losses = [dict(type='SemanticAnnotationLoss', concentration=k_ann, loss_weight=1.0),
              dict(type='SemanticCooccurrenceLoss', concentration=k_occ, loss_weight=0.3),
              dict(type='ImageSimilarityLoss', concentration=k_img, loss_weight=0.1),
              dict(type='FeatureAffinityLoss', concentration=k_occ, loss_weight=0.5)]
    head = MODELS.build(dict(
        type='SPMLHead', in_channels=6, channels=8, embed_dims=4, num_classes=C,
        dilations=(1, 2), norm_cfg=dict(type='BN'), memory_size=memory_size,
        segment_generator=dict(type='SegmentGenerator', grid=grid, iterations=3),
        contrastive_losses=losses))
    return head.to(dtype).train()


def make_samples(labels, regions=None):
    samples = []
    for i, lab in enumerate(labels):
        s = SegDataSample(metainfo=dict(img_path=f'img{i}', img_tags=(
            torch.zeros(C, dtype=torch.bool).index_fill_(0, lab[lab < C].unique(), True)
            .numpy())))
        s.gt_sem_seg = PixelData(data=lab[None].clone())
        reg = torch.zeros_like(lab) if regions is None else regions[i]
        s.gt_overseg = PixelData(data=reg[None].clone())
        samples.append(s)
    return samples


def normal_label(seed):
    g = torch.Generator().manual_seed(seed)
    lab = torch.full((H, W), UNL, dtype=torch.long)
    lab[torch.rand(H, W, generator=g) < 0.3] = 0
    lab[:, W // 2:] = torch.where(torch.rand(H, W // 2, generator=g) < 0.3, 2, UNL)
    lab[-4:] = 255
    return lab


def run_and_check(head, labels, dtype, regions=None, seed=0):
    """Two steps of loss + backward; every value and gradient finite."""
    torch.manual_seed(seed)
    feats = torch.randn(len(labels), 6, 4, 4, dtype=dtype, requires_grad=True)
    samples = make_samples(labels, regions)
    for _ in range(2):
        head.zero_grad()
        feats.grad = None
        losses = head.loss([feats], samples, None)
        for k, v in losses.items():
            assert v.dtype == dtype or not v.is_floating_point() or k.startswith('acc'), k
            assert torch.isfinite(v).all(), (k, v)
        total = sum(v for k, v in losses.items() if k.startswith('loss'))
        total.backward()
        assert feats.grad is not None and torch.isfinite(feats.grad).all()
        for name, p in head.named_parameters():
            if p.grad is not None:
                assert torch.isfinite(p.grad).all(), name
        head.commit_memory()
    return losses


@pytest.mark.parametrize('dtype', DTYPES)
def test_image_all_ignore(dtype):
    losses = run_and_check(make_head(dtype, memory_size=1),
                           [normal_label(0), torch.full((H, W), 255)], dtype)
    assert losses['loss_sem_ann'] > 0


@pytest.mark.parametrize('dtype', DTYPES)
def test_image_that_is_one_segment(dtype):
    head = make_head(dtype, grid=(1, 1))
    one = torch.full((H, W), 1)
    emb = torch.randn(2, 4, 8, 8, dtype=dtype)
    seg = head.segment_generator(emb, torch.stack([one, normal_label(1)]))
    assert int((seg.prototype_image_ids == 0).sum()) == 1  # image 0: one segment
    run_and_check(head, [one, normal_label(1)], dtype)


@pytest.mark.parametrize('dtype', DTYPES)
def test_batch_without_labeled_pixel(dtype):
    unl = torch.full((H, W), UNL)
    unl[:2] = 255
    losses = run_and_check(make_head(dtype, memory_size=1), [unl, unl.clone()], dtype)
    assert losses['loss_sem_ann'].item() == 0.0  # no item: 0, not NaN (§8 item 17)
    assert losses['loss_ce'].item() == 0.0
    assert losses['loss_img_sim'].item() >= 0


@pytest.mark.parametrize('dtype', DTYPES)
def test_crop_with_one_class(dtype):
    labels = [torch.full((H, W), 3), torch.full((H, W), 3)]
    labels[1][:, :5] = UNL
    regions = [torch.arange(W).expand(H, W) // 8] * 2
    losses = run_and_check(make_head(dtype), labels, dtype, regions)
    # every labeled segment is a positive: no negative, the term is exactly 0
    assert losses['loss_sem_ann'].item() == 0.0


@pytest.mark.parametrize('dtype', DTYPES)
def test_concentration_64(dtype):
    losses = run_and_check(make_head(dtype, concentration=(64, 64, 64), memory_size=1),
                           [normal_label(2), normal_label(3)], dtype, seed=3)
    assert losses['loss_sem_ann'] > 0


@pytest.mark.parametrize('dtype', DTYPES)
def test_batch_of_one_image(dtype):
    losses = run_and_check(make_head(dtype, memory_size=2), [normal_label(4)], dtype)
    assert losses['loss_sem_ann'] > 0
