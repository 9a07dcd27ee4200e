"""mmspml: SPML pixel-to-segment contrastive learning for MMSegmentation 1.x.

Importing this package registers every mmspml component into mmseg's registries
(``mmseg.registry.MODELS/TRANSFORMS/DATASETS/HOOKS/METRICS``) and installs the
checkpoint-loading fix for torch >= 2.6 (see :mod:`mmspml.utils.checkpoint`).
Configs do this with ``custom_imports = dict(imports=['mmspml'],
allow_failed_imports=False)`` (already in ``configs/_base_/default_runtime.py``).
"""
from .version import __version__
from .utils.checkpoint import register_checkpoint_loader

register_checkpoint_loader()

from . import functional  # noqa: E402,F401  (pure math, no registry)
from . import datasets  # noqa: E402,F401
from . import models  # noqa: E402,F401
from . import engine  # noqa: E402,F401

__all__ = ['__version__']
