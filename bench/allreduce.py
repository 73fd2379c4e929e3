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
"""What the gradient all-reduce of data-parallel training costs per step on this machine (a
script, not a test).

  python bench/allreduce.py [--nd 5 --nc 5 --nf 64] [--size 64 --batch 4] [--rounds 5]
      [--steps 5]

Starts 2 local TensorFlow workers (tf.train.Server on 127.0.0.1, the TF_CONFIG setup of
train.py, models/distributed.py) and times, in the same run, blocks interleaved `rounds` times:
  A  one training step of D{nd}-C{nc} nf (Adam on the MSE, `batch` images of size x size) in
     a plain local session of worker 0, the other worker idle: the single-process step;
  B  the all-reduce alone of that model's gradients between the 2 workers, as train.py does
     it (models.distributed.fused_mean: the gradients in one vector, one collective ring
     all-reduce, mean): the communication a data-parallel step adds;
  B1 the same with one all-reduce per variable (what fused_mean avoids);
  C  a whole data-parallel step on both workers (each `batch` images, gradients all-reduced),
     which on a 2-core CPU also shares the cores between the two workers.
Prints the CPU model, load average, TF version, the medians (wall clock), B / A and C / A, and
the bytes each worker sends per step in a ring all-reduce, 2 (R - 1) / R x gradient bytes.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from models import cpu  # noqa: E402


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--nd', dest='Dn', type=int, default=5, help='conv layers per cascade (Dn)')
    p.add_argument('--nc', dest='Dc', type=int, default=5, help='cascades (Dc)')
    p.add_argument('--nf', type=int, default=64)
    p.add_argument('--size', type=int, default=64)
    p.add_argument('--batch', type=int, default=4)
    p.add_argument('--rounds', type=int, default=5, help='A, B, B1, C blocks, interleaved')
    p.add_argument('--steps', type=int, default=5, help='timed runs per block')
    p.add_argument('--worker', type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument('--workers', default='', help=argparse.SUPPRESS)
    return p.parse_args(argv)


def build_step(tf, a, cluster):
    """(train op, loss, variables) of train.py's step (models.step) on constant inputs;
    gradients averaged over `cluster`'s ranks (models.distributed.wrap_optimizer) when it has
    several."""
    import numpy as np
    from models import step as stepmod
    from models.config import Config
    rng = np.random.RandomState(0)
    shape = [a.batch, a.size, a.size]
    feature = tf.constant(rng.randn(*shape + [2]).astype('float32'))
    label = tf.constant(rng.randn(*shape + [2]).astype('float32'))
    mask = tf.constant((rng.rand(*shape) < 0.25).astype('float32'))
    cfg = Config(Dn=a.Dn, Dc=a.Dc, nf=a.nf, random_seed=0, image_size=[a.size, a.size])
    step = stepmod.build(cfg, feature, mask, label, cluster=cluster)
    return step.train_op, step.loss, step.weights


def timed(sess, op, steps):
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        sess.run(op)
        times.append(time.perf_counter() - t0)
    return times


def worker(a):
    """One of the 2 workers; worker 0 prints a JSON line of the block times."""
    from models import device, distributed
    from models.tfv1 import tf_v1
    tf = tf_v1()
    workers = a.workers.split(',')
    cluster = distributed.Cluster('tf', a.worker, len(workers), workers)
    config = distributed.session_options(
        cluster, device.session_config('cpu', 'allow_mix_precision', seed_threads=True))
    target = distributed.start(cluster, config)
    local = tf.Graph()
    with local.as_default():
        tf.set_random_seed(0)
        local_step, _, _ = build_step(tf, a, distributed.Cluster())
        local_sess = tf.Session(graph=local, config=device.session_config(
            'cpu', 'allow_mix_precision', seed_threads=True))
        local_sess.run(tf.global_variables_initializer())
    with tf.Graph().as_default():
        tf.set_random_seed(0)
        dist_step, _, weights = build_step(tf, a, cluster)
        # the all-reduce alone: gradient-shaped tensors (the weights themselves), mean over ranks
        fused = tf.group([g for g, _ in distributed.fused_mean(
            [(w.read_value(), w) for w in weights], cluster)])
        per_variable = tf.group([distributed.mean_across(w.read_value(), cluster)
                                 for w in weights])
        barrier = distributed.mean_across(tf.constant(1.0), cluster)
        sess = tf.Session(target, config=config)
        sess.run(tf.global_variables_initializer())
        count = sum(int(w.shape.num_elements()) for w in weights)
        out = {'A': [], 'B': [], 'B1': [], 'C': []}
        timed(sess, [fused, per_variable, dist_step], 3)  # warm-up: set-up, ring resolution
        if a.worker == 0:
            timed(local_sess, local_step, 2)
        for _ in range(a.rounds):
            sess.run(barrier)
            if a.worker == 0:
                out['A'] += timed(local_sess, local_step, a.steps)
            sess.run(barrier)  # worker 1 waits here while worker 0 runs A
            out['B'] += timed(sess, fused, a.steps)
            sess.run(barrier)
            out['B1'] += timed(sess, per_variable, a.steps)
            sess.run(barrier)
            out['C'] += timed(sess, dist_step, a.steps)
        sess.run(barrier)
        sess.close()
    cluster.server = None  # stopped now, not at interpreter exit (TF 1.15 complains there)
    if a.worker == 0:
        print(json.dumps({'values': count, 'times': out}))
        sys.stdout.flush()


def free_ports(n):
    import socket
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(('127.0.0.1', 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    if a.worker is not None:
        return worker(a)
    import tensorflow as tf_pkg
    workers = ','.join('127.0.0.1:%d' % p for p in free_ports(2))
    print('cpu: %s, %d cores; load average %s; TensorFlow %s'
          % (cpu.cpu_model(), os.cpu_count(), ' '.join('%.2f' % x for x in os.getloadavg()),
             tf_pkg.__version__))
    print('model D%d-C%d nf=%d, batch %d per worker, %dx%d; 2 workers on 127.0.0.1; %d rounds '
          'x %d steps per block' % (a.Dn, a.Dc, a.nf, a.batch, a.size, a.size, a.rounds,
                                    a.steps))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3')
    cmd = [sys.executable, os.path.abspath(__file__)] + (argv if argv is not None
                                                         else sys.argv[1:])
    procs = [subprocess.Popen(cmd + ['--worker', str(i), '--workers', workers], env=env,
                              stdout=subprocess.PIPE, universal_newlines=True)
             for i in range(2)]
    outs = [p.communicate()[0] for p in procs]
    if any(p.returncode for p in procs):
        sys.exit('error: a worker failed (exit %s)' % [p.returncode for p in procs])
    res = json.loads([l for l in outs[0].splitlines() if l.startswith('{')][-1])
    med = dict((k, statistics.median(v)) for k, v in res['times'].items())
    grad_bytes = 4 * res['values']
    ranks = 2
    print('gradient: %d float32 values = %.2f MB; ring all-reduce sends 2 (R-1)/R x that = '
          '%.2f MB per worker per step (R = %d)'
          % (res['values'], grad_bytes / 1e6, 2.0 * (ranks - 1) / ranks * grad_bytes / 1e6, ranks))
    print('A single-process training step (worker 0, local session): %.1f ms' % (1e3 * med['A']))
    print('B all-reduce of the gradients alone, 2 workers:           %.1f ms  B/A = %.3f'
          % (1e3 * med['B'], med['B'] / med['A']))
    print('B1 the same, one all-reduce per variable:                %.1f ms  B1/B = %.2f'
          % (1e3 * med['B1'], med['B1'] / med['B']))
    print('C data-parallel step, 2 workers on the same cores:        %.1f ms  C/A = %.3f'
          % (1e3 * med['C'], med['C'] / med['A']))
    print('B as bandwidth: %.3f GB/s per worker (bytes sent / B time)'
          % (2.0 * (ranks - 1) / ranks * grad_bytes / med['B'] / 1e9))
    print('images/sec: 1 process %.1f, 2 workers together %.1f (batch %d each)'
          % (a.batch / med['A'], 2 * a.batch / med['C'], a.batch))


if __name__ == '__main__':
    main()
