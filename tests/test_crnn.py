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
"""CRNN-MRI (--model crnn): the graph against a NumPy implementation of the paper's equations,
shapes and per-frame data consistency, gradients, the time-reversal symmetry of the
bidirectional layer, the configuration rules, and train -> test -> export on a tiny cine."""
import json
import os
import re

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import ckpt_to_pb
import image_to_bin
import msame_cpu
import om_precision
import test as test_script
from conftest import quiet, run_script
from models import config as cfgmod
from models import export, masks, model_tf, pre_input
from models.errors import InputError
from models.nets import recurrent
from test_export import checkpoint_predictions

tf.disable_v2_behavior()

N, T, H, W = 2, 4, 10, 8


def crnn_cfg(nd=3, nc=3, nf=4, dc_mode='hard', frames=T, size=(H, W)):
    return {'model': 'crnn', 'Dn': nd, 'Dc': nc, 'nf': nf, 'dc_mode': dc_mode,
            'batch_norm': False, 'share_weights': True, 'image_size': list(size),
            'frames': frames, 'random_seed': 0}


def sample(seed=0, n=N, frames=T, h=H, w=W):
    """A random complex sequence, its per-frame Cartesian masks and the zero-filled input
    (n, frames, h, w, 2) float32."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, frames, h, w)) + 1j * rng.standard_normal((n, frames, h, w))
    m = masks.cartesian_mask((n, frames, h, w), acc=3, sample_n=2, seed=seed).astype(np.float32)
    zf = np.fft.ifft2(np.fft.fft2(x) * m)
    return np.stack([zf.real, zf.imag], -1).astype(np.float32), m


def random_weights(graph, sess, seed=1):
    """Give every model variable random values (biases too, so none is a silent zero)."""
    rng = np.random.default_rng(seed)
    with graph.as_default():
        for v in model_tf.model_variables(graph):
            shape = v.shape.as_list()
            fan_in = float(np.prod(shape[:-1])) if len(shape) > 1 else 4.0
            v.load((rng.standard_normal(shape) / np.sqrt(fan_in)).astype(np.float32), sess)
        return dict((v.op.name, sess.run(v)) for v in model_tf.model_variables(graph))


# ---- A second implementation, straight from the paper's equations, in NumPy ----

def np_conv(x, w):
    """3x3 'SAME' cross-correlation (what tf.nn.conv2d computes): x (B, H, W, C), w (3, 3, C, O)."""
    if x is None:
        return 0.0
    p = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    h, wd = x.shape[1:3]
    return sum(np.einsum('bhwc,co->bhwo', p[:, dy:dy + h, dx:dx + wd], w[dy, dx])
               for dy in range(3) for dx in range(3))


def np_dc(x, k0, m):
    k = np.fft.fft2(x[..., 0] + 1j * x[..., 1])
    k = (1 - m) * k + m * k0
    z = np.fft.ifft2(k)
    return np.stack([z.real, z.imag], -1)


def np_crnn(feature, mask, v, nd, nc):
    """CRNN-MRI frame by frame: for iteration i and frame t,
    BCRNN:  h_t^f = relu(Wi*x_t + Wih*H_t^(i-1) + b + Wh*h_{t-1}^f), h^b the same from t = T-1
            down, H_t^(i) = h_t^f + h_t^b;
    CRNN-i: x_l,t^(i) = relu(Wx_l*x_(l-1),t^(i) + Wh_l*x_l,t^(i-1) + b_l);
    output: x + Wout*x_(nd-2),t + bout, then data consistency; states of iteration 0 are 0."""
    s = model_tf.crnn.SCOPE + '/'
    k0 = np.fft.fft2(feature[..., 0] + 1j * feature[..., 1]) * mask
    x = feature.astype(np.float64)
    frames = x.shape[1]
    prev = [None] * (nd - 1)  # prev[l][t]: layer l's output at frame t, previous iteration
    for _ in range(nc):
        cur = []
        b = s + 'bcrnn/'
        a = [np_conv(x[:, t], v[b + 'W_i']) + v[b + 'b'] +
             np_conv(prev[0][t] if prev[0] else None, v[b + 'W_ih']) for t in range(frames)]
        fwd, bwd = [None] * frames, [None] * frames
        h = None
        for t in range(frames):
            h = np.maximum(a[t] + np_conv(h, v[b + 'W_h']), 0)
            fwd[t] = h
        h = None
        for t in reversed(range(frames)):
            h = np.maximum(a[t] + np_conv(h, v[b + 'W_h']), 0)
            bwd[t] = h
        cur.append([f + g for f, g in zip(fwd, bwd)])
        for j in range(1, nd - 1):
            c = s + 'crnn_i%d/' % j
            cur.append([np.maximum(np_conv(cur[j - 1][t], v[c + 'W_x']) + v[c + 'b'] +
                                   np_conv(prev[j][t] if prev[j] else None, v[c + 'W_h']), 0)
                        for t in range(frames)])
        res = np.stack([np_conv(cur[-1][t], v[s + 'conv_out/W']) + v[s + 'conv_out/b']
                        for t in range(frames)], axis=1)
        x = np_dc(x + res, k0, mask)
        prev = cur
    return x


@pytest.mark.parametrize('nd,nc', [(3, 3), (2, 2), (4, 1)])
def test_crnn_matches_numpy_equations(nd, nc):
    cfg = crnn_cfg(nd=nd, nc=nc)
    graph, feature, mask, pred = model_tf.build_inference_graph(cfg, batch=N)
    f, m = sample(2)
    with graph.as_default(), tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        values = random_weights(graph, sess)
        got = sess.run(pred, {feature: f, mask: m})
    want = np_crnn(f, m, values, nd, nc)
    np.testing.assert_allclose(got, want, atol=1e-4 * np.abs(want).max())
    assert np.abs(got - f).max() > 1e-2  # the network changed its input


def test_shapes_dc_on_every_frame_and_parameter_count():
    cfg = crnn_cfg(nd=4, nc=2, nf=6)
    graph, feature, mask, pred = model_tf.build_inference_graph(cfg, batch=N)
    assert feature.shape.as_list() == [N, T, H, W, 2] and mask.shape.as_list() == [N, T, H, W]
    assert pred.shape.as_list() == [N, T, H, W, 2] and pred.op.name == 'predTst'
    names = sorted(v.op.name for v in model_tf.model_variables(graph))
    assert names == sorted('crnn_mri/' + n for n in (
        'bcrnn/W_i', 'bcrnn/W_ih', 'bcrnn/W_h', 'bcrnn/b', 'crnn_i1/W_x', 'crnn_i1/W_h',
        'crnn_i1/b', 'crnn_i2/W_x', 'crnn_i2/W_h', 'crnn_i2/b', 'conv_out/W', 'conv_out/b'))
    f, m = sample(3)
    with graph.as_default(), tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        random_weights(graph, sess)
        out = sess.run(pred, {feature: f, mask: m})
    k_out = np.fft.fft2(out[..., 0] + 1j * out[..., 1])
    k0 = np.fft.fft2(f[..., 0] + 1j * f[..., 1])
    for t in range(T):  # every frame keeps its own acquired samples
        on = m[:, t] == 1
        np.testing.assert_allclose(k_out[:, t][on], k0[:, t][on], atol=1e-3)
        assert np.abs(k_out[:, t][~on]).max() > 1e-2
    # nf=64, nd=5: 297,474 parameters; the reference's CRNN_MRI has 297,794, the difference
    # being its 320 extra biases (one per convolution, where we keep one per summed layer).
    g64, _, _, _ = model_tf.build_inference_graph(crnn_cfg(nd=5, nc=10, nf=64), batch=1)
    n64 = sum(int(np.prod(v.shape.as_list())) for v in model_tf.model_variables(g64))
    assert n64 == 297794 - (2 + 3) * 64 == 297474


def test_lambda_dc_has_one_lambda_per_iteration():
    graph, feature, mask, pred = model_tf.build_inference_graph(crnn_cfg(dc_mode='lambda'), N)
    lams = [v.op.name for v in model_tf.model_variables(graph) if 'log_lambda' in v.op.name]
    assert lams == ['crnn_mri/dc%d/log_lambda' % i for i in (1, 2, 3)]


def test_gradients_reach_every_variable():
    g = tf.Graph()
    with g.as_default():
        f, m = sample(4)
        label = tf.constant(np.random.default_rng(0).standard_normal(f.shape).astype(np.float32))
        out = model_tf.model_from_config(tf.constant(f), tf.constant(m), True,
                                         crnn_cfg(nd=4, nc=3, dc_mode='lambda'))['dc3']
        loss = tf.reduce_mean(tf.square(out - label))
        variables = tf.trainable_variables()
        grads = tf.gradients(loss, variables)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            gv = sess.run(grads)
    assert len(variables) == 4 + 2 * 3 + 2 + 3
    for v, gr in zip(variables, gv):
        assert gr is not None and np.abs(gr).max() > 0, v.op.name


def reverse_time(x):
    return x[:, ::-1]


def run_layer(build, x, h_iter):
    """Output of a recurrent layer built by build(x, h_iter) for inputs and their time
    reversal, with the same random weights: (out, out of reversed inputs)."""
    g = tf.Graph()
    with g.as_default():
        xp = tf.placeholder(tf.float32, x.shape)
        hp = tf.placeholder(tf.float32, h_iter.shape)
        with tf.variable_scope('layer'):
            out = build(xp, hp)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            rng = np.random.default_rng(7)
            for v in tf.global_variables():  # non-zero biases, so nothing is symmetric by luck
                v.load(0.3 * rng.standard_normal(v.shape.as_list()).astype(np.float32), sess)
            return (sess.run(out, {xp: x, hp: h_iter}),
                    sess.run(out, {xp: reverse_time(x), hp: reverse_time(h_iter)}))


def test_time_reversal_single_direction_breaks_bidirectional_keeps():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((N, 5, H, W, 2)).astype(np.float32)
    h_iter = rng.standard_normal((N, 5, H, W, 3)).astype(np.float32)

    def one_way(xp, hp):
        """The BCRNN's forward direction alone: its variables, in its creation order."""
        w_i, w_ih, w_h = (tf.get_variable(n, s) for n, s in (
            ('W_i', [3, 3, 2, 3]), ('W_ih', [3, 3, 3, 3]), ('W_h', [3, 3, 3, 3])))
        b = tf.get_variable('b', [3])
        a = recurrent.frame_conv(xp, w_i) + recurrent.frame_conv(hp, w_ih) + b
        return recurrent.crnn_sweep(a, w_h)

    fwd, fwd_rev = run_layer(one_way, x, h_iter)
    # a forward-only recurrence sees the past of each frame, so reversing time changes it
    assert np.abs(reverse_time(fwd_rev) - fwd).max() > 1e-2 * np.abs(fwd).max()
    out, out_rev = run_layer(lambda xp, hp: recurrent.bcrnn_layer(xp, hp, 3, 0), x, h_iter)
    # both directions, summed: the backward sweep is the forward one on reversed time
    np.testing.assert_allclose(out, fwd + reverse_time(fwd_rev), atol=1e-5 * np.abs(out).max())
    # so reversal commutes with the bidirectional layer
    np.testing.assert_allclose(reverse_time(out_rev), out, atol=1e-5 * np.abs(out).max())


