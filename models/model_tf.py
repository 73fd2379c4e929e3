"""The D{n}-C{k} deep cascade (Schlemper et al. 2017) as a TF1-style graph.

Tensors are NHWC. Static 2D: images (N, H, W, 2) float32 (real, imag), masks (N, H, W).
Dynamic 2D+t: images (N, T, H, W, 2), masks (N, T, H, W). k-space is complex64 with the
numpy FFT layout (origin at [0, 0], unnormalised forward transform), the same convention as
`models.pre_input.undersample`, so k0 = fft2(feature) * mask exactly.

Only TF 1.15 ops are used (no Keras, no tf.layers), so the same graph builds under TF 1.15 +
npu_bridge and under TF 2.x through tensorflow.compat.v1.
"""
import math

import tensorflow.compat.v1 as tf

from models.config import DC_MODES

SCOPE = 'cascade_net'
LAMBDA_INIT = 10.0  # start close to hard DC: large lambda trusts the acquired samples


def r2c(x):
    """(..., 2) float32 -> (...) complex64."""
    return tf.complex(x[..., 0], x[..., 1])


def c2r(z):
    """(...) complex64 -> (..., 2) float32."""
    return tf.stack([tf.math.real(z), tf.math.imag(z)], axis=-1)


def fft2(x):
    """Image (..., H, W, 2) -> k-space (..., H, W) complex64, over the last two spatial axes."""
    return tf.signal.fft2d(r2c(x))


def ifft2(k):
    """k-space (..., H, W) complex64 -> image (..., H, W, 2)."""
    return c2r(tf.signal.ifft2d(k))


def sampled_kspace(feature, mask):
    """k0 = fft2(feature) * mask: the acquired samples, recovered from the zero-filled input."""
    return fft2(feature) * tf.complex(mask, tf.zeros_like(mask))


def data_consistency(x, k0, mask, lam=None):
    """Replace (or, with `lam`, blend) the network's k-space by the acquired samples.

    x: (..., H, W, 2) image; k0: (..., H, W) complex64 acquired samples; mask: (..., H, W).
    lam None (noiseless): k = (1 - m) k_cnn + m k0.
    lam > 0 (noisy, paper eq. 8): k = (1 - m) k_cnn + m (k_cnn + lam k0) / (1 + lam),
    i.e. only sampled points change.
    """
    k = fft2(x)
    m = tf.complex(mask, tf.zeros_like(mask))
    if lam is None:
        k_dc = (1.0 - m) * k + m * k0
    else:
        lam_c = tf.complex(lam, tf.zeros_like(lam))
        k_dc = (1.0 - m) * k + m * (k + lam_c * k0) / (1.0 + lam_c)
    return ifft2(k_dc)


def _roll_time(z, shift):
    """z[:, (t - shift) mod T] for every frame t: a circular shift along axis 1 (time) of a
    (N, T, ...) tensor with a static T, written with slices and concat (ops every backend has)."""
    t = tf.dimension_value(z.shape[1])
    shift %= t
    if shift == 0:
        return z
    return tf.concat([z[:, t - shift:], z[:, :t - shift]], axis=1)


def data_sharing(x, mask, frame_dist, divide_by_n):
    """The data-sharing (DS) layer of the dynamic cascade (Schlemper et al. 2018, sec. II-C).

    x: (N, T, H, W, 2) the cascade's input image, T static; mask: (N, T, H, W) 0/1, uncentred.
    For each d in frame_dist, the k-space k = fft2(x) and the mask are summed over frames
    t-d..t+d with wrap-around in time (the cine is one periodic cardiac cycle), the sum is
    divided by max(c, number of sampled contributions), c = 2d+1 when `divide_by_n` else 1, and
    the acquired samples of frame t are put back: res_d = avg (1-m) + k m.
    With divide_by_n False (the reference's first cascade, where k is zero off the samples) this
    is the mean of the sampled neighbours; later cascades' k is full, so divide by 2d+1.
    Returns (N, T, H, W, 2 (1 + len(frame_dist))): [x, ifft2(res_d) for d in frame_dist].
    """
    k = fft2(x)
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
        out.append(ifft2(avg * (1.0 - m) + k * m))
    return tf.concat(out, axis=-1)


def _he_init(seed):
    # He et al. normal init (std = sqrt(2 / fan_in)), as the reference's lasagne HeNormal.
    return tf.variance_scaling_initializer(scale=2.0, mode='fan_in',
                                           distribution='untruncated_normal', seed=seed)


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


