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
"""The run configuration: one typed object (`Config`), resolved once and then only read.

train.py resolves it from, in this order, the flags, the saved config.json (a resumed run or
--init_checkpoint), the preset (models/presets.py) and the data file's attributes, and saves it
as config.json beside the checkpoints, so test.py, ckpt_to_pb.py and a resumed train.py rebuild
exactly the trained model without the user repeating flags. Every config.json written by
earlier versions loads: missing preset settings take the paper preset's values, what those runs
used. Internal names follow the paper and the port: Dn conv layers per cascade (CRNN-MRI: layers
per iteration), Dc cascades (CRNN-MRI: iterations), nf filters.
"""
import dataclasses
import json
import os

from models import presets
from models.errors import InputError

FILE = 'config.json'
# Flag values checked before TensorFlow is imported (models.device / models.model_tf use them).
PRECISION_MODES = ('allow_fp32_to_fp16', 'force_fp16', 'must_keep_origin_dtype',
                   'allow_mix_precision')
DC_MODES = ('hard', 'lambda')
MASK_MODES = ('fixed', 'random')
OPTIMIZERS = ('adam', 'sgd')
# Conv initialisations (models.nets.layers.kernel_init): 'ref' N(0, 1/fan_in), the
# reference's lasagne HeNormal() (gain 1); 'he' N(0, 2/fan_in), He et al.'s gain sqrt(2);
# 'uniform' +-1/sqrt(fan_in) for kernels and biases, PyTorch's default (the peers').
INITS = ('ref', 'he', 'uniform')
# What a new run uses (init_default): the reference's, measured to train better than 'he';
# for the DS cascade 'uniform', measured better than 'ref' over 40 seeds (docs/quality.md).
INIT_DEFAULT = 'ref'
INIT_DEFAULT_DS = 'uniform'
# What a config.json without 'init' was trained from (every run before the key existed).
INIT_UNSET = 'he'
# Keys every config.json holds (files written before presets existed lack 'preset' and the
# other preset settings: load() gives them the paper preset's values, what those runs used).
ARCH_DEFAULTS = {'model': 'static', 'Dn': 5, 'Dc': 5, 'nf': 64, 'dc_mode': 'hard',
                 'batch_norm': False, 'share_weights': False}
# static: D{n}-C{k}; dynamic: D{n}-C{k}(S) on 2D+t data; crnn: CRNN-MRI on 2D+t data.
MODELS = ('static', 'dynamic', 'crnn')
# The dynamic model's paper defaults (D5-C10(S), data sharing over distances 0..4); the number
# of frames T is not a choice but the data's, saved as 'frames'.
DYNAMIC_DEFAULTS = {'Dc': 10, 'frame_dist': [0, 1, 2, 3, 4]}
# CRNN-MRI's paper defaults: Dn = 5 layers per iteration, Dc = 10 iterations,
# nf = 64; its iterations share one set of weights and it has no batch norm.
CRNN_DEFAULTS = {'Dc': 10, 'share_weights': True}
# Settings of one run, not of the model: the flag, else these (a resumed run may change them).
RUN_DEFAULTS = {'batch_size': 16, 'random_seed': 0, 'precision_mode': 'allow_mix_precision',
                'mask_mode': 'fixed'}
# Mask settings: the flag, else the saved run's, else the data file's attribute, else these.
MASK_DEFAULTS = {'mask_type': 'cartesian', 'acc': 4.0, 'sample_n': 8}


