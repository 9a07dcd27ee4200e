"""DenseCRF refinement of a predicted SegDataSample (spml-method.md §6.6)."""
import mmcv
import numpy as np
import torch
from mmengine.structures import PixelData

from mmspml.functional import dense_crf


def crf_refine(data_sample, probs: torch.Tensor, crf_cfg: dict) -> None:
    """Replace ``pred_sem_seg`` of ``data_sample`` by the argmax of DenseCRF(``probs``).

    Args:
        data_sample (SegDataSample): with ``img_path``; ``probs`` are at its
            ``ori_shape`` (as after ``postprocess_result``).
        probs (Tensor): ``[C, H, W]`` class probabilities.
        crf_cfg (dict): keyword arguments of :func:`mmspml.functional.dense_crf`.
    """
    img = mmcv.imread(data_sample.img_path, channel_order='rgb')
    h, w = probs.shape[-2:]
    if img.shape[:2] != (h, w):
        img = mmcv.imresize(img, (w, h))
    q = dense_crf(np.ascontiguousarray(img), probs.detach().float().cpu().numpy(), **crf_cfg)
    pred = torch.from_numpy(q.argmax(axis=0)).to(probs.device)[None]
    data_sample.set_data({'pred_sem_seg': PixelData(data=pred)})
