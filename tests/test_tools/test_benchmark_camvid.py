"""tools/benchmark_camvid.py: the plan and commands of every protocol, the statistics over
seeds, caching, timings from a run's own log; in-process with fake runs, plus one tiny
real invocation."""
import json
import os
import os.path as osp
import shutil
import sys
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

import tools.benchmark_camvid as bench
from tests.conftest import write_camvid_tree
from tests.test_tools._run import run_tool

CLASSES = bench.CLASSES


def _args(*argv):
    return bench.parse_args(list(argv))


def _iou_text(miou):
    rows = '\n'.join(f'| {c} | {miou:.2f} | 50.0 |' for c in CLASSES)
    return f'+---+\n| Class | IoU | Acc |\n{rows}\n+---+\nIter(test) aAcc: 80.0  mIoU: {miou:.2f}'


def _sequence_tree(root):
    """A generated CamVid tree whose training names carry a sequence, as CamVid's do."""
    write_camvid_tree(root, splits=(('train', 4), ('val', 2)))
    names = []
    for i, seq in enumerate(('0001TP', '0006R0', '0006R0', '0016E5')):
        old, new = f'train_{i:03d}', f'{seq}_{i:03d}'
        for d, ext in (('images', '.jpg'), ('labels', '.png')):
            os.rename(osp.join(root, d, 'train', old + ext), osp.join(root, d, 'train', new + ext))
        names.append(new)
    with open(osp.join(root, 'train.txt'), 'w') as f:
        f.write('\n'.join(names) + '\n')
    return root


def test_plan_orders_stage1_first_and_commands_carry_the_options(tmp_path):
    root = _sequence_tree(str(tmp_path / 'camvid'))
    args = _args('--runs', 'spml_full_points', 'pce_full_points', '--seeds', '0', '1',
                 '--protocols', 'val', 'heldout', '--data-root', root, '--work-dir',
                 str(tmp_path / 'wd'), '--cfg-options', 'model.decode_head.dropout_ratio=0.2',
                 '--crf', 'off', '--dry-run')
    runs = bench.plan(args)
    names = [(s['protocol'], s['seed'], s['name']) for s in runs]
    assert names[:4] == [('val', 0, 'spml_mixin_points'), ('val', 0, 'spml_full_points'),
                         ('val', 0, 'pce_points'), ('val', 0, 'pce_full_points')]
    assert len(runs) == 16
    splits = bench.split_files(args)
    assert not osp.exists(splits[0])  # a dry run writes nothing
    full = next(s for s in runs if s['name'] == 'spml_full_points' and s['protocol'] == 'heldout')
    steps = dict(bench.commands(full, args, splits))
    assert list(steps) == ['pseudo_labels', 'train', 'test_val', 'test_heldout']
    stage1_dir = bench.work_dir(full['stage1'], args)
    assert steps['pseudo_labels'][3] == osp.join(stage1_dir, 'iter_1000.pth')
    assert steps['pseudo_labels'][steps['pseudo_labels'].index('--walk-steps') + 1] == '6'
    assert '--crf' not in steps['pseudo_labels']
    assert f'train_dataloader.dataset.ann_file={splits[0]}' in steps['pseudo_labels']
    assert 'model.decode_head.dropout_ratio=0.2' in steps['pseudo_labels']  # stage-1 model
    assert steps['train'][2] == bench.RETRAIN_CONFIG
    assert any(a.startswith('train_dataloader.dataset.label_dir=') for a in steps['train'])
    assert f'test_dataloader.dataset.ann_file={splits[1]}' in steps['test_heldout']
    assert 'test_dataloader.dataset.split=train' in steps['test_heldout']
    control = next(s for s in runs if s['name'] == 'pce_full_points')
    assert dict(bench.commands(control, args, splits))['pseudo_labels'][9] == '-1'
    # a single-config run: the user's --cfg-options reach training and both tests
    mixin = next(s for s in runs if s['name'] == 'spml_mixin_points' and
                 s['protocol'] == 'heldout' and s['seed'] == 1)
    steps = dict(bench.commands(mixin, args, splits))
    for step in ('train', 'test_val', 'test_heldout'):
        assert 'model.decode_head.dropout_ratio=0.2' in steps[step], step
        assert f'test_dataloader.dataset.data_root={root}' in steps[step] or step == 'train'
    assert 'randomness.seed=1' in steps['train'] and 'val_cfg=None' in steps['train']
    assert f'train_dataloader.dataset.ann_file={splits[0]}' in steps['train']


