"""Seeds ("tags" weak labels) from image-level tags: a multi-label classifier, its class
activation maps and thresholded seed PNGs (the CAM step of the tags pipeline, §5.4).

    python tools/make_cam_seeds.py CONFIG --out-dir DIR [--tags-file JSON]
        [--iters 200] [--batch-size 8] [--lr 0.01] [--size 160]
        [--fg-threshold 0.3] [--bg-threshold T --background-class 0]
        [--classifier FILE] [--seed 0] [--split train] [--dense-label-dir DIR ...]
        [--cam-dir DIR]
        [--device cuda|cpu] [--num-workers 2] [--cfg-options k=v ...]

1. Tags: ``--tags-file`` (``{NAME: [class ids]}``, as written by
   ``tools/simulate_weak_labels.py --kind tags``), else the dataset's own image tags
   (e.g. ``VOCWeakDataset(weak_label='tags', tags_file=...)``), else the classes present
   in the training label files (simulated tags from dense labels, CamVid).
2. Classifier: the config's backbone (``model.backbone``, with its ``init_cfg`` -- an
   ImageNet-pretrained backbone when the config has one, random init otherwise) +
   global average pooling + a linear layer, trained with multi-label BCE (SGD, momentum
   0.9, random flip and ``--size`` square resize) for ``--iters`` iterations on
   ``--device`` (default: CUDA when available); saved as ``DIR/cam_classifier.pth``,
   or as ``--classifier`` (which is reused when it exists).
3. CAMs of the tagged classes at the image size (scale 1, with and without flip,
   averaged), each scaled to max 1, thresholded by :func:`mmspml.functional.cam_seed_label`:
   the class of the highest CAM where it is ``>= --fg-threshold``, unlabeled elsewhere;
   with ``--background-class`` (VOC: 0), pixels below ``--bg-threshold`` are background.
   255 pixels of the label file (void) stay 255.
4. With ``--cam-dir``, the CAMs themselves, for ``tools/make_pseudo_labels.py --source
   cam`` (the tags pseudo labels of §6.5, ``pseudo_camrw_crf.py``): ``DIR/NAME.npz``
   with ``classes`` (uint8 ``[K]``, the image's tags, the background class left out) and
   ``cams`` (float16 ``[K, H, W]``, the maps of step 3 before thresholding).

Writes ``DIR/NAME.png`` (use them as the weak labels, ``label_dir=DIR``) and prints the
seed mIoU against the dense labels when they are known: those of ``--dense-label-dir``
(``NAME.png`` in the first directory that has it), else the label files when they are
dense (no pixel with the unlabeled index, e.g. CamVid's, from which the configs simulate
their weak labels); label files of scribbles, points or seeds give no mIoU.

The images are streamed (``--num-workers`` reader processes; at most a batch of them in
memory): a first pass reads the labels (tags), then the classifier trains on sampled
batches, then a second pass writes the seeds one image at a time.
"""
import argparse
import json
import os
import os.path as osp

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import DictAction
from mmengine.utils import ProgressBar
from mmseg.registry import MODELS
from torch import nn

from mmspml.apis.dense_prediction import load_config, load_training_sample, training_samples
from mmspml.apis.label_metrics import format_miou, label_stats, miou_from_stats
from mmspml.functional import cam_seed_label, class_activation_maps


