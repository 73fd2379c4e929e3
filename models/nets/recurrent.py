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
"""The recurrent layers of CRNN-MRI (Qin et al., IEEE TMI 2018): the bidirectional convolutional
RNN layer over time (BCRNN) and the CRNN-i layer that recurs over iterations only.

Tensors are (N, T, H, W, C) float32 with a static T: the time recurrence is unrolled frame by
frame in the graph (no tf.while_loop, no RNN cells), so a frozen graph is plain Conv2D, Relu,
Add, StridedSlice and Pack ops. Convolutions are 3x3, 'SAME', 2-D over (H, W) of each frame.

Every layer sums several convolutions into one ReLU. Each has a single bias (the reference
gives every convolution its own, whose sum is the same function with more parameters).
Kernels start as the reference's do (PyTorch's default for Conv2d: uniform in
+-1/sqrt(fan_in), variance 1/(3 fan_in)), not He-normal as the cascade's: the states are fed
back over frames and iterations, and with He's variance (even divided among the summed
convolutions) they grow at each iteration (docs/crnn.md: about x2.3 in rms per iteration at
initialisation, and 2.5 dB lower validation PSNR after 60 steps).
"""
import tensorflow.compat.v1 as tf

from models.nets.conv import conv
from models.nets.layers import weight

KERNEL = 3


def conv2d(x, w):
    """The 2-D convolution every recurrent layer uses: stride 1, 'SAME' padding, NHWC (the
    shared conv of models/nets/conv.py, so the CPU's filter-gradient choice applies here too)."""
    return conv(x, w)


def reference_uniform(seed):
    """Uniform in +-1/sqrt(fan_in) (variance 1/(3 fan_in)): PyTorch's default Conv2d init,
    which the reference CRNN_MRI trains from."""
    return tf.variance_scaling_initializer(scale=1.0 / 3.0, mode='fan_in',
                                           distribution='uniform', seed=seed)


def _kernel(name, c_in, c_out, seed):
    return weight(name, [KERNEL, KERNEL, c_in, c_out], seed, init=reference_uniform)


def _frames_to_batch(x):
    """(N, T, H, W, C) -> (N*T, H, W, C): every frame through one batched 2-D convolution."""
    dims = [d if d is not None else tf.shape(x)[i] for i, d in enumerate(x.shape.as_list())]
    return tf.reshape(x, [-1] + dims[2:])


def _batch_to_frames(y, frames):
    """(N*T, H, W, C) -> (N, T, H, W, C) for the static number of frames T."""
    dims = [d if d is not None else tf.shape(y)[i] for i, d in enumerate(y.shape.as_list())]
    return tf.reshape(y, [-1, frames] + dims[1:])


def frame_conv(x, w):
    """A 2-D convolution of every frame of x (N, T, H, W, C) with w: (N, T, H, W, C_out)."""
    return _batch_to_frames(conv2d(_frames_to_batch(x), w), tf.dimension_value(x.shape[1]))


def crnn_sweep(a, w_h, reverse=False):
    """One direction of the convolutional RNN over time.

    a: (N, T, H, W, nf) the frames' non-recurrent pre-activations (input and iteration terms,
    bias included); w_h: (3, 3, nf, nf) the hidden-to-hidden kernel.
    h_t = relu(a_t + conv(h_{t-1}, w_h)) with h_{-1} = 0, frames taken t = 0..T-1, or
    T-1..0 with `reverse`. Returns the hidden states (N, T, H, W, nf) in frame order."""
    frames = tf.dimension_value(a.shape[1])
    order = range(frames - 1, -1, -1) if reverse else range(frames)
    h, out = None, [None] * frames
    for t in order:
        pre = a[:, t] if h is None else a[:, t] + conv2d(h, w_h)  # conv of h_{-1} = 0 is 0
        h = tf.nn.relu(pre)
        out[t] = h
    return tf.stack(out, axis=1)


def bcrnn_layer(x, h_iter, nf, seed=None):
    """The bidirectional convolutional RNN layer (BCRNN), in the current variable scope.

    x: (N, T, H, W, C) the iteration's input image; h_iter: (N, T, H, W, nf) this layer's
    output at the previous iteration, or None at the first (the reference's zero state).
    For each frame t, a_t = conv(x_t, W_i) + conv(h_iter_t, W_ih) + b; a forward and a
    backward sweep (`crnn_sweep`) share W_i, W_ih, W_h and b, and their hidden states are
    summed. Because the two directions share weights the layer is time-reversal equivariant:
    reversing the frames of x and h_iter reverses the output.
    Returns (N, T, H, W, nf)."""
    c_in = tf.dimension_value(x.shape[-1])
    a = frame_conv(x, _kernel('W_i', c_in, nf, seed))
    w_ih = _kernel('W_ih', nf, nf, seed)
    w_h = _kernel('W_h', nf, nf, seed)
    if h_iter is not None:  # conv of the zero state is 0
        a = a + frame_conv(h_iter, w_ih)
    a = a + tf.get_variable('b', [nf], initializer=tf.zeros_initializer())
    return crnn_sweep(a, w_h) + crnn_sweep(a, w_h, reverse=True)


def crnn_i_layer(x, h_iter, nf, seed=None):
    """A CRNN-i layer, in the current variable scope: recurrent over iterations, not time.

    x: (N, T, H, W, C) the previous layer's output at this iteration; h_iter: (N, T, H, W, nf)
    this layer's output at the previous iteration, or None at the first (zero state).
    Returns relu(conv(x, W_x) + conv(h_iter, W_h) + b), (N, T, H, W, nf), frame by frame."""
    c_in = tf.dimension_value(x.shape[-1])
    pre = frame_conv(x, _kernel('W_x', c_in, nf, seed))
    w_h = _kernel('W_h', nf, nf, seed)
    if h_iter is not None:
        pre = pre + frame_conv(h_iter, w_h)
    return tf.nn.relu(pre + tf.get_variable('b', [nf], initializer=tf.zeros_initializer()))
