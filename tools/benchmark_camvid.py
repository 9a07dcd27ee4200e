"""Label-efficiency benchmark on CamVid: SPML recipes, the Gated CRF loss, partial
cross-entropy and dense labels, over several seeds and two checks.

Every recipe uses the same pretrained EfficientNet-Lite0 + SegFormer-head model, data, crop
and iteration budget. For each recipe, seed and protocol the tool trains with
``tools/train.py``, tests the last checkpoint with ``tools/test.py`` (the same
``--cfg-options`` as the training, so a model override is tested with its model) and
prints, per evaluation set, a table of every seed, mean ± std and the gain over partial CE
as mean ± std of the paired (same-seed) differences; then per-class IoU, the evaluations
along the schedule (``--val-interval``), timings and the protocol's checks. With
``--write-docs`` the tables and the exact commands replace the section between the markers
in ``docs/benchmarks.md``.

Protocols (``--protocols``):

* ``val``: train on CamVid's train split, evaluate on val (101 frames, all of sequence
  0016E5, like 204 of the 367 training frames);
* ``heldout``: train without the frames of one sequence (``--heldout-seq``, default
  0006R0: 101 training frames) and evaluate on val and on that sequence, which training
  never saw. The split lists are written to ``WORK_DIR/splits/`` and read through
  ``ann_file`` (``CamVidDataset`` takes the images and labels of ``images/train``).

Recipes (``--runs``; ``X`` = points or scribbles):

* ``dense``, ``dense_gated_crf`` (dense labels + ``GatedCRFLoss``, the bound of the Gated
  CRF recipes), ``pce_X`` (partial CE), ``spml_mixin_X`` (SPML as ``SPMLAuxHead``),
  ``gated_crf_X`` (partial CE + ``GatedCRFLoss``), ``spml_mixin_gated_crf_X`` (both),
  ``spml_head_X`` (SPML's own head; not run by default): one config each;
* ``spml_full_X``: SPML's full recipe from the ``spml_mixin_X`` model of the same seed:
  pseudo labels (decode head's softmax ± flip, restricted to each image's weak-label
  classes, random walk T^64 on the ``SPMLAuxHead`` embedding, DenseCRF when pydensecrf2 is
  installed; ``tools/make_pseudo_labels.py``), then the dense config trained afresh on them;
  ``pce_full_X``: its control, the same steps from the ``pce_X`` model without the walk.
  Their stage-1 runs are trained first when missing.

    python tools/benchmark_camvid.py --seeds 0 1 2 --protocols val heldout
    python tools/benchmark_camvid.py --runs dense --val-interval 250    # the dense curve
    python tools/benchmark_camvid.py --runs pce_points spml_mixin_points --iters 200
    python tools/benchmark_camvid.py --dry-run            # print the commands only

Runs are sequential (each uses both cores) unless ``--jobs N`` trains N at a time with
cores / N threads each. ``--class-weights median-frequency`` weights each run's CE by the
class frequencies of the labels it trains on. Finished runs are kept in
``WORK_DIR/results.json`` under every setting that changes them (recipe, seed, protocol,
held-out sequence, iterations, ``--cfg-options``, data root, evaluation interval, CRF,
class weights) and skipped when asked again. A run's time is measured from its own log
only. The tools run with ``$PYTHON`` when it is set (as in ``tools/pipelines/*.sh``), else
with this interpreter.
"""
import argparse
import glob
import hashlib
import json
import os
import os.path as osp
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEFAULT_DATA_ROOT = '../shared/data/camvid'  # the configs' data_root
RETRAIN_CONFIG = 'configs/baselines/camvid_dense_segformer_effnet-lite0.py'
PSEUDO_WEIGHTS = ('model.decode_head.loss_decode.class_weight='
                  '<median-frequency weights of the pseudo labels>')


