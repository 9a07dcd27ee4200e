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
    ``num_classes``, ``unlabeled_index`` and ``sample_idx`` (the dataset index) when present;
    ``valid_mask`` (``PixelData`` with ``data`` BoolTensor [1, H, W], True = image, False =
    padding) when :class:`PadSegFields` recorded it.

    Weak labels: with ``unlabeled_to_ignore=True`` (default) and ``num_classes`` in the
    results, a label holding unlabeled pixels (values ``>= C`` other than the ignore index,
    ``results['ignore_index']``, default 255) is packed twice: ``gt_sem_seg`` with those
    pixels set to the ignore index, so that any mmseg decode head and its
    ``CrossEntropyLoss`` / ``acc_seg`` treat them as neither a class nor an error
    (partial cross-entropy without code changes), and ``gt_weak_seg`` (``PixelData``,
    LongTensor [1, H, W], the values as loaded) for the SPML heads, which cluster
    unlabeled pixels. A label without unlabeled pixels gets no ``gt_weak_seg`` (the two
    would be equal).

    Args:
        meta_keys (tuple[str]): metainfo keys kept.
        unlabeled_to_ignore (bool): split weak labels as above; ``False`` keeps the
            unlabeled values in ``gt_sem_seg`` (only :class:`PartialCrossEntropyLoss`
            and the SPML heads can then read it).
        pack_image (bool): also add ``img_rgb`` (``PixelData``, float32 [3, H, W], RGB):
            the (augmented, not normalised) image, for the colour clustering features of
            ``SegmentGenerator(use_color=True)`` (DensePose, spec §2.3). Default False.
    """

    def __init__(self, meta_keys=_DEFAULT_META, unlabeled_to_ignore: bool = True,
                 pack_image: bool = False) -> None:
        super().__init__(meta_keys=meta_keys)
        if not isinstance(unlabeled_to_ignore, bool):
            raise TypeError('PackSPMLInputs: unlabeled_to_ignore must be a bool, got '
                            f'{unlabeled_to_ignore!r}')
        self.unlabeled_to_ignore = unlabeled_to_ignore
        self.pack_image = bool(pack_image)

    def transform(self, results: dict) -> dict:
        packed = super().transform(results)
        num_classes = results.get('num_classes')
        sample = packed['data_samples']
        if self.unlabeled_to_ignore and num_classes is not None and 'gt_sem_seg' in sample:
            sem = sample.gt_sem_seg.data
            ignore = int(results.get('ignore_index', 255))
            unlabeled = (sem >= int(num_classes)) & (sem != ignore)
            if bool(unlabeled.any()):
                sample.gt_weak_seg = PixelData(data=sem.clone())
                sample.gt_sem_seg = PixelData(data=sem.masked_fill(unlabeled, ignore))
        if 'gt_overseg' in results:
            ovs = results['gt_overseg']
            if ovs.ndim != 2:
                raise ValueError(f'gt_overseg must be 2-D, got shape {ovs.shape}')
            sample.gt_overseg = PixelData(
                data=torch.from_numpy(ovs.astype(np.int64))[None])
        if results.get('valid_mask') is not None:
            sample.valid_mask = PixelData(
                data=torch.from_numpy(np.asarray(results['valid_mask']) > 0)[None])
        if self.pack_image:
            img = np.asarray(results['img'])
            if img.ndim != 3 or img.shape[2] != 3:
                raise ValueError(f'pack_image needs a 3-channel image, got shape {img.shape} '
                                 f'({results.get("img_path")})')
            rgb = np.ascontiguousarray(img[..., ::-1].transpose(2, 0, 1), dtype=np.float32)
            sample.img_rgb = PixelData(data=torch.from_numpy(rgb))
        return packed

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(meta_keys={self.meta_keys}, '
                f'unlabeled_to_ignore={self.unlabeled_to_ignore}, '
                f'pack_image={self.pack_image})')
