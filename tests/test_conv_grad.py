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
"""models/nets/conv.py: every filter-gradient implementation against NumPy and against
TensorFlow's own gradient, the graphs each one builds, and train.py's --conv_grad."""
import io
import re
from contextlib import redirect_stdout

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from conftest import TINY_MODEL, run_script
from models import cpu
from models.nets import conv as convmod

tf.disable_v2_behavior()

IMPLS = sorted(convmod.FILTER_GRADS)
# 2 -> c and c -> 2 take the patch forms of the matmul implementation, the others the
# nine-product form; odd H != W catch a transposed or mis-shifted tap.
SHAPES = [(2, 6), (6, 6), (6, 2), (3, 5)]


def numpy_filter_grad(x, dy):
    """dL/dw[i, j, a, b] = sum_{n,h,w} xpad[n, h+i, w+j, a] dy[n, h, w, b], in float64."""
    _, h, w, _ = x.shape
    xp = np.pad(x.astype(np.float64), ((0, 0), (1, 1), (1, 1), (0, 0)))
    return np.stack([np.stack([np.einsum('nhwa,nhwb->ab', xp[:, i:i + h, j:j + w], dy)
                               for j in range(3)]) for i in range(3)])


@pytest.mark.parametrize('impl', IMPLS)
@pytest.mark.parametrize('cin,cout', SHAPES)
def test_filter_grad_matches_numpy_and_tf_gradients(impl, cin, cout):
    rng = np.random.default_rng(cin * 10 + cout)
    x = rng.standard_normal((2, 7, 9, cin)).astype(np.float32)
    dy = rng.standard_normal((2, 7, 9, cout)).astype(np.float32)
    g = tf.Graph()
    with g.as_default():
        xt = tf.placeholder(tf.float32, x.shape)
        dyt = tf.placeholder(tf.float32, dy.shape)
        w = tf.placeholder(tf.float32, [3, 3, cin, cout])
        ours = convmod.FILTER_GRADS[impl](xt, dyt, w.shape)
        # the reference gradient: d/dw of sum(conv2d(x, w) * dy) is the filter gradient at dy
        plain = tf.gradients(tf.reduce_sum(
            tf.nn.conv2d(xt, w, [1, 1, 1, 1], 'SAME') * dyt), w)[0]
        with tf.Session() as sess:
            got, ref = sess.run([ours, plain], {xt: x, dyt: dy,
                                                w: np.zeros([3, 3, cin, cout], np.float32)})
    expect = numpy_filter_grad(x, dy)
    assert got.shape == (3, 3, cin, cout)
    scale = np.abs(expect).max()
    assert np.abs(got - expect).max() < 1e-5 * scale
    assert np.abs(ref - expect).max() < 1e-5 * scale


def small_net(x, nf=6):
    """2 -> nf -> nf -> 2 with ReLUs: one layer of each kind."""
    rng = np.random.default_rng(1)
    h = x
    for i, (a, b) in enumerate([(2, nf), (nf, nf), (nf, 2)]):
        w = tf.Variable(rng.standard_normal((3, 3, a, b)).astype(np.float32) * 0.3,
                        name='w%d' % i)
        h = convmod.conv(h, w)
        if i < 2:
            h = tf.nn.relu(h)
    return h


def grads_of_small_net(policy, x):
    """(loss, [dL/dx, dL/dw0, dL/dw1, dL/dw2], op types of the graph) of small_net built
    under `policy` (None: outside filter_gradient)."""
    g = tf.Graph()
    with g.as_default():
        xt = tf.placeholder(tf.float32, x.shape)
        if policy is None:
            out = small_net(xt)
        else:
            with convmod.filter_gradient(policy):
                out = small_net(xt)
        loss = tf.reduce_sum(tf.square(out - 0.5))
        grads = tf.gradients(loss, [xt] + tf.global_variables())
        types = [op.type for op in g.get_operations()]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            return sess.run([loss, grads], {xt: x}) + [types]


@pytest.mark.parametrize('impl', IMPLS)
def test_conv_gradients_equal_plain_conv_and_use_the_chosen_op(impl):
    x = np.random.default_rng(0).standard_normal((2, 8, 10, 2)).astype(np.float32)
    loss0, grads0, types0 = grads_of_small_net(None, x)
    loss1, grads1, types1 = grads_of_small_net(dict.fromkeys(cpu.LAYER_KINDS, impl), x)
    assert loss1 == pytest.approx(loss0, rel=1e-6)
    for a, b in zip(grads0, grads1):
        assert np.abs(a - b).max() < 1e-5 * np.abs(a).max()
    # outside filter_gradient: plain Conv2D, TF's own gradient, no custom-gradient node
    assert 'IdentityN' not in types0 and types0.count('Conv2DBackpropFilter') == 3
    if impl == 'tf':
        assert types1 == types0
    elif impl == 'eigen':
        assert types1.count('IdentityN') == 3 and types1.count('Conv2DBackpropFilter') == 3
    else:
        assert types1.count('IdentityN') == 3 and 'Conv2DBackpropFilter' not in types1
        assert any(t.startswith('BatchMatMul') for t in types1)