def test_whole_model_is_time_reversal_equivariant():
    graph, feature, mask, pred = model_tf.build_inference_graph(crnn_cfg(nd=3, nc=3), N)
    f, m = sample(6)
    with graph.as_default(), tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        random_weights(graph, sess)
        out = sess.run(pred, {feature: f, mask: m})
        out_rev = sess.run(pred, {feature: reverse_time(f), mask: reverse_time(m)})
    np.testing.assert_allclose(reverse_time(out_rev), out, atol=1e-5 * np.abs(out).max())


def test_config_defaults_and_refusals():
    cfg = cfgmod.resolve_arch({'model': 'crnn'})
    assert (cfg['Dn'], cfg['Dc'], cfg['nf'], cfg['share_weights']) == (5, 10, 64, True)
    assert 'frame_dist' not in cfg and cfgmod.is_dynamic(cfg)
    assert cfgmod.adam_beta1(cfg) == 0.5 and cfgmod.adam_beta1({'model': 'dynamic'}) == 0.9
    assert cfgmod.model_name(cfg) == 'CRNN-MRI nd=5 nc=10'
    for given, flag in (({'frame_dist': [0, 1]}, '--frame_dist'),
                        ({'batch_norm': True}, '--batch_norm'),
                        ({'share_weights': False}, '--share_weights')):
        given['model'] = 'crnn'
        with pytest.raises(InputError, match=flag):
            cfgmod.resolve_arch(given)
    saved = dict(cfg, frames=8)
    with pytest.raises(InputError, match='--frame_dist'):  # also when resuming
        cfgmod.resolve_arch({'model': 'crnn', 'frame_dist': []}, saved)
    with pytest.raises(InputError, match='model'):
        cfgmod.resolve_arch({'model': 'dynamic'}, saved)


