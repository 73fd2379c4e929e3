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
"""The run configuration saved beside the checkpoints (config.json), so test.py, ckpt_to_pb.py
and a resumed train.py rebuild exactly the trained model without the user repeating flags."""
import json
import os

from models import presets
from models.errors import InputError

FILE = 'config.json'
# Flag values checked before TensorFlow is imported (models.device / models.model_tf use them).
PRECISION_MODES = ('allow_fp32_to_fp16', 'force_fp16', 'must_keep_origin_dtype',
                   'allow_mix_precision')
DC_MODES = ('hard', 'lambda')
# Conv-kernel initialisations (models.nets.layers.kernel_init): 'ref' N(0, 1/fan_in), the
# reference's lasagne HeNormal() (gain 1); 'he' N(0, 2/fan_in), He et al.'s gain sqrt(2).
INITS = ('ref', 'he')
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
# CRNN-MRI's paper defaults: Dn = nd = 5 layers per iteration, Dc = nc = 10 iterations,
# nf = 64; its iterations share one set of weights and it has no batch norm.
CRNN_DEFAULTS = {'Dc': 10, 'share_weights': True}


def model_name(cfg):
    """The model as logs name it: 'D5-C5', 'D5-C10(S) frame_dist=[...]', 'D5-C5 3D (no DS)'
    or 'CRNN-MRI nd=5 nc=10'."""
    if cfg['model'] == 'crnn':
        return 'CRNN-MRI nd=%d nc=%d' % (cfg['Dn'], cfg['Dc'])
    name = 'D%d-C%d' % (cfg['Dn'], cfg['Dc'])
    if cfg['model'] != 'dynamic':
        return name
    return name + ('(S) frame_dist=%s' % cfg['frame_dist'] if cfg['frame_dist']
                   else ' 3D (no DS)')


def adam_beta1(cfg):
    """Adam's beta1 for a model: 0.5 for CRNN-MRI (the reference's main_crnn.py uses
    betas (0.5, 0.999)), TF's default 0.9 for the cascades."""
    return 0.5 if cfg.get('model') == 'crnn' else 0.9


def is_dynamic(cfg):
    """True for a model of 2D+t data (inputs (N, T, H, W, ...)): the DS cascade and CRNN-MRI."""
    return cfg.get('model', 'static') in ('dynamic', 'crnn')


def path(ckpt_dir):
    return os.path.join(ckpt_dir, FILE)


def save(ckpt_dir, cfg):
    """Write config.json atomically."""
    tmp = path(ckpt_dir) + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write('\n')
    os.replace(tmp, path(ckpt_dir))


def load(ckpt_dir):
    """The configuration saved in a training folder (--save_ckpt_Dir)."""
    if not os.path.isdir(ckpt_dir):
        raise InputError('--save_ckpt_Dir %s: no such folder' % ckpt_dir)
    p = path(ckpt_dir)
    if not os.path.isfile(p):
        raise InputError('%s: no %s; expected a folder written by train.py (a folder of the '
                         'Ascend port\'s checkpoints: give --preset port to test.py or '
                         'ckpt_to_pb.py)' % (ckpt_dir, FILE))
    try:
        with open(p) as f:
            cfg = json.load(f)
    except ValueError as e:
        raise InputError('%s: corrupt JSON (%s)' % (p, e))
    preset = cfg.setdefault('preset', presets.DEFAULT)
    if preset not in presets.NAMES:
        raise InputError('%s: unknown preset %r (known: %s)'
                         % (p, preset, ', '.join(presets.NAMES)))
    for k in ('net',) + presets.FIXED_KEYS:
        cfg.setdefault(k, presets.PRESETS[preset][k])
    missing = [k for k in ARCH_DEFAULTS if k not in cfg] + (
        [] if 'image_size' in cfg else ['image_size'])
    if is_dynamic(cfg):
        missing += [k for k in ('frames',) + (('frame_dist',) if cfg['model'] == 'dynamic'
                                              else ()) if k not in cfg]
    if missing:
        raise InputError('%s: missing %s' % (p, ', '.join(missing)))
    return cfg


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
    With a saved config, a given value that differs is an error naming what differs.
    Returns the preset name, 'model' and the preset's ARCH_KEYS (+ 'frame_dist' if dynamic)."""
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


def load_or_preset(ckpt_dir, preset=None, given=None):
    """The configuration of a checkpoint folder: its config.json, or, for a folder without one
    and a `preset` given (a folder of the Ascend port's checkpoints: the port saves no
    configuration), the preset's with the architecture flags of `given` (None where not
    given). The caller adds 'image_size'. Returns (cfg, True if read from config.json)."""
    if preset is None or os.path.isfile(path(ckpt_dir)):
        return load(ckpt_dir), True
    if not os.path.isdir(ckpt_dir):
        raise InputError('--save_ckpt_Dir %s: no such folder' % ckpt_dir)
    cfg = resolve_arch(dict(given or {}, preset=preset, model='static'))
    if cfg['Dn'] < 2 or cfg['Dc'] < 1 or cfg['nf'] < 1:
        raise InputError('--Dn must be >= 2, --Dc and --nf >= 1 (got %d, %d, %d)'
                         % (cfg['Dn'], cfg['Dc'], cfg['nf']))
    for k in presets.FIXED_KEYS:
        cfg[k] = presets.PRESETS[preset][k]
    print('%s has no %s: building --preset %s D%d-C%d nf=%d from the flags (a folder of the '
          'port\'s checkpoints)' % (ckpt_dir, FILE, preset, cfg['Dn'], cfg['Dc'], cfg['nf']))
    return cfg, False


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
