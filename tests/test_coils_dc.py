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
"""Multi-coil data consistency and data sharing (models/nets/layers.py) against a numpy
reference; C = 1 with S = 1 equals the single-coil graph; the reference image is a fixed point
of DC; gradients reach every input and variable; single-coil graphs are unchanged; the
multi-coil inference graph's inputs; the port's network refuses coils."""
import hashlib

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from models import bins, masks, model_tf
from models.data import coils
from models.errors import InputError
from models.nets import cascade, crnn, layers
from models.pre_input import to_two_channel, to_complex

tf.disable_v2_behavior()

N, T, C, H, W = 2, 4, 3, 12, 10


def rand_complex(rng, shape):
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64)


def dc_numpy(x, k0, mask, maps, lam=None):
    """Multi-coil DC from its definition: k_c = fft2(S_c x), blend the sampled points,
    x = sum_c conj(S_c) ifft2(k_c)."""
    k = coils.sense_forward(x, maps)
    m = mask[..., None, :, :]
    k_dc = (1 - m) * k + m * (k0 if lam is None else (k + lam * k0) / (1 + lam))
    return coils.sense_adjoint(k_dc, maps)


def ds_numpy(x, mask, frame_dist, divide_by_n, maps, k0):
    """Per-coil data sharing from its definition (frames (t + s) mod T, s = -d..d); the first
    cascade shares the acquired k0."""
    k = coils.sense_forward(x, maps) if divide_by_n else k0
    m = mask[:, :, None]
    out = [x]
    for d in frame_dist:
        ksum = sum(np.roll(k, s, axis=1) for s in range(-d, d + 1))
        msum = sum(np.roll(m, s, axis=1) for s in range(-d, d + 1))
        avg = ksum / np.maximum(msum, 2 * d + 1 if divide_by_n else 1)
        out.append(coils.sense_adjoint(avg * (1 - m) + k * m, maps))
    return out


def problem(shape, c=C, seed=0):
    """x (shape) complex, maps (shape[:-2], c, H, W), mask (shape), acquired k0."""
    rng = np.random.default_rng(seed)
    x = rand_complex(rng, shape)
    maps = coils.normalise_maps(rand_complex(rng, shape[:-2] + (c,) + shape[-2:]))
    mask = masks.cartesian_mask(shape, 4, 2, seed=seed)
    k0 = coils.sense_forward(rand_complex(rng, shape), maps, mask)
    return x, maps, mask, k0


def run(fetches, graph, feed=None):
    with tf.Session(graph=graph) as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed)


@pytest.mark.parametrize('lam', [None, 3.0])
def test_multicoil_dc_matches_numpy(lam):
    x, maps, mask, k0 = problem((N, H, W))
    g = tf.Graph()
    with g.as_default():
        out = layers.data_consistency(tf.constant(to_two_channel(x)), tf.constant(k0),
                                      tf.constant(mask), None if lam is None else tf.constant(lam),
                                      maps=tf.constant(maps))
    got = to_complex(run(out, g))
    want = dc_numpy(x, k0, mask, maps, lam)
    np.testing.assert_allclose(got, want, atol=1e-5)
    # and the per-coil k-space of the result's coil images keeps the acquired samples
    if lam is None:
        k = coils.sense_forward(want, maps)
        assert not np.allclose((k * mask[:, None])[:, :, mask[0] == 1], 0)


@pytest.mark.parametrize('lam', [None, 3.0])
def test_one_coil_of_ones_is_the_single_coil_layer(lam):
    x, _, mask, _ = problem((N, H, W), c=1)
    k0 = (np.fft.fft2(rand_complex(np.random.default_rng(5), (N, H, W)), norm='ortho')
          * mask).astype(np.complex64)
    g = tf.Graph()
    with g.as_default():
        xt, m = tf.constant(to_two_channel(x)), tf.constant(mask)
        lam_t = None if lam is None else tf.constant(lam)
        single = layers.data_consistency(xt, tf.constant(k0), m, lam_t)
        multi = layers.data_consistency(xt, tf.constant(k0[:, None]), m, lam_t,
                                        maps=tf.ones([N, 1, H, W], tf.complex64))
    a, b = run([single, multi], g)
    np.testing.assert_allclose(b, a, atol=1e-6)


