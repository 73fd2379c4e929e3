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
"""Data-parallel training (models/distributed.py, docs/distributed.md): the rank sharding of
pre_input.Batches, the environment checks, and 2-process runs on this machine, with
TensorFlow's collective all-reduce (TF_CONFIG, test/train_full_dist.sh) and through the
stand-in npu_bridge (test/train_performance_8p.sh with RANK_SIZE=2): the ranks hold identical
weights, 2 ranks at batch b train as 1 process at batch 2b (single- and multi-coil data), a
killed rank stops the run with one error line and resuming works."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import ROOT, run_script
from models import distributed, pre_input
from models.errors import InputError

STUBS = os.path.join(ROOT, 'tests', 'stubs')
DIST_MODEL = ['--Dn', '3', '--Dc', '2', '--nf', '8']
TIMEOUT = 240  # seconds any one subprocess run may take on a loaded 2-core CPU


def _tf_config(workers, index):
    return json.dumps({'cluster': {'worker': workers}, 'task': {'type': 'worker',
                                                                 'index': index}})


# ---- environment -------------------------------------------------------------------------

def test_parse_tf_config():
    workers = ['10.0.0.1:2222', 'host-b:2222']
    assert distributed.parse_tf_config(_tf_config(workers, 1)) == (workers, 1)
    for bad, says in (('{"cluster": ', 'TF_CONFIG is not'),
                      (_tf_config(workers, 2), 'task.index 2 is out of range for 2 workers'),
                      (_tf_config(['nohost'], 0), 'host:port'),
                      (json.dumps({'cluster': {'worker': workers, 'ps': ['h:1']},
                                   'task': {'type': 'worker', 'index': 0}}), 'got ps'),
                      (json.dumps({'cluster': {'worker': workers},
                                   'task': {'type': 'chief', 'index': 0}}), "'chief'")):
        with pytest.raises(InputError, match=says.replace('(', r'\(')):
            distributed.parse_tf_config(bad)


def test_cluster_from_env(monkeypatch, tmp_path):
    c = distributed.from_env({'TF_CONFIG': _tf_config(['a:1', 'b:2'], 1)})
    assert (c.backend, c.rank, c.size, c.chief) == ('tf', 1, 2, False)
    assert distributed.from_env({}).backend == 'local'
    with pytest.raises(InputError, match='--distributed needs the cluster in TF_CONFIG'):
        distributed.from_env({}, distributed_flag=True)
    # RANK_SIZE without npu_bridge: one process (CPU/GPU use TF_CONFIG)
    assert distributed.from_env({'RANK_SIZE': '8'}).size == 1
    monkeypatch.syspath_prepend(STUBS)  # npu_bridge present: HCCL ranks
    table = tmp_path / 'rank_table.json'
    with pytest.raises(InputError, match='RANK_SIZE=2 needs RANK_TABLE_FILE.*not set'):
        distributed.from_env({'RANK_SIZE': '2', 'RANK_ID': '1'})
    with pytest.raises(InputError, match='no such file'):
        distributed.from_env({'RANK_SIZE': '2', 'RANK_TABLE_FILE': str(table)})
    table.write_text('{}')
    with pytest.raises(InputError, match='RANK_ID 2 is out of range for RANK_SIZE 2'):
        distributed.from_env({'RANK_SIZE': '2', 'RANK_ID': '2', 'RANK_TABLE_FILE': str(table)})
    c = distributed.from_env({'RANK_SIZE': '2', 'RANK_ID': '1', 'RANK_TABLE_FILE': str(table)})
    assert (c.backend, c.rank, c.size) == ('npu', 1, 2)


def test_train_refuses_bad_cluster(tiny_data, tmp_path):
    """One error line, exit 2, before TensorFlow starts."""
    base = ['--data_train_dir', tiny_data[0], '--save_ckpt_Dir', tmp_path / 'ckpt']
    for env, args, says in (
            ({'TF_CONFIG': _tf_config(['127.0.0.1:1', '127.0.0.1:2'], 5)}, [],
             'task.index 5 is out of range'),
            ({'TF_CONFIG': ''}, ['--distributed'], '--distributed needs the cluster')):
        os.environ.update(env)
        try:
            r = run_script('train.py', *(base + args), timeout=TIMEOUT)
        finally:
            for k in env:
                os.environ.pop(k)
        assert r.returncode == 2 and r.stderr.startswith('error: ') and says in r.stderr, \
            r.stderr[-2000:]
        assert len(r.stderr.strip().splitlines()) == 1


# ---- sharding ------------------------------------------------------------------------------

def test_ranks_split_each_global_batch(tiny_data):
    """R ranks at batch b read exactly the rows one process reads at batch R*b, in rank order;
    every image at most once per epoch, only the N mod (b*R) remainder left out."""
    data = pre_input.H5Data(tiny_data[0])  # 24 images
    kw = dict(seed=5, mask_mode='random', mask_type='cartesian', acc=4.0, sample_n=4)
    one = pre_input.Batches(data, 10, **kw)
    ranks = [pre_input.Batches(data, 5, rank=r, ranks=2, **kw) for r in range(2)]
    assert one.steps_per_epoch == ranks[0].steps_per_epoch == 2  # 24 // 10
    for epoch in (0, 3):
        seen = []
        for b in range(2):
            whole = one.batch(epoch, b)
            parts = [rk.batch(epoch, b) for rk in ranks]
            for k in ('feature', 'label', 'mask', 'index'):
                np.testing.assert_array_equal(np.concatenate([p[k] for p in parts]), whole[k])
            assert all(len(p['index']) == 5 for p in parts)
            seen.extend(i for p in parts for i in p['index'])
        assert len(set(seen)) == len(seen) == 20  # 4 = 24 mod 10 left out
    # resuming from a global step gives each rank its own rows of that step
    _, _, got = next(ranks[1].from_step(3))
    np.testing.assert_array_equal(got['index'], one.batch(1, 1)['index'][5:])
    with pytest.raises(InputError, match='--batch_size 13 x 2 ranks is larger than the 24'):
        pre_input.Batches(data, 13, rank=1, ranks=2)
    data.close()


# ---- TensorFlow workers (collective all-reduce) -------------------------------------------

def _free_workers(n):
    import socket
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(('127.0.0.1', 0))
    workers = ['127.0.0.1:%d' % s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return workers


def _start_workers(args, n=2, env=None):
    """n train.py workers on 127.0.0.1 with TF_CONFIG; returns their Popen (stdout, stderr
    to files beside args' checkpoint folder)."""
    workers = _free_workers(n)
    procs = []
    for i in range(n):
        e = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3', PYTHONUNBUFFERED='1',
                 TF_CONFIG=_tf_config(workers, i), **(env or {}))
        out = open(args['log'] % i, 'w')
        procs.append(subprocess.Popen(
            [sys.executable, os.path.join(ROOT, 'train.py')] + [str(a) for a in args['argv']],
            stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=e, universal_newlines=True))
        out.close()
    return procs


