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
"""The Ascend ModelZoo port's network (CascadeNet_ID2121_for_TensorFlow, models/model_tf.py),
rebuilt exactly with our own code and TF 1.15 ops: `--preset port` (models/presets.py).

D{n}-C{k} (port default D11-C5), in variable scope `Wts` with the port's variable names, so a
checkpoint written by the port restores here and one written here restores in the port:

  Wts/Layer{l}/w                   (3, 3, c_in, c_out) conv kernel, Glorot-uniform, no bias;
                                   c = 2 -> nf -> ... -> nf -> 2 (the port hard-codes nf = 64)
  Wts/Layer{l}/BN/gamma, beta      batch norm after EVERY conv, the last one included
  Wts/Layer{l}/BN/moving_mean, moving_variance
  Wts/lam1                         one lambda, initialised to 0.5

One set of these variables serves every cascade (the port builds each cascade under
`Wts` with AUTO_REUSE). Each cascade: x_i = DC(x_{i-1} + CNN(x_{i-1})), ReLU after every
batch norm but the last. Batch norm is the port's (the TF 1 layers API's
batch_normalization, fused=True): epsilon 1e-3, momentum 0.99, batch statistics while
training, moving averages at inference, the moving variance fed the fused op's
Bessel-corrected batch variance.

DC (the port's `dc`): k = fft2(x), k0 = fft2(feature) (the zero-filled input), a = lam /
(0.5 + lam), k_dc = k (1 - a m) + a k0 m. With a 0/1 mask this is the paper's noisy DC,
k_dc = (1-m) k + m (k + 2 lam k0) / (1 + 2 lam), with one lambda shared by every cascade.
The formula is linear in k and k0, so it holds for any FFT normalisation.
"""
import tensorflow.compat.v1 as tf

from models.nets.conv import conv
from models.nets.layers import fft2, ifft2, weight

SCOPE = 'Wts'
LAMBDA_INIT = 0.5
BN_MOMENTUM = 0.99
BN_EPSILON = 1e-3


def glorot_uniform(seed):
    """Glorot & Bengio (2010) uniform init, the port's tf.glorot_uniform_initializer."""
    return tf.glorot_uniform_initializer(seed=seed)


def _bn_variables(c):
    """The port's batch-norm variables BN/{gamma, beta, moving_mean, moving_variance}, (c,)."""
    with tf.variable_scope('BN'):
        return (tf.get_variable('gamma', [c], initializer=tf.ones_initializer()),
                tf.get_variable('beta', [c], initializer=tf.zeros_initializer()),
                tf.get_variable('moving_mean', [c], initializer=tf.zeros_initializer(),
                                trainable=False),
                tf.get_variable('moving_variance', [c], initializer=tf.ones_initializer(),
                                trainable=False))


def _batch_norm(h, train, bn, stats):
    """Fused batch norm of (N, H, W, c) `h` with the variables `bn`. In training, the batch
    mean and (Bessel-corrected) variance are appended to `stats` for the moving averages."""
    gamma, beta, mean, var = bn
    if not train:
        y, _, _ = tf.nn.fused_batch_norm(h, gamma, beta, mean=mean, variance=var,
                                         epsilon=BN_EPSILON, is_training=False)
        return y
    y, b_mean, b_var = tf.nn.fused_batch_norm(h, gamma, beta, epsilon=BN_EPSILON,
                                              is_training=True)
    stats.append((b_mean, b_var))
    return y


def _moving_average_updates(bn, stats):
    """The moving-average updates of one layer's shared batch norm, into UPDATE_OPS.

    Each cascade contributes one batch statistic. The port's graph runs one assign_sub per
    cascade concurrently, in no defined order; here they are applied in cascade order, each
    m <- m - (1 - momentum) (m - batch value), as one assignment per variable."""
    _, _, mean, var = bn
    m, v = tf.identity(mean), tf.identity(var)
    for b_mean, b_var in stats:
        m = m - (1.0 - BN_MOMENTUM) * (m - b_mean)
        v = v - (1.0 - BN_MOMENTUM) * (v - b_var)
    tf.add_to_collection(tf.GraphKeys.UPDATE_OPS, tf.assign(mean, m))
    tf.add_to_collection(tf.GraphKeys.UPDATE_OPS, tf.assign(var, v))


def makeModel(feature, mask, train, Dn=11, Dc=5, nf=64, seed=None):
    """Build the port's D{Dn}-C{Dc}.

    Args:
      feature: (N, H, W, 2) float32 zero-filled image.
      mask: (N, H, W) float32 0/1, uncentred.
      train: True for the training graph (batch statistics, moving-average updates in
        UPDATE_OPS), False for inference (moving averages).
      Dn, Dc, nf: conv layers (one set shared by every cascade), cascades, filters.
      seed: the run seed; each kernel's op seed is derived from it and its name.
    Returns:
      dict: 'k0' the input's k-space, 'cnn{i}' each cascade's CNN output (after the residual),
      'dc{i}' each cascade's output after DC, i = 1..Dc; 'dc0' the input.
    """
    out = {'dc0': feature}
    m = tf.complex(mask, tf.zeros_like(mask))
    channels = [2] + [nf] * (Dn - 1) + [2]
    with tf.variable_scope(SCOPE, reuse=tf.AUTO_REUSE):
        kernels, bns = [], []
        for l in range(1, Dn + 1):
            with tf.variable_scope('Layer%d' % l):
                kernels.append(weight('w', [3, 3, channels[l - 1], channels[l]], seed,
                                      init=glorot_uniform))
                bns.append(_bn_variables(channels[l]))
        lam = tf.get_variable('lam1', dtype=tf.float32, initializer=LAMBDA_INIT)
        a = tf.complex(lam / (0.5 + lam), 0.0)
        k0 = fft2(feature)
        out['k0'] = k0
        stats = [[] for _ in range(Dn)]
        x = feature
        for i in range(1, Dc + 1):
            with tf.name_scope('cascade%d' % i):
                h = x
                for l in range(Dn):
                    h = conv(h, kernels[l])
                    h = _batch_norm(h, train, bns[l], stats[l])
                    if l < Dn - 1:
                        h = tf.nn.relu(h)
                x = x + h
                out['cnn%d' % i] = x
                k = fft2(x)
                x = ifft2(k * (1.0 - a * m) + a * k0 * m)
                out['dc%d' % i] = x
        if train:
            for bn, s in zip(bns, stats):
                _moving_average_updates(bn, s)
    return out


def conv_kernels(graph=None):
    """The port network's conv kernels Wts/Layer{l}/w of `graph`, in layer order."""
    graph = graph or tf.get_default_graph()
    found = dict((v.op.name, v) for v in graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES,
                                                              scope=SCOPE + '/'))
    kernels = []
    while '%s/Layer%d/w' % (SCOPE, len(kernels) + 1) in found:
        kernels.append(found['%s/Layer%d/w' % (SCOPE, len(kernels) + 1)])
    return kernels
