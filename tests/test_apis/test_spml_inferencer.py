"""SPMLInferencer and demo/image_demo.py on a generated image with a randomly initialised
stage-2 model (checkpoint written here)."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmseg.registry import MODELS

from tests.conftest import REPO, write_camvid_tree
from tests.test_tools._run import python

CONFIG = osp.join(REPO, 'configs', 'stage2', 'camvid_scribbles.py')


@pytest.fixture(scope='module')
def model_files(tmp_path_factory):
    root = tmp_path_factory.mktemp('inferencer')
    write_camvid_tree(str(root / 'camvid'), splits=(('val', 1),), size=(36, 52))
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(CONFIG).model)
    model.init_weights()
    ckpt = str(root / 'model.pth')
    meta = dict(dataset_meta=dict(classes=_classes(),
                                  palette=_palette()))
    torch.save(dict(state_dict=model.state_dict(), meta=meta), ckpt)
    return dict(img=str(root / 'camvid' / 'images' / 'val' / 'val_000.jpg'), ckpt=ckpt,
                root=root)


def _classes():
    from mmspml.datasets import CamVidDataset
    return CamVidDataset.METAINFO['classes']


def _palette():
    from mmspml.datasets import CamVidDataset
    return CamVidDataset.METAINFO['palette']


def test_inferencer_prediction_and_segments(model_files):
    from mmspml.apis.spml_inferencer import SPMLInferencer, segment_boundaries
    inf = SPMLInferencer(CONFIG, weights=model_files['ckpt'], device='cpu',
                         show_segments=True, segment_grid=(3, 4))
    result = inf(model_files['img'], return_vis=True, return_datasamples=False)
    pred, vis = result['predictions'], result['visualization']
    vis = vis[0] if isinstance(vis, list) else vis
    assert pred.shape == (36, 52) and pred.max() < 11
    assert vis.shape == (36, 104, 3)  # overlay | segments
    sample = inf(model_files['img'], return_datasamples=True)
    segments = sample.metainfo['kmeans_segments']
    assert segments.shape == (36, 52) and 1 < len(np.unique(segments)) <= 12
    raw = cv2.imread(model_files['img'])[..., ::-1]
    edge = segment_boundaries(segments)
    assert (vis[:, 52:][edge] == 255).all()
    assert not np.array_equal(vis[:, :52], raw)  # the prediction is painted

    plain = SPMLInferencer(CONFIG, weights=model_files['ckpt'], device='cpu')
    result = plain(model_files['img'], return_vis=True)
    np.testing.assert_array_equal(result['predictions'], pred)
    vis = result['visualization']
    assert (vis[0] if isinstance(vis, list) else vis).shape == (36, 52, 3)


def test_segment_boundaries():
    from mmspml.apis.spml_inferencer import segment_boundaries
    seg = np.array([[0, 0, 1], [0, 0, 1], [2, 2, 2]])
    assert segment_boundaries(seg).astype(int).tolist() == [[0, 1, 0], [1, 1, 1], [0, 0, 0]]


@pytest.mark.slow
def test_image_demo_writes_an_overlay(model_files):
    out = str(model_files['root'] / 'out' / 'demo.png')
    proc = python('demo/image_demo.py', model_files['img'], CONFIG, model_files['ckpt'],
                  '--out-file', out, '--segments')
    vis = cv2.imread(out)
    assert vis is not None and vis.shape == (36, 104, 3)
    assert 'predicted classes' in proc.stdout
    proc = python('demo/image_demo.py', model_files['img'] + '.absent', CONFIG,
                  model_files['ckpt'], '--out-file', out, check=False)
    assert proc.returncode == 2 and 'image file' in proc.stderr


MIXIN = osp.join(REPO, 'configs', 'mixin', 'camvid_scribbles_segformer_effnet-lite0_spml.py')


def test_inferencer_segments_of_a_mixin_model_use_the_spml_aux_embedding(model_files):
    """SPML mixed into an mmseg model: the segments are those of the SPMLAuxHead's
    embedding (not of the decode head's class logits)."""
    from mmspml.apis.dense_prediction import spml_embedding_head
    from mmspml.apis.spml_inferencer import SPMLInferencer
    from mmspml.models.decode_heads import SPMLAuxHead
    cfg = Config.fromfile(MIXIN)
    cfg.model.backbone.pretrained = False
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    ckpt = str(model_files['root'] / 'mixin.pth')
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=dict(classes=_classes(), palette=_palette()))),
               ckpt)
    inf = SPMLInferencer(cfg, weights=ckpt, device='cpu', show_segments=True,
                         segment_grid=(3, 4))
    head = spml_embedding_head(inf.model)
    assert isinstance(head, SPMLAuxHead) and head is inf.model.auxiliary_head
    sample = inf(model_files['img'], return_datasamples=True)
    segments = sample.metainfo['kmeans_segments']
    # the expected segments: k-means of the aux head's embedding of the same input
    data = inf.model.data_preprocessor(next(iter(inf.preprocess([model_files['img']]))),
                                       False)
    with torch.no_grad():
        feats = inf.model.extract_feat(data['inputs'])
        emb = inf.model.auxiliary_head.forward(feats)
        logits = inf.model.decode_head.forward(feats)
    assert emb.shape[1] == 64 and logits.shape[1] == 11
    expected = inf._segments(emb[0], sample.metainfo)
    np.testing.assert_array_equal(segments, expected)
    assert not np.array_equal(segments, inf._segments(logits[0], sample.metainfo))

    # a plain mmseg model has no embedding: a clear error, not logits' segments
    cfg.model.auxiliary_head = None
    with pytest.raises(ValueError, match='neither an SPML decode head nor an SPMLAuxHead'):
        SPMLInferencer(cfg, weights=ckpt, device='cpu', show_segments=True)
