"""Session configuration and precision for the device found: Ascend NPU, GPU or CPU.

Ascend (npu_bridge importable): the NpuOptimizer custom optimizer with `precision_mode`,
remapping and memory optimisation off (as the Ascend TF 1.15 migration guide requires), and
NPU loss scaling when the mode lowers precision. GPU: TF's mixed-precision graph rewrite with
dynamic loss scaling for those modes. CPU: float32 always.

Precision is lowered only for convolutions: FFT and data consistency are complex64 ops, which
neither the NPU precision modes nor the GPU rewrite cast to half precision.
"""
import importlib

import tensorflow.compat.v1 as tf

from models.config import PRECISION_MODES  # noqa: F401  (re-exported)

LOWERS_PRECISION = ('allow_fp32_to_fp16', 'force_fp16', 'allow_mix_precision')


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


def session_config(device, precision_mode, seed_threads=False):
    """A tf.ConfigProto for `device`. `seed_threads` pins one inter-op thread on CPU so that
    a seeded run is repeatable step for step."""
    config = tf.ConfigProto(allow_soft_placement=True)
    if device == 'npu':
        from tensorflow.core.protobuf.rewriter_config_pb2 import RewriterConfig
        importlib.import_module('npu_bridge.npu_init')
        custom_op = config.graph_options.rewrite_options.custom_optimizers.add()
        custom_op.name = 'NpuOptimizer'
        custom_op.parameter_map['use_off_line'].b = True
        custom_op.parameter_map['precision_mode'].s = tf.compat.as_bytes(precision_mode)
        config.graph_options.rewrite_options.remapping = RewriterConfig.OFF
        config.graph_options.rewrite_options.memory_optimization = RewriterConfig.OFF
    elif device == 'gpu':
        config.gpu_options.allow_growth = True
    elif seed_threads:
        config.inter_op_parallelism_threads = 1
    return config


def wrap_optimizer(opt, device, precision_mode):
    """Add loss scaling / mixed precision to `opt` where `precision_mode` lowers precision."""
    if precision_mode not in LOWERS_PRECISION or device == 'cpu':
        return opt
    if device == 'npu':
        from npu_bridge.estimator.npu.npu_loss_scale_manager import \
            ExponentialUpdateLossScaleManager
        from npu_bridge.estimator.npu.npu_loss_scale_optimizer import NPULossScaleOptimizer
        manager = ExponentialUpdateLossScaleManager(init_loss_scale=2 ** 32,
                                                    incr_every_n_steps=1000,
                                                    decr_every_n_nan_or_inf=2, decr_ratio=0.5)
        return NPULossScaleOptimizer(opt, manager)
    return tf.train.experimental.enable_mixed_precision_graph_rewrite(opt, loss_scale='dynamic')


def describe(device, precision_mode):
    """The line train.py logs once about device and precision."""
    if device == 'cpu':
        return 'device: CPU, float32 (precision_mode %s applies on NPU/GPU only)' % precision_mode
    if device == 'gpu':
        how = ('mixed precision graph rewrite, dynamic loss scaling'
               if precision_mode in LOWERS_PRECISION else 'float32')
        return 'device: GPU, %s (precision_mode %s)' % (how, precision_mode)
    return 'device: Ascend NPU, precision_mode %s%s' % (
        precision_mode, ', NPU loss scaling' if precision_mode in LOWERS_PRECISION else '')
