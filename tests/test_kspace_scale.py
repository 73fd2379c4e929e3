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
"""The graph's k-space convention: the orthonormal FFT pair (numpy's norm='ortho'), values that
stay far below float16's maximum at 512x512, and checkpoints of the earlier unnormalised
graphs that restore into today's with the same output (data consistency is scale-free)."""
import math

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from models import masks, model_tf
from models.data.synthetic import phantom
from models.nets import layers
from models.pre_input import to_two_channel, undersample

tf.disable_v2_behavior()

FLOAT16_MAX = 65504.0
BOUND = FLOAT16_MAX / 32  # five bits of headroom below float16's maximum


def unnormalised_fft2(x):
    """The pair the graph used before: TF's fft2d / ifft2d as they are."""
    return tf.signal.fft2d(layers.r2c(x))


def unnormalised_ifft2(k):
    return layers.c2r(tf.signal.ifft2d(k))


def test_fft_pair_is_numpy_ortho():
    rng = np.random.default_rng(0)
    z = (rng.standard_normal((2, 12, 10)) + 1j * rng.standard_normal((2, 12, 10))).astype(
        np.complex64)
    g = tf.Graph()
    with g.as_default():
        k = layers.fft2(tf.constant(to_two_channel(z)))
        back = layers.ifft2(k)
        x = layers.ifft2(tf.constant(z))
        with tf.Session() as s:
            k_v, back_v, x_v = s.run([k, back, x])
    np.testing.assert_allclose(k_v, np.fft.fft2(z, norm='ortho'), atol=1e-5)
    np.testing.assert_allclose(x_v[..., 0] + 1j * x_v[..., 1], np.fft.ifft2(z, norm='ortho'),
                               atol=1e-5)  # float32 FFTs: TF 1.15's differ from numpy by ~4e-6
    np.testing.assert_allclose(back_v, to_two_channel(z), atol=1e-5)
    # Parseval: the k-space has the image's energy
    assert np.sum(np.abs(k_v) ** 2) == pytest.approx(np.sum(np.abs(z) ** 2), rel=1e-5)


def data_path_values(graph, feed):
    """{tensor name: max |value|} of every float32 / complex64 tensor the graph computes
    (variables, their initialisers and assignments left out)."""
    skip = ('VariableV2', 'VarHandleOp', 'Assign', 'AssignVariableOp', 'ReadVariableOp')
    tensors = [t for op in graph.get_operations() if op.type not in skip
               and '/Initializer/' not in op.name for t in op.outputs
               if t.dtype in (tf.float32, tf.complex64)]
    with graph.as_default(), tf.Session() as s:
        s.run(tf.global_variables_initializer())
        values = s.run(tensors, feed)
    return dict((t.name, float(np.abs(v).max())) for t, v in zip(tensors, values))


@pytest.mark.parametrize('dc_mode', ['hard', 'lambda'])
def test_no_tensor_nears_float16_max_at_512(dc_mode):
    """A 512x512 phantom of max |x| = 1: unnormalised, its k-space peaks at about 57,600, near
    float16's 65,504; orthonormal, at about 113, and every tensor of the model stays 32x below."""
    size = 512
    label = phantom(size, seed=0)[None]
    mask = masks.cartesian_mask((1, size, size), 4, 8, seed=0)
    cfg = {'model': 'static', 'Dn': 3, 'Dc': 2, 'nf': 4, 'dc_mode': dc_mode,
           'batch_norm': False, 'share_weights': False, 'image_size': [size, size],
           'random_seed': 0}
    graph, feature, mask_ph, pred = model_tf.build_inference_graph(cfg, batch=1)
    with graph.as_default():
        k = layers.fft2(tf.constant(to_two_channel(label)))
    vals = data_path_values(graph, {feature: to_two_channel(undersample(label, mask)),
                                    mask_ph: mask})
    assert vals[k.name] == pytest.approx(np.abs(np.fft.fft2(label, norm='ortho')).max(),
                                         rel=1e-4)
    # Cauchy-Schwarz: |k| <= ||x|| <= sqrt(H W) max|x|, whatever the image
    assert vals[k.name] <= math.sqrt(np.sum(np.abs(label) ** 2)) < size
    worst = max(vals, key=vals.get)
    assert vals[worst] < BOUND, (worst, vals[worst])
    assert any('FFT2D' in n for n in vals) and any('IFFT2D' in n for n in vals)


