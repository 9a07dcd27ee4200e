from .crf_encoder_decoder import CRFEncoderDecoder
from .crf_seg_tta_model import CRFSegTTAModel

__all__ = ['CRFEncoderDecoder', 'CRFSegTTAModel']
