"""Label-efficiency benchmark on CamVid: SPML vs partial cross-entropy vs dense labels.

Trains every run of the table (same pretrained EfficientNet-Lite0, data, crop, seed and
iteration budget) with ``tools/train.py`` on the CamVid train split, evaluates the last
checkpoint on the val split with ``tools/test.py``, and prints an mmseg-style table
(mIoU and per-class IoU, training wall time including the final validation, and the
median seconds per training iteration). With ``--write-docs`` the table and the
exact commands replace the section between the markers in ``docs/benchmarks.md``.

    python tools/benchmark_camvid.py                      # every run, 1000 iterations
    python tools/benchmark_camvid.py --runs pce_points spml_mixin_points --iters 200
    python tools/benchmark_camvid.py --dry-run            # print the commands only

Runs are sequential (each uses both cores); finished runs are kept in
``WORK_DIR/results.json`` and skipped when run again with the same settings.
"""
import argparse
import glob
import hashlib
import json
import os
import os.path as osp
import re
import statistics
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

# name -> (config, what it is)
RUNS = {
    'dense': ('configs/baselines/camvid_dense_segformer_effnet-lite0.py',
              'dense labels (upper bound)'),
    'pce_points': ('configs/baselines/camvid_points_partial_ce_segformer_effnet-lite0.py',
                   'partial CE, points'),
    'spml_mixin_points': ('configs/mixin/camvid_points_segformer_effnet-lite0_spml.py',
                          'SPML mix-in (SPMLAuxHead), points'),
    'spml_head_points': ('configs/spml/camvid_points_effnet-lite0.py',
                         'SPML (SPMLHead), points'),
    'pce_scribbles': ('configs/baselines/camvid_scribbles_partial_ce_segformer_effnet-lite0.py',
                      'partial CE, scribbles'),
    'spml_mixin_scribbles': ('configs/mixin/camvid_scribbles_segformer_effnet-lite0_spml.py',
                             'SPML mix-in (SPMLAuxHead), scribbles'),
    'spml_head_scribbles': ('configs/spml/camvid_scribbles_effnet-lite0.py',
                            'SPML (SPMLHead), scribbles'),
}
CLASSES = ('sky', 'building', 'pole', 'road', 'pavement', 'tree', 'sign-symbol', 'fence',
           'car', 'pedestrian', 'bicyclist')
BEGIN, END = '<!-- benchmark_camvid:begin -->', '<!-- benchmark_camvid:end -->'
_ROW = re.compile(r'^\|\s*([\w-]+)\s*\|\s*([\d.]+|nan)\s*\|\s*([\d.]+|nan)\s*\|\s*$')


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--runs', nargs='+', choices=list(RUNS), default=list(RUNS))
    p.add_argument('--iters', type=int, default=1000, help='training iterations per run')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--data-root', default=None,
                   help='CamVid root (default: the configs\', ../shared/data/camvid)')
    p.add_argument('--work-dir', default='work_dirs/benchmark_camvid')
    p.add_argument('--cfg-options', nargs='*', default=[],
                   help='extra key=value overrides passed to every run (tuning; shown in '
                   'the table)')
    p.add_argument('--dry-run', action='store_true', help='print the commands only')
    p.add_argument('--write-docs', action='store_true',
                   help='write the table into docs/benchmarks.md')
    return p.parse_args()


def commands(name, args):
    config = RUNS[name][0]
    work = osp.join(args.work_dir, name)
    if args.seed != 0:  # runs of other seeds keep their own checkpoints and logs
        work += f'_seed{args.seed}'
    if args.cfg_options:  # a tuning variant gets its own work dir
        work += '_' + hashlib.md5(' '.join(args.cfg_options).encode()).hexdigest()[:6]
    opts = [f'train_cfg.max_iters={args.iters}', f'train_cfg.val_interval={args.iters}',
            f'default_hooks.checkpoint.interval={args.iters}',
            f'param_scheduler.0.end={args.iters}', f'randomness.seed={args.seed}']
    if args.data_root:
        opts += [f'{d}.dataset.data_root={args.data_root}'
                 for d in ('train_dataloader', 'val_dataloader', 'test_dataloader')]
    opts += list(args.cfg_options)
    py = sys.executable
    train = [py, 'tools/train.py', config, '--work-dir', work, '--cfg-options', *opts]
    test = [py, 'tools/test.py', config, osp.join(work, f'iter_{args.iters}.pth'),
            '--work-dir', osp.join(work, 'test')]
    if args.data_root:
        test += ['--cfg-options', f'test_dataloader.dataset.data_root={args.data_root}']
    return train, test


