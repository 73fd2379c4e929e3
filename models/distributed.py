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
"""Data-parallel training over several processes, on the engines the platforms already have.

Every process (rank r of R) runs the same training graph on its own shard of each global batch
(models.pre_input.Batches, rank/ranks), and the gradients are averaged across ranks before the
optimizer applies them, so all ranks take the same step and hold the same weights:

* Ascend NPU, RANK_SIZE > 1 (one process per device, HCCL through the TF Adapter): the
  optimizer is wrapped in npu_bridge's NPUDistributedOptimizer (inside NPULossScaleOptimizer,
  is_distributed=True, when loss scaling is on), the initial variables are broadcast from rank 0
  with npu_bridge.hccl.hccl_ops.broadcast, and the session sets hcom_parallel, as the TF
  Adapter 1.x docs and the ModelZoo sess.run models do. RANK_ID, RANK_SIZE and
  RANK_TABLE_FILE come from the environment (test/train_full_8p.sh sets them).
* CPU / GPU (TensorFlow's own runtime): TF_CONFIG names the workers. Each process starts a
  tf.train.Server for its task and runs its graph in a session on it; the gradients, fused into
  one vector, go through TensorFlow's collective all-reduce (collective_ops.all_reduce, ring,
  mean) and the initial variables through collective broadcast_send / broadcast_recv from
  rank 0, in graph mode, as TF's multi-worker strategy does. That works unchanged on TF 1.15
  and on TF 2.x's compat.v1 (a parameter server with SyncReplicasOptimizer would put one more
  process and a per-step token queue on the path; docs/distributed.md).

Rank 0 (the chief) alone writes checkpoints, summaries, config.json and the logs of the
checkpoint folder and runs validation. The global step counts global steps.

Environment checks need no TensorFlow (`from_env`), so bad input fails fast; the graph pieces
import it when called.
"""
import importlib.util
import json
import os
import sys
import threading

from models.errors import InputError

GROUP_KEY = 1          # one collective group: all workers
DEFAULT_TIMEOUT = 600  # seconds a collective step may wait for the other ranks (--dist_timeout)


class Cluster(object):
    """Who this process is among the ranks.

    backend: 'local' (one process), 'tf' (TF_CONFIG workers, collective ops) or 'npu' (HCCL).
    rank, size: this process's rank and the number of ranks. workers: 'host:port' of every
    worker (backend 'tf'). Collective ops are matched across ranks by instance key: each rank
    builds the same graph in the same order, so `next_key` gives each op the same key on all.
    """

    def __init__(self, backend='local', rank=0, size=1, workers=None):
        self.backend = backend
        self.rank = rank
        self.size = size
        self.workers = list(workers or [])
        self._key = 0
        self.server = None

    @property
    def chief(self):
        """True for the rank that writes checkpoints, logs and runs validation."""
        return self.rank == 0

    @property
    def distributed(self):
        return self.size > 1

    def next_key(self):
        self._key += 1
        return self._key

    def task(self):
        """This worker's TensorFlow device prefix (backend 'tf')."""
        return '/job:worker/replica:0/task:%d' % self.rank

    def describe(self, batch):
        """The line train.py logs about ranks and batches."""
        if not self.distributed:
            return 'distributed: no (one process)'
        how = {'npu': 'HCCL (NPUDistributedOptimizer)',
               'tf': 'TensorFlow collective all-reduce over %s' % ', '.join(self.workers)}
        return ('distributed: rank %d of %d, %s; batch %d per rank, global batch %d'
                % (self.rank, self.size, how[self.backend], batch, batch * self.size))


def parse_tf_config(text):
    """(workers, index) of a TF_CONFIG value {"cluster": {"worker": [...]}, "task": {"type":
    "worker", "index": i}}; InputError naming what is wrong."""
    try:
        spec = json.loads(text)
        workers = spec['cluster']['worker']
        task = spec.get('task', {})
        kind, index = task.get('type', 'worker'), task['index']
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise InputError('TF_CONFIG is not {"cluster": {"worker": ["host:port", ...]}, "task": '
                         '{"type": "worker", "index": i}} (%s: %s)' % (type(e).__name__, e))
    if not isinstance(workers, list) or not workers or not all(
            isinstance(w, str) and w.rpartition(':')[2].isdigit() for w in workers):
        raise InputError('TF_CONFIG cluster.worker must list "host:port" addresses, got %r'
                         % (workers,))
    other = sorted(set(spec['cluster']) - {'worker'})
    if other:
        raise InputError('TF_CONFIG: only "worker" tasks are used (collective all-reduce, no '
                         'parameter server), got %s' % ', '.join(other))
    if kind != 'worker':
        raise InputError('TF_CONFIG task.type must be "worker", got %r' % (kind,))
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(workers):
        raise InputError('TF_CONFIG task.index %r is out of range for %d workers'
                         % (index, len(workers)))
    return workers, index


