"""The 2-channel first and last 3x3 layers of each cascade, computed faster on CPU (oneDNN).

oneDNN runs a 3x3 convolution that *produces* 2 channels from 64 (the last layer's forward,
the first layer's gradient w.r.t. its input) and the last layer's filter gradient at a few
percent of its matmul rate. Here those three are computed with plain ops instead:
  * conv to 2 channels = one matmul to 9*2 channels (one pair per filter tap), then the sum of
    the 9 shifted 2-channel slices of the zero-padded result (Pad, StridedSlice, Add);
  * the last layer's filter gradient = one matmul of the input with the 9 shifted copies of
    the output gradient (ConcatV2 of StridedSlice), (N*H*W, cin)^T x (N*H*W, 18).
The other ops (first layer forward and filter gradient, last layer input gradient) stay
tf.nn.conv2d / its native gradients. Variables, shapes and results are those of tf.nn.conv2d
(SAME padding, stride 1) up to float32 summation order (max abs diff ~1e-5).

Only for CPU training: train.py builds its training graph inside `enabled(device == 'cpu')`.
On GPU/Ascend the native Conv2D is the right op, and every other graph (modelTst.meta, the
frozen graph for ATC, test.py) keeps Conv2D because ENABLED is False outside that block.
tf.custom_gradient is TF 1.15 API.
"""
import contextlib

import tensorflow.compat.v1 as tf

ENABLED = False  # only True inside `enabled(True)`
_STRIDES = [1, 1, 1, 1]


@contextlib.contextmanager
def enabled(on):
    """Build graphs with the 2-channel layers of this module (on) or tf.nn.conv2d; restores
    the previous setting on exit, so nothing built later is affected."""
    global ENABLED
    before, ENABLED = ENABLED, bool(on)
    try:
        yield
    finally:
        ENABLED = before


def _shift_sum(z, c, flip):
    """z (N, H, W, 9c), channel blocks of c in filter-tap order (i, j) -> (N, H, W, c):
    sum over taps of the block moved by (i - 1, j - 1) (flip: by (1 - i, 1 - j)), zero fill."""
    h, w = tf.shape(z)[1], tf.shape(z)[2]
    zp = tf.pad(z, [[0, 0], [1, 1], [1, 1], [0, 0]])
    out = None
    for i in range(3):
        for j in range(3):
            a, b = (2 - i, 2 - j) if flip else (i, j)
            k = c * (3 * i + j)
            s = zp[:, a:a + h, b:b + w, k:k + c]
            out = s if out is None else out + s
    return out


def _taps(t):
    """(N, H, W, c) -> (N, H, W, 9c): t moved by (1 - i, 1 - j) for the taps (i, j), zero fill."""
    h, w = tf.shape(t)[1], tf.shape(t)[2]
    tp = tf.pad(t, [[0, 0], [1, 1], [1, 1], [0, 0]])
    return tf.concat([tp[:, 2 - i:2 - i + h, 2 - j:2 - j + w, :]
                      for i in range(3) for j in range(3)], axis=-1)


def _rows(t):
    """(N, H, W, c) -> (N*H*W, c)."""
    return tf.reshape(t, [-1, tf.dimension_value(t.shape[-1])])


def _image(rows, like, c):
    """(N*H*W, c) -> (N, H, W, c) with N, H, W of `like`."""
    return tf.reshape(rows, tf.concat([tf.shape(like)[:3], [c]], 0))


def forward_to_few(x, w):
    """conv2d(x, w) for w (3, 3, cin, cout): matmul to 9*cout channels, then shift-add."""
    cin, cout = [tf.dimension_value(d) for d in w.shape[2:]]
    z = tf.matmul(_rows(x), tf.reshape(tf.transpose(w, [2, 0, 1, 3]), [cin, 9 * cout]))
    return _shift_sum(_image(z, x, 9 * cout), cout, flip=False)


def grad_filter_to_few(x, dy):
    """Gradient of conv2d(x, w) w.r.t. w (3, 3, cin, cout), given dy (N, H, W, cout):
    one (N*H*W, cin)^T x (N*H*W, 9*cout) matmul against the shifted copies of dy."""
    cin, cout = tf.dimension_value(x.shape[-1]), tf.dimension_value(dy.shape[-1])
    gw = tf.matmul(_rows(x), _rows(_taps(dy)), transpose_a=True)  # (cin, 9 cout)
    return tf.transpose(tf.reshape(gw, [cin, 3, 3, cout]), [1, 2, 0, 3])


def grad_input_from_few(dy, w):
    """Gradient of conv2d(x, w) w.r.t. x (N, H, W, cin), given dy (N, H, W, cout): matmul to
    9*cin channels, then shift-add with the taps flipped."""
    cin, cout = [tf.dimension_value(d) for d in w.shape[2:]]
    z = tf.matmul(_rows(dy), tf.reshape(tf.transpose(w, [3, 0, 1, 2]), [cout, 9 * cin]))
    return _shift_sum(_image(z, dy, 9 * cin), cin, flip=True)


def conv_to_few(x, w):
    """tf.nn.conv2d(x, w, SAME) for x (N, H, W, cin), w (3, 3, cin, cout), cout small (2):
    forward_to_few, native grad-input, grad_filter_to_few."""
    @tf.custom_gradient
    def conv(x, w):
        def grad(dy):
            return (tf.nn.conv2d_backprop_input(tf.shape(x), w, dy, _STRIDES, 'SAME'),
                    grad_filter_to_few(x, dy))
        return forward_to_few(x, w), grad
    return conv(x, w)


def conv_from_few(x, w):
    """tf.nn.conv2d(x, w, SAME) for x (N, H, W, cin), w (3, 3, cin, cout), cin small (2):
    native forward and grad-filter, grad_input_from_few."""
    @tf.custom_gradient
    def conv(x, w):
        def grad(dy):
            return (grad_input_from_few(dy, w),
                    tf.nn.conv2d_backprop_filter(x, tf.shape(w), dy, _STRIDES, 'SAME'))
        return tf.nn.conv2d(x, w, _STRIDES, 'SAME'), grad
    return conv(x, w)


def conv2d(x, w):
    """3x3 SAME stride-1 conv of a 4-D x: the forms above for 2-channel output or input when
    ENABLED, else tf.nn.conv2d."""
    cin, cout = [tf.dimension_value(d) for d in w.shape[2:]]
    if ENABLED and cout <= 2 < cin:
        return conv_to_few(x, w)
    if ENABLED and cin <= 2 < cout:
        return conv_from_few(x, w)
    return tf.nn.conv2d(x, w, _STRIDES, 'SAME')
