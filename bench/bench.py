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
"""Speed and memory figures of the D{n}-C{k} cascade on this machine (a script, not a test).

  python bench/bench.py --batch 4 --size 256 --nd 5 --nc 5 --nf 64 --steps 3 [--peer]
      [--conv_grad tf auto ...] [--isa_cap AVX2]
  python bench/bench.py --model crnn --frames 16 --size 48 --batch 4 --nd 5 --nc 5 --nf 16 \
      --steps 5 [--compare]
  python bench/bench.py --coils 1 4 8 15 --size 320 --batch 1 --nd 5 --nc 5 --nf 64 --steps 2

With --coils C [C ...] (multi-coil training, models.step's step on the multi-coil placeholders
kspace and coil_maps; C = 1 is the multi-coil graph with one coil, and the single-coil graph is
timed first as the reference row) it prints, per C, one line: the training step time (median),
the time of the Dc multi-coil DC layers alone (forward + backward, at the same shapes) and its
share of the step, and the peak RSS of a child process that builds and runs that step (each C
in its own process; the peak is read before the DC-only graph is built), with ratios to C = 1.

With --model crnn (CRNN-MRI on T-frame sequences; --nd, --nc are its layers and iterations)
it prints training sequences/sec and frame images/sec, the convolutions' achieved GFLOP/s and
their ratio to the matmul rate, inference ms per sequence and the parameter count; --compare
times the dynamic cascades D{nd}-C{nc}(S) (data sharing 0..4) and D{nd}-C{nc} 3D in the same
run, their training steps interleaved with CRNN's, and prints the ratios. Conv FLOPs are
counted analytically (dynamic_conv_flops). The rest of the list below is the 2-D cascade's.

Prints, for one configuration, with the session config train.py uses (models.device):
  * the CPU model, its ISA flags, whether TensorFlow's oneDNN is on, the oneDNN ISA cap and
    the oneDNN kernels a conv and its gradients run (ONEDNN_VERBOSE in a child process);
  * training images/sec and ms per step (feed of constant arrays, Adam, as train.py), for
    each --conv_grad setting (models/nets/conv.py), the settings' steps interleaved;
  * achieved GFLOP/s of the convolutions, counted analytically as 2*H*W*k*k*cin*cout per layer
    per image, x3 for forward + backward (less cascade 1's first-layer grad-input, which TF
    does not run), and its ratio to a float32 matmul measured in the
    same run with the same session config (timed before and after the training steps);
  * every conv layer shape of the model timed alone (forward, grad-input, and grad-filter by
    each implementation: tf, eigen, matmul), the fastest filter gradient per layer kind, and
    the sum of those times (with the first setting's choice) against the measured step;
  * the time of the FFT/data-consistency part alone (forward + backward), as a share of a step;
  * inference ms per image at batch 1 and at batch N (the exported graph, train=False);
  * input-pipeline overhead: wall time per step with real HDF5 input through
    models.pre_input.Batches + Prefetch (a feed_dict) vs feeding constant arrays;
  * train.py's tf.data input (models.pipeline.TrainInput, the form the NPU sinks) vs that
    feed_dict input: wall and CPU time per step of each in the same run, blocks alternated
    (ABBA), and their ratio (--input_only runs this comparison alone);
  * peak RSS of this process, and the HDF5 streaming check: peak RSS of a subprocess reading a
    file through Batches + Prefetch vs one reading a 10x larger file;
  * with --peer, the PyTorch peer (peer_torch_dncn.py) on the same config in the same run and
    the images/sec ratio. torch is not a dependency of this project: install it by hand.
--clock cpu times everything (except the peer, which times itself by wall clock) by this
process's CPU time, which a loaded machine disturbs far less than wall time.
--isa_cap AVX2 emulates an AVX2-only CPU on an AVX-512 one: it caps oneDNN's kernels
(ONEDNN_MAX_CPU_ISA, for TensorFlow and for torch) and torch's own and MKL's kernels
(ATEN_CPU_CAPABILITY, MKL_ENABLE_INSTRUCTIONS). It does not change TensorFlow's oneDNN default,
which follows the real CPU: add TF_ENABLE_ONEDNN_OPTS=0 to emulate TensorFlow's default there.
Other processes share the CPU: the load average is printed with the figures; repeat runs.
"""
import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import numpy as np  # noqa: E402

from models import cpu, masks, pre_input  # noqa: E402
from models.data.h5writer import H5Writer, normalise  # noqa: E402
from models.data.synthetic import phantom  # noqa: E402

