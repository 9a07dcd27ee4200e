"""MMSegInferencer for SPML models: weak-label loading steps removed from the test
pipeline, and optionally the k-means segments of the embedding drawn beside the
prediction (spml-method.md §3, §6.2)."""
import os.path as osp
from typing import List, Optional, Sequence

import mmcv
import numpy as np
import torch
import torch.nn.functional as F
from mmcv.transforms import Compose
from mmseg.apis import MMSegInferencer

from mmspml.functional import generate_segments
from .dense_prediction import spml_embedding_head

# steps of a test pipeline that need annotation files (absent at inference)
_ANNOTATION_STEPS = ('LoadAnnotations', 'LoadWeakAnnotations', 'LoadOverSegmentation',
                     'LoadDepthAnnotation')


def segment_boundaries(segments: np.ndarray) -> np.ndarray:
    """``[H, W]`` bool: pixels whose right or lower neighbour is in another segment."""
    edge = np.zeros(segments.shape, bool)
    edge[:, :-1] |= segments[:, :-1] != segments[:, 1:]
    edge[:-1] |= segments[:-1] != segments[1:]
    return edge


class SPMLInferencer(MMSegInferencer):
    """Inference on images with an SPML (stage-1, stage-2 or k-NN) model.

    Example::

        inferencer = SPMLInferencer('configs/stage2/camvid_scribbles.py', weights=CKPT,
                                    device='cpu', show_segments=True)
        result = inferencer('img.jpg', out_dir='vis')  # vis/vis/img.jpg

    Args:
        model (str | Config): config file or object.
        weights (str): checkpoint.
        show_segments (bool): draw the k-means segments of the SPML embedding (the
            decode head's for an SPML model, the ``SPMLAuxHead``'s for SPML mixed into
            an mmseg model: :func:`~mmspml.apis.dense_prediction.spml_embedding_head`; grid
            ``segment_grid``, ``segment_iterations`` iterations, location features) to
            the right of the prediction overlay.
        segment_grid (tuple[int, int]): k-means grid (12x12 as in §6.2).
        segment_iterations (int): k-means iterations.
        **kwargs: :class:`MMSegInferencer` arguments (``classes``, ``palette``,
            ``dataset_name``, ``device``, ``scope``).
    """

    def __init__(self, model, weights: Optional[str] = None, show_segments: bool = False,
                 segment_grid: Sequence[int] = (12, 12), segment_iterations: int = 10,
                 **kwargs) -> None:
        self.show_segments = bool(show_segments)
        self.segment_grid = tuple(int(g) for g in segment_grid)
        self.segment_iterations = int(segment_iterations)
        super().__init__(model, weights=weights, **kwargs)
        if self.show_segments and spml_embedding_head(self.model) is None:
            raise ValueError(
                f'SPMLInferencer: show_segments=True needs an SPML embedding, but the model '
                f'has neither an SPML decode head nor an SPMLAuxHead (decode head: '
                f'{type(self.model.decode_head).__name__})')

    def _init_pipeline(self, cfg) -> Compose:
        pipeline_cfg = [t for t in cfg.test_dataloader.dataset.pipeline
                        if t['type'] not in _ANNOTATION_STEPS]
        idx = self._get_transform_idx(pipeline_cfg, 'LoadImageFromFile')
        if idx == -1:
            raise ValueError('SPMLInferencer: LoadImageFromFile is not in the config\'s '
                             'test_dataloader.dataset.pipeline')
        pipeline_cfg[idx] = dict(pipeline_cfg[idx], type='InferencerLoader')
        return Compose(pipeline_cfg)

    @torch.no_grad()
    def forward(self, inputs, **kwargs) -> list:
        preds = self.model.test_step(inputs)
        if self.show_segments:
            data = self.model.data_preprocessor(inputs, False)
            head = spml_embedding_head(self.model)
            emb = head.forward(self.model.extract_feat(data['inputs']))
            for e, pred in zip(emb, preds):
                pred.set_field(self._segments(e, pred.metainfo), 'kmeans_segments',
                               field_type='metainfo')
        return preds

    def _segments(self, emb: torch.Tensor, meta: dict) -> np.ndarray:
        """k-means segment id ``[H, W]`` (original image size) of one embedding."""
        pad = meta.get('pad_shape', meta['img_shape'])[:2]
        h, w = meta['img_shape'][:2]
        emb = F.interpolate(emb[None], size=tuple(pad), mode='bilinear',
                            align_corners=False)[..., :h, :w]
        seg = generate_segments(emb, torch.zeros(1, h, w, dtype=torch.long,
                                                 device=emb.device), None,
                                self.segment_grid, self.segment_iterations)
        ids = np.empty(h * w, np.int64)
        ids[seg.pixel_index.cpu().numpy()] = seg.segment_ids.cpu().numpy()
        oh, ow = meta['ori_shape'][:2]
        return mmcv.imresize(ids.reshape(h, w).astype(np.int32), (ow, oh),
                             interpolation='nearest')

    def _init_model(self, cfg, weights: Optional[str], device: str = 'cpu'):
        # mmengine 0.10.7's BaseInferencer._init_model (Copyright OpenMMLab, Apache-2.0)
        # with the checkpoint read by mmspml's loader: mmengine's loader refuses the
        # numpy/mmengine objects of a training checkpoint under torch >= 2.6
        if not cfg:  # config taken from the checkpoint: mmengine's way
            return super()._init_model(cfg, weights, device)
        from mmseg.registry import MODELS

        from mmspml.utils.checkpoint import load_checkpoint_file
        checkpoint = (None if weights is None else
                      load_checkpoint_file(weights, map_location='cpu'))
        if cfg.model.get('pretrained') is not None:
            del cfg.model.pretrained
        model = MODELS.build(cfg.model)
        model.cfg = cfg
        self._load_weights_to_model(model, checkpoint, cfg)
        model.to(device)
        model.eval()
        return model

    def visualize(self, inputs: list, preds: List, return_vis: bool = False,
                  show: bool = False, wait_time: int = 0, img_out_dir: str = '',
                  opacity: float = 0.8, with_labels: Optional[bool] = True):
        if not self.show_segments:
            return super().visualize(inputs, preds, return_vis, show, wait_time,
                                     img_out_dir, opacity, with_labels)
        if img_out_dir == '' and not return_vis and not show:
            return None
        # the overlays first (returned, not written), then the segments beside them
        overlays = super().visualize(inputs, preds, True, False, 0, '', opacity,
                                     with_labels)
        results = []
        start = self.num_visualized_imgs - len(overlays)
        for i, (single_input, pred, overlay) in enumerate(zip(inputs, preds, overlays)):
            segments = pred.metainfo['kmeans_segments']
            img = overlay if overlay.shape[:2] == segments.shape else None
            rng = np.random.default_rng(0)
            colours = rng.integers(0, 255, (int(segments.max()) + 1, 3), dtype=np.uint8)
            if isinstance(single_input, str):
                raw = mmcv.imread(single_input, channel_order='rgb')
                name = osp.basename(single_input)
            else:
                raw = single_input[..., ::-1]
                name = f'{str(start + i).zfill(8)}_vis.jpg'
            seg_vis = (0.5 * raw + 0.5 * colours[segments]).astype(np.uint8)
            seg_vis[segment_boundaries(segments)] = 255
            vis = np.concatenate([overlay if img is not None else raw, seg_vis], axis=1)
            if show:
                self.visualizer.show(vis, win_name=name, wait_time=wait_time)
            if img_out_dir != '':
                mmcv.imwrite(vis[..., ::-1], osp.join(img_out_dir, name))
            results.append(vis)
        return results if return_vis else None