def _wait_all(procs):
    return [p.wait(timeout=TIMEOUT) for p in procs]


def _weights(folder, rank):
    with np.load(os.path.join(str(folder), 'rank%d.npz' % rank)) as z:
        return dict((k, z[k]) for k in z.files)


def _losses(text):
    return [float(l.split('loss=')[1].split()[0]) for l in text.splitlines()
            if l.startswith('[step] ')]


def test_dist_launcher_two_workers_equal_one_process(tiny_data, tmp_path):
    """test/train_full_dist.sh --workers 2 at batch 2: both workers hold the same weights, and
    those (and the loss curve) are one process's at batch 4 on the same data order. Rank 0
    alone writes the checkpoint folder and validates; the report sums the workers' FPS."""
    data_dir = os.path.dirname(tiny_data[0])
    dump = tmp_path / 'dump'
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3', ASCEND_DEVICE_ID='0',
               CASCADENET_OUTPUT_ROOT=str(tmp_path / 'out'),
               CASCADENET_TRAIN_ARGS=' '.join(DIST_MODEL + ['--log_every', '1',
                                                             '--dump_weights', str(dump)]))
    r = subprocess.run(['bash', os.path.join(ROOT, 'test', 'train_full_dist.sh'), '--workers',
                        '2', '--data_path=%s' % data_dir, '--train_epochs=2',
                        '--train_steps=8', '--batch_size=2'], cwd=ROOT, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True, timeout=TIMEOUT)
    assert r.returncode == 0, r.stdout[-3000:]
    one = run_script('train.py', '--data_url', data_dir, '--batch_size', '4', '--num_epoch', '2',
                     '--train_steps', '8', '--log_every', '1', '--save_ckpt_Dir',
                     tmp_path / 'one', '--dump_weights', tmp_path / 'one_w', *DIST_MODEL,
                     timeout=TIMEOUT)
    assert one.returncode == 0, one.stderr[-2000:]
    w0, w1, w_one = _weights(dump, 0), _weights(dump, 1), _weights(tmp_path / 'one_w', 0)
    assert sorted(w0) == sorted(w_one) and len(w0) == 12  # 3 convs x 2 cascades, W and b
    for k in w0:
        np.testing.assert_array_equal(w0[k], w1[k])  # ranks in step, bit for bit
        # Adam moves a weight by about lr = 1e-3 per step whatever the gradient's size, so
        # where a gradient is near 0 the rounding of a differently ordered sum shifts a small
        # part of a step: 1e-4 is a tenth of one step (8 steps move weights up to 8e-3)
        np.testing.assert_allclose(w0[k], w_one[k], rtol=1e-3, atol=1e-4)
    out0 = (tmp_path / 'out' / '0' / 'train_0.log').read_text()
    out1 = (tmp_path / 'out' / '1' / 'train_1.log').read_text()
    assert 'rank 0 of 2, TensorFlow collective all-reduce' in out0 and 'rank 1 of 2' in out1
    l0, l1, l_one = _losses(out0), _losses(out1), _losses(one.stdout)
    assert len(l0) == 8 and l0 == l1
    np.testing.assert_allclose(l0, l_one, rtol=1e-4)
    assert len(set(l0)) == 8  # a different batch and weights each step
    # rank 0 alone validates (epoch 1 ends at global step 6 = 24 // 4) and writes
    assert out0.count('[val] epoch=1 ') == 1 and '[val]' not in out1
    assert 'saved checkpoint' not in out1
    ckpt = tmp_path / 'out' / '0' / 'ckpt'
    assert (ckpt / 'model-8.index').is_file() and (ckpt / 'config.json').is_file()
    assert 'rank 1 of 2' not in (ckpt / 'train_log.txt').read_text()
    report = dict(l.split(' = ', 1) for l in (tmp_path / 'out' / '0' /
                  'CascadeNet_ID2121_for_TensorFlow_bs2_2p_acc.log').read_text().splitlines())
    fps = [float(l.split('images/sec=')[1].split()[0]) for l in (out0, out1)
           for l in [l for l in l.splitlines() if l.startswith('[done] ')]]
    assert report['RankSize'] == '2' and float(report['ActualFPS']) == pytest.approx(
        sum(fps), abs=0.02)


