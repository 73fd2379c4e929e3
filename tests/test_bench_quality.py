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
"""bench/quality.py, the step-for-step comparison with the PyTorch peers (docs/quality.md): its
Adam in both epsilon placements against NumPy, the peers' default initialisation, weights loaded
from an .npz, and a tiny end-to-end run whose zero-filled PSNR is recomputed by hand."""
import os
import re
import sys

import h5py
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from conftest import ROOT, expect_exit2, given_flags, quiet

tf.disable_v2_behavior()
sys.path.insert(0, os.path.join(ROOT, 'bench'))
import quality  # noqa: E402

B1, B2, EPS, LR = 0.9, 0.999, 1e-8, 1e-3
# Gradients from the output conv's bias (~1e-9, the DC removes what it adds) to a kernel's.
GRADS = np.array([1e-9, 3e-8, 3e-7, 1e-6, 1e-4, -1e-2], np.float64)


def numpy_adam(g, steps, torch_eps):
    """w after `steps` Adam updates on the constant gradient g from w = 0. PyTorch:
    lr m_hat / (sqrt(v_hat) + eps); TensorFlow and lasagne: lr sqrt(1-b2^t)/(1-b1^t) m /
    (sqrt(v) + eps), eps on the uncorrected sqrt(v)."""
    w, m, v = np.zeros_like(g), np.zeros_like(g), np.zeros_like(g)
    for t in range(1, steps + 1):
        m = B1 * m + (1 - B1) * g
        v = B2 * v + (1 - B2) * g * g
        if torch_eps:
            w = w - LR * (m / (1 - B1 ** t)) / (np.sqrt(v / (1 - B2 ** t)) + EPS)
        else:
            w = w - LR * np.sqrt(1 - B2 ** t) / (1 - B1 ** t) * m / (np.sqrt(v) + EPS)
    return w


def graph_adam(steps, torch_eps):
    g = tf.Graph()
    with g.as_default():
        w = tf.get_variable('w', [len(GRADS)], initializer=tf.zeros_initializer())
        loss = tf.reduce_sum(w * tf.constant(GRADS, tf.float32))  # dloss/dw = GRADS
        step = tf.train.get_or_create_global_step()
        op = quality.adam(tf, LR, B1, torch_eps, step).minimize(loss, global_step=step)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(steps):
                sess.run(op)
            return sess.run(w)


@pytest.mark.parametrize('torch_eps', [False, True])
def test_adam_matches_numpy_in_both_placements(torch_eps):
    for steps in (1, 5):
        np.testing.assert_allclose(graph_adam(steps, torch_eps),
                                   numpy_adam(GRADS, steps, torch_eps), rtol=2e-4, atol=1e-12)


def test_the_placements_differ_where_the_gradient_is_small():
    """At t = 1 TensorFlow's epsilon is worth eps / sqrt(1 - b2) = 3.2e-7 on the corrected
    scale: a gradient of 3e-7 moves half as far as in PyTorch; large gradients move alike."""
    tf_w, torch_w = graph_adam(1, False), graph_adam(1, True)
    ratio = tf_w / torch_w
    assert 0.4 < ratio[2] < 0.6
    assert ratio[0] < 0.05
    assert 0.99 < ratio[4] < 0.999
    np.testing.assert_allclose(ratio[5], 1.0, rtol=1e-4)


def _dynamic_variables():
    """A D3-C2 nf=8 3D cascade with data sharing; returns (graph, session)."""
    from models import model_tf
    g = tf.Graph()
    with g.as_default():
        cfg = {'model': 'dynamic', 'net': 'cascade', 'Dn': 3, 'Dc': 2, 'nf': 8,
               'dc_mode': 'hard', 'batch_norm': False, 'share_weights': False,
               'frame_dist': [0, 1], 'random_seed': 0, 'init': 'ref'}
        model_tf.model_from_config(tf.zeros([1, 4, 8, 8, 2]), tf.ones([1, 4, 8, 8]), True, cfg)
        sess = tf.Session(graph=g)
        sess.run(tf.global_variables_initializer())
    return g, sess


def test_peer_initialise_is_pytorchs_default():
    g, sess = _dynamic_variables()
    with g.as_default():
        quality.peer_initialise(tf, sess, seed=0)
        values = {v.name: sess.run(v) for v in tf.trainable_variables()}
    kernels = [n for n in values if n.endswith('/W:0')]
    assert len(kernels) == 6
    for name in kernels:
        w, b = values[name], values[name[:-len('W:0')] + 'b:0']
        bound = 1.0 / np.sqrt(np.prod(w.shape[:-1]))
        assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
        assert np.all(b != 0)
        if w.size > 1000:
            np.testing.assert_allclose(w.std(), bound / np.sqrt(3), rtol=0.05)


