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
"""The checkpoint folder (--save_ckpt_Dir), in one place: the names of what train.py writes
there, preparing it for a new or resumed run, --init_checkpoint, finding its latest checkpoint
(with the one "no checkpoint" error), checking a checkpoint against the graph about to restore
it, finding the data files of --data_url, and checking data against a saved model, the same for
train.py, test.py and ckpt_to_pb.py.

What train.py writes: model-<step>.{index,data-*} and `checkpoint` (CKPT_PREFIX), config.json
(models.config), modelTst.meta (META, the inference graph), train_log.txt, TensorBoard events.
"""
import glob
import os
import shutil

from models import config as cfgmod
from models.errors import InputError, first_line

META = 'modelTst.meta'
CKPT_PREFIX = 'model'


def ours(folder):
    """The files of a trained model in `folder` (checkpoints, checkpoint, config.json, META):
    what --overwrite replaces."""
    found = glob.glob(os.path.join(folder, CKPT_PREFIX + '-*'))
    found += [os.path.join(folder, n) for n in ('checkpoint', cfgmod.FILE, META)]
    return [p for p in found if os.path.exists(p)]


def init_checkpoint_dir(path):
    """The folder of --init_checkpoint (a folder, or a checkpoint file prefix in one)."""
    if os.path.isdir(path):
        if not os.path.isfile(os.path.join(path, 'checkpoint')):
            raise InputError('--init_checkpoint %s: no checkpoint in the folder' % path)
        return path
    if not os.path.isfile(path + '.index'):
        raise InputError('--init_checkpoint %s: no such folder or checkpoint' % path)
    return os.path.dirname(path) or '.'


def saved_config_of(folder, required):
    """The Config saved in `folder`, or None where the folder has none and it is not
    `required`."""
    if required or os.path.isfile(cfgmod.path(folder)):
        return cfgmod.load(folder)
    return None


class RunDirs(object):
    """The folders of one training run: `save` (--save_ckpt_Dir, written), `resume` (the folder
    --continue_training restores: --last_checkpoint_dir or `save`), `init` (--init_checkpoint:
    a folder or a checkpoint prefix; its weights only)."""

    def __init__(self, save, continue_training=False, overwrite=False, last='', init=''):
        self.save = save
        self.continue_training = continue_training
        self.overwrite = overwrite
        self.resume = (last or save) if continue_training else None
        self.init = init

    def config_dir(self, chief=True):
        """The folder whose config.json describes the model this run starts from, or None.
        Only the chief restores --init_checkpoint's weights: the other ranks need its
        config.json alone, not the checkpoint."""
        if self.init and chief:
            return init_checkpoint_dir(self.init)
        if self.init:
            return self.init if os.path.isdir(self.init) else (os.path.dirname(self.init) or '.')
        return self.resume

    def prepare(self, chief=True):
        """Check the folders against --continue_training / --overwrite before TensorFlow is
        imported, so bad input fails fast. Returns (saved Config or None, our files to remove
        once the new run's inputs have been checked). With --init_checkpoint the saved config
        is that folder's, if it has one: its architecture is the one the weights need. A rank
        other than the chief writes and restores nothing: it reads only the saved config
        (rank 0 restores and broadcasts the weights), and it does not look for our files,
        which rank 0 may already have written."""
        if self.continue_training:
            saved = cfgmod.load(self.resume)
            if chief and not os.path.isfile(os.path.join(self.resume, 'checkpoint')):
                raise InputError('%s: --continue_training but no checkpoint in the folder'
                                 % self.resume)
            return saved, []
        stale = ours(self.save) if chief else []
        if stale and not self.overwrite:
            raise InputError('%s already holds a trained model; pass --continue_training to '
                             'resume or --overwrite to start again' % self.save)
        saved = saved_config_of(self.config_dir(chief), False) if self.init else None
        return saved, stale

    def init_from(self, tf):
        """The checkpoint file prefix of --init_checkpoint."""
        if not os.path.isdir(self.init):
            return self.init
        found = latest(tf, self.init)
        if not found:
            raise InputError('--init_checkpoint %s: the checkpoint file names no readable '
                             'checkpoint' % self.init)
        return found

    def restore_from(self, tf, chief=True):
        """The checkpoint --continue_training restores (rank 0 only; it broadcasts the
        weights), or None for a new run."""
        if not (self.resume and chief):
            return None
        found = latest(tf, self.resume)
        if not found:
            raise InputError('%s: the checkpoint file names no readable checkpoint'
                             % self.resume)
        return found


def require_latest(tf, folder, what=None):
    """latest(), or the InputError that names the folder and what a checkpoint folder holds."""
    found = latest(tf, folder)
    if not found:
        raise InputError('%s: no checkpoint (expected %s-<step>.index and a checkpoint file)'
                         % (what or folder, CKPT_PREFIX))
    return found


def find_data(folder, part):
    """The one *<part>*.hdf5 / *.h5 file of --data_url `folder` ('' if none); several are an
    InputError that asks for --data_<part>_dir."""
    hits = sorted(glob.glob(os.path.join(folder, '*%s*.hdf5' % part)) +
                  glob.glob(os.path.join(folder, '*%s*.h5' % part)))
    hits = [h for h in hits if not h.endswith('.partial')]
    if len(hits) > 1:
        raise InputError('%s: several %s files (%s); name one with --data_%s_dir'
                         % (folder, part, ', '.join(os.path.basename(h) for h in hits), part))
    return hits[0] if hits else ''


