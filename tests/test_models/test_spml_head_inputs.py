"""SPMLHead: spec fidelity of its options and clear errors for config / batch mistakes."""
import warnings

import pytest
import torch
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from torch import nn

C = 4


def make_head(**kw):
    cfg = dict(type='SPMLHead', in_channels=6, channels=8, embed_dims=4, num_classes=C,
               dilations=(1, ), norm_cfg=dict(type='BN'),
               segment_generator=dict(type='SegmentGenerator', grid=(2, 2), iterations=2),
               contrastive_losses=[dict(type='SemanticAnnotationLoss', concentration=6),
                                   dict(type='ImageSimilarityLoss', concentration=16)])
    cfg.update(kw)
    return MODELS.build(cfg)


def sample(label, i, tags=True, overseg=True):
    meta = dict(img_path=f'img{i}')
    if tags:
        meta['img_tags'] = torch.ones(C, dtype=torch.bool).numpy()
    s = SegDataSample(metainfo=meta)
    s.gt_sem_seg = PixelData(data=label[None].clone())
    if overseg:
        s.gt_overseg = PixelData(data=torch.zeros_like(label)[None])
    return s


def test_classifier_dropout_is_elementwise_by_default():
    head = make_head()
    assert type(head.dropout) is nn.Dropout and head.dropout.p == 0.75  # spec §2.4
    assert type(make_head(dropout_type='channel').dropout) is nn.Dropout2d
    assert make_head(dropout_ratio=0).dropout is None
    with pytest.raises(ValueError, match='dropout_type'):
        make_head(dropout_type='pixel')
    # element-wise: within one channel some values are dropped and others kept
    head.train()
    out = head.dropout(torch.ones(1, 8, 16, 16))
    per_channel = (out == 0).float().mean(dim=(2, 3))
    assert ((per_channel > 0) & (per_channel < 1)).all()


def test_ignore_index_reaches_the_segment_generator():
    head = make_head(ignore_index=100)
    assert head.segment_generator.ignore_index == 100
    with pytest.raises(ValueError, match='segment_generator.ignore_index=255 differs'):
        make_head(ignore_index=100, segment_generator=dict(grid=(2, 2), ignore_index=255))
    # a smaller label is padded with the head's ignore_index: padding is never clustered
    seen = []
    head.segment_generator.register_forward_hook(lambda m, a, out: seen.append(out))
    big = torch.full((32, 32), 1)
    small = torch.full((16, 32), 2)
    small[:, :4] = 100
    head.train().contrastive_loss_by_feat(torch.randn(2, 4, 8, 8),
                                          [sample(big, 0), sample(small, 1)])
    seg = seen[0]
    n1 = int((seg.image_ids == 1).sum())
    assert n1 == 4 * 7  # embedding 8x8 (stride 4): rows 0..3, columns 1..7 of image 1
    assert set(seg.semantic[seg.image_ids == 1].tolist()) == {2}


def test_missing_img_tags_warns_once_naming_the_transform():
    head = make_head(contrastive_losses=[dict(type='SemanticCooccurrenceLoss')]).train()
    samples = [sample(torch.full((16, 16), 1), i, tags=False) for i in range(2)]
    with pytest.warns(UserWarning, match='AddImageTags'):
        head.loss([torch.randn(2, 6, 2, 2)], samples, None)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        head.loss([torch.randn(2, 6, 2, 2)], samples, None)


def test_sample_without_overseg_in_a_batch_that_has_it_is_an_error():
    head = make_head().train()
    samples = [sample(torch.full((16, 16), 1), 0), sample(torch.full((16, 16), 1), 1,
                                                          overseg=False)]
    with pytest.raises(ValueError, match=r'gt_overseg is missing in sample 1 \(img1\)'):
        head.loss([torch.randn(2, 6, 2, 2)], samples, None)
    # no sample has one: clusters are split by label only (documented), no error
    samples = [sample(torch.full((16, 16), 1), i, overseg=False) for i in range(2)]
    head.loss([torch.randn(2, 6, 2, 2)], samples, None)


@pytest.mark.parametrize('kw, match', [
    (dict(contrastive_losses=[dict(type='SemanticAnnotationLoss'),
                              dict(type='SemanticAnotationLoss')]),
     r"contrastive_losses\[1\]: unknown loss type 'SemanticAnotationLoss'"),
    (dict(contrastive_losses=[dict(type='SemanticAnnotationLoss', loss_name='sem_ann')]),
     r"contrastive_losses\[0\] \(SemanticAnnotationLoss\): loss_name must .*'loss_'"),
    (dict(contrastive_losses=[dict(type='SemanticAnnotationLoss', concentration=-1)]),
     r'contrastive_losses\[0\] \(SemanticAnnotationLoss\): concentration'),
    (dict(embed_dims=8), r'channels .* 2 \* embed_dims = 16'),
    (dict(embed_dims=0), 'embed_dims'),
    (dict(segment_generator=dict(grid=(0, 2))), 'grid'),
    (dict(segment_generator=dict(grid=(2.5, 2))), 'grid'),
    (dict(segment_generator=dict(grid=6)), 'grid'),
    (dict(segment_generator=dict(grid=(2, 2, 2))), 'grid'),
])
def test_config_mistakes_fail_at_build_time_naming_the_key(kw, match):
    with pytest.raises(ValueError, match=match):
        make_head(**kw)


