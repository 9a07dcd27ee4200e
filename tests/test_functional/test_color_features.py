"""DensePose colour clustering features (spml-method.md §2.3) on a generated image."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmspml.functional import color_features, distance_kernel


def generated_image(b=2, h=23, w=31, seed=0):
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing='ij')
    base = torch.stack([(xx > w // 2) * 200.0, yy * 7.0, (xx + yy) % 5 * 30.0])
    return (base[None] + torch.rand(b, 3, h, w, generator=g) * 20).double()


def test_distance_kernel():
    k = distance_kernel(5, torch.float64)
    assert k.shape == (5, 5) and k[2, 2] == 0  # zero centre: not a Gaussian (§8 item 22)
    assert k.sum().item() == pytest.approx(1.0, abs=1e-12)
    raw = k / k[2, 3]  # distance 1 -> 1
    assert raw[0, 0].item() == pytest.approx(np.sqrt(8)) and raw[0, 2].item() == 2
    with pytest.raises(ValueError, match='odd'):
        distance_kernel(4)


def test_color_features_match_a_loop_reference():
    img = generated_image()
    out = color_features(img, (6, 8))
    assert out.shape == (2, 6, 8, 3) and out.dtype == torch.float64
    # reference: valid 5x5 correlation by loops, bilinear resize, per-image/channel norm
    k = distance_kernel(5, torch.float64).numpy()
    a = img.numpy()
    b, c, h, w = a.shape
    filt = np.zeros((b, c, h - 4, w - 4))
    for y in range(h - 4):
        for x in range(w - 4):
            filt[:, :, y, x] = (a[:, :, y:y + 5, x:x + 5] * k).sum(axis=(2, 3))
    res = F.interpolate(torch.from_numpy(filt), size=(6, 8), mode='bilinear',
                        align_corners=False).numpy()
    res = res - res.mean(axis=(2, 3), keepdims=True)
    res = res / np.abs(res).max(axis=(2, 3), keepdims=True)
    np.testing.assert_allclose(out.permute(0, 3, 1, 2).numpy(), res, rtol=1e-10, atol=1e-12)
    assert out.abs().amax(dim=(1, 2)).allclose(torch.ones(2, 3, dtype=torch.float64))


def test_color_features_ignore_the_mean_std_normalisation():
    # the reference filters the normalised image; any per-channel a*x+b (a>0) is removed
    img = generated_image(seed=1)
    mean = torch.tensor([123.675, 116.28, 103.53], dtype=torch.float64).view(1, 3, 1, 1)
    std = torch.tensor([58.395, 57.12, 57.375], dtype=torch.float64).view(1, 3, 1, 1)
    torch.testing.assert_close(color_features((img - mean) / std, (5, 7)),
                               color_features(img, (5, 7)), rtol=1e-10, atol=1e-12)


def test_constant_channel_gives_zero_and_bad_inputs_fail():
    img = generated_image()
    img[:, 1] = 42.0
    out = color_features(img.float(), (4, 4))
    assert torch.isfinite(out).all() and (out[..., 1] == 0).all()
    with pytest.raises(ValueError, match='image'):
        color_features(img[:, :, :3], (4, 4))
    with pytest.raises(ValueError, match='size'):
        color_features(img, (0, 4))


def test_segment_generator_clusters_by_colour():
    from mmspml.models.necks import SegmentGenerator
    img = torch.zeros(1, 3, 36, 36)
    img[:, 0, :, 17:] = 255.0  # left half black, right half red
    emb = torch.ones(1, 4, 8, 8)  # identical embeddings: only location/colour differ
    sem = torch.ones(1, 36, 36, dtype=torch.long)
    plain = SegmentGenerator(grid=(1, 2), iterations=5, use_location=False)
    colour = SegmentGenerator(grid=(1, 2), iterations=5, use_location=False, use_color=True)
    assert plain(emb, sem).prototypes.shape[0] == 1  # nothing to separate the pixels
    seg = colour(emb, sem, image=img)
    assert seg.prototypes.shape[0] == 2
    cols = seg.pixel_index % 8
    left = seg.cluster_ids[cols <= 2]
    right = seg.cluster_ids[cols >= 5]
    assert left.unique().numel() == 1 and right.unique().numel() == 1
    assert left[0] != right[0]
    with pytest.raises(ValueError, match='pack_image=True'):
        colour(emb, sem)


def test_packer_and_head_feed_the_colour_features():
    from mmseg.registry import MODELS, TRANSFORMS
    rng = np.random.default_rng(0)
    bgr = rng.integers(0, 255, (32, 32, 3)).astype(np.uint8)
    pack = TRANSFORMS.build(dict(type='PackSPMLInputs', pack_image=True))
    label = np.ones((32, 32), np.uint8)
    out = pack(dict(img=bgr, gt_seg_map=label, seg_fields=['gt_seg_map'], img_path='a.jpg',
                    img_shape=(32, 32), ori_shape=(32, 32)))
    rgb = out['data_samples'].img_rgb.data
    assert rgb.dtype == torch.float32 and rgb.shape == (3, 32, 32)
    assert torch.equal(rgb, torch.from_numpy(bgr[..., ::-1].transpose(2, 0, 1).copy()).float())
    head = MODELS.build(dict(
        type='SPMLHead', in_channels=6, channels=8, embed_dims=4, num_classes=3,
        dilations=(1, ), norm_cfg=dict(type='BN'),
        segment_generator=dict(grid=(2, 2), use_color=True),
        contrastive_losses=[dict(type='SemanticAnnotationLoss')]))
    seen = []
    head.segment_generator.register_forward_hook(lambda m, a, kw, o: seen.append(kw),
                                                 with_kwargs=True)
    sample = out['data_samples']
    sample.set_metainfo(dict(img_tags=np.ones(3, bool)))
    losses = head.contrastive_loss_by_feat(torch.randn(1, 4, 8, 8), [sample])
    assert torch.isfinite(losses['loss_sem_ann'])
    assert torch.equal(seen[0]['image'][0], rgb)
    del sample.img_rgb
    with pytest.raises(ValueError, match='has no img_rgb'):
        head.contrastive_loss_by_feat(torch.randn(1, 4, 8, 8), [sample])
