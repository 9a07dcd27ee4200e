"""Whole-image embedding / class scores of a trained segmentor and the training images
with their weak (and dense) labels: the shared ground of ``tools/extract_prototypes.py``,
``tools/make_pseudo_labels.py`` and ``tools/make_cam_seeds.py`` (spml-method.md §6).

Images are processed one at a time, at their own size (no crop, no padding beyond what
the network needs), as the reference's pseudo-label and prototype scripts do (§6.5).
"""
import os.path as osp
from typing import Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS, TRANSFORMS
from torch import Tensor

from mmspml.functional import l2_normalize
from mmspml.utils.launch import prepare_cpu_runtime

# transforms of a training pipeline that produce the label without changing geometry
_LABEL_STEPS = ('LoadImageFromFile', 'LoadWeakAnnotations', 'LoadAnnotations',
                'SimulateWeakLabel')
_SIMULATORS = ('SimulateWeakLabel',)


def load_config(config: str, cfg_options: Optional[dict] = None) -> Config:
    """``Config.fromfile`` + ``--cfg-options``, SyncBN -> BN without a GPU."""
    if not osp.isfile(config):
        raise FileNotFoundError(f'config file {config!r} does not exist')
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    prepare_cpu_runtime(cfg, 'none')
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    return cfg


def build_segmentor(cfg: Config, checkpoint: str, device: str = 'cpu'):
    """The config's model with ``checkpoint`` loaded, in eval mode (the file is read by
    :func:`~mmspml.utils.checkpoint.load_local_checkpoint`: ``weights_only=True`` with
    mmengine's types allow-listed)."""
    from mmengine.runner.checkpoint import _load_checkpoint_to_model
    from mmseg.apis import init_model

    from mmspml.utils.checkpoint import load_local_checkpoint
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint file {checkpoint!r} does not exist')
    model = init_model(cfg, None, device='cpu')
    state = load_local_checkpoint(checkpoint, map_location='cpu')
    _load_checkpoint_to_model(model, state)
    meta = state.get('meta', {}).get('dataset_meta') if isinstance(state, dict) else None
    if meta is not None:
        model.dataset_meta = meta
    return model.to(device).eval()


class TrainingSample:
    """One training image: ``name``, ``img`` (BGR ``[H, W, 3]``, uint8 or float32),
    ``weak`` (uint8 ``[H, W]``: classes, the unlabeled index, 255), ``dense`` (uint8
    ``[H, W]`` or ``None`` when no dense label is known) and ``tag_ids`` (the image-level
    class ids of a tags file, or ``None``: then the classes of ``weak`` are the tags)."""

    def __init__(self, name, img, weak, dense, tag_ids=None):
        self.name, self.img, self.weak, self.dense = name, img, weak, dense
        self.tag_ids = tag_ids

    def classes(self, num_classes: int) -> np.ndarray:
        """Sorted class ids of the image's weak label (its tags when it has tag ids)."""
        if self.tag_ids is not None:
            return np.unique(np.asarray(self.tag_ids, dtype=np.int64))
        values = np.unique(self.weak)
        return values[values < num_classes].astype(np.int64)


def training_samples(cfg: Config, split: Optional[str] = None) -> Tuple[object, List[dict]]:
    """The training dataset (``train_dataloader.dataset``) and its label pipeline.

    The label pipeline is the config's training pipeline reduced to the steps that load
    the image/label and simulate the weak label (no resize, crop or flip). Returns the
    dataset and the list of transforms (built).
    """
    ds_cfg = cfg.train_dataloader.dataset.copy()
    if split is not None:
        ds_cfg['split'] = split
    steps = [t for t in ds_cfg.get('pipeline', []) if t['type'] in _LABEL_STEPS]
    if not any(t['type'] == 'LoadImageFromFile' for t in steps):
        steps.insert(0, dict(type='LoadImageFromFile'))
    ds_cfg['pipeline'] = []
    dataset = DATASETS.build(ds_cfg)
    return dataset, [TRANSFORMS.build(t) for t in steps]


def iter_training_samples(dataset, steps, indices: Optional[Sequence[int]] = None,
                          dense_label_dir: Optional[str] = None) -> Iterator[TrainingSample]:
    """Yield :class:`TrainingSample` for ``indices`` (default: all) of ``dataset``.

    The dense label is the loaded label file when the pipeline simulates the weak label
    from it (CamVid), or ``NAME.png`` of the first of ``dense_label_dir`` (one directory
    or a list) that has it (e.g. VOC's ``VOC2012/segcls`` and ``sbd/dataset/clsimg``);
    otherwise ``None``.
    """
    for i in range(len(dataset)) if indices is None else indices:
        yield load_training_sample(dataset, steps, i, dense_label_dir)


def load_training_sample(dataset, steps, index: int,
                         dense_label_dir: Optional[str] = None) -> TrainingSample:
    results = dataset.get_data_info(index)
    dense = None
    for t in steps:
        if type(t).__name__ in _SIMULATORS and dense is None:
            dense = results['gt_seg_map'].copy()
        results = t(results)
    name = results.get('name') or osp.splitext(osp.basename(results['img_path']))[0]
    if dense_label_dir:
        dirs = [dense_label_dir] if isinstance(dense_label_dir, str) else dense_label_dir
        paths = [osp.join(d, name + '.png') for d in dirs]
        found = [p for p in paths if osp.isfile(p)]
        dense = cv2.imread(found[0], cv2.IMREAD_UNCHANGED) if found else None
        if dense is None:
            raise FileNotFoundError(f'dense label of {name} not found (or not an image) in '
                                    f'--dense-label-dir {dirs}')
    return TrainingSample(name, results['img'], results['gt_seg_map'], dense,
                          results.get('img_tag_ids'))


