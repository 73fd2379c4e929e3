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
