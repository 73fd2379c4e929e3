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
"""
import argparse
import glob
import os
import re
import shutil
import sys
import time

import numpy as np

from models import config as cfgmod
from models import ckpt, cpu, distributed, evaluate, masks, pre_input, presets, report, runlog
from models.data import h5writer
from models.errors import (ArgumentParser, InputError, TrainingStopped, bool_flag,
                           exit_on_input_error, str2bool)
from models.tfv1 import tf_v1

META = 'modelTst.meta'
CKPT_PREFIX = 'model'
MAX_SKIPPED = 20  # consecutive non-finite steps tolerated under loss scaling


def parse_args(argv):
    p = ArgumentParser(description=__doc__.splitlines()[0])
    # The Ascend port's flags.
    p.add_argument('--batch_size', type=int, default=16)
    p.add_argument('--image_size', type=int, nargs='+', default=None, metavar='H [W]',
                   help='must match the data (default: taken from the data; 64 for synthetic)')
    p.add_argument('--random_seed', type=int, default=0)
    p.add_argument('--num_epoch', type=int, default=10)
    p.add_argument('--checkpoint_period', type=int, default=1, help='save every N epochs')
    p.add_argument('--checkpoint_steps', type=int, default=0,
                   help='also save every N steps (0: only per --checkpoint_period epochs)')
    p.add_argument('--data_url', default='', help='folder holding *train*.hdf5 / *test*.hdf5')
    p.add_argument('--data_train_dir', default='', help='training HDF5 file')
    p.add_argument('--data_test_dir', default='', help='test HDF5 file for validation')
    p.add_argument('--learning_rate', type=float, default=None,
                   help='default: the preset\'s (1e-3 for both)')
    p.add_argument('--weight_decay', type=float, default=None,
                   help='L2 penalty wd * sum of squared conv kernels added to the loss '
                   '(default 0, or the saved value when resuming; the reference trains with '
                   'an equivalent of 5e-7, see docs/training.md)')
    bool_flag(p, 'continue_training', False, 'resume from the latest checkpoint')
    p.add_argument('--train_url', default='', help='copy the checkpoint folder here at the end')
    p.add_argument('--last_checkpoint_dir', default='',
                   help='resume from this folder instead of --save_ckpt_Dir')
    p.add_argument('--save_ckpt_Dir', default='./save_ckpt')
    # Model (None = the preset's value, or the saved value when resuming).
    p.add_argument('--preset', default=None, choices=presets.NAMES,
                   help='paper (default): the paper\'s D5-C5; port: the Ascend ModelZoo port\'s '
                   'network, loss, optimizer and pixel scale, exactly (docs/model.md)')
    p.add_argument('--model', default=None, choices=cfgmod.MODELS,
                   help='static 2D, dynamic 2D+t (the DS cascade) or crnn (CRNN-MRI, 2D+t; '
                   'Dn, Dc = its nd layers, nc iterations) (default: from the data, '
                   '(N, T, H, W) labels are dynamic)')
    p.add_argument('--frame_dist', type=int, nargs='*', default=None, metavar='D',
                   help='dynamic: data-sharing distances (default 0 1 2 3 4); '
                   'give the flag with no value for the plain 3D cascade')
    p.add_argument('--Dn', type=int, default=None, help='conv layers per cascade (default 5)')
    p.add_argument('--Dc', type=int, default=None, help='cascades (default 5)')
    p.add_argument('--nf', type=int, default=None, help='filters per conv layer (default 64)')
    p.add_argument('--dc_mode', default=None, choices=cfgmod.DC_MODES)
    p.add_argument('--batch_norm', type=str2bool, nargs='?', const=True, default=None)
    p.add_argument('--share_weights', type=str2bool, nargs='?', const=True, default=None)
    # Training.
    p.add_argument('--optimizer', default=None, choices=('adam', 'sgd'),
                   help='adam (paper preset) or sgd with exponential decay 0.98/1000 steps '
                   '(port preset)')
    p.add_argument('--adam_beta1', type=float, default=None,
                   help='Adam beta1 (default 0.9; 0.5 for crnn, the reference\'s recipe)')
    p.add_argument('--precision_mode', default='allow_mix_precision',
                   choices=cfgmod.PRECISION_MODES)
    p.add_argument('--train_steps', type=int, default=0, help='stop after N steps (0: no limit)')
    p.add_argument('--conv_grad', default=None, metavar='|'.join(cpu.CONV_GRAD_SETTINGS),
                   help='CPU: how the conv layers\' filter gradient is computed (default: $%s, '
                   'else auto: the fastest for this CPU; see docs/benchmarks.md)'
                   % cpu.CONV_GRAD_VAR)
    p.add_argument('--mask_mode', default='fixed', choices=('fixed', 'random'),
                   help='fixed: masks stored in the file; random: a new mask per image per epoch')
    p.add_argument('--mask_type', default=None, choices=masks.MASK_TYPES,
                   help='for --mask_mode random (default: the file\'s, else cartesian)')
    p.add_argument('--acc', type=float, default=None,
                   help='acceleration for random masks / synthetic data (default 4)')
    p.add_argument('--sample_n', type=int, default=None, help='central lines (default 8)')
    p.add_argument('--synthetic_n', type=int, default=200,
                   help='images in the synthetic dataset built when no data is given')
    p.add_argument('--log_every', type=int, default=10, help='log every N steps')
    p.add_argument('--warmup_steps', type=int, default=2,
                   help='first steps of a run left out of timing figures')
    p.add_argument('--max_to_keep', type=int, default=5)
    bool_flag(p, 'overwrite', False, 'replace checkpoints already in --save_ckpt_Dir')
    p.add_argument('--init_checkpoint', default='',
                   help='start from the model weights of this checkpoint folder (or file '
                   'prefix); the step count and the optimizer start afresh (ModelZoo --ckpt_path)')
    # Ascend NPU (the ModelZoo launcher options; elsewhere they are ignored and the log says so).
    p.add_argument('--iterations_per_loop', type=int, default=1,
                   help='NPU: training steps per sess.run (TF Adapter loop sinking); must divide '
                   'the steps per epoch, --checkpoint_steps and --train_steps')
    bool_flag(p, 'over_dump', False, 'NPU: collect overflow data (enable_dump_debug)')
    p.add_argument('--over_dump_path', default='',
                   help='(default <save_ckpt_Dir>/overflow_dump)')
    bool_flag(p, 'data_dump_flag', False, 'NPU: dump operator inputs and outputs (enable_dump)')
    p.add_argument('--data_dump_step', default='',
                   help='iterations to dump, e.g. 0|5|10 or 0|3-5 (default: all)')
    p.add_argument('--data_dump_path', default='', help='(default <save_ckpt_Dir>/data_dump)')
    bool_flag(p, 'profiling', False, 'NPU: collect profiling data (profiling_mode)')
    p.add_argument('--profiling_dump_path', default='',
                   help='(default <save_ckpt_Dir>/profiling)')
    bool_flag(p, 'autotune', False, 'NPU: tune the operators (auto_tune_mode RL,GA)')
    # Data-parallel training (models/distributed.py, docs/distributed.md).
    bool_flag(p, 'distributed', False,
              'CPU/GPU: train with the workers of $TF_CONFIG (TensorFlow collective all-reduce; '
              'a TF_CONFIG of several workers turns it on by itself). On Ascend: RANK_SIZE, '
              'RANK_ID, RANK_TABLE_FILE (test/train_full_8p.sh). --batch_size is per rank')
    p.add_argument('--dist_timeout', type=int, default=distributed.DEFAULT_TIMEOUT,
                   help='seconds a training step (or the first broadcast) may wait for the '
                   'other ranks before the run stops (default %(default)s)')
    p.add_argument('--dump_weights', default='', help=argparse.SUPPRESS)  # tests: rank<r>.npz
    a = p.parse_args(argv)
    for name in ('batch_size', 'num_epoch', 'checkpoint_period', 'log_every', 'max_to_keep',
                 'Dn', 'Dc', 'nf', 'synthetic_n'):
        v = getattr(a, name)
        if v is not None and v < 1:
            p.error('--%s must be >= 1, got %d' % (name, v))
    if a.Dn is not None and a.Dn < 2:
        p.error('--Dn must be >= 2 (first layer 2->nf, last nf->2)')
    if a.image_size is not None and (len(a.image_size) > 2 or min(a.image_size) < 8):
        p.error('--image_size takes H or H W, each >= 8')
    if a.frame_dist is not None and any(d < 0 for d in a.frame_dist):
        p.error('--frame_dist distances must be >= 0, got %s' % a.frame_dist)
    if a.weight_decay is not None and not a.weight_decay >= 0:
        p.error('--weight_decay must be >= 0, got %r' % a.weight_decay)
    if a.adam_beta1 is not None and not 0 <= a.adam_beta1 < 1:
        p.error('--adam_beta1 must be in [0, 1), got %g' % a.adam_beta1)
    try:
        a.conv_grad = cpu.conv_grad_setting(a.conv_grad)
    except ValueError as e:
        p.error(str(e))
    if min(a.train_steps, a.warmup_steps, a.checkpoint_steps) < 0 or not (
            a.learning_rate is None or a.learning_rate > 0):
        p.error('--train_steps, --warmup_steps and --checkpoint_steps must be >= 0 and '
                '--learning_rate > 0')
    n = a.iterations_per_loop
    if n < 1:
        p.error('--iterations_per_loop must be >= 1, got %d' % n)
    for name in ('checkpoint_steps', 'train_steps'):  # the TF Adapter's loop constraints
        if getattr(a, name) % n:
            p.error('--%s %d is not a multiple of --iterations_per_loop %d (each sess.run runs '
                    '%d steps)' % (name, getattr(a, name), n, n))
    if a.over_dump and a.data_dump_flag:
        p.error('--over_dump and --data_dump_flag exclude each other (the TF Adapter refuses '
                'enable_dump with enable_dump_debug)')
    if a.data_dump_step and not re.match(r'^\d+(-\d+)?(\|\d+(-\d+)?)*$', a.data_dump_step):
        p.error('--data_dump_step takes iterations as 0|5|10 or ranges as 0|3-5, got %r'
                % a.data_dump_step)
    if a.dist_timeout < 1:
        p.error('--dist_timeout must be >= 1, got %d' % a.dist_timeout)
    if a.init_checkpoint and a.continue_training:
        p.error('--init_checkpoint starts a new run from given weights, --continue_training '
                'resumes one: give one of them')
    return a


def find_in(folder, part):
    hits = sorted(glob.glob(os.path.join(folder, '*%s*.hdf5' % part)) +
                  glob.glob(os.path.join(folder, '*%s*.h5' % part)))
    hits = [h for h in hits if not h.endswith('.partial')]
    if len(hits) > 1:
        raise InputError('%s: several %s files (%s); name one with --data_%s_dir'
                         % (folder, part, ', '.join(os.path.basename(h) for h in hits), part))
    return hits[0] if hits else ''


def resolve_data(a):
    """(train path, test path or '') from the flags; builds the synthetic set if none given."""
    train, test = a.data_train_dir, a.data_test_dir
    if a.data_url:
        if not os.path.isdir(a.data_url):
            raise InputError('--data_url %s: no such folder' % a.data_url)
        if train and not os.path.isabs(train) and not os.path.exists(train):
            train = os.path.join(a.data_url, train)
        if test and not os.path.isabs(test) and not os.path.exists(test):
            test = os.path.join(a.data_url, test)
        train = train or find_in(a.data_url, 'train')
        test = test or find_in(a.data_url, 'test')
        if not train:
            raise InputError('--data_url %s: no *train*.hdf5 file' % a.data_url)
    if train:
        return train, test
    size = tuple(a.image_size or [64])
    size = (size[0], size[-1])
    acc = a.acc or 4.0
    sample_n = 8 if a.sample_n is None else a.sample_n
    name = 'synthetic%dx%d_n%d_s%d' % (size[0], size[1], a.synthetic_n, sample_n)
    train, test = h5writer.split_paths('data', name, acc)
    if os.path.exists(train) and os.path.exists(test):
        print('no data given: using the synthetic dataset %s, %s' % (train, test))
    else:
        print('no data given: building a synthetic dataset of %d %dx%d images in data/ '
              '(make_h5data.py --synthetic)' % (a.synthetic_n, size[0], size[1]))
        h5writer.write_synthetic('data', a.synthetic_n, size, acc, sample_n, 'cartesian',
                                 seed=0, name=name, overwrite=True)
    return train, test


def init_checkpoint_dir(path):
    """The folder of --init_checkpoint (a folder, or a checkpoint file prefix in one)."""
    if os.path.isdir(path):
        if not os.path.isfile(os.path.join(path, 'checkpoint')):
            raise InputError('--init_checkpoint %s: no checkpoint in the folder' % path)
        return path
    if not os.path.isfile(path + '.index'):
        raise InputError('--init_checkpoint %s: no such folder or checkpoint' % path)
    return os.path.dirname(path) or '.'


def config_dir(a):
    """The folder whose config.json describes the model this run starts from."""
    if a.init_checkpoint:
        return init_checkpoint_dir(a.init_checkpoint)
    return a.last_checkpoint_dir or a.save_ckpt_Dir


def prepare_ckpt_dir(a, chief=True):
    """Check --save_ckpt_Dir against --continue_training / --overwrite. Returns
    (saved config or None, folder to resume from or None, our files to remove once the new
    run's inputs have been checked). With --init_checkpoint the saved config is that folder's
    (if it has one): its architecture is the one the weights need. Needs no TensorFlow, so bad
    input fails fast. A rank other than the chief (`chief` False) writes and restores nothing:
    it only reads the saved config (rank 0 restores and broadcasts the weights), and it does
    not look for our files, which rank 0 may already have written."""
    d = a.save_ckpt_Dir
    if not chief:
        src = (a.last_checkpoint_dir or d) if a.continue_training else (
            config_dir(a) if a.init_checkpoint else None)
        saved = cfgmod.load(src) if src and (
            a.continue_training or os.path.isfile(cfgmod.path(src))) else None
        return saved, None, []
    ours = [p for p in glob.glob(os.path.join(d, CKPT_PREFIX + '-*')) +
            [os.path.join(d, n) for n in ('checkpoint', cfgmod.FILE, META)] if os.path.exists(p)]
    if a.continue_training:
        src = a.last_checkpoint_dir or d
        saved = cfgmod.load(src)
        if not os.path.isfile(os.path.join(src, 'checkpoint')):
            raise InputError('%s: --continue_training but no checkpoint in the folder' % src)
        return saved, src, []
    if ours and not a.overwrite:
        raise InputError('%s already holds a trained model; pass --continue_training to resume '
                         'or --overwrite to start again' % d)
    src = config_dir(a) if a.init_checkpoint else None
    saved = cfgmod.load(src) if src and os.path.isfile(cfgmod.path(src)) else None
    return saved, None, ours


def label_scale(a, saved):
    """What the data reader does with integer labels: the saved run's, else the preset's
    (models/presets.py), so the model sees data on the scale it was trained on."""
    if saved is not None:
        return saved['label_scale']
    return presets.PRESETS[a.preset or presets.DEFAULT]['label_scale']


def choose_model(flag, saved, data):
    """The model for `data`: --model when given, else a resumed run's own, else from the
    data's rank (static for (N, H, W), the dynamic cascade for (N, T, H, W)); crnn only when
    asked. A model that does not fit the data's rank is an InputError."""
    model = flag or (saved or {}).get('model') or ('dynamic' if data.is_dynamic else 'static')
    if cfgmod.is_dynamic({'model': model}) != data.is_dynamic:
        raise InputError('--model %s is for %s data, but the label of %s is %s'
                         % (model, '2D (N, H, W)' if data.is_dynamic else 'dynamic (N, T, H, W)',
                            data.path, '(N, T, H, W) (dynamic)' if data.is_dynamic
                            else '(N, H, W) (2D)'))
    return model


def choose_beta1(flag, saved, cfg):
    """Adam's beta1: --adam_beta1, else a resumed run's own, else the model's default."""
    if flag is not None:
        return flag
    if saved is not None and 'adam_beta1' in saved:
        return saved['adam_beta1']
    return cfgmod.adam_beta1(cfg)


def build_config(a, data, saved):
    h, w = data.shape[-2:]
    if a.image_size is not None and (a.image_size[0], a.image_size[-1]) != (h, w):
        raise InputError('--image_size %s does not match the data %s (images are %dx%d)'
                         % ('x'.join(map(str, a.image_size)), data.path, h, w))
    model = choose_model(a.model, saved, data)
    if model == 'static' and a.frame_dist is not None:
        raise InputError('--frame_dist: data sharing needs dynamic (N, T, H, W) data, %s is 2D'
                         % data.path)
    given = {'preset': a.preset, 'model': model, 'Dn': a.Dn, 'Dc': a.Dc, 'nf': a.nf,
             'dc_mode': a.dc_mode,
             'batch_norm': a.batch_norm, 'share_weights': a.share_weights,
             'frame_dist': a.frame_dist}
    src = cfgmod.path(config_dir(a))
    cfg = cfgmod.resolve_arch(given, saved, src)
    if saved is not None and tuple(saved['image_size']) != (h, w):
        raise InputError('%s: saved model was trained on %s images, data %s is %dx%d'
                         % (src, saved['image_size'], data.path, h, w))
    if cfgmod.is_dynamic(cfg):
        if saved is not None and saved['frames'] != data.shape[0]:
            raise InputError('%s: saved model was trained on %d frames, data %s has %d'
                             % (src, saved['frames'], data.path, data.shape[0]))
        cfg['frames'] = data.shape[0]
    # training settings: the flag, else the resumed run's, else the preset's
    base = saved if saved is not None else presets.PRESETS[cfg['preset']]
    for k in ('optimizer', 'learning_rate'):
        cfg[k] = getattr(a, k) if getattr(a, k) is not None else base.get(
            k, presets.PRESETS[cfg['preset']][k])
    for k in presets.FIXED_KEYS:
        cfg[k] = base[k]
    # 0 (today's loss) unless given; a resumed run keeps its own
    cfg['weight_decay'] = a.weight_decay if a.weight_decay is not None else (
        saved or {}).get('weight_decay', 0.0)
    attrs = data.attrs
    cfg.update({
        'image_size': [h, w],
        'mask_mode': a.mask_mode,
        'mask_type': a.mask_type or str(attrs.get('mask_type', 'cartesian')),
        'acc': float(a.acc or attrs.get('acc', 4.0)),
        'sample_n': int(a.sample_n if a.sample_n is not None else attrs.get('sample_n', 8)),
        'batch_size': a.batch_size, 'random_seed': a.random_seed,
        'adam_beta1': choose_beta1(a.adam_beta1, saved, cfg),
        'precision_mode': a.precision_mode,
        'data_train_dir': os.path.abspath(data.path),
    })
    if cfg['mask_mode'] == 'random':
        masks.make_mask(cfg['mask_type'], (h, w), cfg['acc'], cfg['sample_n'])
    return cfg


def import_tf():
    """TensorFlow and the graph modules, imported once the inputs have been checked."""
    tf = tf_v1()
    from models import device, losses, model_tf, pipeline
    from models.nets import conv
    return tf, device, losses, model_tf, pipeline, conv


def export_inference_meta(tf, model_tf, cfg, ckpt_dir):
    """Save the inference graph (feature, mask -> predTst) as modelTst.meta."""
    graph, _, _, _ = model_tf.build_inference_graph(cfg)
    with graph.as_default():
        saver = tf.train.Saver(model_tf.model_variables(graph))
        saver.export_meta_graph(os.path.join(ckpt_dir, META))


def crossed(prev, step, every):
    """True if a multiple of `every` lies in (prev, step]: the sess.run that took training
    from step `prev` to `step` passed it (a run may take several steps)."""
    return step // every > prev // every


def npu_session_options(a, dev, loop):
    """The NpuOptimizer entries of the ModelZoo flags (models.device.npu_options), with the
    dump and profiling folders created; None off the NPU, where a line names the flags
    ignored."""
    from models import device
    if dev != 'npu':
        ignored = [f for f, on in (('--iterations_per_loop', a.iterations_per_loop > 1),
                                   ('--over_dump', a.over_dump),
                                   ('--data_dump_flag', a.data_dump_flag),
                                   ('--profiling', a.profiling), ('--autotune', a.autotune))
                   if on]
        if ignored:
            print('%s: NPU only, ignored on %s' % (', '.join(ignored), dev.upper()))
        return None
    paths = {}
    for on, key, given, default in (
            (a.data_dump_flag, 'dump_path', a.data_dump_path, 'data_dump'),
            (a.over_dump, 'overflow_path', a.over_dump_path, 'overflow_dump'),
            (a.profiling, 'profiling_path', a.profiling_dump_path, 'profiling')):
        if on:
            # the TF Adapter wants the folder to exist
            paths[key] = os.path.abspath(given or os.path.join(a.save_ckpt_Dir, default))
            if not os.path.isdir(paths[key]):
                os.makedirs(paths[key])
    return device.npu_options(loop, dump_step=a.data_dump_step, autotune=a.autotune, **paths)


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


def dump_weights(sess, weights, folder, rank):
    """Write the model weights of this rank to <folder>/rank<r>.npz (tests compare ranks)."""
    if not os.path.isdir(folder):
        os.makedirs(folder)
    values = sess.run(weights)
    np.savez(os.path.join(folder, 'rank%d.npz' % rank),
             **dict((v.op.name.replace('/', '.'), x) for v, x in zip(weights, values)))


def copy_tree(src, dst):
    for root, _, files in os.walk(src):
        out = os.path.join(dst, os.path.relpath(root, src))
        if not os.path.isdir(out):
            os.makedirs(out)
        for f in files:
            shutil.copy2(os.path.join(root, f), os.path.join(out, f))


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
    saved, resume_dir, stale = prepare_ckpt_dir(a, cluster.chief)
    if cluster.distributed and not (a.data_train_dir or a.data_url):
        raise InputError('several ranks need the training data: give --data_url or '
                         '--data_train_dir (make_h5data.py --synthetic builds a dataset)')
    train_path, test_path = resolve_data(a)
    scale = label_scale(a, saved)
    data = pre_input.H5Data(train_path, scale)
    test_data = pre_input.H5Data(test_path, scale) if test_path else None
    cfg = build_config(a, data, saved)
    if test_data is not None and test_data.shape != data.shape:
        raise InputError('%s: test images %s differ from training images %s'
                         % (test_path, test_data.shape, data.shape))
    batches = pre_input.Batches(data, a.batch_size, a.random_seed, True, True, cfg['mask_mode'],
                                cfg['mask_type'], cfg['acc'], cfg['sample_n'],
                                rank=cluster.rank, ranks=cluster.size)
    spe = batches.steps_per_epoch
    total_steps = spe * a.num_epoch
    if a.train_steps:
        total_steps = min(total_steps, a.train_steps)
    cfg['steps_per_epoch'] = spe
    if spe % a.iterations_per_loop:
        raise InputError('--iterations_per_loop %d does not divide the %d steps per epoch '
                         '(%d images, global batch %d): an epoch must end with a sess.run'
                         % (a.iterations_per_loop, spe, data.n, a.batch_size * cluster.size))
    if a.init_checkpoint:
        cfg['init_checkpoint'] = os.path.abspath(a.init_checkpoint)
    ckpt_dir = a.save_ckpt_Dir
    chief = cluster.chief
    if chief:
        for p in stale:
            os.remove(p)
        if not os.path.isdir(ckpt_dir):
            os.makedirs(ckpt_dir)
    # the checkpoint folder's log is rank 0's; the other ranks print to their own stdout
    log.open(os.path.join(ckpt_dir, runlog.FILE) if chief else os.devnull)
    tf, device, losses, model_tf, pipeline, conv = import_tf()
    restore_from = tf.train.latest_checkpoint(resume_dir) if resume_dir else None
    if resume_dir and not restore_from:
        raise InputError('%s: the checkpoint file names no readable checkpoint' % resume_dir)
    if chief:
        cfgmod.save(ckpt_dir, cfg)
        export_inference_meta(tf, model_tf, cfg, ckpt_dir)

    dev = device.detect_device()
    print(device.describe(dev, a.precision_mode))
    if cluster.backend == 'tf' and dev == 'npu':
        raise InputError('TF_CONFIG / --distributed are for CPU and GPU workers; on Ascend give '
                         'RANK_SIZE, RANK_ID and RANK_TABLE_FILE (test/train_full_8p.sh)')
    print(cluster.describe(a.batch_size))
    loop = a.iterations_per_loop if dev == 'npu' else 1
    npu = npu_session_options(a, dev, loop)
    if npu is not None:
        npu.update(distributed.npu_options(cluster))
    grad_policy = cpu.filter_grad_policy(a.conv_grad, dev,
                                         cfg['image_size'][0] * cfg['image_size'][1])
    print('%s; conv filter gradient %s' % (cpu.describe(),
                                           cpu.describe_policy(a.conv_grad, grad_policy)))
    print('model: preset %s, %s nf=%d dc=%s%s%s, images %s%dx%d, %d training images%s'
          % (cfg['preset'], cfgmod.model_name(cfg), cfg['nf'], cfg['dc_mode'],
             ', batch norm' if cfg['batch_norm'] else '',
             ', shared weights' if cfg['share_weights'] else '',
             '%d frames of ' % cfg['frames'] if cfgmod.is_dynamic(cfg) else '',
             cfg['image_size'][0], cfg['image_size'][1], data.n,
             ', %d test images' % test_data.n if test_data else ''))
    print('training: batch %d, %d steps/epoch, %d epochs, stop at step %d, %s lr %g%s, loss %s, '
          'masks %s, %d step%s per sess.run'
          % (a.batch_size, spe, a.num_epoch, total_steps, cfg['optimizer'],
             cfg['learning_rate'],
             ' beta1 %g' % cfg['adam_beta1'] if cfg['optimizer'] == 'adam' else '',
             cfg['loss'], cfg['mask_mode'], loop, '' if loop == 1 else 's'))
    if cfg['weight_decay']:
        print('weight decay: %g * sum of squared conv kernels added to the loss'
              % cfg['weight_decay'])

    tf.reset_default_graph()
    tf.set_random_seed(a.random_seed)
    h, w = cfg['image_size']
    inputs = pipeline.TrainInput(batches)
    with conv.filter_gradient(grad_policy):
        pred = model_tf.model_from_config(inputs.feature, inputs.mask, True,
                                          cfg)['dc%d' % cfg['Dc']]
    loss = losses.training_loss(pred, inputs.label, cfg)
    # validation: fed batches of one static shape (the last one padded), so the NPU compiles
    # the evaluation graph once
    shape = model_tf.input_shape(cfg, batch=a.batch_size)
    feature = tf.placeholder(tf.float32, shape + [2], name='feature')
    mask = tf.placeholder(tf.float32, shape, name='mask')
    pred_eval = model_tf.model_from_config(feature, mask, False, cfg)['dc%d' % cfg['Dc']]
    weights = model_tf.model_variables()  # before the optimizer adds its slots
    global_step = tf.train.get_or_create_global_step()
    if cfg['optimizer'] == 'adam':
        opt = tf.train.AdamOptimizer(cfg['learning_rate'], beta1=cfg['adam_beta1'])
    else:
        lr = tf.train.exponential_decay(cfg['learning_rate'], global_step, 1000, 0.98,
                                        staircase=True)
        opt = tf.train.GradientDescentOptimizer(lr)
    # gradients averaged over the ranks inside the loss scaling, as the TF Adapter docs nest them
    opt = distributed.wrap_optimizer(opt, cluster)
    scaled_opt = device.wrap_optimizer(opt, dev, a.precision_mode, cfg['loss_scale_incr_steps'],
                                       distributed=cluster.distributed)
    loss_scaling = scaled_opt is not opt
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
        if loss_scaling:
            # the loss-scale optimizer skips non-finite steps and lowers the scale itself
            update = scaled_opt.minimize(loss, global_step=global_step)
        else:
            # apply a step only when loss and gradients are finite, so weights stay good
            grads = opt.compute_gradients(loss)
            # several ranks decide on the averaged gradients alone, the same on every rank
            checks = [] if cluster.distributed else [tf.is_finite(loss)]
            finite = tf.reduce_all(tf.stack(checks + [
                tf.reduce_all(tf.is_finite(g)) for g, _ in grads if g is not None]))
            update = tf.cond(finite, lambda: opt.apply_gradients(grads, global_step), tf.no_op)
    train_op = tf.group(update, name='train_op')
    # the global step after the run: the steps actually applied (a skipped step does not count)
    with tf.control_dependencies([train_op]):
        step_after = global_step.read_value()
        # the loss logged: the mean over the ranks (= one process's loss over the global batch)
        loss_mean = distributed.mean_across(loss, cluster)
    broadcast = distributed.broadcast_variables(tf.global_variables(), cluster)
    val_ph = dict((k, tf.placeholder(tf.float32, name='val_' + k))
                  for k in ('psnr_in', 'psnr_re', 'ssim_in', 'ssim_re', 'cpsnr_in', 'cpsnr_re'))
    panel_ph = tf.placeholder(tf.uint8, [1, h, 4 * w, 1], name='val_panel')
    val_summary = tf.summary.merge([tf.summary.scalar('val/' + k, v) for k, v in val_ph.items()] +
                                   [tf.summary.image('val/zf_re_gt_err', panel_ph)])
    # relative paths in the checkpoint state file, so a moved or copied folder restores its own
    saver = tf.train.Saver(max_to_keep=a.max_to_keep, save_relative_paths=True)

    config = distributed.session_options(
        cluster, device.session_config(dev, a.precision_mode, seed_threads=True, npu=npu))
    sess = tf.Session(distributed.start(cluster, config), config=config)
    sess.run(tf.global_variables_initializer())
    if restore_from:
        ckpt.restore(tf, saver, sess, restore_from, tf.global_variables())
        print('resumed from %s at step %d' % (restore_from, sess.run(global_step)))
    elif a.init_checkpoint and chief:
        init_from = (ckpt.latest(tf, a.init_checkpoint) if os.path.isdir(a.init_checkpoint)
                     else a.init_checkpoint)
        if not init_from:
            raise InputError('--init_checkpoint %s: the checkpoint file names no readable '
                             'checkpoint' % a.init_checkpoint)
        ckpt.restore(tf, tf.train.Saver(weights), sess, init_from, weights)
        print('initialised the model weights from %s; step and optimizer start afresh'
              % init_from)
    watchdog = distributed.Watchdog(a.dist_timeout, distributed.failure(
        cluster, 'a collective step waited more than %d s' % a.dist_timeout, ckpt_dir))
    if broadcast is not None:
        watchdog.arm()  # the first collective: it waits for every rank to have started
        sess.run(broadcast)  # rank 0's initial, restored or given weights and step, everywhere
        watchdog.disarm()
    start_step = int(sess.run(global_step))
    print('[run] start_step=%d' % start_step)  # models.logparse.history: a new run from here
    writer = (tf.summary.FileWriter(ckpt_dir, sess.graph if not restore_from else None)
              if chief else None)
    inputs.initialize(sess, start_step)
    run_op = device.loop_train_op(sess, train_op, dev, loop)

    def save(step):
        if not chief:
            return
        path = saver.save(sess, os.path.join(ckpt_dir, CKPT_PREFIX), global_step=step,
                          write_meta_graph=False)
        print('saved checkpoint %s' % path)

    def validate(epoch, step):
        vb = pre_input.Batches(test_data, a.batch_size, shuffle=False, drop_remainder=False,
                               pad_last=True)
        rows, first = [], None
        for item in evaluate.reconstruct(
                lambda f, m: sess.run(pred_eval, {feature: f, mask: m}), vb):
            rows.append(evaluate.image_row(*item))
            first = first or item
        s = evaluate.summarize(rows)
        print('[val] epoch=%d psnr_in=%.4f psnr_re=%.4f ssim_in=%.4f ssim_re=%.4f '
              'cpsnr_in=%.4f cpsnr_re=%.4f' % (epoch, s['psnr_in'], s['psnr_re'], s['ssim_in'],
                                               s['ssim_re'], s['cpsnr_in'], s['cpsnr_re']))
        feed = dict((val_ph[k], s[k]) for k in val_ph)
        feed[panel_ph] = evaluate.panel(*evaluate.middle_frame(first[1:]))[None, :, :, None]
        writer.add_summary(sess.run(val_summary, feed), step)

    if start_step >= total_steps:
        print('nothing to do: the checkpoint is at step %d, training stops at %d'
              % (start_step, total_steps))
    timer = Timer(a.warmup_steps)
    skipped = 0
    epoch_losses, epoch_times = [], []
    step = start_step
    t_train = time.time()
    try:
        while step < total_steps:
            t0 = time.perf_counter()
            if cluster.distributed:
                watchdog.arm()
            try:
                loss_v, new_step, _ = sess.run([loss_mean, step_after, run_op])
            except tf.errors.OpError as e:
                if inputs.errors:  # the input generator failed: report its own error
                    raise inputs.errors[0]
                if cluster.distributed:
                    raise TrainingStopped(distributed.failure(cluster, e, ckpt_dir))
                raise
            finally:
                watchdog.disarm()
            dt = time.perf_counter() - t0
            prev, step = step, int(new_step)
            if step - prev < loop:  # some steps of this run were not applied
                skipped += loop - (step - prev)
                if not loss_scaling or skipped > MAX_SKIPPED:
                    raise TrainingStopped(
                        'non-finite loss or gradients (loss %r) at step %d, epoch %d; the step '
                        'was not applied and training stops; the last good checkpoint in %s '
                        'is kept' % (float(loss_v), step + 1, step // spe + 1, ckpt_dir))
                print('[skip] step=%d loss=%r: %d step(s) with non-finite gradients skipped, '
                      'loss scale lowered' % (step + 1, float(loss_v), loop - (step - prev)))
                if step == prev:
                    continue
            else:
                skipped = 0
            if timer.add(dt, loop):
                epoch_times.extend([dt / loop] * loop)
            epoch_losses.append(float(loss_v))
            if crossed(prev, step, a.log_every) or step >= total_steps:
                print('[step] step=%d epoch=%d loss=%.6e %s'
                      % (step, (step - 1) // spe + 1, loss_v,
                         Timer.fmt(timer.window, a.batch_size)))
                sys.stdout.flush()
                timer.window = []
                # built here from the fetched loss: no summary op runs in the training step
                if writer is not None:
                    writer.add_summary(tf.Summary(value=[tf.Summary.Value(
                        tag='loss', simple_value=float(loss_v))]), step)
            saved_now = False
            if a.checkpoint_steps and crossed(prev, step, a.checkpoint_steps) and \
                    step < total_steps:
                save(step)
                saved_now = True
            if crossed(prev, step, spe):
                epoch = step // spe
                print('[epoch] epoch=%d step=%d loss=%.6e %s'
                      % (epoch, step, np.mean(epoch_losses),
                         Timer.fmt(epoch_times, a.batch_size)))
                epoch_losses, epoch_times = [], []
                if test_data is not None and chief:
                    validate(epoch, step)
                if epoch % a.checkpoint_period == 0 and step < total_steps and not saved_now:
                    save(step)
                sys.stdout.flush()
        if chief and (step > start_step or not tf.train.latest_checkpoint(ckpt_dir)):
            save(step)
        if a.dump_weights:
            dump_weights(sess, weights, a.dump_weights, cluster.rank)
    finally:
        if writer is not None:
            writer.close()
        sess.close()
    train_time = time.time() - t_train
    print('[done] steps=%d epochs=%.2f train_time=%.1f %s'
          % (step, step / float(spe), train_time, Timer.fmt(timer.total, a.batch_size)))
    if not chief:
        print('total time %.1f s' % (time.time() - t_start))
        return
    curves = report.training_curves(ckpt_dir)
    if curves:
        print('training curves: %s' % curves)
    if a.train_url and os.path.abspath(a.train_url) != os.path.abspath(ckpt_dir):
        copy_tree(ckpt_dir, a.train_url)
        print('copied %s to %s' % (ckpt_dir, a.train_url))
    print('total time %.1f s' % (time.time() - t_start))


if __name__ == '__main__':
    main()
