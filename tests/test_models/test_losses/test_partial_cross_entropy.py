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


def test_class_weight_is_torch_weighted_mean_over_labeled_pixels():
    """class_weight with ignored and unlabeled pixels: PyTorch's weighted mean (mmseg 1.2.2's
    own divisor raises IndexError on the ignore index)."""
    import torch.nn.functional as F
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(2, 3, 5, 6, generator=g, dtype=torch.float64, requires_grad=True)
    label = torch.randint(0, 3, (2, 5, 6), generator=g)
    label[0, :2] = 255
    label[1, :, :3] = 3  # the unlabeled index of weak labels
    w = [0.5, 2.0, 1.5]
    loss = PartialCrossEntropyLoss(class_weight=w)(logits, label)
    expected = F.cross_entropy(logits, torch.where(label >= 3, 255, label),
                               weight=torch.tensor(w, dtype=torch.float64), ignore_index=255)
    # (mmseg divides by avg_factor + float32 eps)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    with pytest.raises(IndexError):  # what the partial CE avoids
        CrossEntropyLoss(class_weight=w, avg_non_ignore=True)(logits, torch.where(
            label >= 3, 255, label), ignore_index=255)
