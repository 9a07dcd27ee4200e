import torch
from mmseg.models.losses import CrossEntropyLoss
from mmseg.registry import MODELS


@MODELS.register_module()
class PartialCrossEntropyLoss(CrossEntropyLoss):
    """Cross-entropy on weak labels: ignores both 255 and unlabeled pixels.

    Weak labels mark unlabeled-but-valid pixels with an index ``>= C`` (the unlabeled
    index, see :mod:`mmspml.datasets.weak_seg_dataset`). mmseg's ``CrossEntropyLoss``
    would index out of range on them; here every label ``>= C`` (C = channels of the
    logits) is mapped to ``ignore_index`` first. This is the partial-CE baseline and the
    CE branch of SPML's stage 1 (spml-method.md §4.6: "CE maps >= C to 255").
    Arguments are those of ``mmseg.models.losses.CrossEntropyLoss``
    (default ``loss_name='loss_ce'``, but ``avg_non_ignore=True``: the mean is over
    labeled pixels), with ``use_sigmoid`` / ``use_mask`` not allowed. With
    ``class_weight`` the mean is weighted as in ``torch.nn.functional.cross_entropy``:
    the sum of the weighted losses over the sum of the labeled pixels' weights (mmseg
    1.2.2 computes that divisor by indexing ``class_weight`` with every label, ignored
    ones included, which fails with an ``IndexError`` as soon as a pixel is ignored).
    """

    def __init__(self, **kwargs):
        if kwargs.get('use_sigmoid') or kwargs.get('use_mask'):
            raise ValueError('PartialCrossEntropyLoss supports softmax CE only '
                             '(use_sigmoid=False, use_mask=False)')
        # average over labeled pixels (PyTorch's convention), not over all pixels
        kwargs.setdefault('avg_non_ignore', True)
        super().__init__(**kwargs)

    def forward(self, cls_score, label, weight=None, avg_factor=None,
                reduction_override=None, ignore_index=255, **kwargs):
        num_classes = cls_score.shape[1]
        label = torch.where(label >= num_classes, label.new_tensor(ignore_index), label)
        valid = (label != ignore_index).sum()
        if valid == 0:
            # all pixels ignored: a zero that keeps the graph instead of NaN (§8 item 17)
            return cls_score.sum() * 0.0
        reduction = reduction_override if reduction_override else self.reduction
        if (self.class_weight is not None and avg_factor is None and reduction == 'mean'
                and self.avg_non_ignore):
            class_weight = cls_score.new_tensor(self.class_weight)
            avg_factor = class_weight[label[label != ignore_index]].sum()
        return super().forward(cls_score, label, weight=weight, avg_factor=avg_factor,
                               reduction_override=reduction_override,
                               ignore_index=ignore_index, **kwargs)
