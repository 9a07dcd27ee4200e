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

    Args:
        meta_keys (tuple[str]): metainfo keys kept.
        pack_image (bool): also add ``img_rgb`` (``PixelData``, float32 [3, H, W], RGB):
            the (augmented, not normalised) image, for the colour clustering features of
            ``SegmentGenerator(use_color=True)`` (DensePose, spec §2.3). Default False.
    """

    def __init__(self, meta_keys=_DEFAULT_META, pack_image: bool = False) -> None:
        super().__init__(meta_keys=meta_keys)
        self.pack_image = bool(pack_image)

    def transform(self, results: dict) -> dict:
        packed = super().transform(results)
        if 'gt_overseg' in results:
            ovs = results['gt_overseg']
            if ovs.ndim != 2:
                raise ValueError(f'gt_overseg must be 2-D, got shape {ovs.shape}')
            packed['data_samples'].gt_overseg = PixelData(
                data=torch.from_numpy(ovs.astype(np.int64))[None])
        if self.pack_image:
            img = np.asarray(results['img'])
            if img.ndim != 3 or img.shape[2] != 3:
                raise ValueError(f'pack_image needs a 3-channel image, got shape {img.shape} '
                                 f'({results.get("img_path")})')
            rgb = np.ascontiguousarray(img[..., ::-1].transpose(2, 0, 1), dtype=np.float32)
            packed['data_samples'].img_rgb = PixelData(data=torch.from_numpy(rgb))
        return packed
