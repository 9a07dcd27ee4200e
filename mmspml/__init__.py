"""mmspml: SPML pixel-to-segment contrastive learning for MMSegmentation 1.x.

Importing this package registers every mmspml component into mmseg's registries
(``mmseg.registry.MODELS/TRANSFORMS/DATASETS/HOOKS/OPTIM_WRAPPER_CONSTRUCTORS/
PARAM_SCHEDULERS``) and changes two things in mmengine (see
:mod:`mmspml.utils.checkpoint` and docs/api.md): the loader of local checkpoints (torch >= 2.6
``weights_only`` allow-list) and the Runner's checkpoint saving (atomic). Configs do this with
``custom_imports = dict(imports=['mmspml'], allow_failed_imports=False)`` (already in
``configs/_base_/default_runtime.py``).

Without mmengine/mmseg installed only the pure maths, :mod:`mmspml.functional`, is
available: nothing is registered or changed.
"""
from .version import __version__

try:
    import mmengine  # noqa: F401
    import mmseg  # noqa: F401
except ModuleNotFoundError as exc:  # only the pure maths (mmspml.functional) then
    if exc.name not in ('mmengine', 'mmseg'):
        raise
    _WITH_MMSEG = False
else:
    _WITH_MMSEG = True

if _WITH_MMSEG:
    from .utils.checkpoint import register_checkpoint_loader

    register_checkpoint_loader()

    from . import functional  # noqa: E402,F401  (pure math, no registry)
    from . import datasets  # noqa: E402,F401
    from . import models  # noqa: E402,F401
    from . import engine  # noqa: E402,F401

__all__ = ['__version__']