# The PyTorch peer is not part of this repository: give its path with --peer_script or
# CASCADENET_PEER_SCRIPT.
PEER = os.environ.get('CASCADENET_PEER_SCRIPT', '')


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--batch', type=int, default=4)
    p.add_argument('--size', type=int, default=256)
    # the peer's flag names; Dn and Dc everywhere else
    p.add_argument('--nd', dest='Dn', type=int, default=5, help='conv layers per cascade (Dn)')
    p.add_argument('--nc', dest='Dc', type=int, default=5, help='cascades (Dc)')
    p.add_argument('--nf', type=int, default=64)
    p.add_argument('--steps', type=int, default=3, help='timed steps per measurement')
    p.add_argument('--warmup', type=int, default=1, help='untimed steps before each measurement')
    p.add_argument('--repeats', type=int, default=1,
                   help='alternate constant / HDF5 training blocks this many times')
    p.add_argument('--intra_op', type=int, default=None, help='override intra-op threads')
    p.add_argument('--inter_op', type=int, default=None, help='override inter-op threads')
    p.add_argument('--rss_images', type=int, default=32,
                   help='images in the small file of the streaming check (large: 10x)')
    p.add_argument('--skip_rss', action='store_true', help='skip the HDF5 streaming check')
    p.add_argument('--input_only', action='store_true',
                   help='only compare train.py\'s tf.data input with the feed_dict input')
    p.add_argument('--peer', action='store_true', help='also run the PyTorch peer')
    p.add_argument('--peer_script', default=PEER,
                   help='path of the peer script (default: $CASCADENET_PEER_SCRIPT)')
    p.add_argument('--conv_grad', nargs='+', default=['auto'], choices=cpu.CONV_GRAD_SETTINGS,
                   help='filter-gradient settings to time the training step with (interleaved)')
    p.add_argument('--isa_cap', default='',
                   help='cap oneDNN / torch / MKL at this ISA, e.g. AVX2 (see above)')
    p.add_argument('--clock', default='wall', choices=sorted(CLOCK),
                   help='time by wall clock, or by this process\'s CPU time (shared machines)')
    p.add_argument('--rss_child', default='', help=argparse.SUPPRESS)
    p.add_argument('--coils', type=int, nargs='+', default=None, metavar='C',
                   help='multi-coil mode: time the training step with C coils, each C in a '
                   'child process (step time, FFT/DC share, peak RSS)')
    p.add_argument('--coil_child', type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument('--model', default='static', choices=('static', 'crnn'),
                   help='static: the 2-D D{nd}-C{nc} cascade; crnn: CRNN-MRI on --frames frames')
    p.add_argument('--frames', type=int, default=16, help='--model crnn: frames per sequence')
    p.add_argument('--compare', action='store_true',
                   help='--model crnn: also time D{nd}-C{nc}(S) and D{nd}-C{nc} 3D, interleaved')
    a = p.parse_args(argv)
    if a.coils is not None and min(a.coils) < 1:
        p.error('--coils takes coil counts >= 1, got %s' % a.coils)
    if a.peer and not os.path.isfile(a.peer_script or ''):
        p.error('--peer needs the PyTorch peer script: --peer_script PATH (got %r)'
                % a.peer_script)
    return a


def cap_isa(isa):
    """Cap oneDNN (TensorFlow's and torch's), torch's ATen kernels and MKL at `isa` for this
    process and its children; call before TensorFlow is imported."""
    isa = isa.upper()
    os.environ['ONEDNN_MAX_CPU_ISA'] = isa
    wide = 'AVX512' in isa or 'AMX' in isa or isa == 'ALL'
    os.environ['ATEN_CPU_CAPABILITY'] = ('avx512' if wide else 'avx2' if isa.startswith('AVX2')
                                         else 'default')
    os.environ['MKL_ENABLE_INSTRUCTIONS'] = ('AVX512' if wide else 'AVX2' if isa.startswith('AVX2')
                                             else 'AVX' if isa.startswith('AVX') else 'SSE4_2')


# A conv layer and its two gradients, run with ONEDNN_VERBOSE=1 in a child process: ours,
# and the peer's (torch, NCHW, batch 4 so that torch takes its oneDNN path).
ONEDNN_PROBE = """
import models, numpy as np
from models.tfv1 import tf_v1
tf = tf_v1()
x = tf.Variable(np.ones((4, 32, 32, 16), np.float32))
w = tf.Variable(np.ones((3, 3, 16, 16), np.float32))
y = tf.nn.conv2d(x, w, [1, 1, 1, 1], 'SAME')
g = tf.gradients(tf.reduce_sum(y * y), [x, w])
with tf.Session() as s:
    s.run(tf.global_variables_initializer())
    s.run(g)
"""
TORCH_PROBE = """
import torch
x = torch.ones(4, 16, 32, 32, requires_grad=True)
c = torch.nn.Conv2d(16, 16, 3, padding=1)
(c(x) ** 2).sum().backward()
print('aten', torch.backends.cpu.get_cpu_capability())
"""


def onednn_kernels(probe=ONEDNN_PROBE):
    """'isa "<oneDNN's ISA line>"; <implementation> <propagation>, ...' of the conv primitives
    that `probe` (a small conv + gradients) runs in a child process, or why there are none."""
    env = dict(os.environ, ONEDNN_VERBOSE='1', TF_CPP_MIN_LOG_LEVEL='3')
    r = subprocess.run([sys.executable, '-c', probe], cwd=ROOT, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    if r.returncode != 0:
        return 'probe failed (%s)' % (r.stdout.strip().splitlines() or ['?'])[-1]
    isa, seen = '', []
    extra = [line for line in r.stdout.splitlines() if line.startswith('aten ')]
    for line in r.stdout.splitlines():
        f = line.split(',')
        if line.startswith('onednn_verbose') and ',info,cpu,isa:' in line:
            isa = line.split('isa:', 1)[1].strip()
        elif line.startswith('onednn_verbose') and len(f) > 7 and f[3] == 'exec' \
                and f[5] == 'convolution' and (f[6], f[7]) not in seen:
            seen.append((f[6], f[7]))
    if not isa:
        return 'none ran (oneDNN off, or built without oneDNN)'
    return 'isa "%s"; %s%s' % (isa, ', '.join('%s %s' % k for k in seen) or 'no conv primitive',
                               ''.join('; ' + e for e in extra))


def peak_rss_mb():
    """Peak resident memory of this process in MB. VmHWM, not ru_maxrss: Linux carries
    ru_maxrss across fork + exec, so a child started from a big parent would report the
    parent's peak."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) / 1024.0
    except IOError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kB


def conv_flops_per_image(size, nd, nc, nf, k=3):
    """Forward conv FLOPs of one image: 2*H*W*k*k*cin*cout summed over layers and cascades."""
    chans = [2] + [nf] * (nd - 1) + [2]
    per_cascade = sum(2 * size * size * k * k * a * b for a, b in zip(chans[:-1], chans[1:]))
    return nc * per_cascade


def write_h5(path, n, size, distinct=8):
    """n images (cycling through `distinct` phantoms), one cartesian mask each."""
    imgs = [normalise(phantom(size, seed=0, index=i))[0] for i in range(min(n, distinct))]
    w = H5Writer(path, (size, size), True, {'acc': 4.0, 'sample_n': 8,
                                             'mask_type': 'cartesian'})
    for i in range(n):
        w.append(imgs[i % len(imgs)], masks.make_mask('cartesian', (size, size), 4.0, 8,
                                                       seed=i), 1.0, 'img%d' % i)
    w.close()


def rss_child(path, batch):
    """Read a whole file through Batches + Prefetch (as train.py); print the peak RSS."""
    data = pre_input.H5Data(path)
    batches = pre_input.Batches(data, batch, seed=0)
    stream = pre_input.Prefetch(batches.from_step(0), size=3)
    for _ in range(batches.steps_per_epoch):
        next(stream)
    stream.close()
    print('images=%d peak_rss_mb=%.1f' % (data.n, peak_rss_mb()))


def run_rss_check(a, tmp):
    out = {}
    for name, n in (('small', a.rss_images), ('large', 10 * a.rss_images)):
        path = os.path.join(tmp, 'rss_%s.hdf5' % name)
        write_h5(path, n, a.size)
        r = subprocess.run([sys.executable, os.path.abspath(__file__), '--rss_child', path,
                            '--batch', str(a.batch)], stdout=subprocess.PIPE,
                           universal_newlines=True, check=True)
        rss = float(re.search(r'peak_rss_mb=(\S+)', r.stdout).group(1))
        out[name] = (n, os.path.getsize(path) / 2.0 ** 20, rss)
        os.remove(path)
    return out


# Wall time by default; --clock cpu takes this process's CPU time (all threads), which other
# processes on a shared machine disturb far less: rates are then per CPU-second.
CLOCK = {'wall': time.perf_counter, 'cpu': time.process_time}
clock = CLOCK['wall']


def median_time(fn, steps, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(steps):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return statistics.median(times)


def input_compare(tf, config, a, cfg, batches):
    """Wall and CPU time per training step with train.py's tf.data input (TrainInput) and with
    the feed_dict input it replaced (Batches + Prefetch thread): the same model, optimizer and
    session config, one graph each, `a.repeats` pairs of blocks of `a.steps` timed steps (after
    `a.warmup` untimed ones), the order inside a pair alternating (ABBA), so a change in the
    machine's load falls on both. Blocks, not single steps alternated: each input's background
    work (reading and undersampling the next batches) then falls in its own block.
    Returns {'tf.data': [(wall, cpu) per block], 'feed_dict': [...]}, seconds per step."""
    from models import pipeline, step as stepmod

    def build(use_pipeline):
        graph = tf.Graph()
        with graph.as_default():
            tf.set_random_seed(0)
            inputs = pipeline.TrainInput(batches) if use_pipeline else None
            if inputs is not None:
                f, l, m = inputs.feature, inputs.label, inputs.mask
            else:
                f, l, m = step_inputs(tf, [None, a.size, a.size])
            step = stepmod.build(cfg, f, m, l)
            fetches = [step.loss, step.train_op]
            sess = tf.Session(graph=graph, config=config)
            sess.run(tf.global_variables_initializer())
            if inputs is not None:
                inputs.initialize(sess, 0)
        return sess, fetches, (f, l, m)

    data_sess, data_fetches, _ = build(True)
    feed_sess, feed_fetches, (f, l, m) = build(False)

    def block(step):
        for _ in range(a.warmup):
            step()
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(a.steps):
            step()
        return ((time.perf_counter() - t0) / a.steps, (time.process_time() - c0) / a.steps)

    def feed_block():
        stream = pre_input.Prefetch(batches.from_step(0), size=3)

        def step():
            b = next(stream)[2]
            feed_sess.run(feed_fetches, {f: b['feature'], l: b['label'], m: b['mask']})
        try:
            return block(step)
        finally:
            stream.close()

    times = {'tf.data': [], 'feed_dict': []}
    runs = [('feed_dict', feed_block),
            ('tf.data', lambda: block(lambda: data_sess.run(data_fetches)))]
    for r in range(a.repeats):
        for name, run in (runs if r % 2 == 0 else runs[::-1]):
            times[name].append(run())
    data_sess.close()
    feed_sess.close()
    return times


def session_config(a):
    from models import device
    cfg = device.session_config('cpu', 'must_keep_origin_dtype', seed_threads=True)
    if a.intra_op is not None:
        cfg.intra_op_parallelism_threads = a.intra_op
    if a.inter_op is not None:
        cfg.inter_op_parallelism_threads = a.inter_op
    return cfg


def matmul_gflops(tf, config, n=2048, steps=5):
    g = tf.Graph()
    with g.as_default():
        x = tf.Variable(np.random.default_rng(0).standard_normal((n, n)).astype(np.float32))
        y = tf.reduce_sum(tf.matmul(x, x))  # reduce: no n*n fetch in the timing
        with tf.Session(config=config) as sess:
            sess.run(tf.global_variables_initializer())
            t = median_time(lambda: sess.run(y), steps, 2)
    return 2.0 * n ** 3 / t / 1e9


def conv_op_rates(tf, config, a, cin, cout, steps):
    """GFLOP/s of the ops of one cin->cout 3x3 layer at the benchmark's shape: forward,
    gradient w.r.t. the input and w.r.t. the filter by each implementation of
    models.nets.conv.FILTER_GRADS (each 2*H*W*9*cin*cout per image)."""
    from models.nets import conv
    rng = np.random.default_rng(0)
    xs, ys = (a.batch, a.size, a.size, cin), (a.batch, a.size, a.size, cout)
    g = tf.Graph()
    with g.as_default():
        x = tf.Variable(rng.standard_normal(xs).astype(np.float32))
        dy = tf.Variable(rng.standard_normal(ys).astype(np.float32))
        w = tf.Variable(rng.standard_normal((3, 3, cin, cout)).astype(np.float32))
        strides = [1, 1, 1, 1]
        ops = [('fwd', tf.nn.conv2d(x, w, strides, 'SAME')),
               ('grad-input', tf.nn.conv2d_backprop_input(xs, w, dy, strides, 'SAME'))]
        ops += [('grad-filter ' + name, f(x, dy, w.shape))
                for name, f in sorted(conv.FILTER_GRADS.items())]
        flops = 2.0 * a.batch * a.size * a.size * 9 * cin * cout
        out = []
        with tf.Session(config=config) as sess:
            sess.run(tf.global_variables_initializer())
            for name, op in ops:
                total = tf.reduce_sum(op)  # no large fetch in the timing
                out.append((name, flops / median_time(lambda: sess.run(total), steps, 1) / 1e9,
                            flops))
    return out


ORDER = ['fwd', 'grad-input'] + ['grad-filter ' + i for i in cpu.FILTER_GRAD_IMPLS]


def step_inputs(tf, shape):
    """Placeholders (feature, label, mask) of `shape` = [N(, T), H, W] for the training step."""
    return (tf.placeholder(tf.float32, shape + [2], name='feature'),
            tf.placeholder(tf.float32, shape + [2], name='label'),
            tf.placeholder(tf.float32, shape, name='mask'))


def training_graph(tf, cfg, shape, policy=None):
    """A fresh graph with train.py's training step (models.step: loss, optimizer, finite-step
    guard) of `cfg` on placeholders of `shape`, convs built with the filter gradients of
    `policy`. Returns (graph, (feature, label, mask), TrainStep)."""
    from models import step as stepmod
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(0)
        feature, label, mask = step_inputs(tf, shape)
        step = stepmod.build(cfg, feature, mask, label, grad_policy=policy)
    return g, (feature, label, mask), step


def training_session(tf, model_tf, cfg, a, config, policy, with_dc):
    """A session training the model with train.py's step, its convs built with the filter
    gradients of `policy`. Returns (session, (feature, label, mask) placeholders, the
    [loss, train_op] fetch, the DC-only gradient or None)."""
    g, (feature, label, mask), step = training_graph(tf, cfg, [None, a.size, a.size], policy)
    with g.as_default():
        dc_grad = None
        if with_dc:
            with tf.variable_scope('dc_only'):
                k0 = model_tf.sampled_kspace(feature, mask)
                x = feature
                for _ in range(a.Dc):
                    x = model_tf.data_consistency(x, k0, mask)
                dc_grad = tf.gradients(tf.reduce_sum(x), feature)[0]
        sess = tf.Session(graph=g, config=config)
        sess.run(tf.global_variables_initializer())
    return sess, (feature, label, mask), [step.loss, step.train_op], dc_grad


def dynamic_conv_flops(cfg, size, frames):
    """Conv FLOPs of one T-frame sequence of a 2D+t model: (forward, training step).

    CRNN-MRI (3x3 2-D convs, per frame): iteration i has the BCRNN's input conv 2->nf, its
    iteration conv nf->nf (i > 1) and 2 (T - 1) temporal convs nf->nf (the first frame of
    each direction has no previous state), each CRNN-i layer's nf->nf input and (i > 1)
    iteration convs, and the output conv nf->2. The cascades (3x3x3 over (t, h, w)): per
    cascade 2 (1 + len(frame_dist)) -> nf, nf -> nf (Dn - 2 times), nf -> 2.
    Training = 3x forward (forward, grad-input, grad-filter) less the grad-input of the
    first conv applied to the network's input (iteration / cascade 1), which TF does not
    run: nothing needs the gradient with respect to the input placeholder."""
    nd, nc, nf = cfg['Dn'], cfg['Dc'], cfg['nf']
    frame = 2.0 * size * size  # FLOPs per (cin * cout * kernel tap) of one frame
    if cfg['model'] == 'crnn':
        first = frame * 9 * frames * 2 * nf
        per_frame = 2 * nf + (nd - 2) * nf * nf + nf * 2            # input, CRNN-i, output
        iteration = frame * 9 * (frames * per_frame + 2 * (frames - 1) * nf * nf)
        state = frame * 9 * frames * (nd - 1) * nf * nf              # iteration convs, i > 1
        forward = nc * iteration + (nc - 1) * state
    else:
        c_in = 2 * (1 + len(cfg['frame_dist']))
        first = frame * 27 * frames * c_in * nf
        forward = nc * frame * 27 * frames * (c_in * nf + (nd - 2) * nf * nf + nf * 2)
    return forward, 3 * forward - first


def cine_batch(batch, frames, size):
    """A constant batch of `batch` cine phantoms (frames, size, size), acc 6, 4 centre lines:
    (feature (B, T, H, W, 2), label, mask (B, T, H, W)) float32."""
    from models.data.synthetic import cine_phantom
    label = np.stack([cine_phantom(size, frames, seed=0, index=i) for i in range(batch)])
    mask = masks.cartesian_mask(label.shape, 6.0, 4, seed=0).astype(np.float32)
    feature = pre_input.to_two_channel(pre_input.undersample(label, mask))
    return feature, pre_input.to_two_channel(label), mask


def dynamic_cfgs(a):
    """(name, model configuration) of CRNN-MRI and, with --compare, the two dynamic cascades."""
    base = {'Dn': a.Dn, 'Dc': a.Dc, 'nf': a.nf, 'dc_mode': 'hard', 'batch_norm': False,
            'random_seed': 0, 'image_size': [a.size, a.size], 'frames': a.frames}
    out = [('CRNN-MRI nd=%d nc=%d' % (a.Dn, a.Dc),
            dict(base, model='crnn', share_weights=True, adam_beta1=0.5))]
    if a.compare:
        out += [('D%d-C%d(S)' % (a.Dn, a.Dc), dict(base, model='dynamic', share_weights=False,
                                                    frame_dist=[0, 1, 2, 3, 4])),
                ('D%d-C%d 3D' % (a.Dn, a.Dc), dict(base, model='dynamic', share_weights=False,
                                                   frame_dist=[]))]
    return out


def dynamic_session(tf, config, cfg, a, data):
    """A session training `cfg` (Adam, MSE) on the constant batch: (session, run_step,
    parameters, conv FLOPs per step). Its 2-D convs take the filter gradient of the first
    --conv_grad setting, as train.py would."""
    policy = cpu.filter_grad_policy(a.conv_grad[0], pixels=a.size * a.size)
    g, (feature, label, mask), step = training_graph(
        tf, cfg, [a.batch, a.frames, a.size, a.size], policy)
    with g.as_default():
        params = sum(int(np.prod(v.shape.as_list())) for v in tf.trainable_variables())
        sess = tf.Session(graph=g, config=config)
        sess.run(tf.global_variables_initializer())
    feed = {feature: data[0], label: data[1], mask: data[2]}
    flops = a.batch * dynamic_conv_flops(cfg, a.size, a.frames)[1]
    return sess, lambda: sess.run([step.loss, step.train_op], feed), params, flops


def dynamic_inference(tf, config, cfg, a, data):
    """Inference seconds per sequence at batch 1 (the exported graph, T fixed)."""
    from models import model_tf
    graph, f_in, m_in, pred = model_tf.build_inference_graph(cfg, batch=1)
    with graph.as_default(), tf.Session(config=config) as sess:
        sess.run(tf.global_variables_initializer())
        fd = {f_in: data[0][:1], m_in: data[2][:1]}
        return median_time(lambda: sess.run(pred, fd), a.steps, 1)


def bench_crnn(a, tf, config):
    """--model crnn: CRNN-MRI's training and inference speed (and, with --compare, the
    dynamic cascades' in the same run, their timed blocks interleaved)."""
    print('config: %d frames of %dx%d, batch %d, nd=%d nc=%d nf=%d, %d timed steps (median), '
          '%d warm-up, %d repeats; %d CPUs, load average %s'
          % (a.frames, a.size, a.size, a.batch, a.Dn, a.Dc, a.nf, a.steps, a.warmup,
             a.repeats, os.cpu_count(), ' '.join('%.2f' % v for v in os.getloadavg())))
    mm_before = matmul_gflops(tf, config)
    data = cine_batch(a.batch, a.frames, a.size)
    models = [(name, cfg) + dynamic_session(tf, config, cfg, a, data)
              for name, cfg in dynamic_cfgs(a)]
    times = dict((m[0], []) for m in models)
    cpu_t = dict((m[0], []) for m in models)
    for _ in range(a.repeats):
        for name, _, _, step, _, _ in models:
            times[name].append(median_time(step, a.steps, a.warmup))
            # CPU seconds of this process per step: the work, which other processes' load
            # changes far less than the wall time on a shared machine
            c0 = time.process_time()
            for _ in range(a.steps):
                step()
            cpu_t[name].append((time.process_time() - c0) / a.steps)
    for m in models:
        m[2].close()
    mm_after = matmul_gflops(tf, config)
    mm = 0.5 * (mm_before + mm_after)
    print('matmul float32 2048^3: %.1f GFLOP/s (%.1f before, %.1f after the training steps)'
          % (mm, mm_before, mm_after))
    ref = None
    for name, cfg, _, _, params, flops in models:
        step, step_cpu = statistics.median(times[name]), statistics.median(cpu_t[name])
        ref = ref or (step, step_cpu)
        infer = dynamic_inference(tf, config, cfg, a, data)
        print('%s: %d parameters; training %.1f ms/step (per repeat: %s), %.3f sequences/sec '
              '= %.2f images/sec (frames); %.1f CPU ms/step; conv %.2f GFLOP/step, %.1f GFLOP/s '
              '= %.2f of the matmul rate; inference %.1f ms/sequence (batch 1); '
              'vs CRNN: step time %.2f, CPU time %.2f'
              % (name, params, 1e3 * step, ' '.join('%.0f' % (1e3 * t) for t in times[name]),
                 a.batch / step, a.batch * a.frames / step, 1e3 * step_cpu, flops / 1e9,
                 flops / step / 1e9, flops / step / 1e9 / mm, 1e3 * infer, step / ref[0],
                 step_cpu / ref[1]))
    return 0


# --coils: the multi-coil training step, each coil count in a child process (0: single-coil)
COIL_LINE = ('C=%s step %.1f ms, FFT/DC %.1f ms = %.1f%% of the step, peak RSS %.0f MB; '
             'vs C=%d: step x%.2f, FFT/DC x%.2f, peak RSS x%.2f; load %.2f')


def coil_batch(a, coils):
    """A constant batch at --size and --batch, by placeholder name, float32: phantoms, a
    cartesian mask (acc 4, 8 centre lines, fewer below 64x64) and, for `coils` > 0, birdcage
    coil maps and the acquired k-space of every coil (pre_input.coil_inputs); single-coil (0):
    feature, label, mask."""
    from models.data import coils as coilmod
    shape = (a.size, a.size)
    label = np.stack([phantom(a.size, seed=0, index=i) for i in range(a.batch)])
    centre = max(1, min(8, a.size // 8))
    mask = np.stack([masks.make_mask('cartesian', shape, 4.0, centre, seed=i)
                     for i in range(a.batch)]).astype(np.float32)
    if not coils:
        return {'feature': pre_input.to_two_channel(pre_input.undersample(label, mask)),
                'label': pre_input.to_two_channel(label), 'mask': mask}
    maps = np.stack([coilmod.birdcage_maps(shape, coils, seed=i) for i in range(a.batch)])
    return pre_input.coil_inputs(label, mask, coilmod.sense_forward(label, maps), maps)


def coil_graph(tf, a, coils):
    """In the default graph: the Config of `coils` coils (0: single-coil) and its placeholders
    by name, model_tf.placeholders' (feature, mask[, kspace, coil_maps]) and label."""
    from models import model_tf
    from models.config import Config
    cfg = Config(Dn=a.Dn, Dc=a.Dc, nf=a.nf, random_seed=0, image_size=[a.size, a.size],
                 batch_size=a.batch, coils=coils)
    names = [n for n, _ in model_tf.graph_inputs(cfg, a.batch)]
    ph = dict(zip(names, model_tf.placeholders(cfg, a.batch)))
    ph['label'] = tf.placeholder(tf.float32, ph['feature'].shape, name='label')
    return cfg, ph


def coil_step_session(tf, config, a, coils):
    """models.step's training step (train.py's) with `coils` coils on placeholders, convs
    with the first --conv_grad setting's filter gradients. Returns (session, run one step)."""
    from models import step as stepmod
    policy = cpu.filter_grad_policy(a.conv_grad[0], pixels=a.size * a.size)
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(0)
        cfg, ph = coil_graph(tf, a, coils)
        coil_in = (ph['kspace'], ph['coil_maps']) if coils else ()
        step = stepmod.build(cfg, ph['feature'], ph['mask'], ph['label'], grad_policy=policy,
                             coil_inputs=coil_in)
        sess = tf.Session(graph=g, config=config)
        sess.run(tf.global_variables_initializer())
    fd = dict((ph[k], v) for k, v in coil_batch(a, coils).items())
    return sess, lambda: sess.run([step.loss, step.train_op], fd)


def coil_dc_session(tf, config, a, coils):
    """The Dc data-consistency layers alone, forward + backward (gradient w.r.t. the image),
    at the step's shapes: the cascade's k0 and DC (with the coil maps for `coils` > 0; the
    single-coil ones, as training_session's dc_grad, for 0). Returns (session, run once)."""
    from models.nets import layers
    g = tf.Graph()
    with g.as_default():
        _, ph = coil_graph(tf, a, coils)
        feature, mask = ph['feature'], ph['mask']
        maps = layers.r2c(ph['coil_maps']) if coils else None
        k0 = (layers.coil_sampled_kspace(layers.r2c(ph['kspace']), mask) if coils
              else layers.sampled_kspace(feature, mask))
        x = feature
        for _ in range(a.Dc):
            x = layers.data_consistency(x, k0, mask, maps=maps)
        grad = tf.reduce_sum(tf.gradients(tf.reduce_sum(x), feature)[0])  # no large fetch
        sess = tf.Session(graph=g, config=config)
    fd = dict((ph[k], v) for k, v in coil_batch(a, coils).items())
    return sess, lambda: sess.run(grad, fd)


def coil_child(a):
    """--coil_child C: time C coils' training step, read this process's peak RSS, then time
    the DC layers alone; print one key=value line."""
    tf = import_tf(a)
    config = session_config(a)
    sess, run = coil_step_session(tf, config, a, a.coil_child)
    t_step = median_time(run, a.steps, a.warmup)
    rss = peak_rss_mb()  # the step's peak: before the DC-only graph exists
    sess.close()
    sess, run = coil_dc_session(tf, config, a, a.coil_child)
    t_dc = median_time(run, a.steps, 1)
    sess.close()
    print('coil_child coils=%d step_s=%.6f dc_s=%.6f peak_rss_mb=%.1f load=%.2f'
          % (a.coil_child, t_step, t_dc, rss, os.getloadavg()[0]))
    return 0


def run_coil_child(a, coils):
    """The figures of a --coil_child process: {'step_s', 'dc_s', 'peak_rss_mb', 'load'}."""
    cmd = [sys.executable, os.path.abspath(__file__), '--coil_child', str(coils)]
    for flag, value in (('--batch', a.batch), ('--size', a.size), ('--nd', a.Dn),
                        ('--nc', a.Dc), ('--nf', a.nf), ('--steps', a.steps),
                        ('--warmup', a.warmup), ('--intra_op', a.intra_op),
                        ('--inter_op', a.inter_op), ('--clock', a.clock),
                        ('--conv_grad', a.conv_grad[0])):
        cmd += [flag, str(value)] if value is not None else []
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    lines = [line for line in r.stdout.splitlines() if line.startswith('coil_child ')]
    if r.returncode != 0 or not lines:
        raise RuntimeError('--coil_child %d failed (exit %d): %s' % (
            coils, r.returncode, (r.stderr.strip().splitlines() or ['?'])[-1]))
    kv = dict(re.findall(r'(\w+)=(\S+)', lines[-1]))
    return dict((k, float(kv[k])) for k in ('step_s', 'dc_s', 'peak_rss_mb', 'load'))


def bench_coils(a):
    """--coils: one child process per coil count, the single-coil graph first (the reference
    row); one line per row (COIL_LINE), ratios to C = 1 (else the smallest C given)."""
    tf = import_tf(a)
    print('%s; TensorFlow %s' % (cpu.describe(), tf.VERSION))
    print('config: multi-coil training step (models.step), D%d-C%d nf=%d, %dx%d, batch %d, '
          'coils %s, %d timed steps (median, %s), %d warm-up; one child process per row; '
          '%d CPUs, load average %s'
          % (a.Dn, a.Dc, a.nf, a.size, a.size, a.batch, ' '.join(map(str, a.coils)), a.steps,
             'wall clock' if a.clock == 'wall' else 'CPU time', a.warmup, os.cpu_count(),
             ' '.join('%.2f' % v for v in os.getloadavg())))
    sys.stdout.flush()
    rows = [(c, run_coil_child(a, c)) for c in [0] + list(a.coils)]
    ref_c = 1 if 1 in a.coils else min(a.coils)
    ref = dict(rows)[ref_c]
    for c, r in rows:
        print(COIL_LINE % (c or 'single', 1e3 * r['step_s'], 1e3 * r['dc_s'],
                           100.0 * r['dc_s'] / r['step_s'], r['peak_rss_mb'], ref_c,
                           r['step_s'] / ref['step_s'], r['dc_s'] / ref['dc_s'],
                           r['peak_rss_mb'] / ref['peak_rss_mb'], r['load']))
    return 0


def run_peer(a):
    cmd = [sys.executable, a.peer_script, '--batch', str(a.batch), '--size', str(a.size),
           '--nd', str(a.Dn), '--nc', str(a.Dc), '--nf', str(a.nf), '--steps', str(a.steps)]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    if r.returncode != 0:
        return None, r.stderr.strip().splitlines()[-1] if r.stderr.strip() else 'failed'
    kv = dict(re.findall(r'(\w+)=(\S+)', r.stdout))
    return (float(kv['train_s_per_step']), float(kv['infer_s_per_image'])), ''


def static_config(a):
    """The Config of the 2-D D{nd}-C{nc} cascade this run times (paper preset, Adam)."""
    from models.config import Config
    return Config(Dn=a.Dn, Dc=a.Dc, nf=a.nf, random_seed=0, image_size=[a.size, a.size],
                  batch_size=a.batch)


def print_config(a, tf, config):
    print('config: D%d-C%d nf=%d, %dx%d, batch %d, %d timed steps (median, %s), %d warm-up; '
          'threads intra=%d inter=%d (0 = TF default); %d CPUs (%s), TensorFlow %s, '
          'load average %s'
          % (a.Dn, a.Dc, a.nf, a.size, a.size, a.batch, a.steps,
             'wall clock' if a.clock == 'wall' else 'CPU time: rates per CPU-second', a.warmup,
             config.intra_op_parallelism_threads, config.inter_op_parallelism_threads,
             os.cpu_count(), cpu.cpu_model(), tf.__version__,
             ' '.join('%.2f' % v for v in os.getloadavg())))


def report_input(times, a):
    """The tf.data vs feed_dict line of input_compare's times."""
    wall = dict((k, statistics.median(w for w, _ in v)) for k, v in times.items())
    cpu_s = dict((k, statistics.median(c for _, c in v)) for k, v in times.items())
    ratios = [d[0] / f[0] for d, f in zip(times['tf.data'], times['feed_dict'])]
    print('train.py input, %d pairs of %d-step blocks: tf.data (TrainInput, getnext) median '
          '%.1f ms/step (CPU %.1f ms), feed_dict (Batches + Prefetch) %.1f ms/step (CPU %.1f '
          'ms): ratio of medians tf.data / feed_dict %.3f, median of per-pair ratios %.3f '
          '(quartiles %.3f, %.3f); load average now %.2f'
          % (len(ratios), a.steps, 1e3 * wall['tf.data'], 1e3 * cpu_s['tf.data'],
             1e3 * wall['feed_dict'], 1e3 * cpu_s['feed_dict'],
             wall['tf.data'] / wall['feed_dict'], statistics.median(ratios),
             np.percentile(ratios, 25), np.percentile(ratios, 75), os.getloadavg()[0]))


def feed(ph, b):
    return {ph[0]: b['feature'], ph[1]: b['label'], ph[2]: b['mask']}


def time_training(tf, model_tf, config, a, cfg, batches, const):
    """One training graph and session per --conv_grad setting, their steps interleaved; the
    first also times HDF5 input and the FFT / data-consistency work alone (nc DC layers,
    forward + backward). Returns (runs, HDF5 step times, DC seconds per step)."""
    runs = []
    for i, setting in enumerate(a.conv_grad):
        policy = cpu.filter_grad_policy(setting, pixels=a.size * a.size)
        sess, ph, fetch, dc_grad = training_session(tf, model_tf, cfg, a, config, policy,
                                                    with_dc=i == 0)
        runs.append({'setting': setting, 'policy': policy, 'sess': sess, 'ph': ph,
                     'fetch': fetch, 'dc_grad': dc_grad, 'times': []})
    first = runs[0]
    const_feed = [feed(r['ph'], const) for r in runs]
    t_h5 = []
    for _ in range(a.repeats):
        for r, fd in zip(runs, const_feed):
            r['times'].append(median_time(lambda: r['sess'].run(r['fetch'], fd),
                                          a.steps, a.warmup))
        stream = pre_input.Prefetch(batches.from_step(0), size=3)
        t_h5.append(median_time(lambda: first['sess'].run(
            first['fetch'], feed(first['ph'], next(stream)[2])), a.steps, a.warmup))
        stream.close()
    for r in runs:
        r['step'] = statistics.median(r['times'])
    t_dc = median_time(lambda: first['sess'].run(first['dc_grad'], const_feed[0]), a.steps, 1)
    for r in runs:
        r['sess'].close()
    return runs, t_h5, t_dc


def report_training(a, runs, mm):
    """Images/sec and achieved conv GFLOP/s of each --conv_grad setting. Returns the conv
    FLOPs of one step."""
    # x3: forward, grad-input, grad-filter; less the first layer's grad-input in cascade 1,
    # which TF never computes (its input is the placeholder; 0.07 % of the total at nf=64).
    first_grad_input = 2.0 * a.size * a.size * 9 * 2 * a.nf
    flops_step = (3.0 * conv_flops_per_image(a.size, a.Dn, a.Dc, a.nf)
                  - first_grad_input) * a.batch
    print('conv work: %.1f GFLOP/step' % (flops_step / 1e9))
    for r in runs:
        rate = flops_step / r['step'] / 1e9
        print('training, conv filter gradient %s: %.2f images/sec, %.1f ms/step; conv %.1f '
              'GFLOP/s achieved, %.2f of the matmul rate'
              % (cpu.describe_policy(r['setting'], r['policy']), a.batch / r['step'],
                 1e3 * r['step'], rate, rate / mm))
    if len(runs) > 1:
        print('  step time / first setting\'s, per repeat: %s' % '; '.join(
            '%s %s' % (r['setting'], ' '.join('%.2f' % (t / t0) for t, t0 in
                                              zip(r['times'], runs[0]['times'])))
            for r in runs[1:]))
    return flops_step


def report_conv_ops(tf, config, a, first, mm):
    """Each conv op timed alone at the model's shapes; their sum over the layers and cascades
    is what the step would take if nothing but convolutions ran (with the first setting's
    filter gradient). Returns that sum in seconds."""
    layers = [(2, a.nf)] + [(a.nf, a.nf)] * (a.Dn - 2) + [(a.nf, 2)]
    predicted = 0.0
    fastest = {}
    for cin, cout in sorted(set(layers), key=layers.index):
        rates = dict((n, (r, f)) for n, r, f in conv_op_rates(tf, config, a, cin, cout,
                                                               a.steps))
        kind = cpu.layer_kind(cin, cout)
        used = ['fwd', 'grad-input', 'grad-filter ' + first['policy'][kind]]
        predicted += layers.count((cin, cout)) * a.Dc * sum(
            rates[n][1] / (rates[n][0] * 1e9) for n in used)
        if (cin, cout) == layers[0]:  # cascade 1's first grad-input is never run (see above)
            predicted -= rates['grad-input'][1] / (rates['grad-input'][0] * 1e9)
        fastest[kind] = max(cpu.FILTER_GRAD_IMPLS, key=lambda i: rates['grad-filter ' + i][0])
        print('  conv %d->%d alone: %s' % (cin, cout, ', '.join(
            '%s %.0f GFLOP/s (%.2f of matmul)' % (n, r, r / mm)
            for n, (r, _) in sorted(rates.items(), key=lambda kv: ORDER.index(kv[0])))))
    row = cpu.auto_row(cpu.vector_isa(), cpu.onednn_enabled())
    auto = cpu.filter_grad_policy('auto', pixels=a.size * a.size, row=row)
    print('  fastest filter gradient here: %s; auto takes (row %r, %dx%d): %s'
          % (', '.join('%s %s' % (k, fastest[k]) for k in cpu.LAYER_KINDS if k in fastest), row,
             a.size, a.size, ', '.join('%s %s' % (k, auto[k]) for k in cpu.LAYER_KINDS)))
    return predicted


def report_inference(tf, model_tf, config, a, cfg, const):
    """Inference ms per image at batch 1 and at --batch (the exported graph)."""
    graph, f_in, m_in, pred_tst = model_tf.build_inference_graph(cfg)
    with graph.as_default():
        with tf.Session(config=config) as isess:
            isess.run(tf.global_variables_initializer())
            inf = {}
            for b in (1, a.batch):
                fd = {f_in: const['feature'][:b], m_in: const['mask'][:b]}
                inf[b] = median_time(lambda: isess.run(pred_tst, fd), a.steps, 1) / b
    print('inference: %.1f ms/image at batch 1, %.1f ms/image at batch %d'
          % (1e3 * inf[1], 1e3 * inf[a.batch], a.batch))


def report_peer(a, runs):
    """With --peer: the PyTorch peer's figures and the images/sec ratio."""
    print('peer oneDNN conv kernels (ONEDNN_VERBOSE, child process): %s'
          % onednn_kernels(TORCH_PROBE))
    res, err = run_peer(a)
    if res is None:
        print('peer: not run (%s)' % err)
        return
    ratio = ('; ours/peer training images/sec: ' + ', '.join(
        '%.2f (%s)' % (res[0] / r['step'], r['setting']) for r in runs)
        if a.clock == 'wall' else ' (wall clock; no ratio to our CPU times)')
    print('peer (PyTorch eager, %s): %.2f images/sec, %.1f ms/image inference at '
          'batch 1%s' % (os.path.basename(a.peer_script), a.batch / res[0], 1e3 * res[1], ratio))


def bench_static(a, tf, config):
    """The 2-D cascade's figures (the module docstring's list)."""
    from models import model_tf
    print_config(a, tf, config)
    cfg = static_config(a)
    tmp = tempfile.mkdtemp(prefix='bench_')
    h5 = os.path.join(tmp, 'train.hdf5')
    write_h5(h5, a.batch * (a.steps + a.warmup) * a.repeats + a.batch, a.size)
    data = pre_input.H5Data(h5)
    batches = pre_input.Batches(data, a.batch, seed=0)
    report_input(input_compare(tf, config, a, cfg, batches), a)
    if a.input_only:
        data.close()
        os.remove(h5)
        os.rmdir(tmp)
        return 0
    mm_before = matmul_gflops(tf, config)
    const = batches.batch(0, 0)
    runs, t_h5, t_dc = time_training(tf, model_tf, config, a, cfg, batches, const)
    # The matmul rate is measured before and after the training blocks and averaged, so that
    # a change in the load from other processes affects both sides of the ratio alike.
    mm_after = matmul_gflops(tf, config)
    mm = 0.5 * (mm_before + mm_after)
    print('matmul float32 2048^3: %.1f GFLOP/s (%.1f before, %.1f after the training steps)'
          % (mm, mm_before, mm_after))
    flops_step = report_training(a, runs, mm)
    step, step_h5 = runs[0]['step'], statistics.median(t_h5)
    predicted = report_conv_ops(tf, config, a, runs[0], mm)
    print('  sum of the conv ops timed alone: %.1f ms/step = %.0f%% of the measured step'
          % (1e3 * predicted, 100.0 * predicted / step))
    print('conv-only bound: %.2f of the matmul rate once the FFT/DC time is left out'
          % (flops_step / max(step - t_dc, 1e-9) / 1e9 / mm))
    print('FFT/DC layers alone (fwd+bwd): %.1f ms/step, %.1f%% of a step'
          % (1e3 * t_dc, 100.0 * t_dc / step))
    print('input pipeline: %.1f ms/step with HDF5 + Prefetch vs %.1f ms/step constant '
          'arrays: overhead %+.1f%% (per repeat: %s)'
          % (1e3 * step_h5, 1e3 * step, 100.0 * (step_h5 / step - 1),
             ', '.join('%+.1f%%' % (100.0 * (h / c - 1))
                       for c, h in zip(runs[0]['times'], t_h5))))
    report_inference(tf, model_tf, config, a, cfg, const)
    print('peak RSS (this process): %.0f MB' % peak_rss_mb())
    data.close()
    os.remove(h5)
    if not a.skip_rss:
        rss = run_rss_check(a, tmp)
        (n1, s1, r1), (n2, s2, r2) = rss['small'], rss['large']
        print('HDF5 streaming: peak RSS %.1f MB reading %d images (%.0f MB file), %.1f MB '
              'reading %d images (%.0f MB file): %+.1f%%'
              % (r1, n1, s1, r2, n2, s2, 100.0 * (r2 / r1 - 1)))
    os.rmdir(tmp)
    if a.peer:
        report_peer(a, runs)
    return 0


def import_tf(a):
    """tensorflow.compat.v1 in graph mode, after --isa_cap and --clock have been applied."""
    if a.isa_cap:
        cap_isa(a.isa_cap)
    global clock
    clock = CLOCK[a.clock]
    import tensorflow.compat.v1 as tf
    tf.disable_v2_behavior()
    return tf


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    if a.rss_child:
        rss_child(a.rss_child, a.batch)
        return 0
    if a.coil_child is not None:
        return coil_child(a)
    if a.coils is not None:
        return bench_coils(a)
    tf = import_tf(a)
    print('%s; TensorFlow %s' % (cpu.describe(), tf.VERSION))
    print('oneDNN conv kernels (ONEDNN_VERBOSE, child process): %s' % onednn_kernels())
    config = session_config(a)
    if a.model == 'crnn':
        return bench_crnn(a, tf, config)
    return bench_static(a, tf, config)


if __name__ == '__main__':
    sys.exit(main())
