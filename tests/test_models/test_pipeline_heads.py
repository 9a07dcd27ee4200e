"""SPMLStage2Head (frozen embedding, fresh classifier, §5.3) and SPMLKNNHead (§6.3)."""
import copy

import pytest
import torch
from mmengine.config import Config
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmengine.structures import PixelData

from mmspml.functional import knn_segment_scores
from tests.conftest import REPO


def _models():
    torch.manual_seed(0)
    s1 = MODELS.build(Config.fromfile(f'{REPO}/configs/spml/camvid_scribbles.py').model)
    s2 = MODELS.build(Config.fromfile(f'{REPO}/configs/stage2/camvid_scribbles.py').model)
    s2.init_weights()
    return s1, s2


def _batch(n=2, size=(32, 40), seed=0):
    g = torch.Generator().manual_seed(seed)
    imgs = torch.rand(n, 3, *size, generator=g)
    samples = []
    for _ in range(n):
        s = SegDataSample()
        label = torch.randint(0, 12, (1, *size), generator=g)  # 11 = unlabeled
        s.gt_sem_seg = PixelData(data=label)
        s.set_metainfo(dict(img_shape=size, pad_shape=size, ori_shape=size))
        samples.append(s)
    return imgs, samples


def test_stage2_loads_embedding_not_classifier_and_trains_only_the_classifier():
    s1, s2 = _models()
    fresh = copy.deepcopy(s2.decode_head.state_dict())
    result = s2.load_state_dict(s1.state_dict(), strict=False)
    assert {k for k in result.unexpected_keys} == {
        k for k in s1.state_dict() if k.startswith(('decode_head.conv_seg',
                                                     'decode_head.classifier_conv'))}
    assert all(k.startswith('decode_head.stage2_') for k in result.missing_keys)
    for k, v in s1.decode_head.embedding.state_dict().items():
        torch.testing.assert_close(s2.decode_head.embedding.state_dict()[k], v)
    for k, v in s2.decode_head.stage2_conv.state_dict().items():
        torch.testing.assert_close(v, fresh['stage2_conv.' + k])

    frozen = {k: v.clone() for k, v in s2.state_dict().items() if 'stage2' not in k}
    s2.train()
    assert not s2.backbone.training or all(
        not m.training for m in s2.backbone.modules()
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm))
    assert not s2.decode_head.embedding.training and s2.decode_head.stage2_conv.training
    opt = torch.optim.SGD([p for p in s2.parameters() if p.requires_grad], lr=0.1)
    imgs, samples = _batch()
    losses = s2.loss(imgs, samples)
    assert set(losses) == {'decode.loss_ce', 'decode.acc_seg'}
    losses['decode.loss_ce'].backward()
    assert all(p.grad is None for p in s2.backbone.parameters())
    assert all(p.grad is None for p in s2.decode_head.embedding.parameters())
    assert s2.decode_head.stage2_seg.weight.grad.abs().sum() > 0
    opt.step()
    for k, v in s2.state_dict().items():  # weights and BN statistics of the embedding net
        if k in frozen:
            torch.testing.assert_close(v, frozen[k], msg=k)
    s2.eval()
    logits = s2.predict(imgs, samples)[0].seg_logits.data
    assert logits.shape == (11, 32, 40)


