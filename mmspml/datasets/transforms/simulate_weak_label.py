import hashlib
import os.path as osp
from collections import OrderedDict

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
        cache_size (int): how many weak labels each process keeps in memory, keyed by
            the image name and the dense label's bytes, so that an image seen again (every
            epoch) is not simulated again. The result is the same either way (the
            simulation depends only on those); it saves the simulation's CPU time in the
            dataloader workers (a CamVid scribble: 64 ms per image). 0 turns it off.
            Default 1024 (CamVid's 367 training labels take 16 MB per worker).
        **params: parameters of the simulator (``points_per_segment``, ``radius`` for
            points; ``length_fraction``, ``width`` for scribbles; ``min_segment_size``).
    """

    def __init__(self, kind: str = 'points', seed: int = 0, cache_size: int = 1024,
                 **params) -> None:
        if kind not in _KINDS:
            raise ValueError(f'SimulateWeakLabel: kind={kind!r}, expected one of {_KINDS}')
        if int(cache_size) < 0:
            raise ValueError(f'SimulateWeakLabel: cache_size={cache_size!r}, expected >= 0')
        self.kind = kind
        self.seed = int(seed)
        self.cache_size = int(cache_size)
        self.params = params
        self._cache: OrderedDict = OrderedDict()

    def transform(self, results: dict) -> dict:
        label = results['gt_seg_map']
        num_classes = results['num_classes']
        key = osp.splitext(osp.basename(results['img_path']))[0]
        unl = results.get('unlabeled_index', num_classes)
        if not self.cache_size:
            out = self._simulate(label, key, num_classes, unl)
        else:
            label_c = np.ascontiguousarray(label)
            memo_key = (key, num_classes, unl, label_c.shape, str(label_c.dtype),
                        hashlib.blake2b(label_c.tobytes(), digest_size=16).digest())
            out = self._cache.get(memo_key)
            if out is None:
                out = self._simulate(label, key, num_classes, unl)
                self._cache[memo_key] = out
                if len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
            else:
                self._cache.move_to_end(memo_key)
            out = out.copy()
        results['gt_seg_map'] = out
        return results

    def _simulate(self, label: np.ndarray, key: str, num_classes: int,
                  unl: int) -> np.ndarray:
        from ..weak_labels import simulators as wl
        rng = wl.make_rng(self.seed, key)
        if self.kind == 'points':
            out = wl.simulate_points(label, num_classes, rng, unlabeled_index=unl,
                                     **self.params)
        elif self.kind == 'scribbles':
            out = wl.simulate_scribbles(label, num_classes, rng, unlabeled_index=unl,
                                        **self.params)
        else:
            out, _ = wl.simulate_boxes(label, num_classes, **self.params)
        return np.ascontiguousarray(out, dtype=np.uint8)

    def __repr__(self) -> str:
        params = ', '.join(f'{k}={v!r}' for k, v in sorted(self.params.items()))
        return (f"{type(self).__name__}(kind='{self.kind}', seed={self.seed}"
                + (f', {params}' if params else '') + ')')
