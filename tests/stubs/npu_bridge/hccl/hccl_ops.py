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
"""Stand-in for `npu_bridge.hccl.hccl_ops`: records each collective op as it is built and, when
it runs, exchanges the values with the other rank processes through files (npu_bridge.exchange).
Signatures as the TF Adapter 1.x documents them."""
import numpy as np
import tensorflow.compat.v1 as tf

from npu_bridge import exchange
from npu_bridge.recorder import record

_REDUCE = {'sum': np.sum, 'max': np.max, 'min': np.min, 'prod': np.prod}


def allreduce(tensor, reduction, fusion=1, fusion_id=-1, group='hccl_world_group'):
    if reduction not in _REDUCE:
        raise ValueError('reduction must be one of %s, got %r' % (sorted(_REDUCE), reduction))
    name = tf.get_default_graph().unique_name('hccl_allreduce')
    record('hccl_allreduce', reduction=reduction, dtype=tensor.dtype.name, group=group)

    def run(x):
        return _REDUCE[reduction](np.stack(exchange.all_gather(name, x)), axis=0).astype(x.dtype)

    out = tf.py_func(run, [tensor], tensor.dtype, stateful=True, name=name)
    out.set_shape(tensor.shape)
    return out


def broadcast(tensor, root_rank, fusion=2, fusion_id=0, group='hccl_world_group'):
    """`tensor` is a list of tensors; returns the list of rank `root_rank`'s values."""
    if not isinstance(tensor, (list, tuple)):
        raise TypeError('hccl_ops.broadcast takes a list of tensors')
    out = []
    for t in tensor:
        name = tf.get_default_graph().unique_name('hccl_broadcast')
        record('hccl_broadcast', root_rank=root_rank, dtype=t.dtype.name,
               shape=t.shape.as_list(), group=group)
        got = tf.py_func(lambda x, n=name: exchange.broadcast(n, x, root_rank), [t], t.dtype,
                         stateful=True, name=name)
        got.set_shape(t.shape)
        out.append(got)
    return out