def test_cache_key_and_work_dir_change_with_every_setting(tmp_path):
    base = ['--work-dir', str(tmp_path)]
    ref = bench.settings('pce_points', 0, 'val', _args(*base))
    variants = [bench.settings('pce_points', 1, 'val', _args(*base)),
                bench.settings('pce_points', 0, 'heldout', _args(*base)),
                bench.settings('pce_points', 0, 'val', _args(*base, '--iters', '5')),
                bench.settings('pce_points', 0, 'val', _args(*base, '--data-root', '/x')),
                bench.settings('pce_points', 0, 'val', _args(*base, '--cfg-options', 'a=1')),
                bench.settings('pce_points', 0, 'val', _args(*base, '--val-interval', '10',
                                                             '--curve-runs', 'pce_points'))]
    keys = {bench.run_key(s) for s in [ref] + variants}
    dirs = {bench.work_dir(s, _args(*base)) for s in [ref] + variants}
    assert len(keys) == len(dirs) == 7
    # --val-interval changes only the curve runs
    other = bench.settings('pce_points', 0, 'val', _args(*base, '--val-interval', '10'))
    assert bench.run_key(other) == bench.run_key(ref)


def test_split_files_leave_one_sequence_out(tmp_path):
    root = _sequence_tree(str(tmp_path / 'camvid'))
    train, held = bench.split_files(_args('--data-root', root, '--work-dir', str(tmp_path)))
    assert open(train).read().split() == ['0001TP_000', '0016E5_003']
    assert open(held).read().split() == ['0006R0_001', '0006R0_002']
    for seq in ('0009XX', '00'):
        with pytest.raises(SystemExit, match='matches 0 of the 4'):
            bench.split_files(_args('--data-root', root, '--work-dir', str(tmp_path),
                                    '--heldout-seq', seq))


def _scalars(path, times, curve=()):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        for i, t in enumerate(times):
            f.write(json.dumps(dict(lr=0.01, loss=1.0, time=t, iter=i + 1, step=i + 1)) + '\n')
        for step, miou in curve:
            f.write(json.dumps(dict(aAcc=80.0, mIoU=miou, step=step)) + '\n')


