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
"""models/device.py: session config and loss scaling per device and precision mode.

The NPU path runs against the stand-in npu_bridge in tests/stubs (it records what it is given);
the GPU path with detection and the TF rewrite function monkeypatched."""
import json
import os
import re
import sys

import pytest
import tensorflow.compat.v1 as tf
from tensorflow.core.protobuf.rewriter_config_pb2 import RewriterConfig

from conftest import ROOT, TINY_MODEL, run_script
from models import device

STUBS = os.path.join(ROOT, 'tests', 'stubs')
LOWER = {'allow_fp32_to_fp16': True, 'force_fp16': True, 'must_keep_origin_dtype': False,
         'allow_mix_precision': True}


@pytest.fixture
def stub_npu(monkeypatch):
    """The stand-in npu_bridge importable in this process; its records, emptied."""
    monkeypatch.syspath_prepend(STUBS)
    monkeypatch.delenv('NPU_STUB_LOG', raising=False)
    yield __import__('npu_bridge.recorder', fromlist=['RECORDS']).RECORDS
    for name in [m for m in sys.modules if m == 'npu_bridge' or m.startswith('npu_bridge.')]:
        del sys.modules[name]


def test_modes_cover_the_launcher_choices():
    assert set(device.PRECISION_MODES) == set(LOWER)
    assert all(device.lowers_precision(m) == LOWER[m] for m in LOWER)


def test_no_npu_bridge_means_no_npu():
    assert not any(os.path.isdir(os.path.join(p, 'npu_bridge')) for p in sys.path if p)
    assert not device.npu_available()


def test_npu_detected_with_stub(stub_npu, monkeypatch):
    monkeypatch.setattr(device, 'gpu_available', lambda: True)  # NPU wins over a GPU
    assert device.detect_device() == 'npu'


@pytest.mark.parametrize('mode', sorted(LOWER))
def test_npu_session_config(stub_npu, mode):
    cfg = device.session_config('npu', mode)
    rewrite = cfg.graph_options.rewrite_options
    ops = [o for o in rewrite.custom_optimizers]
    assert [o.name for o in ops] == ['NpuOptimizer']
    assert ops[0].parameter_map['precision_mode'].s == mode.encode()
    assert ops[0].parameter_map['use_off_line'].b is True
    assert rewrite.remapping == RewriterConfig.OFF
    assert rewrite.memory_optimization == RewriterConfig.OFF
    assert cfg.allow_soft_placement


@pytest.mark.parametrize('mode', sorted(LOWER))
def test_npu_loss_scaling_only_when_precision_is_lowered(stub_npu, mode):
    with tf.Graph().as_default():
        adam = tf.train.AdamOptimizer(1e-3)
        opt = device.wrap_optimizer(adam, 'npu', mode)
    events = [r['event'] for r in stub_npu]
    if not LOWER[mode]:
        assert opt is adam and events == []
        return
    assert type(opt).__name__ == 'NPULossScaleOptimizer' and opt.opt is adam
    assert events == ['loss_scale_manager', 'loss_scale_optimizer']
    manager = stub_npu[0]
    assert manager['init_loss_scale'] == 2 ** 32
    assert manager['incr_every_n_steps'] == 1000
    assert manager['decr_every_n_nan_or_inf'] == 2
    assert manager['decr_ratio'] == 0.5
    assert stub_npu[1]['inner'] == 'AdamOptimizer'
    assert stub_npu[1]['is_distributed'] is False


@pytest.fixture
def fake_gpu(monkeypatch):
    """Detection says GPU; the rewrite function records its calls and returns a marker."""
    calls = []

    def rewrite(opt, loss_scale='dynamic'):
        calls.append((opt, loss_scale))
        return ('rewritten', opt)

    monkeypatch.setattr(device, 'npu_available', lambda: False)
    monkeypatch.setattr(device, 'gpu_available', lambda: True)
    monkeypatch.setattr(tf.train.experimental, 'enable_mixed_precision_graph_rewrite', rewrite)
    return calls


@pytest.mark.parametrize('mode', sorted(LOWER))
def test_gpu_rewrite_requested_exactly_for_lowering_modes(fake_gpu, mode):
    assert device.detect_device() == 'gpu'
    opt = object()
    out = device.wrap_optimizer(opt, 'gpu', mode)
    if LOWER[mode]:
        assert fake_gpu == [(opt, 'dynamic')] and out == ('rewritten', opt)
    else:
        assert fake_gpu == [] and out is opt
    rewrite = device.session_config('gpu', mode).graph_options.rewrite_options
    assert rewrite.auto_mixed_precision == (RewriterConfig.ON if LOWER[mode]
                                            else RewriterConfig.OFF)
    assert not rewrite.custom_optimizers


