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
"""Layers shared by the networks: complex <-> two-channel, the FFT pair, data consistency,
data sharing, the conv block (its conv is models.nets.conv.conv) and batch norm.

Tensors are NHWC. Images are (..., H, W, 2) float32 (real, imag); k-space is (..., H, W)
complex64 with the numpy FFT layout (origin at [0, 0]) and the orthonormal scaling
(numpy's norm='ortho', as the reference uses), the same convention as
`models.pre_input.undersample`, so k0 = fft2(feature) * mask exactly. Orthonormal k-space has
the image's energy (Parseval), so its values stay of the order of the image's instead of growing
with H*W, and no tensor of the graph nears float16's maximum (65504) where a backend computes
FFTs or complex products in half precision. Data consistency and data sharing are linear in
k-space, so their results do not depend on the scaling: checkpoints trained with the earlier
unnormalised pair give the same outputs.
Multi-coil data (C coils): coil maps S (..., C, H, W) complex64 and per-coil k-space
(..., C, H, W); the forward model is k_c = fft2(S_c x) and its adjoint the coil combination
sum_c conj(S_c) ifft2(k_c) (forward_op / adjoint_op). DC and DS take the maps as an optional
argument; without it they add exactly the single-coil ops.
Only TF 1.15 ops are used (no Keras, no tf.layers).
"""
import math
import zlib

import tensorflow.compat.v1 as tf

from models.nets.conv import conv


def r2c(x):
    """(..., 2) float32 -> (...) complex64."""
    return tf.complex(x[..., 0], x[..., 1])


def c2r(z):
    """(...) complex64 -> (..., 2) float32."""
    return tf.stack([tf.math.real(z), tf.math.imag(z)], axis=-1)


def _pixels(shape):
    """H * W of a (..., H, W) shape, as a Python float; H and W must be static."""
    h, w = (tf.dimension_value(d) for d in shape[-2:])
    if h is None or w is None:
        raise ValueError('the FFT layers need static H and W, got shape %s' % (shape,))
    return float(h * w)


def fft2(x):
    """Image (..., H, W, 2) -> orthonormal k-space (..., H, W) complex64 over H and W:
    numpy's fft2(x, norm='ortho'). The image is scaled by 1/sqrt(H W) before the transform (a
    float32 multiply), so no tensor ever holds the unnormalised k-space."""
    scale = 1.0 / math.sqrt(_pixels(x.shape[:-1]))
    return tf.signal.fft2d(r2c(x * scale))


def ifft2(k):
    """Orthonormal k-space (..., H, W) complex64 -> image (..., H, W, 2): numpy's
    ifft2(k, norm='ortho'). TF's ifft2d divides by H W, so its output is the image / sqrt(H W),
    smaller than the image; the float32 multiply by sqrt(H W) after it restores the image."""
    return c2r(tf.signal.ifft2d(k)) * math.sqrt(_pixels(k.shape))


def sampled_kspace(feature, mask):
    """k0 = fft2(feature) * mask: the acquired samples, recovered from the zero-filled input."""
    return fft2(feature) * tf.complex(mask, tf.zeros_like(mask))


def coil_fft2(x, maps):
    """Image (..., H, W, 2) and coil maps (..., C, H, W) complex64 -> the orthonormal k-space of
    every coil image S_c x, (..., C, H, W) complex64: fft2 of each coil, scaled as fft2."""
    scale = 1.0 / math.sqrt(_pixels(x.shape[:-1]))
    return tf.signal.fft2d(tf.expand_dims(r2c(x * scale), -3) * maps)


def coil_ifft2(k, maps):
    """Orthonormal per-coil k-space (..., C, H, W) complex64 -> the coil combination
    sum_c conj(S_c) ifft2(k_c), (..., H, W, 2): the adjoint of coil_fft2, scaled as ifft2."""
    # conj(S) as Complex(Real, -Imag) and the coil sum over float32 channels rather than Conj and
    # a complex Sum: the same numbers, with only op types the single-coil graph (which the port
    # took through ATC) already holds, plus Neg, Sum and ExpandDims on float32
    conj_maps = tf.complex(tf.math.real(maps), -tf.math.imag(maps))
    per_coil = c2r(tf.signal.ifft2d(k) * conj_maps)
    return tf.reduce_sum(per_coil, axis=-4) * math.sqrt(_pixels(k.shape))


def forward_op(x, maps=None):
    """The forward model: fft2(x) for one coil (maps None), coil_fft2(x, maps) for C coils."""
    return fft2(x) if maps is None else coil_fft2(x, maps)


