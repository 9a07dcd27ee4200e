"""Pure-torch SPML math (spml-method.md §2.3, §3, §4, §6.2, §6.3, §6.5, §6.6),
the CAM seeds of the tags pipeline and the Gated CRF loss; imports nothing from mmseg.

Shape shorthand used throughout: B images, h x w embedding resolution, P pixels,
D embedding dims, K segments / clusters, M memory prototypes, C classes.
"""
from ._utils import l2_normalize, location_features
from .cam import cam_seed_label, class_activation_maps
from .color_features import color_features, distance_kernel
from .contrastive import pixel_segment_contrastive_loss, retrieval_accuracy
from .dense_crf import dense_crf, dense_crf_available
from .gated_crf import gated_crf_loss
from .kmeans import batched_spherical_kmeans, grid_init_labels, spherical_kmeans
from .knn import (knn_segment_scores, knn_vote, nearest_labeled_label_sets,
                  segment_majority_labels)
from .random_walk import random_walk, random_walk_transition, restrict_class_scores
from .segments import (MemoryBatch, SegmentBatch, SegmentResult, generate_segments,
                       segment_prototypes)

__all__ = [
    'l2_normalize', 'location_features', 'color_features', 'distance_kernel',
    'grid_init_labels', 'spherical_kmeans',
    'batched_spherical_kmeans', 'generate_segments', 'segment_prototypes', 'SegmentResult',
    'SegmentBatch', 'MemoryBatch', 'pixel_segment_contrastive_loss', 'retrieval_accuracy',
    'knn_vote', 'knn_segment_scores', 'nearest_labeled_label_sets', 'segment_majority_labels',
    'random_walk',
    'random_walk_transition', 'restrict_class_scores', 'dense_crf', 'dense_crf_available',
    'class_activation_maps', 'cam_seed_label', 'gated_crf_loss'
]
