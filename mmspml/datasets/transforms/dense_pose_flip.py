from typing import Optional, Sequence, Union

import numpy as np
from mmseg.datasets.transforms import RandomFlip
from mmseg.registry import TRANSFORMS

#: DensePose part ids after a horizontal flip (spml-method.md §1.5 step 3): swaps
#: right/left hand (2, 3), foot (4, 5), thigh (6, 7), leg (8, 9), arm (10, 11) and
#: forearm (12, 13).
DENSEPOSE_FLIP_MAP = (0, 1, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 14)


@TRANSFORMS.register_module()
class DensePoseFlip(RandomFlip):
    """mmseg's ``RandomFlip`` (flips the image and every seg field) plus a left/right
    part swap in the label after a horizontal (or diagonal) flip.

    The swap is applied to the keys in ``swap_keys`` only (the label): mmcv's own
    ``swap_seg_labels`` would also permute the ids of the over-segmentation map. Values
    ``>= len(flip_map)`` (the unlabeled index, 255) are unchanged.

    Required Keys: ``img``, the ``seg_fields`` maps, ``gt_seg_map`` (np.uint8 [H, W]).

    Modified Keys: ``img``, every ``seg_fields`` map (flipped), ``gt_seg_map`` (flipped,
    then ids remapped by ``flip_map``).

    Added Keys: ``flip`` (bool), ``flip_direction`` (str or None),
    ``swap_seg_labels`` (None).

    Args:
        prob (float | list[float]): flip probability. Default 0.5.
        direction (str | list[str]): as mmcv's ``RandomFlip``. Default 'horizontal'.
        flip_map (sequence[int]): ``flip_map[v]`` is the id of part ``v`` after the flip;
            a permutation of ``0..len-1``. Default :data:`DENSEPOSE_FLIP_MAP`.
        swap_keys (sequence[str]): results keys whose ids are remapped.
            Default ``('gt_seg_map',)``.
    """

    def __init__(self,
                 prob: Optional[Union[float, Sequence[float]]] = 0.5,
                 direction: Union[str, Sequence[str]] = 'horizontal',
                 flip_map: Sequence[int] = DENSEPOSE_FLIP_MAP,
                 swap_keys: Sequence[str] = ('gt_seg_map', )) -> None:
        super().__init__(prob=prob, direction=direction)
        flip_map = tuple(int(v) for v in flip_map)
        if sorted(flip_map) != list(range(len(flip_map))):
            raise ValueError(f'DensePoseFlip: flip_map={flip_map} is not a permutation of '
                             f'0..{len(flip_map) - 1}')
        if isinstance(swap_keys, str):
            raise ValueError(f'DensePoseFlip: swap_keys={swap_keys!r}, expected a sequence '
                             'of keys')
        self.flip_map = flip_map
        self.swap_keys = tuple(swap_keys)
        self._map = np.asarray(flip_map)

    def _swap(self, seg: np.ndarray) -> np.ndarray:
        out = seg.copy()
        inside = seg < len(self.flip_map)
        out[inside] = self._map[seg[inside]]
        return out

    def _flip(self, results: dict) -> None:
        super()._flip(results)
        if results['flip_direction'] in ('horizontal', 'diagonal'):
            for key in self.swap_keys:
                if results.get(key) is not None:
                    results[key] = self._swap(results[key])

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(prob={self.prob}, direction={self.direction!r}, '
                f'flip_map={self.flip_map}, swap_keys={self.swap_keys})')