def parse_table(text):
    """Per-class IoU and the summary line of mmseg's IoUMetric output."""
    ious = {}
    for line in text.splitlines():
        m = _ROW.match(line.strip())
        if m and m.group(1) in CLASSES:
            ious[m.group(1)] = float(m.group(2))
    m = re.search(r'mIoU:\s*([\d.]+)', text)
    if m is None or len(ious) != len(CLASSES):
        raise RuntimeError('could not find the IoU table in tools/test.py output:\n'
                           + text[-3000:])
    return float(m.group(1)), ious


def run(name, args):
    train, test = commands(name, args)
    t0 = time.time()
    subprocess.run(train, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    wall = time.time() - t0
    out = subprocess.run(test, cwd=REPO, check=True, capture_output=True, text=True)
    miou, ious = parse_table(out.stdout + out.stderr)
    return dict(name=name, config=RUNS[name][0], what=RUNS[name][1], iters=args.iters,
                seed=args.seed, cfg_options=list(args.cfg_options), train_wall_s=wall,
                mIoU=miou, IoU=ious, train_cmd=' '.join(train[1:]),
                test_cmd=' '.join(test[1:]))


def median_iter_time(result):
    """Median seconds per training iteration from the run's mmengine scalars.json (robust
    to a slow start or a busy machine for part of the run), or None."""
    cmd = result['train_cmd'].split()
    work = osp.join(REPO, cmd[cmd.index('--work-dir') + 1])
    times = []
    for path in glob.glob(osp.join(work, '*', 'vis_data', 'scalars.json')):
        for line in open(path):
            rec = json.loads(line)
            if 'time' in rec and 'loss' in rec:
                times.append(rec['time'])
    return statistics.median(times) if times else None


def table(results):
    head = ['run', 'mIoU', *CLASSES, 'train s', 's/iter']
    rows = [[r['what'] + (f" ({' '.join(r['cfg_options'])})" if r['cfg_options'] else ''),
             f"{r['mIoU']:.2f}", *(f"{r['IoU'][c]:.1f}" for c in CLASSES),
             f"{r['train_wall_s']:.0f}",
             f"{median_iter_time(r):.2f}" if median_iter_time(r) else '-'] for r in results]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    lines += ['| ' + ' | '.join(r) + ' |' for r in rows]
    return '\n'.join(lines)


def write_docs(results, args):
    path = osp.join(REPO, 'docs', 'benchmarks.md')
    text = open(path).read() if osp.exists(path) else '# Benchmarks\n'
    block = [BEGIN, '', table(results), '', 'Commands (from the repository root):', '',
             '```bash']
    for r in results:
        block += [f"python {r['train_cmd']}", f"python {r['test_cmd']}"]
    block += ['```', '', END]
    block = '\n'.join(block)
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip('\n') + '\n\n' + block + '\n'
    with open(path, 'w') as f:
        f.write(text)
    print(f'wrote {path}')


def main():
    args = parse_args()
    if args.dry_run:
        for name in args.runs:
            for cmd in commands(name, args):
                print('python', ' '.join(cmd[1:]))
        return
    os.makedirs(osp.join(REPO, args.work_dir), exist_ok=True)
    store = osp.join(REPO, args.work_dir, 'results.json')
    done = json.load(open(store)) if osp.exists(store) else {}
    results = []
    for name in args.runs:
        key = f'{name}|{args.iters}|{args.seed}|{" ".join(args.cfg_options)}'
        if key not in done:
            print(f'[benchmark_camvid] {name}: training {args.iters} iterations ...',
                  flush=True)
            done[key] = run(name, args)
            with open(store, 'w') as f:
                json.dump(done, f, indent=1)
        r = done[key]
        print(f"[benchmark_camvid] {name}: mIoU {r['mIoU']:.2f}, "
              f"train {r['train_wall_s']:.0f} s", flush=True)
        results.append(r)
    print(table(results))
    if args.write_docs:
        write_docs(results, args)


if __name__ == '__main__':
    main()