def test_data_sharing_stays_below_float16_max_at_512():
    """The DS layer sums the k-space of 2d+1 frames before dividing: with d <= 2 that is at
    most 5 x 113 at 512x512."""
    size, frames = 512, 3
    x = np.stack([np.roll(phantom(size, seed=0), 3 * t, axis=0) for t in range(frames)])[None]
    mask = masks.cartesian_mask((1, frames, size, size), 6, 8, seed=0)
    g = tf.Graph()
    with g.as_default():  # placeholders, not constants, which grappler would fold at length
        x_ph = tf.placeholder(tf.float32, x.shape + (2,))
        m_ph = tf.placeholder(tf.float32, mask.shape)
        out = layers.data_sharing(x_ph, m_ph, [0, 2], divide_by_n=True)
    vals = data_path_values(g, {x_ph: to_two_channel(undersample(x, mask)), m_ph: mask})
    assert out.shape.as_list() == [1, frames, size, size, 6]
    worst = max(vals, key=vals.get)
    assert vals[worst] < BOUND, (worst, vals[worst])


CASES = {
    'hard': {'model': 'static', 'dc_mode': 'hard', 'image_size': [16, 12]},
    'lambda': {'model': 'static', 'dc_mode': 'lambda', 'image_size': [16, 12]},
    'dynamic_ds': {'model': 'dynamic', 'dc_mode': 'hard', 'image_size': [12, 10], 'frames': 4,
                   'frame_dist': [0, 1, 2]},
}


def case_inputs(cfg, seed=3):
    h, w = cfg['image_size']
    shape = (2, cfg['frames'], h, w) if cfg['model'] == 'dynamic' else (2, h, w)
    rng = np.random.default_rng(seed)
    label = (rng.random(shape) * np.exp(1j * rng.random(shape))).astype(np.complex64)
    mask = masks.cartesian_mask(shape, 3, 2, seed=seed)
    return to_two_channel(undersample(label, mask)), mask


def build(cfg):
    """Inference graph of `cfg` (as model_tf.build_inference_graph) that also returns k0."""
    shape = model_tf.input_shape(cfg)
    g = tf.Graph()
    with g.as_default():
        feature = tf.placeholder(tf.float32, shape + [2], name='feature')
        mask = tf.placeholder(tf.float32, shape, name='mask')
        out = model_tf.model_from_config(feature, mask, False, cfg)
    return g, {'feature': feature, 'mask': mask}, [out['k0'], out['dc%d' % cfg['Dc']]]


@pytest.mark.parametrize('case', sorted(CASES))
def test_unnormalised_checkpoint_restores_with_same_output(case, tmp_path, monkeypatch):
    """A checkpoint saved from a graph built with the earlier unnormalised FFT pair restores
    into today's graph and gives the same predTst: DC and DS are linear in k-space."""
    cfg = dict({'Dn': 3, 'Dc': 2, 'nf': 8, 'batch_norm': False, 'share_weights': False,
                'random_seed': 0}, **CASES[case])
    feature, mask = case_inputs(cfg)
    ckpt = str(tmp_path / 'model')

    with monkeypatch.context() as m:
        m.setattr(layers, 'fft2', unnormalised_fft2)
        m.setattr(layers, 'ifft2', unnormalised_ifft2)
        g_old, ph, fetch = build(cfg)
    with g_old.as_default(), tf.Session() as s:
        s.run(tf.global_variables_initializer())
        for v in model_tf.model_variables(g_old):
            if v.op.name.endswith('log_lambda'):  # away from the initial value
                s.run(v.assign(math.log(0.7)))
        k0_old, want = s.run(fetch, {ph['feature']: feature, ph['mask']: mask})
        tf.train.Saver(model_tf.model_variables(g_old)).save(s, ckpt)

    g_new, ph, fetch = build(cfg)
    with g_new.as_default(), tf.Session() as s:
        tf.train.Saver(model_tf.model_variables(g_new)).restore(s, ckpt)
        k0_new, got = s.run(fetch, {ph['feature']: feature, ph['mask']: mask})
    h, w = cfg['image_size']
    # the old graph really was unnormalised: its k0 is sqrt(H W) times today's
    np.testing.assert_allclose(k0_old, k0_new * math.sqrt(h * w), atol=1e-4)
    np.testing.assert_allclose(got, want, atol=1e-5 * np.abs(want).max())
    assert np.abs(got - feature).max() > 1e-3  # the model does change its input
