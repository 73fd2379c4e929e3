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
"""The training input as a tf.data pipeline: the form the Ascend NPU can sink.

train.py reads its training batches through `TrainInput`: a `tf.data.Dataset.from_generator`
over `pre_input.Batches.from_step(start)`, an initializable iterator and a get_next op named
`getnext`. On Ascend, with `enable_data_pre_proc` on, the TF Adapter moves that op to the device
and keeps the dataset (the generator's PyFunc) on the host, feeding the device through a queue;
this is what lets `iterations_per_loop` run several steps per `sess.run` (docs/devices.md).
feed_dict cannot do either.

The generator reads one batch at a time, so memory stays flat in the file size. The start step
is fed when the iterator is initialised, so the batch order depends only on (seed, epoch, index),
never on where training started: a resumed run sees exactly the batches of an uninterrupted one.
With several ranks (models/distributed.py) each rank's Batches (rank, ranks) yields its own
rows of every global batch, so the pipeline itself is the same on every rank.
"""
import tensorflow.compat.v1 as tf

PREFETCH = 2  # batches prepared ahead of the training step


class TrainInput(object):
    """Initializable iterator over Batches.from_step(start_step).

    feature (B, ..., 2), label (B, ..., 2), mask (B, ...) float32, B = batch size (static
    shapes, so the device graph compiles once). `initialize(sess, start_step)` (re)starts it.
    An error the generator raises (e.g. an unreadable HDF5 chunk mid-run) is kept in `errors`,
    so the caller can report the original InputError instead of TensorFlow's wrapped one.
    """

    def __init__(self, batches, prefetch=PREFETCH):
        self.batches = batches
        self.errors = []
        shape = [batches.batch_size] + list(batches.data.shape)
        shapes = [shape + [2], shape + [2], shape]
        coils = getattr(batches.data, 'coils', 0)
        if coils:  # kspace and coil_maps (B[, T], C, H, W, 2)
            shapes += [shape[:-2] + [coils] + shape[-2:] + [2]] * 2
        self.start = tf.placeholder(tf.int64, [], name='start_step')
        dataset = tf.data.Dataset.from_generator(
            self._generate, tuple([tf.float32] * len(shapes)),
            tuple(tf.TensorShape(s) for s in shapes), args=(self.start,))
        # initializable, not one-shot: the TF Adapter sinks GetNext only for this kind
        self.iterator = tf.data.make_initializable_iterator(dataset.prefetch(prefetch))
        out = self.iterator.get_next(name='getnext')
        self.feature, self.label, self.mask = out[:3]
        self.coil_inputs = list(out[3:])  # [kspace, coil_maps] for multi-coil data, else []

    def _generate(self, start):
        try:
            for _, _, batch in self.batches.from_step(int(start)):
                yield tuple(batch[k] for k in ('feature', 'label', 'mask', 'kspace', 'coil_maps')
                            if k in batch)
        except Exception as e:  # TF re-raises it as an OpError; keep the original
            self.errors.append(e)
            raise

    def initialize(self, sess, start_step):
        sess.run(self.iterator.initializer, {self.start: start_step})