@dataclasses.dataclass
class Config(object):
    """Everything that defines a trained model and how it was trained (config.json).

    Architecture: preset, net ('cascade' | 'port'), model (MODELS), Dn, Dc, nf, dc_mode,
    batch_norm, share_weights, frame_dist (dynamic only: data-sharing distances, [] for the
    plain 3D cascade), frames (T of a dynamic model), image_size [H, W], coils (C of a
    multi-coil model, 0 for single-coil data), init (the cascade's conv-kernel initialisation,
    INITS; a file without it: INIT_UNSET).
    Training: optimizer, learning_rate, adam_beta1, loss, label_scale, loss_scale_incr_steps,
    weight_decay (models/presets.py explains each), batch_size, random_seed, precision_mode.
    Data: mask_mode, mask_type, acc, sample_n, data_train_dir, steps_per_epoch,
    init_checkpoint. `extra` keeps keys of a config.json this version does not know, so saving
    a loaded file loses nothing.
    """
    preset: str = presets.DEFAULT
    net: str = 'cascade'
    model: str = 'static'
    Dn: int = 5
    Dc: int = 5
    nf: int = 64
    dc_mode: str = 'hard'
    batch_norm: bool = False
    share_weights: bool = False
    frame_dist: object = None
    frames: object = None
    image_size: object = None
    coils: int = 0
    init: str = INIT_UNSET
    optimizer: str = 'adam'
    learning_rate: float = 1e-3
    adam_beta1: float = 0.9
    loss: str = 'mse'
    label_scale: str = 'image_max'
    loss_scale_incr_steps: int = 1000
    weight_decay: float = 0.0
    batch_size: int = 16
    random_seed: object = None  # None: TF's own op seeds (a literal config without one)
    precision_mode: str = 'allow_mix_precision'
    mask_mode: str = 'fixed'
    mask_type: str = 'cartesian'
    acc: float = 4.0
    sample_n: int = 8
    data_train_dir: str = ''
    steps_per_epoch: int = 0
    init_checkpoint: str = ''
    extra: dict = dataclasses.field(default_factory=dict)

    @property
    def dynamic(self):
        """True for a model of 2D+t data (inputs (N, T, H, W, ...)): the DS cascade, CRNN-MRI."""
        return self.model in ('dynamic', 'crnn')

    @property
    def name(self):
        """The model as logs name it (model_name)."""
        return model_name(self)

    @property
    def output_key(self):
        """The key of the reconstruction in the dict the networks return: 'dc<Dc>'."""
        return 'dc%d' % self.Dc

    def to_json(self):
        """The dict config.json holds: every field but `extra`, whose keys are merged back;
        frame_dist, frames and init_checkpoint only when set (a 2D model has none)."""
        d = dict((f.name, getattr(self, f.name)) for f in dataclasses.fields(self)
                 if f.name != 'extra')
        for k in ('frame_dist', 'frames', 'image_size'):
            if d[k] is None:
                del d[k]
        if not d['init_checkpoint']:
            del d['init_checkpoint']
        out = dict(self.extra)
        out.update(d)
        return out

    @classmethod
    def from_json(cls, d):
        """A Config from a config.json dict (or any mapping of its keys); keys this version
        does not know go to `extra`. Missing keys take the dataclass defaults."""
        known = set(f.name for f in dataclasses.fields(cls)) - {'extra'}
        cfg = cls(**dict((k, v) for k, v in d.items() if k in known))
        cfg.extra = dict((k, v) for k, v in d.items() if k not in known)
        return cfg

    def replace(self, **changes):
        """A copy with `changes` applied (the config is otherwise only read)."""
        return dataclasses.replace(self, **changes)


def as_config(cfg):
    """`cfg` as a Config: a Config is returned as it is, a mapping (a config.json dict, a
    test's literal) goes through Config.from_json."""
    return cfg if isinstance(cfg, Config) else Config.from_json(cfg)


def _get(cfg, key, default=None):
    """cfg[key] of a Config or a mapping (the helpers below take both)."""
    if isinstance(cfg, Config):
        return getattr(cfg, key)
    return cfg.get(key, default)


def model_name(cfg):
    """The model as logs name it: 'D5-C5', 'D5-C10(S) frame_dist=[...]', 'D5-C5 3D (no DS)'
    or 'CRNN-MRI nd=5 nc=10' (CRNN-MRI's own names for Dn and Dc)."""
    model, dn, dc = _get(cfg, 'model', 'static'), _get(cfg, 'Dn'), _get(cfg, 'Dc')
    if model == 'crnn':
        return 'CRNN-MRI nd=%d nc=%d' % (dn, dc)
    name = 'D%d-C%d' % (dn, dc)
    if model != 'dynamic':
        return name
    fd = _get(cfg, 'frame_dist')
    return name + ('(S) frame_dist=%s' % fd if fd else ' 3D (no DS)')


def adam_beta1(cfg):
    """Adam's beta1 for a model: 0.5 for CRNN-MRI (the reference's main_crnn.py uses
    betas (0.5, 0.999)), TF's default 0.9 for the cascades."""
    return 0.5 if _get(cfg, 'model') == 'crnn' else 0.9


def is_dynamic(cfg):
    """True for a model of 2D+t data (inputs (N, T, H, W, ...)): the DS cascade and CRNN-MRI."""
    return (_get(cfg, 'model', 'static') or 'static') in ('dynamic', 'crnn')


def path(ckpt_dir):
    """<ckpt_dir>/config.json."""
    return os.path.join(ckpt_dir, FILE)


def save(ckpt_dir, cfg):
    """Write config.json atomically (a temporary file, then renamed).

    Args:
      ckpt_dir: the folder (it must exist).
      cfg: a Config, or a dict of config.json's keys.
    """
    d = cfg.to_json() if isinstance(cfg, Config) else cfg
    tmp = path(ckpt_dir) + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(d, f, indent=2, sort_keys=True)
        f.write('\n')
    os.replace(tmp, path(ckpt_dir))


