# Copyright (c) OpenMMLab. All rights reserved.
# Derived from MMSegmentation 1.2.2 tools/train.py (Copyright 2020 The MMSegmentation
# Authors, Apache License 2.0, see LICENSE); modified for mmspml: CPU/gloo launch,
# clear errors for missing files and data, --resume always from the work dir.
"""Train a segmentor (mmseg's tools/train.py interface).

    python tools/train.py CONFIG [--work-dir DIR] [--resume] [--amp]
                                 [--cfg-options k=v ...] [--launcher none|pytorch]

``--resume`` continues from the work dir's last readable checkpoint, also for configs
that set ``load_from`` (stage 2: the stage-1 checkpoint is then only the starting point
of a work dir without checkpoints). mmspml's configs build :class:`SPMLRunner`, which does
this; for a config without ``runner_type`` the same choice is made here and handed to
mmengine's ``Runner``.
"""
import argparse
import logging
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.logging import print_log

from mmspml.engine.runner import SPMLRunner, build_runner, runner_class
from mmspml.utils.checkpoint import UnreadableCheckpointError, resume_checkpoint
from mmspml.utils.launch import (explain_missing_data, prepare_cpu_runtime,
                                 shutdown_distributed)


def parse_args():
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument('--resume', action='store_true', default=False,
                        help='resume from the latest checkpoint in the work_dir')
    parser.add_argument('--amp', action='store_true', default=False,
                        help='enable automatic-mixed-precision training')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, key=value '
                        '(a.b=c, lists as k=[a,b] or k=a,b)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main():
    args = parse_args()
    if not osp.isfile(args.config):
        raise SystemExit(f'config file {args.config!r} does not exist')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])

    if args.amp:
        from mmengine.device import (is_cuda_available, is_mlu_available,
                                     is_musa_available, is_npu_available)
        if not (is_cuda_available() or is_npu_available() or is_mlu_available()
                or is_musa_available()):
            # mmengine's AmpOptimWrapper asserts the same, deep in the Runner
            raise SystemExit('--amp needs a GPU (CUDA, NPU, MLU or MUSA): mmengine\'s '
                             'AmpOptimWrapper does not train on the CPU; train without '
                             '--amp here')
        optim_wrapper = cfg.optim_wrapper.type
        if optim_wrapper == 'AmpOptimWrapper':
            print_log('AMP training is already enabled in your config.',
                      logger='current', level=logging.WARNING)
        else:
            assert optim_wrapper == 'OptimWrapper', (
                '`--amp` is only supported when the optimizer wrapper type is '
                f'`OptimWrapper` but got {optim_wrapper}.')
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'

    cfg.resume = args.resume
    if args.resume and not issubclass(runner_class(cfg), SPMLRunner):
        # mmengine's Runner would resume from load_from when set, and load
        # work_dir/last_checkpoint blindly otherwise
        try:
            ckpt, note = resume_checkpoint(cfg.work_dir)
        except UnreadableCheckpointError as exc:
            raise SystemExit(f'error: {exc}') from None
        if note:
            print_log(note, logger='current', level=logging.WARNING)
        if ckpt is not None:
            cfg.load_from = ckpt
        else:  # nothing to resume: start afresh (from load_from if set)
            cfg.resume = False
    prepare_cpu_runtime(cfg, args.launcher)

    runner = build_runner(cfg)
    with explain_missing_data():
        try:
            runner.train()
        except UnreadableCheckpointError as exc:
            raise SystemExit(f'error: {exc}') from None
    shutdown_distributed()


if __name__ == '__main__':
    main()