def _env_int(environ, name, default):
    value = environ.get(name, '')
    if value == '':
        return default
    if not value.isdigit():
        raise InputError('%s must be a non-negative integer, got %r' % (name, value))
    return int(value)


def npu_bridge_present():
    """npu_bridge importable (found without importing it, so before TensorFlow)."""
    return importlib.util.find_spec('npu_bridge') is not None


def from_env(environ, distributed_flag=False):
    """The Cluster of this process from the environment (no TensorFlow needed).

    TF_CONFIG (or --distributed, which requires it): backend 'tf'. Else RANK_SIZE > 1 where
    npu_bridge is importable: backend 'npu', with RANK_ID < RANK_SIZE and RANK_TABLE_FILE a
    file. Else one process ('local'; a RANK_SIZE without npu_bridge is reported and left)."""
    tf_config = environ.get('TF_CONFIG', '')
    if tf_config:
        workers, index = parse_tf_config(tf_config)
        if len(workers) > 1 or distributed_flag:
            return Cluster('tf', index, len(workers), workers)
        return Cluster()
    if distributed_flag:
        raise InputError('--distributed needs the cluster in TF_CONFIG, e.g. {"cluster": '
                         '{"worker": ["host1:2222", "host2:2222"]}, "task": {"type": "worker", '
                         '"index": 0}} (test/train_full_dist.sh sets it for local workers)')
    size = _env_int(environ, 'RANK_SIZE', 1)
    if size <= 1:
        return Cluster()
    if not npu_bridge_present():
        print('note: RANK_SIZE=%d ignored: no npu_bridge (Ascend); on CPU/GPU give the workers '
              'in TF_CONFIG' % size)
        return Cluster()
    rank = _env_int(environ, 'RANK_ID', 0)
    if rank >= size:
        raise InputError('RANK_ID %d is out of range for RANK_SIZE %d' % (rank, size))
    table = environ.get('RANK_TABLE_FILE', '')
    if not table or not os.path.isfile(table):
        raise InputError('RANK_SIZE=%d needs RANK_TABLE_FILE, the HCCL rank table (json); %s'
                         % (size, 'not set' if not table else '%s: no such file' % table))
    return Cluster('npu', rank, size)


def session_options(cluster, config):
    """Set what a distributed session needs on the tf.ConfigProto `config` (NPU: done through
    npu_options instead). TF: rank 0 leads the collective group; the session sees only its
    own task, so it neither waits for nor depends on other workers' masters."""
    if cluster.backend == 'tf':
        config.experimental.collective_group_leader = '/job:worker/replica:0/task:0'
        del config.device_filters[:]
        config.device_filters.append(cluster.task())
    return config


def npu_options(cluster):
    """NpuOptimizer entries for HCCL: hcom_parallel overlaps gradient all-reduce with the
    backward pass (ModelZoo multi-device sess.run models set it)."""
    return {'hcom_parallel': True} if cluster.backend == 'npu' else {}


def start(cluster, config):
    """Start this worker's tf.train.Server (backend 'tf'); returns the session target ('' for
    the other backends)."""
    if cluster.backend != 'tf':
        return ''
    import tensorflow.compat.v1 as tf
    spec = tf.train.ClusterSpec({'worker': cluster.workers})
    cluster.server = tf.train.Server(spec, job_name='worker', task_index=cluster.rank,
                                     config=config, start=True)
    return cluster.server.target


def wrap_optimizer(opt, cluster):
    """`opt` with gradients averaged over the ranks: NPUDistributedOptimizer on NPU, a
    collective all-reduce optimizer for TF workers, `opt` itself for one process.
    Wrap before the loss-scale optimizer (device.wrap_optimizer), which takes it inside."""
    if cluster.backend == 'npu':
        from npu_bridge.estimator.npu.npu_optimizer import NPUDistributedOptimizer
        return NPUDistributedOptimizer(opt)
    if cluster.backend == 'tf':
        return _collective_optimizer(opt, cluster)
    return opt


def _collective_optimizer(opt, cluster):
    """A tf.train.Optimizer whose compute_gradients is `opt`'s with the gradients replaced by
    their mean over the ranks (fused_mean), and whose apply_gradients is `opt`'s."""
    import tensorflow.compat.v1 as tf

    class CollectiveAllReduceOptimizer(tf.train.Optimizer):
        def __init__(self):
            super(CollectiveAllReduceOptimizer, self).__init__(False, 'AllReduce')

        def compute_gradients(self, *args, **kwargs):
            return fused_mean(opt.compute_gradients(*args, **kwargs), cluster)

        def apply_gradients(self, *args, **kwargs):
            return opt.apply_gradients(*args, **kwargs)

    return CollectiveAllReduceOptimizer()