def load(ckpt_dir):
    """The Config saved in a training folder.

    Args:
      ckpt_dir: a folder written by train.py (--save_ckpt_Dir).
    Returns:
      Config; keys a file of an earlier version lacks take the paper preset's values.
    Raises:
      InputError: no folder, no config.json, corrupt JSON, an unknown preset or missing keys.
    """
    if not os.path.isdir(ckpt_dir):
        raise InputError('--save_ckpt_Dir %s: no such folder' % ckpt_dir)
    p = path(ckpt_dir)
    if not os.path.isfile(p):
        raise InputError('%s: no %s; expected a folder written by train.py (a folder of the '
                         'Ascend port\'s checkpoints: give --preset port to test.py or '
                         'ckpt_to_pb.py)' % (ckpt_dir, FILE))
    try:
        with open(p) as f:
            d = json.load(f)
    except ValueError as e:
        raise InputError('%s: corrupt JSON (%s)' % (p, e))
    if not isinstance(d, dict):
        raise InputError('%s: expected a JSON object' % p)
    preset = d.setdefault('preset', presets.DEFAULT)
    if preset not in presets.NAMES:
        raise InputError('%s: unknown preset %r (known: %s)'
                         % (p, preset, ', '.join(presets.NAMES)))
    for k in ('net',) + presets.FIXED_KEYS:
        d.setdefault(k, presets.PRESETS[preset][k])
    missing = [k for k in ARCH_DEFAULTS if k not in d] + (
        [] if 'image_size' in d else ['image_size'])
    if is_dynamic(d):
        missing += [k for k in ('frames',) + (('frame_dist',) if d['model'] == 'dynamic'
                                              else ()) if k not in d]
    if missing:
        raise InputError('%s: missing %s' % (p, ', '.join(missing)))
    return Config.from_json(d)


def check_preset_flags(preset, given):
    """InputError for a flag (not None in `given`) that --preset `preset` does not let change
    and that differs from the preset's value."""
    fixed = ['--%s %s' % (k, v) for k, v in sorted(given.items())
             if k in presets.PRESETS[preset] and k not in presets.OVERRIDABLE[preset]
             and v is not None and v != presets.PRESETS[preset][k]]
    if fixed:
        raise InputError('%s: not with --preset %s, whose network has %s' % (
            ', '.join(fixed), preset, ', '.join(
                '%s=%s' % (k, presets.PRESETS[preset][k]) for k in presets.ARCH_KEYS
                if k not in presets.OVERRIDABLE[preset])))


def resolve_arch(given, saved=None, where=''):
    """Architecture from flags. `given` maps names ('preset', 'model', 'Dn', ...) to flag
    values, None where not given; unset values come from the preset (default: paper).
    With a saved config (a Config or a dict), a given value that differs is an error naming
    what differs. Returns a dict of the preset name, 'model' and the preset's ARCH_KEYS
    (+ 'frame_dist' if dynamic)."""
    if saved is None:
        preset = given.get('preset') or presets.DEFAULT
        check_preset_flags(preset, given)
        defaults = dict((k, presets.PRESETS[preset][k]) for k in presets.ARCH_KEYS)
        defaults['model'] = 'static'
        if is_dynamic(given):
            if preset != presets.PAPER:
                raise InputError('--preset %s builds a 2-D network; dynamic (N, T, H, W) data '
                                 'needs --preset %s' % (preset, presets.PAPER))
            defaults.update(CRNN_DEFAULTS if given['model'] == 'crnn' else DYNAMIC_DEFAULTS)
        cfg = dict((k, defaults[k] if given.get(k) is None else given[k]) for k in defaults)
        cfg['preset'] = preset
        check_crnn(given, cfg)
        return cfg
    saved = saved.to_json() if isinstance(saved, Config) else saved
    keys = (['preset', 'model'] + list(presets.ARCH_KEYS) +
            (['frame_dist'] if 'frame_dist' in saved else []))
    diff = ['%s=%r (saved %r)' % (k, given[k], saved[k]) for k in keys
            if given.get(k) is not None and given[k] != saved[k]]
    if diff:
        raise InputError('%s: flags contradict the saved model configuration: %s'
                         % (where or FILE, ', '.join(diff)))
    cfg = dict((k, saved[k]) for k in keys)
    check_crnn(given, cfg)
    return cfg


def init_default(cfg):
    """The conv initialisation of a new run of `cfg`'s model (models.nets.layers.kernel_init):
    'uniform' for the dynamic model with data sharing (a non-empty frame_dist), 'ref' for
    every other; measured at 600 steps beside the peers (docs/quality.md)."""
    if cfg.model == 'dynamic' and cfg.frame_dist:
        return INIT_DEFAULT_DS
    return INIT_DEFAULT