@pytest.mark.parametrize('mode', sorted(LOWER))
def test_cpu_is_float32_in_every_mode(fake_gpu, mode):
    opt = object()
    assert device.wrap_optimizer(opt, 'cpu', mode) is opt and fake_gpu == []
    cfg = device.session_config('cpu', mode, seed_threads=True)
    assert not cfg.graph_options.rewrite_options.custom_optimizers
    assert cfg.graph_options.rewrite_options.auto_mixed_precision != RewriterConfig.ON
    assert cfg.inter_op_parallelism_threads == 1
    assert 'float32' in device.describe('cpu', mode)


def test_unknown_mode_rejected():
    with pytest.raises(ValueError):
        device.session_config('cpu', 'fp8')


def test_train_runs_the_npu_path_with_stub(tiny_data, tmp_path, monkeypatch):
    """train.py end to end with the stand-in on PYTHONPATH: the NPU session config and the
    loss-scale wrapping reach TF, and training (on CPU, gradients passed through) finishes."""
    log = tmp_path / 'npu_stub.jsonl'
    monkeypatch.setenv('PYTHONPATH', STUBS)
    monkeypatch.setenv('NPU_STUB_LOG', str(log))
    r = run_script('train.py', '--data_train_dir', tiny_data[0], '--batch_size', '4',
                   '--train_steps', '3', '--log_every', '1', '--precision_mode', 'force_fp16',
                   '--save_ckpt_Dir', tmp_path / 'ckpt', *TINY_MODEL)
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'device: Ascend NPU, precision_mode force_fp16, NPU loss scaling' in r.stdout
    assert '[done] steps=3 ' in r.stdout
    records = [json.loads(line) for line in log.read_text().splitlines()]
    sessions = [r for r in records if r['event'] == 'session']
    assert len(sessions) == 1
    npu = sessions[0]['custom_optimizers']['NpuOptimizer']
    assert npu['precision_mode'] == 'force_fp16' and npu['use_off_line'] is True
    assert sessions[0]['remapping'] == RewriterConfig.OFF
    assert sessions[0]['memory_optimization'] == RewriterConfig.OFF
    wrap = [r for r in records if r['event'] == 'loss_scale_optimizer']
    assert [w['inner'] for w in wrap] == ['AdamOptimizer']
    manager = [r for r in records if r['event'] == 'loss_scale_manager']
    assert [m['init_loss_scale'] for m in manager] == [2 ** 32]


def test_npu_options_reach_the_npu_optimizer(stub_npu):
    """Each ModelZoo option as the TF Adapter 1.x sess.run session configuration names it."""
    opts = device.npu_options(4, dump_path='/d/data', dump_step='0|3-5', profiling_path='/d/p',
                              autotune=True)
    ops = device.session_config('npu', 'force_fp16', npu=opts).graph_options.rewrite_options
    got = dict((k, v.s.decode() if v.HasField('s') else v.b if v.HasField('b') else v.i)
               for k, v in ops.custom_optimizers[0].parameter_map.items())
    profiling = json.loads(got.pop('profiling_options'))
    assert got == {'use_off_line': True, 'precision_mode': 'force_fp16',
                   'enable_data_pre_proc': True, 'iterations_per_loop': 4,
                   'enable_dump': True, 'dump_path': '/d/data', 'dump_step': '0|3-5',
                   'dump_mode': 'all', 'profiling_mode': True, 'auto_tune_mode': 'RL,GA'}
    assert profiling == {'output': '/d/p', 'task_trace': 'on', 'training_trace': 'on',
                         'aicpu': 'on', 'fp_point': '', 'bp_point': '',
                         'aic_metrics': 'PipeUtilization'}
    assert device.npu_options(overflow_path='/d/o') == {
        'enable_dump_debug': True, 'dump_path': '/d/o', 'dump_debug_mode': 'all'}
    assert device.npu_options() == {}
    with pytest.raises(ValueError):
        device.npu_options(dump_path='/a', overflow_path='/b')
    # off the NPU the options do not exist
    assert not device.session_config('cpu', 'force_fp16', npu=opts).graph_options \
        .rewrite_options.custom_optimizers


