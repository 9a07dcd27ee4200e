import os.path as osp

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

_KINDS = ('points', 'scribbles', 'boxes')


@TRANSFORMS.register_module()
class SimulateWeakLabel(BaseTransform):
    """Turn a dense label into a weak label on the fly, deterministically.

    The randomness of an image depends only on ``seed`` and the image name
    (:func:`mmspml.datasets.weak_labels.simulators.make_rng`), so every epoch, process and worker
    sees the same weak label, identical to what ``tools/simulate_weak_labels.py`` writes
    with the same arguments. Put it right after the label is loaded, before any
    geometric transform.

    Required Keys: ``gt_seg_map`` (np.uint8 [H, W], dense), ``img_path``,
    ``num_classes``, ``unlabeled_index`` (from the dataset).

    Modified Keys: ``gt_seg_map`` (np.uint8 [H, W]: classes where labeled, the unlabeled
    index elsewhere, 255 kept where the dense label is 255).

    Args:
        kind (str): ``'points'``, ``'scribbles'`` or ``'boxes'``.
        seed (int): base seed. Default 0.
        **params: parameters of the simulator (``points_per_segment``, ``radius`` for
            points; ``length_fraction``, ``width`` for scribbles; ``min_segment_size``).
    """

    def __init__(self, kind: str = 'points', seed: int = 0, **params) -> None:
        if kind not in _KINDS:
            raise ValueError(f'SimulateWeakLabel: kind={kind!r}, expected one of {_KINDS}')
        self.kind = kind
        self.seed = int(seed)
        self.params = params

    def transform(self, results: dict) -> dict:
        from ..weak_labels import simulators as wl
        label = results['gt_seg_map']
        num_classes = results['num_classes']
        key = osp.splitext(osp.basename(results['img_path']))[0]
        rng = wl.make_rng(self.seed, key)
        unl = results.get('unlabeled_index', num_classes)
        if self.kind == 'points':
            out = wl.simulate_points(label, num_classes, rng, unlabeled_index=unl,
                                     **self.params)
        elif self.kind == 'scribbles':
            out = wl.simulate_scribbles(label, num_classes, rng, unlabeled_index=unl,
                                        **self.params)
        else:
            out, _ = wl.simulate_boxes(label, num_classes, **self.params)
        results['gt_seg_map'] = np.ascontiguousarray(out, dtype=np.uint8)
        return results

    def __repr__(self) -> str:
        params = ', '.join(f'{k}={v!r}' for k, v in sorted(self.params.items()))
        return (f"{type(self).__name__}(kind='{self.kind}', seed={self.seed}"
                + (f', {params}' if params else '') + ')')
