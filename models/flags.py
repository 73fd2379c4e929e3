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
"""Command-line flags, declared once in groups that train.py, test.py and ckpt_to_pb.py add.

Groups: the model (architecture; for test.py and ckpt_to_pb.py "must agree with the saved
model", or the model to build for a folder of the port's checkpoints), the data, training, the
Ascend NPU / ModelZoo launcher options, data-parallel training, and the Ascend port's flags
that do nothing here (accepted so the port's launch scripts run unchanged). `given(a, keys)`
turns the parsed flags into the dict models.config.resolve reads: after that the argparse
namespace does not travel.
"""
import os
import re

from models import config as cfgmod
from models import cpu, distributed, masks, presets
from models.errors import bool_flag, str2bool

# Architecture flags: the keys of models.config.resolve_arch.
MODEL_KEYS = ('preset', 'model', 'frame_dist', 'Dn', 'Dc', 'nf', 'dc_mode', 'batch_norm',
              'share_weights')
# Training and mask flags: the other keys models.config.resolve reads.
TRAIN_KEYS = ('optimizer', 'learning_rate', 'adam_beta1', 'weight_decay', 'batch_size',
              'random_seed', 'precision_mode', 'mask_mode', 'mask_type', 'acc', 'sample_n',
              'init')
# The port's flags that have no effect here, per script, with what to use instead.
PORT_NOOP = {
    'train': (('model_name', 'the port names nothing after it'),
              ('last_checkpoint_dir_name', 'give the folder itself to --last_checkpoint_dir')),
    'test': (('random_seed', 'testing draws nothing at random'),
             ('model_name', 'the port names nothing after it'),
             ('train_url', 'test.py copies nothing; results go to --output_dir'),
             ('last_checkpoint_dir', 'test.py reads --save_ckpt_Dir'),
             ('last_checkpoint_dir_name', 'test.py reads --save_ckpt_Dir'),
             ('checkpoint_period', 'a training flag')),
}


def add_model_flags(p, saved):
    """The architecture flags. `saved` True (test.py, ckpt_to_pb.py): each must agree with the
    saved config.json, or, for a folder without one (the port's checkpoints), builds the model
    with --preset. Values left out are the preset's (or the saved run's)."""
    agree = ' (must agree with the saved model)' if saved else ''
    p.add_argument('--preset', default=None, choices=presets.NAMES,
                   help='paper (default): the paper\'s D5-C5; port: the Ascend ModelZoo port\'s '
                   'network, loss, optimizer and pixel scale, exactly (docs/model.md)' + agree)
    p.add_argument('--model', default=None, choices=cfgmod.MODELS,
                   help='static 2D, dynamic 2D+t (the DS cascade) or crnn (CRNN-MRI, 2D+t; '
                   'Dn, Dc = its nd layers, nc iterations) (default: from the data, '
                   '(N, T, H, W) labels are dynamic)' + agree)
    p.add_argument('--frame_dist', type=int, nargs='*', default=None, metavar='D',
                   help='dynamic: data-sharing distances (default 0 1 2 3 4); '
                   'give the flag with no value for the plain 3D cascade' + agree)
    p.add_argument('--Dn', type=int, default=None,
                   help='conv layers per cascade (default 5)' + agree)
    p.add_argument('--Dc', type=int, default=None, help='cascades (default 5)' + agree)
    p.add_argument('--nf', type=int, default=None,
                   help='filters per conv layer (default 64)' + agree)
    # a saved port model's dc_mode is 'port'; train.py chooses between the paper's two
    p.add_argument('--dc_mode', default=None,
                   choices=cfgmod.DC_MODES + (('port',) if saved else ()),
                   help='hard: replace the sampled points; lambda: blend with a learnt lambda '
                   'per cascade' + agree)
    p.add_argument('--batch_norm', type=str2bool, nargs='?', const=True, default=None,
                   help='batch norm after each conv but the last' + agree)
    p.add_argument('--share_weights', type=str2bool, nargs='?', const=True, default=None,
                   help='one set of conv weights for every cascade' + agree)


