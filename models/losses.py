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
"""The training objective: the data term and the regularisers added to it.

pred, label: (N, H, W, 2) float32 (real, imag), or (N, T, H, W, 2) for a dynamic model.
"""
import tensorflow.compat.v1 as tf

from models.config import as_config
from models.nets import port

# The port's regulariser per conv layer: ((l2_loss(W) * 2) ** 0.5) * 0.5 * 1e-7, i.e.
# 0.5e-7 times the L2 (Frobenius) norm of the kernel; not the squared norm of weight decay.
PORT_WEIGHT_NORM = 0.5e-7


def mse(pred, label):
    """Mean squared error over every element of both channels (the paper's MSE loss)."""
    return tf.reduce_mean(tf.square(pred - label))


def port_regulariser(n_cascades, graph=None):
    """What the port's graph adds for its conv kernels: PORT_WEIGHT_NORM * ||W_l|| for every
    layer l, once per cascade (the port adds it in each call of its layer function, and every
    cascade calls it for the same shared kernels), so n_cascades * sum_l 0.5e-7 ||W_l||."""
    norms = [tf.sqrt(tf.nn.l2_loss(w) * 2.0) for w in port.conv_kernels(graph)]
    return float(n_cascades) * PORT_WEIGHT_NORM * tf.add_n(norms)


def port_loss(pred, label, n_cascades):
    """The loss the port's train.py minimises: tf.add_n of the 'losses' collection, which holds
    the regulariser terms and the MSE TWICE (tf.losses.mean_squared_error adds its result to
    that collection itself, and train.py adds it again): 2 * MSE + port_regulariser."""
    return 2.0 * mse(pred, label) + port_regulariser(n_cascades)


def l2_penalty(weights):
    """Sum of the squares of every entry of `weights` (lasagne's `l2`, no factor 1/2)."""
    return tf.add_n([tf.reduce_sum(tf.square(w)) for w in weights])


def training_loss(pred, label, cfg):
    """The scalar loss train.py minimises for the run configuration `cfg` (a Config or a
    config.json dict), named 'loss': loss 'mse' (paper, and config.json files without the key)
    or 'port', plus weight_decay * l2_penalty(conv kernels) when it is set.

    Weight decay covers the conv kernels only (tf.GraphKeys.WEIGHTS, filled by
    models.nets.layers.weight), as the reference's `regularize_network_params(network, l2)`,
    which skips lasagne's biases (regularizable=False); it has no other parameters. The
    reference's loss is 2 * MSE + 1e-6 * l2: the same balance as the paper preset's with
    weight_decay = 5e-7."""
    cfg = as_config(cfg)
    if cfg.loss == 'port':
        loss = port_loss(pred, label, cfg.Dc)
    else:
        loss = mse(pred, label)
    wd = cfg.weight_decay
    if wd:
        loss = loss + wd * l2_penalty(tf.get_collection(tf.GraphKeys.WEIGHTS))
    return tf.identity(loss, name='loss')
