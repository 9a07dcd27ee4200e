"""PartialCrossEntropyLoss against mmseg's CrossEntropyLoss(avg_non_ignore=True): the same
mean over labeled pixels and, without a labeled pixel, both 0 (mmseg divides by
``avg_factor + eps``); only the partial CE takes weak labels whose unlabeled index is still
in the label (>= C)."""
import pytest
import torch
from mmseg.models.losses import CrossEntropyLoss

from mmspml.models.losses.partial_cross_entropy_loss import PartialCrossEntropyLoss


def test_same_mean_as_mmseg_avg_non_ignore_and_zero_without_labels():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 3, 5, 6, generator=g, requires_grad=True)
    label = torch.randint(0, 3, (2, 5, 6), generator=g)
    label[:, :2] = 255
    ce = CrossEntropyLoss(avg_non_ignore=True)
    partial = PartialCrossEntropyLoss()

    def mmseg_ce(x, y):  # as a decode head calls it
        return ce(x, y, ignore_index=255)

    torch.testing.assert_close(partial(logits, label), mmseg_ce(logits, label))

    ignored = torch.full_like(label, 255)
    for loss in (mmseg_ce, partial):  # no NaN in either (mmseg: sum / (0 + eps))
        out = loss(logits, ignored)
        assert out.item() == 0.0
        out.backward()
        assert torch.isfinite(logits.grad).all()

    weak = label.clone()
    weak[:, 2] = 3  # the unlabeled index (C): only the partial CE maps it to ignore
    torch.testing.assert_close(partial(logits, weak), mmseg_ce(logits, label.masked_fill(
        weak == 3, 255)))
    with pytest.raises((IndexError, RuntimeError)):
        mmseg_ce(logits, weak)
