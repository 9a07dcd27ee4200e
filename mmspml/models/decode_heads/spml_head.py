"""SPML embedding head (spml-method.md §2.2, §2.4, §3, §4)."""
import warnings
from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.decode_heads.psp_head import PPM
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from torch import Tensor, nn

from mmspml.functional import SegmentBatch, l2_normalize
from mmspml.functional._utils import check_scalar, full_precision
from mmspml.utils.dist import all_gather_cat, all_gather_sizes, get_rank
from ..utils import PrototypeMemoryBank


class _ASPPSum(nn.Module):
    """DeepLab-v2 ASPP: parallel dilated 3x3 convs (bias, no BN/ReLU), outputs summed."""

    def __init__(self, in_channels: int, out_channels: int, dilations: Sequence[int]):
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv2d(in_channels, out_channels, 3, padding=d, dilation=d, bias=True)
            for d in dilations)

    def forward(self, x: Tensor) -> Tensor:
        return sum(conv(x) for conv in self.convs)


class _PSPEmbedding(nn.Module):
    """PSP pyramid pooling + 3x3 bottleneck (BN, ReLU) + 1x1 conv to D (with bias)."""

    def __init__(self, in_channels, out_channels, channels, pool_scales, conv_cfg,
                 norm_cfg, act_cfg, align_corners):
        super().__init__()
        self.ppm = PPM(pool_scales, in_channels, channels, conv_cfg=conv_cfg,
                       norm_cfg=norm_cfg, act_cfg=act_cfg, align_corners=align_corners)
        self.bottleneck = ConvModule(in_channels + len(pool_scales) * channels, channels, 3,
                                     padding=1, conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                                     act_cfg=act_cfg)
        self.proj = nn.Conv2d(channels, out_channels, 1, bias=True)

    def forward(self, x: Tensor) -> Tensor:
        x = torch.cat([x] + self.ppm(x), dim=1)
        return self.proj(self.bottleneck(x))


