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
"""Stand-in: records the wrapping and passes gradients through to the wrapped optimizer
unscaled, so a CPU run trains exactly as without it."""
import tensorflow.compat.v1 as tf

from npu_bridge.recorder import record


class NPULossScaleOptimizer(tf.train.Optimizer):
    def __init__(self, opt, loss_scale_manager, is_distributed=False):
        super(NPULossScaleOptimizer, self).__init__(use_locking=False, name='NPULossScale')
        self.opt = opt
        self.loss_scale_manager = loss_scale_manager
        record('loss_scale_optimizer', inner=type(opt).__name__,
               manager=type(loss_scale_manager).__name__, is_distributed=is_distributed)

    def compute_gradients(self, *args, **kwargs):
        return self.opt.compute_gradients(*args, **kwargs)

    def apply_gradients(self, *args, **kwargs):
        return self.opt.apply_gradients(*args, **kwargs)