class CAMClassifier(nn.Module):
    """Backbone (last stage) + GAP + linear multi-label classifier."""

    def __init__(self, backbone_cfg: dict, num_classes: int, mean, std):
        super().__init__()
        self.backbone = MODELS.build(backbone_cfg)
        with torch.no_grad():  # the width of the last output, whatever the backbone
            was_training = self.backbone.training
            self.backbone.eval()
            in_channels = self.backbone(torch.zeros(1, 3, 64, 64))[-1].shape[1]
            self.backbone.train(was_training)
        self.fc = nn.Linear(in_channels, num_classes)
        self.register_buffer('mean', torch.tensor(mean).view(1, 3, 1, 1))
        self.register_buffer('std', torch.tensor(std).view(1, 3, 1, 1))

    def features(self, img_bgr: torch.Tensor) -> torch.Tensor:
        """``[B, F, h, w]`` of a ``[B, 3, H, W]`` float BGR 0..255 batch."""
        x = (img_bgr.flip(1) - self.mean) / self.std
        return self.backbone(x)[-1]

    def forward(self, img_bgr):
        return self.fc(self.features(img_bgr).mean(dim=(2, 3)))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='CAM seeds from image tags')
    p.add_argument('config')
    p.add_argument('--out-dir', required=True)
    p.add_argument('--tags-file', help='JSON {NAME: [class ids]}')
    p.add_argument('--dense-label-dir', nargs='+', help='dense labels NAME.png for the seed mIoU')
    p.add_argument('--iters', type=int, default=200)
    p.add_argument('--batch-size', type=int, default=8)
    p.add_argument('--lr', type=float, default=0.01)
    p.add_argument('--size', type=int, default=160, help='training resize (square)')
    p.add_argument('--fg-threshold', type=float, default=0.3)
    p.add_argument('--bg-threshold', type=float)
    p.add_argument('--background-class', type=int)
    p.add_argument('--classifier', help='reuse (or write) this classifier checkpoint')
    p.add_argument('--cam-dir', help='also write the CAMs of the tagged classes here '
                   '(NAME.npz, for make_pseudo_labels.py --source cam)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--split')
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu',
                   help='classifier training and CAMs (default: cuda when available)')
    p.add_argument('--num-workers', type=int, default=2,
                   help='processes that read the images (0: the main process)')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = p.parse_args(argv)
    if args.iters < 0 or args.batch_size < 1 or args.size < 8 or args.num_workers < 0:
        p.error('--iters >= 0, --batch-size >= 1, --size >= 8 and --num-workers >= 0 are '
                'required')
    if args.bg_threshold is not None and args.background_class is None:
        p.error('--bg-threshold needs --background-class (the class it assigns)')
    return args


def read_tags(path, names, num_classes):
    with open(path, encoding='utf-8') as f:
        try:
            data = json.load(f)
        except json.JSONDecodeError as exc:
            raise SystemExit(f'{path}: not valid JSON ({exc})')
    tags = {}
    for name in names:
        ids = data.get(name)
        if not isinstance(ids, list) or not all(isinstance(i, int) and 0 <= i < num_classes
                                                for i in ids):
            raise SystemExit(f'{path}: image {name!r} needs a list of class ids in '
                             f'[0, {num_classes}), got {ids!r}')
        t = np.zeros(num_classes, bool)
        t[ids] = True
        tags[name] = t
    return tags


class _SampleLoader(torch.utils.data.Dataset):
    """Training samples read on demand (in DataLoader workers), so that no pass holds
    more than the images of a batch in memory.

    ``mode='tags'``: item ``i`` -> ``(i, name, classes of the label file or the
    dataset's tags, whether the label file has unlabeled pixels)``; ``'train'``: item
    ``(i, flip)`` -> ``(image, i)``: the image resized to ``size`` x ``size`` (flipped),
    CHW uint8;
    ``'cams'``: item ``i`` -> ``(name, image, label file, dense label or None)``.
    """

    def __init__(self, dataset, steps, num_classes, mode, size=None,
                 dense_label_dir=None):
        self.dataset, self.steps, self.num_classes = dataset, steps, num_classes
        self.mode, self.size, self.dense_label_dir = mode, size, dense_label_dir

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, key):
        i, flip = key if self.mode == 'train' else (key, False)
        s = load_training_sample(self.dataset, self.steps, i, self.dense_label_dir)
        if self.mode == 'tags':
            unlabeled = bool(((s.weak >= self.num_classes) & (s.weak != 255)).any())
            return i, s.name, s.classes(self.num_classes), unlabeled
        img = np.clip(s.img, 0, 255).astype(np.uint8)
        if self.mode == 'cams':
            return s.name, img, s.weak, s.dense
        img = cv2.resize(img, (self.size, self.size), interpolation=cv2.INTER_LINEAR)
        if flip:
            img = img[:, ::-1]
        return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))), i


