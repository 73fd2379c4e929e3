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