def adjoint_op(k, maps=None):
    """The forward model's adjoint: ifft2(k) for one coil, coil_ifft2(k, maps) for C coils."""
    return ifft2(k) if maps is None else coil_ifft2(k, maps)


def coil_mask(mask, maps=None):
    """The mask (..., H, W) as it multiplies k-space: (..., 1, H, W), broadcast over the coils,
    when there are maps; unchanged (no op added) for one coil."""
    return mask if maps is None else tf.expand_dims(mask, -3)


def check_coil_inputs(kspace, coil_maps):
    """A network's multi-coil inputs: both or neither, complex64, (..., C, H, W) of one shape."""
    if (kspace is None) != (coil_maps is None):
        raise ValueError('multi-coil needs both kspace and coil_maps (or neither)')
    if kspace is None:
        return
    for name, t in (('kspace', kspace), ('coil_maps', coil_maps)):
        if t.dtype != tf.complex64:
            raise ValueError('%s must be complex64 (..., C, H, W), got %s' % (name, t.dtype))
    if not kspace.shape.is_compatible_with(coil_maps.shape):
        raise ValueError('kspace %s and coil_maps %s differ in shape'
                         % (kspace.shape, coil_maps.shape))


def coil_sampled_kspace(kspace, mask):
    """k0 of C coils: their k-space (..., C, H, W) complex64 times the mask (..., H, W), zero
    off the samples whatever was fed there."""
    mask = tf.expand_dims(mask, -3)
    return kspace * tf.complex(mask, tf.zeros_like(mask))


def data_consistency(x, k0, mask, lam=None, maps=None):
    """Replace (or, with `lam`, blend) the network's k-space by the acquired samples.

    lam None (noiseless): k = (1 - m) k_cnn + m k0.
    lam > 0 (noisy, paper eq. 8): k = (1 - m) k_cnn + m (k_cnn + lam k0) / (1 + lam),
    i.e. only sampled points change. Multi-coil: k_cnn becomes k_c = fft2(S_c x), the same
    formula acts on every coil and the result is the coil combination
    x = sum_c conj(S_c) ifft2(k_c). One coil with S = 1 is the single-coil layer; maps None
    adds exactly the single-coil graph's ops.

    Args:
      x: (..., H, W, 2) float32 image (the CNN's output).
      k0: (..., H, W) complex64 acquired samples (multi-coil: (..., C, H, W), every coil's).
      mask: (..., H, W) float32 0/1, uncentred.
      lam: None, or a positive float32 scalar tensor.
      maps: multi-coil only, (..., C, H, W) complex64 coil sensitivities normalised so that
        sum_c |S_c|^2 = 1 where the object is.
    Returns:
      (..., H, W, 2) float32, the image after data consistency.
    """
    k = forward_op(x, maps)
    mask = coil_mask(mask, maps)
    m = tf.complex(mask, tf.zeros_like(mask))
    if lam is None:
        k_dc = (1.0 - m) * k + m * k0
    else:
        lam_c = tf.complex(lam, tf.zeros_like(lam))
        k_dc = (1.0 - m) * k + m * (k + lam_c * k0) / (1.0 + lam_c)
    return adjoint_op(k_dc, maps)


LAMBDA_INIT = 10.0  # start close to hard DC: a large lambda trusts the acquired samples


def dc_layer(x, k0, mask, dc_mode, scope, maps=None):
    """The DC layer of one cascade / iteration: 'hard' replaces the sampled points; 'lambda'
    blends them with a learnable lambda = exp(`scope`/log_lambda), initialised LAMBDA_INIT
    (learned in log space, so it stays positive). `maps`: multi-coil (data_consistency)."""
    lam = None
    if dc_mode == 'lambda':
        with tf.variable_scope(scope):
            log_lam = tf.get_variable('log_lambda', [], initializer=tf.constant_initializer(
                math.log(LAMBDA_INIT)))
            lam = tf.exp(log_lam)
    return data_consistency(x, k0, mask, lam, maps)


def _roll_time(z, shift):
    """z[:, (t - shift) mod T] for every frame t: a circular shift along axis 1 (time) of a
    (N, T, ...) tensor with a static T, written with slices and concat (ops every backend has)."""
    t = tf.dimension_value(z.shape[1])
    shift %= t
    if shift == 0:
        return z
    return tf.concat([z[:, t - shift:], z[:, :t - shift]], axis=1)


