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
"""models/pipeline.py: the tf.data training input gives exactly the batches of
pre_input.Batches from any start step, under the name the NPU sinks; padded evaluation
batches leave the metrics unchanged."""
import numpy as np
import pytest

from models import evaluate, pre_input
from models.errors import InputError
from models.tfv1 import tf_v1

tf = tf_v1()
from models import pipeline  # noqa: E402  (after tf_v1: graph mode)


@pytest.fixture
def batches(tiny_data):
    data = pre_input.H5Data(tiny_data[0])  # 24 images: 4 steps of 6 per epoch
    yield pre_input.Batches(data, 6, seed=3, mask_mode='random', mask_type='cartesian',
                            acc=4.0, sample_n=4)
    data.close()


def test_same_batches_as_batches_from_any_start(batches):
    with tf.Graph().as_default():
        inputs = pipeline.TrainInput(batches)
        assert inputs.feature.op.name == 'getnext' and inputs.feature.op.type.startswith(
            'IteratorGetNext')
        assert inputs.feature.shape.as_list() == [6, 32, 32, 2]   # static: one device graph
        assert inputs.mask.shape.as_list() == [6, 32, 32]
        with tf.Session() as sess:
            for start in (0, 7):  # from the beginning, then resumed mid-epoch 1
                inputs.initialize(sess, start)
                expected = batches.from_step(start)
                for _ in range(6):  # crosses the end of an epoch (reshuffled, new masks)
                    got = sess.run([inputs.feature, inputs.label, inputs.mask])
                    _, _, want = next(expected)
                    for g, k in zip(got, ('feature', 'label', 'mask')):
                        np.testing.assert_array_equal(g, want[k])


class FailingBatches(pre_input.Batches):
    def batch(self, epoch, b):
        if b == 1:
            raise InputError('image 7 unreadable')
        return super(FailingBatches, self).batch(epoch, b)


def test_generator_error_is_kept(tiny_data):
    data = pre_input.H5Data(tiny_data[0])
    with tf.Graph().as_default():
        inputs = pipeline.TrainInput(FailingBatches(data, 4))
        with tf.Session() as sess:
            inputs.initialize(sess, 0)
            sess.run(inputs.feature)
            with pytest.raises(tf.errors.OpError):
                sess.run(inputs.feature)
    assert [str(e) for e in inputs.errors] == ['image 7 unreadable']
    data.close()


def test_padded_last_batch(tiny_data):
    data = pre_input.H5Data(tiny_data[1])  # 8 images, batch 3: 3 + 3 + 2 (+ 1 padding row)
    plain = pre_input.Batches(data, 3, shuffle=False, drop_remainder=False)
    padded = pre_input.Batches(data, 3, shuffle=False, drop_remainder=False, pad_last=True)
    last = padded.batch(0, 2)
    assert [len(b['feature']) for b in padded.epoch()] == [3, 3, 3]
    assert list(last['index']) == [6, 7]
    for k in ('feature', 'label', 'mask'):
        np.testing.assert_array_equal(last[k][:2], plain.batch(0, 2)[k])
        np.testing.assert_array_equal(last[k][2], last[k][0])

    def predict(f, m):  # row-wise, as the network in inference mode
        return f * (1.5 + m.mean(axis=(1, 2))[:, None, None, None])
    rows = [evaluate.image_row(*item) for item in evaluate.reconstruct(predict, plain)]
    assert [evaluate.image_row(*item) for item in evaluate.reconstruct(predict, padded)] == rows
    assert len(rows) == 8
    data.close()
