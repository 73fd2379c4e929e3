# Copyright 2026 The CascadeNet Authors. All Rights Reserved.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
"""models/logparse.py reads what train.py / test.py actually print, and the performance
launcher writes the ModelZoo key = value report from it."""
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np

from conftest import ROOT, TINY_MODEL, run_script
from models import evaluate, logparse


def _kv(line):
    return dict(re.findall(r'(\S+?)=(\S+)', line))


def test_parse_train_reads_train_output(tiny_model):
    _, out = tiny_model  # 8 epochs of 6 steps, batch 4, logged every 4 steps, 2 warm-up steps
    got = logparse.parse_train(out)
    done = _kv([l for l in out.splitlines() if l.startswith('[done] ')][-1])
    steps = [_kv(l) for l in out.splitlines() if l.startswith('[step] ')]
    assert got['Steps'] == int(done['steps']) == 48
    assert got['StepTime'] == float(done['step_time']) > 0
    assert abs(got['ActualFPS'] - 4 / got['StepTime']) <= 0.01 * got['ActualFPS']
    # the ModelZoo's ActualLoss: the last iteration's loss (step 48 is logged)
    assert steps[-1]['step'] == '48' and got['ActualLoss'] == float(steps[-1]['loss'])
    assert logparse.losses(out) == [s['loss'] for s in steps] and len(steps) == 12


def test_parse_train_without_timed_steps(tiny_data, tmp_path):
    r = run_script('train.py', '--data_train_dir', tiny_data[0], '--batch_size', '4',
                   '--train_steps', '2', '--warmup_steps', '2', '--log_every', '1',
                   '--save_ckpt_Dir', tmp_path / 'ckpt', *TINY_MODEL)
    assert r.returncode == 0, r.stderr[-2000:]
    got = logparse.parse_train(r.stdout)
    last_step = _kv([l for l in r.stdout.splitlines() if l.startswith('[step] ')][-1])
    assert got['Steps'] == 2 and 'StepTime' not in got and 'ActualFPS' not in got
    assert got['ActualLoss'] == float(last_step['loss'])


def test_parse_test_reads_summary_lines():
    s = dict(('%s_%s' % (k, t), v) for (k, t), v in zip(
        [(k, t) for k in evaluate.KEYS for t in ('in', 're')],
        np.linspace(0.1, 30.0, 2 * len(evaluate.KEYS))))
    printed = evaluate.summary_lines(s)
    assert printed[-1] == 'Avg cPSNR: IN %.4f RE %.4f' % (s['cpsnr_in'], s['cpsnr_re'])
    got = logparse.parse_test('\n'.join(['model: x'] + printed))  # not the cPSNR line
    assert got == {'InputPSNR': round(s['psnr_in'], 4), 'TrainAccuracy': round(s['psnr_re'], 4)}


