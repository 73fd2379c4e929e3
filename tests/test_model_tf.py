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
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from models import masks, model_tf
from models.pre_input import to_two_channel, undersample

tf.disable_v2_behavior()


def sample_inputs(n, h, w, seed=0):
    rng = np.random.default_rng(seed)
    label = (rng.standard_normal((n, h, w)) + 1j * rng.standard_normal((n, h, w))).astype(
        np.complex64)
    mask = masks.cartesian_mask((n, h, w), 4, 4, seed=seed)
    return label, mask, to_two_channel(undersample(label, mask))


def run(fetches, feed, graph):
    with tf.Session(graph=graph) as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed)


@pytest.mark.parametrize('lam', [None, 3.0])
def test_data_consistency_against_numpy(lam):
    label, mask, feature = sample_inputs(2, 16, 12)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 16, 12, 2)).astype(np.float32)
    g = tf.Graph()
    with g.as_default():
        f_t = tf.constant(feature)
        m_t = tf.constant(mask)
        k0 = model_tf.sampled_kspace(f_t, m_t)
        out = model_tf.data_consistency(tf.constant(x), k0, m_t,
                                        None if lam is None else tf.constant(lam))
    k0_v, out_v = run([k0, out], {}, g)
    k0_np = np.fft.fft2(label, norm='ortho') * mask  # the orthonormal convention
    np.testing.assert_allclose(k0_v, k0_np, atol=1e-5)
    k_cnn = np.fft.fft2(x[..., 0] + 1j * x[..., 1], norm='ortho')
    k_out = np.fft.fft2(out_v[..., 0] + 1j * out_v[..., 1], norm='ortho')
    s = mask == 1
    if lam is None:
        np.testing.assert_allclose(k_out[s], k0_np[s], atol=1e-4)  # sampled points equal k0
    else:
        np.testing.assert_allclose(k_out[s], ((k_cnn + lam * k0_np) / (1 + lam))[s], atol=1e-4)
    np.testing.assert_allclose(k_out[~s], k_cnn[~s], atol=1e-4)    # others untouched


@pytest.mark.parametrize('h,w', [(64, 64), (96, 80)])
def test_shapes_and_dc_output(h, w):
    label, mask, feature = sample_inputs(2, h, w)
    g = tf.Graph()
    with g.as_default():
        f = tf.placeholder(tf.float32, [None, h, w, 2])
        m = tf.placeholder(tf.float32, [None, h, w])
        out = model_tf.makeModel(f, m, True, Dn=3, Dc=2, nf=8)
    res = run(out, {f: feature, m: mask}, g)
    assert res['dc2'].shape == (2, h, w, 2) and res['cnn1'].shape == (2, h, w, 2)
    k = np.fft.fft2(res['dc2'][..., 0] + 1j * res['dc2'][..., 1])
    np.testing.assert_allclose(k[mask == 1], (np.fft.fft2(label) * mask)[mask == 1], atol=2e-3)


def count_params(graph):
    return sum(int(np.prod(v.shape))
               for v in graph.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES))


@pytest.mark.parametrize('opts', [{}, {'batch_norm': True}, {'dc_mode': 'lambda'},
                                  {'share_weights': True}])
def test_gradients_reach_every_cascade(opts):
    label, mask, feature = sample_inputs(2, 16, 16)
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(0)
        f = tf.constant(feature)
        m = tf.constant(mask)
        out = model_tf.makeModel(f, m, True, Dn=3, Dc=3, nf=8, **opts)
        loss = tf.reduce_mean(tf.square(out['dc3'] - to_two_channel(label)))
        vs = g.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES)
        grads = tf.gradients(loss, vs)
    assert all(gr is not None for gr in grads)
    values = run(grads, {}, g)
    names = [v.op.name for v in vs]
    cascades = {'cnn'} if opts.get('share_weights') else {'cnn1', 'cnn2', 'cnn3'}
    for c in cascades:
        norms = [np.abs(gv).sum() for n, gv in zip(names, values) if '/%s/' % c in n]
        assert norms and all(x > 0 for x in norms), c
    if opts.get('dc_mode') == 'lambda':
        assert sum('log_lambda' in n for n in names) == 3
    if opts.get('batch_norm'):
        assert g.get_collection(tf.GraphKeys.UPDATE_OPS)


def test_share_weights_has_one_set():
    sizes = {}
    for share in (False, True):
        g = tf.Graph()
        with g.as_default():
            model_tf.makeModel(tf.zeros([1, 16, 16, 2]), tf.ones([1, 16, 16]), True, 3, 4, 8,
                               share_weights=share)
        sizes[share] = count_params(g)
    assert sizes[False] == 4 * sizes[True]
    # D3 nf=8: 2->8, 8->8, 8->2 convs 3x3 with biases
    assert sizes[True] == (9 * 2 * 8 + 8) + (9 * 8 * 8 + 8) + (9 * 8 * 2 + 2)