def _labels(n=2, size=16):
    g = torch.Generator().manual_seed(0)
    return [torch.randint(0, C, (size, size), generator=g) for _ in range(n)]


def test_stage1_classifier_sees_the_detached_embedding():
    head = make_head().train()
    feats = torch.randn(2, 6, 4, 4, requires_grad=True)
    samples = [sample(lab, i) for i, lab in enumerate(_labels(size=32))]
    losses = head.loss([feats], samples, None)
    losses['loss_ce'].backward(retain_graph=True)
    # CE trains the classifier only: nothing reaches the embedding or the input
    assert head.conv_seg.weight.grad.abs().sum() > 0
    assert head.classifier_conv.conv.weight.grad.abs().sum() > 0
    assert feats.grad is None
    assert all(p.grad is None for p in head.embedding.parameters())
    head.zero_grad(set_to_none=True)
    (losses['loss_sem_ann'] + losses['loss_img_sim']).backward()
    # the contrastive losses train the embedding only, never the classifier
    assert feats.grad.abs().sum() > 0
    assert all(p.grad is not None for p in head.embedding.parameters())
    assert head.conv_seg.weight.grad is None and head.classifier_conv.conv.weight.grad is None


@pytest.mark.parametrize('where', ['embedding', 'input'])
def test_predict_is_the_classifier_on_the_normalised_embedding(where):
    import torch.nn.functional as F
    head = make_head(test_classifier_at=where).eval()
    for m in head.modules():  # non-trivial BN statistics
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    feats = torch.randn(1, 6, 5, 6)
    metas = [dict(img_shape=(37, 45), pad_shape=(40, 48))]
    with torch.no_grad():
        logits = head.predict([feats], metas, None)
        emb = F.interpolate(head.embedding(feats), scale_factor=2, mode='bilinear',
                            align_corners=False)  # stride 8 -> 4
        if where == 'input':  # the reference: classifier on the input-size embedding
            emb = F.interpolate(emb, size=(40, 48), mode='bilinear', align_corners=False)
        x = emb / emb.norm(dim=1, keepdim=True)
        conv, bn = head.classifier_conv.conv, head.classifier_conv.bn
        hidden = torch.relu(F.batch_norm(conv(x), bn.running_mean, bn.running_var,
                                         bn.weight, bn.bias, eps=bn.eps))
        # logits at the padded input size (the segmentor crops the padding afterwards)
        expected = F.interpolate(head.conv_seg(hidden), size=(40, 48), mode='bilinear',
                                 align_corners=False)
        again = head.predict([feats], metas, None)
    torch.testing.assert_close(logits, expected, rtol=1e-5, atol=1e-6)
    assert torch.equal(logits, again)  # eval: no dropout


@pytest.mark.parametrize('head_type', ['SPMLHead', 'SPMLAuxHead'])
@pytest.mark.parametrize('align_corners', [False, True])
def test_conv_embedding_on_levels_equals_resize_concat(head_type, align_corners):
    """The 'conv' embedding of resize_concat levels runs per level (no concatenation at the
    output size): the same values and gradients as conv(cat(resize(levels)))."""
    torch.manual_seed(0)
    widths, sizes = [3, 5, 12, 20], [(13, 17), (7, 9), (4, 5), (2, 3)]
    head = make_head(type=head_type, in_channels=widths, in_index=[0, 1, 2, 3],
                     input_transform='resize_concat', embedding_head='conv',
                     psp_channels=10, embedding_upsample=1, align_corners=align_corners,
                     memory_size=0).double()
    assert head.embedding.fuses_levels
    feats = [torch.randn(2, c, *s, dtype=torch.float64, requires_grad=True)
             for c, s in zip(widths, sizes)]
    for train in (True, False):
        head.train(train)
        fused = head.embed(feats)
        direct = head.embedding(head._transform_inputs(feats))
        torch.testing.assert_close(fused, direct, rtol=1e-10, atol=1e-12)
        if train:
            g = torch.randn_like(fused)
            fused_grads = torch.autograd.grad(
                fused, feats + list(head.embedding.parameters()), g)
            direct_grads = torch.autograd.grad(
                direct, feats + list(head.embedding.parameters()), g)
            for a, b in zip(fused_grads, direct_grads):
                torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
    # a conv type other than nn.Conv2d keeps the concatenating path
    other = make_head(in_channels=widths, in_index=[0, 1, 2, 3], embedding_head='conv',
                      input_transform='resize_concat', psp_channels=10,
                      conv_cfg=dict(type='Conv2dAdaptivePadding'))
    assert not other.embedding.fuses_levels
