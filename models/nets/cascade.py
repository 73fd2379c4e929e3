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
"""The D{n}-C{k} deep cascade (Schlemper et al. 2017) and its dynamic 2D+t form with data
sharing, D{n}-C{k}(S) (Schlemper et al. 2018), as a TF1-style graph.

Static 2D: images (N, H, W, 2) float32 (real, imag), masks (N, H, W). Dynamic 2D+t: images
(N, T, H, W, 2), masks (N, T, H, W).
"""

import tensorflow.compat.v1 as tf

from models.config import DC_MODES
from models.nets.layers import (check_coil_inputs, cnn_block, coil_sampled_kspace, dc_layer,
                                data_sharing, sampled_kspace)

SCOPE = 'cascade_net'


def makeModel(feature, mask, train, Dn=5, Dc=5, nf=64, dc_mode='hard',
              batch_norm=False, share_weights=False, seed=None, frame_dist=None,
              kspace=None, coil_maps=None, init='he'):
    """Build D{Dn}-C{Dc}, or with 5-D input the dynamic D{Dn}-C{Dc}(S).

    Dynamic input gets 3x3x3 convolutions, per-frame data consistency and, when `frame_dist`
    is a non-empty list, the data-sharing layer before each cascade's CNN (divide by the
    sampled count in cascade 1, by 2d+1 after, as the reference does). Variables live under
    `cascade_net/` with AUTO_REUSE, so a second call (an evaluation copy with train=False)
    shares them.

    Args:
      feature: (N, H, W, 2) float32 zero-filled image, or (N, T, H, W, 2) with a static T;
        multi-coil: the zero-filled coil combination.
      mask: (N[, T], H, W) float32 0/1, uncentred.
      train: True for the training graph (batch norm uses batch statistics).
      Dn, Dc, nf: conv layers per cascade, cascades, filters.
      dc_mode: 'hard' (replace the sampled points) or 'lambda' (a learnt blend per cascade).
      batch_norm, share_weights: the port's options (BN after each conv but the last; one set
        of conv weights for every cascade).
      seed: the run seed (each variable's op seed derives from it and its name), or None.
      frame_dist: data-sharing distances (dynamic); None or [] for the plain 3D cascade.
      kspace, coil_maps: multi-coil only, (N[, T], C, H, W) complex64: the acquired k-space of
        every coil (masked here) and maps normalised to sum_c |S_c|^2 = 1 on the object; every
        DC and DS layer then acts per coil.
      init: the convs' initialisation, 'he' N(0, 2/fan_in), 'ref' N(0, 1/fan_in), the
        reference's, or 'uniform' +-1/sqrt(fan_in) kernels and biases, PyTorch's
        (models.nets.layers.kernel_init).
    Returns:
      dict: 'k0' the acquired k-space, 'cnn{i}' each cascade's CNN output (after the residual),
      'dc{i}' each cascade's output after data consistency, i = 1..Dc; 'dc0' the input.
    """
    if dc_mode not in DC_MODES:
        raise ValueError('dc_mode must be one of %s' % (DC_MODES,))
    check_coil_inputs(kspace, coil_maps)
    out = {'dc0': feature}
    with tf.variable_scope(SCOPE, reuse=tf.AUTO_REUSE):
        k0 = (sampled_kspace(feature, mask) if coil_maps is None
              else coil_sampled_kspace(kspace, mask))
        out['k0'] = k0
        x = feature
        for i in range(1, Dc + 1):
            cnn_in = x
            if frame_dist:
                with tf.name_scope('ds%d' % i):
                    cnn_in = data_sharing(x, mask, frame_dist, divide_by_n=i > 1,
                                          maps=coil_maps, k0=k0)
            with tf.variable_scope('cnn' if share_weights else 'cnn%d' % i):
                x = x + cnn_block(cnn_in, Dn, nf, train, batch_norm, seed, init)
            out['cnn%d' % i] = x
            x = dc_layer(x, k0, mask, dc_mode, 'dc%d' % i, coil_maps)
            out['dc%d' % i] = x
    return out
