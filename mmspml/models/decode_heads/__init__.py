from .spml_head import SPMLHead
from .spml_knn_head import SPMLKNNHead
from .spml_stage2_head import SPMLStage2Head

__all__ = ['SPMLHead', 'SPMLKNNHead', 'SPMLStage2Head']
