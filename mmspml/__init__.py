"""mmspml: SPML pixel-to-segment contrastive learning for MMSegmentation 1.x.

Importing this package registers every mmspml component into mmseg's registries
(``mmseg.registry.MODELS/TRANSFORMS/DATASETS/HOOKS/OPTIM_WRAPPER_CONSTRUCTORS/
PARAM_SCHEDULERS/RUNNERS``) and changes nothing else: mmengine, mmseg and torch behave as
before for every model that does not ask for an mmspml component. Configs do this with
``custom_imports = dict(imports=['mmspml'], allow_failed_imports=False)`` (already in
``configs/_base_/default_runtime.py``, which also sets ``runner_type = 'SPMLRunner'``,
the Runner with mmspml's checkpoint handling: :class:`mmspml.engine.SPMLRunner`).

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
    from . import functional  # noqa: E402,F401  (pure math, no registry)
    from . import datasets  # noqa: E402,F401
    from . import models  # noqa: E402,F401
    from . import engine  # noqa: E402,F401

__all__ = ['__version__']
