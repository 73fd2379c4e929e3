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
"""Train the D{n}-C{k} deep cascade (Schlemper et al.) on an HDF5 dataset.

  python train.py                                   # synthetic data, built on first use
  python train.py --data_train_dir data/x_train_acc4.hdf5 --data_test_dir data/x_test_acc4.hdf5

Checkpoints, config.json (the model configuration) and modelTst.meta (the inference graph)
go into --save_ckpt_Dir, where test.py and ckpt_to_pb.py look for them; so do train_log.txt
(what this script prints, appended across resumes) and, at the end, training_curves.png.
The configuration is resolved once (models/config.py), the step is models/step.py and the
loop models/loop.py; this script holds the flags and the order of things.
"""
import argparse
import os
import sys
import time

from models import ckpt, cpu, distributed, flags, masks, pre_input, presets, report, runlog
from models import config as cfgmod
from models.data import h5writer
from models.errors import (ArgumentParser, InputError, bool_flag, exit_on_input_error)
from models.tfv1 import tf_v1


def parse_args(argv):
    p = ArgumentParser(description=__doc__.splitlines()[0])
    flags.add_data_flags(p, train=True)
    flags.add_model_flags(p, saved=False)
    flags.add_train_flags(p)
    bool_flag(p, 'continue_training', False, 'resume from the latest checkpoint')
    p.add_argument('--save_ckpt_Dir', default='./save_ckpt')
    p.add_argument('--last_checkpoint_dir', default='',
                   help='resume from this folder instead of --save_ckpt_Dir')
    p.add_argument('--train_url', default='', help='copy the checkpoint folder here at the end')
    bool_flag(p, 'overwrite', False, 'replace checkpoints already in --save_ckpt_Dir')
    p.add_argument('--init_checkpoint', default='',
                   help='start from the model weights of this checkpoint folder (or file '
                   'prefix); the step count and the optimizer start afresh (ModelZoo --ckpt_path)')
    flags.add_npu_flags(p)
    flags.add_distributed_flags(p)
    flags.add_port_noop_flags(p, 'train')
    p.add_argument('--dump_weights', default='', help=argparse.SUPPRESS)  # tests: rank<r>.npz
    a = p.parse_args(argv)
    flags.check_model_flags(p, a)
    flags.check_train_flags(p, a)
    flags.check_npu_flags(p, a)
    return a


def resolve_data(a, chief=True):
    """(train path, test path or '') from the flags; the synthetic set if none is given. Only
    the chief validates, so the other ranks need no test file."""
    train = ckpt.data_file(a.data_url, a.data_train_dir, 'train')
    test = ckpt.data_file(a.data_url, a.data_test_dir, 'test') if chief else ''
    if a.data_url and not train:
        raise InputError('--data_url %s: no *train*.hdf5 file' % a.data_url)
    if train:
        return train, test
    size = tuple(a.image_size or [64])
    return h5writer.synthetic_training_set('data', a.synthetic_n, (size[0], size[-1]),
                                           a.acc or 4.0, 8 if a.sample_n is None else a.sample_n)


def choose_model(flag, saved, data):
    """The model for `data`: --model when given, else a resumed run's own, else from the
    data's rank (static for (N, H, W), the dynamic cascade for (N, T, H, W)); crnn only when
    asked. A model that does not fit the data's rank is an InputError."""
    model = flag or (saved.model if saved else None) or (
        'dynamic' if data.is_dynamic else 'static')
    if cfgmod.is_dynamic({'model': model}) != data.is_dynamic:
        raise InputError('--model %s is for %s data, but the label of %s is %s'
                         % (model, '2D (N, H, W)' if data.is_dynamic else 'dynamic (N, T, H, W)',
                            data.path, '(N, T, H, W) (dynamic)' if data.is_dynamic
                            else '(N, H, W) (2D)'))
    return model


def build_config(a, saved, data, where):
    """The run's Config: models.config.resolve of the flags, the saved run (`saved`, from
    folder `where`), the preset and the data's attributes, checked against the data."""
    h, w = data.shape[-2:]
    ckpt.check_image_size(flags.image_size(a), (h, w), 'the data %s' % data.path)
    model = choose_model(a.model, saved, data)
    if model == 'static' and a.frame_dist is not None:
        raise InputError('--frame_dist: data sharing needs dynamic (N, T, H, W) data, %s is 2D'
                         % data.path)
    given = flags.given(a, flags.MODEL_KEYS + flags.TRAIN_KEYS)
    given['model'] = model
    cfg = cfgmod.resolve(given, saved, dict(data.attrs), cfgmod.path(where or ''))
    if saved is not None:
        ckpt.check_data(saved, data, cfgmod.path(where))
    cfg.image_size = [h, w]
    cfg.frames = data.shape[0] if cfg.dynamic else None
    cfg.coils = data.coils
    if cfg.coils and cfg.net == 'port':
        raise InputError('%s: multi-coil data (%d coils); the port\'s network (--preset port) '
                         'is single-coil: use the paper\'s cascade or CRNN-MRI'
                         % (data.path, data.coils))
    cfg.data_train_dir = os.path.abspath(data.path)
    cfg.init_checkpoint = os.path.abspath(a.init_checkpoint) if a.init_checkpoint else ''
    if cfg.mask_mode == 'random':
        # the shape Batches draws with: (T, H, W) for dynamic data, so k-t masks are accepted
        masks.make_mask(cfg.mask_type, data.shape, cfg.acc, cfg.sample_n)
    return cfg