class _TrainBatches(torch.utils.data.Sampler):
    """``iters`` batches of ``(dataset index, flip)``: images drawn uniformly (with
    replacement) from the name-sorted list, each flipped with probability 0.5, from one
    seeded generator (the same draws as the in-memory version of this tool)."""

    def __init__(self, sorted_indices, iters, batch_size, seed):
        self.sorted_indices, self.iters, self.batch_size = sorted_indices, iters, batch_size
        self.seed = seed

    def __len__(self):
        return self.iters

    def __iter__(self):
        g = torch.Generator().manual_seed(self.seed)
        n = len(self.sorted_indices)
        for _ in range(self.iters):
            idx = torch.randint(n, (self.batch_size,), generator=g).tolist()
            yield [(self.sorted_indices[i], torch.rand(1, generator=g).item() < 0.5)
                   for i in idx]


def _worker_init(_):
    torch.set_num_threads(1)
    cv2.setNumThreads(1)


def _as_is(item):
    return item


def _stack(batch):
    return torch.stack([x for x, _ in batch]), [i for _, i in batch]


def _loader(samples, num_workers, seed, **kw):
    # a generator of its own: creating the iterator draws no number from the global RNG
    kw.setdefault('collate_fn', _as_is)
    return torch.utils.data.DataLoader(
        samples, num_workers=num_workers, worker_init_fn=_worker_init,
        generator=torch.Generator().manual_seed(seed), **kw)


def train_classifier(model, samples, order, tags, args, device):
    """``args.iters`` SGD steps on batches streamed from ``samples`` (``'train'`` mode);
    ``order``: dataset indices sorted by name, ``tags``: ``{index: [C] bool}``."""
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4)
    sampler = _TrainBatches(order, args.iters, args.batch_size, args.seed)
    loader = _loader(samples, args.num_workers, args.seed, batch_sampler=sampler,
                     collate_fn=_stack)
    model.train()
    for it, (x, indices) in enumerate(loader):
        target = torch.from_numpy(np.stack([tags[i] for i in indices])).float()
        lr = args.lr * (1 - it / max(args.iters, 1)) ** 0.9
        for group in opt.param_groups:
            group['lr'] = lr
        loss = F.binary_cross_entropy_with_logits(model(x.float().to(device)),
                                                  target.to(device))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if (it + 1) % 20 == 0 or it + 1 == args.iters:
            print(f'cam classifier iter {it + 1}/{args.iters}: bce {loss.item():.4f}',
                  flush=True)
    model.eval()


@torch.no_grad()
def image_cams(model, img):
    """``[C, H, W]`` CAMs of one BGR image, averaged over no flip / flip."""
    h, w = img.shape[:2]
    device = next(model.parameters()).device
    x = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))).float()[None]
    x = torch.cat([x, x.flip(-1)]).to(device)
    cams = class_activation_maps(model.features(x), model.fc.weight, size=(h, w))
    return (cams[0] + cams[1].flip(-1)) / 2


def save_cams(path, cams, tags, background_class=None):
    """``path`` (``.npz``): ``classes`` (uint8 ids of the tags, without the background
    class) and ``cams`` (float16 ``[K, H, W]``, their rows of ``cams``)."""
    keep = np.asarray(tags, bool).copy()
    if background_class is not None:
        keep[int(background_class)] = False
    ids = np.flatnonzero(keep).astype(np.uint8)
    tmp = path[:-4] + '.tmp.npz'  # atomic: an interrupted run leaves no partial file
    np.savez_compressed(tmp, classes=ids, cams=cams.numpy()[ids].astype(np.float16))
    os.replace(tmp, path)


def _device(name):
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise SystemExit(f'--device {name!r}: {exc}')
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise SystemExit(f'--device {name}: CUDA is not available on this machine')
    return device


