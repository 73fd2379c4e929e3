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
"""The convolution every network calls, `conv(x, w)`, and how its filter gradient is computed.

On CPU the gradient of a 3x3 conv w.r.t. its filter can run much below the machine's matmul
rate: oneDNN's AVX2 kernel for it runs at ~0.16 of the float32 matmul rate on an AMD EPYC, and
the 2-channel first and last layers of each cascade are slow everywhere (docs/benchmarks.md).
Three implementations give the same gradient up to float32 rounding:

  tf      TensorFlow's own Conv2DBackpropFilter (oneDNN's kernel when oneDNN is on, else
          Eigen's), i.e. plain tf.nn.conv2d and its registered gradient;
  eigen   TensorFlow's Eigen kernel even when oneDNN is on: the same op with the SAME padding
          written out explicitly ([[0, 0], [1, 1], [1, 1], [0, 0]]), which TF's oneDNN graph
          rewrite leaves to Eigen (whose contraction itself runs on oneDNN's sgemm);
  matmul  the sum over pixels written as batched matrix products over flat pixel rows, on
          which each 3x3 tap is a row offset: nine products of offset views for wide layers,
          one product with the nine offset views of the 2-channel side for thin layers.

The forward conv and the gradient w.r.t. the input stay TensorFlow's in every case. Which one
runs is chosen per layer kind (models.cpu.filter_grad_policy) while a training graph is built
inside `filter_gradient(policy)`; outside it (inference graphs, exported .pb) `conv` is plain
tf.nn.conv2d. 3x3x3 convolutions (the dynamic model) always use TensorFlow's gradient.
"""
import contextlib

import tensorflow.compat.v1 as tf

from models.cpu import layer_kind

STRIDES = [1, 1, 1, 1]
EXPLICIT_SAME = [[0, 0], [1, 1], [1, 1], [0, 0]]  # SAME for a 3x3 kernel at stride 1

_policy = {}  # layer kind -> implementation while a graph is built in filter_gradient()


@contextlib.contextmanager
def filter_gradient(policy):
    """Build the graph of this block with the filter-gradient implementations of `policy`
    ({layer kind: 'tf' | 'eigen' | 'matmul'}, from models.cpu.filter_grad_policy; None:
    TensorFlow's own everywhere)."""
    global _policy
    saved, _policy = _policy, dict(policy or {})
    try:
        yield
    finally:
        _policy = saved


def conv(x, w):
    """Stride-1 SAME convolution. x: (N, H, W, cin) float32 with w (3, 3, cin, cout), or
    x: (N, T, H, W, cin) with w (3, 3, 3, cin, cout). Returns (..., cout)."""
    if x.shape.ndims == 5:
        return tf.nn.conv3d(x, w, strides=[1] * 5, padding='SAME')
    cin, cout = (tf.dimension_value(d) for d in w.shape[-2:])
    impl = _policy.get(layer_kind(cin, cout), 'tf')
    if impl == 'tf':
        return tf.nn.conv2d(x, w, strides=STRIDES, padding='SAME')
    return _conv2d_with_filter_grad(x, w, FILTER_GRADS[impl])


def _conv2d_with_filter_grad(x, w, filter_grad):
    """tf.nn.conv2d(x, w) whose gradient w.r.t. w is filter_grad(x, dy, w.shape)."""
    @tf.custom_gradient
    def conv2d(x, w):
        def grad(dy):
            dx = tf.nn.conv2d_backprop_input(tf.shape(x), w, dy, STRIDES, 'SAME')
            return dx, filter_grad(x, dy, w.shape)
        return tf.nn.conv2d(x, w, strides=STRIDES, padding='SAME'), grad
    return conv2d(x, w)


def filter_grad_tf(x, dy, wshape):
    """dL/dw of a 3x3 SAME conv by TensorFlow's Conv2DBackpropFilter.
    x: (N, H, W, cin), dy: (N, H, W, cout) float32; returns (3, 3, cin, cout)."""
    return tf.nn.conv2d_backprop_filter(x, wshape.as_list(), dy, STRIDES, 'SAME')


