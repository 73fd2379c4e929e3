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
"""Quality at a fixed budget, step for step beside the PyTorch peers (peer_torch_*.py, written
from the papers; not part of this repository).

  python bench/quality.py TRAIN.h5 TEST.h5 --model static --Dn 5 --Dc 5 --nf 32 --batch 4 \\
      --steps 600 --seed 0 --init ref
  python bench/quality.py TRAIN.h5 TEST.h5 --model dynamic --Dn 4 --Dc 4 --nf 16 --batch 2 \\
      --frame_dist 0 1 2 --init ref      # --frame_dist with no values: the 3D cascade, no DS
  python bench/quality.py TRAIN.h5 TEST.h5 --model crnn --Dn 5 --Dc 5 --nf 16 --batch 2

The graph is train.py's (models.model_tf.model_from_config, models.losses.mse, Adam with
learning rate 1e-3 and models.config.adam_beta1 unless --beta1 is given); the data are fed as the
peers feed theirs, so both see the same images in the same order: the HDF5 `label` (complex or
float, used as stored) and `mask`, a batch of `--batch` indices drawn without replacement by
numpy's default_rng(seed) each step, the zero-filled input made with the orthonormal FFT
(models.pre_input.undersample). Test PSNR is on magnitude with data range max - min of the
ground truth (models.metrics.psnr): per image (2D), or per sequence over all its frames
(`psnr_re`) and per frame averaged over frames (`frame_psnr_re`, test.py's rule) for 2D+t data.
Without --init the run starts as train.py starts a new run of the model
(models.config.init_default).
`--diag N` prints, for the first N steps, each cascade's residual rms and the gradient norm of
its variables (task: compare with a peer layer by layer).
Diagnostics (docs/quality.md, "Ours run as the peer, step for step"): --init_npz starts from given
weights (a peer's), --torch_adam adds Adam's epsilon where PyTorch does, --loss_scale 2 is the
2D+t peer's loss, --peer_init draws PyTorch's default initialisation; the run lines name them.
Prints last: quality model=.. init=..[ options] seed=.. [frame_psnr_in=.. frame_psnr_re=..]
psnr_in=.. psnr_re=.. seconds=..
"""
import os
import sys
import time

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from models import config as cfgmod  # noqa: E402
from models.errors import (ArgumentParser, InputError, exit_on_input_error,  # noqa: E402
                           first_line)
from models import metrics, pre_input  # noqa: E402


def parse(argv=None):
    p = ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('train')
    p.add_argument('test')
    p.add_argument('--model', choices=cfgmod.MODELS, default='static')
    p.add_argument('--Dn', type=int, default=5)
    p.add_argument('--Dc', type=int, default=5)
    p.add_argument('--nf', type=int, default=32)
    p.add_argument('--frame_dist', type=int, nargs='*', default=[])
    p.add_argument('--init', choices=cfgmod.INITS, default=None,
                   help="conv initialisation (default: what train.py gives a new run of the "
                        "model, models.config.init_default: 'uniform' for the DS cascade, "
                        "'ref' for every other)")
    p.add_argument('--steps', type=int, default=600)
    p.add_argument('--batch', type=int, default=4)
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--beta1', type=float, default=None,
                   help='Adam beta1 (default: models.config.adam_beta1 of the model)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--diag', type=int, default=0, metavar='N')
    p.add_argument('--peer_init', action='store_true',
                   help='diagnostic: after initialising, redraw every kernel W and bias b as '
                        'PyTorch does by default (uniform in +-1/sqrt(fan_in) of the kernel)')
    p.add_argument('--init_npz', default=None, metavar='FILE',
                   help='diagnostic: start from the weights in FILE (.npz, one array per '
                        'trainable variable, keyed by its name without ":0"), e.g. a peer\'s')
    p.add_argument('--torch_adam', action='store_true',
                   help='diagnostic: Adam with epsilon added to the bias-corrected sqrt(v) '
                        '(PyTorch) instead of TensorFlow\'s and lasagne\'s epsilon-hat on the '
                        'uncorrected one: epsilon-hat = 1e-8 sqrt(1 - beta2^t)')
    p.add_argument('--loss_scale', type=float, default=1.0,
                   help='diagnostic: multiply the loss (2: the 2D+t peer\'s mean |complex '
                        'error|^2); Adam is invariant to it but for its epsilon')
    p.add_argument('--threads', type=int, default=0,
                   help='intra-op threads (0: TensorFlow\'s default, one per core)')
    a = p.parse_args(argv)
    if a.init is None:
        a.init = train_init(a)
    return a


