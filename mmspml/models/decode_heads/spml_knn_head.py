"""SPML head whose test-time prediction is the k-NN vote of prototypes (spml-method.md §6.3)."""
import os.path as osp
import pickle
from typing import List, Optional, Sequence

import torch
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from torch import Tensor

from mmspml.functional import knn_segment_scores
from mmspml.functional._utils import check_scalar
from .spml_head import SPMLHead


def load_prototype_bank(path: str) -> dict:
    """Read a file of ``tools/extract_prototypes.py``; check its fields.

    Returns:
        dict: ``prototypes`` ``[M, D]`` float, ``labels`` ``[M]`` long (classes only),
        ``num_classes`` int, plus whatever metadata the file holds.
    """
    if not path or not osp.isfile(path):
        raise FileNotFoundError(
            f'prototype bank {path!r} does not exist; write it with '
            '"python tools/extract_prototypes.py CONFIG CKPT --out FILE"')
    try:  # tensors, strings, numbers, lists: nothing in a bank needs full unpickling
        bank = torch.load(path, map_location='cpu', weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError) as exc:
        raise ValueError(f'prototype bank {path!r} cannot be loaded with '
                         f'weights_only=True (a bank holds only tensors, strings, numbers '
                         f'and lists; write it with tools/extract_prototypes.py): '
                         f'{type(exc).__name__}: {exc}') from exc
    if not isinstance(bank, dict) or not {'prototypes', 'labels', 'num_classes'} <= set(bank):
        raise ValueError(f'prototype bank {path!r}: expected a dict with keys prototypes, '
                         f'labels, num_classes (tools/extract_prototypes.py)')
    protos, labels = bank['prototypes'], bank['labels']
    if protos.dim() != 2 or labels.shape != (protos.shape[0],) or protos.shape[0] == 0:
        raise ValueError(f'prototype bank {path!r}: prototypes {tuple(protos.shape)} and '
                         f'labels {tuple(labels.shape)} must be [M, D] and [M] with M >= 1')
    return bank


@MODELS.register_module()
class SPMLKNNHead(SPMLHead):
    """:class:`SPMLHead` predicting by k-NN label transfer instead of its classifier.

    Training is :class:`SPMLHead`'s (so a stage-1 checkpoint loads unchanged); at test
    time every image is segmented by spherical k-means on its embedding upsampled to the
    (padded) input size, and each segment takes the vote fractions of its ``knn_k``
    nearest prototypes of the bank written by ``tools/extract_prototypes.py`` (§6.2,
    §6.3). The returned "logits" are ``log(max(p, 1e-6))``, so mmseg's argmax gives the
    majority vote and ``SegTTAModel``'s softmax averages the vote fractions ``p`` over
    scales/flips (the soft multi-scale variant of §6.3 step 4).

    Args:
        prototype_file (str): the prototype bank (read on the first prediction).
        knn_k (int): neighbours (20).
        knn_grid (tuple[int, int]): k-means grid at test time (12x12 VOC, 24x24 DensePose).
        knn_iterations (int): k-means iterations (10).
        **kwargs: :class:`SPMLHead` arguments.
    """

    def __init__(self, prototype_file: Optional[str] = None, knn_k: int = 20,
                 knn_grid: Sequence[int] = (12, 12), knn_iterations: int = 10,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        check_scalar(knn_k, 'SPMLKNNHead: knn_k', integer=True, low=1)
        self.prototype_file = prototype_file
        self.knn_k = knn_k
        self.knn_grid = tuple(int(g) for g in knn_grid)
        self.knn_iterations = int(knn_iterations)
        self._bank = None

    def _memory(self, device, dtype):
        if self._bank is None:
            bank = load_prototype_bank(self.prototype_file)
            if int(bank['num_classes']) != self.num_classes:
                raise ValueError(f'prototype bank {self.prototype_file!r} has '
                                 f'{bank["num_classes"]} classes, the head {self.num_classes}')
            if bank['prototypes'].shape[1] != self.embed_dims:
                raise ValueError(f'prototype bank {self.prototype_file!r} has '
                                 f'{bank["prototypes"].shape[1]}-d prototypes, the head '
                                 f'embeds in {self.embed_dims} dims')
            self._bank = bank
        return (self._bank['prototypes'].to(device=device, dtype=dtype),
                self._bank['labels'].to(device=device).long())

    def predict(self, inputs, batch_img_metas: List[dict], test_cfg) -> Tensor:
        emb = self.forward(inputs)
        meta = batch_img_metas[0]
        # slide inference passes the window size as a torch.Size img_shape
        size = meta['img_shape'] if isinstance(meta['img_shape'], torch.Size) else \
            meta.get('pad_shape', meta['img_shape'])[:2]
        emb = resize(emb, size=size, mode='bilinear', align_corners=False)
        memory, labels = self._memory(emb.device, emb.dtype)
        scores = torch.stack([
            knn_segment_scores(e, memory, labels, self.num_classes, k=self.knn_k,
                               grid=self.knn_grid, iterations=self.knn_iterations)
            for e in emb])
        return self.predict_by_feat(scores.clamp_min(1e-6).log(), batch_img_metas)