def test_he_init_scale():
    g = tf.Graph()
    with g.as_default():
        model_tf.makeModel(tf.zeros([1, 16, 16, 2]), tf.ones([1, 16, 16]), True, 3, 1, 64, seed=0)
        w = [v for v in g.get_collection(tf.GraphKeys.GLOBAL_VARIABLES) if 'conv2/W' in v.name][0]
    wv = run(w, {}, g)
    np.testing.assert_allclose(wv.std(), np.sqrt(2.0 / (9 * 64)), rtol=0.05)


def _config_variables(cfg, shape=(1, 16, 16), graph_seed=0):
    """Initial values of model_from_config(cfg)'s variables: {variable name: array}."""
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(graph_seed)
        model_tf.model_from_config(tf.zeros(list(shape) + [2]), tf.ones(list(shape)), True, cfg)
        vs = g.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)
    return dict(zip([v.op.name for v in vs], run(vs, {}, g)))


def _config_kernels(cfg, shape=(1, 16, 16)):
    """Initial conv kernels of model_from_config(cfg): {variable name: array}."""
    return dict((k, v) for k, v in _config_variables(cfg, shape).items() if k.endswith('/W'))


INIT_CFG = {'model': 'static', 'Dn': 3, 'Dc': 1, 'nf': 128, 'dc_mode': 'hard',
            'batch_norm': False, 'share_weights': False, 'random_seed': 0}


@pytest.mark.parametrize('init,var', [('ref', 1.0), ('he', 2.0)])
def test_init_std_is_gain_over_fan_in(init, var):
    """'ref' N(0, 1/fan_in) (the reference's lasagne HeNormal()), 'he' N(0, 2/fan_in), on the
    128 -> 128 kernel (147456 values: the std is known to 0.2 %)."""
    k = _config_kernels(dict(INIT_CFG, init=init))['cascade_net/cnn1/conv2/W']
    np.testing.assert_allclose(k.std(), np.sqrt(var / (9 * 128)), rtol=0.01)
    assert abs(k.mean()) < 0.01 * k.std()


def test_uniform_init_is_pytorchs_default_for_kernels_and_biases():
    """'uniform': every kernel and bias uniform in +-1/sqrt(fan_in), fan_in = 9 c_in (PyTorch's
    Conv2d default, the peers'); 'ref' keeps zero biases. Checked by hand from the shapes."""
    v = _config_variables(dict(INIT_CFG, init='uniform'))
    for layer, c_in in (('conv1', 2), ('conv2', 128), ('conv3', 128)):
        bound = 1.0 / np.sqrt(9 * c_in)
        for leaf in ('W', 'b'):
            x = v['cascade_net/cnn1/%s/%s' % (layer, leaf)]
            assert np.abs(x).max() <= bound * (1 + 1e-6), (layer, leaf)
            assert np.unique(x).size > 0.9 * x.size, (layer, leaf)  # drawn, not constant
    k = v['cascade_net/cnn1/conv2/W']
    np.testing.assert_allclose(k.std(), 1.0 / np.sqrt(3 * 9 * 128), rtol=0.01)
    assert np.abs(k).max() > 0.99 / np.sqrt(9 * 128)  # it fills its range: uniform, not normal
    b2, b3 = v['cascade_net/cnn1/conv2/b'], v['cascade_net/cnn1/conv3/b']
    assert not np.array_equal(b2[:2], b3)  # each bias its own op seed
    ref = _config_variables(dict(INIT_CFG, init='ref'))
    assert all(not ref[n].any() for n in ref if n.endswith('/b'))


def test_config_without_init_keeps_todays_he_weights():
    """A config.json written before 'init' existed builds exactly the weights it was trained
    from: today's N(0, 2/fan_in) draw, with each variable's own op seed."""
    from models.nets.layers import variable_seed
    old = _config_kernels(INIT_CFG)
    assert old.keys() == _config_kernels(dict(INIT_CFG, init='he')).keys()
    for name, value in _config_kernels(dict(INIT_CFG, init='he')).items():
        np.testing.assert_array_equal(old[name], value)
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(0)
        expect = dict((name, tf.variance_scaling_initializer(
            scale=2.0, mode='fan_in', distribution='untruncated_normal',
            seed=variable_seed(0, name))(list(value.shape))) for name, value in old.items())
    expect = run(expect, {}, g)
    for name, value in old.items():
        np.testing.assert_array_equal(value, expect[name])
    ref = _config_kernels(dict(INIT_CFG, init='ref'))
    assert not np.array_equal(ref['cascade_net/cnn1/conv2/W'], old['cascade_net/cnn1/conv2/W'])


