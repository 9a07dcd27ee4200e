from . import transforms  # noqa: F401
from .camvid import CamVidDataset
from .densepose import DensePoseDataset
from .voc import VOCWeakDataset
from .weak_seg_dataset import WeakSegDataset

__all__ = ['WeakSegDataset', 'CamVidDataset', 'VOCWeakDataset', 'DensePoseDataset']
