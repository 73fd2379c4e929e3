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
"""Fuzz-style: randomly damaged HDF5 files (truncated, bytes flipped, wrong dtypes, wrong
ranks and shapes) fed to the readers must either read cleanly or raise InputError — never
another exception."""
import os

import h5py
import numpy as np
import pytest

from models import pre_input
from models.errors import InputError

DTYPES = [np.float32, np.float16, np.float64, np.complex64, np.complex128, np.int16, np.uint8,
          np.bool_, 'S4', [('a', np.float32), ('b', np.int8)]]


def valid(path, rng):
    n, h, w = rng.integers(1, 5), rng.integers(4, 12), rng.integers(4, 12)
    with h5py.File(path, 'w') as f:
        f.create_dataset('label', data=rng.random((n, h, w)).astype(np.complex64),
                         chunks=(1, h, w), compression=rng.choice([None, 'gzip']))
        m = (rng.random((n, h, w)) < 0.5).astype(np.float32)
        m[:, 0] = 1
        f['mask'] = m


def random_dataset(rng):
    rank = int(rng.integers(0, 6))
    shape = tuple(int(x) for x in rng.integers(0, 5, size=rank))
    dt = DTYPES[rng.integers(len(DTYPES))]
    return np.zeros(shape, dtype=dt) if np.prod(shape) == 0 else \
        (rng.random(shape) * 3).astype(dt) if np.dtype(dt).kind in 'fciub' else np.zeros(shape, dt)


def damage(path, rng, keys=('label', 'mask')):
    kind = rng.integers(2 + len(keys))
    if kind == 0:                                        # truncated
        size = os.path.getsize(path)
        with open(path, 'r+b') as f:
            f.truncate(int(rng.integers(0, size)))
    elif kind == 1:                                      # bytes flipped
        data = bytearray(open(path, 'rb').read())
        for i in rng.integers(0, len(data), size=int(rng.integers(1, 50))):
            data[i] ^= int(rng.integers(1, 256))
        open(path, 'wb').write(bytes(data))
    else:                                                # a dataset replaced by a random one
        key = keys[kind - 2]
        with h5py.File(path, 'a') as f:
            del f[key]
            if rng.random() < 0.15:
                f.create_group(key)
            elif rng.random() > 0.1:
                f[key] = random_dataset(rng)
    return kind


@pytest.mark.parametrize('seed', range(120))
def test_damaged_files_only_take_the_clear_error_path(tmp_path, seed):
    rng = np.random.default_rng(seed)
    path = str(tmp_path / 'f.h5')
    valid(path, rng)
    damage(path, rng)
    try:
        d = pre_input.H5Data(path)
        label, mask = d.read(np.arange(d.n))
        assert label.shape[0] == d.n and mask.shape == label.shape
        feature = pre_input.undersample(label, mask)
        assert np.all(np.isfinite(feature))
        d.close()
    except InputError as e:
        assert path in str(e)


def valid_fastmri(path, rng):
    s, h, w = rng.integers(1, 4), rng.integers(4, 12), rng.integers(4, 12)
    with h5py.File(path, 'w') as f:
        k = rng.standard_normal((s, h, w)) + 1j * rng.standard_normal((s, h, w))
        f.create_dataset('kspace', data=k.astype(np.complex64), chunks=(1, h, w))
        f['reconstruction_esc'] = np.abs(rng.random((s, 8, 8))).astype(np.float32)


@pytest.mark.parametrize('seed', range(60))
def test_damaged_fastmri_files_take_the_clear_error_path(tmp_path, seed):
    from models.data import formats
    rng = np.random.default_rng(1000 + seed)
    path = str(tmp_path / 'file_brain.h5')
    valid_fastmri(path, rng)
    damage(path, rng, keys=('kspace',))
    try:
        r = formats.FastMRIReader(path, 'kspace')
        for _, x in r.slices():
            assert np.all(np.isfinite(x))
        r.close()
    except InputError as e:
        assert path in str(e)
