"""Where a mix-in training step spends its time, by ablation.

    python tools/profile_mixin_step.py [--labels points|scribbles|tags] [--threads 2]
                                       [--batches 6] [--reps 3] [--data-root DIR]
                                       [--label-dir DIR]

The model step only (``model.train_step``: data preprocessor, forward, backward, SGD;
the batches are loaded once beforehand), median over ``--reps`` passes over ``--batches``
batches of the shipped CamVid configs of ``tools/benchmark_mixin_cost.py``, after one
pass of warm-up, with the memory bank filled as in training:

* ``partial CE``: the partial-CE config;
* ``mix-in``: the mix-in config (``SPMLAuxHead`` + memory bank);
* ``mix-in, SPML losses zeroed``: the aux network runs, its losses are ``0 * sum`` of the
  embedding (the network's own cost, forward and backward);
* ``mix-in without <loss>``: the mix-in with one contrastive term left out.

``--labels tags`` profiles stage 1 of ``tools/pipelines/camvid_tags.sh`` instead: partial
CE on the CAM seeds of CamVid crops against the SPML mix-in with the tags losses
(``configs/baselines/camvid_crop_tags_partial_ce_segformer_effnet-lite0.py``,
``configs/spml_cam/camvid_crop_tags_segformer_effnet-lite0_spml.py``); ``--data-root`` is
then the crop dataset (``tools/make_camvid_crop_tags.py``) and ``--label-dir`` (required)
the seeds, e.g. ``WORK_DIR/seeds`` of a ``camvid_tags.sh`` run.

Differences between the rows are the cost of each part. ``tools/benchmark_mixin_cost.py``
measures whole training runs (data loading included); this tool says which part of the
model step to look at. Run it on a quiet machine: both measure wall time.
"""
import argparse
import os
import os.path as osp
import statistics
import sys
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)
CONFIGS = {
    'partial CE': 'configs/baselines/camvid_{}_partial_ce_segformer_effnet-lite0.py',
    'mix-in': 'configs/mixin/camvid_{}_segformer_effnet-lite0_spml.py',
}
TAGS_CONFIGS = {  # stage 1 of tools/pipelines/camvid_tags.sh
    'partial CE': 'configs/baselines/camvid_crop_tags_partial_ce_segformer_effnet-lite0.py',
    'mix-in': 'configs/spml_cam/camvid_crop_tags_segformer_effnet-lite0_spml.py',
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--labels', default='points', choices=['points', 'scribbles', 'tags'])
    p.add_argument('--threads', type=int, default=2, help='torch threads (training uses 2)')
    p.add_argument('--batches', type=int, default=6,
                   help="distinct batches of the config's batch size (4 frames; 8 crops "
                   'for --labels tags)')
    p.add_argument('--reps', type=int, default=3, help='timed passes over the batches')
    p.add_argument('--data-root', default=None, help="CamVid root (default: the configs'); "
                   'for --labels tags the crop dataset')
    p.add_argument('--label-dir', default=None,
                   help='weak labels of the training images (required for --labels tags: '
                   'the CAM seeds)')
    args = p.parse_args(argv)
    if min(args.threads, args.batches, args.reps) < 1:
        p.error('--threads, --batches and --reps must be >= 1')
    if args.labels == 'tags' and not args.label_dir:
        p.error('--labels tags needs --label-dir DIR (the CAM seeds, e.g. WORK_DIR/seeds '
                'of tools/pipelines/camvid_tags.sh)')
    return args


def load(kind, args):
    """Config, model, optimiser wrapper and the pre-loaded batches of one config."""
    import torch
    from mmengine.config import Config
    from mmengine.dataset import pseudo_collate
    from mmengine.optim import build_optim_wrapper
    from mmseg.registry import DATASETS, MODELS
    path = TAGS_CONFIGS[kind] if args.labels == 'tags' else CONFIGS[kind].format(args.labels)
    cfg = Config.fromfile(osp.join(REPO, path))
    ds_cfg = cfg.train_dataloader.dataset
    if args.data_root:
        ds_cfg.data_root = args.data_root
    if args.label_dir:
        if not osp.isdir(args.label_dir):
            raise FileNotFoundError(f'--label-dir {args.label_dir!r} is not a directory')
        ds_cfg.label_dir = osp.abspath(args.label_dir)
    dataset = DATASETS.build(ds_cfg)
    batch = cfg.train_dataloader.batch_size
    g = torch.Generator().manual_seed(0)
    order = torch.randperm(len(dataset), generator=g).tolist()
    order = (order * (batch * args.batches // len(order) + 1))[:batch * args.batches]
    batches = [pseudo_collate([dataset[i] for i in order[j * batch:(j + 1) * batch]])
               for j in range(args.batches)]
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    return model, build_optim_wrapper(model, cfg.optim_wrapper), batches


def step_time(model, optim_wrapper, batches, reps):
    """Median seconds of ``train_step`` (and the memory-bank push) after one warm-up pass."""
    aux = getattr(model, 'auxiliary_head', None)
    times = []
    for rep in range(reps + 1):
        for data in batches:
            t0 = time.perf_counter()
            model.train_step(data, optim_wrapper)
            if hasattr(aux, 'commit_memory'):
                aux.commit_memory()
            if rep:
                times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None):
    args = parse_args(argv)
    import torch
    torch.set_num_threads(args.threads)
    import mmspml  # noqa: F401  (registers everything)
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')
    os.chdir(REPO)  # the configs' relative data and cache paths
    rows = []
    model, ow, batches = load('partial CE', args)
    rows.append(('partial CE', step_time(model, ow, batches, args.reps)))
    model, ow, batches = load('mix-in', args)
    rows.append(('mix-in', step_time(model, ow, batches, args.reps)))
    aux = model.auxiliary_head
    aux.contrastive_loss_by_feat = lambda emb, samples: {'loss_zero': emb.float().sum() * 0}
    rows.append(('mix-in, SPML losses zeroed', step_time(model, ow, batches, args.reps)))
    del aux.contrastive_loss_by_feat  # the class's method again
    losses = aux.contrastive_losses
    for left_out in losses:
        aux.contrastive_losses = torch.nn.ModuleList([m for m in losses if m is not left_out])
        rows.append((f'mix-in without {left_out.loss_name}',
                     step_time(model, ow, batches, args.reps)))
    aux.contrastive_losses = losses
    base = rows[0][1]
    what = 'crop tags' if args.labels == 'tags' else args.labels
    print(f'\nCamVid {what}, {args.threads} thread(s), model step only, median of '
          f'{args.reps} x {args.batches} steps\n')
    print('| step | ms | / partial CE |')
    print('|---|---|---|')
    for name, seconds in rows:
        print(f'| {name} | {seconds * 1000:.1f} | {seconds / base:.3f} |')
    return rows


if __name__ == '__main__':
    main()