@pytest.mark.parametrize('lam', [None, 2.0])
def test_reference_image_is_a_fixed_point(lam):
    """Noiseless k-space of the reference through maps normalised on the object (zero
    outside it, as ESPIRiT's): DC returns the reference whatever the mask."""
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[:H, :W]
    support = ((yy - H / 2.0) / (0.4 * H)) ** 2 + ((xx - W / 2.0) / (0.4 * W)) ** 2 < 1
    ref = rand_complex(rng, (N, H, W)) * support
    maps = coils.birdcage_maps((H, W), C, seed=1) * support
    mask = masks.cartesian_mask((N, H, W), 4, 2, seed=2)
    k0 = coils.sense_forward(ref, maps, mask)
    np.testing.assert_allclose(dc_numpy(ref, k0, mask, maps, lam), ref, atol=1e-5)
    g = tf.Graph()
    with g.as_default():
        out = layers.data_consistency(tf.constant(to_two_channel(ref)), tf.constant(k0),
                                      tf.constant(mask), None if lam is None else tf.constant(lam),
                                      maps=tf.constant(np.broadcast_to(maps, (N, C, H, W))))
    np.testing.assert_allclose(to_complex(run(out, g)), ref, atol=1e-5)


def test_gradients_reach_the_inputs():
    x, maps, mask, k0 = problem((N, H, W))
    g = tf.Graph()
    with g.as_default():
        xt = tf.constant(to_two_channel(x))
        kt = tf.constant(to_two_channel(k0))
        st = tf.constant(to_two_channel(maps))
        out = layers.data_consistency(xt, layers.r2c(kt), tf.constant(mask), tf.constant(2.0),
                                      maps=layers.r2c(st))
        grads = tf.gradients(tf.reduce_sum(tf.square(out)), [xt, kt, st])
    for gr in run(grads, g):
        assert np.isfinite(gr).all() and np.abs(gr).max() > 1e-4


@pytest.mark.parametrize('divide_by_n', [False, True])
def test_multicoil_data_sharing_matches_numpy(divide_by_n):
    x, maps, mask, k0 = problem((N, T, H, W))
    g = tf.Graph()
    with g.as_default():
        out = layers.data_sharing(tf.constant(to_two_channel(x)), tf.constant(mask), [0, 1, 2],
                                  divide_by_n, maps=tf.constant(maps), k0=tf.constant(k0))
    got = run(out, g)
    want = ds_numpy(x, mask, [0, 1, 2], divide_by_n, maps, k0)
    for i, w in enumerate(want):
        np.testing.assert_allclose(to_complex(got[..., 2 * i:2 * i + 2]), w, atol=1e-5)


def single_and_one_coil(build, shape, label_seed=0):
    """The network `build(feature, mask, **coil_args)` twice in one graph (so with the same
    variables): single-coil, and with one coil of ones and its acquired k-space."""
    rng = np.random.default_rng(label_seed)
    label = rand_complex(rng, shape)
    mask = masks.cartesian_mask(shape, 4, 2, seed=label_seed)
    k0 = (np.fft.fft2(label, norm='ortho') * mask).astype(np.complex64)
    feature = to_two_channel(np.fft.ifft2(k0, norm='ortho'))
    ones = np.ones(shape[:-2] + (1,) + shape[-2:], np.complex64)
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(0)
        f, m = tf.constant(feature), tf.constant(mask)
        single = build(f, m)
        multi = build(f, m, kspace=tf.constant(np.expand_dims(k0, -3)),
                      coil_maps=tf.constant(ones))
    return g, single, multi


