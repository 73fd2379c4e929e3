"""models/device.py: session config and loss scaling per device and precision mode.

The NPU path runs against the stand-in npu_bridge in tests/stubs (it records what it is given);
the GPU path with detection and the TF rewrite function monkeypatched."""
import json
import os
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
