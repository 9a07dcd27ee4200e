"""SPML contrastive step: mmspml vs the authors' algorithm, and the SPML train-step cost.

    python tools/benchmark_spml.py [--repeats 5] [--scales voc,2x-pixels,2x-prototypes]
                                                   [--train-steps N] [--profile]

Part 1 (always): forward and forward + backward of ``SPMLHead.contrastive_loss_by_feat``
(segment generation, sem_ann k6 w1.0, sem_occ k12 w0.5, img_sim k16 w0.1, memory bank
of 2 iterations, the prototype-accuracy diagnostic) against the oracle
``tools/_spml_oracle.py`` (per-image loop, ``torch.unique`` per image, exp-then-sum
kernel) on the synthetic scribble batch of ``tools._spml_oracle.synthetic_batch``:

* ``voc``: 4 images, 128x128 stride-4 embedding, D = 64, 6x6 grid, 10 k-means
  iterations, 24 regions per image (~63.7k valid pixels, ~647 segments, ~1.9k
  prototypes incl. memory);
* ``2x-pixels``: 4 images of 128x256 (same regions per image);
* ``2x-prototypes``: 128x128 with 52 regions per image (about twice the segments, and a
  memory of two such batches).

Times are medians of ``--repeats`` runs after one warm-up, the two implementations
alternating within each repeat (float32, the process's torch threads). The float64
losses of both are compared on the same batch. Peak extra memory = the largest resident
set size (``/proc/self/statm``, sampled every 0.5 ms by a thread) during one
forward + backward minus the RSS just before it, measured in a fresh process per
implementation after one warm-up run; that process tells glibc (``mallopt``) to serve
every allocation >= 64 KiB by ``mmap`` and to trim at once, so freed tensors leave the
RSS immediately and the number is the real peak of live memory, not allocator caching
(the timings run with the default allocator).
It is reported relative to one ``[N, K]`` float32 logit matrix of the co-occurrence term
(N valid pixels, K prototypes incl. memory).

Part 2 (``--train-steps N``): time of one training iteration (data loading excluded,
then included) of ``configs/spml/camvid_scribbles.py`` vs
``configs/baselines/camvid_scribbles_partial_ce.py``, see :func:`train_steps`.
"""
import argparse
import ctypes
import gc
import os
import statistics
import subprocess
import sys
import threading
import time

import torch

try:  # run as a script: tools/ is on sys.path
    import _spml_oracle as oracle
except ImportError:  # imported as tools.benchmark_spml (tests/test_models/test_spml_oracle.py)
    from tools import _spml_oracle as oracle

# the clock of every timing: wall time, or this process's CPU time (--clock cpu)
CLOCK = [time.perf_counter]
SCALES = {
    'voc': dict(size=(128, 128), regions=24),
    '2x-pixels': dict(size=(128, 256), regions=24),
    '2x-prototypes': dict(size=(128, 128), regions=52),
}
LOSSES = [dict(type='SemanticAnnotationLoss', concentration=6, loss_weight=1.0),
          dict(type='SemanticCooccurrenceLoss', concentration=12, loss_weight=0.5),
          dict(type='ImageSimilarityLoss', concentration=16, loss_weight=0.1)]
KEYS = (('loss_sem_ann', 'sem_ann'), ('loss_sem_occ', 'sem_occ'), ('loss_img_sim', 'img_sim'))


def _fix_malloc():
    """Make RSS follow live memory: mmap for >= 64 KiB, trim freed heap at once."""
    try:
        libc = ctypes.CDLL('libc.so.6')
        libc.mallopt(-3, 64 * 1024)  # M_MMAP_THRESHOLD (also disables its dynamic growth)
        libc.mallopt(-1, 128 * 1024)  # M_TRIM_THRESHOLD
        return True
    except OSError:
        return False


def _rss() -> int:
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


def peak_extra_memory(fn) -> int:
    """Peak RSS growth (bytes) while ``fn()`` runs."""
    gc.collect()
    base = _rss()
    peak = [base]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], _rss())
            time.sleep(0.0005)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    try:
        fn()
    finally:
        stop.set()
        t.join()
    peak[0] = max(peak[0], _rss())
    return peak[0] - base


