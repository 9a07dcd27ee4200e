"""Pseudo labels for the training set from a stage-1 model (spml-method.md §6.5).

    python tools/make_pseudo_labels.py CONFIG CKPT --out-dir DIR
        [--source classifier|knn|cam] [--prototypes FILE] [--cam-dir DIR]
        [--background-class B] [--scales 1.0 ...] [--no-flip]
        [--walk-steps 6] [--crf] [--nproc N] [--dense-label-dir DIR ...]
        [--split train] [--cfg-options k=v ...]

For every training image (the config's ``train_dataloader.dataset`` with the weak label
exactly as training sees it, before any crop):

1. class scores averaged over the passes (each scale, with and without flip):
   ``classifier``: softmax of the head's classifier (the stage-1 joint classifier,
   boxes/scribbles/points in §5.4); ``knn``: per-pixel vote fractions of the 20 nearest
   prototypes of ``--prototypes`` for every k-means segment (§6.3; tags, round 1);
   ``cam``: the image's class activation maps, ``--cam-dir``/NAME.npz as written by
   ``tools/make_cam_seeds.py --cam-dir`` (tags, ``pseudo_camrw_crf.py``); with
   ``--background-class B`` (VOC: 0) the background score is ``(1 - max_c cam_c)^6``
   (``--background-power``). The model only gives the embedding of the walk;
2. restricted to the classes present in the weak label (the image's tags for a
   tags-file dataset; for ``cam``, the classes of its CAM file and the background):
   each divided by its image-wide maximum (floored at 0.15 for ``knn``; ``cam`` scores
   are used as they are, like the reference), absent classes set to 0;
3. random walk ``T^(2^walk_steps)`` on the embedding affinity at ``H//8 x W//8``
   (``--walk-steps -1`` skips it), bilinear resize to ``H x W``;
4. optional DenseCRF (``--crf``, needs pydensecrf2), argmax; pixels that are 255 (ignore)
   in the weak label stay 255.

Writes ``DIR/NAME.png`` (8-bit; use ``train_dataloader.dataset.label_dir=DIR`` in the
stage-2 config) and prints the pseudo-label mIoU against the dense labels when they are
known (CamVid: the label files the weak labels are simulated from; otherwise
``--dense-label-dir``).

``DIR/manifest.json`` records what the labels were made from: the checkpoint (path, size,
SHA-256), the prototype bank likewise, the config after ``--cfg-options`` and every option
that changes a label. A run whose manifest matches keeps the PNGs already there (an
interrupted run resumes); otherwise the dataset's PNGs in ``DIR`` are deleted and made
again, with one line saying what differed.

Devices (``--device``, default ``auto``: ``cuda`` when available, else ``cpu``):
``cpu`` runs ``--nproc`` processes (forked after the model is built); ``cuda`` runs one
process per GPU, at most ``--nproc`` (each builds its model on its GPU); ``cuda:N`` runs one
process on that GPU.
"""
import argparse
import hashlib
import json
import multiprocessing
import os
import os.path as osp
import re
import sys
from typing import List

import cv2
import numpy as np
import torch
from mmengine.config import DictAction
from mmengine.utils import ProgressBar, track_progress

from mmspml.apis.dense_prediction import (build_segmentor, embedding_and_logits,
                                          load_config, load_training_sample,
                                          normalized_embedding, resize_scores,
                                          training_samples)
from mmspml.apis.label_metrics import format_miou, label_stats, miou_from_stats
from mmspml.functional import (dense_crf, dense_crf_available, knn_segment_scores,
                               random_walk, restrict_class_scores)
from mmspml.functional.dense_crf import CRF_MISSING

