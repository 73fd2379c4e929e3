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
"""--preset port (models/nets/port.py, models/losses.py) against the Ascend port's definition
(CascadeNet_ID2121_for_TensorFlow: models/model_tf.py, train.py), written out again here with
NumPy and plain TF ops: variable names and parameter count, a checkpoint saved under the
port's names restored and frozen here, and one training step's loss and batch-norm updates."""
import json
import os

import h5py
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import ckpt_to_pb
import test as test_script
from conftest import ROOT, TINY_MODEL, run_script
from models import config as cfgmod
from models import export, losses, masks, metrics, model_tf, presets
from models.errors import InputError
from models.pre_input import to_two_channel, undersample

tf.disable_v2_behavior()

STUBS = os.path.join(ROOT, 'tests', 'stubs')
EPS = 1e-3        # the port's batch norm: the TF 1 layers API's default epsilon
MOMENTUM = 0.99   # ... and its default momentum


def port_cfg(dn, dc, nf, size):
    cfg = cfgmod.resolve_arch({'preset': 'port', 'Dn': dn, 'Dc': dc, 'nf': nf})
    cfg.update(dict((k, presets.PRESETS['port'][k]) for k in presets.FIXED_KEYS))
    cfg.update({'image_size': [size, size], 'random_seed': 0})
    return cfg


def port_variables(dn, nf):
    """(name, shape) of every variable of the port's D{dn} network, in its creation order."""
    out = []
    for l in range(1, dn + 1):
        c_in, c_out = (2 if l == 1 else nf), (2 if l == dn else nf)
        out.append(('Wts/Layer%d/w' % l, (3, 3, c_in, c_out)))
        out += [('Wts/Layer%d/BN/%s' % (l, v), (c_out,))
                for v in ('gamma', 'beta', 'moving_mean', 'moving_variance')]
    return out + [('Wts/lam1', ())]


def random_weights(dn, nf, seed):
    """Values for every port variable: kernels ~ N(0, 1/fan_in), batch-norm parameters and
    statistics away from their initial values, lambda 0.7."""
    rng = np.random.default_rng(seed)
    w = {}
    for name, shape in port_variables(dn, nf):
        leaf = name.split('/')[-1]
        if leaf == 'w':
            w[name] = rng.standard_normal(shape) / np.sqrt(9 * shape[2])
        elif leaf in ('gamma', 'moving_variance'):
            w[name] = rng.uniform(0.5, 1.5, shape)
        elif leaf in ('beta', 'moving_mean'):
            w[name] = 0.1 * rng.standard_normal(shape)
        else:
            w[name] = np.float64(0.7)
    return dict((k, np.asarray(v, np.float32)) for k, v in w.items())


def np_conv(x, w):
    """3x3 'SAME' cross-correlation, NHWC x (N, H, W, C), w (3, 3, C, O)."""
    h, wd = x.shape[1:3]
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    return sum(np.einsum('nhwc,co->nhwo', xp[:, dy:dy + h, dx:dx + wd], w[dy, dx])
               for dy in range(3) for dx in range(3))


def np_port_forward(feature, mask, wts, dn, dc, train):
    """The port's makeModel in float64 NumPy: per cascade x + CNN(x) (conv, batch norm, ReLU
    but after the last), then k (1 - a m) + a k0 m, a = lam / (0.5 + lam), k0 = fft2(feature).
    train: batch statistics (biased variance), else the moving averages. Returns the output
    and, per layer, the list of (batch mean, Bessel-corrected batch variance) per cascade."""
    f = feature.astype(np.float64)
    k0 = np.fft.fft2(f[..., 0] + 1j * f[..., 1])
    lam = float(wts['Wts/lam1'])
    a = lam / (0.5 + lam)
    stats = [[] for _ in range(dn)]
    x = f
    for _ in range(dc):
        h = x
        for l in range(dn):
            p = 'Wts/Layer%d/' % (l + 1)
            h = np_conv(h, wts[p + 'w'].astype(np.float64))
            if train:
                mean, var = h.mean(axis=(0, 1, 2)), h.var(axis=(0, 1, 2))
                n = h.size // h.shape[-1]
                stats[l].append((mean, var * n / (n - 1)))
            else:
                mean, var = wts[p + 'BN/moving_mean'], wts[p + 'BN/moving_variance']
            h = (h - mean) / np.sqrt(var + EPS) * wts[p + 'BN/gamma'] + wts[p + 'BN/beta']
            if l < dn - 1:
                h = np.maximum(h, 0)
        x = x + h
        k = np.fft.fft2(x[..., 0] + 1j * x[..., 1])
        z = np.fft.ifft2(k * (1 - a * mask) + a * k0 * mask)
        x = np.stack([z.real, z.imag], axis=-1)
    return x, stats