def add_data_flags(p, train):
    """Where the data is, and the image size checked against it. `train` adds the training
    file; test.py reads only the test file."""
    p.add_argument('--data_url', default='',
                   help='folder holding *train*.hdf5 / *test*.hdf5 (or .h5)' if train
                   else 'folder holding one *test*.hdf5 (or .h5)')
    if train:
        p.add_argument('--data_train_dir', default='', help='training HDF5 file')
    p.add_argument('--data_test_dir', default='',
                   help='test HDF5 file' + (' for validation' if train else ''))
    p.add_argument('--image_size', type=int, nargs='+', default=None, metavar='H [W]',
                   help='checked against the data (default: taken from the data; 64 for '
                   'synthetic)' if train else 'checked against the saved model and the data')


def add_train_flags(p):
    """Optimisation, masks, logging and checkpoints of train.py."""
    p.add_argument('--batch_size', type=int, default=None,
                   help='images per step (per rank when distributed) (default 16)')
    p.add_argument('--random_seed', type=int, default=None, help='(default 0)')
    p.add_argument('--num_epoch', type=int, default=10)
    p.add_argument('--checkpoint_period', type=int, default=1, help='save every N epochs')
    p.add_argument('--checkpoint_steps', type=int, default=0,
                   help='also save every N steps (0: only per --checkpoint_period epochs)')
    p.add_argument('--learning_rate', type=float, default=None,
                   help='default: the preset\'s (1e-3 for both)')
    p.add_argument('--weight_decay', type=float, default=None,
                   help='L2 penalty wd * sum of squared conv kernels added to the loss '
                   '(default 0, or the saved value when resuming; the reference trains with '
                   'an equivalent of 5e-7, see docs/training.md)')
    p.add_argument('--optimizer', default=None, choices=cfgmod.OPTIMIZERS,
                   help='adam (paper preset) or sgd with exponential decay 0.98/1000 steps '
                   '(port preset)')
    p.add_argument('--adam_beta1', type=float, default=None,
                   help='Adam beta1 (default 0.9; 0.5 for crnn, the reference\'s recipe)')
    p.add_argument('--init', default=None, choices=cfgmod.INITS,
                   help='the cascade\'s conv initialisation: ref, N(0, 1/fan_in) kernels, the '
                   'reference code\'s (default for a new run but DS); uniform, kernels and '
                   'biases in +-1/sqrt(fan_in), PyTorch\'s default, the independent peers\' '
                   '(default for the dynamic model with data sharing); '
                   'he, N(0, 2/fan_in) (before this flag existed, and for config.json files '
                   'without it); CRNN-MRI and the port keep their own (docs/quality.md)')
    p.add_argument('--train_steps', type=int, default=0, help='stop after N steps (0: no limit)')
    p.add_argument('--conv_grad', default=None, metavar='|'.join(cpu.CONV_GRAD_SETTINGS),
                   help='CPU: how the conv layers\' filter gradient is computed (default: $%s, '
                   'else auto: the fastest for this CPU; see docs/benchmarks.md)'
                   % cpu.CONV_GRAD_VAR)
    p.add_argument('--mask_mode', default=None, choices=cfgmod.MASK_MODES,
                   help='fixed (default): masks stored in the file; random: a new mask per '
                   'image per epoch')
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
    p.add_argument('--max_to_keep', type=int, default=5,
                   help='checkpoints kept in --save_ckpt_Dir (the oldest are deleted)')


def add_npu_flags(p):
    """The precision mode and the ModelZoo launcher's Ascend options (elsewhere ignored, and
    train.py says so)."""
    p.add_argument('--precision_mode', default=None, choices=cfgmod.PRECISION_MODES,
                   help='NPU/GPU precision (default allow_mix_precision; CPUs run float32)')
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


def add_distributed_flags(p):
    """Data-parallel training (models/distributed.py, docs/distributed.md)."""
    bool_flag(p, 'distributed', False,
              'CPU/GPU: train with the workers of $TF_CONFIG (TensorFlow collective all-reduce; '
              'a TF_CONFIG of several workers turns it on by itself). On Ascend: RANK_SIZE, '
              'RANK_ID, RANK_TABLE_FILE (test/train_full_8p.sh). --batch_size is per rank')
    p.add_argument('--dist_timeout', type=int, default=distributed.DEFAULT_TIMEOUT,
                   help='seconds a training step (or the first broadcast) may wait for the '
                   'other ranks before the run stops (default %(default)s)')


