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
"""Inference speed: images/s of the inference graph (what infer.py and test.py run) for the
static D5-C5 cascade, the dynamic D5-C10(S) cascade, CRNN-MRI and the port's D11-C5 (--models), at
each --sizes and --batches, and the
PyTorch peer's D5-C5 (the DnCn module of peer_torch_dncn.py, not part of this repository: give its
path with --peer_script or CASCADENET_PEER_SCRIPT) timed the same
way beside it (a script, not a test).

  python bench/infer_speed.py [--sizes 256 320] [--batches 1 4] [--models static dynamic]
      [--nf 64] [--frames 8] [--steps 3] [--peer_script PATH]

Per configuration: one warm-up call, then the median of --steps calls on random inputs
(speed does not depend on the weights' values), with the session config infer.py uses. A
dynamic item is a sequence of --frames frames: its images/s counts frames. The CPU model,
TensorFlow's version and the load average (other processes share the CPU) are printed first.
torch is not a dependency of this project: without it (pip install torch) the peer's lines say
so and the rest runs.
"""
import argparse
import importlib.util
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import numpy as np  # noqa: E402

from models import cpu, presets  # noqa: E402
from models.tfv1 import tf_v1  # noqa: E402

PEER = os.environ.get('CASCADENET_PEER_SCRIPT', '')


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--sizes', type=int, nargs='+', default=[256, 320])
    p.add_argument('--batches', type=int, nargs='+', default=[1, 4])
    p.add_argument('--models', nargs='+', default=['static', 'dynamic'],
                   choices=['static', 'dynamic', 'crnn', 'port'])
    p.add_argument('--nf', type=int, default=64)
    p.add_argument('--frames', type=int, default=8, help='T of the dynamic model\'s inputs')
    p.add_argument('--steps', type=int, default=3)
    p.add_argument('--peer_script', default=PEER, help='the PyTorch peer (empty: none)')
    return p.parse_args(argv)


def model_config(kind, nf, size, frames):
    """config.json of the paper's D5-C5 (static), D5-C10(S) frame_dist 0..4 (dynamic),
    CRNN-MRI nd=5 nc=10 (crnn) or the port's D11-C5 (port), each with `nf` filters."""
    preset = presets.PORT if kind == 'port' else presets.PAPER
    cfg = dict(presets.PRESETS[preset], preset=preset, model='static', nf=nf,
               image_size=[size, size])
    if kind == 'dynamic':
        cfg.update(model='dynamic', Dc=10, frame_dist=[0, 1, 2, 3, 4], frames=frames)
    if kind == 'crnn':
        cfg.update(model='crnn', Dc=10, share_weights=True, frames=frames)
    return cfg


def model_label(kind, nf, frames):
    """The name a result line gives the model."""
    return {'static': 'D5-C5 nf=%d' % nf, 'port': 'port D11-C5 nf=%d' % nf,
            'dynamic': 'D5-C10(S) nf=%d T=%d' % (nf, frames),
            'crnn': 'CRNN-MRI nd=5 nc=10 nf=%d T=%d' % (nf, frames)}[kind]


def median_seconds(fn, steps):
    """fn() once to warm up, then the median wall time of `steps` calls."""
    fn()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def tf_images_per_s(tf, cfg, batch, steps):
    """images/s (frames/s for a dynamic model) of the inference graph at `batch` items."""
    from models import device, model_tf
    graph, feature, mask, pred = model_tf.build_inference_graph(cfg, batch)
    shape = model_tf.input_shape(cfg, batch)
    rng = np.random.RandomState(0)
    feed = {feature: rng.randn(*shape + [2]).astype(np.float32),
            mask: (rng.uniform(size=shape) < 0.3).astype(np.float32)}
    with graph.as_default():
        init = tf.global_variables_initializer()
    with tf.Session(graph=graph, config=device.session_config('cpu', 'must_keep_origin_dtype')) \
            as sess:
        sess.run(init)
        secs = median_seconds(lambda: sess.run(pred, feed), steps)
    frames = cfg['frames'] if cfg['model'] in ('dynamic', 'crnn') else 1
    return batch * frames / secs


def load_peer(path):
    """The peer script as a module, or (None, why)."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return None, 'torch is not installed (not a dependency of this project: pip install torch)'
    if not path or not os.path.isfile(path):
        return None, 'no peer script (--peer_script or CASCADENET_PEER_SCRIPT): %r' % path
    spec = importlib.util.spec_from_file_location('peer_torch_dncn', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, ''


def peer_images_per_s(peer, size, batch, nf, steps):
    """images/s of the peer's DnCn(5, 5, nf) forward under torch.no_grad, its own inputs."""
    import torch
    torch.manual_seed(0)
    net = peer.DnCn(5, 5, nf).eval()
    gt = torch.randn(batch, size, size, dtype=torch.complex64)
    m = (torch.rand(batch, size, size) < 0.3).to(torch.complex64)
    k0 = torch.fft.fft2(gt, norm='ortho') * m
    zf = torch.fft.ifft2(k0, norm='ortho')
    x = torch.stack([zf.real, zf.imag], 1)
    with torch.no_grad():
        return batch / median_seconds(lambda: net(x, k0, m), steps)


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    tf = tf_v1()
    print('CPU: %s, %d cores visible; TensorFlow %s, oneDNN %s; load average %.2f %.2f %.2f'
          % ((cpu.cpu_model(), os.cpu_count(), tf.__version__,
              os.environ.get('TF_ENABLE_ONEDNN_OPTS', 'default')) + os.getloadavg()))
    peer, why = load_peer(a.peer_script) if 'static' in a.models else (None, '')
    if why:
        print('peer: %s' % why)
    rows = []
    for kind in a.models:
        for size in a.sizes:
            cfg = model_config(kind, a.nf, size, a.frames)
            for batch in a.batches:
                ips = tf_images_per_s(tf, cfg, batch, a.steps)
                line = '%-26s %dx%d batch %d: %.3f images/s' % (
                    model_label(kind, a.nf, a.frames), size, size, batch, ips)
                if kind == 'static' and peer is not None:
                    pips = peer_images_per_s(peer, size, batch, a.nf, a.steps)
                    line += '; PyTorch peer %.3f images/s (ratio %.2f)' % (pips, ips / pips)
                print(line)
                sys.stdout.flush()
                rows.append((kind, size, batch, ips))
    print('load average at the end: %.2f %.2f %.2f' % os.getloadavg())
    return rows


if __name__ == '__main__':
    main()
