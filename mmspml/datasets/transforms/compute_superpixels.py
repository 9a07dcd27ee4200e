import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class ComputeSuperpixels(BaseTransform):
    """Over-segmentation computed on the fly (SLIC / Felzenszwalb, scikit-image).

    The zero-preparation alternative to reading maps written by
    ``tools/make_superpixels.py`` (same function, same parameters, same result). Both
    methods are deterministic. Put it right after the image is loaded, before any
    geometric transform, so the map then follows the image like the label.

    Required Keys: ``img`` ([H, W, 3] BGR as loaded by mmcv, uint8 or float 0..255).

    Added Keys: ``gt_overseg`` (np.int32 [H, W] region ids from 0); appended to
    ``seg_fields``.

    Args:
        method (str): ``'slic'`` or ``'felzenszwalb'``.
        **params: parameters of :func:`mmspml.datasets.weak_labels.over_segmentation.superpixels`
            (SLIC: ``n_segments``, ``compactness``, ``sigma``; Felzenszwalb: ``scale``,
            ``sigma``, ``min_size``).
    """

    def __init__(self, method: str = 'slic', **params) -> None:
        if method not in ('slic', 'felzenszwalb'):
            raise ValueError(f"ComputeSuperpixels: method={method!r}, expected 'slic' or "
                             "'felzenszwalb'")
        self.method = method
        self.params = params

    def transform(self, results: dict) -> dict:
        from ..weak_labels.over_segmentation import superpixels
        img = results['img']
        if img.dtype != np.uint8:  # LoadImageFromFile(to_float32=True) keeps 0..255 values
            img = np.clip(np.rint(img), 0, 255).astype(np.uint8)
        rgb = np.ascontiguousarray(img[..., ::-1])
        results['gt_overseg'] = superpixels(rgb, method=self.method,
                                            **self.params).astype(np.int32)
        if 'gt_overseg' not in results.setdefault('seg_fields', []):
            results['seg_fields'].append('gt_overseg')
        return results

    def __repr__(self) -> str:
        params = ', '.join(f'{k}={v!r}' for k, v in sorted(self.params.items()))
        return (f"{type(self).__name__}(method='{self.method}'"
                + (f', {params}' if params else '') + ')')