def build_head(num_classes=21, dtype=torch.float32, dims=64, chunk_size=None):
    """The SPMLHead of the VOC scribble setting (its embedding layers are unused here)."""
    import mmspml  # noqa: F401  (registers the modules)
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    head = MODELS.build(dict(
        type='SPMLHead', in_channels=8, channels=2 * dims, embed_dims=dims,
        num_classes=num_classes,
        segment_generator=dict(type='SegmentGenerator', grid=(6, 6), iterations=10),
        contrastive_losses=[dict(cfg, chunk_size=chunk_size) for cfg in LOSSES],
        memory_size=2, norm_cfg=dict(type='BN')))
    return head.to(dtype).train()


def head_inputs(data, head, dtype):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    c = data['num_classes']
    samples = []
    for i in range(data['semantic'].shape[0]):
        s = SegDataSample(metainfo=dict(img_tags=data['tags'][i, :c].numpy(),
                                        img_path=f'synthetic{i}'))
        s.gt_sem_seg = PixelData(data=data['semantic'][i][None].clone())
        s.gt_overseg = PixelData(data=data['region'][i][None].clone())
        samples.append(s)
    head.memory_bank.reset()
    b = len(samples)
    for protos, sem, tags in data['memory']:  # oldest first, as the bank stores them
        head.memory_bank.push(protos.to(dtype), sem, tags[:, :c], torch.zeros_like(sem), b)
    return samples


def run_mmspml(head, embedding, samples, backward):
    emb = embedding.detach().clone().requires_grad_(True)
    out = head.contrastive_loss_by_feat(emb, samples)
    head._pending_memory = None  # the benchmark never commits: the memory stays fixed
    if backward:
        sum(v for k, v in out.items() if k.startswith('loss_')).backward()
    return out, emb


def run_oracle(data, embedding, backward):
    emb = embedding.detach().clone().requires_grad_(True)
    memory = [(p.to(emb.dtype), s, t) for p, s, t in data['memory']]
    out = oracle.spml_losses(emb, data['semantic'], data['region'], data['tags'],
                             data['num_classes'], memory)
    if backward:
        (out['sem_ann'] + out['sem_occ'] + out['img_sim']).backward()
    return out, emb


def compare_float64(data):
    """Relative differences of the float64 losses and of the embedding gradients."""
    head = build_head(data['num_classes'], torch.float64)
    samples = head_inputs(data, head, torch.float64)
    emb = data['embedding'].double()
    ours, g_ours = run_mmspml(head, emb, samples, backward=True)
    ref, g_ref = run_oracle(data, emb, backward=True)
    rel = {name: abs(float(ours[k]) - float(ref[name])) / abs(float(ref[name]))
           for k, name in KEYS}
    rel['grad'] = float((g_ours.grad - g_ref.grad).abs().max() / g_ref.grad.abs().max())
    return rel


def _implementations(name):
    data = oracle.synthetic_batch(**SCALES[name])
    head = build_head(data['num_classes'])
    samples = head_inputs(data, head, torch.float32)
    emb = data['embedding']
    return data, {'oracle': lambda bw: run_oracle(data, emb, bw),
                  'mmspml': lambda bw: run_mmspml(head, emb, samples, bw)}


def profile_scale(name):
    from torch.profiler import ProfilerActivity, profile
    _, impls = _implementations(name)
    impls['mmspml'](True)
    with profile(activities=[ProfilerActivity.CPU]) as p:
        impls['mmspml'](True)
    print(f'== {name}: one mmspml forward + backward')
    print(p.key_averages().table(sort_by='self_cpu_time_total', row_limit=25))


def time_scale(name, repeats):
    data, impls = _implementations(name)
    times = {(impl, bw): [] for impl in impls for bw in (False, True)}
    for impl in impls:  # warm-up
        for bw in (False, True):
            impls[impl](bw)
    for _ in range(repeats):
        for bw in (False, True):
            for impl in impls:
                gc.collect()
                t0 = CLOCK[0]()
                impls[impl](bw)
                times[impl, bw].append(CLOCK[0]() - t0)
    out, _ = run_oracle(data, data['embedding'], False)
    n, k = out['num_pixels'], out['num_prototypes']
    med = {key: statistics.median(v) for key, v in times.items()}
    return dict(name=name, n=n, segments=out['num_segments'], k=k, med=med,
                logit_bytes=n * k * 4, rel=compare_float64(data))


