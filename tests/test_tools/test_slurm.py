"""tools/slurm_train.sh and tools/slurm_test.sh with a fake ``srun`` and ``scontrol`` on PATH:
the options the scripts give srun, and the job itself as 2 local processes (gloo on the CPU,
``--launcher slurm``), 2 training iterations then a test."""
import json
import os
import os.path as osp
import sys
import textwrap

import pytest

from ._forkserver import is_shim
from ._run import free_port, run_tool, tiny_config, train_losses

BASELINE = 'configs/baselines/camvid_points_partial_ce.py'

# Parses the options the scripts use, logs them, and starts --ntasks copies of the command
# with the variables srun gives each task; if one task fails the others are stopped
# (--kill-on-bad-exit).
FAKE_SRUN = '''\
    import json, os, subprocess, sys, time
    args = sys.argv[1:]
    opts, i = {}, 0
    while args[i].startswith('-'):
        if '=' in args[i]:
            k, v = args[i].split('=', 1)
            i += 1
        else:
            k, v = args[i], args[i + 1]
            i += 2
        opts[k] = v
    with open(os.environ['FAKE_SLURM_LOG'], 'a') as f:
        f.write(json.dumps(dict(tool='srun', argv=sys.argv[1:], opts=opts)) + '\\n')
    n = int(opts['--ntasks'])
    procs = [subprocess.Popen(args[i:], env=dict(
        os.environ, SLURM_PROCID=str(r), SLURM_NTASKS=str(n), SLURM_LOCALID=str(r),
        SLURM_NODELIST='fakenode[1]', SLURM_NNODES='1', SLURM_JOB_NAME=opts['--job-name'],
        SLURM_NTASKS_PER_NODE=opts['--ntasks-per-node'],
        SLURM_CPUS_PER_TASK=opts['--cpus-per-task'])) for r in range(n)]
    while any(p.poll() is None for p in procs):
        if any(p.poll() not in (None, 0) for p in procs):
            for p in procs:
                if p.poll() is None:
                    p.kill()
        time.sleep(0.2)
    sys.exit(max(p.returncode for p in procs))
'''
FAKE_SCONTROL = '''\
    import json, os, sys
    with open(os.environ['FAKE_SLURM_LOG'], 'a') as f:
        f.write(json.dumps(dict(tool='scontrol', argv=sys.argv[1:])) + '\\n')
    assert sys.argv[1:3] == ['show', 'hostname']
    print('localhost')
'''


@pytest.fixture
def fake_slurm(tmp_path):
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    for name, body in (('srun', FAKE_SRUN), ('scontrol', FAKE_SCONTROL)):
        path = bin_dir / name
        path.write_text(f'#!{sys.executable}\n' + textwrap.dedent(body))
        path.chmod(0o755)
    log = tmp_path / 'slurm_log.jsonl'
    env = {'PATH': f'{bin_dir}{os.pathsep}{os.environ["PATH"]}', 'FAKE_SLURM_LOG': str(log),
           'MASTER_PORT': str(free_port()), 'PYTHON': sys.executable}

    def calls():
        return [json.loads(line) for line in open(log)] if log.exists() else []
    return env, calls


def expected_srun(partition, job, ntasks, per_node, cpus, gres=None, extra=()):
    out = ['-p', partition, f'--job-name={job}']
    if gres:
        out.append(f'--gres={gres}')
    return out + [f'--ntasks={ntasks}', f'--ntasks-per-node={per_node}',
                  f'--cpus-per-task={cpus}', '--kill-on-bad-exit=1', *extra]