def _recipes():
    runs = {'dense': dict(config='configs/baselines/camvid_dense_segformer_effnet-lite0.py',
                          what='dense labels', labels=None),
            'dense_gated_crf': dict(
                config='configs/baselines/camvid_dense_gated_crf_segformer_effnet-lite0.py',
                what='dense labels + Gated CRF', labels=None, control='dense')}
    for x in ('scribbles', 'points'):
        runs.update({
            f'pce_{x}': dict(
                config=f'configs/baselines/camvid_{x}_partial_ce_segformer_effnet-lite0.py',
                what=f'partial CE, {x}', labels=x),
            f'spml_mixin_{x}': dict(
                config=f'configs/mixin/camvid_{x}_segformer_effnet-lite0_spml.py',
                what=f'SPML mix-in, {x}', labels=x),
            f'gated_crf_{x}': dict(
                config=f'configs/baselines/camvid_{x}_gated_crf_segformer_effnet-lite0.py',
                what=f'Gated CRF, {x}', labels=x),
            f'spml_mixin_gated_crf_{x}': dict(
                config=f'configs/mixin/camvid_{x}_segformer_effnet-lite0_spml_gated_crf.py',
                what=f'SPML mix-in + Gated CRF, {x}', labels=x),
            f'spml_full_{x}': dict(
                stage1=f'spml_mixin_{x}', walk=6, control=f'pce_full_{x}', labels=x,
                what=f'SPML full recipe (mix-in, pseudo labels, retrained), {x}'),
            f'pce_full_{x}': dict(
                stage1=f'pce_{x}', walk=-1, labels=x,
                what=f'its control (partial CE, pseudo labels, retrained), {x}'),
            f'spml_head_{x}': dict(config=f'configs/spml/camvid_{x}_effnet-lite0.py',
                                   what=f'SPML (SPMLHead), {x}', labels=x),
        })
    return runs


RECIPES = _recipes()
DEFAULT_RUNS = [n for n in RECIPES if not n.startswith('spml_head')]
CLASSES = ('sky', 'building', 'pole', 'road', 'pavement', 'tree', 'sign-symbol', 'fence',
           'car', 'pedestrian', 'bicyclist')
BEGIN, END = '<!-- benchmark_camvid:begin -->', '<!-- benchmark_camvid:end -->'
_ROW = re.compile(r'^\|\s*([\w-]+)\s*\|\s*([\d.]+|nan)\s*\|\s*([\d.]+|nan)\s*\|\s*$')
EVAL_SETS = dict(val='val', heldout='held-out sequence')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--runs', nargs='+', choices=list(RECIPES), default=DEFAULT_RUNS)
    p.add_argument('--iters', type=int, default=1000, help='training iterations per run')
    p.add_argument('--seeds', type=int, nargs='+', default=[0],
                   help='training seeds (each run once per seed, in its own work dir)')
    p.add_argument('--protocols', nargs='+', choices=['val', 'heldout'], default=['val'])
    p.add_argument('--heldout-seq', default='0006R0',
                   help='sequence (name prefix) left out of training by --protocols heldout')
    p.add_argument('--val-interval', type=int, default=None,
                   help='evaluate on val every N iterations during the training of '
                   '--curve-runs (the schedule curve); other runs are evaluated once, after '
                   'training, by tools/test.py')
    p.add_argument('--curve-runs', nargs='+', default=['dense'],
                   choices=[n for n, r in RECIPES.items() if 'config' in r],
                   help='runs evaluated every --val-interval iterations (default: dense)')
    p.add_argument('--data-root', default=None,
                   help=f'CamVid root (default: the configs\', {DEFAULT_DATA_ROOT})')
    p.add_argument('--work-dir', default='work_dirs/benchmark_camvid')
    p.add_argument('--cfg-options', nargs='*', default=[],
                   help='key=value overrides of every run in --runs, for its training and its '
                   'tests alike (shown in the table); for the full recipes they reach the '
                   'stage-1 run and the pseudo labels, not the retraining (the dense config)')
    p.add_argument('--crf', choices=['auto', 'on', 'off'], default='auto',
                   help='DenseCRF in the pseudo labels of the full recipes (auto: when '
                   'pydensecrf2 is installed)')
    p.add_argument('--nproc', type=int, default=2, help='pseudo-label worker processes')
    p.add_argument('--class-weights', choices=['none', 'median-frequency'], default='none',
                   help='class weights of the decode head\'s CE: median-frequency weights '
                   'w_c = median(f) / f_c, f_c the share of class c among the labeled pixels '
                   'of the labels the run trains on (its own weak labels, simulated as its '
                   'config does, on its own training split); the full recipes\' retraining '
                   'gets those of its pseudo labels')
    p.add_argument('--jobs', type=int, default=1,
                   help='runs trained at the same time, each with cores / jobs threads '
                   '(OMP_NUM_THREADS); a full recipe waits for its stage-1 run. On 2 cores, '
                   '2 jobs of 1 thread trained 1.44x the iterations per second of 1 job of 2')
    p.add_argument('--dry-run', action='store_true', help='print the commands only')
    p.add_argument('--write-docs', action='store_true',
                   help='write the tables into docs/benchmarks.md')
    args = p.parse_args(argv)
    if args.iters < 1 or (args.val_interval is not None and args.val_interval < 1):
        p.error('--iters and --val-interval must be positive')
    if args.jobs < 1:
        p.error('--jobs must be positive')
    if len(set(args.seeds)) != len(args.seeds):
        p.error(f'--seeds has repeated values: {args.seeds}')
    return args


