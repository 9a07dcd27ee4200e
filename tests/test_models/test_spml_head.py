"""SPMLHead: the §9.4 numbers through the registered components, memory bank, inference."""
import io

import pytest
import torch
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmspml.models.utils import PrototypeMemoryBank
from tests._reference_inputs import C, EXPECTED, EXPECTED_MEMORY, reference_inputs

LOSSES_94 = [dict(type='SemanticAnnotationLoss', concentration=6, loss_weight=0.3),
             dict(type='SemanticCooccurrenceLoss', concentration=8, loss_weight=0.3),
             dict(type='ImageSimilarityLoss', concentration=16, loss_weight=0.1)]


def make_head(memory_size=1, **kw):
    cfg = dict(type='SPMLHead', in_channels=4, channels=8, embed_dims=4, num_classes=C,
               segment_generator=dict(type='SegmentGenerator', grid=(2, 2), iterations=3),
               contrastive_losses=LOSSES_94, memory_size=memory_size,
               norm_cfg=dict(type='BN'), acc_proto_interval=1)
    cfg.update(kw)
    return MODELS.build(cfg)


def make_samples(semantic, region, tags, indices=None):
    samples = []
    for i in (range(len(semantic)) if indices is None else indices):
        s = SegDataSample(metainfo=dict(img_tags=tags[i, :C].numpy(), img_path=f'img{i}'))
        s.gt_sem_seg = PixelData(data=semantic[i][None].clone())
        s.gt_overseg = PixelData(data=region[i][None].clone())
        samples.append(s)
    return samples


@pytest.mark.parametrize('dtype', [torch.float64, torch.float32])
def test_head_reproduces_reference_batch(dtype):
    emb, semantic, region, tags, _ = reference_inputs(dtype)
    head = make_head().to(dtype)
    samples = make_samples(semantic, region, tags)
    out = head.contrastive_loss_by_feat(emb, samples)
    # float32: the stable kernel gives the *intended* img_sim value (§8 item 5, §9.4)
    rtol = 1e-6 if dtype == torch.float64 else 1e-5
    for key in ('loss_sem_ann', 'loss_sem_occ', 'loss_img_sim'):
        assert out[key].item() == pytest.approx(EXPECTED[key], rel=rtol), key
    assert out['acc_proto'].item() == pytest.approx(EXPECTED['acc'], rel=1e-6)
    head.commit_memory()  # what SPMLMemoryBankHook does after the optimiser step
    assert len(head.memory_bank) == 1
    out = head.contrastive_loss_by_feat(emb, samples)
    for key in ('loss_sem_ann', 'loss_sem_occ', 'loss_img_sim'):
        assert out[key].item() == pytest.approx(EXPECTED_MEMORY[key], rel=rtol), key
    assert out['acc_proto'].item() == pytest.approx(EXPECTED_MEMORY['acc'], rel=1e-6)


def test_losses_finite_and_backprop_full_head():
    torch.manual_seed(0)
    head = make_head(memory_size=2, in_channels=16, embed_dims=8, channels=16,
                     dilations=(1, 2), segment_generator=dict(grid=(3, 3), iterations=2))
    feats = [torch.randn(2, 16, 6, 6, requires_grad=True)]
    sem = torch.randint(0, 4, (2, 48, 48))
    sem[:, :10] = 255
    sem[1, 20:] = 30  # unlabeled index != 255 (ignored by CE, clustered by SPML)
    samples = make_samples(sem, torch.randint(0, 5, (2, 48, 48)),
                           torch.ones(2, 256, dtype=torch.bool))
    for _ in range(3):
        losses = head.loss(feats, samples, None)
        total = sum(v for k, v in losses.items() if 'loss' in k)
        assert torch.isfinite(total)
        assert {'loss_ce', 'acc_seg', 'loss_sem_ann', 'loss_sem_occ', 'loss_img_sim',
                'acc_proto'} <= set(losses)
        total.backward()
        head.commit_memory()
    assert len(head.memory_bank) == 2  # never more than its size
    assert feats[0].grad is not None and torch.isfinite(feats[0].grad).all()
    # the CE branch sees the detached embedding: classifier gets grads from CE only
    assert head.conv_seg.weight.grad is not None


