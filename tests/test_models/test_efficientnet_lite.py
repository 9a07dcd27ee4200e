"""EfficientNet-Lite0 backbone: real ImageNet weights from the offline wheel, strides,
dilation, freezing and bad arguments."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS

from mmspml.models.backbones.efficientnet_lite import (EfficientNetLite,
                                                       build_efficientnet_lite0,
                                                       efficientnet_lite0_weights_path)

# ImageNet-1k classes 281..285: tabby, tiger cat, Persian, Siamese, Egyptian cat
CAT_CLASSES = set(range(281, 286))
MEAN = torch.tensor([123.675, 116.28, 103.53])[:, None, None]
STD = torch.tensor([58.395, 57.12, 57.375])[:, None, None]


def chelsea(size=224):
    from skimage.data import chelsea as photo
    img = torch.from_numpy(np.ascontiguousarray(photo())).permute(2, 0, 1).float()
    img = F.interpolate(img[None], (size, size), mode='bilinear', align_corners=False)
    return (img - MEAN) / STD


def test_imagenet_weights_are_real_chelsea_is_a_cat():
    net = build_efficientnet_lite0(efficientnet_lite0_weights_path()).eval()
    with torch.no_grad():
        prob = net(chelsea()).softmax(1)[0]
    top = int(prob.argmax())
    assert top in CAT_CLASSES, (top, float(prob[top]))
    assert float(prob[sorted(CAT_CLASSES)].sum()) > 0.8
    # the random-init network does not know cats: the test can fail
    rand = build_efficientnet_lite0().eval()
    with torch.no_grad():
        assert float(rand(chelsea()).softmax(1)[0, sorted(CAT_CLASSES)].sum()) < 0.5


def test_backbone_loads_the_same_weights_and_features():
    backbone = MODELS.build(dict(type='EfficientNetLite', pretrained=True))
    backbone.init_weights()
    backbone.eval()
    net = build_efficientnet_lite0(efficientnet_lite0_weights_path()).eval()
    x = chelsea(160)
    with torch.no_grad():
        outs = backbone(x)
        y = net._swish(net._bn0(net._conv_stem(x)))
        for block in net._blocks:
            y = block(y)
    assert [tuple(o.shape[1:]) for o in outs] == [(24, 40, 40), (40, 20, 20),
                                                   (112, 10, 10), (320, 5, 5)]
    torch.testing.assert_close(outs[-1], y, rtol=0, atol=0)
    assert backbone.out_channels == (24, 40, 112, 320)


@pytest.mark.parametrize('output_stride,sizes', [(16, (40, 20, 10, 10)),
                                                 (8, (40, 20, 20, 20))])
def test_dilated_output_strides(output_stride, sizes):
    backbone = EfficientNetLite(pretrained=False, output_stride=output_stride,
                                out_indices=(0, 1, 2, 3))
    outs = backbone(torch.randn(1, 3, 160, 160))
    assert tuple(o.shape[-1] for o in outs) == sizes
    # odd input sizes keep TF "same" padding: ceil(size / stride)
    outs = backbone(torch.randn(1, 3, 83, 61))
    assert outs[0].shape[-2:] == (21, 16)


def test_frozen_stages_and_norm_eval():
    backbone = EfficientNetLite(pretrained=False, frozen_stages=1, norm_eval=True,
                                out_indices=(3,))
    backbone.train()
    assert not any(p.requires_grad for p in backbone.conv_stem.parameters())
    assert not any(p.requires_grad for p in backbone.blocks[4].parameters())
    assert all(p.requires_grad for p in backbone.blocks[5].parameters())
    assert not backbone.blocks[10]._bn1.training  # norm_eval
    out = backbone(torch.randn(2, 3, 64, 64))
    assert len(out) == 1 and out[0].shape[1] == 320


def test_bad_arguments_and_weights(tmp_path):
    with pytest.raises(ValueError, match='out_indices'):
        EfficientNetLite(pretrained=False, out_indices=(4,))
    with pytest.raises(ValueError, match='output_stride'):
        EfficientNetLite(pretrained=False, output_stride=4)
    with pytest.raises(ValueError, match='frozen_stages'):
        EfficientNetLite(pretrained=False, frozen_stages=4)
    with pytest.raises(TypeError, match='pretrained'):
        EfficientNetLite(pretrained=1)
    bad = tmp_path / 'other.pth'
    torch.save({'conv1.weight': torch.zeros(1)}, bad)
    with pytest.raises(ValueError, match='not an EfficientNet-Lite0 state dict'):
        EfficientNetLite(pretrained=str(bad)).init_weights()


def test_init_cfg_is_applied_after_the_imagenet_weights(tmp_path):
    """A user's Pretrained init_cfg overrides the wheel's weights where it has them
    (it was silently dropped whenever pretrained=True, the default)."""
    wheel = EfficientNetLite(pretrained=True)
    wheel.init_weights()
    ckpt = str(tmp_path / 'stem.pth')
    stem = torch.full_like(wheel.conv_stem.weight, 0.25)
    torch.save(dict(state_dict={'backbone.conv_stem.weight': stem}), ckpt)
    backbone = MODELS.build(dict(
        type='EfficientNetLite',
        init_cfg=dict(type='Pretrained', checkpoint=ckpt, prefix='backbone.')))
    assert backbone.pretrained is True
    backbone.init_weights()
    torch.testing.assert_close(backbone.conv_stem.weight, stem)  # init_cfg wins
    # ... and every parameter it does not name keeps the ImageNet weights
    for (name, p), q in zip(backbone.named_parameters(), wheel.parameters()):
        if name != 'conv_stem.weight':
            torch.testing.assert_close(p, q, rtol=0, atol=0, msg=name)

    # pretrained=False: the init_cfg alone
    const = EfficientNetLite(pretrained=False,
                             init_cfg=dict(type='Constant', val=0.5, layer='Conv2d'))
    const.init_weights()
    assert torch.all(const.conv_stem.weight == 0.5)
    assert torch.all(const.blocks[3]._project_conv.weight == 0.5)
