"""CAMs and their thresholding into seed labels."""
import pytest
import torch

from mmspml.functional import cam_seed_label, class_activation_maps

F64 = torch.float64


def test_class_activation_maps_matches_per_pixel_formula():
    g = torch.Generator().manual_seed(0)
    feats = torch.randn(2, 5, 3, 4, generator=g, dtype=F64)
    weight = torch.randn(3, 5, generator=g, dtype=F64)
    cam = class_activation_maps(feats, weight)
    for b in range(2):
        for c in range(3):
            raw = torch.tensor([[max(float(weight[c] @ feats[b, :, y, x]), 0.0)
                                 for x in range(4)] for y in range(3)], dtype=F64)
            torch.testing.assert_close(cam[b, c], raw / (raw.max() + 1e-5))
    assert class_activation_maps(feats, weight, size=(6, 8)).shape == (2, 3, 6, 8)


def test_cam_seed_label_thresholds():
    cams = torch.tensor([[[0.9, 0.5, 0.1, 0.0]],
                         [[0.2, 0.6, 0.25, 0.05]],
                         [[1.0, 1.0, 1.0, 1.0]]], dtype=F64)  # class 2 is not tagged
    tags = torch.tensor([True, True, False])
    # no background class: below the threshold = unlabeled (C = 3)
    assert cam_seed_label(cams, tags, 0.3).tolist() == [[0, 1, 3, 3]]
    # background class 0 (never a foreground tag here), two thresholds: >= 0.3 class,
    # < 0.1 background, in between unlabeled
    assert cam_seed_label(cams, tags, 0.3, 0.1, background_class=0).tolist() == [[3, 1, 3, 0]]
    assert cam_seed_label(cams, torch.zeros(3, dtype=torch.bool)).tolist() == [[3] * 4]
    with pytest.raises(ValueError, match='bg_threshold'):
        cam_seed_label(cams, tags, 0.3, 0.5)
    with pytest.raises(ValueError, match='unlabeled_index'):
        cam_seed_label(cams, tags, unlabeled_index=255)