def test_crnn_refused_on_2d_data(tiny_data, tmp_path):
    r = run_script('train.py', '--data_train_dir', tiny_data[0], '--model', 'crnn',
                   '--save_ckpt_Dir', str(tmp_path / 'x'))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert r.stderr.startswith('error: --model crnn is for dynamic (N, T, H, W) data')


# ---- train -> test -> export on a tiny cine ----

FRAMES, SIZE = 6, 24
MODEL = ['--model', 'crnn', '--Dn', '3', '--Dc', '2', '--nf', '8']


@pytest.fixture(scope='module')
def cine(tmp_path_factory):
    d = str(tmp_path_factory.mktemp('crnn_cine'))
    r = run_script('make_h5data.py', '--synthetic', 12, '--frames', FRAMES, '--image_size',
                   SIZE, '--sample_n', 4, '--output_dir', d, '--split', 0.75)
    assert r.returncode == 0, r.stderr
    return d, [os.path.join(d, 'synthetic_cine_%s_acc4.hdf5' % p) for p in ('train', 'test')]


@pytest.fixture(scope='module')
def trained(cine):
    """CRNN nd=3 nc=2 nf=8 trained 5 epochs (9 sequences, batch 3: 15 steps), then frozen."""
    d, (train_h5, test_h5) = cine
    ck = os.path.join(d, 'ck')
    r = run_script('train.py', '--data_train_dir', train_h5, '--data_test_dir', test_h5,
                   '--batch_size', 3, '--num_epoch', 5, '--save_ckpt_Dir', ck,
                   '--learning_rate', 3e-3, *MODEL)
    assert r.returncode == 0, r.stderr
    pb = os.path.join(d, 'crnn.pb')
    _, freeze_out = quiet(ckpt_to_pb.main, ['--save_ckpt_Dir', ck, '--output', pb])
    return {'dir': d, 'test': test_h5, 'ck': ck, 'pb': pb, 'stdout': r.stdout,
            'freeze': freeze_out}


