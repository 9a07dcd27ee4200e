from numbers import Number
from typing import Sequence, Tuple, Union

import mmcv
import numpy as np
from mmcv.transforms import Pad
from mmseg.registry import TRANSFORMS

from mmspml.functional._utils import check_scalar


def _hw(size, name: str) -> Tuple[int, int]:
    if not isinstance(size, (tuple, list)):
        size = (size, size)
    if len(size) != 2:
        raise ValueError(f'PadSegFields: {name}={size!r}, expected a positive int or '
                         '(h, w) of positive ints')
    h, w = (check_scalar(s, f'PadSegFields: {name}', integer=True, low=1) for s in size)
    return h, w


@TRANSFORMS.register_module()
class PadSegFields(Pad):
    """Pad the image and *every* seg field at the bottom/right to at least ``size``.

    mmcv's ``Pad`` pads only ``gt_seg_map`` and mmseg's ``SegDataPreProcessor`` only
    ``gt_sem_seg``; this pads every key in ``seg_fields`` (label, over-segmentation
    map) with ``seg_pad_val`` and the image with ``img_pad_val``, anchored at the
    top-left (spml-method.md §1.5 step 5). Maps larger than ``size`` are left as they
    are (crop them with ``RandomCrop``); the image and the seg fields stay the same size,
    so the data preprocessor's own padding (if any) stays consistent.

    It also records which pixels are image: ``valid_mask`` (np.uint8 [H', W'], 1 = image,
    0 = padding), added to ``seg_fields`` so that every later crop, flip or resize moves it
    with the image (mmcv's ``Pad`` sets ``img_shape`` to the padded size, and a crop after
    the padding would shift any recorded shape). Losses that must not see the padding
    (:class:`~mmspml.models.losses.GatedCRFLoss`) read it from the data sample
    (:class:`PackSPMLInputs` packs it). A ``valid_mask`` already in the results is padded
    with 0 like the image.

    SPML pads the image with the ImageNet mean, i.e. 0 after normalisation: with
    ``SegDataPreProcessor(mean=[123.675, 116.28, 103.53], bgr_to_rgb=True)`` that is
    ``img_pad_val=(103.53, 116.28, 123.675)`` on the BGR image from
    ``LoadImageFromFile``; load it with ``to_float32=True`` so the value is kept exactly
    (a uint8 image rounds it, e.g. to 104).

    Required Keys: ``img`` (np.ndarray [H, W, C]), optionally the ``seg_fields`` maps
    ([H, W], any dtype).

    Modified Keys: ``img`` ([H', W', C], same dtype), every ``seg_fields`` map ([H', W'],
    same dtype), ``img_shape``, ``seg_fields``; ``H' = max(H, h)``, ``W' = max(W, w)``.

    Added Keys: ``pad_shape``, ``pad_fixed_size`` ((w, h), mmcv's convention),
    ``pad_size_divisor`` (None), ``valid_mask`` (np.uint8 [H', W']).

    Args:
        size (int | tuple[int, int]): minimal size ``(h, w)`` -- the order of
            ``RandomCrop``'s ``crop_size``, not mmcv ``Pad``'s ``(w, h)``.
        img_pad_val (number | sequence[number]): image value, one for all channels or
            one per channel. Default 0.
        seg_pad_val (int): value for every seg field. Default 255 (ignore).
    """

    def __init__(self,
                 size: Union[int, Tuple[int, int]],
                 img_pad_val: Union[Number, Sequence[Number]] = 0,
                 seg_pad_val: int = 255) -> None:
        h, w = _hw(size, 'size')
        if isinstance(img_pad_val, (tuple, list)):
            if not img_pad_val or not all(isinstance(v, Number) for v in img_pad_val):
                raise ValueError(f'PadSegFields: img_pad_val={img_pad_val!r}, expected a '
                                 'number or a sequence of numbers')
            img_pad_val = tuple(img_pad_val)
        elif not isinstance(img_pad_val, Number):
            raise ValueError(f'PadSegFields: img_pad_val={img_pad_val!r}, expected a '
                             'number or a sequence of numbers')
        seg_pad_val = check_scalar(seg_pad_val, 'PadSegFields: seg_pad_val', integer=True)
        super().__init__(size=(w, h), pad_val=dict(img=img_pad_val, seg=seg_pad_val))
        self.img_pad_val = img_pad_val
        self.seg_pad_val = seg_pad_val

    def _pad_img(self, results: dict) -> None:
        img = results['img']
        val = self.img_pad_val
        if img.ndim == 3:
            if isinstance(val, Number):
                # mmcv expands only ints; a float scalar would pad channels 1.. with 0
                val = (val, ) * img.shape[2]
            elif len(val) != img.shape[2]:
                raise ValueError(f'PadSegFields: img_pad_val={self.img_pad_val!r} has '
                                 f'{len(val)} values, the image {img.shape[2]} channels')
        elif not isinstance(val, Number):
            raise ValueError(f'PadSegFields: img_pad_val={self.img_pad_val!r} for a '
                             'single-channel image, expected a number')
        h, w = self.size[::-1]
        padded = mmcv.impad(img, shape=(max(h, img.shape[0]), max(w, img.shape[1])),
                            pad_val=val)
        results['img'] = padded
        results['pad_shape'] = padded.shape
        results['pad_fixed_size'] = self.size
        results['pad_size_divisor'] = None
        results['img_shape'] = padded.shape[:2]

    def _pad_seg(self, results: dict) -> None:
        shape = results['pad_shape'][:2]
        for key in results.get('seg_fields', []):
            if results.get(key) is not None:
                results[key] = mmcv.impad(
                    results[key], shape=shape,
                    pad_val=0 if key == 'valid_mask' else self.seg_pad_val)

    def transform(self, results: dict) -> dict:
        hw = results['img'].shape[:2]
        for key in results.get('seg_fields', []):
            seg = results.get(key)
            if seg is not None and seg.shape[:2] != hw:
                raise ValueError(
                    f'PadSegFields: {key} has size {seg.shape[:2]} but the image {hw} '
                    f'({results.get("img_path")!r}); every seg field must follow the image')
        if results.get('valid_mask') is None:
            results['valid_mask'] = np.ones(hw, np.uint8)
        if 'valid_mask' not in results.setdefault('seg_fields', []):
            results['seg_fields'].append('valid_mask')
        return super().transform(results)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(size={self.size[::-1]}, '
                f'img_pad_val={self.img_pad_val}, seg_pad_val={self.seg_pad_val})')
