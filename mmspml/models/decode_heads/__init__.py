from .spml_head import SPMLHead

__all__ = ['SPMLHead']
