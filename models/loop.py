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
"""The training loop train.py drives: steps, the log lines scripts parse, checkpoints,
validation with TensorBoard summaries, the non-finite-step policy and the distributed watchdog.

Log lines (models/logparse.py reads them; keep them stable):
  [step] step=<s> epoch=<e> loss=<x> step_time=<sec> images/sec=<n>
  [epoch] epoch=<e> step=<s> loss=<mean> step_time=<sec> images/sec=<n>
  [val] epoch=<e> psnr_in=.. psnr_re=.. ssim_in=.. ssim_re=.. cpsnr_in=.. cpsnr_re=..
  [skip] step=<s> loss=<x>: ...           [done] steps=<s> epochs=<e> train_time=<sec> ...
Times are those of the training sess.run alone, leaving out the first warm-up steps.
"""
import collections
import os
import sys
import time

import numpy as np
import tensorflow.compat.v1 as tf

from models import ckpt, distributed, evaluate, model_tf, pre_input
from models.errors import TrainingStopped

MAX_SKIPPED = 20  # consecutive non-finite steps tolerated under loss scaling
VAL_KEYS = ('psnr_in', 'psnr_re', 'ssim_in', 'ssim_re', 'cpsnr_in', 'cpsnr_re')

# How the loop runs. batch: images per step and rank; total: the step training stops at;
# per_epoch: steps per epoch; per_run: steps per sess.run (NPU loop sinking, else 1);
# log_every, checkpoint_steps (0: none), checkpoint_period (epochs); warmup: steps left out of
# the timing figures; timeout: seconds a collective step may wait (distributed).
Schedule = collections.namedtuple(
    'Schedule', 'batch total per_epoch per_run log_every checkpoint_steps checkpoint_period '
                'warmup timeout')


def crossed(prev, step, every):
    """True if a multiple of `every` lies in (prev, step]: the sess.run that took training
    from step `prev` to `step` passed it (a run may take several steps)."""
    return step // every > prev // every


class Timer(object):
    """Mean time per training step of the training sess.run calls, leaving out the first
    `warmup` steps. A sess.run may run several steps (NPU loop sinking): its time is shared
    equally among them and it is timed only if all of them are past the warm-up."""

    def __init__(self, warmup):
        self.warmup = warmup
        self.seen = 0
        self.total = []      # per-step times of all timed runs
        self.window = []     # per-step times since the last log line

    def add(self, dt, steps=1):
        """Record a sess.run of `dt` seconds that ran `steps` steps; True if it was timed."""
        timed = self.seen >= self.warmup
        self.seen += steps
        if timed:
            self.total.extend([dt / steps] * steps)
            self.window.extend([dt / steps] * steps)
        return timed

    @staticmethod
    def fmt(times, batch):
        if not times:
            return 'step_time=- images/sec=-'
        t = float(np.mean(times))
        return 'step_time=%.6f images/sec=%.2f' % (t, batch / t)


class Validation(object):
    """The evaluation copy of the model (shared weights, train=False) fed with test batches of
    one static shape (the last one padded, so the NPU compiles it once), and its summaries:
    the metrics and one panel (zero-filled | reconstruction | reference | error)."""

    def __init__(self, cfg, data, batch):
        self.data, self.batch = data, batch
        self.inputs = model_tf.placeholders(cfg, batch=batch)  # feature, mask[, kspace, maps]
        feature, mask = self.inputs[:2]
        self.pred = model_tf.reconstruction(feature, mask, False, cfg, *self.inputs[2:])
        h, w = cfg.image_size
        self.values = dict((k, tf.placeholder(tf.float32, name='val_' + k)) for k in VAL_KEYS)
        self.panel = tf.placeholder(tf.uint8, [1, h, 4 * w, 1], name='val_panel')
        self.summary = tf.summary.merge(
            [tf.summary.scalar('val/' + k, v) for k, v in self.values.items()] +
            [tf.summary.image('val/zf_re_gt_err', self.panel)])

    def run(self, sess, writer, epoch, step):
        """Reconstruct the test set, print the [val] line and write the summaries."""
        batches = pre_input.Batches(self.data, self.batch, shuffle=False,
                                    drop_remainder=False, pad_last=True)
        rows, first = [], None
        for item in evaluate.reconstruct(
                lambda *x: sess.run(self.pred, dict(zip(self.inputs, x))), batches):
            rows.append(evaluate.image_row(*item))
            first = first or item
        s = evaluate.summarize(rows)
        print('[val] epoch=%d %s' % (epoch, ' '.join('%s=%.4f' % (k, s[k]) for k in VAL_KEYS)))
        feed = dict((self.values[k], s[k]) for k in VAL_KEYS)
        feed[self.panel] = evaluate.panel(*evaluate.middle_frame(first[1:]))[None, :, :, None]
        writer.add_summary(sess.run(self.summary, feed), step)


