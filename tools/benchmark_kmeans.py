"""Batched spherical k-means vs a per-image loop, measured in one run.

    python tools/benchmark_kmeans.py [--images 16] [--size 128 128] [--dims 66]
                                     [--grid 6 6] [--iterations 10] [--repeats 5]
                                     [--threads N] [--clock {wall,cpu}]

Both paths cluster the same features (the SPML training setting by default: 16 images
of 128x128 stride-4 embeddings, 64 dims + 2 location channels, a 6x6 grid, 10
iterations) and must give the same partition; prints the median times (after a warm-up,
the two paths alternating) and their ratio.
"""
import argparse
import statistics
import time

import torch

from mmspml.functional import batched_spherical_kmeans, grid_init_labels, l2_normalize


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--images', type=int, default=16)
    p.add_argument('--size', type=int, nargs=2, default=(128, 128))
    p.add_argument('--dims', type=int, default=66)
    p.add_argument('--grid', type=int, nargs=2, default=(6, 6))
    p.add_argument('--iterations', type=int, default=10)
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--device', default='cpu')
    p.add_argument('--threads', type=int, default=None, help='torch intra-op threads')
    p.add_argument('--clock', choices=('wall', 'cpu'), default='wall',
                   help='wall time, or this process\'s CPU time (CPU only; with --threads 1 '
                   'on a CPU shared with higher-priority jobs)')
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    clock = time.process_time if args.clock == 'cpu' else time.perf_counter
    torch.manual_seed(0)
    h, w = args.size
    b, k = args.images, args.grid[0] * args.grid[1]
    feats = l2_normalize(torch.randn(b, h * w, args.dims, device=args.device))
    valid = torch.rand(b, h * w, device=args.device) > 0.1
    init = grid_init_labels(args.grid, (h, w), device=args.device).view(1, -1).expand(b, -1)

    def batched():
        return batched_spherical_kmeans(feats, init, valid, num_clusters=k,
                                        iterations=args.iterations, image_by_image=False)

    def loop():
        return batched_spherical_kmeans(feats, init, valid, num_clusters=k,
                                        iterations=args.iterations, image_by_image=True)

    def timed(fn, times):
        t0 = clock()
        res = fn()
        if args.device.startswith('cuda'):
            torch.cuda.synchronize()
        times.append(clock() - t0)
        return res

    # one warm-up each, then the two paths alternate (the CPU may be shared)
    res_b, res_l = batched(), loop()
    times_b, times_l = [], []
    for _ in range(args.repeats):
        timed(batched, times_b)
        timed(loop, times_l)
    t_b, t_l = statistics.median(times_b), statistics.median(times_l)
    same = all(len(set(zip(res_b[i][valid[i]].tolist(), res_l[i][valid[i]].tolist())))
               == len(set(res_b[i][valid[i]].tolist())) for i in range(b))
    print(f'{b} images x {h}x{w} px x {args.dims} dims, grid {tuple(args.grid)}, '
          f'{args.iterations} iterations, {args.device}, torch threads '
          f'{torch.get_num_threads()}, {clock.__name__}')
    print(f'per-image loop: {t_l * 1e3:8.1f} ms (median of {args.repeats})')
    print(f'batched:        {t_b * 1e3:8.1f} ms (median of {args.repeats})')
    print(f'speed-up (loop / batched): {t_l / t_b:.2f}x; same partitions: {same}')
    default = 'per-image loop' if args.device == 'cpu' else 'batched'
    print(f'batched_spherical_kmeans(image_by_image=None) on {args.device} uses: {default}')


if __name__ == '__main__':
    main()
