"""The run configuration saved beside the checkpoints (config.json), so test.py, ckpt_to_pb.py
and a resumed train.py rebuild exactly the trained model without the user repeating flags."""
import json
import os

from models.errors import InputError

FILE = 'config.json'
# Flag values checked before TensorFlow is imported (models.device / models.model_tf use them).
PRECISION_MODES = ('allow_fp32_to_fp16', 'force_fp16', 'must_keep_origin_dtype',
                   'allow_mix_precision')
DC_MODES = ('hard', 'lambda')
ARCH_DEFAULTS = {'model': 'static', 'Dn': 5, 'Dc': 5, 'nf': 64, 'dc_mode': 'hard',
                 'batch_norm': False, 'share_weights': False}
MODELS = ('static', 'dynamic')
# The dynamic model's paper defaults (D5-C10(S), data sharing over distances 0..4); the number
# of frames T is not a choice but the data's, saved as 'frames'.
DYNAMIC_DEFAULTS = {'Dc': 10, 'frame_dist': [0, 1, 2, 3, 4]}


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
        raise InputError('%s: no %s; expected a folder written by train.py' % (ckpt_dir, FILE))
    try:
        with open(p) as f:
            cfg = json.load(f)
    except ValueError as e:
        raise InputError('%s: corrupt JSON (%s)' % (p, e))
    missing = [k for k in ARCH_DEFAULTS if k not in cfg] + (
        [] if 'image_size' in cfg else ['image_size'])
    if cfg.get('model') == 'dynamic':
        missing += [k for k in ('frames', 'frame_dist') if k not in cfg]
    if missing:
        raise InputError('%s: missing %s' % (p, ', '.join(missing)))
    return cfg


def resolve_arch(given, saved=None, where=''):
    """Architecture from flags. `given` maps names to flag values, None where not given.
    With a saved config, a given value that differs is an error naming what differs."""
    if saved is None:
        defaults = dict(ARCH_DEFAULTS)
        if given.get('model') == 'dynamic':
            defaults.update(DYNAMIC_DEFAULTS)
        return dict((k, defaults[k] if given.get(k) is None else given[k]) for k in defaults)
    keys = list(ARCH_DEFAULTS) + (['frame_dist'] if 'frame_dist' in saved else [])
    diff = ['%s=%r (saved %r)' % (k, given[k], saved[k]) for k in keys
            if given.get(k) is not None and given[k] != saved[k]]
    if diff:
        raise InputError('%s: flags contradict the saved model configuration: %s'
                         % (where or FILE, ', '.join(diff)))
    return dict((k, saved[k]) for k in keys)