def label_scale(a, saved):
    """What the data reader does with integer labels: the saved run's, else the preset's
    (models/presets.py), so the model sees data on the scale it was trained on."""
    if saved is not None:
        return saved.label_scale
    return presets.PRESETS[a.preset or presets.DEFAULT]['label_scale']


def describe_run(cfg, a, data, test_data, spe, total, loop):
    """The model and training lines of the log (tests and readers look for them)."""
    print('model: preset %s, %s nf=%d dc=%s%s%s%s, images %s%dx%d, %d training images%s'
          % (cfg.preset, cfg.name, cfg.nf, cfg.dc_mode, ', batch norm' if cfg.batch_norm else '',
             ', shared weights' if cfg.share_weights else '',
             ', %d coils' % cfg.coils if cfg.coils else '',
             '%d frames of ' % cfg.frames if cfg.dynamic else '', cfg.image_size[0],
             cfg.image_size[1], data.n, ', %d test images' % test_data.n if test_data else ''))
    print('training: batch %d, %d steps/epoch, %d epochs, stop at step %d, %s lr %g%s, loss %s, '
          'masks %s, %d step%s per sess.run, init %s'
          % (cfg.batch_size, spe, a.num_epoch, total, cfg.optimizer, cfg.learning_rate,
             ' beta1 %g' % cfg.adam_beta1 if cfg.optimizer == 'adam' else '', cfg.loss,
             cfg.mask_mode, loop, '' if loop == 1 else 's', cfg.init))
    if cfg.weight_decay:
        print('weight decay: %g * sum of squared conv kernels added to the loss'
              % cfg.weight_decay)


def prepare(a, cluster):
    """Everything that needs no TensorFlow, so bad input fails fast: the folders, the data,
    the Config and the batches. Returns (cfg, dirs, data, test_data, batches, stale files)."""
    dirs = ckpt.RunDirs(a.save_ckpt_Dir, a.continue_training, a.overwrite,
                        a.last_checkpoint_dir, a.init_checkpoint)
    saved, stale = dirs.prepare(cluster.chief)
    if cluster.distributed and not (a.data_train_dir or a.data_url):
        raise InputError('several ranks need the training data: give --data_url or '
                         '--data_train_dir (make_h5data.py --synthetic builds a dataset)')
    train_path, test_path = resolve_data(a, cluster.chief)
    scale = label_scale(a, saved)
    data = pre_input.H5Data(train_path, scale)
    test_data = pre_input.H5Data(test_path, scale) if test_path else None
    cfg = build_config(a, saved, data, dirs.config_dir(cluster.chief))
    if test_data is not None:
        ckpt.check_data(cfg, test_data, 'the training data %s' % data.path)
    batches = pre_input.Batches(data, cfg.batch_size, cfg.random_seed, True, True,
                                cfg.mask_mode, cfg.mask_type, cfg.acc, cfg.sample_n,
                                rank=cluster.rank, ranks=cluster.size)
    cfg.steps_per_epoch = batches.steps_per_epoch
    if cfg.steps_per_epoch % a.iterations_per_loop:
        raise InputError('--iterations_per_loop %d does not divide the %d steps per epoch '
                         '(%d images, global batch %d): an epoch must end with a sess.run'
                         % (a.iterations_per_loop, cfg.steps_per_epoch, data.n,
                            cfg.batch_size * cluster.size))
    return cfg, dirs, data, test_data, batches, stale


def start_session(tf, cfg, a, dirs, cluster, restore_from, dev, npu, step, saver):
    """The session on device `dev` with the weights initialised, restored from `restore_from`
    (--continue_training) or taken from --init_checkpoint, then rank 0's broadcast to every
    rank."""
    from models import device
    config = distributed.session_options(
        cluster, device.session_config(dev, cfg.precision_mode, seed_threads=True, npu=npu))
    sess = tf.Session(distributed.start(cluster, config), config=config)
    sess.run(tf.global_variables_initializer())
    if restore_from:
        ckpt.restore(tf, saver, sess, restore_from, tf.global_variables())
        print('resumed from %s at step %d' % (restore_from, sess.run(step.global_step)))
    elif dirs.init and cluster.chief:
        init_from = dirs.init_from(tf)
        ckpt.restore(tf, tf.train.Saver(step.weights), sess, init_from, step.weights)
        print('initialised the model weights from %s; step and optimizer start afresh'
              % init_from)
    broadcast = distributed.broadcast_variables(tf.global_variables(), cluster)
    if broadcast is not None:
        watchdog = distributed.Watchdog(a.dist_timeout, distributed.failure(
            cluster, 'a collective step waited more than %d s' % a.dist_timeout, a.save_ckpt_Dir))
        watchdog.arm()  # the first collective: it waits for every rank to have started
        sess.run(broadcast)  # rank 0's initial, restored or given weights and step, everywhere
        watchdog.disarm()
    return sess


