"""Mixed precision (``tools/train.py --amp``): the SPML losses, the segment generator and
SPMLHead / SPMLAuxHead under ``torch.autocast('cpu', dtype=torch.bfloat16)`` -- the code
path float16 takes on a GPU. They run in float32 inside (``full_precision``): given the
same float32 embedding the losses equal the float32 ones (rtol 1e-6); with the whole head
in bfloat16 (embedding convs in 16 bits, so a slightly different embedding and k-means)
they stay finite and within 5 % of float32 (measured over 8 seeds: sem_ann 0.03 %,
img_sim 2.2 %, the k-means-sensitive term)."""
import dataclasses

import pytest
import torch

from mmspml.functional import MemoryBatch
from mmspml.models.losses import (FeatureAffinityLoss, ImageSimilarityLoss,
                                  SemanticAnnotationLoss, SemanticCooccurrenceLoss)
from tests._reference_inputs import EXPECTED, reference_inputs
from tests.test_models.test_losses.test_spml_losses import _batch, _memory
from tests.test_models.test_spml_head import make_head, make_samples

BF16 = dict(device_type='cpu', dtype=torch.bfloat16)
LOSSES = (SemanticAnnotationLoss, SemanticCooccurrenceLoss, ImageSimilarityLoss,
          FeatureAffinityLoss)


def _cast(x, dtype):
    return dataclasses.replace(x, **{
        f.name: getattr(x, f.name).to(dtype) for f in dataclasses.fields(x)
        if isinstance(getattr(x, f.name), torch.Tensor)
        and getattr(x, f.name).is_floating_point()})


@pytest.mark.parametrize('cls', LOSSES, ids=lambda c: c.__name__)
def test_loss_modules_under_autocast_compute_in_float32(cls):
    batch32, memory32 = _cast(_batch(), torch.float32), _cast(_memory(), torch.float32)
    batch16, memory16 = _cast(batch32, torch.bfloat16), _cast(memory32, torch.bfloat16)
    loss = cls(concentration=16.0)
    ref = loss(batch32, memory32)
    with torch.autocast(**BF16):
        same_inputs = loss(batch32, memory32)
        low_inputs = loss(batch16, memory16)
    # float32 inputs: autocast changes nothing
    assert same_inputs.dtype == torch.float32
    torch.testing.assert_close(same_inputs, ref, rtol=1e-6, atol=0)
    # bfloat16 inputs: computed in float32 from the rounded inputs
    torch.testing.assert_close(low_inputs, loss(_cast(batch16, torch.float32),
                                                _cast(memory16, torch.float32)),
                               rtol=1e-6, atol=0)
    assert torch.isfinite(low_inputs) and low_inputs == pytest.approx(float(ref), rel=2e-2)


def test_head_contrastive_losses_under_autocast_equal_float32():
    """The §9.4 batch through SPMLHead: autocast once moved img_sim by 13 % (k-means and
    kappa=16 logits in bfloat16)."""
    emb, semantic, region, tags, _ = reference_inputs(torch.float32)
    head = make_head(memory_size=0)
    samples = make_samples(semantic, region, tags)
    with torch.autocast(**BF16):
        out = head.contrastive_loss_by_feat(emb, samples)
        low = head.contrastive_loss_by_feat(emb.bfloat16(), samples)
    # a bfloat16 embedding (rounded: its k-means may differ) is computed in float32
    low_ref = head.contrastive_loss_by_feat(emb.bfloat16().float(), samples)
    for key in ('loss_sem_ann', 'loss_sem_occ', 'loss_img_sim'):
        assert out[key].dtype == torch.float32
        assert out[key].item() == pytest.approx(EXPECTED[key], rel=1e-5), key
        assert low[key].dtype == torch.float32 and torch.isfinite(low[key])
        torch.testing.assert_close(low[key], low_ref[key], rtol=1e-6, atol=0)


def _mixed_batch(n=2, size=(48, 48)):
    sem = torch.randint(0, 4, (n, *size))
    sem[:, :10] = 255
    sem[1, 20:] = 30  # unlabeled
    return make_samples(sem, torch.randint(0, 5, (n, *size)),
                        torch.ones(n, 256, dtype=torch.bool))


@pytest.mark.parametrize('aux', [False, True], ids=['SPMLHead', 'SPMLAuxHead'])
def test_whole_head_in_bfloat16_is_finite_and_close(aux):
    torch.manual_seed(0)
    kw = dict(memory_size=0, in_channels=16, embed_dims=8, channels=16, dilations=(1, 2),
              segment_generator=dict(grid=(3, 3), iterations=2))
    if aux:
        kw.update(type='SPMLAuxHead', init_cfg=None)
    head = make_head(**kw)
    feats = [torch.randn(2, 16, 6, 6, requires_grad=True)]
    samples = _mixed_batch()
    ref = head.loss(feats, samples, None)
    with torch.autocast(**BF16):
        out = head.loss(feats, samples, None)
    keys = [k for k in ref if k.startswith('loss_') and k != 'loss_ce']
    assert len(keys) == 3
    for k in keys:
        assert out[k].dtype == torch.float32 and torch.isfinite(out[k])
        assert out[k].item() == pytest.approx(ref[k].item(), rel=5e-2, abs=1e-6), k
    total = sum(v for k, v in out.items() if k.startswith('loss_'))
    total.backward()
    assert torch.isfinite(feats[0].grad).all() and feats[0].grad.abs().sum() > 0


def test_memory_bank_of_an_amp_step_holds_float32():
    emb, semantic, region, tags, _ = reference_inputs(torch.float32)
    head = make_head(memory_size=1)
    with torch.autocast(**BF16):
        head.contrastive_loss_by_feat(emb.bfloat16(), make_samples(semantic, region, tags))
    head.commit_memory()
    memory = head.memory_bank.get(2, device='cpu', dtype=torch.float32)
    assert isinstance(memory, MemoryBatch) and memory.prototypes.dtype == torch.float32


def test_train_amp_without_a_gpu_stops_with_one_line(monkeypatch, tmp_path):
    """mmengine's AmpOptimWrapper refuses the CPU; tools/train.py --amp says so up front
    (docs/get_started.md), instead of an AssertionError from inside the Runner."""
    import importlib.util
    import os.path as osp
    import sys

    from tests.conftest import REPO
    spec = importlib.util.spec_from_file_location('train_tool',
                                                  osp.join(REPO, 'tools', 'train.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    import mmengine.device as dev
    for name in ('is_cuda_available', 'is_npu_available', 'is_mlu_available',
                 'is_musa_available'):
        monkeypatch.setattr(dev, name, lambda: False)
    config = osp.join(REPO, 'configs/spml/camvid_scribbles.py')
    monkeypatch.setattr(sys, 'argv', ['train.py', config, '--amp', '--work-dir', str(tmp_path)])
    with pytest.raises(SystemExit, match='--amp needs a GPU'):
        tool.main()
