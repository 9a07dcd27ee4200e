"""SPMLAuxHead: SPML mixed into a plain mmseg EncoderDecoder as an auxiliary head."""
import math

import pytest
import torch
from mmengine.config import ConfigDict
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

C = 5
LOSSES = [dict(type='SemanticAnnotationLoss', concentration=6, loss_weight=1.0),
          dict(type='ImageSimilarityLoss', concentration=16, loss_weight=0.1)]


def make_model(aux_list=False):
    norm = dict(type='BN')
    aux = dict(type='SPMLAuxHead', in_channels=[8, 16], in_index=[0, 1],
               input_transform='resize_concat', embed_dims=8, embedding_head='conv',
               psp_channels=16, embedding_upsample=1, num_classes=C, norm_cfg=norm,
               segment_generator=dict(type='SegmentGenerator', grid=(2, 2), iterations=3),
               contrastive_losses=LOSSES, memory_size=1)
    fcn = dict(type='FCNHead', in_channels=16, in_index=1, channels=8, num_convs=1,
               num_classes=C, norm_cfg=norm,
               loss_decode=dict(type='PartialCrossEntropyLoss', loss_weight=0.4))
    return MODELS.build(dict(
        type='EncoderDecoder',
        data_preprocessor=dict(type='SegDataPreProcessor', mean=[0., 0., 0.],
                               std=[1., 1., 1.], size=(32, 32)),
        backbone=dict(type='_TinyBackbone'),
        decode_head=dict(type='FCNHead', in_channels=16, in_index=1, channels=8,
                         num_convs=1, num_classes=C, norm_cfg=norm,
                         loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0,
                                          avg_non_ignore=True)),
        auxiliary_head=[fcn, aux] if aux_list else aux,
        train_cfg=dict(), test_cfg=ConfigDict(mode='whole')))


@MODELS.register_module(force=True)
class _TinyBackbone(torch.nn.Module):
    """Two levels: stride 4 (8 ch) and stride 8 (16 ch)."""

    def __init__(self):
        super().__init__()
        self.c1 = torch.nn.Conv2d(3, 8, 3, stride=4, padding=1)
        self.c2 = torch.nn.Conv2d(8, 16, 3, stride=2, padding=1)

    def forward(self, x):
        a = torch.relu(self.c1(x))
        return a, torch.relu(self.c2(a))


