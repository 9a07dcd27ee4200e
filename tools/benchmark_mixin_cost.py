"""What a user pays for SPML: a mix-in training iteration against a partial-CE one.

    python tools/benchmark_mixin_cost.py [--labels scribbles points] [--runs 5]
                                         [--iters 40] [--warmup 10]
                                         [--shapes 160x4 320x4 160x8]

For each label kind the two shipped CamVid configs of the label-efficiency benchmark
(docs/benchmarks.md) are trained as a user trains them, ``tools/train.py`` in a fresh
process each, alternating (partial CE, mix-in, partial CE, mix-in, ...) ``--runs`` times:

* partial CE: ``configs/baselines/camvid_<kind>_partial_ce_segformer_effnet-lite0.py``;
* SPML mix-in: ``configs/mixin/camvid_<kind>_segformer_effnet-lite0_spml.py`` (the same
  model plus ``SPMLAuxHead``, superpixels and the memory-bank hook).

A run's figure is the median of mmengine's per-iteration ``time`` (``IterTimerHook``:
data loading included, the dataloader workers of the config running as in training)
over its iterations after ``--warmup``; no validation, no checkpoint. The ratio of a
pair is mix-in / partial CE of two consecutive runs; printed are each config's median
over the runs and the median of the paired ratios. Before the first run the superpixel
cache of the mix-in configs (``ComputeSuperpixels(cache_dir=...)``) is filled for every
training image, as the first epoch of a training fills it; the time that takes is
printed. ``--shapes CROPxBATCH ...`` repeats the measurement for other crop sizes and
batch sizes (the cost growth of docs/benchmarks.md).
"""
import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import tempfile
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = {
    'pce': 'configs/baselines/camvid_{}_partial_ce_segformer_effnet-lite0.py',
    'mixin': 'configs/mixin/camvid_{}_segformer_effnet-lite0_spml.py',
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--labels', nargs='+', default=['scribbles', 'points'],
                   choices=['scribbles', 'points'])
    p.add_argument('--runs', type=int, default=5, help='runs of each config (>= 1)')
    p.add_argument('--iters', type=int, default=40, help='training iterations per run')
    p.add_argument('--warmup', type=int, default=10,
                   help='first iterations of a run left out of its median')
    p.add_argument('--shapes', nargs='+', default=['160x4'],
                   help='CROPxBATCH settings (square crops), e.g. 160x4 320x4 160x8')
    p.add_argument('--data-root', default=None, help='CamVid root (default: the configs\')')
    p.add_argument('--json', default=None, help='also write the results to this file')
    args = p.parse_args(argv)
    if args.runs < 1 or args.iters <= args.warmup or args.warmup < 0:
        p.error('need --runs >= 1 and 0 <= --warmup < --iters')
    try:
        args.shapes = [tuple(int(v) for v in s.lower().split('x')) for s in args.shapes]
    except ValueError:
        p.error(f'--shapes must look like 160x4, got {args.shapes}')
    return args


def overrides(args, batch):
    n = args.iters
    opts = [f'train_cfg.max_iters={n}', f'train_cfg.val_begin={n + 1}',
            f'param_scheduler.0.end={n}', 'default_hooks.logger.interval=1',
            f'default_hooks.checkpoint.interval={n + 1}',
            'default_hooks.checkpoint.save_last=False',
            f'train_dataloader.batch_size={batch}']
    if args.data_root:
        opts.append(f'train_dataloader.dataset.data_root={args.data_root}')
    return opts


def set_crop(cfg, crop):
    """Every crop/pad size of the train pipeline (--cfg-options cannot reach list items)."""
    for step in cfg.train_dataloader.dataset.pipeline:
        if 'crop_size' in step:
            step['crop_size'] = (crop, crop)
        if step.get('type') == 'PadSegFields':
            step['size'] = (crop, crop)
    cfg.model.data_preprocessor.size = (crop, crop)


def write_config(path, kind, label, crop):
    """A config file deriving from the shipped one with the crop size changed."""
    src = osp.join(REPO, CONFIGS[kind].format(label))
    if crop == 160:
        return src
    from mmengine.config import Config
    cfg = Config.fromfile(src)
    set_crop(cfg, crop)
    cfg.dump(path)
    return path