def add_port_noop_flags(p, script):
    """The port's flags of `script` ('train' or 'test') that do nothing here."""
    for name, why in PORT_NOOP[script]:
        p.add_argument('--' + name, default=None,
                       help='the port\'s flag, accepted and ignored: %s' % why)


def note_port_noop(a, script):
    """Print one line naming the port's flags given to `script` that had no effect."""
    given = ['--%s' % n for n, _ in PORT_NOOP[script] if getattr(a, n, None) is not None]
    if given:
        print('note: %s: the port\'s flag%s, ignored here (docs/training.md)'
              % (', '.join(given), 's' if len(given) > 1 else ''))


def given(a, keys):
    """{key: flag value} for `keys` of the parsed flags `a` (None where not given), the input
    of models.config.resolve / resolve_arch."""
    return dict((k, getattr(a, k, None)) for k in keys)


def image_size(a):
    """--image_size as (H, W), or None."""
    return None if a.image_size is None else (a.image_size[0], a.image_size[-1])


def check_model_flags(p, a):
    """Range checks of the architecture flags and --image_size (p.error: one line, exit 2)."""
    for name in ('Dn', 'Dc', 'nf'):
        v = getattr(a, name)
        if v is not None and v < 1:
            p.error('--%s must be >= 1, got %d' % (name, v))
    if a.Dn is not None and a.Dn < 2:
        p.error('--Dn must be >= 2 (first layer 2->nf, last nf->2)')
    if a.frame_dist is not None and any(d < 0 for d in a.frame_dist):
        p.error('--frame_dist distances must be >= 0, got %s' % a.frame_dist)
    if a.image_size is not None and (len(a.image_size) > 2 or min(a.image_size) < 1):
        p.error('--image_size takes one or two positive integers (H [W])')


def check_train_flags(p, a):
    """Range and combination checks of train.py's flags (p.error: one line, exit 2)."""
    for name in ('batch_size', 'num_epoch', 'checkpoint_period', 'log_every', 'max_to_keep',
                 'synthetic_n'):
        v = getattr(a, name)
        if v is not None and v < 1:
            p.error('--%s must be >= 1, got %d' % (name, v))
    if a.image_size is not None and min(a.image_size) < 8:
        p.error('--image_size takes H or H W, each >= 8')
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
    if a.init_checkpoint and a.continue_training:
        p.error('--init_checkpoint starts a new run from given weights, --continue_training '
                'resumes one: give one of them')


def check_npu_flags(p, a):
    """The TF Adapter's constraints on loop sinking and dumps (p.error: one line, exit 2)."""
    n = a.iterations_per_loop
    if n < 1:
        p.error('--iterations_per_loop must be >= 1, got %d' % n)
    for name in ('checkpoint_steps', 'train_steps'):
        if getattr(a, name, 0) % n:
            p.error('--%s %d is not a multiple of --iterations_per_loop %d (each sess.run runs '
                    '%d steps)' % (name, getattr(a, name), n, n))
    if a.over_dump and a.data_dump_flag:
        p.error('--over_dump and --data_dump_flag exclude each other (the TF Adapter refuses '
                'enable_dump with enable_dump_debug)')
    if a.data_dump_step and not re.match(r'^\d+(-\d+)?(\|\d+(-\d+)?)*$', a.data_dump_step):
        p.error('--data_dump_step takes iterations as 0|5|10 or ranges as 0|3-5, got %r'
                % a.data_dump_step)
    if getattr(a, 'dist_timeout', 1) < 1:
        p.error('--dist_timeout must be >= 1, got %d' % a.dist_timeout)


def npu_session_options(a, dev, loop):
    """The NpuOptimizer entries of the NPU flags of `a` (models.device.npu_options) for
    device `dev` and `loop` steps per sess.run, with the dump and profiling folders created
    (default: under --save_ckpt_Dir); None off the NPU, where a line names the flags
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
