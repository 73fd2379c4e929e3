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
"""Session configuration and precision for the device found: Ascend NPU, GPU or CPU.

Ascend (npu_bridge importable): the NpuOptimizer custom graph optimizer with `precision_mode`,
remapping and memory optimisation off (the TF Adapter 1.x session-configuration docs require
both), and NPU loss scaling (NPULossScaleOptimizer + ExponentialUpdateLossScaleManager) when the
mode lowers precision. GPU: TF's mixed-precision graph rewrite with dynamic loss scaling for
those modes. CPU: float32 always; the mode is only reported.

Precision is lowered only for convolutions (and their neighbours under allow_mix_precision):
FFT and data consistency are complex64 ops, which neither the NPU precision modes nor the GPU
rewrite cast to half precision, so k-space stays complex64 in every mode.

NPU training adds the TF Adapter's data-preprocessing and loop-sinking options and the ModelZoo
debugging options (dump, overflow detection, profiling, auto-tuning): `npu_options` names them as
the TF Adapter 1.x sess.run session-configuration docs do, `loop_train_op` applies
iterations_per_loop.
"""
import importlib
import json

import tensorflow.compat.v1 as tf
from tensorflow.core.protobuf.rewriter_config_pb2 import RewriterConfig

from models.config import PRECISION_MODES  # noqa: F401  (re-exported)

# must_keep_origin_dtype keeps float32: no loss scaling, no rewrite. Note that older Ascend 910
# CANN releases have no float32 Conv2D on the AI Core, so that mode may fail to compile there.
LOWERS_PRECISION = ('allow_fp32_to_fp16', 'force_fp16', 'allow_mix_precision')

# NPU dynamic loss scaling, the values of the TF Adapter documentation's example.
NPU_LOSS_SCALE = {'init_loss_scale': 2 ** 32, 'incr_every_n_steps': 1000,
                  'decr_every_n_nan_or_inf': 2, 'decr_ratio': 0.5}


def lowers_precision(precision_mode):
    return precision_mode in LOWERS_PRECISION


def npu_available():
    try:
        importlib.import_module('npu_bridge.npu_init')
    except ImportError:
        return False
    return True


def gpu_available():
    return bool(tf.config.experimental.list_physical_devices('GPU'))


def detect_device():
    """'npu', 'gpu' or 'cpu'."""
    if npu_available():
        return 'npu'
    return 'gpu' if gpu_available() else 'cpu'


def npu_options(iterations_per_loop=None, dump_path='', dump_step='', overflow_path='',
                profiling_path='', autotune=False):
    """NpuOptimizer parameter_map entries for a training session, as {name: bool|int|str}.

    iterations_per_loop: given, GetNext runs on the device (enable_data_pre_proc, which needs
    the tf.data input of models.pipeline) and each sess.run of loop_train_op's op runs that many
    steps. dump_path: dump every operator's inputs and outputs (enable_dump, dump_mode all) at
    the iterations `dump_step` ('0|5|10', '0|3-5'; '' for all). overflow_path: collect
    overflow data (enable_dump_debug, dump_debug_mode all); the TF Adapter refuses both dumps
    at once. profiling_path: profiling_mode with task and training traces, the forward and
    backward points left to the system to find. autotune: auto_tune_mode RL,GA."""
    if dump_path and overflow_path:
        raise ValueError('enable_dump and enable_dump_debug exclude each other')
    opts = {}
    if iterations_per_loop is not None:
        opts['enable_data_pre_proc'] = True
        opts['iterations_per_loop'] = int(iterations_per_loop)
    if dump_path:
        opts.update(enable_dump=True, dump_path=dump_path, dump_mode='all')
        if dump_step:
            opts['dump_step'] = dump_step
    if overflow_path:
        opts.update(enable_dump_debug=True, dump_path=overflow_path, dump_debug_mode='all')
    if profiling_path:
        opts['profiling_mode'] = True
        opts['profiling_options'] = json.dumps(
            {'output': profiling_path, 'task_trace': 'on', 'training_trace': 'on', 'aicpu': 'on',
             'fp_point': '', 'bp_point': '', 'aic_metrics': 'PipeUtilization'}, sort_keys=True)
    if autotune:
        opts['auto_tune_mode'] = 'RL,GA'
    return opts