@pytest.mark.slow
def test_slurm_train_and_test_two_tasks_on_cpu(fake_slurm, camvid_tree, tmp_path):
    env, calls = fake_slurm
    cfg = tiny_config(BASELINE, camvid_tree, str(tmp_path / 'cfg.py'), size=(32, 32),
                      max_iters=2, val_interval=1000)
    wd = str(tmp_path / 'wd')
    proc = run_tool(['bash', 'tools/slurm_train.sh', 'cpu', 'mmspml_train', cfg, wd, '2',
                     '--cfg-options', 'default_hooks.checkpoint.interval=2'], env=env)
    out = proc.stdout + proc.stderr
    srun = [c for c in calls() if c['tool'] == 'srun']
    assert len(srun) == 1
    argv = srun[0]['argv']
    n_opts = len(expected_srun('cpu', 'mmspml_train', 2, 2, 5, 'gpu:2'))
    assert argv[:n_opts] == expected_srun('cpu', 'mmspml_train', 2, 2, 5, 'gpu:2')
    # $PYTHON: this interpreter, or the shim that forks it (tests/test_tools/_forkserver.py)
    assert argv[n_opts] == sys.executable or is_shim(argv[n_opts])
    assert argv[n_opts + 1] == '-u'
    assert argv[n_opts + 2].endswith('tools/train.py')
    assert argv[n_opts + 3:] == [cfg, f'--work-dir={wd}', '--launcher=slurm', '--cfg-options',
                                 'default_hooks.checkpoint.interval=2']
    # both tasks asked scontrol for the master's host
    assert [c['argv'] for c in calls() if c['tool'] == 'scontrol'] == [
        ['show', 'hostname', 'fakenode[1]']] * 2
    assert 'Distributed training: True' in out and 'GPU number: 2' in out, out[-3000:]
    assert osp.isfile(osp.join(wd, 'iter_2.pth'))
    assert sorted(train_losses(wd)) == [1, 2]
    # the test script: GPUS from the environment, GRES= drops --gres, SRUN_ARGS passed on
    ckpt = osp.join(wd, 'iter_2.pth')
    env = dict(env, GPUS='2', CPUS_PER_TASK='1', GRES='', SRUN_ARGS='--mem=1G --time=5')
    proc = run_tool(['bash', 'tools/slurm_test.sh', 'cpu', 'mmspml_test', cfg, ckpt,
                     '--work-dir', str(tmp_path / 'test')], env=env)
    out = proc.stdout + proc.stderr
    argv = [c for c in calls() if c['tool'] == 'srun'][1]['argv']
    exp = expected_srun('cpu', 'mmspml_test', 2, 2, 1, extra=('--mem=1G', '--time=5'))
    assert argv[:len(exp)] == exp
    assert argv[len(exp)] == sys.executable or is_shim(argv[len(exp)])
    assert argv[len(exp) + 2].endswith('tools/test.py')
    assert argv[len(exp) + 3:] == [cfg, ckpt, '--launcher=slurm', '--work-dir',
                                   str(tmp_path / 'test')]
    assert 'GPU number: 2' in out and 'mIoU' in out and 'Iter(test) [2/2]' in out, out[-3000:]


def test_slurm_scripts_usage_and_missing_variables(tmp_path):
    for script in ('tools/slurm_train.sh', 'tools/slurm_test.sh'):
        proc = run_tool(['bash', script, 'cpu', 'job'], check=False)
        assert proc.returncode == 2 and f'usage: {script}' in proc.stderr
    # --launcher slurm outside srun: one line naming the missing variable
    from mmengine.config import Config

    from mmspml.utils.launch import prepare_cpu_runtime
    cfg = Config(dict(model=dict(type='X'), env_cfg=dict()))
    with pytest.MonkeyPatch.context() as mp:
        for k in list(os.environ):
            if k.startswith('SLURM_'):
                mp.delenv(k)
        mp.setattr('torch.cuda.is_available', lambda: False)
        with pytest.raises(RuntimeError, match='SLURM_PROCID is not set; start with '
                                               'tools/slurm_train.sh'):
            prepare_cpu_runtime(cfg, 'slurm')
        mp.setenv('SLURM_PROCID', '0')
        mp.setenv('SLURM_NTASKS', '1')
        mp.setenv('SLURM_NODELIST', 'n[1-2]')
        mp.setenv('PATH', str(tmp_path))  # no scontrol
        mp.delenv('MASTER_ADDR', raising=False)
        with pytest.raises(RuntimeError, match=r'scontrol show hostname n\[1-2\]` failed .*'
                                               'set MASTER_ADDR'):
            prepare_cpu_runtime(cfg, 'slurm')
