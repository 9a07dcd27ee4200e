import numpy as np
import torch
from mmengine.structures import PixelData
from mmseg.datasets.transforms import PackSegInputs
from mmseg.registry import TRANSFORMS

_DEFAULT_META = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape', 'pad_shape',
                 'scale_factor', 'flip', 'flip_direction', 'reduce_zero_label',
                 'num_classes', 'unlabeled_index', 'img_tags', 'sample_idx')


@TRANSFORMS.register_module()
class PackSPMLInputs(PackSegInputs):
    """``PackSegInputs`` that also carries what SPML needs.

    Added to the data sample: ``gt_overseg`` (``PixelData`` with ``data`` LongTensor
    [1, H, W]) when ``gt_overseg`` is in the results; metainfo ``img_tags`` (bool [C]),
    ``num_classes``, ``unlabeled_index`` and ``sample_idx`` (the dataset index) when present.
    """

    def __init__(self, meta_keys=_DEFAULT_META) -> None:
        super().__init__(meta_keys=meta_keys)

    def transform(self, results: dict) -> dict:
        packed = super().transform(results)
        if 'gt_overseg' in results:
            ovs = results['gt_overseg']
            if ovs.ndim != 2:
                raise ValueError(f'gt_overseg must be 2-D, got shape {ovs.shape}')
            packed['data_samples'].gt_overseg = PixelData(
                data=torch.from_numpy(ovs.astype(np.int64))[None])
        return packed
