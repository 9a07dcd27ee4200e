"""Prototype bank of the training set for k-NN inference (spml-method.md §6.2).

    python tools/extract_prototypes.py CONFIG CKPT --out FILE
        [--labels weak|dense] [--label-dir DIR] [--scales 1.0 ...] [--grid 12 12]
        [--split train] [--limit N] [--cfg-options k=v ...]

For every training image and scale: the L2-normalised embedding at the image size is
segmented by spherical k-means (``--grid``, 10 iterations, location features, one fake
label: the segments of §6.2), each segment gives a prototype ``l2n(sum e)`` labelled by
the majority value of the label map inside it; every value competes (255 and the
unlabeled index included, as in the reference) and prototypes whose majority is not a
class are dropped. Labels:

* ``weak`` (default): the weak label as training sees it;
* ``dense``: the dense label (a full-supervision *diagnostic*, never for reported
  weakly supervised numbers, §8 item 24);
* ``--label-dir DIR``: ``DIR/NAME.png``, e.g. pseudo labels of
  ``tools/make_pseudo_labels.py`` (the tags pipeline, §5.4 step 3).

Writes one file, a dict ``{prototypes [M, D] float32, labels [M] long, num_classes,
classes, image_index [M] long, names, ...}`` read by ``SPMLKNNHead`` and
``tools/make_pseudo_labels.py --source knn``.
"""
import argparse
import os
import os.path as osp

import cv2
import torch
from mmengine.config import DictAction
from mmengine.utils import ProgressBar

from mmspml.apis.dense_prediction import (build_segmentor, embedding_and_logits,
                                          iter_training_samples, load_config,
                                          resize_scores, training_samples)
from mmspml.functional import generate_segments, segment_majority_labels


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Prototype bank for k-NN inference (§6.2)')
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--out', required=True, help='output file (.pth)')
    p.add_argument('--labels', choices=['weak', 'dense'], default='weak')
    p.add_argument('--label-dir', help='read labels DIR/NAME.png instead')
    p.add_argument('--scales', type=float, nargs='+', default=[1.0])
    p.add_argument('--grid', type=int, nargs=2, default=(12, 12))
    p.add_argument('--iterations', type=int, default=10)
    p.add_argument('--split', help='dataset split (default: the config\'s)')
    p.add_argument('--dense-label-dir', nargs='+',
                   help='directories of dense labels NAME.png (with --labels dense when '
                   'the dataset\'s label files are weak labels)')
    p.add_argument('--limit', type=int, help='only the first N images')
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu',
                   help='cuda or cpu (default: cuda when available)')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = p.parse_args(argv)
    if any(s <= 0 for s in args.scales):
        p.error('--scales must be positive')
    return args


def _label_of(sample, args):
    if args.label_dir:
        path = osp.join(args.label_dir, sample.name + '.png')
        label = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if label is None or label.shape != sample.weak.shape:
            raise FileNotFoundError(f'label {path!r} is missing or not of the image size '
                                    f'{sample.weak.shape}')
        return label
    if args.labels == 'dense':
        if sample.dense is None:
            raise ValueError(f'--labels dense: no dense label known for {sample.name} '
                             '(give --dense-label-dir)')
        return sample.dense
    return sample.weak


@torch.no_grad()
def image_prototypes(model, img, label, num_classes, scales, grid, iterations):
    """Prototypes ``[K, D]`` and class labels ``[K]`` of one image over ``scales``."""
    protos, labels = [], []
    h, w = label.shape
    for scale in scales:
        size = (max(1, int(h * scale)), max(1, int(w * scale)))
        emb, _ = embedding_and_logits(model, img, scale)
        if emb is None:
            raise ValueError(f'{type(model.decode_head).__name__} gives no embedding (no '
                             'SPML decode head, no SPMLAuxHead): no prototypes to extract')
        emb = resize_scores(emb, size)
        lab = label if scale == 1.0 else cv2.resize(label, size[::-1],
                                                    interpolation=cv2.INTER_NEAREST)
        seg = generate_segments(emb[None], emb.new_zeros(1, *size, dtype=torch.long), None,
                                grid, iterations, use_location=True)
        lab = torch.from_numpy(lab.astype('int64')).to(emb.device).flatten()[seg.pixel_index]
        majority = segment_majority_labels(seg.segment_ids, lab, seg.prototypes.shape[0])
        keep = majority < num_classes
        protos.append(seg.prototypes[keep].float().cpu())
        labels.append(majority[keep].cpu())
    return torch.cat(protos), torch.cat(labels)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    dataset, steps = training_samples(cfg, args.split)
    model = build_segmentor(cfg, args.checkpoint, args.device)
    num_classes = model.decode_head.num_classes
    indices = list(range(len(dataset)))[:args.limit]
    protos, labels, image_index, names = [], [], [], []
    bar = ProgressBar(len(indices))
    for i, sample in enumerate(iter_training_samples(dataset, steps, indices,
                                                     args.dense_label_dir)):
        p, lab = image_prototypes(model, sample.img, _label_of(sample, args), num_classes,
                                  args.scales, args.grid, args.iterations)
        protos.append(p)
        labels.append(lab)
        image_index.append(torch.full((len(lab),), i, dtype=torch.long))
        names.append(sample.name)
        bar.update()
    labels = torch.cat(labels)
    if labels.numel() == 0:
        raise SystemExit('no segment has a class as its majority label: the bank would be '
                         'empty (weak labels too sparse? use --label-dir with pseudo labels)')
    bank = dict(prototypes=torch.cat(protos), labels=labels, num_classes=num_classes,
                classes=list(dataset.metainfo['classes']), image_index=torch.cat(image_index),
                names=names, config=args.config, checkpoint=args.checkpoint,
                grid=tuple(args.grid), scales=list(args.scales),
                label_source=args.label_dir or args.labels)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    torch.save(bank, args.out)
    counts = torch.bincount(labels, minlength=num_classes).tolist()
    print(f'\n{len(labels)} prototypes of {len(names)} images -> {args.out} '
          f'(per class: {counts})', flush=True)


if __name__ == '__main__':
    main()