def train_init(a):
    """The initialisation train.py gives a new run of the model `a` describes (the bench's
    --frame_dist: none given is the 3D cascade without DS, where train.py's default has DS)."""
    return cfgmod.init_default(cfgmod.Config(model=a.model, frame_dist=list(a.frame_dist)))


def load(path):
    """(label complex64 (N, [T,] H, W), mask float32 of the same shape) as the peers read them."""
    try:
        with h5py.File(path, 'r') as f:
            return f['label'][()].astype(np.complex64), f['mask'][()].astype(np.float32)
    except (OSError, KeyError) as e:
        raise InputError('%s: %s' % (path, first_line(e)))


def net_config(a):
    """The run configuration model_from_config reads (train.py's keys)."""
    return {'model': a.model, 'net': 'cascade', 'Dn': a.Dn, 'Dc': a.Dc, 'nf': a.nf,
            'dc_mode': 'hard', 'batch_norm': False, 'share_weights': a.model == 'crnn',
            'frame_dist': list(a.frame_dist), 'random_seed': a.seed, 'init': a.init}


def feed(ph, gt, m):
    zf = pre_input.undersample(gt, m)
    return {ph['feature']: pre_input.to_two_channel(zf), ph['mask']: m,
            ph['label']: pre_input.to_two_channel(gt)}


def diagnostics(tf, out, loss, n_cascades):
    """Per cascade: the rms of its CNN's residual (cnn_i - dc_{i-1}) and the gradient norm of
    the variables built in it (none for CRNN-MRI, whose iterations share one set)."""
    rms = [tf.sqrt(tf.reduce_mean(tf.square(out['cnn%d' % i] - out['dc%d' % (i - 1)])))
           for i in range(1, n_cascades + 1)]
    norms = []
    for i in range(1, n_cascades + 1):
        vs = [v for v in tf.trainable_variables() if '/cnn%d/' % i in v.name]
        gs = [g for g in tf.gradients(loss, vs) if g is not None]
        norms.append(tf.global_norm(gs) if gs else tf.constant(0.0))
    return rms, norms


def adam(tf, lr, beta1, torch_eps, step, eps=1e-8, beta2=0.999):
    """TensorFlow's Adam (train.py's). Its update is lr sqrt(1-b2^t)/(1-b1^t) m / (sqrt(v) + eps):
    eps on the uncorrected sqrt(v), as in lasagne (the reference). PyTorch adds eps to the
    corrected sqrt(v / (1-b2^t)); with torch_eps the same update is had by passing TensorFlow
    eps sqrt(1-b2^t), t = step + 1 (`step`: the global step, incremented after each update)."""
    if torch_eps:
        eps = eps * tf.sqrt(1.0 - tf.pow(beta2, tf.cast(step, tf.float32) + 1.0))
    return tf.train.AdamOptimizer(lr, beta1=beta1, beta2=beta2, epsilon=eps)


def peer_initialise(tf, sess, seed):
    """Redraw every conv kernel (.../W, (k..., cin, cout)) and bias (.../b) uniform in
    +-1/sqrt(fan_in), fan_in = prod(k) * cin of the kernel: torch.nn.ConvNd's default."""
    rng = np.random.default_rng(seed + 1000)
    variables = tf.trainable_variables()
    fan_in = dict((v.name.rsplit('/', 1)[0], int(np.prod(v.shape.as_list()[:-1])))
                  for v in variables if v.name.endswith('/W:0'))
    for v in variables:
        scope, leaf = v.name.rsplit('/', 1)
        if leaf in ('W:0', 'b:0') and scope in fan_in:
            bound = 1.0 / np.sqrt(fan_in[scope])
            v.load(rng.uniform(-bound, bound, v.shape.as_list()).astype(np.float32), sess)


def load_weights(tf, sess, path):
    """Assign every trainable variable its array from the .npz at `path` (keys: variable names
    without ':0'); a missing key or a shape that differs is an error, so nothing is left at its
    own initial value unnoticed."""
    try:
        z = np.load(path)
    except (OSError, ValueError) as e:
        raise InputError('%s: %s' % (path, first_line(e)))
    with z:
        for v in tf.trainable_variables():
            key = v.name[:-2]
            if key not in z.files or tuple(z[key].shape) != tuple(v.shape.as_list()):
                raise InputError('%s: no array %s of shape %s' % (path, key, v.shape.as_list()))
            v.load(z[key].astype(np.float32), sess)