def test_multicoil_two_workers_equal_one_process(coil_data, tmp_path):
    """Multi-coil data (the kspace and coil_maps inputs in every rank's pipeline): 2 TF_CONFIG
    workers at batch 2 hold the same weights, those of one process at batch 4 (rules of
    test_dist_launcher_two_workers_equal_one_process), and only rank 0 validates."""
    argv = ['--data_url', coil_data, '--num_epoch', '2', '--train_steps', '8', '--log_every',
            '1', '--mask_mode', 'random', '--sample_n', '4'] + DIST_MODEL
    logs = str(tmp_path / 'log%d.txt')
    rcs = _wait_all(_start_workers({'argv': argv + [
        '--batch_size', '2', '--save_ckpt_Dir', tmp_path / 'ckpt', '--dump_weights',
        tmp_path / 'w'], 'log': logs}))
    out0, out1 = open(logs % 0).read(), open(logs % 1).read()
    assert rcs == [0, 0], out0[-2000:] + out1[-2000:]
    one = run_script('train.py', *(argv + ['--batch_size', '4', '--save_ckpt_Dir',
                                           tmp_path / 'one', '--dump_weights', tmp_path / 'w1']),
                     timeout=TIMEOUT)
    assert one.returncode == 0, one.stderr[-2000:]
    assert '3 coils' in out0 and 'rank 1 of 2, TensorFlow collective all-reduce' in out1
    w0, w1, w_one = _weights(tmp_path / 'w', 0), _weights(tmp_path / 'w', 1), \
        _weights(tmp_path / 'w1', 0)
    assert sorted(w0) == sorted(w_one) and len(w0) == 12
    for k in w0:
        np.testing.assert_array_equal(w0[k], w1[k])
        np.testing.assert_allclose(w0[k], w_one[k], rtol=1e-3, atol=1e-4)
    l0, l_one = _losses(out0), _losses(one.stdout)
    assert len(l0) == 8 and l0 == _losses(out1) and len(set(l0)) == 8
    np.testing.assert_allclose(l0, l_one, rtol=1e-4)
    # epoch 1 ends at global step 6 (24 images // global batch 4): rank 0 alone validates
    assert out0.count('[val] epoch=1 ') == 1 and '[val]' not in out1