def test_knn_head_predicts_vote_fractions(tmp_path):
    torch.manual_seed(0)
    cfg = dict(type='SPMLKNNHead', in_channels=8, channels=6, embed_dims=3, dilations=(1,),
               num_classes=4, knn_k=3, knn_grid=(2, 2), prototype_file=None)
    mem = torch.nn.functional.normalize(torch.randn(10, 3), dim=1)
    labels = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3, 0, 1])
    bank_file = str(tmp_path / 'bank.pth')
    torch.save(dict(prototypes=mem, labels=labels, num_classes=4), bank_file)
    head = MODELS.build(dict(cfg, prototype_file=bank_file)).eval()
    feats = [torch.randn(1, 8, 4, 5)]
    metas = [dict(img_shape=(32, 40), pad_shape=(32, 40))]
    out = head.predict(feats, metas, dict())
    assert out.shape == (1, 4, 32, 40)
    emb = torch.nn.functional.interpolate(head.forward(feats), size=(32, 40),
                                          mode='bilinear', align_corners=False)
    expect = knn_segment_scores(emb[0], mem, labels, 4, k=3, grid=(2, 2))
    torch.testing.assert_close(out[0].softmax(0), expect, atol=1e-5, rtol=0)

    torch.save(dict(prototypes=mem, labels=labels, num_classes=5), bank_file)
    with pytest.raises(ValueError, match='5 classes'):
        MODELS.build(dict(cfg, prototype_file=bank_file)).predict(feats, metas, dict())
    with pytest.raises(FileNotFoundError, match='extract_prototypes'):
        MODELS.build(cfg).predict(feats, metas, dict())


def test_stage2_on_the_effnet_lite0_conv_resize_concat_embedding():
    """Stage 2 for the 'conv' / resize_concat embedding of configs/spml/*_effnet-lite0.py:
    the stage-2 head takes the stage-1 head's embedding arguments as they are, loads its
    weights and computes the same embedding."""
    cfg = Config.fromfile(f'{REPO}/configs/spml/camvid_scribbles_effnet-lite0.py')
    cfg.model.backbone.pretrained = False
    torch.manual_seed(0)
    s1 = MODELS.build(copy.deepcopy(cfg.model)).eval()
    head = dict(cfg.model.decode_head)
    for k in ('segment_generator', 'contrastive_losses', 'memory_size'):  # stage 1 only
        head.pop(k)
    assert head['embedding_head'] == 'conv' and head['input_transform'] == 'resize_concat'
    head.update(type='SPMLStage2Head', dropout_ratio=0.65)
    cfg.model.decode_head = head
    cfg.model.backbone.update(frozen_stages=3, norm_eval=True)
    s2 = MODELS.build(cfg.model)
    s2.init_weights()
    result = s2.load_state_dict(s1.state_dict(), strict=False)
    assert all(k.startswith('decode_head.stage2_') for k in result.missing_keys)
    imgs, samples = _batch(size=(32, 40))
    s2.train()  # the embedding stays in eval mode (running statistics)
    with torch.no_grad():
        feats = s1.extract_feat(imgs)
        torch.testing.assert_close(s2.decode_head.forward(feats), s1.decode_head.forward(feats),
                                   rtol=0, atol=0)
    losses = s2.loss(imgs, samples)
    losses['decode.loss_ce'].backward()
    assert all(p.grad is None for p in s2.decode_head.embedding.parameters())
    assert s2.decode_head.stage2_seg.weight.grad.abs().sum() > 0
    s2.eval()
    assert s2.predict(imgs, samples)[0].seg_logits.data.shape == (11, 32, 40)


class _Payload:
    """Unpickling this runs ``os.makedirs(path)``: what a crafted bank file could do."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        import os
        return os.makedirs, (self.path, )


def test_prototype_bank_is_loaded_with_weights_only(tmp_path):
    from mmspml.models.decode_heads.spml_knn_head import load_prototype_bank
    mem, labels = torch.randn(4, 3), torch.tensor([0, 1, 2, 3])
    ok = str(tmp_path / 'ok.pth')  # what tools/extract_prototypes.py writes: plain data
    torch.save(dict(prototypes=mem, labels=labels, num_classes=4, classes=['a', 'b'],
                    names=['x'], config='c.py', checkpoint=None, grid=(2, 2),
                    scales=[1.0], image_index=torch.zeros(4, dtype=torch.long)), ok)
    assert load_prototype_bank(ok)['grid'] == (2, 2)
    bad = str(tmp_path / 'bad.pth')
    target = tmp_path / 'created_by_the_bank'
    torch.save(dict(prototypes=mem, labels=labels, num_classes=4,
                    extra=_Payload(str(target))), bad)
    with pytest.raises(ValueError, match='bad.pth.*weights_only=True'):
        load_prototype_bank(bad)
    assert not target.exists()  # nothing was executed
