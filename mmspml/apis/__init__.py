"""High-level helpers: whole-image prediction for the pipeline tools and the inferencer.

Not imported by ``import mmspml`` (it pulls in ``mmseg.apis``); import it explicitly.
"""
from .spml_inferencer import SPMLInferencer

__all__ = ['SPMLInferencer']