def data_file(url, given, part):
    """The file of --data_<part>_dir `given` (relative to --data_url `url` when it is not a
    path as it stands), else the one *<part>* file of `url`, else ''."""
    if url and not os.path.isdir(url):
        raise InputError('--data_url %s: no such folder' % url)
    if given and url and not os.path.isabs(given) and not os.path.exists(given):
        given = os.path.join(url, given)
    return given or (find_data(url, part) if url else '')


def check_image_size(size, hw, where):
    """--image_size (H, W) `size` (or None) against the size `hw` of `where`."""
    if size is not None and tuple(size) != tuple(hw):
        raise InputError('--image_size %s does not match %s (%dx%d)'
                         % ('x'.join(map(str, size)), where, hw[0], hw[1]))


def check_data(cfg, data, where):
    """InputError unless `data` (a pre_input.H5Data) fits the saved model `cfg` of folder or
    file `where`: its image size, 2D vs 2D+t, the number of frames and of coils."""
    h, w = data.shape[-2:]
    if cfg.image_size is not None and tuple(cfg.image_size) != (h, w):
        raise InputError('%s: images are %dx%d but the model in %s was built for %dx%d'
                         % (data.path, h, w, where, cfg.image_size[0], cfg.image_size[1]))
    if data.is_dynamic != cfg.dynamic:
        raise InputError('%s: %s data but the model in %s is %s' % (
            data.path, 'dynamic (N, T, H, W)' if data.is_dynamic else '2D (N, H, W)', where,
            cfg.model))
    if cfg.dynamic and cfg.frames is not None and data.shape[0] != cfg.frames:
        raise InputError('%s: sequences have %d frames but the model in %s was built for %d'
                         % (data.path, data.shape[0], where, cfg.frames))
    if data.coils != (cfg.coils or 0):
        raise InputError('%s: %s but the model in %s is %s' % (
            data.path, '%d coils' % data.coils if data.coils else 'single-coil data', where,
            'for %d coils' % cfg.coils if cfg.coils else 'single-coil'))


def load_model_config(folder, preset, given_arch, size=None):
    """The Config of checkpoint folder `folder` for test.py / ckpt_to_pb.py: its config.json
    (flags in `given_arch` must agree with it, and modelTst.meta must be there), or, for a
    folder of the port's checkpoints, the --preset model of the flags, with image size `size`
    (H, W) when known. Returns (Config, True if read from config.json)."""
    cfg, from_file = cfgmod.load_or_preset(folder, preset, given_arch)
    if from_file:
        cfgmod.resolve_arch(given_arch, cfg, cfgmod.path(folder))
    elif size is not None:
        cfg.image_size = [size[0], size[1]]
    return cfg, from_file


def latest(tf, folder):
    """The newest checkpoint of `folder` (tf.train.latest_checkpoint), or None. When the
    folder's `checkpoint` file names a path that does not exist, as in a folder copied from
    the machine that wrote it with absolute paths (the port's train.py saves to
    /cache/saveModels/...), the checkpoint of that name in `folder` itself, with a note."""
    try:
        found = tf.train.latest_checkpoint(folder)
    except tf.errors.NotFoundError:  # TF 1.15 when the named path's folder does not exist
        found = None
    if found:
        return found
    state = tf.train.get_checkpoint_state(folder)
    if state is None or not state.model_checkpoint_path:
        return None
    local = os.path.join(folder, os.path.basename(state.model_checkpoint_path))
    if not os.path.isfile(local + '.index'):
        return None
    print('note: %s/checkpoint names %s, which does not exist; using %s'
          % (folder, state.model_checkpoint_path, local))
    return local


def check_compatible(tf, ckpt, var_list):
    """Raise InputError unless every variable of `var_list` is in `ckpt` with the same shape."""
    try:
        saved = dict(tf.train.list_variables(ckpt))
    except Exception as e:  # a truncated or corrupt index raises several TF error types
        raise InputError('%s: unreadable checkpoint (%s)' % (ckpt, first_line(e)))
    missing, differ = [], []
    for v in var_list:
        name = v.op.name
        shape = v.shape.as_list()
        if name not in saved:
            missing.append(name)
        elif list(saved[name]) != shape:
            differ.append('%s is %s in the checkpoint, %s in this model'
                          % (name, list(saved[name]), shape))
    if differ:
        raise InputError('%s: checkpoint is from a different model configuration: %s'
                         % (ckpt, '; '.join(differ[:3])))
    if missing:
        raise InputError('%s: checkpoint lacks %d variables of this model (e.g. %s); it is from '
                         'a different model configuration' % (ckpt, len(missing), missing[0]))


def restore(tf, saver, sess, ckpt, var_list):
    """check_compatible, then saver.restore with a clear message for a corrupt data file."""
    check_compatible(tf, ckpt, var_list)
    try:
        saver.restore(sess, ckpt)
    except (tf.errors.OpError, ValueError) as e:
        raise InputError('%s: cannot restore checkpoint (%s)' % (ckpt, first_line(e)))


def copy_folder(src, dst):
    """Copy the checkpoint folder `src` into `dst` (--train_url), merging into what is there."""
    for root, _, files in os.walk(src):
        out = os.path.join(dst, os.path.relpath(root, src))
        if not os.path.isdir(out):
            os.makedirs(out)
        for f in files:
            shutil.copy2(os.path.join(root, f), os.path.join(out, f))


def dump_weights(sess, weights, folder, rank):
    """Write the model weights of this rank to <folder>/rank<r>.npz (tests compare ranks)."""
    import numpy as np
    if not os.path.isdir(folder):
        os.makedirs(folder)
    values = sess.run(weights)
    np.savez(os.path.join(folder, 'rank%d.npz' % rank),
             **dict((v.op.name.replace('/', '.'), x) for v, x in zip(weights, values)))
