"""SPML losses: one pixel-to-segment kernel, four ways of choosing positives (§4); and
the Gated CRF loss, the CRF-loss baseline for any decode head."""
from .feature_affinity_loss import FeatureAffinityLoss
from .gated_crf_loss import GatedCRFLoss
from .image_similarity_loss import ImageSimilarityLoss
from .semantic_annotation_loss import SemanticAnnotationLoss
from .semantic_cooccurrence_loss import SemanticCooccurrenceLoss

__all__ = [
    'SemanticAnnotationLoss', 'SemanticCooccurrenceLoss', 'ImageSimilarityLoss',
    'FeatureAffinityLoss', 'GatedCRFLoss'
]