def test_training_raises_psnr_and_test_py_reports_frames(trained, tmp_path):
    assert ('model: preset paper, CRNN-MRI nd=3 nc=2 nf=8 dc=hard, shared weights'
            in trained['stdout'])
    assert 'beta1 0.5' in trained['stdout']
    val = [float(v) for v in re.findall(r'^\[val\] epoch=\d+ \S+ psnr_re=(\S+)',
                                        trained['stdout'], re.M)]
    assert len(val) == 5 and val[-1] > val[0] + 0.5, val
    cfg = json.load(open(os.path.join(trained['ck'], 'config.json')))
    assert cfg['model'] == 'crnn' and cfg['frames'] == FRAMES and 'frame_dist' not in cfg
    assert cfg['adam_beta1'] == 0.5
    out = str(tmp_path / 'res')
    s, text = quiet(test_script.main, ['--save_ckpt_Dir', trained['ck'], '--data_test_dir',
                                       trained['test'], '--plot', '--output_dir', out])
    assert s['psnr_re'] > s['psnr_in'] + 1.0
    assert len(s['per_frame']) == FRAMES
    assert np.isclose(np.mean([f['psnr_re'] for f in s['per_frame']]), s['psnr_re'])
    assert 'CRNN-MRI nd=3 nc=2 nf=8, dynamic' in text and 'frame   5: PSNR IN' in text
    for name in ('panel_00000.png', 'metrics_frames.csv'):
        assert os.path.getsize(os.path.join(out, name)) > 0


