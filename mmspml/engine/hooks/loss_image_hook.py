from typing import List, Optional, Sequence

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS
from torch import Tensor


def batch_valid_mask(data_samples: Optional[Sequence], size) -> Tensor:
    """``[B, H, W]`` bool: the pixels of a padded batch that are image.

    A pixel is valid when it lies inside its sample's ``img_shape`` (the part that
    ``SegDataPreProcessor`` did not pad; top-left) and, when the sample has a
    ``valid_mask`` (``PadSegFields``, packed by ``PackSPMLInputs``), where that mask is True.

    Args:
        data_samples (list[SegDataSample] | None): the batch's samples; None = all valid.
        size (tuple): ``(B, H, W)`` of the padded batch.
    """
    b, h, w = size
    valid = torch.zeros(b, h, w, dtype=torch.bool)
    if data_samples is None:
        return valid.fill_(True)
    if len(data_samples) != b:
        raise ValueError(f'LossImageHook: {len(data_samples)} data samples for a batch of {b}')
    for i, sample in enumerate(data_samples):
        ih, iw = sample.metainfo.get('img_shape', (h, w))[:2]
        valid[i, :ih, :iw] = True
        if 'valid_mask' in sample:
            mask = sample.valid_mask.data[0].to('cpu', torch.bool)
            mh, mw = min(mask.shape[0], h), min(mask.shape[1], w)
            inside = torch.zeros(h, w, dtype=torch.bool)
            inside[:mh, :mw] = mask[:mh, :mw]
            valid[i] &= inside
    return valid


@HOOKS.register_module()
class LossImageHook(Hook):
    """Hand the batch's images to the losses that read them (e.g. ``GatedCRFLoss``).

    mmseg's decode heads call a loss with the logits and the label only. Before training,
    this hook finds every module of the model with a ``set_image_batch(images, valid)``
    method and registers a forward pre-hook and a forward hook on the model: before each
    ``mode='loss'`` forward, those modules get ``images`` ``[B, 3, H, W]`` (the model's
    input with the data preprocessor's normalisation undone: RGB 0..255 when the
    preprocessor converts BGR to RGB; the colour order does not matter to a colour
    distance) and ``valid`` ``[B, H, W]`` (:func:`batch_valid_mask`); after the forward
    (also when it raises) they get ``None, None``, so no batch is ever seen twice and
    validation / test forwards see none. The hooks are removed after training.

    Raises ``ValueError`` at the start of training when the model has no such module
    (the hook would do nothing).
    """
    priority = 'NORMAL'

    def __init__(self) -> None:
        self._modules: List = []
        self._handles: List = []

    @staticmethod
    def _model(runner):
        return runner.model.module if is_model_wrapper(runner.model) else runner.model

    def before_train(self, runner) -> None:
        model = self._model(runner)
        self._modules = [m for m in model.modules()
                         if callable(getattr(m, 'set_image_batch', None))]
        if not self._modules:
            raise ValueError('LossImageHook: no module of the model reads the image (none has '
                             'set_image_batch, e.g. GatedCRFLoss); remove the hook from '
                             'custom_hooks or add such a loss')
        self._handles = [
            model.register_forward_pre_hook(self._give, with_kwargs=True),
            model.register_forward_hook(self._take_back, with_kwargs=True, always_call=True),
        ]

    def after_train(self, runner) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self._set(None, None)

    def _set(self, images, valid) -> None:
        for module in self._modules:
            module.set_image_batch(images, valid)

    def _give(self, model, args, kwargs):
        mode = kwargs.get('mode', args[2] if len(args) > 2 else 'tensor')
        if mode != 'loss':
            return None
        inputs = kwargs['inputs'] if 'inputs' in kwargs else args[0]
        samples = kwargs.get('data_samples', args[1] if len(args) > 1 else None)
        if not isinstance(inputs, Tensor) or inputs.dim() != 4:
            raise ValueError('LossImageHook: the model input must be a [B, C, H, W] tensor, '
                             f'got {type(inputs).__name__}')
        images = inputs.detach().float()
        preprocessor = getattr(model, 'data_preprocessor', None)
        mean, std = getattr(preprocessor, 'mean', None), getattr(preprocessor, 'std', None)
        if isinstance(mean, Tensor) and isinstance(std, Tensor):
            images = images * std.to(images) + mean.to(images)
        b, _, h, w = images.shape
        valid = batch_valid_mask(samples, (b, h, w)).to(images.device)
        self._set(images, valid)
        return None

    def _take_back(self, model, args, kwargs, output):
        self._set(None, None)
        return None

