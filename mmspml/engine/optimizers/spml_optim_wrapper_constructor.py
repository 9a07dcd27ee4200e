from typing import Sequence

from mmengine.optim import DefaultOptimWrapperConstructor
from mmseg.registry import OPTIM_WRAPPER_CONSTRUCTORS


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class SPMLOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """Parameter groups of the reference (spml-method.md §2.5, §10).

    ================================  =========================  ============
    parameters                        lr multiplier              weight decay
    ================================  =========================  ============
    ``frozen`` prefixes (stem,        0 (frozen; their BN keeps  0
    layer1)                           using batch statistics)
    other backbone weights, BN gamma  1                          yes
    other backbone biases, BN beta    ``backbone_bias_lr_mult``  0
    ``head`` prefixes: weights        ``head_lr_mult``           yes
    ``head`` prefixes: biases/beta    ``head_bias_lr_mult``      0
    ================================  =========================  ============

    "Bias" means a parameter whose name ends in ``bias`` (conv biases and norm betas).
    MMEngine's ``custom_keys`` would override ``bias_lr_mult`` and skip norm biases, so
    the groups are assigned explicitly here. ``paramwise_cfg`` keys: ``frozen``,
    ``head``, ``head_lr_mult`` (10), ``head_bias_lr_mult`` (20),
    ``backbone_bias_lr_mult`` (2). Parameters with ``requires_grad=False`` are skipped.
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: dict = None):
        paramwise_cfg = dict(paramwise_cfg or {})
        self.frozen: Sequence[str] = tuple(paramwise_cfg.pop(
            'frozen', ('backbone.stem', 'backbone.conv1', 'backbone.bn1', 'backbone.layer1')))
        self.head: Sequence[str] = tuple(paramwise_cfg.pop(
            'head', ('decode_head', 'auxiliary_head', 'neck')))
        self.head_lr_mult = float(paramwise_cfg.pop('head_lr_mult', 10.0))
        self.head_bias_lr_mult = float(paramwise_cfg.pop('head_bias_lr_mult', 20.0))
        self.backbone_bias_lr_mult = float(paramwise_cfg.pop('backbone_bias_lr_mult', 2.0))
        if paramwise_cfg:
            raise ValueError(f'SPMLOptimWrapperConstructor: unknown paramwise_cfg keys '
                             f'{sorted(paramwise_cfg)}')
        super().__init__(optim_wrapper_cfg, None)
        # non-empty, so that __call__ uses add_params below (it builds plain
        # model.parameters() for an empty paramwise_cfg)
        self.paramwise_cfg = dict(frozen=self.frozen, head=self.head,
                                  head_lr_mult=self.head_lr_mult,
                                  head_bias_lr_mult=self.head_bias_lr_mult,
                                  backbone_bias_lr_mult=self.backbone_bias_lr_mult)

    def group_of(self, name: str):
        """``(lr_mult, decay_mult)`` of a parameter name."""
        is_bias = name.endswith('bias')
        if name.startswith(self.frozen):
            return 0.0, 0.0
        if name.startswith(self.head):
            return (self.head_bias_lr_mult if is_bias else self.head_lr_mult,
                    0.0 if is_bias else 1.0)
        return (self.backbone_bias_lr_mult if is_bias else 1.0, 0.0 if is_bias else 1.0)

    def add_params(self, params, module, prefix='', is_dcn_module=None) -> None:
        groups = {}
        for name, param in module.named_parameters(prefix=prefix.rstrip('.')):
            if not param.requires_grad:
                continue
            groups.setdefault(self.group_of(name), []).append(param)
        for (lr_mult, decay_mult), group_params in sorted(groups.items()):
            group = dict(params=group_params, lr=self.base_lr * lr_mult,
                         lr_mult=lr_mult, decay_mult=decay_mult)
            if self.base_wd is not None:
                group['weight_decay'] = self.base_wd * decay_mult
            params.append(group)