def test_load_weights_sets_every_variable(tmp_path):
    g, sess = _dynamic_variables()
    with g.as_default():
        rng = np.random.default_rng(1)
        arrays = dict((v.name[:-2], rng.normal(size=v.shape.as_list()).astype(np.float32))
                      for v in tf.trainable_variables())
        path = str(tmp_path / 'w.npz')
        np.savez(path, **arrays)
        quality.load_weights(tf, sess, path)
        for v in tf.trainable_variables():
            np.testing.assert_array_equal(sess.run(v), arrays[v.name[:-2]])
        del arrays['cascade_net/cnn2/conv3/b']
        np.savez(path, **arrays)
        with pytest.raises(quality.InputError, match='no array cascade_net/cnn2/conv3/b'):
            quality.load_weights(tf, sess, path)


def _hand_psnr_in(test_path):
    """Mean over test images of 20 log10((max-min) / rmse) of |zero-filled| against |label|,
    with the orthonormal FFT (NumPy, independent of models.metrics)."""
    with h5py.File(test_path, 'r') as f:
        gt, mask = f['label'][()].astype(np.complex64), f['mask'][()].astype(np.float32)
    zf = np.fft.ifft2(np.fft.fft2(gt, norm='ortho') * mask, norm='ortho')
    vals = []
    for x, y in zip(np.abs(gt), np.abs(zf)):
        vals.append(20 * np.log10((x.max() - x.min()) / np.sqrt(np.mean((x - y) ** 2))))
    return float(np.mean(vals))


def test_tiny_run_end_to_end(tiny_data):
    train, test = tiny_data
    args = [train, test, '--model', 'static', '--Dn', '3', '--Dc', '2', '--nf', '4',
            '--batch', '2', '--steps', '3', '--seed', '0', '--init', 'ref', '--threads', '1']
    rc, out = quiet(quality.main, args + ['--torch_adam', '--loss_scale', '2'])
    last = out.strip().splitlines()[-1]
    m = re.match(r'quality model=static init=ref torch_adam loss_scale=2 seed=0 '
                 r'psnr_in=([0-9.]+) psnr_re=([0-9.]+) seconds=\d+$', last)
    assert m, last
    assert abs(float(m.group(1)) - _hand_psnr_in(test)) < 1e-3


def test_bad_inputs_are_one_line(capsys, tiny_data, tmp_path):
    train, test = tiny_data
    args = ['--model', 'static', '--Dn', '3', '--Dc', '1', '--nf', '4', '--steps', '1']
    expect_exit2(capsys, quality.main, [str(tmp_path / 'none.h5'), test] + args, 'none.h5')
    expect_exit2(capsys, quality.main, [train, test, '--model', 'dynamic'],
                 'does not suit --model dynamic')
    expect_exit2(capsys, quality.main, [train, test, '--init_npz', str(tmp_path / 'no.npz')]
                 + args, 'no.npz')
    (tmp_path / 'text.npz').write_text('not an npz')
    expect_exit2(capsys, quality.main, [train, test, '--init_npz', str(tmp_path / 'text.npz')]
                 + args, 'text.npz')
    np.savez(str(tmp_path / 'empty.npz'), x=np.zeros(1))
    expect_exit2(capsys, quality.main, [train, test, '--init_npz', str(tmp_path / 'empty.npz')]
                 + args, 'no array cascade_net/cnn1/conv1/W')


def _train_resolved_init(model, frame_dist):
    """The init train.py's configuration resolution gives a new run (no flag, nothing saved)."""
    from models import config as cfgmod
    given = given_flags(model=model, frame_dist=frame_dist if model == 'dynamic' else None)
    return cfgmod.resolve(given, None, {}).init


@pytest.mark.parametrize('model,dist', [('static', []), ('dynamic', []), ('dynamic', [0, 1, 2]),
                                        ('crnn', [])])
def test_init_default_is_train_pys(model, dist):
    # Without --init the bench measures the start train.py ships for the same model (the
    # DS cascade 'uniform', the others 'ref'), not the 'he' of runs saved before --init.
    argv = ['tr.h5', 'te.h5', '--model', model, '--frame_dist'] + [str(d) for d in dist]
    a = quality.parse(argv)
    assert a.init == _train_resolved_init(model, dist)
    assert a.init == ('uniform' if dist else 'ref')
    assert quality.parse(argv + ['--init', 'he']).init == 'he'
