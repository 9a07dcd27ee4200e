"""Multi-scale + flip test with DenseCRF on the averaged probabilities (spml-method.md §6.4
``inference_softmax_crf_msc.py``)."""
from typing import List, Optional

from mmseg.models.segmentors import SegTTAModel
from mmseg.registry import MODELS

from mmspml.functional import dense_crf_available
from mmspml.functional.dense_crf import CRF_MISSING
from ._crf_refine import crf_refine


@MODELS.register_module()
class CRFSegTTAModel(SegTTAModel):
    """:class:`SegTTAModel` (softmax probabilities averaged over the augmented views)
    followed by DenseCRF on the averaged probabilities and the original image.

    Use with ``tools/test.py --tta --cfg-options tta_model.type=CRFSegTTAModel``.

    Args:
        crf_cfg (dict, optional): arguments of :func:`mmspml.functional.dense_crf`.
        **kwargs: :class:`SegTTAModel` arguments.
    """

    def __init__(self, crf_cfg: Optional[dict] = None, **kwargs) -> None:
        if not dense_crf_available():
            raise ImportError(CRF_MISSING)
        super().__init__(**kwargs)
        self.crf_cfg = dict(crf_cfg or {})

    def merge_preds(self, data_samples_list: List[list]) -> list:
        predictions = super().merge_preds(data_samples_list)
        if self.module.out_channels > 1:
            for pred, views in zip(predictions, data_samples_list):
                probs = sum(v.seg_logits.data.softmax(dim=0) for v in views) / len(views)
                crf_refine(pred, probs, self.crf_cfg)
        return predictions
