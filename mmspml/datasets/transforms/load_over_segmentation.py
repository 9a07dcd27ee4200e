"""Loading of over-segmentation maps (SPML's "instance labels", spml-method.md §1.2, §1.4)."""
from typing import Optional

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio
from mmseg.registry import TRANSFORMS

_PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
# IHDR colour types that cannot hold one region id per pixel
_PNG_MULTI_CHANNEL = {2: 'an RGB', 3: 'a palette', 4: 'a grayscale+alpha', 6: 'an RGBA'}


def _png_colour_type(buf: bytes) -> Optional[int]:
    """The IHDR colour type of a PNG byte string, ``None`` if it is not a PNG."""
    if len(buf) >= 26 and buf[:8] == _PNG_SIGNATURE and buf[12:16] == b'IHDR':
        return buf[25]
    return None


@TRANSFORMS.register_module()
class LoadOverSegmentation(BaseTransform):
    """Load an over-segmentation map (region ids) and register it as a seg field.

    The map is read with OpenCV ``IMREAD_UNCHANGED``: an 8-bit (SPML's HED/PMI-owt-ucm
    maps, ids 0..255) or 16-bit (``tools/make_superpixels.py``, ids 0..65535)
    single-channel PNG. Region ids are arbitrary labels of a partition: only equality
    matters, so they are never remapped. Because the map is appended to ``seg_fields``,
    mmseg's ``RandomFlip``/``Resize``/``RandomCrop`` and mmspml's
    :class:`RandomRescale`/:class:`PadSegFields` treat it like the label (nearest
    interpolation, padding 255; padded pixels are 255 in the label too, so their region
    id never matters).

    Put it right after the image (and label) loading, before any geometric transform.

    Required Keys: ``overseg_path`` (str; set by the dataset when ``overseg_dir`` is
    given), optionally ``img`` and ``gt_seg_map`` (their sizes are checked).

    Added Keys: ``gt_overseg`` (np.int32 [H, W]); ``'gt_overseg'`` is appended to
    ``seg_fields``.

    Raises ``FileNotFoundError`` (missing file) or ``ValueError`` (palette/RGB/alpha PNG,
    undecodable file, not 8/16-bit, size different from the image or label), each naming
    the file.

    Args:
        backend_args (dict, optional): mmengine file backend arguments. Default None.
        compute_if_missing (dict, optional): when a sample has no ``overseg_path`` (the
            dataset's ``overseg_dir`` is not set), compute superpixels on the fly with
            :class:`ComputeSuperpixels` and these arguments (e.g.
            ``dict(method='slic', n_segments=300)``) — the same maps
            ``tools/make_superpixels.py`` writes with the same parameters. ``None``
            (default): a missing ``overseg_path`` is an error. So one pipeline serves both,
            and setting ``overseg_dir`` switches to pre-computed maps.
    """

    def __init__(self, backend_args: Optional[dict] = None,
                 compute_if_missing: Optional[dict] = None) -> None:
        self.backend_args = None if backend_args is None else dict(backend_args)
        self.compute_if_missing = (None if compute_if_missing is None else
                                   dict(compute_if_missing))
        self._compute = None
        if self.compute_if_missing is not None:
            from .compute_superpixels import ComputeSuperpixels
            self._compute = ComputeSuperpixels(**self.compute_if_missing)

    def transform(self, results: dict) -> dict:
        path = results.get('overseg_path')
        if path is None and self._compute is not None:
            return self._compute(results)
        if path is None:
            raise KeyError(
                'LoadOverSegmentation: the sample has no overseg_path; set overseg_dir in '
                f'the dataset config (image {results.get("img_path")!r})')
        try:
            buf = fileio.get(path, backend_args=self.backend_args)
        except FileNotFoundError as exc:
            raise FileNotFoundError(
                f'over-segmentation file {path!r} does not exist') from exc
        ctype = _png_colour_type(buf)
        if ctype in _PNG_MULTI_CHANNEL:
            raise ValueError(
                f'over-segmentation file {path!r} is {_PNG_MULTI_CHANNEL[ctype]} PNG; '
                'expected a single-channel 8- or 16-bit grayscale PNG of region ids '
                '(tools/make_superpixels.py writes them)')
        ovs = cv2.imdecode(np.frombuffer(buf, np.uint8), cv2.IMREAD_UNCHANGED)
        if ovs is None:
            raise ValueError(f'over-segmentation file {path!r} could not be decoded '
                             '(corrupt or not an image)')
        if ovs.ndim != 2:
            raise ValueError(f'over-segmentation file {path!r}: expected a single-channel '
                             f'map of region ids, got an array of shape {ovs.shape}')
        if ovs.dtype not in (np.uint8, np.uint16):
            raise ValueError(f'over-segmentation file {path!r}: expected 8- or 16-bit '
                             f'region ids, got dtype {ovs.dtype}')
        for key, what in (('img', 'image'), ('gt_seg_map', 'label')):
            ref = results.get(key)
            if ref is not None and ref.shape[:2] != ovs.shape:
                raise ValueError(
                    f'over-segmentation file {path!r} has size {ovs.shape[::-1]} (w, h) '
                    f'but the {what} has size {ref.shape[1::-1]}; load it before any '
                    'geometric transform and check that it belongs to '
                    f'{results.get("img_path")!r}')
        results['gt_overseg'] = ovs.astype(np.int32)
        seg_fields = results.setdefault('seg_fields', [])
        if 'gt_overseg' not in seg_fields:
            seg_fields.append('gt_overseg')
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(backend_args={self.backend_args}, '
                f'compute_if_missing={self.compute_if_missing})')
