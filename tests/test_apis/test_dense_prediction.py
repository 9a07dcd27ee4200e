"""Training samples of the pipeline tools: weak labels as training sees them, dense labels,
image tags of a tags file."""
import json
import os.path as osp

import cv2
import numpy as np

from mmspml.apis.dense_prediction import (TrainingSample, iter_training_samples,
                                          load_config, training_samples)
from tests._data_utils import write_voc_tree
from tests.conftest import REPO, write_camvid_tree


def test_training_sample_classes():
    weak = np.array([[0, 3, 11, 255]], np.uint8)
    assert TrainingSample('a', None, weak, None).classes(11).tolist() == [0, 3]
    assert TrainingSample('a', None, weak, None, [5, 2, 5]).classes(11).tolist() == [2, 5]


def test_camvid_weak_label_is_simulated_from_the_dense_file(tmp_path):
    root = write_camvid_tree(str(tmp_path / 'camvid'), splits=(('train', 2),))
    cfg = load_config(osp.join(REPO, 'configs/spml/camvid_scribbles.py'),
                      {'train_dataloader.dataset.data_root': root})
    samples = list(iter_training_samples(*training_samples(cfg)))
    assert [s.name for s in samples] == ['train_000', 'train_001']
    for s in samples:
        dense = cv2.imread(osp.join(root, 'labels', 'train', s.name + '.png'), 0)
        np.testing.assert_array_equal(s.dense, dense)
        assert (s.weak == 11).mean() > 0.5  # scribbles: mostly unlabeled
        labelled = s.weak < 11
        np.testing.assert_array_equal(s.weak[labelled], dense[labelled])
        assert s.tag_ids is None


def test_voc_tags_file_gives_tag_ids(tmp_path):
    root = str(tmp_path / 'voc12')
    write_voc_tree(root, n=2, n_val=1)
    cfg = load_config(osp.join(REPO, 'configs/spml/voc_tags.py'), {
        'train_dataloader.dataset.data_root': root,
        'train_dataloader.dataset.tags_file': 'tags_train_aug.json'})
    tags = json.load(open(osp.join(root, 'tags_train_aug.json')))
    samples = list(iter_training_samples(*training_samples(cfg)))
    assert len(samples) == 2
    for s in samples:
        assert sorted(s.tag_ids) == sorted(tags[s.name])
        assert s.classes(21).tolist() == sorted(set(tags[s.name]))


def test_embedding_and_logits_with_a_padding_preprocessor():
    """A SegDataPreProcessor with test_cfg (size_divisor) pads the image and needs data
    samples: the helper gives them and returns the maps cropped to the image."""
    import torch
    import torch.nn.functional as F
    from mmseg.registry import MODELS

    from mmspml.apis.dense_prediction import embedding_and_logits, spml_embedding_head
    cfg = load_config(osp.join(REPO, 'configs/spml/camvid_scribbles.py'))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    img = np.random.default_rng(0).integers(0, 255, (36, 52, 3), dtype=np.uint8)
    emb, logits = embedding_and_logits(model, img)  # no test_cfg: stride-4 maps
    assert emb.shape == (64, 10, 14) and logits.shape == (11, 10, 14)

    model.data_preprocessor.test_cfg = dict(size_divisor=32)
    emb, logits = embedding_and_logits(model, img)
    assert emb.shape == (64, 36, 52) and logits.shape == (11, 36, 52)
    # the same as running the network on the zero-padded 64x64 input, resized to it and
    # cropped (mmseg's predict_by_feat)
    x = torch.from_numpy(img.transpose(2, 0, 1)).float()[[2, 1, 0]]
    x = (x - model.data_preprocessor.mean) / model.data_preprocessor.std
    x = F.pad(x, (0, 12, 0, 28))[None]
    with torch.no_grad():
        head = spml_embedding_head(model)
        full = head.forward(model.extract_feat(x))
        ref_logits = head.classify(full)
    up = lambda t: F.interpolate(t, size=(64, 64), mode='bilinear')[0, :, :36, :52]  # noqa
    torch.testing.assert_close(emb, up(full))
    torch.testing.assert_close(logits, up(ref_logits))
    # a flipped pass is flipped back after the crop
    emb_f, _ = embedding_and_logits(model, img[:, ::-1].copy(), flip=True)
    assert emb_f.shape == (64, 36, 52)
