"""EncoderDecoder with DenseCRF post-processing (spml-method.md §6.4 ``*_crf`` scripts)."""
from typing import Optional

from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS

from mmspml.functional import dense_crf_available
from mmspml.functional.dense_crf import CRF_MISSING
from ._crf_refine import crf_refine


@MODELS.register_module()
class CRFEncoderDecoder(EncoderDecoder):
    """:class:`EncoderDecoder` whose test predictions are refined by DenseCRF.

    After mmseg's post-processing (padding removed, flip undone, logits resized to the
    original image), ``softmax(logits)`` and the original image (read from ``img_path``)
    go through :func:`mmspml.functional.dense_crf` (§6.6 parameters unless ``crf_cfg``
    says otherwise); ``pred_sem_seg`` is the argmax of the CRF marginals, ``seg_logits``
    stay the network's. Switch a config to it with ``model.type=CRFEncoderDecoder``
    (for multi-scale + flip use ``tta_model.type=CRFSegTTAModel`` instead, which applies
    the CRF once, to the averaged probabilities).

    Args:
        crf_cfg (dict, optional): arguments of ``dense_crf`` (``iterations``, ...).
        **kwargs: :class:`EncoderDecoder` arguments.
    """

    def __init__(self, crf_cfg: Optional[dict] = None, **kwargs) -> None:
        if not dense_crf_available():
            raise ImportError(CRF_MISSING)
        super().__init__(**kwargs)
        self.crf_cfg = dict(crf_cfg or {})

    def postprocess_result(self, seg_logits, data_samples=None):
        data_samples = super().postprocess_result(seg_logits, data_samples)
        if self.out_channels > 1:
            for sample in data_samples:
                crf_refine(sample, sample.seg_logits.data.softmax(dim=0), self.crf_cfg)
        return data_samples
