from typing import Sequence

import numpy as np
from mmcv.transforms.utils import cache_randomness
from mmseg.datasets.transforms import Resize
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomRescale(Resize):
    """Rescale by a random factor of the image's *own* size (spml-method.md §1.5 step 4).

    ``r ~ U(ratio_range)`` (``np.random``, like mmseg's ``RandomCrop``); the new size is
    ``(int(r * H), int(r * W))`` -- truncated as in SPML, where mmcv's ``scale_factor``
    rounds -- and at least 1 pixel. The image is resized with ``interpolation``
    (bilinear), every key in ``seg_fields`` (label, over-segmentation map) with nearest
    neighbour, by mmseg's ``Resize``. mmcv's ``RandomResize`` instead scales towards a
    fixed target size, which is not SPML's augmentation (§10).

    Required Keys: ``img`` (np.ndarray [H, W, 3]), optionally the ``seg_fields`` maps
    ([H, W], any integer dtype).

    Modified Keys: ``img`` ([H', W', 3], same dtype), every ``seg_fields`` map
    ([H', W'], same dtype and values), ``img_shape``.

    Added Keys: ``scale`` ((W', H')), ``scale_factor`` ((W'/W, H'/H)), ``keep_ratio``
    (False).

    Args:
        ratio_range (tuple[float, float]): bounds of the uniform factor, 0 < a <= b.
            Default (0.5, 1.5) (stage 1; SPML's stage 2 uses (0.5, 2.0)).
        interpolation (str): image interpolation. Default 'bilinear'.
        backend (str): 'cv2' (as SPML) or 'pillow'. Default 'cv2'.
    """

    def __init__(self,
                 ratio_range: Sequence[float] = (0.5, 1.5),
                 interpolation: str = 'bilinear',
                 backend: str = 'cv2') -> None:
        if (not isinstance(ratio_range, (tuple, list)) or len(ratio_range) != 2
                or not 0 < ratio_range[0] <= ratio_range[1]):
            raise ValueError(f'RandomRescale: ratio_range={ratio_range!r}, expected '
                             '(a, b) with 0 < a <= b')
        super().__init__(scale_factor=1.0, keep_ratio=False, interpolation=interpolation,
                         backend=backend)
        self.ratio_range = (float(ratio_range[0]), float(ratio_range[1]))

    @cache_randomness
    def _random_ratio(self) -> float:
        return float(np.random.uniform(*self.ratio_range))

    def transform(self, results: dict) -> dict:
        ratio = self._random_ratio()
        h, w = results['img'].shape[:2]
        # the guard keeps 1-pixel-wide images alive at r < 1 (SPML would crash there)
        new_h, new_w = max(int(ratio * h), 1), max(int(ratio * w), 1)
        results['scale'] = (new_w, new_h)
        self._resize_img(results)
        self._resize_bboxes(results)
        self._resize_seg(results)
        self._resize_keypoints(results)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(ratio_range={self.ratio_range}, '
                f"interpolation='{self.interpolation}', backend='{self.backend}')")