def data_sharing(x, mask, frame_dist, divide_by_n, maps=None, k0=None):
    """The data-sharing (DS) layer of the dynamic cascade (Schlemper et al. 2018, sec. II-C).

    x: (N, T, H, W, 2) the cascade's input image, T static; mask: (N, T, H, W) 0/1, uncentred.
    For each d in frame_dist, the k-space k = fft2(x) and the mask are summed over frames
    t-d..t+d with wrap-around in time (the cine is one periodic cardiac cycle), the sum is
    divided by max(c, number of sampled contributions), c = 2d+1 when `divide_by_n` else 1, and
    the acquired samples of frame t are put back: res_d = avg (1-m) + k m.
    With divide_by_n False (the reference's first cascade, where k is zero off the samples) this
    is the mean of the sampled neighbours; later cascades' k is full, so divide by 2d+1.
    Multi-coil (maps (N, T, C, H, W) complex64): the same per coil on k_c = fft2(S_c x), and
    each res_d is coil-combined, sum_c conj(S_c) ifft2(res_d,c). In the first cascade
    (divide_by_n False) k_c is the acquired k-space k0 (N, T, C, H, W), zero off the samples:
    one coil's fft2(x) of the zero-filled input is exactly its k0, but C coils' fft2(S_c x) of
    their combination is not (the combination mixes the coils), and the layer shares what each
    coil acquired.
    Returns (N, T, H, W, 2 (1 + len(frame_dist))): [x, ifft2(res_d) for d in frame_dist].
    """
    if maps is not None and not divide_by_n:
        if k0 is None:
            raise ValueError('multi-coil data sharing in the first cascade needs k0')
        k = k0
    else:
        k = forward_op(x, maps)
    mask = coil_mask(mask, maps)
    m = tf.complex(mask, tf.zeros_like(mask))
    out = [x]
    ksum, msum, reach = k, mask, 0
    sums = {}
    for d in sorted(set(frame_dist)):
        while reach < d:  # grow the window one frame each side: 2 shifts per unit of distance
            reach += 1
            ksum = ksum + _roll_time(k, reach) + _roll_time(k, -reach)
            msum = msum + _roll_time(mask, reach) + _roll_time(mask, -reach)
        sums[d] = (ksum, msum)
    for d in frame_dist:
        ksum, msum = sums[d]
        c = float(2 * d + 1) if divide_by_n else 1.0
        div = tf.maximum(msum, c)
        avg = ksum / tf.complex(div, tf.zeros_like(div))
        out.append(adjoint_op(avg * (1.0 - m) + k * m, maps))
    return tf.concat(out, axis=-1)


def variable_seed(seed, name):
    """The op seed of one variable: a hash of the run's seed and the variable's full name.

    Under a graph seed, equal op seeds draw equal values, so one seed shared by every variable
    made all same-shaped kernels start identical. Hashing the name (not the creation order)
    keeps runs repeatable and leaves every other variable unchanged when a layer is added.
    None (no run seed) leaves TF's own per-op seeding."""
    if seed is None:
        return None
    return zlib.crc32(('%d:%s' % (seed, name)).encode('utf-8')) & 0x7fffffff


def he_normal(seed):
    """He et al. (2015) normal init, std = sqrt(2 / fan_in), the gain for ReLU layers
    (`init` 'he': what every model was initialised with before `init` existed)."""
    return tf.variance_scaling_initializer(scale=2.0, mode='fan_in',
                                           distribution='untruncated_normal', seed=seed)


def ref_normal(seed):
    """The reference's init, std = sqrt(1 / fan_in) (`init` 'ref'): lasagne's `HeNormal()` with
    its default gain 1, which js3611's Deep-MRI-Reconstruction gives every conv."""
    return tf.variance_scaling_initializer(scale=1.0, mode='fan_in',
                                           distribution='untruncated_normal', seed=seed)


def uniform_fan_in(seed):
    """PyTorch's default conv init, uniform in +-1/sqrt(fan_in) (variance 1/(3 fan_in); `init`
    'uniform', which also draws the biases so, `bias`): the peers' (docs/quality.md)."""
    return tf.variance_scaling_initializer(scale=1.0 / 3.0, mode='fan_in',
                                           distribution='uniform', seed=seed)


# The conv-kernel initialisers by the name saved in config.json ('init'; models.config.INITS).
KERNEL_INITS = {'ref': ref_normal, 'he': he_normal, 'uniform': uniform_fan_in}


def kernel_init(init):
    """The initialiser factory of `init` ('ref', 'he' or 'uniform'); ValueError for another
    name."""
    if init not in KERNEL_INITS:
        raise ValueError('init must be one of %s, got %r' % (sorted(KERNEL_INITS), init))
    return KERNEL_INITS[init]


