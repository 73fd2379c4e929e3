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
"""CRNN-MRI, the convolutional recurrent network for dynamic MR reconstruction (Qin, Schlemper,
Caballero, Price, Hajnal, Rueckert, IEEE TMI 2018, arXiv:1712.01751), as a TF1-style graph.

An unrolled iterative reconstruction: nc iterations of one network whose weights all
iterations share. Iteration i (i = 1..nc):
  BCRNN (recurrent over time both ways, and over iterations) -> (nd - 2) CRNN-i layers
  (recurrent over iterations) -> a linear 3x3 conv to 2 channels -> residual (+ the
  iteration's input) -> data consistency on every frame.
Each recurrent layer's state across iterations is its own output at iteration i-1 (zero at
i = 1). Images (N, T, H, W, 2) float32 with a static T, masks (N, T, H, W).
"""

import tensorflow.compat.v1 as tf

from models.config import DC_MODES
from models.nets.layers import dc_layer, sampled_kspace, weight
from models.nets.recurrent import bcrnn_layer, crnn_i_layer, frame_conv

SCOPE = 'crnn_mri'


def crnn_mri(feature, mask, train, nd=5, nc=10, nf=64, dc_mode='hard', seed=None):
    """Build CRNN-MRI with nd layers per iteration (BCRNN, nd - 2 CRNN-i, output conv) and
    nc iterations.

    feature: (N, T, H, W, 2) float32 zero-filled image sequence, T static; mask: (N, T, H, W)
    float32 0/1, uncentred. `train` is accepted for makeModel's signature: the network has no
    layer that differs between training and inference.
    Returns a dict as makeModel's: 'k0' the acquired k-space, 'dc0' the input, 'cnn{i}' each
    iteration's output before data consistency (after the residual), 'dc{i}' after it.
    Variables live under `crnn_mri/` with AUTO_REUSE (one set for all iterations; with
    dc_mode 'lambda' one learnable lambda per iteration, `dc{i}/log_lambda`).
    """
    del train
    if dc_mode not in DC_MODES:
        raise ValueError('dc_mode must be one of %s' % (DC_MODES,))
    if feature.shape.ndims != 5 or tf.dimension_value(feature.shape[1]) is None:
        raise ValueError('CRNN-MRI needs (N, T, H, W, 2) input with a static T, got %s'
                         % feature.shape)
    if nd < 2:
        raise ValueError('nd must be >= 2 (BCRNN and the output conv), got %d' % nd)
    out = {'dc0': feature}
    with tf.variable_scope(SCOPE, reuse=tf.AUTO_REUSE):
        k0 = sampled_kspace(feature, mask)
        out['k0'] = k0
        x = feature
        states = [None] * (nd - 1)  # each recurrent layer's output at the previous iteration
        for i in range(1, nc + 1):
            with tf.name_scope('iter%d' % i):
                with tf.variable_scope('bcrnn'):
                    h = bcrnn_layer(x, states[0], nf, seed)
                layer_out = [h]
                for j in range(1, nd - 1):
                    with tf.variable_scope('crnn_i%d' % j):
                        h = crnn_i_layer(h, states[j], nf, seed)
                    layer_out.append(h)
                with tf.variable_scope('conv_out'):  # not recurrent: He init, as the cascade
                    res = frame_conv(h, weight('W', [3, 3, nf, 2], seed)) + tf.get_variable(
                        'b', [2], initializer=tf.zeros_initializer())
                states = layer_out
                x = x + res
                out['cnn%d' % i] = x
                x = dc_layer(x, k0, mask, dc_mode, 'dc%d' % i)
                out['dc%d' % i] = x
    return out