def iteration_times(work_dir):
    """Per-iteration ``time`` values of mmengine's scalars.json, by iteration."""
    out = {}
    for root, _, files in os.walk(work_dir):
        if 'scalars.json' in files:
            with open(osp.join(root, 'scalars.json')) as f:
                for line in f:
                    rec = json.loads(line)
                    if 'time' in rec and 'iter' in rec:
                        out[rec['iter']] = rec['time']
    return out


def train_once(config, opts, args):
    with tempfile.TemporaryDirectory() as work_dir:
        cmd = [sys.executable, osp.join(REPO, 'tools', 'train.py'), config,
               '--work-dir', work_dir, '--cfg-options', *opts]
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f'{" ".join(cmd)} failed:\n{proc.stderr[-3000:]}')
        times = iteration_times(work_dir)
    kept = [t for it, t in sorted(times.items()) if it > args.warmup]
    if len(kept) < args.iters - args.warmup:
        raise SystemExit(f'{config}: found {len(kept)} timed iterations after the warm-up, '
                         f'expected {args.iters - args.warmup}')
    return statistics.median(kept)


def fill_superpixel_cache(label, args):
    """Run the mix-in dataset's loading steps over every training image once."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS

    import mmspml  # noqa: F401
    init_default_scope('mmseg')
    cfg = Config.fromfile(osp.join(REPO, CONFIGS['mixin'].format(label)))
    ds_cfg = cfg.train_dataloader.dataset
    if args.data_root:
        ds_cfg.data_root = args.data_root
    steps = []
    for step in ds_cfg.pipeline:
        steps.append(step)
        if step['type'] in ('LoadOverSegmentation', 'ComputeSuperpixels'):
            break
    ds_cfg.pipeline = steps
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        dataset = DATASETS.build(ds_cfg)
        t0 = time.perf_counter()
        for i in range(len(dataset)):
            dataset[i]
    finally:
        os.chdir(cwd)
    return len(dataset), time.perf_counter() - t0


def main(argv=None):
    args = parse_args(argv)
    results = []
    for label in args.labels:
        n, seconds = fill_superpixel_cache(label, args)
        print(f'[{label}] superpixel cache checked/filled for {n} training images in '
              f'{seconds:.1f} s', flush=True)
        for crop, batch in args.shapes:
            with tempfile.TemporaryDirectory() as tmp:
                configs = {k: write_config(osp.join(tmp, f'{k}.py'), k, label, crop)
                           for k in CONFIGS}
                opts = overrides(args, batch)
                runs = {k: [] for k in CONFIGS}
                for r in range(args.runs):
                    for kind in CONFIGS:
                        runs[kind].append(train_once(configs[kind], opts, args))
                    print(f'[{label} {crop}x{crop} batch {batch}] run {r + 1}: partial CE '
                          f'{runs["pce"][-1]:.3f} s/iter, mix-in {runs["mixin"][-1]:.3f} '
                          f's/iter, ratio {runs["mixin"][-1] / runs["pce"][-1]:.3f}',
                          flush=True)
            ratios = [m / p for m, p in zip(runs['mixin'], runs['pce'])]
            results.append(dict(label=label, crop=crop, batch=batch, pce=runs['pce'],
                                mixin=runs['mixin'], ratios=ratios))
    print('\n| labels | crop | batch | partial CE s/iter | mix-in s/iter | mix-in / partial CE '
          '(median of pairs) | min-max of pairs |')
    print('|---|---|---|---|---|---|---|')
    for r in results:
        print(f'| {r["label"]} | {r["crop"]}x{r["crop"]} | {r["batch"]} | '
              f'{statistics.median(r["pce"]):.3f} | {statistics.median(r["mixin"]):.3f} | '
              f'{statistics.median(r["ratios"]):.3f} | '
              f'{min(r["ratios"]):.3f}-{max(r["ratios"]):.3f} |')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(args=vars(args), results=results), f, indent=1)
    return results


if __name__ == '__main__':
    main()