# ------------------------------------------------------------------ planning
def data_root(args):
    return osp.normpath(osp.join(REPO, args.data_root or DEFAULT_DATA_ROOT))


def crf_enabled(args):
    if args.crf != 'auto':
        return args.crf == 'on'
    try:
        import pydensecrf.densecrf  # noqa: F401
    except ImportError:
        return False
    return True


def settings(name, seed, protocol, args):
    """Everything that changes a run's result: its cache key (and work dir hash)."""
    s = dict(name=name, seed=seed, protocol=protocol, iters=args.iters,
             cfg_options=list(args.cfg_options), data_root=data_root(args))
    if protocol == 'heldout':
        s['heldout_seq'] = args.heldout_seq
    recipe = RECIPES[name]
    if 'stage1' in recipe:
        s['stage1'] = settings(recipe['stage1'], seed, protocol, args)
        s['crf'] = crf_enabled(args)
        if args.class_weights != 'none':  # of its pseudo labels, known once they are made
            s['retrain_class_weight'] = args.class_weights
        return s
    if args.val_interval is not None and name in args.curve_runs:
        s['val_interval'] = args.val_interval
    if args.class_weights != 'none':
        s['class_weight'] = class_weights(recipe['config'], protocol, args)
    return s


_WEIGHTS = {}


@lru_cache(maxsize=None)
def _config(config):
    """A recipe's config, parsed once (read only)."""
    from mmengine.config import Config
    return Config.fromfile(osp.join(REPO, config))


def _loss_path(cfg):
    loss = cfg.model.decode_head.loss_decode
    return ('model.decode_head.loss_decode.0' if isinstance(loss, (list, tuple))
            else 'model.decode_head.loss_decode')


def class_weights(config, protocol, args):
    """Median-frequency weights (4 decimals) from the labels ``config`` trains on: its
    dataset's annotations through its ``weak_label_steps`` (the simulated weak labels), on
    the protocol's training split. Cached in ``WORK_DIR/class_weights.json``."""
    cfg = _config(config)
    steps = list(cfg.get('weak_label_steps', []))
    ann = osp.abspath(split_files(args, write=True)[0]) if protocol == 'heldout' else ''
    root = data_root(args)
    key = json.dumps([steps, ann, root, cfg.train_dataloader.dataset.get('split', 'train')],
                     sort_keys=True)
    if key in _WEIGHTS:
        return _WEIGHTS[key]
    store = osp.join(REPO, args.work_dir, 'class_weights.json')
    cached = json.load(open(store)) if osp.exists(store) else {}
    if key not in cached:
        import numpy as np
        from mmengine.registry import init_default_scope
        from mmseg.registry import DATASETS
        import mmspml  # noqa: F401  (registers the datasets and transforms)
        init_default_scope('mmseg')
        ds_cfg = cfg.train_dataloader.dataset.copy()
        ds_cfg.update(data_root=root, pipeline=[dict(type='LoadWeakAnnotations')] + steps)
        if ann:
            ds_cfg['ann_file'] = ann
        ds = DATASETS.build(ds_cfg)
        n = len(ds.metainfo['classes'])
        counts = np.zeros(n, np.int64)
        for i in range(len(ds)):
            label = ds[i]['gt_seg_map']
            counts += np.bincount(label[label < n].ravel(), minlength=n)[:n]
        cached[key] = median_frequency(counts, f'the training labels of {config}')
        os.makedirs(osp.dirname(store), exist_ok=True)
        with open(store, 'w') as f:
            json.dump(cached, f, indent=1)
    _WEIGHTS[key] = cached[key]
    return cached[key]


