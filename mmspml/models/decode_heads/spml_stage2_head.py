"""Stage-2 classifier on the frozen stage-1 embedding (spml-method.md §5.3)."""
from typing import List, Sequence

import torch
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from torch import Tensor, nn

from mmspml.functional import l2_normalize
from .spml_head import SPMLEmbeddingMixin


@MODELS.register_module()
class SPMLStage2Head(SPMLEmbeddingMixin, BaseDecodeHead):
    """A fresh softmax classifier trained on a frozen SPML embedding with pseudo labels.

    The embedding layers (``embedding``, built by the same code as :class:`SPMLHead`'s,
    :class:`~mmspml.models.decode_heads.spml_head.SPMLEmbeddingMixin`: same names and
    shapes, any of its embedding heads and input transforms) are loaded from the stage-1
    checkpoint (``load_from``), never trained and always in eval mode; ``forward`` runs
    them under ``no_grad``. The classifier -- 3x3 conv (``D -> channels``) + BN + ReLU,
    dropout, 1x1 conv to ``C`` on ``l2n(embedding)`` -- has its own parameter names
    (``stage2_conv``, ``stage2_seg``), so the stage-1 classifier in the checkpoint is
    *not* loaded into it (a new classifier, as in §5.3). The backbone must be frozen by the config
    (``frozen_stages=4, norm_eval=True`` for ResNet).

    Training: partial CE (labels ``>= C`` ignored) on the stride-4 logits upsampled to
    the label size by ``loss_by_feat``.

    Args:
        in_channels (int | Sequence[int]): backbone channels at ``in_index`` (a
            sequence with ``input_transform='resize_concat'``), as in stage 1.
        channels (int): hidden classifier channels.
        embed_dims, embedding_head, dilations, pool_scales, psp_channels,
            embedding_upsample: as in :class:`SPMLHead` (must match stage 1:
            ``'aspp'``, ``'psp'`` or ``'conv'``).
        test_classifier_at (str): ``'embedding'`` (stride 4, as in training) or
            ``'input'`` (the reference, §8 item 12).
        dropout_ratio (float): 0.65 in the reference's stage 2.
        **kwargs: :class:`BaseDecodeHead` arguments.
    """

    def __init__(self,
                 in_channels: int,
                 channels: int = 128,
                 embed_dims: int = 64,
                 embedding_head: str = 'aspp',
                 dilations: Sequence[int] = (6, 12, 18, 24),
                 pool_scales: Sequence[int] = (1, 2, 3, 6),
                 psp_channels: int = 512,
                 embedding_upsample: int = 2,
                 test_classifier_at: str = 'embedding',
                 dropout_ratio: float = 0.65,
                 loss_decode=dict(type='PartialCrossEntropyLoss', loss_weight=1.0),
                 **kwargs) -> None:
        # mmseg's default init targets conv_seg, which this head renames
        kwargs.setdefault('init_cfg', dict(type='Normal', std=0.01,
                                           override=dict(name='stage2_seg')))
        super().__init__(in_channels, channels, dropout_ratio=dropout_ratio,
                         loss_decode=loss_decode, **kwargs)
        if test_classifier_at not in ('embedding', 'input'):
            raise ValueError("SPMLStage2Head: test_classifier_at must be 'embedding' or "
                             f"'input', got {test_classifier_at!r}")
        self._init_embedding(embed_dims, embedding_head, dilations, pool_scales,
                             psp_channels, embedding_upsample)
        embed_dims = self.embed_dims
        self.test_classifier_at = test_classifier_at
        for p in self.embedding.parameters():
            p.requires_grad_(False)
        # BaseDecodeHead always creates conv_seg; replace it by a differently named
        # layer so that the stage-1 classifier's weights are not loaded into stage 2
        del self.conv_seg
        self.stage2_conv = ConvModule(embed_dims, channels, 3, padding=1, bias=False,
                                      conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg,
                                      act_cfg=self.act_cfg)
        self.stage2_seg = nn.Conv2d(channels, self.out_channels, 1)

    def train(self, mode: bool = True):
        super().train(mode)
        self.embedding.eval()  # frozen: running statistics, no dropout (§5.3)
        return self

    def forward(self, inputs) -> Tensor:
        """Raw embedding ``[B, D, h, w]`` (stride 4), computed without gradient."""
        with torch.no_grad():
            return self.embed(inputs)

    def classify(self, embedding: Tensor) -> Tensor:
        x = self.stage2_conv(l2_normalize(embedding, dim=1))
        if self.dropout is not None:
            x = self.dropout(x)
        return self.stage2_seg(x)

    def cls_seg(self, feat: Tensor) -> Tensor:
        return self.classify(feat)

    def predict(self, inputs, batch_img_metas: List[dict], test_cfg) -> Tensor:
        emb = self.forward(inputs)
        if self.test_classifier_at == 'input':
            size = batch_img_metas[0].get('pad_shape', batch_img_metas[0]['img_shape'])[:2]
            emb = resize(emb, size=size, mode='bilinear', align_corners=False)
        return self.predict_by_feat(self.classify(emb), batch_img_metas)

    def loss(self, inputs, batch_data_samples, train_cfg) -> dict:
        return self.loss_by_feat(self.classify(self.forward(inputs)), batch_data_samples)

    def _stack_batch_gt(self, batch_data_samples) -> Tensor:
        label = super()._stack_batch_gt(batch_data_samples)
        return label.masked_fill(label >= self.num_classes, self.ignore_index)