def test_killed_worker_stops_run_then_resume(tiny_data, tmp_path):
    """SIGKILL rank 1 mid-run: rank 0 stops with one `error:` line and a nonzero exit, its
    last checkpoint reads back whole; --continue_training with 2 workers resumes from it,
    rank 1 taking rank 0's restored weights and step."""
    ckpt = tmp_path / 'ckpt'
    argv = ['--data_url', os.path.dirname(tiny_data[0]), '--batch_size', '2',
            '--num_epoch', '1000', '--checkpoint_steps', '2', '--log_every', '1',
            '--save_ckpt_Dir', ckpt, '--dist_timeout', '30'] + DIST_MODEL
    logs = str(tmp_path / 'log%d.txt')
    procs = _start_workers({'argv': argv, 'log': logs})
    try:
        t0 = time.time()
        while '[step] step=5 ' not in open(logs % 1).read():
            assert time.time() - t0 < TIMEOUT and procs[1].poll() is None, open(logs % 1).read()
            time.sleep(0.2)
        procs[1].send_signal(signal.SIGKILL)
        rc = procs[0].wait(timeout=TIMEOUT)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    text = open(logs % 0).read()
    errors = [l for l in text.splitlines() if l.startswith('error: ')]
    assert rc != 0 and len(errors) == 1 and errors[0].startswith('error: rank 0 of 2: ') and \
        'a rank stopped or is unreachable' in errors[0], text[-2000:]
    from models.tfv1 import tf_v1
    tf = tf_v1()
    latest = tf.train.latest_checkpoint(str(ckpt))
    step = int(latest.rsplit('-', 1)[1])
    assert step >= 4
    reader = tf.train.load_checkpoint(latest)
    for name in reader.get_variable_to_shape_map():
        assert np.all(np.isfinite(reader.get_tensor(name)))  # every tensor reads back
    # resume: two more global steps, both workers from rank 0's checkpoint
    argv += ['--continue_training', '--train_steps', str(step + 2), '--dump_weights',
             tmp_path / 'w']
    logs = str(tmp_path / 'resume%d.txt')
    assert _wait_all(_start_workers({'argv': argv, 'log': logs})) == [0, 0], \
        open(logs % 0).read()[-2000:] + open(logs % 1).read()[-2000:]
    r0, r1 = open(logs % 0).read(), open(logs % 1).read()
    assert 'resumed from %s' % latest in r0 and 'resumed from' not in r1
    assert '[run] start_step=%d' % step in r1 and '[done] steps=%d ' % (step + 2) in r1
    w0, w1 = _weights(tmp_path / 'w', 0), _weights(tmp_path / 'w', 1)
    for k in w0:
        np.testing.assert_array_equal(w0[k], w1[k])


# ---- Ascend: HCCL ranks through the stand-in npu_bridge -----------------------------------

def _launch_8p(tmp_path, *args, **env):
    e = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3', ASCEND_DEVICE_ID='0', RANK_SIZE='2',
             CASCADENET_OUTPUT_ROOT=str(tmp_path / 'out'), **env)
    e.pop('RANK_TABLE_FILE', None)
    return subprocess.run(['bash', os.path.join(ROOT, 'test', 'train_performance_8p.sh')] +
                          list(args), cwd=ROOT, env=e, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=TIMEOUT)


