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
"""The training step, once: inputs -> model -> loss -> optimizer, with the gradient all-reduce
of data-parallel training, loss scaling where the precision is lowered, and the finite-step
guard. train.py runs it and bench/bench.py and bench/allreduce.py time it, so a benchmark
measures the step training really runs (the port's loss and SGD, weight decay, the guard).
"""
import collections

import tensorflow.compat.v1 as tf

from models import config as cfgmod
from models import device as devmod
from models import distributed, losses, model_tf
from models.nets import conv

# What build() returns. train_op: one training step; loss: the loss of this rank's batch;
# loss_mean: the loss averaged over the ranks, read after the step; step_after: the global
# step after it (a skipped step does not count); weights: the model's variables (no optimizer
# slots), what --init_checkpoint restores; pred: the reconstruction (N[, T], H, W, 2);
# loss_scaling: True where a loss-scale optimizer skips non-finite steps itself.
TrainStep = collections.namedtuple(
    'TrainStep', 'train_op loss loss_mean step_after global_step weights pred loss_scaling')


def optimizer(cfg, global_step):
    """Adam (lr, beta1) or SGD with the port's decay, lr x 0.98 every 1000 steps (staircase)."""
    if cfg.optimizer == 'adam':
        return tf.train.AdamOptimizer(cfg.learning_rate, beta1=cfg.adam_beta1)
    lr = tf.train.exponential_decay(cfg.learning_rate, global_step, 1000, 0.98, staircase=True)
    return tf.train.GradientDescentOptimizer(lr)


def finite_update(opt, loss, global_step, check_loss=True):
    """Apply `opt`'s step only when the loss (if `check_loss`) and every gradient are finite,
    so the weights stay good; else do nothing (the global step does not advance)."""
    grads = opt.compute_gradients(loss)
    checks = [tf.is_finite(loss)] if check_loss else []
    finite = tf.reduce_all(tf.stack(checks + [
        tf.reduce_all(tf.is_finite(g)) for g, _ in grads if g is not None]))
    return tf.cond(finite, lambda: opt.apply_gradients(grads, global_step), tf.no_op)


def build(cfg, feature, mask, label, dev='cpu', cluster=None, grad_policy=None,
          coil_inputs=()):
    """The training step of Config `cfg` in the default graph.

    Args:
      cfg: models.config.Config (or a config.json dict).
      feature: (N[, T], H, W, 2) float32 zero-filled images; mask: (N[, T], H, W) float32 0/1;
        label: (N[, T], H, W, 2) float32 references. Placeholders or a tf.data batch.
      dev: 'cpu', 'gpu' or 'npu' (models.device.detect_device): where loss scaling applies.
      cluster: models.distributed.Cluster (default: one process).
      grad_policy: models.cpu.filter_grad_policy's conv filter-gradient policy, or None.
      coil_inputs: multi-coil data only, (kspace, coil_maps) (N[, T], C, H, W, 2) float32.
    Returns:
      TrainStep.
    """
    cfg = cfgmod.as_config(cfg)
    cluster = cluster or distributed.Cluster()
    with conv.filter_gradient(grad_policy):
        pred = model_tf.reconstruction(feature, mask, True, cfg, *coil_inputs)
    loss = losses.training_loss(pred, label, cfg)
    weights = model_tf.model_variables()  # before the optimizer adds its slots
    global_step = tf.train.get_or_create_global_step()
    # gradients averaged over the ranks inside the loss scaling, as the TF Adapter docs nest them
    opt = distributed.wrap_optimizer(optimizer(cfg, global_step), cluster)
    scaled = devmod.wrap_optimizer(opt, dev, cfg.precision_mode, cfg.loss_scale_incr_steps,
                                   distributed=cluster.distributed)
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
        if scaled is not opt:
            # the loss-scale optimizer skips non-finite steps and lowers the scale itself
            update = scaled.minimize(loss, global_step=global_step)
        else:
            # several ranks decide on the averaged gradients alone, the same on every rank
            update = finite_update(opt, loss, global_step, not cluster.distributed)
    train_op = tf.group(update, name='train_op')
    with tf.control_dependencies([train_op]):
        step_after = global_step.read_value()
        # the loss logged: the mean over the ranks (= one process's loss over the global batch)
        loss_mean = distributed.mean_across(loss, cluster)
    return TrainStep(train_op, loss, loss_mean, step_after, global_step, weights, pred,
                     scaled is not opt)
