"""SemanticCooccurrenceLoss(background_index): which class is not a co-occurrence tag."""
import pytest
import torch

from mmspml.models.losses import SemanticCooccurrenceLoss
from tests.test_models.test_losses.test_spml_losses import C, _batch, _kernel, _memory


@pytest.mark.parametrize('background, columns', [(0, [1, 2]), (None, [0, 1, 2]), (2, [0, 1])])
def test_background_index_selects_the_tag_columns(background, columns):
    batch, memory = _batch(), _memory()
    loss = SemanticCooccurrenceLoss(concentration=8, background_index=background)
    tags = batch.prototype_tags[:, columns]
    mem_tags = memory.tags[:, columns]
    protos = torch.cat([batch.prototypes, memory.prototypes])
    all_tags = torch.cat([tags, mem_tags])
    expected = _kernel(batch.embeddings, tags[batch.segment_ids], batch.segment_ids, protos,
                       all_tags, 8).mean()
    assert loss(batch, memory).item() == pytest.approx(expected.item(), rel=1e-12)


def test_background_changes_the_loss_and_bad_values_fail():
    batch = _batch()
    default = SemanticCooccurrenceLoss()(batch)
    assert SemanticCooccurrenceLoss(background_index=1)(batch).item() != default.item()
    with pytest.raises(ValueError, match='background_index'):
        SemanticCooccurrenceLoss(background_index=-1)
    with pytest.raises(ValueError, match='background_index'):
        SemanticCooccurrenceLoss(background_index=True)
    with pytest.raises(ValueError, match=f'background_index={C} is not a class'):
        SemanticCooccurrenceLoss(background_index=C)(batch)
