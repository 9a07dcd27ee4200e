"""The fast SPML step against the authors' algorithm (tools/_spml_oracle.py), float64.

A small scribble batch (2 images, 32x32 stride-4 embedding, memory of 2 iterations)
through ``SPMLHead.contrastive_loss_by_feat`` and through the oracle (per-image loop,
``torch.unique`` per image, exp-then-sum kernel): the three weighted losses, the
prototype accuracy and the gradient w.r.t. the raw embedding must agree.
"""
import pytest
import torch

from tools import _spml_oracle as oracle
from tools.benchmark_spml import build_head, head_inputs, run_mmspml, run_oracle


@pytest.mark.parametrize('seed', [0, 1])
@pytest.mark.parametrize('chunk_size', [None, 97])
def test_head_equals_oracle_values_and_gradients(seed, chunk_size):
    data = oracle.synthetic_batch(images=2, size=(32, 32), dims=8, regions=6, pad_rows=5,
                                  seed=seed, dtype=torch.float64)
    head = build_head(data['num_classes'], torch.float64, dims=8, chunk_size=chunk_size)
    samples = head_inputs(data, head, torch.float64)
    ours, emb_ours = run_mmspml(head, data['embedding'], samples, backward=True)
    ref, emb_ref = run_oracle(data, data['embedding'], backward=True)
    assert ref['num_prototypes'] > ref['num_segments'] > 20  # memory is used
    for key, name in (('loss_sem_ann', 'sem_ann'), ('loss_sem_occ', 'sem_occ'),
                      ('loss_img_sim', 'img_sim')):
        assert ours[key].dtype == torch.float64
        torch.testing.assert_close(ours[key].detach(), ref[name].detach(), rtol=1e-6, atol=0,
                                   msg=name)
    assert ours['acc_proto'].item() == pytest.approx(ref['accuracy'].item(), abs=1e-12)
    scale = emb_ref.grad.abs().max()
    assert scale > 0
    torch.testing.assert_close(emb_ours.grad / scale, emb_ref.grad / scale, rtol=0, atol=1e-6)