def test_execute_times_only_its_own_log_and_parses_every_output(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, 'REPO', str(tmp_path))
    args = _args('--runs', 'spml_full_points', '--work-dir', 'wd', '--crf', 'on',
                 '--val-interval', '1', '--curve-runs', 'dense')
    s = bench.settings('spml_full_points', 0, 'val', args)
    work = osp.join(str(tmp_path), bench.work_dir(s, args))
    # an older, slower run in the same work dir and stale pseudo labels
    _scalars(osp.join(work, 'retrain', '20000101_000000', 'vis_data', 'scalars.json'), [9.0] * 5)
    os.makedirs(osp.join(work, 'pseudo_labels'))
    open(osp.join(work, 'pseudo_labels', 'stale.png'), 'w').close()
    seen = []

    def fake_run(cmd, cwd, capture_output, text, env):
        seen.append(cmd)
        assert env.get('OMP_NUM_THREADS') == os.environ.get('OMP_NUM_THREADS')  # --jobs 1
        if 'make_pseudo_labels.py' in cmd[1]:
            assert not osp.exists(osp.join(work, 'pseudo_labels'))  # stale labels removed
            return SimpleNamespace(returncode=0, stdout='pseudo-label mIoU: 41.25 (n=3)\n',
                                   stderr='')
        if 'train.py' in cmd[1]:
            wd = osp.join(cwd, cmd[cmd.index('--work-dir') + 1])
            _scalars(osp.join(wd, '20990101_000000', 'vis_data', 'scalars.json'),
                     [0.5, 0.2, 0.3], curve=[(1, 20.0)])
            return SimpleNamespace(returncode=0, stdout='', stderr='')
        return SimpleNamespace(returncode=0, stdout='', stderr=_iou_text(33.3))

    monkeypatch.setattr(bench.subprocess, 'run', fake_run)
    r = bench.execute(s, args, (None, None))
    assert [c[1] for c in seen] == ['tools/make_pseudo_labels.py', 'tools/train.py',
                                   'tools/test.py']
    assert not any('class_weight' in a for a in seen[1]) and 'retrain_class_weight' not in r
    assert '--crf' in seen[0]
    assert r['s_per_iter'] == 0.3  # the median of this run's 3 iterations, not 9.0
    assert r['curve'] == [[1, 20.0]] and r['pseudo_label_miou'] == 41.25
    assert r['metrics']['val']['mIoU'] == 33.3 and r['metrics']['val']['IoU']['car'] == 33.3
    assert set(r['step_wall_s']) == {'pseudo_labels', 'train', 'test_val'}
    assert r['commands'][0].startswith('python tools/make_pseudo_labels.py')

    # --class-weights: the retraining's CE weighted by the pseudo labels the run made
    s = dict(s, retrain_class_weight='median-frequency')
    labels = [np.zeros((10, 11), np.uint8), np.full((4, 4), 3, np.uint8)]
    labels[0][:, 9:] = 255  # ignored
    labels[0][-1] = np.arange(11)
    seen.clear()

    def fake_labels(cmd, cwd, capture_output, text, env):
        if 'make_pseudo_labels.py' in cmd[1]:
            out = osp.join(cwd, cmd[cmd.index('--out-dir') + 1])
            os.makedirs(out)
            for i, lab in enumerate(labels):
                cv2.imwrite(osp.join(out, f'img{i}.png'), lab)
            seen.append(cmd)
            return SimpleNamespace(returncode=0, stdout='', stderr='')
        return fake_run(cmd, cwd, capture_output, text, env)

    monkeypatch.setattr(bench.subprocess, 'run', fake_labels)
    r = bench.execute(s, args, (None, None))
    counts = np.bincount(np.concatenate([lab[lab < 11] for lab in labels]), minlength=11)
    f = counts / counts.sum()
    want = [round(float(np.median(f) / x), 4) for x in f]
    assert r['retrain_class_weight'] == want and want[0] < want[3] < want[1]
    opt = f"model.decode_head.loss_decode.class_weight=[{','.join(map(str, want))}]"
    assert opt in seen[1] and bench.PSEUDO_WEIGHTS not in seen[1]
    assert opt in r['commands'][1]
    # pseudo labels without some class: a clear refusal naming them
    labels[:] = [np.zeros((3, 3), np.uint8)]
    with pytest.raises(SystemExit, match=r'classes \[1, 2, .*\] have no labeled pixel in the '
                       r'pseudo labels of .*pseudo_labels'):
        bench.execute(s, args, (None, None))

    def failing(cmd, cwd, capture_output, text, env):
        return SimpleNamespace(returncode=3, stdout='', stderr='Traceback: boom')

    monkeypatch.setattr(bench.subprocess, 'run', failing)
    with pytest.raises(SystemExit, match='(?s)pseudo_labels failed .3.*boom'):
        bench.execute(s, args, (None, None))


def _fake_record(name, seed, miou, protocol='val', heldout=None, classes=None, curve=None):
    metrics = {'val': dict(mIoU=miou, IoU=classes or {c: miou for c in CLASSES},
                           test_wall_s=10.0)}
    if heldout is not None:
        metrics['heldout'] = dict(mIoU=heldout, IoU={c: heldout for c in CLASSES},
                                  test_wall_s=10.0)
    return dict(name=name, seed=seed, protocol=protocol, iters=100, cfg_options=[],
                what=bench.RECIPES[name]['what'], metrics=metrics, train_wall_s=100.0,
                s_per_iter=0.25, curve=curve, commands=[f'python tools/train.py {name}'])


