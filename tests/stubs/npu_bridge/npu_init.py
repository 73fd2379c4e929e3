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
"""Stand-in for `npu_bridge.npu_init`. With $NPU_STUB_LOG set (a subprocess run), every
tf.Session records the NpuOptimizer settings and rewrite options of the config it receives;
the real TF then ignores the unknown custom optimizer and runs on CPU."""
import os

from tensorflow.python.client import session as _session

from npu_bridge.recorder import record


def session_record(config):
    """The parts of a ConfigProto the NPU needs, as plain Python values."""
    rewrite = config.graph_options.rewrite_options
    custom = {}
    for op in rewrite.custom_optimizers:
        custom[op.name] = dict((k, v.s.decode() if v.HasField('s') else
                                (v.b if v.HasField('b') else v.i))
                               for k, v in op.parameter_map.items())
    return {'custom_optimizers': custom, 'remapping': int(rewrite.remapping),
            'memory_optimization': int(rewrite.memory_optimization)}


if os.environ.get('NPU_STUB_LOG') and not getattr(_session.Session, '_npu_stub', False):
    _init = _session.Session.__init__

    def _recording_init(self, target='', graph=None, config=None):
        if config is not None:
            record('session', **session_record(config))
        _init(self, target, graph, config)

    _session.Session.__init__ = _recording_init
    _session.Session._npu_stub = True