@pytest.mark.parametrize('model', ['static', 'dynamic', 'crnn'])
def test_networks_with_one_coil_equal_single_coil(model):
    if model == 'static':
        def build(f, m, **kw):
            return cascade.makeModel(f, m, False, 3, 2, 4, 'lambda', seed=1, **kw)
        shape = (N, H, W)
    elif model == 'dynamic':
        def build(f, m, **kw):
            return cascade.makeModel(f, m, False, 3, 2, 4, 'hard', seed=1, frame_dist=[0, 1],
                                     **kw)
        shape = (1, T, H, W)
    else:
        def build(f, m, **kw):
            return crnn.crnn_mri(f, m, False, Dn=3, Dc=2, nf=4, dc_mode='lambda', seed=1, **kw)
        shape = (1, T, H, W)
    g, single, multi = single_and_one_coil(build, shape)
    a, b = run([single['dc2'], multi['dc2']], g)
    assert np.abs(a).max() > 0.1
    np.testing.assert_allclose(b, a, atol=2e-5)


@pytest.mark.parametrize('model', ['static', 'dynamic', 'crnn'])
def test_gradients_reach_every_variable_multicoil(model):
    cfg = {'model': model, 'Dn': 3, 'Dc': 2, 'nf': 4, 'dc_mode': 'lambda', 'batch_norm': False,
           'share_weights': model == 'crnn', 'image_size': [H, W], 'frames': T,
           'frame_dist': [0, 1], 'coils': C, 'random_seed': 1}
    shape = (1, T, H, W) if model != 'static' else (1, H, W)
    x, maps, mask, k0 = problem(shape)
    feature = to_two_channel(coils.sense_adjoint(k0, maps))
    g, _, _, pred = model_tf.build_inference_graph(cfg, batch=1)
    with g.as_default():
        variables = tf.trainable_variables()
        grads = tf.gradients(tf.reduce_sum(tf.square(pred)), variables)
        assert all(gr is not None for gr in grads)
        feed = {'feature:0': feature, 'mask:0': mask, 'kspace:0': to_two_channel(k0),
                'coil_maps:0': to_two_channel(maps)}
        values = run(grads, g, feed)
    assert len(values) == len(variables) > 0
    for v, gr in zip(variables, values):
        assert np.abs(gr).max() > 0, v.name


def fingerprint(graph):
    """A hash of the graph's nodes (name, op, inputs): what a frozen graph and ATC see. TF 2
    names the initialisers' Add op AddV2; that is the TensorFlow's, not ours."""
    lines = ['%s %s %s' % (n.name, 'Add' if n.op == 'AddV2' else n.op, ','.join(n.input))
             for n in graph.as_graph_def().node]
    return hashlib.sha256('\n'.join(lines).encode()).hexdigest()[:16]


BASE = {'model': 'static', 'Dn': 3, 'Dc': 2, 'nf': 4, 'dc_mode': 'hard', 'batch_norm': False,
        'share_weights': False, 'image_size': [16, 12], 'random_seed': 1}
# Fingerprints of the single-coil inference graphs built by the code before multi-coil existed
# (commit e1f0f9b), on TensorFlow 1.15.5 and 2.x alike.
SINGLE_COIL_GRAPHS = {
    'static_hard': (dict(BASE), '6d1fe48afe9e270e'),
    'static_lambda_bn': (dict(BASE, dc_mode='lambda', batch_norm=True), '017224e0c298323c'),
    'dynamic_ds': (dict(BASE, model='dynamic', frames=4, frame_dist=[0, 1, 2]),
                   'b9b4e94b5968a9ed'),
    'crnn': (dict(BASE, model='crnn', frames=4, dc_mode='lambda'), '25eeb1e312b78653'),
    'port': (dict(BASE, net='port', batch_norm=True, share_weights=True, dc_mode='port'),
             'c2869c03f00a0d7d'),
}


@pytest.mark.parametrize('name', sorted(SINGLE_COIL_GRAPHS))
def test_single_coil_graphs_are_unchanged(name):
    cfg, want = SINGLE_COIL_GRAPHS[name]
    g = model_tf.build_inference_graph(cfg, batch=1)[0]
    for coil_cfg in (dict(cfg, coils=0), cfg):
        assert fingerprint(model_tf.build_inference_graph(coil_cfg, batch=1)[0]) == want
    assert fingerprint(g) == want


