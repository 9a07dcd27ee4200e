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