def test_crnn_keeps_its_own_init():
    """CRNN-MRI starts the same whatever cfg['init'] says: the reference's uniform recurrent
    kernels, a He-normal output kernel and zero biases (the output kernel as the reference's
    trained worse, docs/quality.md)."""
    cfg = {'model': 'crnn', 'Dn': 3, 'Dc': 1, 'nf': 128, 'dc_mode': 'hard', 'random_seed': 0}
    ref = _config_variables(dict(cfg, init='ref'), shape=(1, 2, 8, 8))
    old = _config_variables(cfg, shape=(1, 2, 8, 8))
    assert ref.keys() == old.keys()
    for name in old:
        np.testing.assert_array_equal(ref[name], old[name])
    np.testing.assert_allclose(old['crnn_mri/conv_out/W'].std(), np.sqrt(2.0 / (9 * 128)),
                               rtol=0.05)
    bound = 1.0 / np.sqrt(9 * 128)
    assert np.abs(old['crnn_mri/crnn_i1/W_x']).max() <= bound


def test_unknown_init_is_refused():
    with pytest.raises(ValueError, match='init must be one of'):
        _config_kernels(dict(INIT_CFG, init='glorot'))


def _kernels(seed, graph_seed=0):
    """Initial conv kernels of a D5-C5 nf=64 model: {variable name: array}."""
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(graph_seed)
        model_tf.makeModel(tf.zeros([1, 16, 16, 2]), tf.ones([1, 16, 16]), True, 5, 5, 64,
                           seed=seed)
        ws = [v for v in g.get_collection(tf.GraphKeys.GLOBAL_VARIABLES) if v.name.endswith('/W:0')]
    return dict(zip([v.op.name for v in ws], run(ws, {}, g)))


def test_every_kernel_starts_different_and_uncorrelated():
    k = _kernels(seed=0)
    assert len(k) == 25
    names = sorted(k)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            x, y = k[a].ravel(), k[b].ravel()
            n = min(x.size, y.size)  # conv1 (2->64) vs conv5 (64->2): compare the common prefix
            r = np.corrcoef(x[:n], y[:n])[0, 1]
            assert abs(r) < 0.1, (a, b, r)


def test_same_seed_same_weights_other_seed_other_weights():
    a, b, c = _kernels(seed=0), _kernels(seed=0), _kernels(seed=1)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
        assert not np.array_equal(a[name], c[name])


def test_variable_seed_depends_on_seed_and_name():
    from models.nets.layers import variable_seed
    s = variable_seed(0, 'cascade_net/cnn1/conv2/W')
    assert s == variable_seed(0, 'cascade_net/cnn1/conv2/W')
    assert s != variable_seed(0, 'cascade_net/cnn1/conv3/W')
    assert s != variable_seed(1, 'cascade_net/cnn1/conv2/W')
    assert variable_seed(None, 'x') is None


def test_inference_graph_names():
    cfg = {'model': 'static', 'Dn': 3, 'Dc': 2, 'nf': 8, 'dc_mode': 'hard',
           'batch_norm': False, 'share_weights': False, 'image_size': [24, 20]}
    graph, feature, mask, pred = model_tf.build_inference_graph(cfg)
    assert feature.name == 'feature:0' and mask.name == 'mask:0' and pred.name == 'predTst:0'
    assert pred.shape.as_list() == [None, 24, 20, 2]


@pytest.mark.parametrize('mask_type', ['variable_density', 'equispaced_fraction'])
def test_dc_keeps_k0_on_2d_masks(mask_type):
    # the DC layer needs no change for point masks: k0 is kept wherever the mask is 1
    rng = np.random.default_rng(3)
    label = (rng.standard_normal((2, 16, 12)) + 1j * rng.standard_normal((2, 16, 12))).astype(
        np.complex64)
    mask = masks.make_mask(mask_type, (2, 16, 12), 4, 2, seed=1)
    feature = to_two_channel(undersample(label, mask))
    x = rng.standard_normal((2, 16, 12, 2)).astype(np.float32)
    g = tf.Graph()
    with g.as_default():
        m_t = tf.constant(mask)
        out = model_tf.data_consistency(tf.constant(x),
                                        model_tf.sampled_kspace(tf.constant(feature), m_t), m_t)
    out_v = run(out, {}, g)
    k_out = np.fft.fft2(out_v[..., 0] + 1j * out_v[..., 1], norm='ortho')
    k_cnn = np.fft.fft2(x[..., 0] + 1j * x[..., 1], norm='ortho')
    s = mask == 1
    np.testing.assert_allclose(k_out[s], np.fft.fft2(label, norm='ortho')[s], atol=1e-4)
    np.testing.assert_allclose(k_out[~s], k_cnn[~s], atol=1e-4)
