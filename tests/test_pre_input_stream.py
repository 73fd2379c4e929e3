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
"""models/pre_input.py streaming: Prefetch.close() leaves no producer running, and the
whole-file scan at open reads a bounded number of bytes at a time."""
import h5py
import numpy as np
import pytest

from models import pre_input
from models.errors import InputError


def test_prefetch_close_stops_the_producer_mid_stream():
    def forever():
        i = 0
        while True:
            yield i
            i += 1
    stream = pre_input.Prefetch(forever(), size=2)
    assert [next(stream) for _ in range(5)] == [0, 1, 2, 3, 4]
    stream.close()
    assert not stream._thread.is_alive()


def test_prefetch_reraises_and_closes():
    def broken():
        yield 1
        raise ValueError('bad item')
    stream = pre_input.Prefetch(broken(), size=1)
    assert next(stream) == 1
    with pytest.raises(ValueError):
        next(stream)
    stream.close()
    assert not stream._thread.is_alive()


def test_mask_check_in_small_reads_finds_the_empty_mask(tmp_path, monkeypatch):
    n, h, w = 10, 8, 8
    mask = np.ones((n, h, w), np.float32)
    mask[7] = 0
    path = str(tmp_path / 'x.hdf5')
    with h5py.File(path, 'w') as f:
        f['label'] = np.ones((n, h, w), np.complex64)
        f['mask'] = mask
    reads = []
    orig = pre_input.H5Data._check_mask_values

    def spy(self, m, start):
        reads.append(np.asarray(m).nbytes)
        return orig(self, m, start)
    monkeypatch.setattr(pre_input, 'SCAN_BYTES', 3 * h * w * 8)  # 3 complex64 labels
    monkeypatch.setattr(pre_input.H5Data, '_check_mask_values', spy)
    with pytest.raises(InputError, match='mask of image 7 samples nothing'):
        pre_input.H5Data(path)
    assert max(reads) <= 3 * h * w * 4 and len(reads) == 3  # images 0-2, 3-5, 6-8 (stops at 7)