def median_frequency(counts, what):
    """``w_c = median(f) / f_c`` (4 decimals), ``f_c`` the share of class ``c`` in
    ``counts``; refuses, naming ``what``, when a class has no labeled pixel."""
    import numpy as np
    counts = np.asarray(counts, np.int64)
    if (counts == 0).any():
        raise SystemExit(f'--class-weights: classes {np.flatnonzero(counts == 0).tolist()} '
                         f'have no labeled pixel in {what}')
    freq = counts / counts.sum()
    return [round(float(np.median(freq) / f), 4) for f in freq]


def pseudo_label_weights(label_dir, num_classes=len(CLASSES)):
    """Median-frequency weights of the pseudo labels ``label_dir/*.png`` (255: ignored)."""
    import cv2
    import numpy as np
    paths = sorted(glob.glob(osp.join(label_dir, '*.png')))
    if not paths:
        raise SystemExit(f'--class-weights: no pseudo labels (*.png) in {label_dir}')
    counts = np.zeros(num_classes, np.int64)
    for path in paths:
        label = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if label is None or label.ndim != 2:
            raise SystemExit(f'--class-weights: {path} is not a single-channel label PNG')
        counts += np.bincount(label[label < num_classes].ravel(),
                              minlength=num_classes)[:num_classes]
    return median_frequency(counts, f'the pseudo labels of {label_dir}')


def run_key(s):
    return json.dumps(s, sort_keys=True)


def work_dir(s, args):
    digest = hashlib.md5(run_key(s).encode()).hexdigest()[:8]
    return osp.join(args.work_dir, s['protocol'], f"{s['name']}_seed{s['seed']}_{digest}")


def plan(args):
    """The runs to do, stage-1 runs before the full recipes that need them."""
    out, seen = [], set()

    def add(s):
        if 'stage1' in s:
            add(s['stage1'])
        if run_key(s) not in seen:
            seen.add(run_key(s))
            out.append(s)

    for protocol in args.protocols:
        for seed in args.seeds:
            for name in args.runs:
                add(settings(name, seed, protocol, args))
    return out


def split_files(args, write=None):
    """``(train list, held-out list)`` of ``--heldout-seq``, written under the work dir
    (not by ``--dry-run`` unless ``write``)."""
    root = data_root(args)
    src = osp.join(root, 'train.txt')
    if not osp.isfile(src):
        raise SystemExit(f'{src} not found: --protocols heldout needs the CamVid train list')
    names = [n.strip() for n in open(src) if n.strip()]
    seq = args.heldout_seq
    held = [n for n in names if n.startswith(seq + '_')]
    if not held or len(held) == len(names):
        raise SystemExit(f'--heldout-seq {seq} matches {len(held)} of the {len(names)} '
                         f'training frames of {src}; it must match some but not all (CamVid '
                         'names start with their sequence, e.g. 0006R0_f01230)')
    out = osp.join(REPO, args.work_dir, 'splits')
    paths = (osp.join(out, f'train_no{seq}.txt'), osp.join(out, f'heldout_{seq}.txt'))
    if (not args.dry_run) if write is None else write:
        os.makedirs(out, exist_ok=True)
        for path, rows in zip(paths, ([n for n in names if n not in held], held)):
            with open(path, 'w') as f:
                f.write('\n'.join(rows) + '\n')
    return paths


def _data_opts(args, loaders=('train', 'val', 'test')):
    if not args.data_root:
        return []
    return [f'{d}_dataloader.dataset.data_root={args.data_root}' for d in loaders]


def _train_opts(s, args, splits):
    opts = [f'train_cfg.max_iters={s["iters"]}', f'param_scheduler.0.end={s["iters"]}',
            f'default_hooks.checkpoint.interval={s["iters"]}',
            f'randomness.seed={s["seed"]}'] + _data_opts(args)
    if s.get('val_interval'):
        opts.append(f'train_cfg.val_interval={s["val_interval"]}')
    else:  # evaluated once by tools/test.py
        opts += ['val_cfg=None', 'val_dataloader=None', 'val_evaluator=None']
    if s['protocol'] == 'heldout':
        opts.append(f'train_dataloader.dataset.ann_file={osp.abspath(splits[0])}')
    if s.get('class_weight'):
        path = _loss_path(_config(RECIPES[s['name']]['config']))
        opts.append(f"{path}.class_weight=[{','.join(map(str, s['class_weight']))}]")
    return opts


