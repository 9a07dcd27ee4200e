"""Segment one image with an SPML model and save the prediction as an overlay.

    python demo/image_demo.py IMG CONFIG CKPT --out-file OUT [--device cpu]
        [--opacity 0.5] [--segments] [--cfg-options k=v ...]

``--segments`` adds the k-means segments of the embedding (12x12 grid) to the right of
the overlay. Works with stage-1 (configs/spml), stage-2 (configs/stage2) and k-NN
(configs/knn, with model.decode_head.prototype_file=FILE) models.
"""
import argparse
import os
import os.path as osp

import mmcv
from mmengine.config import Config, DictAction

from mmspml.apis.spml_inferencer import SPMLInferencer


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='SPML image demo')
    p.add_argument('img', help='image file')
    p.add_argument('config', help='config file')
    p.add_argument('checkpoint', help='checkpoint file')
    p.add_argument('--out-file', required=True, help='where to write the visualisation')
    p.add_argument('--device', default='cpu')
    p.add_argument('--opacity', type=float, default=0.5,
                   help='opacity of the painted prediction, (0, 1]')
    p.add_argument('--segments', action='store_true',
                   help='draw the k-means segments of the embedding beside the overlay')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = p.parse_args(argv)
    for path, what in ((args.img, 'image'), (args.config, 'config'),
                       (args.checkpoint, 'checkpoint')):
        if not osp.isfile(path):
            p.error(f'{what} file {path!r} does not exist')
    if not 0 < args.opacity <= 1:
        p.error(f'--opacity must be in (0, 1], got {args.opacity}')
    return args


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    inferencer = SPMLInferencer(cfg, weights=args.checkpoint, device=args.device,
                                show_segments=args.segments)
    result = inferencer(args.img, return_vis=True, opacity=args.opacity)
    vis = result['visualization']
    vis = vis[0] if isinstance(vis, list) else vis
    os.makedirs(osp.dirname(osp.abspath(args.out_file)), exist_ok=True)
    mmcv.imwrite(vis[..., ::-1], args.out_file)  # RGB -> BGR file
    classes = inferencer.model.dataset_meta['classes']
    pred = result['predictions']
    present = [classes[c] for c in sorted(set(pred.ravel().tolist())) if c < len(classes)]
    print(f'{args.out_file}: {vis.shape[1]}x{vis.shape[0]}, predicted classes: '
          f'{", ".join(present)}')


if __name__ == '__main__':
    main()
