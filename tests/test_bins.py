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
"""models/bins.py: raw float32 .bin files and msame folder conventions."""
import os

import numpy as np
import pytest

from models import bins
from models.errors import InputError


def test_round_trip_is_raw_little_endian_float32(tmp_path):
    x = np.random.default_rng(0).standard_normal((4, 5, 2))
    p = str(tmp_path / '0.bin')
    bins.write_bin(p, x)
    assert os.path.getsize(p) == x.size * 4  # no header: msame reads the bytes as they are
    assert np.array_equal(np.fromfile(p, dtype='<f4').reshape(4, 5, 2), x.astype(np.float32))
    assert np.array_equal(bins.read_bin(p, (4, 5, 2)), x.astype(np.float32))


def test_read_bin_wrong_size_or_missing_names_file_and_shape(tmp_path):
    p = str(tmp_path / '0.bin')
    bins.write_bin(p, np.zeros((4, 4)))
    with pytest.raises(InputError, match=r'0\.bin: 64 bytes, expected 128 .*\(4, 4, 2\)'):
        bins.read_bin(p, (4, 4, 2))
    with pytest.raises(InputError, match='1.bin: no such file'):
        bins.read_bin(str(tmp_path / '1.bin'), (4, 4))


def test_indexed_files_numeric_order(tmp_path):
    for name in ('10.bin', '2.bin', '0.bin', 'info.json', '3_output_0.bin'):
        (tmp_path / name).write_bytes(b'')
    assert bins.indexed_files(str(tmp_path)) == [0, 2, 10]
    with pytest.raises(InputError, match='no such folder'):
        bins.indexed_files(str(tmp_path / 'none'))


def test_msame_output_dir_finds_timestamped_subfolder(tmp_path):
    sub = tmp_path / '20240101_12_00_00_123'
    sub.mkdir()
    (sub / bins.output_name(0)).write_bytes(b'')
    assert bins.output_name(7, 1) == '7_output_1.bin'
    assert bins.msame_output_dir(str(tmp_path)) == str(sub)
    (tmp_path / bins.output_name(0)).write_bytes(b'')
    assert bins.msame_output_dir(str(tmp_path)) == str(tmp_path)
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(InputError, match='expected \\*_output_0.bin files'):
        bins.msame_output_dir(str(empty))


def test_prepare_dir_refuses_non_empty_without_overwrite(tmp_path):
    d = tmp_path / 'out'
    bins.prepare_dir(str(d), False)
    bins.prepare_dir(str(d), False)  # empty: fine
    (d / 'x.bin').write_bytes(b'1')
    with pytest.raises(InputError, match='not empty; pass --overwrite'):
        bins.prepare_dir(str(d), False)
    bins.prepare_dir(str(d), True)
    assert (d / 'x.bin').exists()