def memory_scale(name):
    """Peak extra memory of one fwd+bwd per implementation, each in a fresh process.

    The child sets :func:`_fix_malloc` before allocating anything, runs one warm-up
    fwd+bwd and then measures a second one.
    """
    result = {}
    for impl in ('oracle', 'mmspml'):
        out = subprocess.run([sys.executable, os.path.abspath(__file__), '--memory-of',
                              f'{name}:{impl}', '--threads', str(torch.get_num_threads())],
                             capture_output=True, text=True, check=True)
        result[impl] = int(out.stdout.strip().splitlines()[-1])
    return result


def _memory_child(spec):
    name, impl = spec.split(':')
    _fix_malloc()
    _, impls = _implementations(name)
    impls[impl](True)
    print(peak_extra_memory(lambda: impls[impl](True)))


SPML_CONFIG = 'configs/spml/camvid_scribbles.py'
BASELINE_CONFIG = 'configs/baselines/camvid_scribbles_partial_ce.py'


def _train_parts(config):
    """Model, optimiser wrapper and a single-process dataloader of ``config``."""
    import mmspml  # noqa: F401
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    cfg = Config.fromfile(config)
    model = MODELS.build(cfg.model).train()
    loader_cfg = dict(cfg.train_dataloader, num_workers=0, persistent_workers=False)
    loader = Runner.build_dataloader(loader_cfg, seed=0)
    return model, build_optim_wrapper(model, cfg.optim_wrapper), loader


def train_steps(steps):
    """Per-iteration cost of SPML vs partial CE on CamVid, split into its parts.

    Both configs use the same dilated ResNet-18, data, crop (160x160) and batch (4).
    Measured in this process, alternating, medians over ``steps`` iterations (after one
    warm-up): the data pipeline per batch (``num_workers=0``, so its cost is visible:
    the SPML pipeline computes SLIC superpixels on the fly); the model step
    (``train_step``: preprocessor, forward, backward, SGD update; the memory bank is
    committed after every step as ``SPMLMemoryBankHook`` does); the SPML step with its
    contrastive losses removed (= backbone + the larger SPML head and its CE classifier);
    and ``contrastive_loss_by_feat`` forward + backward alone on the step's embedding.
    """
    torch.manual_seed(0)
    parts = {'spml': _train_parts(SPML_CONFIG), 'partial_ce': _train_parts(BASELINE_CONFIG)}
    iters = {name: iter(p[2]) for name, p in parts.items()}
    times = {key: [] for key in ('data spml', 'data partial_ce', 'step spml',
                                 'step partial_ce', 'step spml, no contrastive losses',
                                 'contrastive fwd+bwd')}
    head = parts['spml'][0].decode_head
    losses = head.contrastive_losses

    def step(name, batch, contrastive=True):
        model, optim_wrapper, _ = parts[name]
        if name == 'spml':
            head.contrastive_losses = losses if contrastive else torch.nn.ModuleList()
        t0 = CLOCK[0]()
        model.train_step(batch, optim_wrapper)
        elapsed = CLOCK[0]() - t0
        if name == 'spml':
            head.contrastive_losses = losses
            head.commit_memory()
        return elapsed

    def contrastive_alone(batch):
        model = parts['spml'][0]
        data = model.data_preprocessor(batch, True)
        with torch.no_grad():
            emb = head.forward(model.extract_feat(data['inputs']))
        emb.requires_grad_(True)
        t0 = CLOCK[0]()
        out = head.contrastive_loss_by_feat(emb, data['data_samples'])
        sum(v for k, v in out.items() if k.startswith('loss_')).backward()
        elapsed = CLOCK[0]() - t0
        head._pending_memory = None
        return elapsed

    for i in range(steps + 1):
        batches = {}
        for name in parts:
            t0 = CLOCK[0]()
            batches[name] = next(iters[name])
            if i:
                times[f'data {name}'].append(CLOCK[0]() - t0)
        results = [step('spml', batches['spml']), step('partial_ce', batches['partial_ce']),
                   step('spml', batches['spml'], contrastive=False),
                   contrastive_alone(batches['spml'])]
        if i:  # the first iteration is the warm-up
            for key, value in zip(('step spml', 'step partial_ce',
                                   'step spml, no contrastive losses', 'contrastive fwd+bwd'),
                                  results):
                times[key].append(value)
    return {key: statistics.median(v) for key, v in times.items()}


