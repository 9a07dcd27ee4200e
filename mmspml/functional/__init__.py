"""Pure-torch SPML math (spml-method.md §2.3, §3, §4, §6.3); imports nothing from mmseg.

Shape shorthand used throughout: B images, h x w embedding resolution, P pixels,
D embedding dims, K segments / clusters, M memory prototypes, C classes.
"""
from ._utils import l2_normalize, location_features
from .color_features import color_features, distance_kernel
from .contrastive import pixel_segment_contrastive_loss, retrieval_accuracy
from .kmeans import batched_spherical_kmeans, grid_init_labels, spherical_kmeans
from .knn import knn_vote, nearest_labeled_label_sets
from .segments import (MemoryBatch, SegmentBatch, SegmentResult, generate_segments,
                       segment_prototypes)

__all__ = [
    'l2_normalize', 'location_features', 'color_features', 'distance_kernel',
    'grid_init_labels', 'spherical_kmeans',
    'batched_spherical_kmeans', 'generate_segments', 'segment_prototypes', 'SegmentResult',
    'SegmentBatch', 'MemoryBatch', 'pixel_segment_contrastive_loss', 'retrieval_accuracy',
    'knn_vote', 'nearest_labeled_label_sets'
]