def fused_mean(grads_and_vars, cluster):
    """`grads_and_vars` with every gradient replaced by its mean over the ranks, the gradients
    of one dtype flattened into one vector and all-reduced at once: one collective per step
    instead of one per variable, which costs a third of the time for the D5-C5 gradients
    between 2 local workers (docs/distributed.md). None gradients stay None."""
    import tensorflow.compat.v1 as tf
    out = list(grads_and_vars)
    dtypes = sorted(set(g.dtype.base_dtype for g, _ in out if g is not None), key=str)
    for dtype in dtypes:
        idx = [i for i, (g, _) in enumerate(out) if g is not None and g.dtype.base_dtype == dtype]
        grads = [out[i][0] for i in idx]
        static = all(g.shape.is_fully_defined() for g in grads)  # keep the shapes known
        flat = tf.concat([tf.reshape(g, [-1]) for g in grads], 0)
        sizes = [g.shape.num_elements() if static else tf.size(g) for g in grads]
        parts = tf.split(mean_across(flat, cluster), sizes)
        for i, g, part in zip(idx, grads, parts):
            out[i] = (tf.reshape(part, g.shape if static else tf.shape(g)), out[i][1])
    return out


def mean_across(tensor, cluster):
    """The mean of `tensor` over the ranks (every rank gets it); `tensor` itself for one
    process. NPU: HCCL all-reduce sum / size."""
    if not cluster.distributed:
        return tensor
    if cluster.backend == 'npu':
        from npu_bridge.hccl import hccl_ops
        return hccl_ops.allreduce(tensor, 'sum') / float(cluster.size)
    import tensorflow.compat.v1 as tf
    from tensorflow.python.ops import collective_ops
    with tf.device(cluster.task()):  # TF 1.15 wants collective ops and inputs placed
        return collective_ops.all_reduce(tf.identity(tensor), cluster.size, GROUP_KEY,
                                         cluster.next_key(), 'Add', 'Div', subdiv_offsets=(0,))


def broadcast_variables(variables, cluster):
    """An op that sets every variable of `variables` to rank 0's value (run it once rank 0 has
    initialised or restored them); None for one process. HCCL broadcasts floating-point
    tensors (the ModelZoo helpers broadcast those only), so an integer variable (the global
    step) travels as float32 there and is cast back: exact below 2**24 steps."""
    if not cluster.distributed:
        return None
    import tensorflow.compat.v1 as tf
    ops = []
    for v in variables:
        dtype = v.dtype.base_dtype
        if cluster.backend == 'npu':
            from npu_bridge.hccl import hccl_ops
            value = v.read_value() if dtype.is_floating else tf.cast(v, tf.float32)
            got = hccl_ops.broadcast(tensor=[value], root_rank=0)[0]
            ops.append(tf.assign(v, tf.cast(got, dtype)))
            continue
        from tensorflow.python.ops import collective_ops
        key = cluster.next_key()
        with tf.device(cluster.task()):
            if cluster.chief:
                ops.append(collective_ops.broadcast_send(tf.identity(v), v.shape, dtype,
                                                         cluster.size, GROUP_KEY, key))
            else:
                ops.append(tf.assign(v, collective_ops.broadcast_recv(
                    v.shape, dtype, cluster.size, GROUP_KEY, key)))
    return tf.group(ops, name='broadcast_from_rank0')


def failure(cluster, cause, ckpt_dir):
    """The one-line message of a run stopped because the ranks lost each other; `cause` is an
    exception (its type and first line are given) or a phrase."""
    if isinstance(cause, Exception):
        # TF 2.x puts a bare "Graph execution error:" first
        lines = [l.strip() for l in str(cause).splitlines()
                 if l.strip() and not l.startswith('Graph execution error')]
        cause = type(cause).__name__ + (': ' + lines[0][:160] if lines else '')
    return ('rank %d of %d: %s; a rank stopped or is unreachable, so training stops; the last '
            'checkpoint in %s is kept' % (cluster.rank, cluster.size, cause, ckpt_dir))


class Watchdog(object):
    """Ends the process when a training step waits too long for the other ranks.

    A rank that dies leaves the others blocked inside the all-reduce; TF 1.15's collective ops
    ignore RunOptions deadlines, so a timer thread prints one `error:` line and exits (code 1)
    when `seconds` pass between `arm()` and `disarm()`. Checkpoints are written only between
    steps, so the last one is complete."""

    def __init__(self, seconds, message):
        self.seconds = seconds
        self.message = message
        self._timer = None

    def arm(self):
        self._timer = threading.Timer(self.seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def disarm(self):
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _fire(self):
        sys.stdout.flush()
        sys.stderr.write('error: %s\n' % self.message)
        sys.stderr.flush()
        os._exit(1)