@pytest.mark.parametrize('model', ['static', 'dynamic'])
def test_multicoil_graph_inputs(model):
    cfg = dict(BASE, model=model, frames=4, frame_dist=[0, 1], coils=5)
    g, feature, mask, pred = model_tf.build_inference_graph(cfg, batch=1)
    lead = [1, 4] if model == 'dynamic' else [1]
    want = [('feature', lead + [16, 12, 2]), ('mask', lead + [16, 12]),
            ('kspace', lead + [5, 16, 12, 2]), ('coil_maps', lead + [5, 16, 12, 2])]
    assert model_tf.graph_inputs(cfg, batch=1) == want
    for name, shape in want:
        t = g.get_tensor_by_name(name + ':0')
        assert t.op.type == 'Placeholder' and t.dtype == tf.float32
        assert t.shape.as_list() == shape
    assert pred.name == 'predTst:0' and pred.shape.as_list() == lead + [16, 12, 2]
    assert model_tf.graph_inputs(BASE, batch=1) == [('feature', [1, 16, 12, 2]),
                                                    ('mask', [1, 16, 12])]
    # the msame input folders image_to_bin.py writes follow the graph's input order
    assert bins.input_folders(5) == tuple(name for name, _ in want)
    assert bins.input_folders(0) == ('feature', 'mask')


@pytest.mark.parametrize('model', ['static', 'dynamic', 'crnn'])
def test_multicoil_graph_adds_only_float_op_types(model):
    """ATC: the multi-coil graph holds the single-coil graph's op types (the port's graph went
    through ATC) plus only ExpandDims, Neg and a float32 Sum; no Conj, no complex Sum."""
    def op_types(coils):
        cfg = dict(BASE, model=model, frames=4, frame_dist=[0, 1], coils=coils)
        g = model_tf.build_inference_graph(cfg, batch=1)[0]
        return g, set(op.type for op in g.get_operations())
    _, single = op_types(0)
    g, multi = op_types(3)
    assert multi - single <= {'ExpandDims', 'Neg', 'Sum'} and 'Conj' not in multi
    sums = [op for op in g.get_operations() if op.type == 'Sum']
    assert sums and all(op.outputs[0].dtype == tf.float32 for op in sums)


def test_port_network_refuses_coils():
    cfg = dict(BASE, net='port', batch_norm=True, share_weights=True, dc_mode='port', coils=4)
    with pytest.raises(InputError, match='single-coil'):
        model_tf.build_inference_graph(cfg, batch=1)


def test_multicoil_cascade_trains_on_make_h5data_files(tmp_path):
    """A few Adam steps on `make_h5data.py --synthetic --coils` batches: the loss falls and
    the output beats the zero-filled coil combination."""
    from models.data import h5writer
    from models.pre_input import Batches, H5Data
    train, _ = h5writer.write_synthetic(str(tmp_path), 5, (16, 16), 4.0, 2, seed=0, split=0.8,
                                        coils=4)
    data = H5Data(train)
    batch = Batches(data, 4, shuffle=False).batch(0, 0)
    cfg = dict(BASE, Dn=3, Dc=2, nf=8, image_size=[16, 16], coils=data.coils)
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(0)
        ph = dict((name, tf.placeholder(tf.float32, shape, name=name))
                  for name, shape in model_tf.graph_inputs(cfg, batch=4))
        label = tf.placeholder(tf.float32, [4, 16, 16, 2])
        out = model_tf.model_from_config(ph['feature'], ph['mask'], True, cfg, ph['kspace'],
                                         ph['coil_maps'])['dc2']
        loss = tf.reduce_mean(tf.square(out - label))
        step = tf.train.AdamOptimizer(1e-3).minimize(loss)
        feed = dict((ph[k], batch[k]) for k in ph)
        feed[label] = batch['label']
        with tf.Session(graph=g) as sess:
            sess.run(tf.global_variables_initializer())
            first = sess.run(loss, feed)
            for _ in range(60):
                sess.run(step, feed)
            last = sess.run(loss, feed)
    zero_filled = np.mean(np.square(batch['feature'] - batch['label']))
    assert last < 0.7 * first and last < zero_filled
    data.close()
