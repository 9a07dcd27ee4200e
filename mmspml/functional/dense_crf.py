"""Fully connected CRF post-processing (spml-method.md §6.6) with ``pydensecrf2``.

Shape shorthand: C classes, H x W image. NumPy in, NumPy out; the optional dependency
is imported on first use (``pip install .[crf]``).
"""
import numpy as np

CRF_MISSING = ('DenseCRF needs the optional package pydensecrf2: pip install pydensecrf2 '
               '(or pip install .[crf] in the mmspml checkout)')


def dense_crf_available() -> bool:
    """Whether ``pydensecrf`` (from ``pydensecrf2``) can be imported."""
    try:
        import pydensecrf.densecrf  # noqa: F401
    except ImportError:
        return False
    return True


def dense_crf(image: np.ndarray, probs: np.ndarray, iterations: int = 10,
              gaussian_sxy: float = 1.0, gaussian_compat: float = 3.0,
              bilateral_sxy: float = 67.0, bilateral_srgb: float = 3.0,
              bilateral_compat: float = 4.0) -> np.ndarray:
    """Mean-field DenseCRF with the reference's parameters (§6.6).

    Unary ``-log(clip(p, 1e-5, 1))`` (scores need not sum to 1; values above 1 are
    clipped, §8 item 21), Gaussian pairwise ``sxy = 1, compat = 3``, bilateral pairwise
    ``sxy = 67, srgb = 3, compat = 4``, 10 iterations.

    Args:
        image (np.ndarray): ``[H, W, 3]`` uint8 RGB.
        probs (np.ndarray): ``[C, H, W]`` floating class scores.
        iterations (int): mean-field iterations.

    Returns:
        np.ndarray: ``[C, H, W]`` float32 marginals (sum 1 per pixel).

    Raises:
        ImportError: one line saying how to install ``pydensecrf2``.
    """
    try:
        import pydensecrf.densecrf as dcrf
    except ImportError:
        raise ImportError(CRF_MISSING) from None
    image = np.asarray(image)
    probs = np.asarray(probs)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f'image must be uint8 [H, W, 3], got {image.dtype} {image.shape}')
    if probs.ndim != 3 or probs.shape[1:] != image.shape[:2]:
        raise ValueError(f'probs must be [C, H, W] with H, W = {image.shape[:2]}, got '
                         f'{probs.shape}')
    c, h, w = probs.shape
    crf = dcrf.DenseCRF2D(w, h, c)
    # pydensecrf reads raw buffers: both arrays must be C-contiguous of the exact dtype
    unary = np.ascontiguousarray(-np.log(np.clip(probs, 1e-5, 1.0)).reshape(c, -1),
                                 dtype=np.float32)
    crf.setUnaryEnergy(unary)
    crf.addPairwiseGaussian(sxy=gaussian_sxy, compat=gaussian_compat)
    crf.addPairwiseBilateral(sxy=bilateral_sxy, srgb=bilateral_srgb,
                             rgbim=np.ascontiguousarray(image), compat=bilateral_compat)
    q = crf.inference(int(iterations))
    return np.asarray(q, dtype=np.float32).reshape(c, h, w)
