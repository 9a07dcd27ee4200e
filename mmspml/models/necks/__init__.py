from .segment_generator import SegmentGenerator, resize_label

__all__ = ['SegmentGenerator', 'resize_label']