def session_config(device, precision_mode, seed_threads=False, npu=None):
    """A tf.ConfigProto for `device` ('npu', 'gpu' or 'cpu') and `precision_mode`.

    `seed_threads` pins one inter-op thread on CPU so that a seeded run is repeatable step
    for step (intra-op threads, where the convolutions run, are left to TF). `npu`: more
    NpuOptimizer entries (npu_options), used on NPU only."""
    if precision_mode not in PRECISION_MODES:
        raise ValueError('precision_mode must be one of %s, got %r'
                         % (PRECISION_MODES, precision_mode))
    config = tf.ConfigProto(allow_soft_placement=True)
    rewrite = config.graph_options.rewrite_options
    if device == 'npu':
        importlib.import_module('npu_bridge.npu_init')  # registers the NPU ops and optimizer
        custom_op = rewrite.custom_optimizers.add()
        custom_op.name = 'NpuOptimizer'
        custom_op.parameter_map['use_off_line'].b = True
        custom_op.parameter_map['precision_mode'].s = tf.compat.as_bytes(precision_mode)
        for name, value in sorted((npu or {}).items()):
            if isinstance(value, bool):  # before int: a bool is an int
                custom_op.parameter_map[name].b = value
            elif isinstance(value, int):
                custom_op.parameter_map[name].i = value
            else:
                custom_op.parameter_map[name].s = tf.compat.as_bytes(value)
        rewrite.remapping = RewriterConfig.OFF
        # The Ascend docs assign Toggle.OFF (2) to this MemOptType field, where 2 reads as
        # MANUAL: no automatic swapping/recomputation. Kept exactly as documented.
        rewrite.memory_optimization = RewriterConfig.OFF
    elif device == 'gpu':
        config.gpu_options.allow_growth = True
        # Said explicitly per session: enable_mixed_precision_graph_rewrite() also turns the
        # pass on globally for every later Session of the process, which must not leak into a
        # float32 session (must_keep_origin_dtype) created after it.
        rewrite.auto_mixed_precision = (RewriterConfig.ON if lowers_precision(precision_mode)
                                        else RewriterConfig.OFF)
    elif seed_threads:
        config.inter_op_parallelism_threads = 1
    return config


def wrap_optimizer(opt, device, precision_mode, incr_every_n_steps=None, distributed=False):
    """Add loss scaling / mixed precision to `opt` where `precision_mode` lowers precision.
    `incr_every_n_steps` replaces NPU_LOSS_SCALE's (the port preset uses the port's 100).
    `distributed`: `opt` averages gradients over several NPUs (NPUDistributedOptimizer), so
    the loss-scale optimizer must agree on overflow across them (is_distributed=True, the TF
    Adapter docs' form).

    Call it outside any tf.control_dependencies block: the NPU loss-scale manager creates
    variables that must not depend on the update ops (TF Adapter docs)."""
    if not lowers_precision(precision_mode) or device == 'cpu':
        return opt
    if device == 'npu':
        from npu_bridge.estimator.npu.npu_loss_scale_manager import \
            ExponentialUpdateLossScaleManager
        from npu_bridge.estimator.npu.npu_loss_scale_optimizer import NPULossScaleOptimizer
        settings = dict(NPU_LOSS_SCALE)
        if incr_every_n_steps is not None:
            settings['incr_every_n_steps'] = incr_every_n_steps
        manager = ExponentialUpdateLossScaleManager(**settings)
        if distributed:
            return NPULossScaleOptimizer(opt, manager, is_distributed=True)
        return NPULossScaleOptimizer(opt, manager)
    return tf.train.experimental.enable_mixed_precision_graph_rewrite(opt, loss_scale='dynamic')


def loop_train_op(sess, train_op, device, iterations_per_loop):
    """The op that runs `iterations_per_loop` training steps per sess.run: on NPU the TF
    Adapter's util.set_iteration_per_loop (call it once the session exists; the session needs
    npu_options(iterations_per_loop)); elsewhere `train_op`, one step per sess.run."""
    if device != 'npu':
        return train_op
    from npu_bridge.estimator.npu import util
    return util.set_iteration_per_loop(sess, train_op, iterations_per_loop)


def describe(device, precision_mode):
    """The line train.py logs once about device and precision."""
    if device == 'cpu':
        return 'device: CPU, float32 (precision_mode %s applies on NPU/GPU only)' % precision_mode
    if device == 'gpu':
        how = ('mixed precision graph rewrite, dynamic loss scaling'
               if lowers_precision(precision_mode) else 'float32')
        return 'device: GPU, %s (precision_mode %s)' % (how, precision_mode)
    return 'device: Ascend NPU, precision_mode %s%s' % (
        precision_mode, ', NPU loss scaling' if lowers_precision(precision_mode) else '')