def test_frozen_crnn_equals_checkpoint_and_has_no_loops(trained):
    graph_def = export.load_pb(trained['pb'])
    graph = export.import_graph(graph_def)
    assert export.inputs(graph) == [('feature', 'float32', (1, FRAMES, SIZE, SIZE, 2)),
                                    ('mask', 'float32', (1, FRAMES, SIZE, SIZE))]
    assert export.outputs(graph) == [('predTst', 'float32', (1, FRAMES, SIZE, SIZE, 2))]
    ops = dict(export.op_counts(graph_def))
    assert not set(ops) & {'While', 'Enter', 'Exit', 'NextIteration', 'LoopCond', 'Conv3D'}
    # per iteration: W_i, W_ih (not in iteration 1), FRAMES - 1 W_h per direction, W_x, W_h
    # of the CRNN-i layer (W_h not in iteration 1), the output conv
    assert ops['Conv2D'] == (1 + 2 * (FRAMES - 1) + 1 + 1) + (2 + 2 * (FRAMES - 1) + 2 + 1)
    assert export.atc_flags(graph_def)[0] == []
    assert 'CRNN-MRI nd=3 nc=2 nf=8' in trained['freeze']
    batch = pre_input.Batches(pre_input.H5Data(trained['test']), 3, shuffle=False).batch(0, 0)
    want = checkpoint_predictions(trained['ck'], batch['feature'], batch['mask'])
    runner = export.PbRunner(graph_def)
    got = np.concatenate([runner.run([batch['feature'][j:j + 1], batch['mask'][j:j + 1]])[0]
                          for j in range(3)])
    runner.close()
    assert got.shape == want.shape == (3, FRAMES, SIZE, SIZE, 2)
    assert np.max(np.abs(got - want)) < 1e-5
    assert np.max(np.abs(got - batch['feature'])) > 1e-3


def test_bin_chain_gives_test_py_metrics(trained):
    d = trained['dir']
    bdir, out = os.path.join(d, 'bins'), os.path.join(d, 'cpu_out')
    quiet(image_to_bin.main, ['--data_test_dir', trained['test'], '--output_dir', bdir])
    n, _ = quiet(msame_cpu.main, ['--model', trained['pb'], '--input',
                                  '%s/feature,%s/mask' % (bdir, bdir), '--output', out])
    assert n == 3
    om, _ = quiet(om_precision.main, ['--label_dir', os.path.join(bdir, 'label'),
                                      '--output_dir', out])
    ref, _ = quiet(test_script.main, ['--save_ckpt_Dir', trained['ck'], '--data_test_dir',
                                      trained['test'], '--output_dir', os.path.join(d, 'r')])
    assert om['images'] == ref['images'] == 3
    for key in ('psnr_in', 'psnr_re'):
        assert abs(om[key] - ref[key]) < 1e-3, key


def losses(text):
    return dict((int(m.group(1)), float(m.group(2)))
                for m in re.finditer(r'^\[step\] step=(\d+) epoch=\d+ loss=(\S+)', text, re.M))


