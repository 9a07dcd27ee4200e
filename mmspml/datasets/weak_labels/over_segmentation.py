"""Over-segmentation: SLIC / Felzenszwalb superpixels (scikit-image) as region-id maps."""
import numpy as np

from mmspml.functional._utils import check_scalar


_SUPERPIXEL_DEFAULTS = {
    'slic': dict(n_segments=300, compactness=10.0, sigma=1.0),
    'felzenszwalb': dict(scale=100.0, sigma=0.8, min_size=50),
}


def superpixels(image, method: str = 'slic', **params) -> np.ndarray:
    """Colour-based over-segmentation, a stand-in for HED/PMI-owt-ucm regions (§1.4).

    Args:
        image (np.ndarray): uint8 [H, W, 3], RGB.
        method (str): ``'slic'`` (params ``n_segments=300, compactness=10.0, sigma=1.0``; SLIC in
            CIELAB with connectivity enforced) or ``'felzenszwalb'`` (params ``scale=100.0,
            sigma=0.8, min_size=50``). Both are deterministic.
        **params: overrides of the parameters above.

    Returns:
        np.ndarray: uint16 [H, W] region ids ``0..K-1``, every id used.
    """
    from skimage.segmentation import felzenszwalb, slic  # local: heavy import

    if method not in _SUPERPIXEL_DEFAULTS:
        raise ValueError(f'method must be one of {tuple(_SUPERPIXEL_DEFAULTS)}, got {method!r}')
    unknown = sorted(set(params) - set(_SUPERPIXEL_DEFAULTS[method]))
    if unknown:
        raise ValueError(f'unknown {method} parameters {unknown}; '
                         f'expected {sorted(_SUPERPIXEL_DEFAULTS[method])}')
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f'image must be uint8 [H, W, 3] RGB, got {image.dtype} {image.shape}')
    kwargs = {**_SUPERPIXEL_DEFAULTS[method], **params}
    for key, value in kwargs.items():
        positive = key in ('n_segments', 'compactness', 'scale')
        value = check_scalar(value, f'{method}: {key}', low=0, low_open=positive)
        if key in ('n_segments', 'min_size') and value != int(value):
            raise ValueError(f'{method}: {key} must be a whole number, got {value!r}')
    if method == 'slic':
        regions = slic(image, n_segments=int(kwargs['n_segments']),
                       compactness=float(kwargs['compactness']), sigma=float(kwargs['sigma']),
                       start_label=0, enforce_connectivity=True, channel_axis=-1)
    else:
        regions = felzenszwalb(image, scale=float(kwargs['scale']), sigma=float(kwargs['sigma']),
                               min_size=int(kwargs['min_size']), channel_axis=-1)
    _, contiguous = np.unique(regions, return_inverse=True)
    num = int(contiguous.max()) + 1
    if num > np.iinfo(np.uint16).max + 1:
        raise ValueError(f'{method} produced {num} regions; at most 65536 fit into uint16 ids')
    return contiguous.reshape(regions.shape).astype(np.uint16)