class Loop(object):
    """Runs a models.step.TrainStep from the session's global step to `schedule.total`.

    sess: the session (variables initialised or restored); step: the TrainStep; run_op: the op
    one sess.run runs (device.loop_train_op); inputs: the pipeline.TrainInput feeding it;
    cluster: models.distributed.Cluster; folder: --save_ckpt_Dir; saver: tf.train.Saver;
    writer: a tf.summary.FileWriter (chief) or None; validation: a Validation or None."""

    def __init__(self, sess, step, run_op, inputs, cluster, folder, saver, writer, schedule,
                 validation=None):
        self.sess, self.step, self.run_op, self.inputs = sess, step, run_op, inputs
        self.cluster, self.folder, self.saver, self.writer = cluster, folder, saver, writer
        self.s = schedule
        self.validation = validation
        self.timer = Timer(schedule.warmup)
        self.watchdog = distributed.Watchdog(schedule.timeout, distributed.failure(
            cluster, 'a collective step waited more than %d s' % schedule.timeout, folder))
        self.skipped = 0
        self.epoch_losses, self.epoch_times = [], []

    def save(self, step):
        """Write checkpoint model-<step> (rank 0 only)."""
        if not self.cluster.chief:
            return
        path = self.saver.save(self.sess, os.path.join(self.folder, ckpt.CKPT_PREFIX),
                               global_step=step, write_meta_graph=False)
        print('saved checkpoint %s' % path)

    def run_once(self):
        """One training sess.run under the watchdog: (loss, global step after it, seconds)."""
        t0 = time.perf_counter()
        if self.cluster.distributed:
            self.watchdog.arm()
        try:
            loss, step, _ = self.sess.run([self.step.loss_mean, self.step.step_after,
                                           self.run_op])
        except tf.errors.OpError as e:
            if self.inputs.errors:  # the input generator failed: report its own error
                raise self.inputs.errors[0]
            if self.cluster.distributed:
                raise TrainingStopped(distributed.failure(self.cluster, e, self.folder))
            raise
        finally:
            self.watchdog.disarm()
        return float(loss), int(step), time.perf_counter() - t0

    def applied(self, prev, step, loss):
        """False if none of the run's steps was applied. Steps with non-finite loss or
        gradients are skipped under loss scaling (MAX_SKIPPED in a row at most); without it
        training stops, keeping the last good checkpoint."""
        per_run = self.s.per_run
        if step - prev == per_run:
            self.skipped = 0
            return True
        self.skipped += per_run - (step - prev)
        if not self.step.loss_scaling or self.skipped > MAX_SKIPPED:
            raise TrainingStopped(
                'non-finite loss or gradients (loss %r) at step %d, epoch %d; the step was not '
                'applied and training stops; the last good checkpoint in %s is kept'
                % (loss, step + 1, step // self.s.per_epoch + 1, self.folder))
        print('[skip] step=%d loss=%r: %d step(s) with non-finite gradients skipped, loss '
              'scale lowered' % (step + 1, loss, per_run - (step - prev)))
        return step > prev

    def log_step(self, step, loss):
        """The [step] line and the TensorBoard loss (built from the fetched value: no summary
        op runs in the training step)."""
        print('[step] step=%d epoch=%d loss=%.6e %s'
              % (step, (step - 1) // self.s.per_epoch + 1, loss,
                 Timer.fmt(self.timer.window, self.s.batch)))
        sys.stdout.flush()
        self.timer.window = []
        if self.writer is not None:
            self.writer.add_summary(tf.Summary(value=[tf.Summary.Value(
                tag='loss', simple_value=loss)]), step)

    def end_epoch(self, step, saved_now):
        """The [epoch] line, validation (rank 0) and the per-epoch checkpoint."""
        epoch = step // self.s.per_epoch
        print('[epoch] epoch=%d step=%d loss=%.6e %s'
              % (epoch, step, np.mean(self.epoch_losses),
                 Timer.fmt(self.epoch_times, self.s.batch)))
        self.epoch_losses, self.epoch_times = [], []
        if self.validation is not None and self.cluster.chief:
            self.validation.run(self.sess, self.writer, epoch, step)
        if epoch % self.s.checkpoint_period == 0 and step < self.s.total and not saved_now:
            self.save(step)
        sys.stdout.flush()

    def after_run(self, prev, step, loss, dt):
        """Timing, logs, checkpoints and epoch ends for the run that went from prev to step."""
        s = self.s
        if self.timer.add(dt, s.per_run):
            self.epoch_times.extend([dt / s.per_run] * s.per_run)
        self.epoch_losses.append(loss)
        if crossed(prev, step, s.log_every) or step >= s.total:
            self.log_step(step, loss)
        saved_now = bool(s.checkpoint_steps) and crossed(prev, step, s.checkpoint_steps) \
            and step < s.total
        if saved_now:
            self.save(step)
        if crossed(prev, step, s.per_epoch):
            self.end_epoch(step, saved_now)

    def run(self, start):
        """Train from global step `start`; save at the end. Returns the last step."""
        if start >= self.s.total:
            print('nothing to do: the checkpoint is at step %d, training stops at %d'
                  % (start, self.s.total))
        step = start
        while step < self.s.total:
            loss, new, dt = self.run_once()
            prev, step = step, new
            if self.applied(prev, step, loss):
                self.after_run(prev, step, loss, dt)
        if self.cluster.chief and (step > start or not tf.train.latest_checkpoint(self.folder)):
            self.save(step)
        return step
