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
"""The .bin folders of the offline (ATC/msame) inference chain, written and read without TF.

A .bin file is a raw little-endian float32 array with no header, which is what msame reads and
writes (`--outfmt BIN`). One file holds one image: feature/{i}.bin (H, W, 2) (real, imag) of the
zero-filled image, mask/{i}.bin (H, W) 0/1 uncentred, label/{i}.bin (H, W, 2) ground truth;
i is the image's index in the HDF5 file. For dynamic data one file holds one whole sequence:
feature/label (T, H, W, 2), mask (T, H, W). Multi-coil data (C coils) adds kspace/{i}.bin, the
acquired k-space of every coil, and coil_maps/{i}.bin, the coil sensitivities, (C, H, W, 2) each
(dynamic: (T, C, H, W, 2)); feature is then the zero-filled coil combination. The shapes of a
folder set, and the graph input order of its input folders, are recorded in info.json beside the
folders (om_precision.py reads them from there). A file with `rss` (the root-sum-of-squares
reference) also gets rss/{i}.bin (H, W) ((T, H, W)), and a file's recon_size (the centre crop of
test.py's metrics) is recorded in info.json.

msame names the k-th output of input file `<stem>.bin` `<stem>_output_<k>.bin` and, with a
folder as --input, writes them into a time-stamped sub-folder of --output.
"""
import json
import os
import re

import numpy as np

from models.errors import InputError

DTYPE = np.dtype('<f4')
INFO = 'info.json'
FOLDERS = ('feature', 'mask', 'label')
# The msame input folders in the order of the graph's inputs (models.model_tf.graph_inputs,
# ckpt_to_pb.py's ATC --input_shape): feature, mask, then for multi-coil data kspace, coil_maps.
INPUTS = ('feature', 'mask')
COIL_INPUTS = ('kspace', 'coil_maps')
RSS = 'rss'  # a multi-coil file's root-sum-of-squares reference (H, W): test.py's RSS metrics
_INDEXED = re.compile(r'^(\d+)\.bin$')


def input_folders(coils=0):
    """The msame --input folder names, in graph input order, for data of `coils` coils."""
    return INPUTS + (COIL_INPUTS if coils else ())


def folders(coils=0):
    """Every folder image_to_bin.py writes for data of `coils` coils: the inputs, then label."""
    return input_folders(coils) + ('label',)


def output_name(stem, k=0):
    """msame's name for output k of input `<stem>.bin`."""
    return '%s_output_%d.bin' % (stem, k)


def write_bin(path, array):
    """Write `array` as raw little-endian float32."""
    np.ascontiguousarray(array, dtype=DTYPE).tofile(path)


def check_bin(path, shape):
    """A missing file, or a size that does not match a float32 array of `shape`, is an
    InputError naming the file and the expected shape."""
    if not os.path.isfile(path):
        raise InputError('%s: no such file' % path)
    count = int(np.prod(shape))
    size = os.path.getsize(path)
    if size != count * DTYPE.itemsize:
        raise InputError('%s: %d bytes, expected %d (float32 array of shape %s)'
                         % (path, size, count * DTYPE.itemsize, tuple(shape)))


def read_bin(path, shape):
    """Read a raw float32 file as an array of `shape` (checked first, see check_bin)."""
    check_bin(path, shape)
    return np.fromfile(path, dtype=DTYPE).reshape(shape)


def indexed_files(folder):
    """Sorted image indices i of the `{i}.bin` files in `folder`."""
    if not os.path.isdir(folder):
        raise InputError('%s: no such folder' % folder)
    found = sorted(int(m.group(1)) for m in map(_INDEXED.match, os.listdir(folder)) if m)
    if not found:
        raise InputError('%s: no {i}.bin files' % folder)
    return found


def msame_output_dir(folder, k=0):
    """The folder holding msame's `*_output_<k>.bin` files: `folder` itself, or its only
    sub-folder that holds them (msame's time-stamped folder)."""
    if not os.path.isdir(folder):
        raise InputError('%s: no such folder' % folder)
    suffix = '_output_%d.bin' % k

    def has_outputs(d):
        return any(n.endswith(suffix) for n in os.listdir(d))

    if has_outputs(folder):
        return folder
    subs = [os.path.join(folder, n) for n in sorted(os.listdir(folder))
            if os.path.isdir(os.path.join(folder, n))]
    subs = [s for s in subs if has_outputs(s)]
    if len(subs) != 1:
        raise InputError('%s: expected *%s files in the folder or in one sub-folder, found %s'
                         % (folder, suffix, '%d sub-folders with them' % len(subs) if subs
                                             else 'none'))
    return subs[0]


def prepare_dir(folder, overwrite):
    """Create `folder`; an existing non-empty folder needs overwrite=True (its files are kept,
    same-named ones are replaced)."""
    if os.path.isdir(folder) and os.listdir(folder) and not overwrite:
        raise InputError('%s: folder exists and is not empty; pass --overwrite to write into it'
                         % folder)
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise InputError('%s: exists and is not a folder' % folder)
    if not os.path.isdir(folder):
        os.makedirs(folder)


def write_info(root, info):
    with open(os.path.join(root, INFO), 'w') as f:
        json.dump(info, f, indent=2, sort_keys=True)
        f.write('\n')


def read_info(root):
    """info.json of a folder set written by image_to_bin.py, or None if there is none."""
    p = os.path.join(root, INFO)
    if not os.path.isfile(p):
        return None
    try:
        with open(p) as f:
            return json.load(f)
    except ValueError as e:
        raise InputError('%s: corrupt JSON (%s)' % (p, e))
