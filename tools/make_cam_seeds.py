"""Seeds ("tags" weak labels) from image-level tags: a multi-label classifier, its class
activation maps and thresholded seed PNGs (the CAM step of the tags pipeline, §5.4).

    python tools/make_cam_seeds.py CONFIG --out-dir DIR [--tags-file JSON]
        [--iters 200] [--batch-size 8] [--lr 0.01] [--size 160]
        [--fg-threshold 0.3] [--bg-threshold T --background-class 0]
        [--classifier FILE] [--seed 0] [--split train] [--cfg-options k=v ...]

1. Tags: ``--tags-file`` (``{NAME: [class ids]}``, as written by
   ``tools/simulate_weak_labels.py --kind tags``), else the dataset's own image tags
   (e.g. ``VOCWeakDataset(weak_label='tags', tags_file=...)``), else the classes present
   in the training label files (simulated tags from dense labels, CamVid).
2. Classifier: the config's backbone (``model.backbone``, with its ``init_cfg`` -- an
   ImageNet-pretrained backbone when the config has one, random init otherwise) +
   global average pooling + a linear layer, trained with multi-label BCE (SGD, momentum
   0.9, random flip and ``--size`` square resize) for ``--iters`` iterations; saved as
   ``DIR/../cam_classifier.pth`` unless ``--classifier`` names a file to reuse.
3. CAMs of the tagged classes at the image size (scale 1, with and without flip,
   averaged), each scaled to max 1, thresholded by :func:`mmspml.functional.cam_seed_label`:
   the class of the highest CAM where it is ``>= --fg-threshold``, unlabeled elsewhere;
   with ``--background-class`` (VOC: 0), pixels below ``--bg-threshold`` are background.
   255 pixels of the label file (void) stay 255.

Writes ``DIR/NAME.png`` (use them as the weak labels, ``label_dir=DIR``) and prints the
seed mIoU against the dense labels when they are known (the label files when no tags
file is given, else ``--dense-label-dir``).
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
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--split')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = p.parse_args(argv)
    if args.iters < 0 or args.batch_size < 1 or args.size < 8:
        p.error('--iters >= 0, --batch-size >= 1 and --size >= 8 are required')
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


def train_classifier(model, images, tags, args):
    g = torch.Generator().manual_seed(args.seed)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4)
    names = sorted(images)
    model.train()
    for it in range(args.iters):
        idx = torch.randint(len(names), (args.batch_size,), generator=g).tolist()
        batch, target = [], []
        for i in idx:
            img = cv2.resize(images[names[i]], (args.size, args.size),
                             interpolation=cv2.INTER_LINEAR)
            if torch.rand(1, generator=g).item() < 0.5:
                img = img[:, ::-1]
            batch.append(torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))))
            target.append(torch.from_numpy(tags[names[i]]))
        x = torch.stack(batch).float()
        lr = args.lr * (1 - it / max(args.iters, 1)) ** 0.9
        for group in opt.param_groups:
            group['lr'] = lr
        loss = F.binary_cross_entropy_with_logits(model(x), torch.stack(target).float())
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
    x = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))).float()[None]
    x = torch.cat([x, x.flip(-1)])
    cams = class_activation_maps(model.features(x), model.fc.weight, size=(h, w))
    return (cams[0] + cams[1].flip(-1)) / 2


def main(argv=None):
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    cfg = load_config(args.config, args.cfg_options)
    dataset, steps = training_samples(cfg, args.split)
    # the label files (not a simulated weak label) give the tags / dense labels
    steps = [t for t in steps if type(t).__name__ != 'SimulateWeakLabel']
    num_classes = len(dataset.metainfo['classes'])
    samples = [load_training_sample(dataset, steps, i, args.dense_label_dir)
               for i in range(len(dataset))]
    images = {s.name: np.clip(s.img, 0, 255).astype(np.uint8) for s in samples}
    if args.tags_file:
        tags = read_tags(args.tags_file, list(images), num_classes)
        dense = {s.name: s.dense for s in samples}
    else:
        print('tags: the dataset\'s image tags, else the classes present in its label files',
              flush=True)
        tags = {}
        for s in samples:
            t = np.zeros(num_classes, bool)
            t[s.classes(num_classes)] = True
            tags[s.name] = t
        dense = {s.name: s.dense if s.tag_ids is not None else s.weak for s in samples}
    voids = {s.name: s.weak == 255 for s in samples}

    dp = cfg.model.data_preprocessor
    model = CAMClassifier(cfg.model.backbone, num_classes, dp['mean'], dp['std'])
    ckpt = args.classifier or osp.join(osp.dirname(osp.abspath(args.out_dir)),
                                       'cam_classifier.pth')
    if args.classifier and osp.isfile(args.classifier):
        model.load_state_dict(torch.load(args.classifier, map_location='cpu'))
        model.eval()
        print(f'cam classifier loaded from {args.classifier}', flush=True)
    else:
        model.backbone.init_weights()
        train_classifier(model, images, tags, args)
        os.makedirs(osp.dirname(ckpt), exist_ok=True)
        torch.save(model.state_dict(), ckpt)
        print(f'cam classifier saved to {ckpt}', flush=True)

    os.makedirs(args.out_dir, exist_ok=True)
    stats, bar = [], ProgressBar(len(images))
    for name, img in images.items():
        seed = cam_seed_label(image_cams(model, img), torch.from_numpy(tags[name]),
                              args.fg_threshold, args.bg_threshold,
                              args.background_class).numpy()
        seed[voids[name]] = 255
        cv2.imwrite(osp.join(args.out_dir, name + '.png'), seed)
        if dense[name] is not None:
            stats.append(label_stats(seed, dense[name], num_classes))
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
