"""The Gated CRF loss as an mmseg decode-head loss (``loss_decode``)."""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor, nn

from mmspml.functional import gated_crf_loss
from mmspml.functional._utils import check_scalar

_KERNEL_KEYS = ('weight', 'sigma_rgb', 'sigma_xy')
_DEFAULT_KERNELS = (dict(weight=1.0, sigma_rgb=15.0, sigma_xy=24.0), )


@MODELS.register_module()
class GatedCRFLoss(nn.Module):
    """Gated CRF loss (Obukhov et al. 2019) for any mmseg decode head.

    Put it beside the partial cross-entropy in the head's ``loss_decode``::

        loss_decode=[dict(type='PartialCrossEntropyLoss', loss_weight=1.0),
                     dict(type='GatedCRFLoss', loss_weight=0.03)]
        custom_hooks = [..., dict(type='LossImageHook')]

    The loss is unsupervised: it reads the head's logits (mmseg resizes them to the
    label's size, the padded input size) and the input image, not the label. mmseg's
    ``BaseDecodeHead`` calls a loss with ``(seg_logits, seg_label, weight, ignore_index)``
    only, so the image reaches it through
    :class:`~mmspml.engine.hooks.LossImageHook`, which hands every module with a
    ``set_image_batch`` method the batch's RGB images (the model's input, normalisation
    undone) and their valid pixels before each training forward, and takes them back
    after it. Valid pixels are those inside each sample's ``img_shape`` (the part the
    data preprocessor did not pad) and, when the sample has one, inside its
    ``valid_mask`` (what :class:`~mmspml.datasets.transforms.PadSegFields` did not pad).
    Direct calls may pass ``images`` / ``valid`` instead.

    Computation (:func:`mmspml.functional.gated_crf_loss`): logits and image are
    average-pooled by ``downsample`` (the reference works at the network's output
    resolution, not the input's; 4 = SegFormer's and DeepLabV3+'s decoder stride), a pooled
    cell is valid only if all its pixels are, the softmax of the pooled logits is the
    prediction, and the loss is ``sum_ij k_ij (1 - p_i . p_j)`` over ordered pairs of
    valid cells within ``radius`` cells, divided by the number of valid cells
    (``reduction='mean'``, the reference's normalisation) or not (``'sum'``).

    Kernels: ``k_ij = sum_k weight_k exp(-|rgb_i - rgb_j|^2 / 2 sigma_rgb_k^2 - |xy_i -
    xy_j|^2 / 2 sigma_xy_k^2)``, RGB in 0..255 and XY in input pixels. The default
    ``sigma_rgb=15`` is the colour bandwidth of the DenseCRF loss (Tang et al. 2018)
    that CRF-loss baselines use; ``sigma_xy=24`` input pixels is the Gated CRF
    reference's 6 cells of its stride-4 output grid; ``radius=5`` cells is its window.

    Args:
        kernels (list[dict]): ``dict(weight, sigma_rgb, sigma_xy)`` per Gaussian kernel
            (``weight > 0``; a sigma of ``None`` leaves that modality out).
            Default one kernel ``dict(weight=1.0, sigma_rgb=15.0, sigma_xy=24.0)``.
        radius (int): window radius in pooled cells (>= 1). Default 5.
        downsample (int): pooling factor from the logits' size to the loss grid (>= 1).
            Default 4.
        loss_weight (float): weight of the returned loss (>= 0). Default 1.0.
        reduction (str): ``'mean'`` or ``'sum'``, see above. Default ``'mean'``.
        loss_name (str): log key, starting with ``'loss_'``. Default ``'loss_gated_crf'``.
    """

    def __init__(self,
                 kernels: Optional[Sequence[dict]] = None,
                 radius: int = 5,
                 downsample: int = 4,
                 loss_weight: float = 1.0,
                 reduction: str = 'mean',
                 loss_name: str = 'loss_gated_crf') -> None:
        super().__init__()
        kernels = _DEFAULT_KERNELS if kernels is None else kernels
        if isinstance(kernels, dict) or not isinstance(kernels, (list, tuple)) or not kernels:
            raise ValueError('GatedCRFLoss: kernels must be a non-empty list of '
                             f'dict(weight, sigma_rgb, sigma_xy), got {kernels!r}')
        parsed = []
        for i, k in enumerate(kernels):
            if not isinstance(k, dict) or set(k) - set(_KERNEL_KEYS) or 'weight' not in k:
                raise ValueError(f'GatedCRFLoss: kernels[{i}]={k!r}, expected a dict with '
                                 "'weight' and 'sigma_rgb' and/or 'sigma_xy'")
            parsed.append((k['weight'], k.get('sigma_rgb'), k.get('sigma_xy')))
        # the functional checks the values; fail at build time, not at the first batch
        probe = torch.zeros(1, 1, 1, 1)
        gated_crf_loss(probe, probe, torch.ones(1, 1, 1, dtype=torch.bool), 1, parsed)
        self.kernels = tuple(parsed)
        self.radius = check_scalar(radius, 'GatedCRFLoss: radius', integer=True, low=1)
        self.downsample = check_scalar(downsample, 'GatedCRFLoss: downsample', integer=True,
                                       low=1)
        self.loss_weight = check_scalar(loss_weight, 'GatedCRFLoss: loss_weight', low=0)
        if reduction not in ('mean', 'sum'):
            raise ValueError(f"GatedCRFLoss: reduction must be 'mean' or 'sum', got "
                             f'{reduction!r}')
        self.reduction = reduction
        if not isinstance(loss_name, str) or not loss_name.startswith('loss_'):
            raise ValueError("GatedCRFLoss: loss_name must be a str starting with 'loss_', "
                             f'got {loss_name!r}')
        self._loss_name = loss_name
        self._images: Optional[Tensor] = None
        self._valid: Optional[Tensor] = None

    @property
    def loss_name(self) -> str:
        """The log key of this loss (mmseg convention)."""
        return self._loss_name

    def set_image_batch(self, images: Optional[Tensor], valid: Optional[Tensor]) -> None:
        """Images ``[B, 3, H, W]`` (RGB, 0..255) and valid pixels ``[B, H, W]`` (bool) of
        the coming forward, or ``None, None`` to forget them (:class:`LossImageHook`)."""
        self._images, self._valid = images, valid

    def forward(self,
                cls_score: Tensor,
                label: Optional[Tensor] = None,
                weight: Optional[Tensor] = None,
                avg_factor=None,
                reduction_override: Optional[str] = None,
                ignore_index: int = 255,
                images: Optional[Tensor] = None,
                valid: Optional[Tensor] = None) -> Tensor:
        """Weighted Gated CRF loss of a batch.

        Args:
            cls_score (Tensor): ``[B, C, H, W]`` logits.
            label (Tensor, optional): ``[B, H, W]``, mmseg's argument; only its shape is
                checked (the loss uses no label, so ``ignore_index`` plays no part).
            weight, avg_factor: must be None (no per-pixel weights for a pairwise term).
            reduction_override (str, optional): ``'mean'`` / ``'sum'`` for this call.
            images (Tensor, optional): ``[B, 3, H, W]`` RGB 0..255; default: the batch
                given by :class:`LossImageHook`.
            valid (Tensor, optional): ``[B, H, W]`` bool; default: the hook's, or every
                pixel when ``images`` is given without it.

        Returns:
            Tensor: scalar, ``loss_weight * loss`` in float32 (or float64 for float64
            logits).
        """
        if weight is not None or avg_factor is not None:
            raise ValueError('GatedCRFLoss takes no per-pixel weight or avg_factor (a '
                             'pairwise term has no per-pixel loss to weight); remove the '
                             "decode head's sampler")
        if images is None:
            images, valid = self._images, self._valid
            if images is None:
                raise RuntimeError(
                    'GatedCRFLoss needs the batch\'s images: add dict(type=\'LossImageHook\') '
                    'to custom_hooks (docs/add_spml_to_your_model.md), or pass images=')
        b, _, h, w = cls_score.shape
        if images.dim() != 4 or images.shape[0] != b or images.shape[2:] != (h, w):
            raise ValueError(f'GatedCRFLoss: images of shape {tuple(images.shape)} do not '
                             f'match the logits {tuple(cls_score.shape)} (B, 3, H, W)')
        if valid is None:
            valid = torch.ones(b, h, w, dtype=torch.bool, device=cls_score.device)
        if valid.shape != (b, h, w) or valid.dtype != torch.bool:
            raise ValueError(f'GatedCRFLoss: valid must be a bool [B, H, W] = {(b, h, w)} '
                             f'tensor, got {valid.dtype} {tuple(valid.shape)}')
        if label is not None and label.shape[-2:] != (h, w):
            raise ValueError(f'GatedCRFLoss: label of shape {tuple(label.shape)} does not '
                             f'match the logits {tuple(cls_score.shape)}')
        reduction = reduction_override or self.reduction
        dtype = torch.float64 if cls_score.dtype == torch.float64 else torch.float32
        logits = cls_score.to(dtype)
        images = images.to(device=logits.device, dtype=dtype)
        valid = valid.to(logits.device)
        s = self.downsample
        if s > 1:
            if h < s or w < s:
                raise ValueError(f'GatedCRFLoss: logits of size {(h, w)} are smaller than '
                                 f'downsample={s}')
            logits = F.avg_pool2d(logits, s)
            images = F.avg_pool2d(images, s)
            # a cell is valid only if all its pixels are (min-pooling)
            valid = -F.max_pool2d(-valid[:, None].to(dtype), s)[:, 0] > 0.5
        loss = gated_crf_loss(logits.softmax(dim=1), images, valid, self.radius,
                              self.kernels, xy_step=float(s), reduction=reduction)
        return self.loss_weight * loss

    def extra_repr(self) -> str:
        kernels = [dict(zip(_KERNEL_KEYS, k)) for k in self.kernels]
        return (f'kernels={kernels}, radius={self.radius}, downsample={self.downsample}, '
                f"loss_weight={self.loss_weight}, reduction='{self.reduction}', "
                f"loss_name='{self.loss_name}'")
