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
"""models/losses.py: the training loss against NumPy, and --weight_decay through config.json."""
import json
import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from models import losses, masks, model_tf
from models.pre_input import to_two_channel, undersample

tf.disable_v2_behavior()


@pytest.mark.parametrize('wd', [0.0, 1e-3])
def test_loss_with_weight_decay_matches_numpy(wd):
    """mse + wd * (sum of squares of the conv kernels only): not the biases, not lambda."""
    rng = np.random.default_rng(0)
    label = (rng.random((2, 16, 16)) * np.exp(1j * rng.random((2, 16, 16)))).astype(np.complex64)
    mask = masks.cartesian_mask((2, 16, 16), 4, 2, seed=0)
    cfg = {'model': 'static', 'Dn': 3, 'Dc': 2, 'nf': 4, 'dc_mode': 'lambda',
           'batch_norm': False, 'share_weights': False, 'random_seed': 0, 'weight_decay': wd}
    g = tf.Graph()
    with g.as_default():
        f = tf.constant(to_two_channel(undersample(label, mask)))
        m = tf.constant(mask)
        pred = model_tf.model_from_config(f, m, True, cfg)['dc2']
        model_tf.model_from_config(f, m, False, cfg)  # an evaluation copy shares the variables
        loss = losses.training_loss(pred, tf.constant(to_two_channel(label)), cfg)
        vs = g.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES)
        with tf.Session() as s:
            s.run(tf.global_variables_initializer())
            for v in vs:  # non-zero biases, so a penalty that took them in would show
                if v.op.name.endswith('/b'):
                    s.run(v.assign(np.full(v.shape.as_list(), 0.5, np.float32)))
            loss_v, pred_v, values = s.run([loss, pred, vs])
    assert loss.op.name == 'loss'
    kernels = [x for v, x in zip(vs, values) if v.op.name.endswith('/W')]
    assert len(kernels) == 6 and len(g.get_collection(tf.GraphKeys.WEIGHTS)) == 6
    assert any(v.op.name.endswith('log_lambda') for v in vs)
    want = np.mean((pred_v.astype(np.float64) - to_two_channel(label)) ** 2)
    want += wd * sum(np.sum(k.astype(np.float64) ** 2) for k in kernels)
    assert loss_v == pytest.approx(want, rel=1e-5)


def test_weight_decay_saved_and_kept_on_resume(tiny_data, tmp_path):
    import train
    d = str(tmp_path / 'ckpt')
    common = ['--data_train_dir', tiny_data[0], '--batch_size', '4', '--save_ckpt_Dir', d,
              '--Dn', '2', '--Dc', '1', '--nf', '4']
    train.main(common + ['--train_steps', '1', '--weight_decay', '5e-7'])
    cfg = json.load(open(os.path.join(d, 'config.json')))
    assert cfg['weight_decay'] == 5e-7
    train.main(common + ['--train_steps', '2', '--continue_training'])
    assert json.load(open(os.path.join(d, 'config.json')))['weight_decay'] == 5e-7
    for bad in ('-1', 'nan'):
        with pytest.raises(SystemExit):
            train.parse_args(['--weight_decay', bad])
