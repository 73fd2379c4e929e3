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
"""Stand-in: records the loss-scale settings; same constructor signature as TF Adapter's."""
from npu_bridge.recorder import record


class ExponentialUpdateLossScaleManager(object):
    def __init__(self, init_loss_scale, incr_every_n_steps, decr_every_n_nan_or_inf=2,
                 incr_ratio=2, decr_ratio=0.8):
        self.settings = {'init_loss_scale': init_loss_scale,
                         'incr_every_n_steps': incr_every_n_steps,
                         'decr_every_n_nan_or_inf': decr_every_n_nan_or_inf,
                         'incr_ratio': incr_ratio, 'decr_ratio': decr_ratio}
        record('loss_scale_manager', **self.settings)