_STATE = {}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Pseudo labels for the training set (§6.5)')
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--out-dir', required=True, help='directory of the NAME.png files')
    p.add_argument('--source', choices=['classifier', 'knn', 'cam'], default='classifier')
    p.add_argument('--cam-dir', help='CAMs NAME.npz (tools/make_cam_seeds.py --cam-dir), '
                   'required by --source cam')
    p.add_argument('--background-class', type=int,
                   help='--source cam: class id of the background (scored (1 - max CAM)^p)')
    p.add_argument('--background-power', type=float, default=6.0)
    p.add_argument('--prototypes', help='prototype bank (tools/extract_prototypes.py), '
                   'required by --source knn')
    p.add_argument('--knn-k', type=int, default=20)
    p.add_argument('--knn-grid', type=int, nargs=2, default=(12, 12))
    p.add_argument('--scales', type=float, nargs='+', default=[1.0])
    p.add_argument('--no-flip', action='store_true', help='no flipped passes')
    p.add_argument('--walk-steps', type=int, default=6,
                   help='random-walk squarings (6 -> T^64, 0 -> T^1, -1 -> no walk)')
    p.add_argument('--crf', action='store_true', help='DenseCRF before the argmax')
    p.add_argument('--split', help='dataset split (default: the config\'s)')
    p.add_argument('--dense-label-dir', nargs='+', help='dense labels NAME.png for the mIoU')
    p.add_argument('--nproc', type=int, default=1,
                   help='worker processes: on the CPU N processes, with --device cuda one '
                   'per GPU, at most N')
    p.add_argument('--device', default='auto',
                   help='auto (cuda when available, else cpu), cpu, cuda (every GPU, one '
                   'process each, at most --nproc) or cuda:N (that GPU)')
    p.add_argument('--limit', type=int, help='only the first N images')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = p.parse_args(argv)
    if args.source == 'knn' and not args.prototypes:
        p.error('--source knn needs --prototypes FILE (tools/extract_prototypes.py)')
    if args.source == 'cam' and not args.cam_dir:
        p.error('--source cam needs --cam-dir DIR (tools/make_cam_seeds.py --cam-dir)')
    if args.source != 'cam' and args.background_class is not None:
        p.error('--background-class is an option of --source cam')
    if args.crf and not dense_crf_available():
        p.error(CRF_MISSING)
    if args.nproc < 1 or args.walk_steps < -1 or any(s <= 0 for s in args.scales):
        p.error('--nproc >= 1, --walk-steps >= -1 and positive --scales are required')
    try:
        args.devices = worker_devices(args.device, args.nproc)
    except ValueError as exc:
        p.error(str(exc))
    return args


def worker_devices(device: str, nproc: int) -> List[str]:
    """The device of each worker process for ``--device`` and ``--nproc``.

    ``auto`` is ``cuda`` when ``torch.cuda.is_available()``, else ``cpu``; ``cpu`` gives
    ``nproc`` CPU processes; ``cuda`` one process per GPU, ``min(nproc, device_count())``
    of them; ``cuda:N`` that GPU only (``nproc`` must then be 1).
    """
    if device == 'auto':
        device = 'cuda' if torch.cuda.is_available() else 'cpu'
    if device == 'cpu':
        return ['cpu'] * nproc
    m = re.fullmatch(r'cuda(?::(\d+))?', device)
    if m is None:
        raise ValueError(f'--device {device!r}: expected auto, cpu, cuda or cuda:N')
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count == 0:
        raise ValueError(f'--device {device}: CUDA is not available (use --device cpu)')
    if m.group(1) is None:
        return [f'cuda:{i}' for i in range(min(nproc, count))]
    if int(m.group(1)) >= count:
        raise ValueError(f'--device {device}: this machine has {count} GPU(s)')
    if nproc > 1:
        raise ValueError(f'--device {device} runs one process on that GPU; for one process '
                         f'per GPU use --device cuda --nproc {nproc}')
    return [device]


