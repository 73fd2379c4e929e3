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
"""bench/bench.py's analytic conv FLOP count of the dynamic models (CRNN-MRI, D{n}-C{k}(S),
the 3D cascade) against the conv ops of their graphs: the forward count against the Conv2D /
Conv3D ops of the forward graph, the training count against the backprop ops a traced step
runs (TF prunes the gradient w.r.t. the input placeholder, so the first conv's grad-input
does not run)."""
import os
import sys

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from conftest import ROOT
from models import model_tf

sys.path.insert(0, os.path.join(ROOT, 'bench'))
import bench  # noqa: E402

tf.disable_v2_behavior()

SIZE, T, BATCH = 8, 3, 2
BACKPROP = ('Conv2DBackpropInput', 'Conv2DBackpropFilter', 'Conv3DBackpropInputV2',
            'Conv3DBackpropFilterV2')


def op_flops(op):
    """2 * (forward output positions) * (kernel size): a forward conv or one of its backprops."""
    if 'BackpropInput' in op.type:
        w, pos = op.inputs[1].shape.as_list(), op.outputs[0].shape.as_list()[:-1]
    elif 'BackpropFilter' in op.type:
        w, pos = op.outputs[0].shape.as_list(), op.inputs[0].shape.as_list()[:-1]
    else:
        w, pos = op.inputs[1].shape.as_list(), op.outputs[0].shape.as_list()[:-1]
    return 2.0 * np.prod(pos) * np.prod(w)


@pytest.mark.parametrize('model,frame_dist', [('crnn', None), ('dynamic', [0, 1]),
                                              ('dynamic', [])])
def test_dynamic_conv_flops_match_the_graph(model, frame_dist):
    cfg = {'model': model, 'Dn': 4, 'Dc': 3, 'nf': 4, 'dc_mode': 'hard', 'batch_norm': False,
           'share_weights': model == 'crnn', 'random_seed': 0, 'frame_dist': frame_dist}
    forward, training = bench.dynamic_conv_flops(cfg, SIZE, T)
    g = tf.Graph()
    with g.as_default():
        feature = tf.placeholder(tf.float32, [BATCH, T, SIZE, SIZE, 2])
        mask = tf.placeholder(tf.float32, [BATCH, T, SIZE, SIZE])
        loss = tf.reduce_mean(tf.square(model_tf.model_from_config(feature, mask, True,
                                                                   cfg)['dc3']))
        convs = [op for op in g.get_operations() if op.type in ('Conv2D', 'Conv3D')]
        assert sum(op_flops(op) for op in convs) == BATCH * forward
        train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)
        feed = {feature: np.ones((BATCH, T, SIZE, SIZE, 2)), mask: np.ones((BATCH, T, SIZE, SIZE))}
        meta = tf.RunMetadata()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train_op, feed, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                     run_metadata=meta)
    ran = set(n.node_name for d in meta.step_stats.dev_stats for n in d.node_stats)
    backprop = [op for op in g.get_operations() if op.type in BACKPROP and op.name in ran]
    assert BATCH * forward + sum(op_flops(op) for op in backprop) == BATCH * training
