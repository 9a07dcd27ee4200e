"""Helpers to run the command-line tools as a user would (a process per run)."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def run_tool(args, timeout=600, env=None, check=True, cwd=REPO):
    """``args`` run in ``cwd`` (a tool, or a shell script that runs tools), its output
    captured. Without ``MMSPML_TEST_SUBPROCESS=1``, ``python SCRIPT.py`` runs as a fork of
    this process, and so do the ``python SCRIPT.py`` calls of a ``bash`` command
    (``tests/test_tools/_forkserver.py``)."""
    e = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1')
    e.update(env or {})
    if _forkable(args) and cwd == REPO:
        proc = _run_script_forked(args, e, timeout)
    elif _forking_allowed() and args and args[0] == 'bash':
        from ._forkserver import run_serving_forks
        proc = run_serving_forks(args, e, timeout, cwd=cwd)
    else:
        proc = subprocess.run(args, cwd=cwd, env=e, capture_output=True, text=True,
                              timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f'{args} failed ({proc.returncode}):\n'
                             f'{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}')
    return proc


def _forking_allowed():
    return os.environ.get('MMSPML_TEST_SUBPROCESS', '0') != '1' and hasattr(os, 'fork')


def _forkable(args):
    """``python SCRIPT.py ...`` of this interpreter, and forking allowed."""
    return (_forking_allowed() and len(args) >= 2 and args[0] == sys.executable
            and str(args[1]).endswith('.py') and osp.isfile(osp.join(REPO, str(args[1]))))


def _run_script_forked(args, env, timeout):
    """``python SCRIPT ARGS`` as a forked copy of this process, run with runpy.

    The same as a subprocess for the script (its own process, ``__main__``, argv, cwd,
    environment, exit status, stdout and stderr), without paying the 5-7 s of importing
    torch, mmcv, mmengine and mmseg again: the child inherits the imported modules. The
    parent holds one torch thread (tests/conftest.py), so nothing is forked mid-parallel
    region. ``MMSPML_TEST_SUBPROCESS=1`` runs real subprocesses instead.
    """
    import signal
    import tempfile
    import time
    preload()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # child: never returns
            code = 1
            try:
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
                import io
                sys.stdout = io.TextIOWrapper(open(1, 'wb', closefd=False),
                                              write_through=True)
                sys.stderr = io.TextIOWrapper(open(2, 'wb', closefd=False),
                                              write_through=True)
                sys.stdin = open(os.devnull)
                os.chdir(REPO)
                os.environ.clear()
                os.environ.update(env)
                os.setpgrp()  # its own group: a timeout kills its workers too
                code = _exec_script(args)
            except BaseException:  # noqa: B902  (report anything, then leave)
                import traceback
                traceback.print_exc()
            finally:
                _leave(code)
        deadline = time.monotonic() + timeout
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                os.waitpid(pid, 0)
                raise subprocess.TimeoutExpired(args, timeout)
            time.sleep(0.05)
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(args, code, out.read().decode(errors='replace'),
                                           err.read().decode(errors='replace'))


# What the tools import beyond what the tests already did (mmengine's runner, visualizer and
# environment report, mmseg's engine and evaluation, the EfficientNet package): imported
# once here, before the first fork, instead of once in every forked tool run.
_PRELOAD = ('mmspml.engine.runner', 'mmspml.utils.launch', 'mmseg.apis', 'mmseg.engine',
            'mmseg.evaluation', 'mmseg.visualization', 'mmengine.visualization',
            'matplotlib.pyplot', 'torch.utils.cpp_extension', 'efficientnet_lite_pytorch')


def preload():
    import importlib
    for name in _PRELOAD:
        if name not in sys.modules:
            try:
                importlib.import_module(name)
            except ImportError:
                pass


def _leave(code):
    """End a forked tool run as the interpreter would end ``python SCRIPT``, without the
    parent's other exit handlers: multiprocessing's exit function stops the daemonic
    children (persistent DataLoader workers), which otherwise live on holding the
    command's stdout (a reader waiting for EOF waits for their 5 s watchdog), then the
    streams are flushed and the process leaves with ``code``."""
    try:
        import multiprocessing.util
        multiprocessing.util._exit_function()
    except BaseException:  # noqa: B902  (leaving in any case)
        pass
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def _fresh_mmengine_instances():
    """Forget the named global instances (visualizers, loggers, message hubs, default
    scope) the parent made, as a new process would: a config's ``name='visualizer'`` would
    otherwise get the parent's visualizer, which writes its logs to another work dir."""
    if 'mmengine' not in sys.modules:
        return
    from mmengine.utils import ManagerMixin
    todo = [ManagerMixin]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if '_instance_dict' in vars(cls):
            cls._instance_dict.clear()