def make_batch(weak_to_ignore=True, seed=0):
    """Two 32x32 images, weak labels with many unlabeled pixels (value C)."""
    from mmspml.datasets.transforms import PackSPMLInputs
    import numpy as np
    rng = np.random.default_rng(seed)
    inputs, samples = [], []
    for i in range(2):
        label = np.full((32, 32), C, np.uint8)
        label[4:8, 4:12] = i
        label[20:24, 10:30] = 2 + i
        label[:, :2] = 255
        results = dict(img=rng.integers(0, 255, (32, 32, 3)).astype(np.uint8),
                       img_path=f'img{i}.jpg', gt_seg_map=label, seg_fields=['gt_seg_map'],
                       num_classes=C, reduce_zero_label=False,
                       img_tags=np.isin(np.arange(C), [i, 2 + i]),
                       gt_overseg=(np.arange(32)[:, None] // 8 * 4
                                   + np.arange(32)[None] // 8).astype(np.int32))
        packed = PackSPMLInputs(unlabeled_to_ignore=weak_to_ignore)(results)
        inputs.append(packed['inputs'])
        samples.append(packed['data_samples'])
    return dict(inputs=inputs, data_samples=samples)


@pytest.mark.parametrize('aux_list', [False, True])
def test_mixin_trains_backbone_with_spml_and_partial_ce(aux_list):
    torch.manual_seed(0)
    model = make_model(aux_list)
    model.train()
    data = model.data_preprocessor(make_batch(), True)
    losses = model(**data, mode='loss')
    prefix = 'aux_1.' if aux_list else 'aux.'
    for key in ('decode.loss_ce', prefix + 'loss_sem_ann', prefix + 'loss_img_sim'):
        assert key in losses and math.isfinite(losses[key].item()), key
    assert prefix + 'acc_proto' in losses
    if aux_list:
        assert 'aux_0.loss_ce' in losses
    # the SPML losses alone reach the backbone (they shape the shared features)
    spml = losses[prefix + 'loss_sem_ann'] + losses[prefix + 'loss_img_sim']
    spml.backward()
    assert model.backbone.c1.weight.grad.abs().sum() > 0
    assert model.backbone.c2.weight.grad.abs().sum() > 0
    aux = model.auxiliary_head[1] if aux_list else model.auxiliary_head
    # every parameter of the aux head is used (no classifier left for DDP to complain)
    assert all(p.grad is not None for p in aux.parameters())
    assert not hasattr(aux, 'conv_seg') and not hasattr(aux, 'classifier_conv')


def test_decode_head_accuracy_counts_labeled_pixels_only():
    """acc_seg of a plain mmseg head: unlabeled pixels are neither a class nor an error."""
    torch.manual_seed(0)
    model = make_model()
    model.train()
    data = model.data_preprocessor(make_batch(), True)
    # a decode head that predicts exactly the labeled classes: 100 % accuracy
    labels = torch.stack([s.gt_sem_seg.data[0] for s in data['data_samples']])
    logits = torch.nn.functional.one_hot(labels.clamp(max=C - 1), C).permute(0, 3, 1, 2)
    head = model.decode_head
    out = head.loss_by_feat(logits.float() * 10, data['data_samples'])
    assert out['acc_seg'].item() == pytest.approx(100.0)
    # with the weak label left in gt_sem_seg (the old packing) the same prediction would
    # count every unlabeled pixel as an error
    from mmseg.models.losses import accuracy
    old = model.data_preprocessor(make_batch(weak_to_ignore=False), True)
    old_label = head._stack_batch_gt(old['data_samples'])[:, 0]
    assert accuracy(logits.float(), old_label, ignore_index=255).item() < 20.0


def test_weak_label_read_from_gt_weak_seg():
    """SPMLAuxHead clusters unlabeled pixels: same losses from either packing."""
    torch.manual_seed(0)
    model = make_model()
    model.train()
    new = model.data_preprocessor(make_batch(True), True)
    old = model.data_preprocessor(make_batch(False), True)
    assert 'gt_weak_seg' in new['data_samples'][0]
    feats = model.extract_feat(new['inputs'])
    a = model.auxiliary_head.loss(feats, new['data_samples'], {})
    b = model.auxiliary_head.loss(feats, old['data_samples'], {})
    for key in ('loss_sem_ann', 'loss_img_sim'):
        assert a[key].item() == pytest.approx(b[key].item(), rel=1e-6)


def test_aux_head_predicts_nothing_and_needs_a_loss():
    model = make_model()
    with pytest.raises(RuntimeError, match='auxiliary head'):
        model.auxiliary_head.predict([torch.zeros(1, 8, 8, 8), torch.zeros(1, 16, 4, 4)],
                                     [dict(img_shape=(32, 32))], {})
    with pytest.raises(ValueError, match='at least one SPML loss'):
        MODELS.build(dict(type='SPMLAuxHead', in_channels=8, num_classes=C,
                          contrastive_losses=[]))
    # the model itself predicts with its decode head
    model.eval()
    with torch.no_grad():
        out = model.predict(torch.zeros(1, 3, 32, 32))
    assert out[0].seg_logits.data.shape == (C, 32, 32)


def _small_batch(pad_in_pipeline):
    """Two crops smaller than the preprocessor's size (32x32): 24x20 and 20x28, padded to
    32x32 in the pipeline (PadSegFields) or left to the data preprocessor."""
    import numpy as np
    from mmspml.datasets.transforms import PackSPMLInputs, PadSegFields
    rng = np.random.default_rng(1)
    inputs, samples = [], []
    for i, (h, w) in enumerate([(24, 20), (20, 28)]):
        label = np.full((h, w), C, np.uint8)
        label[2:8, 2:10] = i
        label[12:18, 4:w - 2] = 2 + i
        results = dict(img=rng.integers(0, 255, (h, w, 3)).astype(np.float32),
                       img_path=f'img{i}.jpg', gt_seg_map=label,
                       seg_fields=['gt_seg_map', 'gt_overseg'], num_classes=C,
                       reduce_zero_label=False, img_tags=np.isin(np.arange(C), [i, 2 + i]),
                       gt_overseg=(np.arange(h)[:, None] // 8 * 4
                                   + np.arange(w)[None] // 8).astype(np.int32))
        if pad_in_pipeline:
            results = PadSegFields(size=(32, 32), img_pad_val=0, seg_pad_val=255)(results)
        packed = PackSPMLInputs()(results)
        inputs.append(packed['inputs'])
        samples.append(packed['data_samples'])
    return dict(inputs=inputs, data_samples=samples)


def test_crops_smaller_than_the_input_size_are_padded_not_stretched():
    """A batch whose every crop is smaller than SegDataPreProcessor's size: the weak label
    and over-segmentation are padded like the image (top-left, ignore), so the SPML
    losses equal those of the same crops padded in the pipeline."""
    torch.manual_seed(0)
    model = make_model().train()
    aux = model.auxiliary_head
    seen = []
    aux.segment_generator.register_forward_hook(lambda m, a, out: seen.append(a))
    losses = []
    for pad_in_pipeline in (True, False):
        data = model.data_preprocessor(_small_batch(pad_in_pipeline), True)
        assert tuple(data['inputs'].shape[-2:]) == (32, 32)
        if not pad_in_pipeline:
            assert tuple(data['data_samples'][0].gt_weak_seg.shape) == (24, 20)
        losses.append(aux.loss(model.extract_feat(data['inputs']), data['data_samples'], {}))
    (_, padded, padded_region), (_, small, small_region) = seen[0][:3], seen[1][:3]
    assert tuple(small.shape) == (2, 32, 32)
    assert torch.equal(small, padded) and torch.equal(small_region, padded_region)
    assert (small[0, 24:] == 255).all() and (small[0, :, 20:] == 255).all()
    for key in ('loss_sem_ann', 'loss_img_sim'):
        assert losses[1][key].item() == pytest.approx(losses[0][key].item(), rel=1e-6), key


def test_weak_label_larger_than_its_image_is_an_error():
    model = make_model().train()
    data = model.data_preprocessor(_small_batch(False), True)
    s = data['data_samples'][1]
    from mmengine.structures import PixelData
    s.gt_weak_seg = PixelData(data=torch.zeros(1, 30, 30, dtype=torch.long))
    with pytest.raises(ValueError, match=r'img1.jpg is larger \(\(30, 30\)\) than its image'):
        model.auxiliary_head.loss(model.extract_feat(data['inputs']), data['data_samples'], {})