def write_folder(tf, cfg, dirs, stale, cluster):
    """Rank 0: remove the replaced files, write config.json and modelTst.meta."""
    if not cluster.chief:
        return
    for p in stale:
        os.remove(p)
    from models import model_tf
    cfgmod.save(dirs.save, cfg)
    graph, _, _, _ = model_tf.build_inference_graph(cfg)
    with graph.as_default():
        saver = tf.train.Saver(model_tf.model_variables(graph))
        saver.export_meta_graph(os.path.join(dirs.save, ckpt.META))


@exit_on_input_error
def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    with runlog.Tee() as log:
        return train(a, log)


def train(a, log):
    """Train with the parsed flags `a`; `log` (a runlog.Tee) is opened in the checkpoint
    folder once the inputs have been checked."""
    t_start = time.time()
    cluster = distributed.from_env(os.environ, a.distributed)
    cfg, dirs, data, test_data, batches, stale = prepare(a, cluster)
    spe = cfg.steps_per_epoch
    total = min(spe * a.num_epoch, a.train_steps or spe * a.num_epoch)
    if cluster.chief and not os.path.isdir(dirs.save):
        os.makedirs(dirs.save)
    # the checkpoint folder's log is rank 0's; the other ranks print to their own stdout
    log.open(os.path.join(dirs.save, runlog.FILE) if cluster.chief else os.devnull)
    flags.note_port_noop(a, 'train')
    tf = tf_v1()
    from models import device, loop as loopmod, pipeline, step as stepmod
    restore_from = dirs.restore_from(tf, cluster.chief)
    write_folder(tf, cfg, dirs, stale, cluster)
    dev = device.detect_device()
    print(device.describe(dev, cfg.precision_mode))
    if cluster.backend == 'tf' and dev == 'npu':
        raise InputError('TF_CONFIG / --distributed are for CPU and GPU workers; on Ascend give '
                         'RANK_SIZE, RANK_ID and RANK_TABLE_FILE (test/train_full_8p.sh)')
    print(cluster.describe(cfg.batch_size))
    per_run = a.iterations_per_loop if dev == 'npu' else 1
    npu = flags.npu_session_options(a, dev, per_run)
    if npu is not None:
        npu.update(distributed.npu_options(cluster))
    policy = cpu.filter_grad_policy(a.conv_grad, dev, cfg.image_size[0] * cfg.image_size[1])
    print('%s; conv filter gradient %s' % (cpu.describe(), cpu.describe_policy(a.conv_grad,
                                                                                policy)))
    describe_run(cfg, a, data, test_data, spe, total, per_run)

    tf.reset_default_graph()
    tf.set_random_seed(cfg.random_seed)
    inputs = pipeline.TrainInput(batches)
    step = stepmod.build(cfg, inputs.feature, inputs.mask, inputs.label, dev, cluster, policy,
                         inputs.coil_inputs)
    validation = loopmod.Validation(cfg, test_data, cfg.batch_size) if test_data else None
    # relative paths in the checkpoint state file, so a moved or copied folder restores its own
    saver = tf.train.Saver(max_to_keep=a.max_to_keep, save_relative_paths=True)
    sess = start_session(tf, cfg, a, dirs, cluster, restore_from, dev, npu, step, saver)
    start = int(sess.run(step.global_step))
    print('[run] start_step=%d' % start)  # models.logparse.history: a new run from here
    writer = (tf.summary.FileWriter(dirs.save, sess.graph if not restore_from else None)
              if cluster.chief else None)
    inputs.initialize(sess, start)
    schedule = loopmod.Schedule(cfg.batch_size, total, spe, per_run, a.log_every,
                                a.checkpoint_steps, a.checkpoint_period, a.warmup_steps,
                                a.dist_timeout)
    loop = loopmod.Loop(sess, step, device.loop_train_op(sess, step.train_op, dev, per_run),
                        inputs, cluster, dirs.save, saver, writer, schedule, validation)
    t_train = time.time()
    try:
        last = loop.run(start)
        if a.dump_weights:
            ckpt.dump_weights(sess, step.weights, a.dump_weights, cluster.rank)
    finally:
        if writer is not None:
            writer.close()
        sess.close()
    print('[done] steps=%d epochs=%.2f train_time=%.1f %s'
          % (last, last / float(spe), time.time() - t_train,
             loopmod.Timer.fmt(loop.timer.total, cfg.batch_size)))
    finish(a, dirs, cluster, t_start)


def finish(a, dirs, cluster, t_start):
    """Rank 0: the training curves and the --train_url copy; the total time."""
    if cluster.chief:
        curves = report.training_curves(dirs.save)
        if curves:
            print('training curves: %s' % curves)
        if a.train_url and os.path.abspath(a.train_url) != os.path.abspath(dirs.save):
            ckpt.copy_folder(dirs.save, a.train_url)
            print('copied %s to %s' % (dirs.save, a.train_url))
    print('total time %.1f s' % (time.time() - t_start))


if __name__ == '__main__':
    main()