def _exec_script(args, module=False):
    """Run ``args[1]`` as ``__main__`` with ``sys.argv = args[1:]`` (``module``: the module
    ``args[2]`` as ``python -m`` runs it, ``sys.argv = args[2:]``); its exit status."""
    import runpy
    _fresh_mmengine_instances()
    try:
        if module:
            sys.argv = [str(a) for a in args[2:]]
            sys.path.insert(0, os.getcwd())  # as `python -m` puts the working directory
            runpy.run_module(str(args[2]), run_name='__main__', alter_sys=True)
            return 0
        script = osp.join(REPO, str(args[1]))
        sys.argv = [str(a) for a in args[1:]]
        sys.path.insert(0, osp.dirname(script))  # as `python SCRIPT` puts its folder
        runpy.run_path(script, run_name='__main__')
    except SystemExit as exc:
        if exc.code is None:
            return 0
        if isinstance(exc.code, int):
            return exc.code
        print(exc.code, file=sys.stderr)
        return 1
    return 0


def independent_miou(pairs, num_classes):
    """mIoU (percent) of (prediction, dense label) pairs computed here with numpy, to check
    the number a tool prints: pixels whose label is >= ``num_classes`` (void) are left
    out, predictions >= ``num_classes`` are never a class, and classes absent from both
    are skipped."""
    import numpy as np
    ious = []
    for c in range(num_classes):
        inter = union = 0
        for pred, gt in pairs:
            valid = gt < num_classes
            inter += np.sum((pred == c) & (gt == c) & valid)
            union += np.sum(((pred == c) | (gt == c)) & valid)
        if union:
            ious.append(100 * inter / union)
    return float(np.mean(ious))


def label_dir_miou(pred_dir, dense_dir, num_classes):
    """:func:`independent_miou` of every ``NAME.png`` of ``pred_dir`` against
    ``dense_dir/NAME.png``."""
    import cv2
    pairs = []
    for f in sorted(glob.glob(osp.join(pred_dir, '*.png'))):
        gt = cv2.imread(osp.join(dense_dir, osp.basename(f)), cv2.IMREAD_UNCHANGED)
        pairs.append((cv2.imread(f, cv2.IMREAD_UNCHANGED), gt))
    assert pairs, f'no PNG in {pred_dir}'
    return independent_miou(pairs, num_classes)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


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


def shrink_sizes(obj, size):
    """Set every crop/pad/resize size in a (pipeline) config to ``size`` (h, w)."""
    if isinstance(obj, dict):
        if 'crop_size' in obj:
            obj['crop_size'] = size
        if obj.get('type') in ('PadSegFields',):
            obj['size'] = size
        if obj.get('type') == 'Resize':
            obj['scale'] = size
        if obj.get('type') == 'RandomResize':
            obj['scale'] = (size[1], size[0])
        for v in obj.values():
            shrink_sizes(v, size)
    elif isinstance(obj, list):
        for v in obj:
            shrink_sizes(v, size)


def tiny_config(config, data_root, out_path, size=(64, 64), batch_size=2, **train_cfg):
    """Write a copy of ``config`` with small sizes, ``data_root`` for every loader, no
    worker processes and per-iteration logging; return its path."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, config))
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg[key]
        loader.dataset.data_root = data_root
        loader.num_workers = 0
        loader.persistent_workers = False
        shrink_sizes(loader.dataset.pipeline, size)
    cfg.train_dataloader.batch_size = batch_size
    cfg.model.data_preprocessor.size = size
    cfg.train_cfg.update(train_cfg)
    cfg.default_hooks.logger.interval = 1
    cfg.log_processor = dict(by_epoch=False, window_size=1)
    cfg.dump(out_path)
    return out_path