def test_resume_matches_uninterrupted_run(cine, tmp_path):
    train_h5 = cine[1][0]

    def args(ckpt, steps, *extra):
        return ['--data_train_dir', train_h5, '--save_ckpt_Dir', ckpt, '--batch_size', '2',
                '--num_epoch', '100', '--train_steps', str(steps), '--log_every', '1',
                '--mask_mode', 'random', '--sample_n', '4', '--random_seed', '3'] + MODEL + \
            list(extra)

    ref = run_script('train.py', *args(str(tmp_path / 'ref'), 6))
    assert ref.returncode == 0, ref.stderr
    ref_losses = losses(ref.stdout)
    assert sorted(ref_losses) == list(range(1, 7))
    ckpt = str(tmp_path / 'run')
    first = run_script('train.py', *args(ckpt, 3))
    assert first.returncode == 0, first.stderr
    # resumed without --model: the saved crnn, not the data's default dynamic cascade
    again = [a for a in args(ckpt, 6, '--continue_training') if a not in ('--model', 'crnn')]
    resumed = run_script('train.py', *again)
    assert resumed.returncode == 0, resumed.stderr
    assert 'CRNN-MRI nd=3 nc=2' in resumed.stdout and 'beta1 0.5' in resumed.stdout
    after = losses(resumed.stdout)
    assert sorted(after) == [4, 5, 6]
    for step, value in list(losses(first.stdout).items()) + list(after.items()):
        assert value == pytest.approx(ref_losses[step], rel=1e-4, abs=1e-7), step
    r = run_script('train.py', *args(ckpt, 8, '--continue_training', '--frame_dist', '1'))
    assert r.returncode == 2 and '--frame_dist' in r.stderr, r.stderr


def test_full_launcher_trains_crnn(cine, tmp_path):
    """The ModelZoo launcher on a dynamic dataset, CRNN chosen through CASCADENET_TRAIN_ARGS."""
    import subprocess
    from conftest import ROOT
    env = dict(os.environ, CASCADENET_OUTPUT_ROOT=str(tmp_path / 'out'), ASCEND_DEVICE_ID='0',
               CASCADENET_TRAIN_ARGS=' '.join(MODEL))
    r = subprocess.run(['bash', os.path.join(ROOT, 'test', 'train_full_1p.sh'),
                        '--data_path=%s' % cine[0], '--train_epochs=1', '--batch_size=3'],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                       universal_newlines=True, timeout=600)
    assert r.returncode == 0, r.stdout
    train_log = open(str(tmp_path / 'out' / '0' / 'train_0.log')).read()
    assert 'model: preset paper, CRNN-MRI nd=3 nc=2 nf=8' in train_log
    report = dict(l.split(' = ', 1) for l in open(str(
        tmp_path / 'out' / '0' / 'CascadeNet_ID2121_for_TensorFlow_bs3_1p_acc.log')).read()
        .splitlines())
    assert float(report['ActualFPS']) > 0 and np.isfinite(float(report['TrainAccuracy']))


def test_npu_mixed_precision_path_with_stub(cine, tmp_path, monkeypatch):
    """train.py --model crnn through the NPU path (the stand-in npu_bridge): the loss-scale
    optimizer wraps Adam over CRNN's variables and the steps run."""
    from conftest import ROOT
    log = tmp_path / 'npu.jsonl'
    monkeypatch.setenv('PYTHONPATH', os.path.join(ROOT, 'tests', 'stubs'))
    monkeypatch.setenv('NPU_STUB_LOG', str(log))
    r = run_script('train.py', '--data_train_dir', cine[1][0], '--batch_size', 3,
                   '--train_steps', 2, '--log_every', 1, '--precision_mode', 'allow_mix_precision',
                   '--save_ckpt_Dir', tmp_path / 'ck', *MODEL)
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'Ascend NPU, precision_mode allow_mix_precision' in r.stdout
    assert '[done] steps=2 ' in r.stdout
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [w['inner'] for w in records if w['event'] == 'loss_scale_optimizer'] == \
        ['AdamOptimizer']