def print_train_table(med, steps):
    print(f'\nTraining iteration, {SPML_CONFIG} vs {BASELINE_CONFIG} (batch 4, 160x160 '
          f'crops), median of {steps} after a warm-up, alternating, torch threads '
          f'{torch.get_num_threads()}, {CLOCK[0].__name__}')
    print('| part | seconds |')
    print('|---|---|')
    for key, value in med.items():
        print(f'| {key} | {value:.3f} |')
    base, spml = med['step partial_ce'], med['step spml']
    head_part = med['step spml, no contrastive losses'] - base
    print(f'| model step ratio spml / partial_ce | {spml / base:.2f} |')
    print(f'| of the difference {spml - base:.3f} s: larger head + classifier | {head_part:.3f} |')
    print(f'| of the difference: contrastive step (spml - spml without it) | '
          f'{spml - med["step spml, no contrastive losses"]:.3f} |')
    data_diff = med['data spml'] - med['data partial_ce']
    print(f'| data pipeline difference (on-the-fly superpixels) per batch | {data_diff:.3f} |')
    print(f'| step + data ratio (data not overlapped) | '
          f'{(spml + med["data spml"]) / (base + med["data partial_ce"]):.2f} |')


def print_table(rows, repeats):
    print(f'SPML contrastive step, float32, CPU, torch threads {torch.get_num_threads()}, '
          f'{CLOCK[0].__name__}, median of {repeats} after a warm-up, implementations '
          'alternating')
    print('| scale | N pixels | segments | K protos | impl | forward s | fwd+bwd s | '
          'fwd+bwd ratio | peak extra MiB | x [N,K] f32 | f64 rel diff (ann/occ/img/grad) |')
    print('|---|---|---|---|---|---|---|---|---|---|---|')
    for r in rows:
        for impl in ('oracle', 'mmspml'):
            ratio = r['med'][impl, True] / r['med']['oracle', True]
            rel = ('-' if impl == 'oracle' else '/'.join(f'{r["rel"][k]:.1e}' for k in
                                                          ('sem_ann', 'sem_occ', 'img_sim',
                                                           'grad')))
            print(f'| {r["name"]} | {r["n"]} | {r["segments"]} | {r["k"]} | {impl} | '
                  f'{r["med"][impl, False]:.3f} | {r["med"][impl, True]:.3f} | {ratio:.2f} | '
                  f'{r["memory"][impl] / 2**20:.0f} | '
                  f'{r["memory"][impl] / r["logit_bytes"]:.2f} | {rel} |')


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--scales', default='voc,2x-pixels,2x-prototypes')
    p.add_argument('--profile', action='store_true',
                   help='print a torch.profiler table of one mmspml fwd+bwd per scale')
    p.add_argument('--train-steps', type=int, default=0,
                   help='also time N training iterations of SPML vs partial CE (CamVid)')
    p.add_argument('--threads', type=int, default=None,
                   help='torch intra-op threads (default: torch\'s choice). On a CPU shared '
                   'with other jobs, 1 avoids OpenMP barrier stalls that swamp the timings')
    p.add_argument('--clock', choices=('wall', 'cpu'), default='wall',
                   help='wall time, or the CPU time of this process (with --threads 1 on a '
                   'CPU shared with higher-priority jobs: the compute cost without the '
                   'time spent waiting for a core)')
    p.add_argument('--memory-of', help=argparse.SUPPRESS)  # internal: SCALE:IMPL
    args = p.parse_args()
    if args.clock == 'cpu':
        CLOCK[0] = time.process_time
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.memory_of:
        return _memory_child(args.memory_of)
    names = [n for n in args.scales.split(',') if n]
    for name in names:
        if name not in SCALES:
            raise SystemExit(f'--scales: unknown scale {name!r}; choose from {list(SCALES)}')
    if args.profile:
        for name in names:
            profile_scale(name)
        return
    rows = [time_scale(name, args.repeats) for name in names]
    for row in rows:
        row['memory'] = memory_scale(row['name'])
    if rows:
        print_table(rows, args.repeats)
    if args.train_steps:
        print_train_table(train_steps(args.train_steps), args.train_steps)


if __name__ == '__main__':
    main()
