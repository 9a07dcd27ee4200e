# Copyright (c) OpenMMLab. All rights reserved.
# Derived from MMSegmentation 1.2.2 tools/test.py (Copyright 2020 The MMSegmentation
# Authors, Apache License 2.0, see LICENSE); modified for mmspml: CPU/gloo launch,
# clear errors for missing files and data, and --out without keep_results.
"""Test (and evaluate) a segmentor (mmseg's tools/test.py interface).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out DIR] [--show]
                         [--show-dir DIR] [--wait-time S] [--tta]
                         [--cfg-options k=v ...] [--launcher none|pytorch]
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction

from mmspml.engine.runner import build_runner
from mmspml.utils.launch import (explain_missing_data, prepare_cpu_runtime,
                                 shutdown_distributed)


def parse_args():
    parser = argparse.ArgumentParser(description='Test (and eval) a segmentor')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save the evaluation metrics')
    parser.add_argument('--out', type=str, help='the directory to save output prediction '
                        'maps for offline evaluation')
    parser.add_argument('--show', action='store_true', help='show prediction results')
    parser.add_argument('--show-dir', help='directory where painted images are saved '
                        '(relative to the work dir)')
    parser.add_argument('--wait-time', type=float, default=2, help='the interval of show (s)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, key=value')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--tta', action='store_true', help='test time augmentation')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def trigger_visualization_hook(cfg, args):
    default_hooks = cfg.default_hooks
    if 'visualization' not in default_hooks:
        raise RuntimeError('VisualizationHook must be included in default_hooks '
                           '(refer to configs/_base_/schedules/*.py) to use --show or '
                           '--show-dir')
    hook = default_hooks['visualization']
    hook['draw'] = True
    if args.show:
        hook['show'] = True
        hook['wait_time'] = args.wait_time
    if args.show_dir:
        visualizer = cfg.visualizer
        visualizer['save_dir'] = args.show_dir
    return cfg


def main():
    args = parse_args()
    for path, what in ((args.config, 'config'), (args.checkpoint, 'checkpoint')):
        if not osp.isfile(path):
            raise SystemExit(f'{what} file {path!r} does not exist')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])

    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        cfg = trigger_visualization_hook(cfg, args)
    if args.tta:
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model
    if args.out is not None:
        # IoUMetric writes one PNG of class ids per test image into output_dir
        cfg.test_evaluator['output_dir'] = args.out

    prepare_cpu_runtime(cfg, args.launcher)
    runner = build_runner(cfg)
    with explain_missing_data():
        runner.test()
    shutdown_distributed()


if __name__ == '__main__':
    main()