class _ConvEmbedding(nn.Module):
    """Light projection: 1x1 conv-BN-ReLU to ``channels``, then 1x1 conv to D (with bias).

    For fused multi-level features at stride 4, where the dilated 3x3 convs of the ASPP
    would cost most of a CPU step.

    :meth:`forward_levels` computes the same function on the levels *before*
    ``resize_concat``: a 1x1 conv is linear per pixel and bilinear resizing is linear per
    channel, so ``conv(cat(resize(x_l)))`` equals ``sum_l resize(W_l x_l)`` (``W_l`` the
    weight's columns of level ``l``). Each level takes the cheaper order: a level with no
    more channels than ``channels`` is resized and convolved at the output size, a wider
    one (EfficientNet-Lite0's 320-channel stride-32 level) is convolved at its own size
    and its ``channels`` outputs resized. The parameters are the same; only the rounding
    of float sums differs (tests/test_models/test_spml_head_inputs.py).
    """

    def __init__(self, in_channels, out_channels, channels, conv_cfg, norm_cfg, act_cfg):
        super().__init__()
        self.bottleneck = ConvModule(in_channels, channels, 1, conv_cfg=conv_cfg,
                                     norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.proj = nn.Conv2d(channels, out_channels, 1, bias=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.proj(self.bottleneck(x))

    @property
    def fuses_levels(self) -> bool:
        """Whether :meth:`forward_levels` applies (a plain conv first in the module)."""
        b = self.bottleneck
        return type(b.conv) is nn.Conv2d and tuple(b.order) == ('conv', 'norm', 'act')

    def forward_levels(self, levels: Sequence[Tensor], align_corners: bool) -> Tensor:
        """``forward(cat(resize(level) to levels[0]'s size))`` without that concatenation."""
        b, conv = self.bottleneck, self.bottleneck.conv
        size = levels[0].shape[2:]
        weights = torch.split(conv.weight, [x.shape[1] for x in levels], dim=1)
        near, near_w, out = [], [], None
        for x, w in zip(levels, weights):
            if x.shape[2:] == size or x.shape[1] <= w.shape[0]:
                if x.shape[2:] != size:
                    x = resize(x, size=size, mode='bilinear', align_corners=align_corners)
                near.append(x)
                near_w.append(w)
            else:
                y = resize(F.conv2d(x, w), size=size, mode='bilinear',
                           align_corners=align_corners)
                out = y if out is None else out + y
        y = F.conv2d(torch.cat(near, dim=1) if len(near) > 1 else near[0],
                     torch.cat(near_w, dim=1) if len(near_w) > 1 else near_w[0], conv.bias)
        y = y if out is None else y + out
        if b.with_norm:
            y = getattr(b, b.norm_name)(y)
        if b.with_activation:
            y = b.activate(y)
        return self.proj(y)


class SPMLEmbeddingMixin:
    """The embedding network of every SPML head (:class:`SPMLHead` and its subclasses,
    :class:`~mmspml.models.decode_heads.SPMLStage2Head`): one copy, so that a stage-2
    head (or any other reader of a stage-1 checkpoint) builds exactly the layers, with
    the same names (``embedding.*``), that stage 1 trained.

    For a ``BaseDecodeHead`` subclass: call :meth:`_init_embedding` after
    ``BaseDecodeHead.__init__`` (it needs ``in_channels`` after ``input_transform``,
    ``conv_cfg``, ``norm_cfg``, ``act_cfg`` and ``align_corners``).
    """

    EMBEDDING_HEADS = ('aspp', 'psp', 'conv')

    def _init_embedding(self, embed_dims: int, embedding_head: str,
                        dilations: Sequence[int], pool_scales: Sequence[int],
                        psp_channels: int, embedding_upsample: int) -> None:
        name = type(self).__name__
        embed_dims = check_scalar(embed_dims, f'{name}: embed_dims', integer=True, low=1)
        if embedding_head not in self.EMBEDDING_HEADS:
            raise ValueError(f"{name}: embedding_head must be 'aspp', 'psp' or 'conv', "
                             f'got {embedding_head!r}')
        if self.input_transform not in (None, 'resize_concat'):
            raise ValueError(f'{name} takes one feature map (input_transform=None) or '
                             "several fused into one (input_transform='resize_concat'), "
                             f'got {self.input_transform!r}')
        self.embed_dims = embed_dims
        self.embedding_upsample = int(embedding_upsample)
        if embedding_head == 'aspp':
            self.embedding = _ASPPSum(self.in_channels, embed_dims, dilations)
        elif embedding_head == 'conv':
            self.embedding = _ConvEmbedding(self.in_channels, embed_dims, psp_channels,
                                            self.conv_cfg, self.norm_cfg, self.act_cfg)
        else:
            self.embedding = _PSPEmbedding(self.in_channels, embed_dims, psp_channels,
                                           pool_scales, self.conv_cfg, self.norm_cfg,
                                           self.act_cfg, self.align_corners)

    def embed(self, inputs) -> Tensor:
        """Raw embedding ``[B, D, h, w]`` of the backbone features: the selected level(s)
        (fused by ``input_transform``), the embedding network, then the bilinear
        ``embedding_upsample`` (stride 8 -> 4 for dilated backbones, §2.2)."""
        if self.input_transform == 'resize_concat' and getattr(self.embedding,
                                                               'fuses_levels', False):
            # the same function without materialising the concatenated levels (cheaper)
            emb = self.embedding.forward_levels([inputs[i] for i in self.in_index],
                                                self.align_corners)
        else:
            emb = self.embedding(self._transform_inputs(inputs))
        if self.embedding_upsample != 1:
            emb = F.interpolate(emb, scale_factor=self.embedding_upsample, mode='bilinear',
                                align_corners=False)
        return emb


@MODELS.register_module()
class SPMLHead(SPMLEmbeddingMixin, BaseDecodeHead):
    """Embedding head trained with SPML's pixel-to-segment contrastive losses.

    ``forward`` returns the raw ``D``-dim embedding at stride 4 (the stride-8 head output
    upsampled x2, §2.2). Training (:meth:`loss`) runs, in one pass:

    * the segment generator (k-means + split, §3) on the embedding and the weak label;
    * every loss in ``contrastive_losses`` (§4.2-§4.5) against the prototypes of the
      whole batch, gathered over processes with autograd (§4.9), plus the memory bank
      (§4.8) for the losses that use it;
    * the stage-1 softmax classifier (3x3 conv D->channels, BN, ReLU, dropout, 1x1 conv,
      §2.4) on the *detached*, L2-normalised embedding with ``loss_decode`` (a partial
      CE; its ``loss_weight`` plays the role of the reference's ``w_ann`` factor, §4.6).

    Each loss is logged under its own key (``loss_sem_ann``, ``loss_sem_occ``,
    ``loss_img_sim``, ``loss_feat_aff``, ``loss_ce``); diagnostics use keys without
    "loss" (``acc_seg``, ``acc_proto``: top-5 prototype retrieval accuracy, §4.7).

    Args:
        in_channels (int | Sequence[int]): backbone channels at ``in_index`` (a
            sequence with ``input_transform="resize_concat"``: the levels are resized to
            the first one and concatenated).
        channels (int): hidden channels of the classifier (``2 * embed_dims`` in §2.4).
        embed_dims (int): ``D`` (64 VOC, 32 DensePose).
        embedding_head (str): ``'aspp'`` (sum of dilated convs, VOC), ``'psp'``
            (DensePose) or ``'conv'`` (1x1 conv-BN-ReLU with ``psp_channels`` hidden
            channels + 1x1 conv: a light head for fused multi-level features).
        dilations (tuple[int]): ASPP dilations (6, 12, 18, 24).
        pool_scales (tuple[int]): PSP pooling scales (1, 2, 3, 6).
        psp_channels (int): PSP branch/bottleneck channels (512); hidden channels of
            the ``'conv'`` embedding.
        embedding_upsample (int): factor from the head output to the embedding (2).
        segment_generator (dict): config of :class:`SegmentGenerator`.
        contrastive_losses (list[dict]): SPML loss configs (each has ``loss_name``).
        memory_size (int): iterations kept in the memory bank (2 VOC, 0 DensePose); it
            is filled by :class:`~mmspml.engine.hooks.SPMLMemoryBankHook`.
        acc_proto_interval (int): the prototype-retrieval diagnostic ``acc_proto``
            (§4.7; every prototype queries all of them, a ``[K, K]`` similarity and a
            top-5, about a third of a CamVid mix-in step on the CPU) is computed on the
            first training step and then every ``acc_proto_interval`` steps (default 10,
            mmengine's logging interval); the losses and gradients never depend on it.
            1 = every step (the reference); 0 = never.
        test_classifier_at (str): ``'embedding'`` (default): the classifier runs on the
            stride-4 embedding at test time as in training and its logits are upsampled;
            ``'input'``: the reference's behaviour, classifier on the embedding upsampled
            to the input size (§8 item 12).
        dropout_ratio (float): classifier dropout (0.75 stage 1).
        dropout_type (str): ``'element'`` (default): element-wise ``nn.Dropout`` as in
            §2.4; ``'channel'``: mmseg's ``nn.Dropout2d`` (whole channels).
        **kwargs: :class:`BaseDecodeHead` arguments (``num_classes``, ``norm_cfg``,
            ``loss_decode``, ``in_index``, ``ignore_index``, ...).
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
                 segment_generator: dict = dict(type='SegmentGenerator'),
                 contrastive_losses: Optional[List[dict]] = None,
                 memory_size: int = 0,
                 acc_proto_interval: int = 10,
                 test_classifier_at: str = 'embedding',
                 dropout_ratio: float = 0.75,
                 dropout_type: str = 'element',
                 loss_decode=dict(type='PartialCrossEntropyLoss', loss_weight=1.0),
                 **kwargs) -> None:
        super().__init__(in_channels, channels, dropout_ratio=dropout_ratio,
                         loss_decode=loss_decode, **kwargs)
        if dropout_type not in ('element', 'channel'):
            raise ValueError("SPMLHead: dropout_type must be 'element' or 'channel', got "
                             f'{dropout_type!r}')
        if dropout_type == 'element' and self.dropout is not None:
            self.dropout = nn.Dropout(dropout_ratio)  # §2.4 (mmseg builds Dropout2d)
        if test_classifier_at not in ('embedding', 'input'):
            raise ValueError("SPMLHead: test_classifier_at must be 'embedding' or 'input', "
                             f'got {test_classifier_at!r}')
        self._init_embedding(embed_dims, embedding_head, dilations, pool_scales,
                             psp_channels, embedding_upsample)
        embed_dims = self.embed_dims
        if channels != 2 * embed_dims:
            raise ValueError(f'SPMLHead: channels (the classifier width) must be 2 * '
                             f'embed_dims = {2 * embed_dims} (spec §2.4: 3x3 conv D -> 2D), '
                             f'got channels={channels!r}, embed_dims={embed_dims}')
        self.test_classifier_at = test_classifier_at
        self.classifier_conv = ConvModule(embed_dims, channels, 3, padding=1, bias=False,
                                          conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg,
                                          act_cfg=self.act_cfg)
        segment_generator = dict(dict(type='SegmentGenerator'), **segment_generator)
        if segment_generator.setdefault('ignore_index', self.ignore_index) != self.ignore_index:
            raise ValueError(
                f'SPMLHead: segment_generator.ignore_index='
                f'{segment_generator["ignore_index"]!r} differs from the head\'s ignore_index='
                f'{self.ignore_index}; set ignore_index on the head only')
        self.segment_generator = MODELS.build(segment_generator)
        self.contrastive_losses = nn.ModuleList(
            self._build_loss(cfg, i) for i, cfg in enumerate(contrastive_losses or []))
        names = [m.loss_name for m in self.contrastive_losses]
        if len(set(names)) != len(names):
            raise ValueError(f'SPMLHead: contrastive loss names must be unique, got {names}')
        self.memory_bank = PrototypeMemoryBank(memory_size)
        self.acc_proto_interval = check_scalar(acc_proto_interval,
                                               'SPMLHead: acc_proto_interval', integer=True,
                                               low=0)
        self._contrastive_steps = 0
        self._pending_memory = None
        self._warned_memory = False
        self._warned_tags = False

    @staticmethod
    def _build_loss(cfg, i: int) -> nn.Module:
        where = f'SPMLHead: contrastive_losses[{i}]'
        if not isinstance(cfg, dict) or 'type' not in cfg:
            raise ValueError(f'{where} must be a dict with a "type", got {cfg!r}')
        if isinstance(cfg['type'], str) and MODELS.get(cfg['type']) is None:
            raise ValueError(f'{where}: unknown loss type {cfg["type"]!r} (is it registered '
                             "in mmseg's MODELS? SPML losses: SemanticAnnotationLoss, "
                             'SemanticCooccurrenceLoss, ImageSimilarityLoss, '
                             'FeatureAffinityLoss)')
        try:
            module = MODELS.build(cfg)
        except (TypeError, ValueError) as exc:
            raise ValueError(f'{where} ({cfg["type"]}): {exc}') from exc
        name = getattr(module, 'loss_name', None)
        if not isinstance(name, str) or not name.startswith('loss_'):
            raise ValueError(f"{where} ({cfg['type']}): loss_name must start with 'loss_' "
                             f'(mmengine sums only those keys), got {name!r}')
        return module

    # ------------------------------------------------------------------ network
    def forward(self, inputs) -> Tensor:
        """Raw embedding ``[B, D, h, w]`` at stride ``8 / embedding_upsample``."""
        return self.embed(inputs)

    def classify(self, embedding: Tensor) -> Tensor:
        """Class logits from a (raw) embedding; the classifier sees ``l2n(embedding)``."""
        return self.cls_seg(self.classifier_conv(l2_normalize(embedding, dim=1)))

    # ------------------------------------------------------------------ inference
    def predict(self, inputs, batch_img_metas: List[dict], test_cfg) -> Tensor:
        emb = self.forward(inputs)
        if self.test_classifier_at == 'input':
            size = batch_img_metas[0].get('pad_shape', batch_img_metas[0]['img_shape'])[:2]
            emb = resize(emb, size=size, mode='bilinear', align_corners=False)
        return self.predict_by_feat(self.classify(emb), batch_img_metas)

    # ------------------------------------------------------------------ training
    def loss(self, inputs, batch_data_samples, train_cfg) -> dict:
        emb = self.forward(inputs)
        losses = self.loss_by_feat(self.classify(emb.detach()), batch_data_samples)
        losses.update(self.contrastive_loss_by_feat(emb, batch_data_samples))
        return losses

    def _stack_batch_gt(self, batch_data_samples) -> Tensor:
        # labels for the CE branch and ``acc_seg``: unlabeled pixels (>= C) are ignored,
        # not counted as misclassified
        label = super()._stack_batch_gt(batch_data_samples)
        return label.masked_fill(label >= self.num_classes, self.ignore_index)

    def _stack_field(self, samples, field: str, size) -> Optional[Tensor]:
        """``[B, H, W]`` long stack of a PixelData field, padded with ignore to ``size``."""
        maps = []
        missing = [i for i, s in enumerate(samples) if field not in s]
        if len(missing) == len(samples):
            return None
        if missing:
            s = samples[missing[0]]
            raise ValueError(
                f'{field} is missing in sample {missing[0]} ({s.metainfo.get("img_path")}) '
                f'while other samples of the batch have it; every sample needs it (or none)')
        for s in samples:
            m = s.get(field).data[0].long()
            pad = (0, size[1] - m.shape[-1], 0, size[0] - m.shape[-2])
            if min(pad) < 0:
                raise ValueError(f'{field} of {s.metainfo.get("img_path")} is larger '
                                 f'({tuple(m.shape)}) than the label {tuple(size)}')
            maps.append(F.pad(m, pad, value=self.ignore_index) if any(pad) else m)
        return torch.stack(maps)

    @staticmethod
    def _weak_label(sample) -> Tensor:
        # PackSPMLInputs puts the weak label (unlabeled pixels kept) in gt_weak_seg and
        # the label for plain CE heads (unlabeled -> ignore) in gt_sem_seg
        field = sample.gt_weak_seg if 'gt_weak_seg' in sample else sample.gt_sem_seg
        return field.data[0].long()

    def _stack_weak_labels(self, samples) -> Tensor:
        """``[B, H, W]`` weak labels (unlabeled index kept), padded at the bottom/right
        with ignore to the padded input size (:meth:`_padded_input_size`)."""
        maps = [self._weak_label(s) for s in samples]
        size = self._padded_input_size(samples, maps)
        out = maps[0].new_full((len(maps), *size), self.ignore_index)
        for i, (m, s) in enumerate(zip(maps, samples)):
            img = s.metainfo.get('img_shape')
            if img is not None and (m.shape[0] > img[0] or m.shape[1] > img[1]):
                raise ValueError(
                    f'the weak label of {s.metainfo.get("img_path")} is larger '
                    f'({tuple(m.shape)}) than its image {tuple(img[:2])}: the weak label '
                    'must follow the image through every resize/crop/flip of the pipeline')
            out[i, :m.shape[0], :m.shape[1]] = m
        return out

    @staticmethod
    def _padded_input_size(samples, maps) -> tuple:
        """``(H, W)`` of the batch input the embedding was computed on.

        ``SegDataPreProcessor`` pads every image (and ``gt_sem_seg``) at the bottom/right
        to its ``size`` (or to the batch maximum rounded to ``size_divisor``) and records
        the result as ``pad_shape``; the weak label and over-segmentation must cover the
        same grid, anchored at the top-left, or they would be stretched onto the padded
        embedding. Without ``pad_shape`` (no data preprocessor) the largest label of the
        batch is the input size."""
        shapes = {tuple(s.metainfo['pad_shape'][:2]) for s in samples
                  if s.metainfo.get('pad_shape') is not None}
        if len(shapes) > 1:
            raise ValueError(f'the samples of one batch have different pad_shape {shapes}; '
                             'the data preprocessor pads them to one input size')
        largest = tuple(max(m.shape[i] for m in maps) for i in range(2))
        if not shapes:
            return largest
        size = shapes.pop()
        if largest[0] > size[0] or largest[1] > size[1]:
            i = next(i for i, m in enumerate(maps)
                     if m.shape[0] > size[0] or m.shape[1] > size[1])
            raise ValueError(
                f'the weak label of {samples[i].metainfo.get("img_path")} is larger '
                f'({tuple(maps[i].shape)}) than the padded input {size} (pad_shape)')
        return size

    def _color_images(self, samples, size) -> Optional[Tensor]:
        """``[B, 3, H, W]`` images (``img_rgb``) for the colour features, or None.

        A smaller image is padded bottom/right with its own mean colour (the reference pads
        the normalised image with 0, i.e. the normalisation mean); padded pixels are
        ignored by the clustering and only enter the per-image normalisation.
        """
        if not getattr(self.segment_generator, 'use_color', False):
            return None
        images = []
        for i, s in enumerate(samples):
            if 'img_rgb' not in s:
                raise ValueError(
                    f'SPMLHead: sample {i} ({s.metainfo.get("img_path")}) has no img_rgb, '
                    'which segment_generator.use_color needs; add '
                    'dict(type="PackSPMLInputs", pack_image=True) to the train pipeline')
            img = s.img_rgb.data.float()
            pad = (0, size[1] - img.shape[-1], 0, size[0] - img.shape[-2])
            if min(pad) < 0:
                raise ValueError(f'img_rgb of {s.metainfo.get("img_path")} is larger '
                                 f'({tuple(img.shape)}) than the label {tuple(size)}')
            if any(pad):
                mean = img.mean(dim=(1, 2), keepdim=True)
                img = F.pad(img - mean, pad) + mean
            images.append(img)
        return torch.stack(images)

    def _image_tags(self, samples, semantic: Tensor) -> Tensor:
        tags = semantic.new_zeros(len(samples), self.num_classes, dtype=torch.bool)
        for i, s in enumerate(samples):
            t = s.metainfo.get('img_tags')
            if t is None:  # no AddImageTags in the pipeline: tags of the cropped label
                if not self._warned_tags:
                    warnings.warn(
                        f'SPMLHead: no img_tags in the metainfo of {s.metainfo.get("img_path")}'
                        '; image tags are taken from the (cropped) training label. Add '
                        'dict(type="AddImageTags") to the train pipeline before any crop to '
                        'take them from the full label (spec §1.3)')
                    self._warned_tags = True
                v = semantic[i].unique()
                tags[i, v[v < self.num_classes]] = True
            else:
                t = torch.as_tensor(t, device=semantic.device).bool()
                if t.numel() != self.num_classes:
                    raise ValueError(f'img_tags of {s.metainfo.get("img_path")} has '
                                     f'{t.numel()} classes, the head {self.num_classes}')
                tags[i] = t
        return tags

    @full_precision
    def contrastive_loss_by_feat(self, embedding: Tensor, batch_data_samples) -> dict:
        """The SPML losses of this process's images against the global prototypes.

        Under mixed precision (``--amp``) the segments, prototypes and losses are
        computed in float32 outside autocast (a float16/bfloat16 embedding is cast;
        gradients flow back through the cast)."""
        if not len(self.contrastive_losses):
            return {}
        semantic = self._stack_weak_labels(batch_data_samples)
        overseg = self._stack_field(batch_data_samples, 'gt_overseg', semantic.shape[-2:])
        tags = self._image_tags(batch_data_samples, semantic)

        # globally unique image ids: rank r's images follow those of ranks < r
        image_counts = all_gather_sizes(len(batch_data_samples), embedding.device)
        rank = get_rank()
        seg = self.segment_generator(embedding, semantic, overseg,
                                     image_id_offset=sum(image_counts[:rank]),
                                     image=self._color_images(batch_data_samples,
                                                              semantic.shape[-2:]))

        # gather every process's prototypes (with autograd, §4.9)
        seg_counts = all_gather_sizes(seg.prototypes.shape[0], embedding.device)
        gather = lambda t: all_gather_cat(t, seg_counts)  # noqa: E731
        prototypes = gather(seg.prototypes)
        prototypes_with_loc = gather(seg.prototypes_with_loc)
        proto_semantic = gather(seg.prototype_semantic)
        proto_region = gather(seg.prototype_region)
        proto_images = gather(seg.prototype_image_ids)
        all_tags = all_gather_cat(tags, image_counts, differentiable=False)
        batch = SegmentBatch(
            embeddings=seg.embeddings, embeddings_with_loc=seg.embeddings_with_loc,
            semantic=seg.semantic, region=seg.region, image_ids=seg.image_ids,
            segment_ids=seg.segment_ids + sum(seg_counts[:rank]),
            prototypes=prototypes, prototypes_with_loc=prototypes_with_loc,
            prototype_semantic=proto_semantic, prototype_region=proto_region,
            prototype_image_ids=proto_images, prototype_tags=all_tags[proto_images],
            num_classes=self.num_classes)
        num_images = sum(image_counts)
        memory = self.memory_bank.get(num_images, device=embedding.device,
                                      dtype=prototypes.dtype)

        losses = {}
        for loss_module in self.contrastive_losses:
            losses[loss_module.loss_name] = loss_module(batch, memory)
        # Every process must reach the backward of the all-gather (a collective), even
        # one whose losses happen not to involve the gathered prototypes.
        first = self.contrastive_losses[0].loss_name
        losses[first] = losses[first] + 0.0 * (prototypes.sum() + prototypes_with_loc.sum())

        interval = self.acc_proto_interval
        if interval and self._contrastive_steps % interval == 0:
            with torch.no_grad():  # diagnostics of losses that offer one (§4.7 accuracy)
                for loss_module in self.contrastive_losses:
                    if hasattr(loss_module, 'retrieval_accuracy'):
                        losses['acc_proto'] = loss_module.retrieval_accuracy(batch, memory)
        self._contrastive_steps += 1
        if self.memory_bank.size:
            if self._pending_memory is not None and not self._warned_memory:
                warnings.warn('SPMLHead: memory_size > 0 but the memory bank is never '
                              'updated; add dict(type="SPMLMemoryBankHook") to '
                              'custom_hooks')
                self._warned_memory = True
            self._pending_memory = (prototypes.detach(), proto_semantic,
                                    batch.prototype_tags, proto_images, num_images)
        return losses

    def commit_memory(self) -> None:
        """Push the last training step's prototypes into the memory bank (§4.8).

        Called by :class:`~mmspml.engine.hooks.SPMLMemoryBankHook` after the optimiser
        step; the stored prototypes are those computed with the pre-update weights.
        """
        if self._pending_memory is not None:
            self.memory_bank.push(*self._pending_memory)
            self._pending_memory = None