def test_loop_train_op_runs_n_steps_per_run(stub_npu):
    with tf.Graph().as_default():
        step = tf.train.get_or_create_global_step()
        train_op = tf.group(tf.assign_add(step, 1))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            assert device.loop_train_op(sess, train_op, 'cpu', 3) is train_op
            assert stub_npu == []
            with pytest.raises(ValueError):  # the TF Adapter takes an Operation only
                device.loop_train_op(sess, step.read_value(), 'npu', 3)
            op = device.loop_train_op(sess, train_op, 'npu', 3)
            assert op.name == 'IterationOp'
            sess.run(op)
            assert sess.run(step) == 3
    assert [r['event'] for r in stub_npu] == ['set_iteration_per_loop']
    assert stub_npu[0]['iterations_per_loop'] == 3 and stub_npu[0]['train_op'] == train_op.name


def test_train_loop_sinking_with_stub(tiny_model, tiny_data, tmp_path, monkeypatch):
    """train.py on the stand-in NPU, 2 steps per sess.run, every ModelZoo NPU option: the same
    losses and validation as the 1-step CPU run, epochs, logs and checkpoints at the same
    steps, and the options and the loop call reach the TF Adapter."""
    log = tmp_path / 'npu_stub.jsonl'
    monkeypatch.setenv('PYTHONPATH', STUBS)
    monkeypatch.setenv('NPU_STUB_LOG', str(log))
    ckpt = tmp_path / 'ckpt'
    r = run_script('train.py', '--data_train_dir', tiny_data[0], '--data_test_dir', tiny_data[1],
                   '--batch_size', '4', '--num_epoch', '2', '--log_every', '4',
                   '--save_ckpt_Dir', ckpt, '--iterations_per_loop', '2', '--checkpoint_steps',
                   '4', '--precision_mode', 'must_keep_origin_dtype', '--profiling',
                   '--data_dump_flag', '--data_dump_step', '0|2', '--autotune', *TINY_MODEL)
    assert r.returncode == 0, r.stderr[-2000:]
    ref = tiny_model[1]  # the CPU run: same data, seed and model, 8 epochs, logged every 4

    def lines(text, tag, until=12):
        out = [dict(re.findall(r'(\S+?)=(\S+)', l)) for l in text.splitlines()
               if l.startswith('[%s] ' % tag)]
        return [d for d in out if int(d.get('step', 0)) <= until]
    assert [s['step'] for s in lines(r.stdout, 'step')] == ['4', '8', '12']
    for got, want in zip(lines(r.stdout, 'step'), lines(ref, 'step')):
        assert (got['step'], got['epoch']) == (want['step'], want['epoch'])
        assert float(got['loss']) == pytest.approx(float(want['loss']), rel=1e-5)
    assert [(e['epoch'], e['step']) for e in lines(r.stdout, 'epoch')] == [('1', '6'), ('2', '12')]
    for got, want in zip(lines(r.stdout, 'val'), lines(ref, 'val')[:2]):
        assert float(got['psnr_re']) == pytest.approx(float(want['psnr_re']), abs=1e-4)
    assert len(lines(r.stdout, 'val')) == 2
    assert re.findall(r'saved checkpoint \S+model-(\d+)', r.stdout) == ['4', '6', '8', '12']
    records = [json.loads(line) for line in log.read_text().splitlines()]
    npu = [x for x in records if x['event'] == 'session'][0]['custom_optimizers']['NpuOptimizer']
    assert (npu['enable_data_pre_proc'], npu['iterations_per_loop']) == (True, 2)
    assert (npu['enable_dump'], npu['dump_step'], npu['dump_mode']) == (True, '0|2', 'all')
    assert npu['dump_path'] == str(ckpt / 'data_dump') and os.path.isdir(npu['dump_path'])
    assert json.loads(npu['profiling_options'])['output'] == str(ckpt / 'profiling')
    assert npu['profiling_mode'] is True and npu['auto_tune_mode'] == 'RL,GA'
    loops = [x for x in records if x['event'] == 'set_iteration_per_loop']
    assert [(x['iterations_per_loop'], x['train_op']) for x in loops] == [(2, 'train_op')]


def test_npu_flags_ignored_on_cpu(tiny_data, tmp_path):
    r = run_script('train.py', '--data_train_dir', tiny_data[0], '--batch_size', '4',
                   '--train_steps', '2', '--iterations_per_loop', '2', '--over_dump',
                   '--save_ckpt_Dir', tmp_path / 'ckpt', *TINY_MODEL)
    assert r.returncode == 0, r.stderr[-2000:]
    assert '--iterations_per_loop, --over_dump: NPU only, ignored on CPU' in r.stdout
    assert '1 step per sess.run' in r.stdout and '[done] steps=2 ' in r.stdout
    assert not (tmp_path / 'ckpt' / 'overflow_dump').exists()
