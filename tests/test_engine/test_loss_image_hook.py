"""LossImageHook: the losses that read the image get the batch's RGB image (normalisation
undone) and its valid pixels during a training forward, and nothing otherwise."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.structures import PixelData
from mmseg.models import SegDataPreProcessor
from mmseg.structures import SegDataSample
from torch import nn

from mmspml.engine.hooks import LossImageHook
from mmspml.engine.hooks.loss_image_hook import batch_valid_mask
from mmspml.models.losses import GatedCRFLoss


class _Toy(nn.Module):
    """A model with a data preprocessor and a GatedCRFLoss that records what it sees."""

    def __init__(self):
        super().__init__()
        self.data_preprocessor = SegDataPreProcessor(
            mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], bgr_to_rgb=True,
            size=(8, 12), pad_val=0, seg_pad_val=255)
        self.crf = GatedCRFLoss(downsample=1, radius=1)
        self.seen = []
        self.fail = False

    def forward(self, inputs, data_samples=None, mode='tensor'):
        self.seen.append((mode, self.crf._images, self.crf._valid))
        if self.fail:
            raise RuntimeError('boom')
        logits = torch.zeros(inputs.shape[0], 2, *inputs.shape[2:])
        return dict(loss=self.crf(logits)) if mode == 'loss' else logits


def _samples_and_batch(model):
    g = torch.Generator().manual_seed(0)
    imgs = [torch.randint(0, 256, (3, 6, 12), generator=g, dtype=torch.uint8),
            torch.randint(0, 256, (3, 8, 10), generator=g, dtype=torch.uint8)]
    samples = []
    for img in imgs:
        s = SegDataSample(metainfo=dict(img_shape=img.shape[1:]))
        s.gt_sem_seg = PixelData(data=torch.zeros(1, *img.shape[1:], dtype=torch.long))
        samples.append(s)
    # the second sample was padded by the pipeline (PadSegFields) from 8 x 7 to 8 x 10
    mask = torch.zeros(1, 8, 10, dtype=torch.bool)
    mask[:, :, :7] = True
    samples[1].valid_mask = PixelData(data=mask)
    data = model.data_preprocessor(dict(inputs=imgs, data_samples=samples), training=True)
    return imgs, data


def test_training_forward_gets_rgb_images_and_valid_pixels():
    model = _Toy()
    hook = LossImageHook()
    hook.before_train(SimpleNamespace(model=model))
    imgs, data = _samples_and_batch(model)
    out = model(**data, mode='loss')
    assert torch.isfinite(out['loss'])
    mode, images, valid = model.seen[-1]
    assert mode == 'loss' and images.shape == (2, 3, 8, 12)
    # normalisation undone: the RGB image (BGR -> RGB by the preprocessor) in 0..255
    torch.testing.assert_close(images[0, :, :6, :12], imgs[0].flip(0).float(), atol=1e-3,
                               rtol=0)
    expect = torch.zeros(2, 8, 12, dtype=torch.bool)
    expect[0, :6, :12] = True  # img_shape: the preprocessor padded rows 6..7
    expect[1, :8, :7] = True  # valid_mask: the pipeline padded columns 7..9, the
    assert torch.equal(valid, expect)  # preprocessor 10..11
    assert model.crf._images is None and model.crf._valid is None  # taken back
    model(**data, mode='predict')
    assert model.seen[-1][1] is None  # validation / test forwards get nothing
    model.fail = True
    with pytest.raises(RuntimeError, match='boom'):
        model(**data, mode='loss')
    assert model.seen[-1][1] is not None and model.crf._images is None  # taken back
    model.fail = False  # after an exception too
    hook.after_train(SimpleNamespace(model=model))
    with pytest.raises(RuntimeError, match='LossImageHook'):
        model(**data, mode='loss')


def test_hook_without_a_loss_that_reads_the_image_is_an_error():
    with pytest.raises(ValueError, match='set_image_batch'):
        LossImageHook().before_train(SimpleNamespace(model=nn.Linear(2, 2)))


def test_batch_valid_mask_without_samples_and_wrong_count():
    assert batch_valid_mask(None, (2, 3, 4)).all()
    with pytest.raises(ValueError, match='1 data samples for a batch of 2'):
        batch_valid_mask([SegDataSample()], (2, 3, 4))