def _test_cmds(config, ckpt, work, s, args, splits, extra):
    py = os.environ.get('PYTHON') or sys.executable
    sets = [('val', [])]
    if s['protocol'] == 'heldout':
        sets.append(('heldout', ['test_dataloader.dataset.split=train',
                                 f'test_dataloader.dataset.ann_file={osp.abspath(splits[1])}']))
    cmds = []
    for eval_set, split_opts in sets:
        opts = _data_opts(args, ('test', )) + split_opts + list(extra)
        cmds.append((f'test_{eval_set}', [
            py, 'tools/test.py', config, ckpt, '--work-dir', osp.join(work, f'test_{eval_set}')
        ] + (['--cfg-options', *opts] if opts else [])))
    return cmds


def commands(s, args, splits=(None, None)):
    """``[(step, argv)]`` of one run, in order."""
    py = os.environ.get('PYTHON') or sys.executable
    recipe = RECIPES[s['name']]
    work = work_dir(s, args)
    user = list(s['cfg_options'])
    if 'stage1' not in recipe:
        config = recipe['config']
        train = [py, 'tools/train.py', config, '--work-dir', work, '--cfg-options',
                 *_train_opts(s, args, splits), *user]
        ckpt = osp.join(work, f'iter_{s["iters"]}.pth')
        return [('train', train)] + _test_cmds(config, ckpt, work, s, args, splits, user)
    stage1 = s['stage1']
    stage1_cfg = RECIPES[stage1['name']]['config']
    ckpt1 = osp.join(work_dir(stage1, args), f'iter_{s["iters"]}.pth')
    pseudo = osp.join(work, 'pseudo_labels')
    opts = _data_opts(args, ('train', )) + user
    if s['protocol'] == 'heldout':
        opts.append(f'train_dataloader.dataset.ann_file={osp.abspath(splits[0])}')
    labels = [py, 'tools/make_pseudo_labels.py', stage1_cfg, ckpt1, '--out-dir', pseudo,
              '--source', 'classifier', '--walk-steps', str(recipe['walk']),
              '--nproc', str(args.nproc)] + (['--crf'] if s['crf'] else [])
    if opts:
        labels += ['--cfg-options', *opts]
    retrain_work = osp.join(work, 'retrain')
    retrain = [py, 'tools/train.py', RETRAIN_CONFIG, '--work-dir', retrain_work,
               '--cfg-options', *_train_opts(s, args, splits),
               f'train_dataloader.dataset.label_dir={osp.normpath(osp.join(REPO, pseudo))}']
    if s.get('retrain_class_weight'):
        retrain.append(PSEUDO_WEIGHTS)  # replaced by the weights once the labels exist
    ckpt = osp.join(retrain_work, f'iter_{s["iters"]}.pth')
    return ([('pseudo_labels', labels), ('train', retrain)] +
            _test_cmds(RETRAIN_CONFIG, ckpt, work, s, args, splits, []))


# ------------------------------------------------------------------ running
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
    return dict(mIoU=float(m.group(1)), IoU=ious)


def _scalars(work):
    return set(glob.glob(osp.join(REPO, work, '*', 'vis_data', 'scalars.json')))


def log_stats(paths):
    """Median seconds per training iteration and the val mIoU along the schedule
    ``[[iter, mIoU], ...]`` from the given mmengine scalars.json files (one run's)."""
    times, curve = [], []
    for path in sorted(paths):
        for line in open(path):
            rec = json.loads(line)
            if 'loss' in rec and 'time' in rec:
                times.append(rec['time'])
            if 'mIoU' in rec and 'step' in rec:
                curve.append([int(rec['step']), float(rec['mIoU'])])
    return (statistics.median(times) if times else None), sorted(curve)