def filter_grad_eigen(x, dy, wshape):
    """The same op with the padding written out, which runs Eigen's kernel (module doc)."""
    return tf.nn.conv2d_backprop_filter(x, wshape.as_list(), dy, STRIDES, EXPLICIT_SAME)


def _frames(x, dy):
    """x and dy as frames of flat pixel rows, on which each 3x3 tap is a row offset.

    x (N, H, W, cin) is zero-padded by one pixel on each side to (H + 2) x (W + 2) frames and
    flattened to rows: xf (N F + top, cin), F = (H + 2)(W + 2), with `top` zero rows appended.
    dy (N, H, W, cout) is put in the top-left corner of frames of the same size: df (N F, cout).
    Pixel (n, h + i, w + j) of the padded input lies o = i (W + 2) + j rows after pixel
    (n, h, w) of dy, so tap (i, j) pairs xf[o:o + N F] with df row for row. The rows where
    dy is zero (the last two rows and columns of each frame) contribute nothing; they are
    also the only rows a view of image n pairs with image n + 1's pixels, so images do not
    mix. Returns (xf, df, the nine offsets o, F)."""
    cin, cout = tf.dimension_value(x.shape[-1]), tf.dimension_value(dy.shape[-1])
    w2 = tf.shape(x)[2] + 2
    offsets = [i * w2 + j for i in range(3) for j in range(3)]
    xf = tf.pad(tf.reshape(tf.pad(x, EXPLICIT_SAME), [-1, cin]), [[0, offsets[-1]], [0, 0]])
    df = tf.reshape(tf.pad(dy, [[0, 0], [0, 2], [0, 2], [0, 0]]), [-1, cout])
    return xf, df, offsets, (tf.shape(x)[1] + 2) * w2


def _image_product(a, b, frame):
    """sum over rows of a^T b, a (N F, m) and b (N F, n), as one product per image (F rows):
    a batched matmul, which oneDNN's sgemm runs faster than one product of N F rows."""
    m, n = tf.dimension_value(a.shape[-1]), tf.dimension_value(b.shape[-1])
    return tf.reduce_sum(tf.matmul(tf.reshape(a, [-1, frame, m]), tf.reshape(b, [-1, frame, n]),
                                   transpose_a=True), 0)


def filter_grad_matmul(x, dy, wshape):
    """dL/dw[i, j] = sum over pixels of xpad[n, h + i, w + j]^T dy[n, h, w], as matrix products
    over the frames of `_frames`, where tap (i, j) is a row offset o.

    Wide layers: nine products of the input's rows from o on (a slice along the first axis)
    with dy. A layer with 2 input (output) channels: the nine offset views of the thin side
    side by side, 9 x 2 columns, and one product with the wide side, which is then read once
    instead of nine times."""
    cin, cout = wshape.as_list()[-2:]
    xf, df, offsets, frame = _frames(x, dy)
    rows = tf.shape(df)[0]
    if cin <= 2 < cout:
        taps = tf.concat([xf[o:o + rows] for o in offsets], axis=1)
        return tf.reshape(_image_product(taps, df, frame), [3, 3, cin, cout])
    if cout <= 2 < cin:
        # dy moved down by o rows (zeros in front) pairs with the input's rows from 0 on
        top = offsets[-1]
        dp = tf.pad(df, [[top, 0], [0, 0]])
        taps = tf.concat([dp[top - o:top - o + rows] for o in offsets], axis=1)
        g = _image_product(xf[:rows], taps, frame)
        return tf.transpose(tf.reshape(g, [cin, 3, 3, cout]), [1, 2, 0, 3])
    taps = [_image_product(xf[o:o + rows], df, frame) for o in offsets]
    return tf.reshape(tf.stack(taps), [3, 3, cin, cout])


FILTER_GRADS = {'tf': filter_grad_tf, 'eigen': filter_grad_eigen, 'matmul': filter_grad_matmul}
