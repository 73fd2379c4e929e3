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
"""Finding the checkpoint of a folder, and checking it against the graph that is about to
restore it, so a corrupt file or a checkpoint of another model configuration ends in a message
that names what differs."""
import os

from models.errors import InputError, first_line



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