def test_all_pixels_ignored_gives_zero_not_nan():
    head = make_head(in_channels=8, embed_dims=4)
    sem = torch.full((2, 16, 16), 255)
    samples = make_samples(sem, torch.zeros(2, 16, 16, dtype=torch.long),
                           torch.zeros(2, 256, dtype=torch.bool))
    losses = head.loss([torch.randn(2, 8, 2, 2, requires_grad=True)], samples, None)
    for k, v in losses.items():
        assert torch.isfinite(v), k
        if k.startswith('loss'):
            assert v.item() == 0.0, k


@pytest.mark.parametrize('where', ['embedding', 'input'])
def test_predict_gives_class_scores_at_input_size(where):
    head = make_head(test_classifier_at=where, in_channels=8).eval()
    metas = [dict(img_shape=(37, 45), pad_shape=(37, 45))]
    with torch.no_grad():
        logits = head.predict([torch.randn(1, 8, 5, 6)], metas, None)
    assert logits.shape == (1, C, 37, 45)


def test_memory_bank_fifo_ids_and_state_roundtrip():
    bank = PrototypeMemoryBank(2)
    for it in range(4):
        k = 3 + it
        bank.push(torch.randn(k, 4), torch.arange(k), torch.ones(k, 5, dtype=torch.bool),
                  torch.arange(k) % 2, num_images=2)
        assert len(bank) == min(it + 1, 2)
    mem = bank.get(num_current_images=4)
    assert mem.prototypes.shape == (5 + 6, 4)
    assert mem.image_ids.min() >= 4  # never collides with current ids 0..3
    assert mem.image_ids[:5].min() > mem.image_ids[5:].max()  # older entry: larger ids
    assert bank.state_dict() == {}  # not in the model's state dict (mmengine broadcasts it)
    buf = io.BytesIO()
    torch.save(dict(bank=bank.export_state()), buf)
    buf.seek(0)
    other = PrototypeMemoryBank(2)
    other.import_state(torch.load(buf, weights_only=True)['bank'])
    mem2 = other.get(num_current_images=4)
    assert torch.equal(mem.prototypes, mem2.prototypes)
    assert torch.equal(mem.image_ids, mem2.image_ids)
    small = PrototypeMemoryBank(1)
    small.import_state(bank.export_state())
    assert len(small) == 1


def test_bad_head_arguments():
    with pytest.raises(ValueError, match='embedding_head'):
        make_head(embedding_head='fpn')
    with pytest.raises(ValueError, match='unique'):
        make_head(contrastive_losses=[LOSSES_94[0], LOSSES_94[0]])
    with pytest.raises(ValueError, match='grid'):
        make_head(segment_generator=dict(grid=(0, 2)))


@pytest.mark.parametrize('interval,steps_with_acc', [(3, [0, 3]), (1, [0, 1, 2, 3, 4]),
                                                     (0, [])])
def test_acc_proto_interval(interval, steps_with_acc):
    emb, semantic, region, tags, _ = reference_inputs(torch.float64)
    head = make_head(acc_proto_interval=interval).double()
    samples = make_samples(semantic, region, tags)
    ref = make_head().double().contrastive_loss_by_feat(emb, samples)
    got = []
    for step in range(5):
        out = head.contrastive_loss_by_feat(emb, samples)
        if 'acc_proto' in out:
            got.append(step)
            assert 0 <= out['acc_proto'].item() <= 1
        head.commit_memory()
        if step == 0:  # the losses never depend on the diagnostic
            if interval:
                assert out['acc_proto'].item() == pytest.approx(ref['acc_proto'].item())
            for key in ('loss_sem_ann', 'loss_sem_occ', 'loss_img_sim'):
                assert out[key].item() == pytest.approx(ref[key].item(), rel=1e-12)
    assert got == steps_with_acc
    with pytest.raises(ValueError, match='acc_proto_interval'):
        make_head(acc_proto_interval=-1)