def shell_line(cmd):
    """``python ...`` of an argv as one would type it in the repository root: paths under
    the repository become ``$PWD/...`` (the split lists are read by absolute path)."""
    words = []
    for arg in cmd[1:]:
        arg = arg.replace(REPO + os.sep, '$PWD/')
        words.append(arg if re.fullmatch(r'[\w@%+=:,./$-]+', arg) else shlex.quote(arg))
    return ' '.join(['python'] + words)


def execute(s, args, splits):
    """Run one recipe/seed/protocol; returns its result record."""
    record = dict(s, what=RECIPES[s['name']]['what'], metrics={}, commands=[])
    work = work_dir(s, args)
    for step, cmd in commands(s, args, splits):
        if step == 'pseudo_labels':
            out_dir = osp.join(REPO, cmd[cmd.index('--out-dir') + 1])
            shutil.rmtree(out_dir, ignore_errors=True)  # never reuse labels of another run
        if PSEUDO_WEIGHTS in cmd:  # the retraining's CE weighted by its pseudo labels
            record['retrain_class_weight'] = pseudo_label_weights(out_dir)
            cmd[cmd.index(PSEUDO_WEIGHTS)] = (
                f"model.decode_head.loss_decode.class_weight="
                f"[{','.join(map(str, record['retrain_class_weight']))}]")
        record['commands'].append(shell_line(cmd))
        train_work = osp.join(REPO, cmd[cmd.index('--work-dir') + 1]) if step == 'train' else None
        before = _scalars(train_work) if train_work else set()
        t0 = time.time()
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=_env(args))
        wall = time.time() - t0
        if proc.returncode != 0:
            raise SystemExit(f'[benchmark_camvid] {s["name"]} seed {s["seed"]}: {step} failed '
                             f'({proc.returncode}): {shlex.join(cmd)}\n'
                             f'{(proc.stdout + proc.stderr)[-4000:]}')
        record.setdefault('step_wall_s', {})[step] = wall
        if step == 'pseudo_labels':
            m = re.findall(r'pseudo-label mIoU:\s*([\d.]+)', proc.stdout + proc.stderr)
            record['pseudo_label_miou'] = float(m[-1]) if m else None
        elif step == 'train':
            record['train_wall_s'] = wall
            record['s_per_iter'], record['curve'] = log_stats(_scalars(train_work) - before)
        else:
            record['metrics'][step[len('test_'):]] = dict(parse_table(proc.stdout + proc.stderr),
                                                          test_wall_s=wall)
    record['work_dir'] = work
    record['jobs'] = args.jobs
    return record


