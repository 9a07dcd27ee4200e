"""SPML losses: one pixel-to-segment kernel, four ways of choosing positives (§4)."""
from .feature_affinity_loss import FeatureAffinityLoss
from .image_similarity_loss import ImageSimilarityLoss
from .semantic_annotation_loss import SemanticAnnotationLoss
from .semantic_cooccurrence_loss import SemanticCooccurrenceLoss

__all__ = [
    'SemanticAnnotationLoss', 'SemanticCooccurrenceLoss', 'ImageSimilarityLoss',
    'FeatureAffinityLoss'
]
