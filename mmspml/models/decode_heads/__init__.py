from .spml_aux_head import SPMLAuxHead
from .spml_head import SPMLHead
from .spml_knn_head import SPMLKNNHead
from .spml_stage2_head import SPMLStage2Head

__all__ = ['SPMLHead', 'SPMLAuxHead', 'SPMLKNNHead', 'SPMLStage2Head']
