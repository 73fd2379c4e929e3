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

An unrolled iterative reconstruction: Dc iterations (the paper's nc) of one network whose
weights all iterations share; Dn layers each (the paper's nd). Iteration i (i = 1..Dc):
  BCRNN (recurrent over time both ways, and over iterations) -> (Dn - 2) CRNN-i layers
  (recurrent over iterations) -> a linear 3x3 conv to 2 channels -> residual (+ the
  iteration's input) -> data consistency on every frame.
Each recurrent layer's state across iterations is its own output at iteration i-1 (zero at
i = 1). Images (N, T, H, W, 2) float32 with a static T, masks (N, T, H, W).
"""

import tensorflow.compat.v1 as tf

from models.config import DC_MODES
from models.nets.layers import (check_coil_inputs, coil_sampled_kspace, dc_layer,
                                sampled_kspace, weight)
from models.nets.recurrent import bcrnn_layer, crnn_i_layer, frame_conv

SCOPE = 'crnn_mri'


def crnn_mri(feature, mask, train, Dn=5, Dc=10, nf=64, dc_mode='hard', seed=None, kspace=None,
             coil_maps=None):
    """Build CRNN-MRI with Dn layers per iteration (BCRNN, Dn - 2 CRNN-i, output conv) and
    Dc iterations.

    Variables live under `crnn_mri/` with AUTO_REUSE (one set for all iterations; with
    dc_mode 'lambda' one learnable lambda per iteration, `dc{i}/log_lambda`).

    Args:
      feature: (N, T, H, W, 2) float32 zero-filled image sequence, T static.
      mask: (N, T, H, W) float32 0/1, uncentred.
      train: accepted for makeModel's signature: no layer differs between training and
        inference.
      Dn, Dc, nf: layers per iteration (the paper's nd), iterations (nc), filters.
      dc_mode: 'hard' or 'lambda'; seed: the run seed, or None.
      kspace, coil_maps: multi-coil only, (N, T, C, H, W) complex64 (as makeModel's); DC then
        acts per coil on every frame.
    Returns:
      dict as makeModel's: 'k0' the acquired k-space, 'dc0' the input, 'cnn{i}' each
      iteration's output before data consistency (after the residual), 'dc{i}' after it.
    """
    del train
    if dc_mode not in DC_MODES:
        raise ValueError('dc_mode must be one of %s' % (DC_MODES,))
    if feature.shape.ndims != 5 or tf.dimension_value(feature.shape[1]) is None:
        raise ValueError('CRNN-MRI needs (N, T, H, W, 2) input with a static T, got %s'
                         % feature.shape)
    if Dn < 2:
        raise ValueError('Dn must be >= 2 (BCRNN and the output conv), got %d' % Dn)
    check_coil_inputs(kspace, coil_maps)
    out = {'dc0': feature}
    with tf.variable_scope(SCOPE, reuse=tf.AUTO_REUSE):
        k0 = (sampled_kspace(feature, mask) if coil_maps is None
              else coil_sampled_kspace(kspace, mask))
        out['k0'] = k0
        x = feature
        states = [None] * (Dn - 1)  # each recurrent layer's output at the previous iteration
        for i in range(1, Dc + 1):
            with tf.name_scope('iter%d' % i):
                with tf.variable_scope('bcrnn'):
                    h = bcrnn_layer(x, states[0], nf, seed)
                layer_out = [h]
                for j in range(1, Dn - 1):
                    with tf.variable_scope('crnn_i%d' % j):
                        h = crnn_i_layer(h, states[j], nf, seed)
                    layer_out.append(h)
                with tf.variable_scope('conv_out'):  # not recurrent: He init, as the cascade
                    res = frame_conv(h, weight('W', [3, 3, nf, 2], seed)) + tf.get_variable(
                        'b', [2], initializer=tf.zeros_initializer())
                states = layer_out
                x = x + res
                out['cnn%d' % i] = x
                x = dc_layer(x, k0, mask, dc_mode, 'dc%d' % i, coil_maps)
                out['dc%d' % i] = x
    return out