def _env(args):
    env = dict(os.environ)
    if args.jobs > 1:
        threads = str(max(1, (os.cpu_count() or 1) // args.jobs))
        env.update(OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
    return env


# ------------------------------------------------------------------ statistics and tables
def mean_std(values):
    """``(mean, sample std or None, n)`` of a list of numbers."""
    values = list(values)
    if not values:
        return None, None, 0
    std = statistics.stdev(values) if len(values) > 1 else None
    return statistics.mean(values), std, len(values)


def paired_gain(a, b):
    """Mean, std and number of the same-seed differences ``a[seed] - b[seed]``."""
    return mean_std(a[k] - b[k] for k in sorted(set(a) & set(b)))


def _fmt(mean, std, n, signed=False):
    if n == 0:
        return '—'
    text = f'{mean:+.2f}' if signed else f'{mean:.2f}'
    return text + (f' ± {std:.2f}' if std is not None else '') + (f' (n={n})' if signed else '')


def by_recipe(results, protocol, eval_set, key=lambda m: m['mIoU']):
    """``{name: {seed: value}}`` of one protocol and evaluation set."""
    out = {}
    for r in results:
        if r['protocol'] == protocol and eval_set in r['metrics']:
            out.setdefault(r['name'], {})[r['seed']] = key(r['metrics'][eval_set])
    return out


def _label(name, results):
    opts = next((r['cfg_options'] for r in results if r['name'] == name), [])
    return RECIPES[name]['what'] + (f" (`{' '.join(opts)}`)" if opts else '')


def summary_table(results, protocol, eval_set, seeds):
    values = by_recipe(results, protocol, eval_set)
    head = ['recipe', *(f'seed {s}' for s in seeds), 'mean ± std',
            'gain over partial CE (paired)', 'gain over its control (paired)']
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for name in [n for n in RECIPES if n in values]:
        v = values[name]
        recipe = RECIPES[name]
        base = f'pce_{recipe["labels"]}' if recipe['labels'] else None
        gain = (_fmt(*paired_gain(v, values[base]), signed=True)
                if base in values and base != name else '—')
        control = recipe.get('control')
        vs_control = (_fmt(*paired_gain(v, values[control]), signed=True)
                      if control in values else '—')
        row = [_label(name, results), *(f'{v[s]:.2f}' if s in v else '—' for s in seeds),
               _fmt(*mean_std(v.values())), gain, vs_control]
        lines.append('| ' + ' | '.join(row) + ' |')
    return '\n'.join(lines)


def class_table(results, protocol, eval_set, seeds):
    head = ['recipe', 'seed', 'mIoU', *CLASSES]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    values = by_recipe(results, protocol, eval_set, key=lambda m: m)
    for name in [n for n in RECIPES if n in values]:
        per_seed = values[name]
        for seed in [s for s in seeds if s in per_seed]:
            m = per_seed[seed]
            lines.append('| ' + ' | '.join([_label(name, results), str(seed), f"{m['mIoU']:.2f}",
                                            *(f"{m['IoU'][c]:.1f}" for c in CLASSES)]) + ' |')
        if len(per_seed) > 1:
            mean = lambda f: statistics.mean(f(m) for m in per_seed.values())  # noqa: E731
            lines.append('| ' + ' | '.join(
                [_label(name, results), 'mean', f"{mean(lambda m: m['mIoU']):.2f}",
                 *(f"{mean(lambda m, c=c: m['IoU'][c]):.1f}" for c in CLASSES)]) + ' |')
    return '\n'.join(lines)


def curve_table(results):
    """val mIoU along the schedule of the runs trained with --val-interval."""
    runs = [r for r in results if r.get('curve')]
    if not runs:
        return None
    steps = sorted({step for r in runs for step, _ in r['curve']})
    head = ['iteration', *(f"{r['what']}, seed {r['seed']} ({r['protocol']})" for r in runs)]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for step in steps:
        cells = [next((f'{v:.2f}' for s, v in r['curve'] if s == step), '—') for r in runs]
        lines.append('| ' + ' | '.join([str(step), *cells]) + ' |')
    return '\n'.join(lines)


def timing_table(results):
    head = ['recipe', 'protocol', 'seed', 'train s', 's/iter', 'test s', 'pseudo-label s',
            'pseudo-label mIoU (train)']
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for r in sorted(results, key=lambda r: (list(RECIPES).index(r['name']), r['protocol'],
                                            r['seed'])):
        test_s = sum(m['test_wall_s'] for m in r['metrics'].values())
        spi = r.get('s_per_iter')
        pl = r.get('pseudo_label_miou')
        pl_s = r.get('step_wall_s', {}).get('pseudo_labels')
        lines.append('| ' + ' | '.join([
            _label(r['name'], results), r['protocol'], str(r['seed']),
            f"{r['train_wall_s']:.0f}", f'{spi:.2f}' if spi else '—', f'{test_s:.0f}',
            f'{pl_s:.0f}' if pl_s is not None else '—',
            f'{pl:.2f}' if pl is not None else '—']) + ' |')
    return '\n'.join(lines)


def checks(results, protocol, eval_set):
    """The protocol's pass/fail lines about the dense runs (trained upper bounds: ``dense``
    and ``dense_gated_crf``, each against every weak run)."""
    values = by_recipe(results, protocol, eval_set, key=lambda m: m)
    bounds = [n for n in RECIPES if n in values and RECIPES[n]['labels'] is None]
    weak = {n: v for n, v in values.items() if RECIPES[n]['labels'] is not None}
    out = []
    for name in bounds:
        for seed, m in sorted(values[name].items()):
            zero = [c for c in CLASSES if m['IoU'][c] <= 0]
            beaten = [RECIPES[n]['what'] for n, v in weak.items()
                      if seed in v and v[seed]['mIoU'] >= m['mIoU']]
            out.append(f"- {RECIPES[name]['what'].replace(' labels', '')}, seed "
                       f"{seed}: {m['mIoU']:.2f} mIoU; classes at 0 IoU: "
                       f"{', '.join(zero) if zero else 'none'}; weak runs at or above it: "
                       f"{', '.join(beaten) if beaten else 'none'}")
    return out


def report(results, args):
    parts = []
    for protocol in args.protocols:
        for eval_set in (['val'] if protocol == 'val' else ['val', 'heldout']):
            if not by_recipe(results, protocol, eval_set):
                continue
            trained = ('all training frames' if protocol == 'val' else
                       f'training frames without sequence {args.heldout_seq}')
            evaluated = ('val' if eval_set == 'val' else f'sequence {args.heldout_seq}')
            parts += [f'#### Trained on {trained}, evaluated on {evaluated} '
                      f'({args.iters} iterations)', '',
                      summary_table(results, protocol, eval_set, args.seeds), '',
                      'Per class (IoU):', '',
                      class_table(results, protocol, eval_set, args.seeds), '']
            lines = checks(results, protocol, eval_set)
            if lines:
                parts += lines + ['']
    curve = curve_table(results)
    if curve:
        parts += [f'#### val mIoU along the schedule (every {args.val_interval} iterations)',
                  '', curve, '']
    jobs = sorted({r.get('jobs', 1) for r in results})
    parts += [f'#### Time (2 CPU cores, {"/".join(map(str, jobs))} run(s) at a time; s/iter '
              'from the run\'s own log)', '',
              timing_table(results)]
    return '\n'.join(parts)


def write_docs(text, results, argv):
    path = osp.join(REPO, 'docs', 'benchmarks.md')
    doc = open(path).read() if osp.exists(path) else '# Benchmarks\n'
    cmdline = ' '.join(['python tools/benchmark_camvid.py',
                        *(shlex.quote(a) for a in argv if a != '--write-docs')])
    block = [BEGIN, '', f'Produced by `{cmdline}`.', '', text, '',
             'Commands of every run (from the repository root; `python` is '
             '`.venv/bin/python`):', '', '```bash']
    for r in results:
        if r.get('note'):  # how a run came to be (e.g. trained before a default changed)
            block.append(f"# {r['name']} seed {r['seed']} ({r['protocol']}): {r['note']}")
        block += r['commands']
    block += ['```', '', END]
    block = '\n'.join(block)
    if BEGIN in doc and END in doc:
        doc = doc[:doc.index(BEGIN)] + block + doc[doc.index(END) + len(END):]
    else:
        doc = doc.rstrip('\n') + '\n\n' + block + '\n'
    with open(path, 'w') as f:
        f.write(doc)
    print(f'wrote {path}')


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    runs = plan(args)
    splits = split_files(args) if 'heldout' in args.protocols else (None, None)
    if args.dry_run:
        for s in runs:
            for _, cmd in commands(s, args, splits):
                print(shell_line(cmd))
        return
    os.makedirs(osp.join(REPO, args.work_dir), exist_ok=True)
    store = osp.join(REPO, args.work_dir, 'results.json')
    done = json.load(open(store)) if osp.exists(store) else {}
    asked = {run_key(settings(n, seed, p, args)) for p in args.protocols
             for seed in args.seeds for n in args.runs}
    lock = threading.Lock()
    futures = {}

    def one(s):
        key = run_key(s)
        tag = f"[benchmark_camvid] {s['name']} seed {s['seed']} ({s['protocol']})"
        if key not in done:
            if 'stage1' in s:
                futures[run_key(s['stage1'])].result()  # submitted (so started) before
            print(f'{tag}: {args.iters} iterations ...', flush=True)
            record = execute(s, args, splits)
            with lock:
                done[key] = record
                with open(store, 'w') as f:
                    json.dump(done, f, indent=1)
        r = done[key]
        print(f"{tag}: " + ', '.join(f"{k} mIoU {m['mIoU']:.2f}" for k, m in r['metrics'].items())
              + f", train {r['train_wall_s']:.0f} s", flush=True)
        return r

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for s in runs:  # plan() puts every stage-1 run before the recipes that need it
            futures[run_key(s)] = pool.submit(one, s)
    # every failure is raised here; shown: the runs asked for, not the stage-1 runs they needed
    results = [(run_key(s), futures[run_key(s)].result()) for s in runs]
    shown = [r for key, r in results if key in asked]
    text = report(shown, args)
    print(text)
    if args.write_docs:
        write_docs(text, shown, argv)


if __name__ == '__main__':
    main()