def cnn_block(x, n_layers, nf, train, batch_norm=False, seed=None):
    """n conv layers (3x3 or 3x3x3 for 5-D input), ReLU after all but the last, which maps
    back to 2 channels linearly. Returns the 2-channel residual (no skip added here)."""
    dims = x.shape.ndims - 2
    conv = tf.nn.conv2d if dims == 2 else tf.nn.conv3d
    h = x
    c_in = tf.dimension_value(x.shape[-1])
    for i in range(n_layers):
        last = i == n_layers - 1
        c_out = 2 if last else nf
        with tf.variable_scope('conv%d' % (i + 1)):
            w = tf.get_variable('W', [3] * dims + [c_in, c_out], initializer=_he_init(seed))
            h = conv(h, w, strides=[1] * (dims + 2), padding='SAME')
            if batch_norm and not last:
                h = _batch_norm(h, train)
            else:
                h = h + tf.get_variable('b', [c_out], initializer=tf.zeros_initializer())
            if not last:
                h = tf.nn.relu(h)
        c_in = c_out
    return h


def makeModel(feature, mask, train, nLayers=5, K=5, nf=64, dc_mode='hard',
              batch_norm=False, share_weights=False, seed=None, frame_dist=None):
    """Build D{nLayers}-C{K}, or with 5-D input the dynamic D{nLayers}-C{K}(S).

    feature: (N, H, W, 2) float32 zero-filled image; mask: (N, H, W) float32 0/1, uncentred.
    Dynamic: feature (N, T, H, W, 2) with a static T, mask (N, T, H, W); 3x3x3 convolutions,
    per-frame data consistency, and when `frame_dist` is a non-empty list the data-sharing layer
    before each cascade's CNN (divide by the sampled count in cascade 1, by 2d+1 after, as the
    reference does). frame_dist None or [] gives the plain 3D cascade.
    train: True for the training graph (batch norm uses batch statistics).
    Returns a dict: 'k0' the acquired k-space, 'cnn{i}' each cascade's CNN output (after the
    residual), 'dc{i}' each cascade's output after data consistency, i = 1..K; 'dc0' is the
    input. Variables live under `cascade_net/` with AUTO_REUSE, so a second call (e.g. an
    evaluation copy with train=False) shares them.
    """
    if dc_mode not in DC_MODES:
        raise ValueError('dc_mode must be one of %s' % (DC_MODES,))
    out = {'dc0': feature}
    with tf.variable_scope(SCOPE, reuse=tf.AUTO_REUSE):
        k0 = sampled_kspace(feature, mask)
        out['k0'] = k0
        x = feature
        for i in range(1, K + 1):
            cnn_in = x
            if frame_dist:
                with tf.name_scope('ds%d' % i):
                    cnn_in = data_sharing(x, mask, frame_dist, divide_by_n=i > 1)
            with tf.variable_scope('cnn' if share_weights else 'cnn%d' % i):
                x = x + cnn_block(cnn_in, nLayers, nf, train, batch_norm, seed)
            out['cnn%d' % i] = x
            lam = None
            if dc_mode == 'lambda':
                with tf.variable_scope('dc%d' % i):
                    log_lam = tf.get_variable('log_lambda', [],
                                              initializer=tf.constant_initializer(
                                                  math.log(LAMBDA_INIT)))
                    lam = tf.exp(log_lam)
            x = data_consistency(x, k0, mask, lam)
            out['dc%d' % i] = x
    return out


def model_from_config(feature, mask, train, cfg):
    """makeModel with the architecture fields of a saved run configuration (models.config)."""
    dynamic = cfg.get('model', 'static') == 'dynamic'
    return makeModel(feature, mask, train, nLayers=cfg['Dn'], K=cfg['Dc'], nf=cfg['nf'],
                     dc_mode=cfg['dc_mode'], batch_norm=cfg['batch_norm'],
                     share_weights=cfg['share_weights'], seed=cfg.get('random_seed'),
                     frame_dist=cfg.get('frame_dist') if dynamic else None)


def input_shape(cfg, batch=None, height=None, width=None, frames=None):
    """The `mask` placeholder's shape: [batch, H, W], or [batch, T, H, W] for a dynamic model
    (T fixed: cfg['frames'] unless given); `feature` adds a trailing 2."""
    h = height or cfg['image_size'][0]
    w = width or cfg['image_size'][1]
    if cfg.get('model', 'static') == 'dynamic':
        return [batch, frames or cfg['frames'], h, w]
    return [batch, h, w]


def build_inference_graph(cfg, batch=None, height=None, width=None, frames=None):
    """A fresh graph with placeholders `feature` (batch, H, W, 2) and `mask` (batch, H, W)
    and the output `predTst` (batch, H, W, 2); for a dynamic model (batch, T, H, W, 2),
    (batch, T, H, W) and (batch, T, H, W, 2). Returns (graph, feature, mask, predTst)."""
    shape = input_shape(cfg, batch, height, width, frames)
    graph = tf.Graph()
    with graph.as_default():
        feature = tf.placeholder(tf.float32, shape + [2], name='feature')
        mask = tf.placeholder(tf.float32, shape, name='mask')
        out = model_from_config(feature, mask, False, cfg)
        pred = tf.identity(out['dc%d' % cfg['Dc']], name='predTst')
    return graph, feature, mask, pred


def model_variables(graph=None):
    """The variables a checkpoint must hold to run the model (weights + batch-norm stats)."""
    graph = graph or tf.get_default_graph()
    return graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES, scope=SCOPE + '/')