def test_tables_show_every_seed_mean_std_and_paired_gains():
    recs = []
    for name, values in (('dense', (45.0, 46.0, 47.0)), ('pce_points', (30.0, 31.0, 32.0)),
                         ('spml_mixin_points', (31.0, 33.0, 32.0)),
                         ('spml_full_points', (34.0, 35.0, 33.0)),
                         ('pce_full_points', (32.0, 32.0, 32.0)),
                         ('dense_gated_crf', (47.0, 47.0, 50.0))):
        for seed, v in enumerate(values):
            recs.append(_fake_record(name, seed, v))
    recs[0]['curve'] = [[50, 40.0], [100, 45.0]]
    recs[0]['metrics']['val']['IoU']['bicyclist'] = 0.0
    table = bench.summary_table(recs, 'val', 'val', [0, 1, 2])
    rows = {line.split(' | ')[0][2:]: line for line in table.splitlines()[2:]}
    assert rows['partial CE, points'] == ('| partial CE, points | 30.00 | 31.00 | 32.00 | '
                                          '31.00 ± 1.00 | — | — |')
    # mix-in - partial CE: +1, +2, 0 -> +1.00 ± 1.00
    assert '| 32.00 ± 1.00 | +1.00 ± 1.00 (n=3) | — |' in rows['SPML mix-in, points']
    full = rows[bench.RECIPES['spml_full_points']['what']]
    # vs partial CE: +4, +4, +1; vs its control: +2, +3, +1
    assert '+3.00 ± 1.73 (n=3) | +2.00 ± 1.00 (n=3) |' in full
    assert rows['dense labels'].endswith('| 46.00 ± 1.00 | — | — |')
    # the CRF bound: no partial-CE gain, its gain over dense is +2, +1, +3
    assert rows['dense labels + Gated CRF'].endswith('| 48.00 ± 1.73 | — | +2.00 ± 1.00 (n=3) |')
    classes = bench.class_table(recs, 'val', 'val', [0, 1, 2])
    assert '| partial CE, points | mean | 31.00 | ' + ' | '.join(['31.0'] * 11) + ' |' in classes
    assert classes.count('| partial CE, points |') == 4  # 3 seeds + the mean
    assert bench.curve_table(recs).splitlines()[2:] == ['| 50 | 40.00 |', '| 100 | 45.00 |']
    lines = bench.checks(recs, 'val', 'val')
    assert lines[0] == ('- dense, seed 0: 45.00 mIoU; classes at 0 IoU: bicyclist; weak runs '
                        'at or above it: none')
    # each bound is checked against the weak runs only, not against the other bound
    assert len(lines) == 6
    assert lines[3] == ('- dense + Gated CRF, seed 0: 47.00 mIoU; classes at 0 IoU: none; '
                        'weak runs at or above it: none')
    recs[-1]['metrics']['val']['mIoU'] = 32.5  # dense + Gated CRF, seed 2: below the full
    assert bench.checks(recs, 'val', 'val')[5] == (
        '- dense + Gated CRF, seed 2: 32.50 mIoU; classes at 0 IoU: none; weak runs at or '
        'above it: ' + bench.RECIPES['spml_full_points']['what'])
    one = bench.summary_table(recs[:1] + recs[3:4], 'val', 'val', [0, 1, 2])
    assert '| 45.00 | — | — | 45.00 |' in one  # one seed: no std