def seeded_variable(name, shape, seed, init):
    """tf.get_variable(name, shape) in the current variable scope, initialised by `init(op
    seed)` with the op seed of `variable_seed(seed, full name)`: every drawn variable's seeding,
    kernels (`weight`) and biases (`bias`) alike."""
    full = '%s/%s' % (tf.get_variable_scope().name, name)
    return tf.get_variable(name, shape, initializer=init(variable_seed(seed, full)))


def weight(name, shape, seed, init=he_normal):
    """A kernel: `seeded_variable(name, shape, seed, init)`, listed once in the graph's
    tf.GraphKeys.WEIGHTS collection, the variables weight decay applies to (models.losses)."""
    w = seeded_variable(name, shape, seed, init)
    if w not in tf.get_collection(tf.GraphKeys.WEIGHTS):  # AUTO_REUSE returns the same variable
        tf.add_to_collection(tf.GraphKeys.WEIGHTS, w)
    return w


def bias(name, c_out, fan_in, seed, init):
    """A conv's bias (c_out,) in the current variable scope: uniform in +-1/sqrt(fan_in) for
    `init` 'uniform' (PyTorch's default, as the kernel; seeded as `seeded_variable`), else 0
    (the reference's lasagne Constant(); 'ref' and 'he'). Not in WEIGHTS: no weight decay."""
    if init != 'uniform':
        return tf.get_variable(name, [c_out], initializer=tf.zeros_initializer())
    bound = 1.0 / math.sqrt(fan_in)
    return seeded_variable(name, [c_out], seed,
                           lambda op_seed: tf.random_uniform_initializer(-bound, bound,
                                                                         seed=op_seed))


def _batch_norm(h, train, decay=0.9, eps=1e-3):
    """Batch norm from tf.nn.fused_batch_norm; moving averages updated in UPDATE_OPS."""
    c = tf.dimension_value(h.shape[-1])
    gamma = tf.get_variable('gamma', [c], initializer=tf.ones_initializer())
    beta = tf.get_variable('beta', [c], initializer=tf.zeros_initializer())
    mean = tf.get_variable('moving_mean', [c], initializer=tf.zeros_initializer(), trainable=False)
    var = tf.get_variable('moving_variance', [c], initializer=tf.ones_initializer(),
                          trainable=False)
    shape = tf.shape(h)
    h4 = tf.reshape(h, tf.stack([-1, shape[-3], shape[-2], c])) if h.shape.ndims == 5 else h
    if train:
        y, b_mean, b_var = tf.nn.fused_batch_norm(h4, gamma, beta, epsilon=eps, is_training=True)
        tf.add_to_collection(tf.GraphKeys.UPDATE_OPS,
                             tf.assign(mean, decay * mean + (1.0 - decay) * b_mean))
        tf.add_to_collection(tf.GraphKeys.UPDATE_OPS,
                             tf.assign(var, decay * var + (1.0 - decay) * b_var))
    else:
        y, _, _ = tf.nn.fused_batch_norm(h4, gamma, beta, mean=mean, variance=var, epsilon=eps,
                                         is_training=False)
    return tf.reshape(y, shape) if h.shape.ndims == 5 else y


def cnn_block(x, n_layers, nf, train, batch_norm=False, seed=None, init='he'):
    """n conv layers (3x3 or 3x3x3 for 5-D input), ReLU after all but the last, which maps
    back to 2 channels linearly, kernels initialised by `kernel_init(init)`, biases by `bias`
    (0 but for 'uniform').

    Args:
      x: (N, H, W, c) or (N, T, H, W, c) float32 input (c = 2, or more with data sharing).
      n_layers, nf: conv layers and filters; train: batch statistics when batch_norm.
      batch_norm: batch norm after each conv but the last; seed: the run seed, or None.
      init: 'he', 'ref' or 'uniform' (KERNEL_INITS).
    Returns:
      The 2-channel residual, x's shape with 2 channels (no skip added here).
    """
    kinit = kernel_init(init)
    dims = x.shape.ndims - 2
    h = x
    c_in = tf.dimension_value(x.shape[-1])
    for i in range(n_layers):
        last = i == n_layers - 1
        c_out = 2 if last else nf
        with tf.variable_scope('conv%d' % (i + 1)):
            w = weight('W', [3] * dims + [c_in, c_out], seed, init=kinit)
            h = conv(h, w)
            if batch_norm and not last:
                h = _batch_norm(h, train)
            else:
                h = h + bias('b', c_out, 3 ** dims * c_in, seed, init)
            if not last:
                h = tf.nn.relu(h)
        c_in = c_out
    return h
