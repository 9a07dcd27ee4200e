from .spml_aux_head import SPMLAuxHead
from .spml_head import SPMLHead

__all__ = ['SPMLHead', 'SPMLAuxHead']