def main(argv=None):
    args = parse_args(argv)
    device = _device(args.device)
    torch.manual_seed(args.seed)
    cfg = load_config(args.config, args.cfg_options)
    dataset, steps = training_samples(cfg, args.split)
    # the label files (not a simulated weak label) give the tags / dense labels
    steps = [t for t in steps if type(t).__name__ != 'SimulateWeakLabel']
    num_classes = len(dataset.metainfo['classes'])

    # pass 1 (labels only kept): names, tags, whether the label files are dense
    names, tags, weak_files = {}, {}, False
    for i, name, classes, unlabeled in _loader(
            _SampleLoader(dataset, steps, num_classes, 'tags',
                          dense_label_dir=args.dense_label_dir),
            args.num_workers, args.seed, batch_size=None):
        names[i] = name
        t = np.zeros(num_classes, bool)
        t[classes] = True
        tags[i] = t
        weak_files |= unlabeled
    if args.tags_file:
        by_name = read_tags(args.tags_file, list(names.values()), num_classes)
        tags = {i: by_name[n] for i, n in names.items()}
    else:
        print('tags: the dataset\'s image tags, else the classes present in its label files',
              flush=True)
    # the seed mIoU needs dense labels: --dense-label-dir, else the label files when they
    # are dense (no unlabeled pixel: CamVid's, from which the config simulates its weak
    # labels); never scribbles, points or seeds
    if args.dense_label_dir:
        dense_from = 'dense'
    elif not weak_files:
        dense_from = 'label_file'
    else:
        dense_from = None
        print('no seed mIoU: the label files are weak labels (they have unlabeled pixels); '
              'pass --dense-label-dir for it', flush=True)

    dp = cfg.model.data_preprocessor
    model = CAMClassifier(cfg.model.backbone, num_classes, dp['mean'], dp['std'])
    ckpt = args.classifier or osp.join(args.out_dir, 'cam_classifier.pth')
    if args.classifier and osp.isfile(args.classifier):
        model.load_state_dict(torch.load(args.classifier, map_location='cpu'))
        model.to(device).eval()
        print(f'cam classifier loaded from {args.classifier}', flush=True)
    else:
        model.backbone.init_weights()
        model.to(device)
        order = sorted(names, key=lambda i: names[i])
        train_classifier(model, _SampleLoader(dataset, steps, num_classes, 'train',
                                              size=args.size), order, tags, args, device)
        os.makedirs(osp.dirname(osp.abspath(ckpt)), exist_ok=True)
        torch.save({k: v.cpu() for k, v in model.state_dict().items()}, ckpt)
        print(f'cam classifier saved to {ckpt}', flush=True)

    # pass 2: CAMs, seeds and their statistics, one image at a time
    os.makedirs(args.out_dir, exist_ok=True)
    if args.cam_dir:
        os.makedirs(args.cam_dir, exist_ok=True)
    stats, bar = [], ProgressBar(len(names))
    cams_loader = _loader(
        _SampleLoader(dataset, steps, num_classes, 'cams',
                      dense_label_dir=args.dense_label_dir),
        args.num_workers, args.seed, batch_size=None)
    for i, (name, img, label_file, dense) in enumerate(cams_loader):
        cams = image_cams(model, img).cpu()
        seed = cam_seed_label(cams, torch.from_numpy(tags[i]), args.fg_threshold,
                              args.bg_threshold, args.background_class).numpy()
        if args.cam_dir:
            save_cams(osp.join(args.cam_dir, name + '.npz'), cams, tags[i],
                      args.background_class)
        seed[label_file == 255] = 255
        cv2.imwrite(osp.join(args.out_dir, name + '.png'), seed)
        gt = dict(dense=dense, label_file=label_file).get(dense_from)
        if gt is not None:
            stats.append(label_stats(seed, gt, num_classes))
        bar.update()
    print(flush=True)
    if stats:
        total = sum(stats)
        coverage = total[1].sum() / max(total[0].sum(), 1) * 100
        print(format_miou('seed', miou_from_stats(total, dataset.metainfo['classes']),
                          len(stats)) + f'\nseed coverage: {coverage:.1f}% of the labelled '
              'pixels', flush=True)


if __name__ == '__main__':
    main()
