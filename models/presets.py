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
"""The model presets, in one place: `paper` (Schlemper et al. 2017, the default) and `port`
(the Ascend ModelZoo port CascadeNet_ID2121_for_TensorFlow, rebuilt exactly).

A preset is a dict of settings. train.py takes `--preset NAME` and lets single flags override
the settings of OVERRIDABLE[NAME]; every resolved value is saved in config.json, so test.py,
ckpt_to_pb.py and a resumed run rebuild the same graph. docs/model.md tabulates the differences.

Settings:
  net                 'cascade' (models/nets/cascade.py) or 'port' (models/nets/port.py)
  Dn, Dc, nf          conv layers per cascade, cascades, filters per conv layer
  dc_mode             'hard' / 'lambda' (cascade), 'port' (one shared lambda, the port's formula)
  batch_norm, share_weights
  optimizer           'adam', or 'sgd' with lr x0.98 every 1000 steps (staircase)
  learning_rate
  loss                'mse', or 'port': 2 x MSE + the port's weight-norm regulariser
                      (models/losses.py)
  label_scale         what is done to INTEGER labels (uint8/uint16/int; float and complex labels
                      are always used as stored): 'image_max' divides each image by its max |x|
                      (max |x| = 1, as make_h5data.py writes its own files), 'stored' keeps them
                      as stored (0-255 for the port's uint8 files: the port's pixel scale)
  loss_scale_incr_steps  NPU dynamic loss scaling: steps between loss-scale increases
"""
PAPER = 'paper'
PORT = 'port'
NAMES = (PAPER, PORT)
DEFAULT = PAPER

PRESETS = {
    PAPER: {
        'net': 'cascade', 'Dn': 5, 'Dc': 5, 'nf': 64,
        'dc_mode': 'hard', 'batch_norm': False, 'share_weights': False,
        'optimizer': 'adam', 'learning_rate': 1e-3, 'loss': 'mse',
        'label_scale': 'image_max',
        # the TF Adapter documentation's example value (models/device.py)
        'loss_scale_incr_steps': 1000,
    },
    PORT: {
        'net': 'port', 'Dn': 11, 'Dc': 5, 'nf': 64,
        'dc_mode': 'port', 'batch_norm': True, 'share_weights': True,
        'optimizer': 'sgd', 'learning_rate': 1e-3, 'loss': 'port',
        'label_scale': 'stored',
        # the port's train.py: ExponentialUpdateLossScaleManager(incr_every_n_steps=100)
        'loss_scale_incr_steps': 100,
    },
}

# Settings a flag of the same name may change. The port's network has one form (batch norm,
# shared weights, its DC); its size may change, and --nf too (the port hard-codes 64).
OVERRIDABLE = {
    PAPER: ('Dn', 'Dc', 'nf', 'dc_mode', 'batch_norm', 'share_weights', 'optimizer',
            'learning_rate'),
    PORT: ('Dn', 'Dc', 'nf', 'optimizer', 'learning_rate'),
}

# The settings that describe the network (checked against flags on resume and in test.py).
ARCH_KEYS = ('net', 'Dn', 'Dc', 'nf', 'dc_mode', 'batch_norm', 'share_weights')
# The settings fixed by the preset, never by a flag, saved with the model.
FIXED_KEYS = ('loss', 'label_scale', 'loss_scale_incr_steps')