def evaluate(run, gt_all, m_all, dynamic):
    """Mean test PSNRs (IN, RE; dynamic also per frame) over the test items, one at a time."""
    res = {'psnr_in': [], 'psnr_re': [], 'frame_psnr_in': [], 'frame_psnr_re': []}
    for i in range(len(gt_all)):
        gt, m = gt_all[i:i + 1], m_all[i:i + 1]
        zf = pre_input.undersample(gt, m)[0]
        rec = pre_input.to_complex(run(gt, m)[0])
        res['psnr_in'].append(metrics.psnr(gt[0], zf))
        res['psnr_re'].append(metrics.psnr(gt[0], rec))
        if dynamic:
            res['frame_psnr_in'].append(np.mean([metrics.psnr(g, z) for g, z in zip(gt[0], zf)]))
            res['frame_psnr_re'].append(np.mean([metrics.psnr(g, r) for g, r in zip(gt[0], rec)]))
    return dict((k, float(np.mean(v))) for k, v in res.items() if v)


def variant(a):
    """The diagnostic options a run was made with, as printed after init=."""
    tags = [' peer_init'] if a.peer_init else []
    tags += [' init_npz=%s' % a.init_npz] if a.init_npz else []
    tags += [' torch_adam'] if a.torch_adam else []
    tags += [' loss_scale=%g' % a.loss_scale] if a.loss_scale != 1 else []
    return ''.join(tags)


@exit_on_input_error
def main(argv=None):
    a = parse(argv)
    import tensorflow.compat.v1 as tf
    from models import losses, model_tf
    tf.disable_eager_execution()
    gtr, mtr = load(a.train)
    gte, mte = load(a.test)
    cfg = net_config(a)
    dynamic = cfgmod.is_dynamic(cfg)
    if dynamic != (gtr.ndim == 4):
        raise InputError('%s: label %s does not suit --model %s' % (a.train, gtr.shape, a.model))
    beta1 = cfgmod.adam_beta1(cfg) if a.beta1 is None else a.beta1
    tf.reset_default_graph()
    tf.set_random_seed(a.seed)
    shape = [None] + list(gtr.shape[1:])
    ph = {'feature': tf.placeholder(tf.float32, shape + [2]),
          'mask': tf.placeholder(tf.float32, shape),
          'label': tf.placeholder(tf.float32, shape + [2])}
    out = model_tf.model_from_config(ph['feature'], ph['mask'], True, cfg)
    pred = out['dc%d' % a.Dc]
    loss = losses.mse(pred, ph['label']) * a.loss_scale
    diag = diagnostics(tf, out, loss, a.Dc) if a.diag else None
    step = tf.train.get_or_create_global_step()
    train_op = adam(tf, a.lr, beta1, a.torch_adam, step).minimize(loss, global_step=step)
    sess = tf.Session(config=tf.ConfigProto(inter_op_parallelism_threads=1,
                                            intra_op_parallelism_threads=a.threads))
    sess.run(tf.global_variables_initializer())
    if a.peer_init:
        peer_initialise(tf, sess, a.seed)
    if a.init_npz:
        load_weights(tf, sess, a.init_npz)
    print('quality: %s nf=%d init=%s%s beta1=%g batch=%d steps=%d seed=%d, %d train / %d test'
          % (cfgmod.model_name(cfg), a.nf, a.init, variant(a), beta1, a.batch, a.steps, a.seed,
             len(gtr), len(gte)), flush=True)
    rng = np.random.default_rng(a.seed)
    t0 = time.time()
    for s in range(a.steps):
        idx = rng.choice(len(gtr), a.batch, replace=False)
        fd = feed(ph, gtr[idx], mtr[idx])
        if s < a.diag:
            rms, norms = sess.run(diag, fd)
            print('diag step=%d rms=%s grad=%s' % (s, ' '.join('%.3g' % v for v in rms),
                                                   ' '.join('%.3g' % v for v in norms)))
        value, _ = sess.run([loss, train_op], fd)
        if s % 100 == 0:
            print('step %d loss %.6g' % (s, value), flush=True)
    secs = time.time() - t0
    res = evaluate(lambda g, m: sess.run(pred, feed(ph, g, m)), gte, mte, dynamic)
    print('quality model=%s init=%s%s seed=%d %s seconds=%.0f' % (
        a.model + ('' if a.model != 'dynamic' else '_ds' if a.frame_dist else '_nods'),
        a.init, variant(a), a.seed, ' '.join('%s=%.3f' % (k, res[k]) for k in sorted(res)), secs))


if __name__ == '__main__':
    main()