def test_eigen_filter_grad_writes_out_the_padding():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [1, 5, 5, 3])
        dy = tf.placeholder(tf.float32, [1, 5, 5, 4])
        convmod.filter_grad_eigen(x, dy, tf.TensorShape([3, 3, 3, 4]))
        convmod.filter_grad_tf(x, dy, tf.TensorShape([3, 3, 3, 4]))
        pads = [op.get_attr('padding') for op in g.get_operations()
                if op.type == 'Conv2DBackpropFilter']
    assert pads == [b'EXPLICIT', b'SAME']


def test_policy_picks_per_layer_kind():
    x = np.random.default_rng(2).standard_normal((1, 6, 6, 2)).astype(np.float32)
    policy = {'first': 'eigen', 'inner': 'matmul', 'last': 'tf'}
    _, _, types = grads_of_small_net(policy, x)
    assert types.count('IdentityN') == 2          # first and inner layers
    assert types.count('Conv2DBackpropFilter') == 2  # eigen (first) + tf (last)


def test_conv3d_keeps_tf_gradient():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [1, 4, 6, 6, 2])
        w = tf.Variable(tf.ones([3, 3, 3, 2, 2]))
        with convmod.filter_gradient(dict.fromkeys(cpu.LAYER_KINDS, 'matmul')):
            y = convmod.conv(x, w)
        tf.gradients(tf.reduce_sum(y), w)
        types = [op.type for op in g.get_operations()]
    assert 'Conv3D' in types and 'IdentityN' not in types
    assert 'Conv3DBackpropFilterV2' in types


def train_log(tiny_data, tmp_path, name, *extra):
    import train
    buf = io.StringIO()
    with redirect_stdout(buf):
        train.main(['--data_train_dir', tiny_data[0], '--batch_size', '4', '--train_steps', '3',
                    '--log_every', '1', '--save_ckpt_Dir', str(tmp_path / name)]
                   + TINY_MODEL + list(extra))
    return buf.getvalue()


def test_train_conv_grad_flag_logs_choice_and_matches_tf(tiny_data, tmp_path):
    ref = train_log(tiny_data, tmp_path, 'tf', '--conv_grad', 'tf')
    mm = train_log(tiny_data, tmp_path, 'mm', '--conv_grad', 'matmul')
    assert 'conv filter gradient matmul: first matmul, inner matmul, last matmul' in mm
    assert 'conv filter gradient tf: first tf, inner tf, last tf' in ref
    assert re.search(r'^cpu: .*; isa .*; oneDNN ', mm, re.M)
    losses = [[float(v) for v in re.findall(r'^\[step\] .* loss=(\S+)', log, re.M)]
              for log in (ref, mm)]
    assert len(losses[0]) == 3
    assert losses[1] == pytest.approx(losses[0], rel=1e-4)
    # the saved inference graph (test.py, ckpt_to_pb.py, ATC) stays plain Conv2D
    meta = tf.MetaGraphDef()
    with open(str(tmp_path / 'mm' / 'modelTst.meta'), 'rb') as f:
        meta.ParseFromString(f.read())
    types = [n.op for n in meta.graph_def.node]
    assert types.count('Conv2D') == 6 and 'IdentityN' not in types


def test_train_bad_conv_grad_exit_2(tiny_data, tmp_path, monkeypatch):
    base = ['--data_train_dir', tiny_data[0], '--save_ckpt_Dir', str(tmp_path / 'c'),
            '--train_steps', '1', '--batch_size', '4'] + TINY_MODEL
    r = run_script('train.py', *(base + ['--conv_grad', 'fast']))
    assert r.returncode == 2 and "unknown conv filter-gradient setting 'fast'" in r.stderr
    monkeypatch.setenv(cpu.CONV_GRAD_VAR, 'gemm')
    r = run_script('train.py', *base)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith('error:') and len(r.stderr.strip().splitlines()) == 1
    assert "CASCADENET_CONV_GRAD: unknown conv filter-gradient setting 'gemm'" in r.stderr
