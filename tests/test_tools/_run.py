"""Helpers to run the command-line tools as a user would (subprocesses)."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def run_tool(args, timeout=600, env=None, check=True):
    e = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1')
    e.update(env or {})
    proc = subprocess.run(args, cwd=REPO, env=e, capture_output=True, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f'{args} failed ({proc.returncode}):\n'
                             f'{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}')
    return proc


def independent_miou(pairs, num_classes):
    """mIoU (percent) of (prediction, dense label) pairs computed here with numpy, to check
    the number a tool prints: pixels whose label is >= ``num_classes`` (void) are left
    out, predictions >= ``num_classes`` are never a class, and classes absent from both
    are skipped."""
    import numpy as np
    ious = []
    for c in range(num_classes):
        inter = union = 0
        for pred, gt in pairs:
            valid = gt < num_classes
            inter += np.sum((pred == c) & (gt == c) & valid)
            union += np.sum(((pred == c) | (gt == c)) & valid)
        if union:
            ious.append(100 * inter / union)
    return float(np.mean(ious))


def label_dir_miou(pred_dir, dense_dir, num_classes):
    """:func:`independent_miou` of every ``NAME.png`` of ``pred_dir`` against
    ``dense_dir/NAME.png``."""
    import cv2
    pairs = []
    for f in sorted(glob.glob(osp.join(pred_dir, '*.png'))):
        gt = cv2.imread(osp.join(dense_dir, osp.basename(f)), cv2.IMREAD_UNCHANGED)
        pairs.append((cv2.imread(f, cv2.IMREAD_UNCHANGED), gt))
    assert pairs, f'no PNG in {pred_dir}'
    return independent_miou(pairs, num_classes)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def python(*args, **kw):
    return run_tool([sys.executable, *args], **kw)


def train_losses(work_dir, key='loss'):
    """{iter: value} of a key from mmengine's scalars.json of the latest run."""
    files = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    out = {}
    for f in files:
        for line in open(f):
            rec = json.loads(line)
            if key in rec and 'iter' in rec and 'lr' in rec:
                out[rec['iter']] = rec[key]
    return out


def shrink_sizes(obj, size):
    """Set every crop/pad/resize size in a (pipeline) config to ``size`` (h, w)."""
    if isinstance(obj, dict):
        if 'crop_size' in obj:
            obj['crop_size'] = size
        if obj.get('type') in ('PadSegFields',):
            obj['size'] = size
        if obj.get('type') == 'Resize':
            obj['scale'] = size
        if obj.get('type') == 'RandomResize':
            obj['scale'] = (size[1], size[0])
        for v in obj.values():
            shrink_sizes(v, size)
    elif isinstance(obj, list):
        for v in obj:
            shrink_sizes(v, size)


def tiny_config(config, data_root, out_path, size=(64, 64), batch_size=2, **train_cfg):
    """Write a copy of ``config`` with small sizes, ``data_root`` for every loader, no
    worker processes and per-iteration logging; return its path."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, config))
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg[key]
        loader.dataset.data_root = data_root
        loader.num_workers = 0
        loader.persistent_workers = False
        shrink_sizes(loader.dataset.pipeline, size)
    cfg.train_dataloader.batch_size = batch_size
    cfg.model.data_preprocessor.size = size
    cfg.train_cfg.update(train_cfg)
    cfg.default_hooks.logger.interval = 1
    cfg.log_processor = dict(by_epoch=False, window_size=1)
    cfg.dump(out_path)
    return out_path
