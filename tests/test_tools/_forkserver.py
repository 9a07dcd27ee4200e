"""Run a shell command whose ``python SCRIPT.py ...`` calls become forks of this process.

The shell scripts (``tools/pipelines/*.sh``, ``tools/demo.sh``, ``tools/slurm_*.sh``, the
commands of ``docs/train_on_your_data.md``) start the tools with ``$PYTHON`` or ``python``
from ``PATH``; each new interpreter spends 5-7 s importing torch, mmcv, mmengine and mmseg
before doing a test's few iterations. :func:`run_serving_forks` runs the command with
``PYTHON`` and ``PATH`` pointing at a small shim (``python -S``, standard library only) that
hands its argv, working directory, environment and its stdin/stdout/stderr (file
descriptors over a Unix socket) to this process, which forks a copy of itself to run the
script with :mod:`runpy` (the same as ``tests/test_tools/_run.py`` does for direct tool
calls) and sends back the exit status. ``[-u] -m torch.distributed.run ...`` (the
launcher of ``tools/dist_*.sh``) is forked the same way, and ``PYTHON_EXEC`` makes it start
its workers through the shim. Anything other than ``[-u] SCRIPT.py ARGS`` with the script
inside the repository or those modules (``-c``, other ``-m``, a missing file) is
``exec``-ed with the real interpreter by the shim, as before.
``MMSPML_TEST_SUBPROCESS=1`` turns this off.

Forks are made from this process's main thread, between ``select`` calls, never while a
torch parallel region runs (the test processes hold one thread, ``tests/conftest.py``).
"""
import json
import os
import os.path as osp
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

_SHIM = '''#!{python} -S
import json, os, socket, sys
REAL, SOCK = {python!r}, {sock!r}
argv = sys.argv[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(SOCK)
except OSError:  # no server (e.g. a process left over after its test): a real interpreter
    os.execv(REAL, [REAL] + argv)
msg = json.dumps(dict(argv=argv, cwd=os.getcwd(), env=dict(os.environ))).encode()
socket.send_fds(s, [len(msg).to_bytes(8, 'little') + msg], [0, 1, 2])
reply = b''
while True:
    chunk = s.recv(64)
    if not chunk:
        break
    reply += chunk
if reply == b'exec':
    os.execv(REAL, [REAL] + argv)
sys.exit(int(reply) if reply else 1)
'''


def is_shim(path):
    """Whether ``path`` is the ``python`` shim of :func:`run_serving_forks`."""
    parts = osp.normpath(path).split(os.sep)
    return parts[-2:] == ['bin', 'python'] and parts[-3].startswith('mmspml-fork-')


# modules run with ``python -m`` that are forked too
_MODULES = ('torch.distributed.run', )


def _script_of(argv, cwd):
    """What ``python ARGV`` in ``cwd`` runs, if it is forked: ``(script path, argv)`` of a
    repository script, ``('-m', [module, args...])`` of a module of ``_MODULES``, or
    ``(None, None)``."""
    args = list(argv)
    while args and args[0] == '-u':
        args = args[1:]
    if len(args) >= 2 and args[0] == '-m' and args[1] in _MODULES:
        return '-m', args[1:]
    if not args or not args[0].endswith('.py'):
        return None, None
    path = osp.join(cwd, args[0])
    if not osp.isfile(path) or not osp.realpath(path).startswith(osp.realpath(REPO) + os.sep):
        return None, None
    return path, args


def _recv_request(conn):
    data, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
    size = int.from_bytes(data[:8], 'little')
    data = data[8:]
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError('fork-server shim closed its connection early')
        data += chunk
    return json.loads(data.decode()), fds


def _child(req, fds, script, args, closing):
    """In the forked child: become ``python SCRIPT ARGS``; never returns."""
    code = 1
    try:
        for sock in closing:
            sock.close()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        import io
        sys.stdout = io.TextIOWrapper(open(1, 'wb', closefd=False), write_through=True)
        sys.stderr = io.TextIOWrapper(open(2, 'wb', closefd=False), write_through=True)
        sys.stdin = io.TextIOWrapper(open(0, 'rb', closefd=False))
        os.chdir(req['cwd'])
        os.environ.clear()
        os.environ.update(req['env'])
        os.setpgrp()  # its own group: a timeout kills its workers too
        signal.signal(signal.SIGINT, signal.default_int_handler)
        from tests.test_tools._run import _exec_script
        if script == '-m':
            code = _exec_script([sys.executable, '-m', *args], module=True)
        else:
            code = _exec_script([sys.executable, script, *args[1:]])
    except BaseException:  # noqa: B902  (report anything, then leave)
        import traceback
        traceback.print_exc()
    finally:
        from tests.test_tools._run import _leave
        _leave(code)


def run_serving_forks(args, env, timeout, cwd=REPO):
    """``subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
    timeout=timeout)``, with the command's Python tool runs forked from this process."""
    from tests.test_tools._run import preload
    preload()
    tmp = tempfile.mkdtemp(prefix='mmspml-fork-')
    bin_dir = osp.join(tmp, 'bin')
    os.makedirs(bin_dir)
    sock_path = osp.join(tmp, 'sock')
    shim = osp.join(bin_dir, 'python')
    with open(shim, 'w') as f:
        f.write(_SHIM.format(python=sys.executable, sock=sock_path))
    os.chmod(shim, 0o755)
    for alias in ('python3', ):
        os.symlink(shim, osp.join(bin_dir, alias))
    env = dict(env)
    env['PATH'] = bin_dir + os.pathsep + env.get('PATH', os.defpath)
    if env.get('PYTHON') in (None, sys.executable):
        env['PYTHON'] = shim
    env.setdefault('PYTHON_EXEC', shim)  # torch.distributed.run's workers
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(sock_path)
    server.listen(16)
    children = {}  # pid -> connection of the shim waiting for it
    try:
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            sys.stdout.flush()
            sys.stderr.flush()
            proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=err,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
            deadline = time.monotonic() + timeout
            while True:
                ready, _, _ = select.select([server], [], [], 0.05)
                if ready:
                    conn, _ = server.accept()
                    req, fds = _recv_request(conn)
                    script, script_args = _script_of(req['argv'], req['cwd'])
                    if script is None:
                        for fd in fds:
                            os.close(fd)
                        conn.sendall(b'exec')
                        conn.close()
                    else:
                        sys.stdout.flush()
                        sys.stderr.flush()
                        pid = os.fork()
                        if pid == 0:
                            _child(req, fds, script, script_args,
                                   [server, conn, *children.values()])
                        for fd in fds:
                            os.close(fd)
                        children[pid] = conn
                for pid, conn in list(children.items()):
                    done, status = os.waitpid(pid, os.WNOHANG)
                    if done:
                        try:
                            conn.sendall(str(os.waitstatus_to_exitcode(status)).encode())
                        except OSError:
                            pass  # the shim is gone (killed): nobody to tell
                        conn.close()
                        del children[pid]
                if proc.poll() is not None and not children:
                    break
                if time.monotonic() > deadline or proc.poll() is not None:
                    # timed out, or the command ended while tools it started still run
                    timed_out = time.monotonic() > deadline
                    _kill(proc, children)
                    if timed_out:
                        raise subprocess.TimeoutExpired(args, timeout)
                    break
            out.seek(0)
            err.seek(0)
            return subprocess.CompletedProcess(
                args, proc.returncode, out.read().decode(errors='replace'),
                err.read().decode(errors='replace'))
    finally:
        _kill(None, children)
        server.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _kill(proc, children):
    for pid in list(children):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        children.pop(pid).close()
    if proc is not None and proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
