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
"""Stand-in for the TF Adapter's `npu_bridge.estimator.npu.util.set_iteration_per_loop`.

Records the call and checks its arguments as the TF Adapter does. On the device, every sess.run
of the returned op runs `iterations_per_loop` training steps (GetNext feeding each one) and the
fetched values are the last step's; on CPU the stand-in gives the same to the caller by running
the session that many times whenever the returned op is fetched."""
import tensorflow.compat.v1 as tf

from npu_bridge.recorder import record


def set_iteration_per_loop(sess, train_op, iterations_per_loop=1):
    if not isinstance(train_op, tf.Operation):
        raise ValueError("The incoming 'train_op' type is '%s', and the need type is "
                         "'Operation'" % type(train_op).__name__)
    if not isinstance(iterations_per_loop, int) or iterations_per_loop < 1:
        raise ValueError('iterations_per_loop must be a positive integer, got %r'
                         % (iterations_per_loop,))
    record('set_iteration_per_loop', train_op=train_op.name,
           iterations_per_loop=iterations_per_loop)
    if iterations_per_loop == 1:
        return train_op
    loop_op = tf.group(train_op, name='IterationOp')
    run = sess.run

    def looped_run(fetches, *args, **kwargs):
        if any(f is loop_op for f in tf.nest.flatten(fetches)):
            for _ in range(iterations_per_loop - 1):
                run(fetches, *args, **kwargs)
        return run(fetches, *args, **kwargs)

    sess.run = looped_run
    return loop_op