def resolve(given, saved, data_attrs, where=''):
    """The Config of a training run, resolved once: for each setting the flag (`given`, None
    where not given), else the saved run's (`saved`: a resumed run's or --init_checkpoint's
    Config, or None), else the preset's, else the data file's attribute (`data_attrs`, the
    HDF5 attributes make_h5data.py writes: mask_type, acc, sample_n), else a default. The
    settings of one run (RUN_DEFAULTS: batch, seed, precision, mask mode) are the flag's or
    the default, never a saved run's. `given` holds the model keys of resolve_arch plus the
    training and run flags
    (optimizer, learning_rate, adam_beta1, weight_decay, batch_size, random_seed,
    precision_mode, mask_mode, mask_type, acc, sample_n). Image size, frames and the data
    path are the caller's (they come from the data).

    Args:
      given: {name: flag value or None} (models.flags.given).
      saved: the Config to continue from, or None.
      data_attrs: the training file's HDF5 attributes (a dict).
      where: the saved config.json's path, for error messages.
    Returns:
      Config.
    Raises:
      InputError: a model flag contradicts the saved configuration, or a preset refuses it.
    """
    arch = resolve_arch(given, saved, where)
    base = saved.to_json() if saved is not None else {}
    preset = presets.PRESETS[arch['preset']]

    def pick(key, default=None):
        for source in (given, base, preset, data_attrs):
            if source.get(key) is not None:
                return source[key]
        return default

    cfg = Config.from_json(arch)
    if saved is not None:
        cfg.extra = dict(saved.extra)
    for k in ('optimizer', 'learning_rate'):
        setattr(cfg, k, pick(k))
    for k in presets.FIXED_KEYS:  # not flags: the resumed run's, else the preset's
        setattr(cfg, k, base.get(k, preset[k]))
    cfg.weight_decay = float(pick('weight_decay', 0.0))
    for k, v in RUN_DEFAULTS.items():
        setattr(cfg, k, v if given.get(k) is None else given[k])
    cfg.mask_type = str(pick('mask_type', MASK_DEFAULTS['mask_type']))
    cfg.acc = float(pick('acc', MASK_DEFAULTS['acc']))
    cfg.sample_n = int(pick('sample_n', MASK_DEFAULTS['sample_n']))
    cfg.adam_beta1 = float(pick('adam_beta1', adam_beta1(cfg)))
    cfg.init = str(pick('init', init_default(cfg)))
    return cfg


def load_or_preset(ckpt_dir, preset=None, given=None):
    """The configuration of a checkpoint folder: its config.json, or, for a folder without one
    and a `preset` given (a folder of the Ascend port's checkpoints: the port saves no
    configuration), the preset's with the architecture flags of `given` (None where not
    given). The caller sets image_size.

    Args:
      ckpt_dir: a checkpoint folder.
      preset: --preset, or None (then config.json must exist).
      given: {architecture key: flag value or None}.
    Returns:
      (Config, True if read from config.json).
    """
    if preset is None or os.path.isfile(path(ckpt_dir)):
        return load(ckpt_dir), True
    if not os.path.isdir(ckpt_dir):
        raise InputError('--save_ckpt_Dir %s: no such folder' % ckpt_dir)
    arch = resolve_arch(dict(given or {}, preset=preset, model='static'))
    if arch['Dn'] < 2 or arch['Dc'] < 1 or arch['nf'] < 1:
        raise InputError('--Dn must be >= 2, --Dc and --nf >= 1 (got %d, %d, %d)'
                         % (arch['Dn'], arch['Dc'], arch['nf']))
    arch = dict(presets.PRESETS[preset], **arch)  # its training settings too, for the record
    print('%s has no %s: building --preset %s D%d-C%d nf=%d from the flags (a folder of the '
          'port\'s checkpoints)' % (ckpt_dir, FILE, preset, arch['Dn'], arch['Dc'], arch['nf']))
    return Config.from_json(arch), False


def check_crnn(given, cfg):
    """CRNN-MRI (cfg's model) takes no data sharing, no batch norm and no per-iteration
    weights: refuse flags (`given`) asking for them rather than ignore them."""
    if cfg.get('model') != 'crnn':
        return
    if given.get('frame_dist') is not None:
        raise InputError('--frame_dist: data sharing is a layer of the dynamic cascade, '
                         'not of --model crnn')
    if cfg['batch_norm']:
        raise InputError('--batch_norm: --model crnn has no batch-norm layers')
    if not cfg['share_weights']:
        raise InputError('--share_weights false: --model crnn shares one set of weights '
                         'over its iterations by design')
