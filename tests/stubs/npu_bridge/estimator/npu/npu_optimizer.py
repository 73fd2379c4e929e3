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
"""Stand-in for the TF Adapter's `NPUDistributedOptimizer`: records the wrapping; its
compute_gradients is the wrapped optimizer's with the gradients averaged over the rank
processes (the device all-reduces each gradient with HCCL and divides by the rank size; the
stand-in exchanges them all in one file per step, see npu_bridge.exchange)."""
import numpy as np
import tensorflow.compat.v1 as tf

from npu_bridge import exchange
from npu_bridge.recorder import record


class NPUDistributedOptimizer(tf.train.Optimizer):
    def __init__(self, optimizer, name=None):
        super(NPUDistributedOptimizer, self).__init__(use_locking=False,
                                                      name=name or 'NPUDistributedOptimizer')
        self.opt = optimizer
        record('distributed_optimizer', inner=type(optimizer).__name__,
               rank_size=exchange.rank_and_size()[1])

    def compute_gradients(self, *args, **kwargs):
        grads = list(self.opt.compute_gradients(*args, **kwargs))
        kept = [i for i, (g, _) in enumerate(grads) if g is not None]
        flat = tf.concat([tf.reshape(grads[i][0], [-1]) for i in kept], 0)
        name = tf.get_default_graph().unique_name('npu_stub_grad_allreduce')

        def mean(x):
            return np.mean(np.stack(exchange.all_gather(name, x)), axis=0).astype(x.dtype)

        reduced = tf.py_func(mean, [flat], flat.dtype, stateful=True, name=name)
        shapes = [grads[i][0].shape.as_list() for i in kept]
        parts = tf.split(reduced, [int(np.prod(s)) for s in shapes])
        for i, part, shape in zip(kept, parts, shapes):
            grads[i] = (tf.reshape(part, shape), grads[i][1])
        return grads

    def apply_gradients(self, *args, **kwargs):
        return self.opt.apply_gradients(*args, **kwargs)