def np_port_loss(pred, label, wts, dn, dc):
    """2 x MSE + dc x sum over layers of 0.5e-7 ||W_l||: what tf.add_n of the port's 'losses'
    collection holds."""
    reg = sum(0.5e-7 * np.sqrt(np.sum(wts['Wts/Layer%d/w' % l].astype(np.float64) ** 2))
              for l in range(1, dn + 1))
    return 2 * np.mean((pred - label) ** 2) + dc * reg


def inputs(n, size, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    label = scale * (rng.standard_normal((n, size, size)) +
                     1j * rng.standard_normal((n, size, size)))
    mask = masks.cartesian_mask((n, size, size), 4, 4, seed=seed)
    return label, mask, to_two_channel(undersample(label, mask))


def test_variables_and_parameter_count_are_the_ports():
    """D11-C5 nf=64, the port's default: the port's 56 variables with its names and shapes,
    335,365 trainable parameters (conv kernels without bias, gamma/beta of 11 batch norms,
    one lambda), shared by every cascade; the training copy adds no variable."""
    cfg = port_cfg(11, 5, 64, 32)
    graph, _, _, _ = model_tf.build_inference_graph(cfg)
    with graph.as_default():
        got = [(v.op.name, tuple(v.shape.as_list())) for v in model_tf.model_variables(graph)]
        trainable = sum(int(np.prod(v.shape.as_list())) for v in tf.trainable_variables())
        n_vars = len(tf.global_variables())
        f = tf.placeholder(tf.float32, [2, 32, 32, 2])
        m = tf.placeholder(tf.float32, [2, 32, 32])
        model_tf.model_from_config(f, m, True, cfg)
        assert len(tf.global_variables()) == n_vars
        # one moving-average assignment per moving variable, all cascades folded in
        assert len(tf.get_collection(tf.GraphKeys.UPDATE_OPS)) == 2 * 11
    assert got == port_variables(11, 64)
    assert trainable == 335365


def write_port_checkpoint(folder, wts):
    """What the port's train.py leaves: model-5.{index,data} holding its variables (and a
    global_step), and a `checkpoint` file naming the absolute path it saved to on its own
    machine. Written with plain tf.Variable, independent of models/nets/port.py."""
    os.makedirs(folder)
    graph = tf.Graph()
    with graph.as_default():
        vs = [tf.Variable(v, name=k) for k, v in sorted(wts.items())]
        vs.append(tf.Variable(5, dtype=tf.int32, name='global_step'))
        saver = tf.train.Saver(vs)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            saver.save(sess, os.path.join(folder, 'model-5'), write_meta_graph=False)
    with open(os.path.join(folder, 'checkpoint'), 'w') as f:
        f.write('model_checkpoint_path: "/cache/saveModels/D3-C2-01-12/model-5"\n'
                'all_model_checkpoint_paths: "/cache/saveModels/D3-C2-01-12/model-5"\n')


def test_port_checkpoint_restores_and_freezes(tmp_path, capsys):
    """A checkpoint in the port's names restores into the --preset port inference graph, and
    ckpt_to_pb.py freezes it (a folder without config.json, whose `checkpoint` file names
    another machine's path); both compute the NumPy forward pass of the port's formulas. So
    does test.py on a port-layout file: its RE PSNR is the NumPy reconstruction's."""
    dn, dc, nf, size = 3, 2, 8, 16
    wts = random_weights(dn, nf, seed=1)
    folder = str(tmp_path / 'port_ckpt')
    write_port_checkpoint(folder, wts)
    label, mask, feature = inputs(2, size, seed=2)
    expected, _ = np_port_forward(feature, mask, wts, dn, dc, train=False)

    graph, f_t, m_t, pred = model_tf.build_inference_graph(port_cfg(dn, dc, nf, size))
    with graph.as_default(), tf.Session() as sess:
        tf.train.Saver(model_tf.model_variables(graph)).restore(
            sess, os.path.join(folder, 'model-5'))
        got = sess.run(pred, {f_t: feature, m_t: mask})
    assert np.abs(got - expected).max() < 1e-4
    assert np.abs(expected - feature).max() > 0.1  # the network changes its input

    pb = str(tmp_path / 'port.pb')
    ckpt_to_pb.main(['--save_ckpt_Dir', folder, '--preset', 'port', '--Dn', str(dn), '--Dc',
                     str(dc), '--nf', str(nf), '--image_size', str(size), '--batch', '2',
                     '--output', pb])
    printed = capsys.readouterr().out
    assert 'has no config.json' in printed and 'does not exist; using' in printed
    runner = export.PbRunner(export.load_pb(pb))
    assert [t.name for t in runner.outputs] == ['predTst']
    frozen = runner.run([feature, mask])[0]
    runner.close()
    assert np.abs(frozen - expected).max() < 1e-4

    # test.py on the port's data layout: uint8 labels used as stored, float64 masks
    img = np.round(np.abs(label) / np.abs(label).max() * 255).astype(np.uint8)
    data = str(tmp_path / 'chest_test_acc4.hdf5')
    with h5py.File(data, 'w') as h:
        h['label'] = img
        h['mask'] = mask.astype(np.float64)
    s = test_script.main(['--save_ckpt_Dir', folder, '--preset', 'port', '--Dn', str(dn),
                          '--Dc', str(dc), '--nf', str(nf), '--data_test_dir', data,
                          '--output_dir', str(tmp_path / 'res')])
    x = img.astype(np.float64)
    rec, _ = np_port_forward(to_two_channel(undersample(x, mask)), mask, wts, dn, dc, False)
    want = np.mean([metrics.psnr(x[i], rec[i, ..., 0] + 1j * rec[i, ..., 1])
                    for i in range(len(x))])
    assert s['psnr_re'] == pytest.approx(want, abs=1e-3)


def test_training_step_loss_and_batch_norm_updates():
    """The training graph's loss equals the port's loss computed by NumPy and by the port's own
    TF recipe (regularisers and tf.losses.mean_squared_error in the 'losses' collection, MSE
    added a second time, tf.add_n); one run of UPDATE_OPS moves each shared moving average
    once per cascade with momentum 0.99, in cascade order."""
    dn, dc, nf, size = 3, 2, 8, 16
    cfg = port_cfg(dn, dc, nf, size)
    wts = random_weights(dn, nf, seed=3)
    for k in wts:  # batch norm undoes the kernels' scale; the regulariser grows with it
        if k.endswith('/w'):
            wts[k] = wts[k] * np.float32(3e6)
    label, mask, feature = inputs(3, size, seed=4)
    label2 = to_two_channel(label)
    graph = tf.Graph()
    with graph.as_default():
        f = tf.placeholder(tf.float32, [3, size, size, 2])
        y = tf.placeholder(tf.float32, [3, size, size, 2])
        m = tf.placeholder(tf.float32, [3, size, size])
        pred = model_tf.model_from_config(f, m, True, cfg)['dc%d' % dc]
        loss = losses.training_loss(pred, y, cfg)
        kernels = [v for v in tf.global_variables() if v.op.name.endswith('/w')]
        for _ in range(dc):   # the port: every cascade's layer call adds its regulariser
            for w in kernels:
                tf.add_to_collection('losses', ((tf.nn.l2_loss(w) * 2) ** 0.5) * 0.5 * 1e-7)
        mse = tf.losses.mean_squared_error(pred, y)   # adds itself to 'losses' ...
        tf.add_to_collection('losses', mse)            # ... and the port adds it again
        port_total = tf.add_n(tf.get_collection('losses'))
        assigns = [v.assign(wts[v.op.name]) for v in tf.global_variables()]
        updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
        means = dict((v.op.name, v) for v in tf.global_variables()
                     if v.op.name.endswith(('moving_mean', 'moving_variance')))
        with tf.Session() as sess:
            sess.run(assigns)
            feed = {f: feature, y: label2, m: mask}
            got, ref = sess.run([loss, port_total], feed)
            sess.run(updates, feed)
            moved = sess.run(means)
    out, stats = np_port_forward(feature, mask, wts, dn, dc, train=True)
    want = np_port_loss(out, label2, wts, dn, dc)
    assert got == pytest.approx(ref, rel=1e-6)
    assert got == pytest.approx(want, rel=1e-5)
    mse = np.mean((out - label2) ** 2)
    assert 0.2 < (want - 2 * mse) / want < 0.8  # both terms count in the comparison
    for l in range(dn):
        p = 'Wts/Layer%d/BN/' % (l + 1)
        mean, var = wts[p + 'moving_mean'].astype(np.float64), wts[p + 'moving_variance']
        for b_mean, b_var in stats[l]:
            mean = mean - (1 - MOMENTUM) * (mean - b_mean)
            var = var - (1 - MOMENTUM) * (var - b_var)
        np.testing.assert_allclose(moved[p + 'moving_mean'], mean, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(moved[p + 'moving_variance'], var, rtol=1e-4)


def test_port_preset_npu_loss_scaling(tiny_data, tmp_path, monkeypatch):
    """On Ascend (the stand-in npu_bridge), --preset port trains with SGD under the port's
    loss scaling: ExponentialUpdateLossScaleManager(2**32, incr_every_n_steps=100, ...)."""
    log = tmp_path / 'npu_stub.jsonl'
    monkeypatch.setenv('PYTHONPATH', STUBS)
    monkeypatch.setenv('NPU_STUB_LOG', str(log))
    r = run_script('train.py', '--data_train_dir', tiny_data[0], '--preset', 'port',
                   '--batch_size', '4', '--train_steps', '1', '--save_ckpt_Dir',
                   tmp_path / 'ckpt', *TINY_MODEL)
    assert r.returncode == 0, r.stderr[-2000:]
    records = [json.loads(line) for line in log.read_text().splitlines()]
    manager = [x for x in records if x['event'] == 'loss_scale_manager']
    assert [(m['init_loss_scale'], m['incr_every_n_steps'], m['decr_every_n_nan_or_inf'],
             m['decr_ratio']) for m in manager] == [(2 ** 32, 100, 2, 0.5)]
    assert [x['inner'] for x in records if x['event'] == 'loss_scale_optimizer'] == [
        'GradientDescentOptimizer']


def test_preset_flags(tmp_path):
    """--preset port fixes the network's form; its size may change; the paper stays the
    default; a config.json written before presets reads as the paper preset."""
    assert cfgmod.resolve_arch({})['preset'] == 'paper'
    assert cfgmod.resolve_arch({})['net'] == 'cascade'
    cfg = cfgmod.resolve_arch({'preset': 'port', 'Dn': 4, 'nf': 16, 'batch_norm': True})
    assert (cfg['net'], cfg['Dn'], cfg['Dc'], cfg['nf'], cfg['dc_mode']) == ('port', 4, 5, 16,
                                                                              'port')
    for bad in ({'dc_mode': 'hard'}, {'share_weights': False}, {'batch_norm': False}):
        with pytest.raises(InputError, match='not with --preset port'):
            cfgmod.resolve_arch(dict(bad, preset='port'))
    with pytest.raises(InputError, match='2-D network'):
        cfgmod.resolve_arch({'preset': 'port', 'model': 'dynamic'})
    saved = dict(cfg, image_size=[8, 8])
    with pytest.raises(InputError, match="preset='paper'"):
        cfgmod.resolve_arch({'preset': 'paper'}, saved)
    old = {'model': 'static', 'Dn': 5, 'Dc': 5, 'nf': 64, 'dc_mode': 'hard',
           'batch_norm': False, 'share_weights': False, 'image_size': [64, 64]}
    cfgmod.save(str(tmp_path), old)
    loaded = cfgmod.load(str(tmp_path))
    assert dict((k, getattr(loaded, k)) for k in ('preset', 'net', 'loss', 'label_scale')) == {
        'preset': 'paper', 'net': 'cascade', 'loss': 'mse', 'label_scale': 'image_max'}