def test_8p_launcher_needs_rank_table(tmp_path):
    for args, says in (((), '[Error] no HCCL rank table: give --rank_table_file=FILE or '
                            'RANK_TABLE_FILE'),
                       (('--rank_table_file=%s' % (tmp_path / 'none.json'),),
                        '[Error] rank table %s: no such file' % (tmp_path / 'none.json'))):
        r = _launch_8p(tmp_path, *args)
        assert r.returncode == 2 and r.stdout.strip() == says, r.stdout


def test_8p_launcher_on_stand_in_npu(tiny_model, tiny_data, tmp_path):
    """train_performance_8p.sh with RANK_SIZE=2 on the stand-in npu_bridge: one process per
    rank with its RANK_ID / ASCEND_DEVICE_ID and folder; NPUDistributedOptimizer inside the
    loss-scale optimizer (is_distributed), hcom_parallel, every global variable broadcast from
    rank 0 with hccl_ops.broadcast. Rank 0 alone loads --ckpt_path, so the ranks' equal final
    weights show the broadcast and the (stand-in's mean) all-reduce at work."""
    table = tmp_path / 'rank_table.json'
    table.write_text('{}')
    exchange = tmp_path / 'exchange'
    exchange.mkdir()
    stub_log = tmp_path / 'npu_stub.jsonl'
    dump = tmp_path / 'dump'
    r = _launch_8p(tmp_path, '--rank_table_file=%s' % table,
                   '--data_path=%s' % os.path.dirname(tiny_data[0]), '--batch_size=2',
                   '--train_steps=4', '--ckpt_path=%s' % tiny_model[0],
                   PYTHONPATH=STUBS, NPU_STUB_LOG=str(stub_log),
                   NPU_STUB_EXCHANGE_DIR=str(exchange),
                   CASCADENET_TRAIN_ARGS='--log_every 1 --dump_weights %s' % dump)
    assert r.returncode == 0, r.stdout[-3000:]
    out = tmp_path / 'out'
    logs = [(out / str(i) / ('train_%d.log' % i)).read_text() for i in range(2)]
    for i, log in enumerate(logs):
        assert 'rank %d of 2, HCCL (NPUDistributedOptimizer); batch 2 per rank, global batch 4' \
            % i in log and '[done] steps=4 ' in log and 'D3-C2 nf=16' in log
    assert 'initialised the model weights from' in logs[0]
    assert 'initialised the model weights from' not in logs[1]
    assert _losses(logs[0]) == _losses(logs[1])
    w0, w1 = _weights(dump, 0), _weights(dump, 1)
    for k in w0:
        np.testing.assert_array_equal(w0[k], w1[k])
    records = [json.loads(l) for l in stub_log.read_text().splitlines()]
    sessions = [x for x in records if x['event'] == 'session']
    assert len(sessions) == 2 and all(
        s['custom_optimizers']['NpuOptimizer']['hcom_parallel'] is True for s in sessions)
    assert [x['inner'] for x in records if x['event'] == 'distributed_optimizer'] == \
        ['AdamOptimizer'] * 2
    assert [(x['inner'], x['is_distributed']) for x in records
            if x['event'] == 'loss_scale_optimizer'] == [('NPUDistributedOptimizer', True)] * 2
    bcast = [x for x in records if x['event'] == 'hccl_broadcast']
    assert bcast and all(x['root_rank'] == 0 and x['dtype'] == 'float32' for x in bcast)
    # per rank: 12 model tensors, Adam's 2 slots each, beta1/beta2 powers, the global step
    # and the loss-scale manager's none (the stand-in keeps no state)
    assert len(bcast) == 2 * (12 * 3 + 2 + 1)
    report = dict(l.split(' = ', 1) for l in (out / '0' /
                  'CascadeNet_ID2121_for_TensorFlow_bs2_2p_perf.log').read_text().splitlines())
    fps = [float(l.split('images/sec=')[1].split()[0]) for log in logs
           for l in log.splitlines() if l.startswith('[done] ')]
    assert report['RankSize'] == '2' and float(report['ActualFPS']) == pytest.approx(
        sum(fps), abs=0.02)