def test_cli_prints_key_value(tiny_model, tmp_path):
    log = tmp_path / 'train.log'
    log.write_text(tiny_model[1])
    r = subprocess.run([sys.executable, '-m', 'models.logparse', str(log)], cwd=ROOT,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert r.returncode == 0
    lines = dict(l.split(' = ') for l in r.stdout.splitlines())
    assert float(lines['StepTime']) == logparse.parse_train(tiny_model[1])['StepTime']
    r = subprocess.run([sys.executable, '-m', 'models.logparse', '--losses', str(log)],
                       cwd=ROOT, stdout=subprocess.PIPE, universal_newlines=True)
    assert r.returncode == 0 and r.stdout.split() == logparse.losses(tiny_model[1])
    for args in ([str(tmp_path / 'none')], ['--losses', str(tmp_path / 'none')], ['--bogus']):
        bad = subprocess.run([sys.executable, '-m', 'models.logparse'] + args, cwd=ROOT,
                             stderr=subprocess.PIPE, universal_newlines=True)
        assert bad.returncode == 2, args


def _repo_copy(tmp_path):
    """The launchers write into <repo>/test/output and <repo>/data: run them on a copy."""
    dst = tmp_path / 'repo'
    dst.mkdir()
    for name in ('train.py', 'test.py', 'make_h5data.py'):
        shutil.copy2(os.path.join(ROOT, name), str(dst / name))
    for name in ('models', 'test'):
        shutil.copytree(os.path.join(ROOT, name), str(dst / name),
                        ignore=shutil.ignore_patterns('__pycache__', 'output'))
    return dst


def _launch(repo, *args, **kw):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3', ASCEND_DEVICE_ID='0', **kw.get('env', {}))
    script = kw.get('script', 'train_performance_1p.sh')
    return subprocess.run(['bash', str(repo / 'test' / script)] + list(args),
                          cwd=str(repo), env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=600)


def test_performance_launcher_report(tmp_path):
    repo = _repo_copy(tmp_path)
    r = _launch(repo, '--image_size=32', '--train_steps=6', '--batch_size=2')
    assert r.returncode == 0, r.stdout[-3000:]
    out_dir = repo / 'test' / 'output' / '0'
    case = 'CascadeNet_ID2121_for_TensorFlow_bs2_1p_perf'
    report = dict(l.split(' = ', 1) for l in (out_dir / (case + '.log')).read_text().splitlines())
    assert set(report) == {'Network', 'RankSize', 'BatchSize', 'DeviceType', 'CaseName',
                           'ActualFPS', 'TrainingTime', 'ActualLoss', 'E2ETrainingTime'}
    assert report['CaseName'] == case and report['BatchSize'] == '2'
    log = (out_dir / 'train_0.log').read_text()
    train = logparse.parse_train(log)
    assert train['Steps'] == 6
    # TrainingTime in ms per step, as the other ModelZoo models report it
    assert report['TrainingTime'] == '%.2f' % (1000 * train['StepTime']) and train['StepTime'] > 0
    assert float(report['ActualFPS']) == train['ActualFPS']
    # one loss per line, every logged step; ActualLoss is the last
    losses = (out_dir / ('train_%s_loss.txt' % case)).read_text().splitlines()
    assert losses == logparse.losses(log) and len(losses) == 1  # steps 6 (logged every 10)
    assert report['ActualLoss'] == losses[-1] and float(losses[-1]) == train['ActualLoss']
    assert int(report['E2ETrainingTime']) >= 0
    printed = dict(re.findall(r'^(Final Performance [\w/]+|E2E Training Duration sec) : (\S+)$',
                              r.stdout, re.M))
    assert float(printed['Final Performance images/sec']) == train['ActualFPS']
    assert printed['Final Performance ms/step'] == report['TrainingTime']
    assert printed['E2E Training Duration sec'] == report['E2ETrainingTime']


def test_performance_launcher_rejects_bad_arguments(tmp_path):
    repo = _repo_copy(tmp_path)
    for args in (['--precision_mode=fp8'], ['--train_steps=x'], ['--over_dump=maybe'],
                 ['--over_dump=True', '--data_dump_flag=True'], ['--data_dump_step=1,2'],
                 ['--ckpt_path=%s' % (tmp_path / 'none')], ['--iterations_per_loop=0']):
        r = _launch(repo, *args)
        assert r.returncode == 2, (args, r.stdout)
        assert r.stdout.startswith('[Error]') and len(r.stdout.splitlines()) == 1, r.stdout
    r = _launch(repo, '--bogus=1')  # a really unknown argument: one line, exit 2
    assert r.returncode == 2 and r.stdout == '[Error] unknown argument --bogus=1 (see --help)\n'
    assert not (repo / 'test' / 'output').exists()


def test_full_launcher_reports_train_accuracy(tiny_data, tmp_path):
    repo = _repo_copy(tmp_path)
    r = _launch(repo, '--data_path=%s' % os.path.dirname(tiny_data[0]), '--train_epochs=1',
                '--batch_size=4', script='train_full_1p.sh')
    assert r.returncode == 0, r.stdout[-3000:]
    out_dir = repo / 'test' / 'output' / '0'
    report = dict(l.split(' = ', 1) for l in
                  (out_dir / 'CascadeNet_ID2121_for_TensorFlow_bs4_1p_acc.log')
                  .read_text().splitlines())
    tested = logparse.parse_test((out_dir / 'test_0.log').read_text())
    assert float(report['TrainAccuracy']) == tested['TrainAccuracy']
    assert float(report['ActualFPS']) > 0


def test_launcher_takes_every_modelzoo_argument(tiny_model, tiny_data, tmp_path):
    """Every ModelZoo common argument, on the stand-in NPU: dump, profiling, autotune and the
    loop reach the NpuOptimizer as the TF Adapter documents them, --ckpt_path starts from the
    given weights, --bind_core pins the cores."""
    repo = _repo_copy(tmp_path)
    stub_log = tmp_path / 'npu_stub.jsonl'
    out = tmp_path / 'ckpt_out'
    env = {'PYTHONPATH': os.path.join(ROOT, 'tests', 'stubs'), 'NPU_STUB_LOG': str(stub_log),
           'TUNE_BANK_PATH': str(tmp_path / 'bank')}
    bind = shutil.which('taskset') is not None  # util-linux, nearly always there
    r = _launch(repo, '--data_path=%s' % os.path.dirname(tiny_data[0]), '--output_path=%s' % out,
                '--train_epochs=1', '--train_steps=4', '--batch_size=4',
                '--precision_mode=must_keep_origin_dtype', '--over_dump=False',
                '--over_dump_path=%s' % (tmp_path / 'unused'), '--data_dump_flag=True',
                '--data_dump_step=0|2-3', '--profiling=True', '--autotune=True',
                '--bind_core=%s' % bind, '--ckpt_path=%s' % tiny_model[0],
                '--iterations_per_loop=2', env=env)
    assert r.returncode == 0, r.stdout[-3000:]
    out_dir = repo / 'test' / 'output' / '0'
    train_log = (out_dir / 'train_0.log').read_text()
    assert 'initialised the model weights from %s' % tiny_model[0] in train_log
    assert '[done] steps=4 ' in train_log and 'D3-C2 nf=16' in train_log
    cores = ','.join(str(c) for c in sorted(os.sched_getaffinity(0)))  # 1 rank: all of them
    assert ('bind_core: taskset -c %s\n' % cores in r.stdout) == bind
    case = 'CascadeNet_ID2121_for_TensorFlow%s_bs4_1p_perf' % ('_bindcore' if bind else '')
    assert (out_dir / (case + '.log')).is_file() and (out / 'model-4.index').is_file()
    records = [json.loads(line) for line in stub_log.read_text().splitlines()]
    npu = [x for x in records if x['event'] == 'session'][0]['custom_optimizers']['NpuOptimizer']
    profiling = json.loads(npu.pop('profiling_options'))
    assert npu == {'use_off_line': True, 'precision_mode': 'must_keep_origin_dtype',
                   'enable_data_pre_proc': True, 'iterations_per_loop': 2,
                   'enable_dump': True, 'dump_path': str(out_dir / 'data_dump'),
                   'dump_step': '0|2-3', 'dump_mode': 'all', 'profiling_mode': True,
                   'auto_tune_mode': 'RL,GA'}
    assert profiling['output'] == str(out_dir / 'profiling') and profiling['task_trace'] == 'on'
    for d in ('data_dump', 'profiling'):
        assert (out_dir / d).is_dir()
    assert not (tmp_path / 'unused').exists()  # --over_dump=False: no overflow folder
    assert (tmp_path / 'bank').is_dir()  # the Auto Tune bank the user named
    assert [x['iterations_per_loop'] for x in records
            if x['event'] == 'set_iteration_per_loop'] == [2]
