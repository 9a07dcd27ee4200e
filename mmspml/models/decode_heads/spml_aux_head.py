"""SPML as an auxiliary head: add the pixel-to-segment losses to any mmseg model."""
from typing import List

from mmseg.registry import MODELS
from torch import Tensor

from .spml_head import SPMLHead


@MODELS.register_module()
class SPMLAuxHead(SPMLHead):
    """SPML's embedding and contrastive losses for an ``EncoderDecoder``'s ``auxiliary_head``.

    The model keeps its own ``decode_head`` (DeepLabV3+, SegFormer, PSPNet, ...), trained
    on the labeled pixels: :class:`~mmspml.datasets.transforms.PackSPMLInputs` gives it
    ``gt_sem_seg`` with unlabeled pixels set to ignore, so its ``CrossEntropyLoss`` is
    the partial cross-entropy and its ``acc_seg`` counts labeled pixels only. This head
    computes the SPML embedding from the features it is given (``in_index``; several
    levels are fused with ``input_transform='resize_concat'``), runs the segment
    generator on it and the weak label (``gt_weak_seg``) and adds the chosen SPML losses
    (logged as ``aux.loss_sem_ann``, ...). The gradients of those losses reach the shared
    backbone; the head has no classifier and predicts nothing
    (``EncoderDecoder`` never calls an auxiliary head at test time).

    Args:
        in_channels (int | Sequence[int]): channels of the input feature map(s).
        embed_dims (int): ``D``.
        embedding_head (str): ``'aspp'`` (sum of dilated 3x3 convs, spec §2.2) or
            ``'psp'``; see :class:`SPMLHead`.
        embedding_upsample (int): factor from the fused features to the embedding
            (2 for stride-8 features: the embedding is at stride 4 as in the paper).
        segment_generator, contrastive_losses, memory_size: as in :class:`SPMLHead`.
        **kwargs: :class:`SPMLHead` / ``BaseDecodeHead`` arguments (``in_index``,
            ``input_transform``, ``num_classes``, ``norm_cfg``, ``dilations``, ...).
            ``num_classes`` must be the model's: it tells classes from unlabeled pixels.
    """

    def __init__(self, in_channels, contrastive_losses=None, **kwargs) -> None:
        if not contrastive_losses:
            raise ValueError('SPMLAuxHead: contrastive_losses must name at least one SPML '
                             'loss (an auxiliary head without a loss trains nothing)')
        # no classifier; BaseDecodeHead and SPMLHead's checks still ask for its width
        kwargs.setdefault('channels', 2 * kwargs.get('embed_dims', 64))
        kwargs.setdefault('dropout_ratio', 0.0)
        # BaseDecodeHead's default init_cfg targets conv_seg, which is removed below
        kwargs.setdefault('init_cfg', None)
        super().__init__(in_channels, contrastive_losses=contrastive_losses, **kwargs)
        # the classifier of SPMLHead (and BaseDecodeHead's conv_seg) are not used: remove
        # them so that they hold no parameters (DDP would report them as unused)
        del self.classifier_conv
        del self.conv_seg
        self.dropout = None

    def classify(self, embedding: Tensor) -> Tensor:
        raise RuntimeError('SPMLAuxHead has no classifier; the model predicts with its '
                           'decode_head')

    def predict(self, inputs, batch_img_metas: List[dict], test_cfg) -> Tensor:
        raise RuntimeError('SPMLAuxHead is an auxiliary head and predicts nothing; use it '
                           'as model.auxiliary_head, not as decode_head')

    def loss(self, inputs, batch_data_samples, train_cfg) -> dict:
        """SPML losses only (keys ``loss_<name>`` and ``acc_proto``)."""
        return self.contrastive_loss_by_feat(self.forward(inputs), batch_data_samples)