def test_main_caches_by_settings_and_writes_docs(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(bench, 'REPO', str(tmp_path))
    os.makedirs(tmp_path / 'docs')
    (tmp_path / 'docs' / 'benchmarks.md').write_text(
        f'# B\n\nbefore\n\n{bench.BEGIN}\nold table\n{bench.END}\n\nafter\n')
    root = _sequence_tree(str(tmp_path / 'camvid'))
    calls = []

    def fake_execute(s, args, splits):
        calls.append((s['name'], s['seed'], s['protocol']))
        held = 20.0 + s['seed'] if s['protocol'] == 'heldout' else None
        rec = _fake_record(s['name'], s['seed'], 30.0 + s['seed'], s['protocol'], held)
        if s['name'] == 'pce_points' and s['seed'] == 1:
            rec['note'] = 'a note on how it was made'
        return dict(rec, **{k: v for k, v in s.items() if k not in rec})

    monkeypatch.setattr(bench, 'execute', fake_execute)
    argv = ['--runs', 'pce_points', 'spml_mixin_points', '--seeds', '0', '1', '--protocols',
            'val', 'heldout', '--data-root', root, '--work-dir', 'wd', '--write-docs']
    bench.main(argv)
    assert len(calls) == 8
    bench.main(argv)
    assert len(calls) == 8  # every run cached
    bench.main(argv[:-1] + ['--cfg-options', 'x=1'])
    assert len(calls) == 16  # other options: other runs
    doc = (tmp_path / 'docs' / 'benchmarks.md').read_text()
    assert doc.startswith('# B\n\nbefore\n\n') and doc.endswith('\n\nafter\n')
    assert 'old table' not in doc
    assert ('Produced by `python tools/benchmark_camvid.py --runs pce_points spml_mixin_points '
            '--seeds 0 1 --protocols val heldout') in doc
    assert '#### Trained on training frames without sequence 0006R0, evaluated on sequence ' \
           '0006R0 (1000 iterations)' in doc
    assert '| partial CE, points | 20.00 | 21.00 | 20.50 ± 0.71 |' in doc
    assert 'python tools/train.py spml_mixin_points' in doc
    assert '# pce_points seed 1 (heldout): a note on how it was made\n' in doc
    out = capsys.readouterr().out
    assert 'heldout mIoU 21.00' in out


@pytest.mark.slow
def test_tiny_real_run_heldout_protocol_with_curve(tmp_path):
    """2 iterations of partial CE on a generated tree in CamVid's naming: trained without
    sequence 0006R0, evaluated on val and on 0006R0, val evaluated at every iteration."""
    root = _sequence_tree(str(tmp_path / 'camvid'))
    wd = str(tmp_path / 'wd')
    argv = [sys.executable, 'tools/benchmark_camvid.py', '--runs', 'pce_points', '--iters', '2',
            '--protocols', 'heldout', '--val-interval', '1', '--curve-runs', 'pce_points',
            '--data-root', root, '--work-dir', wd]
    # through bash and $PYTHON, which the tool also uses for the tools it runs: with the
    # fork server of tests/test_tools/_run.py every one of them is a fork of this process
    shell = ['bash', '-c', '"$PYTHON" "$@"', 'bash', *argv[1:]]
    env = dict(PYTHONPATH=bench.REPO, PYTHON=sys.executable)
    proc = run_tool(shell, env=env, timeout=600)
    (rec, ) = json.load(open(osp.join(wd, 'results.json'))).values()
    assert set(rec['metrics']) == {'val', 'heldout'}
    assert all(0 <= m['mIoU'] <= 100 for m in rec['metrics'].values())
    assert [step for step, _ in rec['curve']] == [1, 2] and rec['s_per_iter'] > 0
    # the training read the list without 0006R0, the held-out test the 2 frames of 0006R0
    files = [osp.relpath(p, wd) for p in _walk(osp.join(wd, 'heldout'))]
    train_cfg = next(p for p in files if p.endswith('.py') and 'test_' not in p)
    assert 'train_no0006R0.txt' in open(osp.join(wd, train_cfg)).read()
    held_log = osp.join(wd, next(p for p in files if 'test_heldout' in p and p.endswith('.log')))
    assert 'Iter(test) [2/2]' in open(held_log).read()
    assert '#### Trained on training frames without sequence 0006R0, evaluated on sequence ' \
           '0006R0 (2 iterations)' in proc.stdout
    again = run_tool(shell, env=env, timeout=300)
    assert 'iterations ...' not in again.stdout and again.returncode == 0  # cached
    shutil.rmtree(wd)


def _walk(top):
    for d, _, files in os.walk(top):
        for f in files:
            yield osp.join(d, f)


def test_class_weights_are_median_frequency_of_the_labels_each_run_trains_on(tmp_path):
    root = write_camvid_tree(str(tmp_path / 'camvid'), splits=(('train', 12), ('val', 1)),
                             size=(96, 128))
    names = []
    for i in range(12):  # CamVid's naming: 0006R0 is the held-out sequence
        new = f"{'0006R0' if i % 3 == 0 else '0001TP'}_{i:03d}"
        for d, ext in (('images', '.jpg'), ('labels', '.png')):
            os.rename(osp.join(root, d, 'train', f'train_{i:03d}{ext}'),
                      osp.join(root, d, 'train', new + ext))
        names.append(new)
    with open(osp.join(root, 'train.txt'), 'w') as f:
        f.write('\n'.join(names) + '\n')
    args = _args('--data-root', root, '--work-dir', str(tmp_path / 'wd'), '--class-weights',
                 'median-frequency')
    seen = []
    for protocol, rows in (('val', names), ('heldout', [n for n in names if '0006R0' not in n])):
        c = np.zeros(11, np.int64)
        for n in rows:
            lab = cv2.imread(osp.join(root, 'labels', 'train', n + '.png'), cv2.IMREAD_UNCHANGED)
            c += np.bincount(lab[lab < 11].ravel(), minlength=11)[:11]
        assert (c > 0).all()
        f = c / c.sum()
        want = [round(float(np.median(f) / x), 4) for x in f]
        s = bench.settings('dense', 0, protocol, args)
        assert s['class_weight'] == want
        opts = bench._train_opts(s, args, bench.split_files(args))
        assert f"model.decode_head.loss_decode.class_weight=[{','.join(map(str, want))}]" in opts
        seen.append(want)
    assert seen[0] != seen[1]  # each protocol's own training split
    # weak runs: the weights of their own simulated labels; the Gated CRF configs (a list of
    # losses) put them on the CE, the list's first entry
    for name in ('pce_scribbles', 'gated_crf_scribbles', 'spml_mixin_scribbles'):
        s = bench.settings(name, 0, 'val', args)
        assert s['class_weight'] != seen[0]
        opts = bench._train_opts(s, args, (None, None))
        path = ('model.decode_head.loss_decode.0.class_weight' if 'gated' in name
                else 'model.decode_head.loss_decode.class_weight')
        assert any(o.startswith(path + '=[') for o in opts)
        # what tools/train.py does with them: the CE of the built head has the weights
        import argparse

        from mmengine.config import Config, DictAction
        from mmseg.registry import MODELS
        p = argparse.ArgumentParser()
        p.add_argument('--cfg-options', nargs='+', action=DictAction)
        cfg = Config.fromfile(osp.join(bench.REPO, bench.RECIPES[name]['config']))
        cfg.merge_from_dict(p.parse_args(['--cfg-options', *opts]).cfg_options)
        head = MODELS.build(cfg.model.decode_head)
        ce = head.loss_decode[0] if 'gated' in name else head.loss_decode
        assert ce.class_weight == s['class_weight']
    # in the cache key; the full recipes' stage 1 has its weak labels' weights, the
    # retraining those of its pseudo labels (made by the run, see the execute test)
    assert 'class_weight' not in bench.settings('dense', 0, 'val', _args('--data-root', root))
    full = bench.settings('spml_full_scribbles', 0, 'val', args)
    assert 'class_weight' not in full and full['stage1']['class_weight']
    assert full['retrain_class_weight'] == 'median-frequency'
    assert bench.PSEUDO_WEIGHTS in dict(bench.commands(full, args))['train']
    stored = json.load(open(tmp_path / 'wd' / 'class_weights.json'))
    assert len(stored) == 3  # dense on each split, scribbles on val's
    # labels without some class (one point per segment on a tiny tree): a clear refusal
    small = _sequence_tree(str(tmp_path / 'small'))
    with pytest.raises(SystemExit, match=r'classes \[4, 5\] have no labeled pixel .*points'):
        bench.settings('pce_points', 0, 'val', _args('--data-root', small, '--work-dir',
                                                     str(tmp_path / 'wd2'), '--class-weights',
                                                     'median-frequency'))


def test_jobs_run_side_by_side_and_full_recipes_wait_for_stage1(tmp_path, monkeypatch):
    import threading
    import time
    monkeypatch.setattr(bench, 'REPO', str(tmp_path))
    root = _sequence_tree(str(tmp_path / 'camvid'))
    events, active, peak = [], [0], [0]
    lock = threading.Lock()

    def fake_execute(s, args, splits):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
            events.append(('start', s['name'], s['seed']))
        time.sleep(0.2 if s['name'].startswith('spml_mixin') else 0.05)
        with lock:
            active[0] -= 1
            events.append(('end', s['name'], s['seed']))
        rec = _fake_record(s['name'], s['seed'], 30.0 + s['seed'])
        return dict(rec, **{k: v for k, v in s.items() if k not in rec}, jobs=args.jobs)

    monkeypatch.setattr(bench, 'execute', fake_execute)
    bench.main(['--runs', 'spml_full_points', 'pce_points', '--seeds', '0', '1', '--jobs', '2',
                '--data-root', root, '--work-dir', 'wd', '--crf', 'off'])
    assert peak[0] == 2
    for seed in (0, 1):
        assert (events.index(('end', 'spml_mixin_points', seed))
                < events.index(('start', 'spml_full_points', seed)))
    assert len(json.load(open(tmp_path / 'wd' / 'results.json'))) == 6
    env = bench._env(_args('--jobs', '2'))
    assert env['OMP_NUM_THREADS'] == str(max(1, (os.cpu_count() or 1) // 2))
    assert bench._env(_args()).get('OMP_NUM_THREADS') == os.environ.get('OMP_NUM_THREADS')
    with pytest.raises(SystemExit):
        _args('--jobs', '0')