def load_cams(path: str, size, num_classes: int, background_class=None,
              background_power: float = 6.0):
    """``(scores [C, H, W] float32, present [C] bool)`` from a CAM file of
    ``tools/make_cam_seeds.py --cam-dir``; the background row, when given, is
    ``(1 - max_c cam_c)^background_power``."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'CAM file {path} does not exist: write the CAMs with '
                                'tools/make_cam_seeds.py --cam-dir')
    with np.load(path) as f:
        if 'classes' not in f or 'cams' not in f:
            raise ValueError(f'{path}: expected the arrays classes and cams, got '
                             f'{sorted(f.files)}')
        ids, cams = f['classes'].astype(np.int64), f['cams'].astype(np.float32)
    h, w = size
    if cams.ndim != 3 or cams.shape != (len(ids), h, w):
        raise ValueError(f'{path}: cams must be [{len(ids)}, {h}, {w}] (the classes x the '
                         f'image size), got {list(cams.shape)}')
    if len(ids) and (ids.max() >= num_classes or len(np.unique(ids)) != len(ids)):
        raise ValueError(f'{path}: classes must be distinct ids in [0, {num_classes}), '
                         f'got {ids.tolist()}')
    if not np.isfinite(cams).all():
        raise ValueError(f'{path}: cams has non-finite values')
    scores = np.zeros((num_classes, h, w), np.float32)
    present = np.zeros(num_classes, bool)
    scores[ids], present[ids] = np.clip(cams, 0, None), True
    if background_class is not None:
        if not 0 <= background_class < num_classes or background_class in ids:
            raise ValueError(f'{path}: background class {background_class} must be a '
                             f'class id in [0, {num_classes}) without a CAM')
        peak = scores[ids].max(axis=0) if len(ids) else np.zeros((h, w), np.float32)
        scores[background_class] = np.clip(1 - peak, 0, 1) ** background_power
        present[background_class] = True
    return torch.from_numpy(scores), torch.from_numpy(present)


@torch.no_grad()
def pseudo_label(model, sample, num_classes, args, bank=None):
    """uint8 ``[H, W]`` pseudo label of one :class:`TrainingSample`."""
    weak = sample.weak
    h, w = weak.shape
    device = next(model.parameters()).device
    if args.source == 'cam':
        cams, present = load_cams(osp.join(args.cam_dir, sample.name + '.npz'), (h, w),
                                  num_classes, args.background_class,
                                  args.background_power)
        present = present.to(device)
    else:
        present = torch.zeros(num_classes, dtype=torch.bool, device=device)
        present[torch.from_numpy(sample.classes(num_classes)).to(device)] = True
    if not present.any():  # nothing to restrict to: leave the image out of training
        return np.full((h, w), 255, np.uint8)
    walk = args.walk_steps >= 0
    size = (max(1, h // 8), max(1, w // 8)) if walk else (h, w)
    passes = [(s, f) for s in args.scales for f in ((False,) if args.no_flip else
                                                    (False, True))]
    if args.source == 'cam' and not walk:
        passes = []  # the CAMs alone: the model is not needed
    scores, emb_sum = 0, 0
    for scale, flip in passes:
        emb, logits = embedding_and_logits(model, sample.img, scale, flip)
        if emb is None and (walk or args.source == 'knn'):
            raise ValueError(f'{type(model.decode_head).__name__} gives no embedding (no '
                             'SPML decode head, no SPMLAuxHead): use --source classifier '
                             '(or cam) with --walk-steps -1')
        if walk:
            emb_sum = emb_sum + normalized_embedding(emb, size)
        if args.source == 'classifier':
            if logits is None:
                raise ValueError(f'{type(model.decode_head).__name__} has no classifier; '
                                 'use --source knn')
            scores = scores + resize_scores(logits.softmax(dim=0), size)
        elif args.source == 'knn':  # (cam: the passes give only the embedding)
            scaled = (max(1, int(h * scale)), max(1, int(w * scale)))
            full = resize_scores(emb, scaled)
            votes = knn_segment_scores(full, bank['prototypes'], bank['labels'],
                                       num_classes, k=args.knn_k, grid=args.knn_grid)
            scores = scores + resize_scores(votes, size)
    if args.source == 'cam':  # as they are (no max normalisation), absent classes 0
        scores = resize_scores(cams.to(device), size) * present[:, None, None]
    else:
        scores = scores / len(passes)
        scores = restrict_class_scores(scores, present,
                                       max_floor=0.15 if args.source == 'knn' else 0.0)
    if walk:
        scores = random_walk(scores, emb_sum / len(passes), steps=args.walk_steps)
        scores = resize_scores(scores, (h, w))
    scores = scores.cpu().numpy()
    if args.crf:
        rgb = np.clip(sample.img, 0, 255).astype(np.uint8)[..., ::-1]
        scores = dense_crf(rgb, scores)
    scores[~present.cpu().numpy()] = -1  # never an absent class, even where all scores are 0
    label = scores.argmax(axis=0).astype(np.uint8)
    label[weak == 255] = 255
    return label


def _load_state(args, device: str, loaded=None) -> None:
    """Dataset, model (on ``device``) and prototype bank of this process (``loaded``: the
    config, dataset and label steps when the caller has them)."""
    if loaded is None:
        cfg = load_config(args.config, args.cfg_options)
        loaded = (cfg, *training_samples(cfg, args.split))
    cfg, dataset, steps = loaded
    model = build_segmentor(cfg, args.checkpoint, device)
    bank = None
    if args.source == 'knn':
        from mmspml.models.decode_heads.spml_knn_head import load_prototype_bank
        bank = load_prototype_bank(args.prototypes)
        bank['prototypes'] = bank['prototypes'].to(device)
        bank['labels'] = bank['labels'].long().to(device)
    _STATE.update(dataset=dataset, steps=steps, model=model, bank=bank, args=args,
                  num_classes=model.decode_head.num_classes, device=device)


def _init_worker(args, devices) -> None:
    device = devices.get()
    if device == 'cpu':
        torch.set_num_threads(1)
    if _STATE.get('device') != device:  # a spawned process (GPU): its own model
        _load_state(args, device)


def _start_method(devices: List[str]) -> str:
    """CPU workers are forked (they share the parent's model); GPU workers are spawned
    (CUDA cannot be used in a forked process) and build their own."""
    return 'fork' if all(d == 'cpu' for d in devices) else 'spawn'


def _run_workers(devices: List[str], indices: List[int], args, start_method: str) -> list:
    """:func:`_process` of every index in ``len(devices)`` processes, one per device;
    results in the order of ``indices``."""
    ctx = multiprocessing.get_context(start_method)
    queue = ctx.Queue()
    for device in devices:
        queue.put(device)
    bar, stats = ProgressBar(len(indices)), []
    with ctx.Pool(len(devices), initializer=_init_worker, initargs=(args, queue)) as pool:
        for result in pool.imap(_process, indices):
            stats.append(result)
            bar.update()
    return stats


def _process(index):
    st = _STATE
    sample = load_training_sample(st['dataset'], st['steps'], index,
                                  st['args'].dense_label_dir)
    path = osp.join(st['args'].out_dir, sample.name + '.png')
    if osp.isfile(path):  # written earlier with the same manifest: kept
        label = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if label is None or label.shape != sample.weak.shape:
            raise ValueError(f'{path} exists but is not a label of the image size '
                             f'{sample.weak.shape}; delete it to regenerate')
    else:
        label = pseudo_label(st['model'], sample, st['num_classes'], st['args'], st['bank'])
        tmp = path[:-4] + '.tmp.png'  # atomic: an interrupted run leaves no partial file
        if not cv2.imwrite(tmp, label):
            raise OSError(f'cannot write {tmp}')
        os.replace(tmp, path)
    if sample.dense is None:
        return None
    return label_stats(label, sample.dense, st['num_classes'])


MANIFEST = 'manifest.json'


def file_identity(path: str) -> dict:
    """Absolute path, size and SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return dict(path=osp.abspath(path), size=osp.getsize(path), sha256=digest.hexdigest())


def dir_identity(path: str, suffix: str) -> dict:
    """Absolute path, and the name, size and modification time of every ``suffix`` file
    of a directory, hashed (SHA-256)."""
    digest = hashlib.sha256()
    names = sorted(n for n in os.listdir(path) if n.endswith(suffix))
    for n in names:
        st = os.stat(osp.join(path, n))
        digest.update(f'{n}\0{st.st_size}\0{st.st_mtime_ns}\n'.encode())
    return dict(path=osp.abspath(path), files=len(names), sha256=digest.hexdigest())


def manifest_of(args, cfg) -> dict:
    """What the labels depend on: the checkpoint and prototype bank (identity), the config
    after ``--cfg-options`` and every option that changes a label (not ``--nproc``,
    ``--device``, ``--limit`` or ``--dense-label-dir``)."""
    return dict(
        tool='tools/make_pseudo_labels.py', checkpoint=file_identity(args.checkpoint),
        prototypes=file_identity(args.prototypes) if args.source == 'knn' else None,
        cams=dir_identity(args.cam_dir, '.npz') if args.source == 'cam' else None,
        config=dict(path=osp.abspath(args.config),
                    sha256=hashlib.sha256(cfg.pretty_text.encode()).hexdigest()),
        options=dict(source=args.source, knn_k=args.knn_k, knn_grid=list(args.knn_grid),
                     background_class=args.background_class,
                     background_power=args.background_power,
                     scales=list(args.scales), flip=not args.no_flip,
                     walk_steps=args.walk_steps, crf=args.crf, split=args.split))


def prepare_out_dir(out_dir: str, manifest: dict, names: List[str]) -> None:
    """Keep the PNGs of ``out_dir`` when its manifest matches ``manifest``; otherwise
    delete the PNGs of ``names`` there (stale: other checkpoint, config or options) and
    write the new manifest before any label is made."""
    os.makedirs(out_dir, exist_ok=True)
    path = osp.join(out_dir, MANIFEST)
    old = None
    if osp.isfile(path):
        try:
            with open(path) as f:
                old = json.load(f)
        except (OSError, ValueError):
            old = None
    if old == manifest:
        return
    stale = [osp.join(out_dir, n + '.png') for n in names]
    stale = [p for p in stale if osp.isfile(p)]
    if stale:
        if old is None:
            why = f'no readable {MANIFEST}'
        else:
            why = 'different ' + ', '.join(
                k if k != 'options' else 'options (' + ', '.join(
                    o for o in manifest['options']
                    if old.get('options', {}).get(o) != manifest['options'][o]) + ')'
                for k in manifest if old.get(k) != manifest[k])
        print(f'{len(stale)} pseudo labels in {out_dir} were made from something else '
              f'({why}): deleted, making them again', flush=True)
        for p in stale:
            os.remove(p)
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


def main(argv=None):
    args = parse_args(argv)
    for path, what in ((args.checkpoint, 'checkpoint file'),
                       (args.prototypes if args.source == 'knn' else None,
                        'prototype bank (tools/extract_prototypes.py)')):
        if path is not None and not osp.isfile(path):
            raise FileNotFoundError(f'{what} {path!r} does not exist')
    if args.source == 'cam' and not osp.isdir(args.cam_dir):
        raise FileNotFoundError(f'CAM directory {args.cam_dir!r} does not exist '
                                '(tools/make_cam_seeds.py --cam-dir)')
    cfg = load_config(args.config, args.cfg_options)
    dataset, steps = training_samples(cfg, args.split)
    names = []
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        names.append(info.get('name') or osp.splitext(osp.basename(info['img_path']))[0])
    prepare_out_dir(args.out_dir, manifest_of(args, cfg), names)
    devices = args.devices
    indices = list(range(len(dataset)))[:args.limit]
    print(f'pseudo labels ({args.source}, walk steps {args.walk_steps}, crf {args.crf}) '
          f'of {len(indices)} images -> {args.out_dir} ({len(devices)} process'
          f'{"es" if len(devices) > 1 else ""} on {", ".join(sorted(set(devices)))})',
          flush=True)
    if devices[0] == 'cpu' or len(devices) == 1:
        _load_state(args, devices[0], (cfg, dataset, steps))  # forked CPU workers share it
    if len(devices) == 1:
        stats = track_progress(_process, indices)
    else:
        stats = _run_workers(devices, indices, args, _start_method(devices))
    known = [s for s in stats if s is not None]
    if known:
        result = miou_from_stats(sum(known), dataset.metainfo['classes'])
        print(format_miou('pseudo-label', result, len(known)), flush=True)
    else:
        print('no dense labels known: pseudo-label mIoU not computed '
              '(give --dense-label-dir)', flush=True)


if __name__ == '__main__':
    sys.exit(main())