def spml_aux_head(model):
    """The :class:`SPMLAuxHead` among ``model.auxiliary_head`` (SPML mixed into an mmseg
    model), or ``None``."""
    from mmspml.models.decode_heads import SPMLAuxHead
    aux = getattr(model, 'auxiliary_head', None)
    heads = aux if isinstance(aux, torch.nn.ModuleList) else [aux]
    return next((h for h in heads if isinstance(h, SPMLAuxHead)), None)


def spml_embedding_head(model):
    """The head of ``model`` whose ``forward(features)`` is the SPML embedding, or ``None``.

    The decode head when it is an SPML head (:class:`SPMLHead`, :class:`SPMLKNNHead`,
    :class:`SPMLStage2Head`); for SPML mixed into an mmseg model (any other decode head),
    the :class:`SPMLAuxHead` of ``auxiliary_head``; ``None`` for a plain mmseg model. The
    one place where the pipeline tools and :class:`SPMLInferencer` find the embedding.
    """
    from mmspml.models.decode_heads import SPMLHead, SPMLStage2Head
    head = getattr(model, 'decode_head', None)
    if isinstance(head, (SPMLHead, SPMLStage2Head)):
        return head
    return spml_aux_head(model)


def preprocess_for_test(model, inputs: List[Tensor], data_samples=None) -> Tuple[Tensor, list]:
    """``model.data_preprocessor`` in test mode, with data samples (made when not given).

    ``SegDataPreProcessor`` pads test images when it has a ``test_cfg`` (``size`` or
    ``size_divisor``) and writes the padding into the samples' metainfo, so it needs
    them. Returns the batch ``[B, 3, H', W']`` and the samples (``img_shape`` and, when
    padded, ``pad_shape`` in their metainfo).
    """
    from mmseg.structures import SegDataSample
    if data_samples is None:
        data_samples = []
        for x in inputs:
            size = tuple(x.shape[-2:])
            data_samples.append(SegDataSample(metainfo=dict(
                img_shape=size, ori_shape=size, pad_shape=size)))
    data = model.data_preprocessor(dict(inputs=inputs, data_samples=data_samples),
                                   training=False)
    return data['inputs'], data['data_samples']


def unpad(x: Tensor, padded_size: Sequence[int], img_size: Sequence[int]) -> Tensor:
    """``[B, C, h, w]`` network output of a padded ``padded_size`` input -> the part that
    covers the ``img_size`` image (top-left; ``x`` itself when nothing was padded).

    As mmseg's ``predict_by_feat``: resized (bilinear) to the padded input size, then
    cropped, so the result is at ``img_size``.
    """
    if tuple(padded_size) == tuple(img_size):
        return x
    x = F.interpolate(x, size=tuple(padded_size), mode='bilinear', align_corners=False)
    return x[..., :img_size[0], :img_size[1]]


@torch.no_grad()
def embedding_and_logits(model, img: np.ndarray, scale: float = 1.0,
                         flip: bool = False) -> Tuple[Optional[Tensor], Optional[Tensor]]:
    """Raw stride-4 embedding and class logits of one image (one "pass" of §6.1).

    Args:
        model: an mmseg ``EncoderDecoder``: with an SPML decode head (``forward`` gives
            the embedding; ``classify`` the logits when the head has a classifier), or
            with SPML mixed in (any decode head gives the logits, the
            :class:`SPMLAuxHead` of ``auxiliary_head`` the embedding), or a plain mmseg
            model (logits only, no embedding); see :func:`spml_embedding_head`.
        img (np.ndarray): BGR uint8 ``[H, W, 3]``.
        scale (float): the image is resized by ``scale`` (bilinear) first.
        flip (bool): horizontal flip; the outputs are flipped back.

    Returns:
        tuple: embedding ``[D, h, w]`` (or ``None``) and logits ``[C, h, w]`` (or
        ``None``), float32, covering the (rescaled) image: at the network's output size,
        or, when the data preprocessor pads the image (its ``test_cfg``: ``size`` or
        ``size_divisor``), resized to the padded size and cropped to the image.
    """
    if scale != 1.0:
        h, w = img.shape[:2]
        img = cv2.resize(img, (max(1, int(w * scale)), max(1, int(h * scale))),
                         interpolation=cv2.INTER_LINEAR)
    if flip:
        img = img[:, ::-1]
    device = next(model.parameters()).device
    x = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))).to(device)
    inputs, _ = preprocess_for_test(model, [x])
    head = model.decode_head
    feats = model.extract_feat(inputs)
    emb_head = spml_embedding_head(model)
    emb = None if emb_head is None else emb_head.forward(feats)
    if emb_head is head:  # an SPML decode head: its classifier on the embedding
        logits = head.classify(emb) if hasattr(head, 'classify') else None
    else:  # an mmseg decode head gives the logits (the mixed-in SPML head the embedding)
        logits = head.forward(feats)
    out = []
    for y in (emb, logits):
        if y is not None:
            y = unpad(y, inputs.shape[-2:], img.shape[:2])
        out.append(None if y is None else (y.flip(-1) if flip else y)[0].float())
    return tuple(out)


def resize_scores(x: Tensor, size: Sequence[int]) -> Tensor:
    """Bilinear resize of a ``[C, h, w]`` map to ``size`` (``align_corners=False``)."""
    return F.interpolate(x[None], size=tuple(int(s) for s in size), mode='bilinear',
                         align_corners=False)[0]


def normalized_embedding(emb: Tensor, size: Sequence[int]) -> Tensor:
    """``l2n`` of the embedding, then resized to ``size`` (§6.5)."""
    return resize_scores(l2_normalize(emb, dim=0), size)
