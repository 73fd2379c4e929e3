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
import numpy as np
import pytest

from models import masks
from models.errors import InputError


def lines_of(mask):
    """(..., Nx, Ny) mask -> (N, Nx) line indicator; asserts rows are constant."""
    m = mask.reshape(-1, mask.shape[-2], mask.shape[-1])
    assert np.all(m == m[:, :, :1]), 'a phase-encoding line must be constant along axis -1'
    return m[:, :, 0]


@pytest.mark.parametrize('nx,acc,sample_n', [(64, 4, 8), (96, 6, 10), (80, 3.3, 7), (64, 4, 0),
                                             (50, 2.5, 1)])
def test_cartesian_exact_line_count_and_centre(nx, acc, sample_n):
    m = masks.cartesian_mask((5, nx, 12), acc, sample_n, seed=3)
    assert m.dtype == np.float32 and m.shape == (5, nx, 12)
    assert set(np.unique(m)) <= {0.0, 1.0}
    lines = lines_of(m)
    np.testing.assert_array_equal(lines.sum(axis=1), int(nx / acc))
    centred = np.fft.fftshift(lines, axes=-1)  # stored uncentred: shift back to check the centre
    start = nx // 2 - sample_n // 2
    assert np.all(centred[:, start:start + sample_n] == 1)


def test_cartesian_uncentred_layout_samples_dc():
    m = masks.cartesian_mask((64, 64), 4, 8, seed=0)
    assert m[0, 0] == 1  # k-space origin at [0, 0]
    c = masks.cartesian_mask((64, 64), 4, 8, seed=0, centred=True)
    np.testing.assert_array_equal(np.fft.ifftshift(c), m)
    assert c[32, 0] == 1


def test_seed_reproducible_and_different():
    a = masks.cartesian_mask((4, 64, 64), 4, 8, seed=11)
    b = masks.cartesian_mask((4, 64, 64), 4, 8, seed=11)
    c = masks.cartesian_mask((4, 64, 64), 4, 8, seed=12)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # each frame gets its own draw
    assert not np.array_equal(a[0], a[1])


def test_cartesian_variable_density():
    lines = np.fft.fftshift(lines_of(masks.cartesian_mask((400, 128, 1), 4, 0, seed=1)), axes=-1)
    freq = lines.mean(axis=0)
    assert freq[54:74].mean() > 2 * freq[:20].mean()  # denser near the centre
    assert freq[:20].mean() > 0.05                     # the uniform term reaches the edges


def test_random_and_equispaced():
    r = lines_of(masks.random_mask((3, 64, 8), 4, center_fraction=0.125, seed=0))
    np.testing.assert_array_equal(r.sum(axis=1), 16)
    e = np.fft.fftshift(lines_of(masks.equispaced_mask((2, 64, 8), 4, 0.0, seed=5)), axes=-1)
    idx = np.flatnonzero(e[0])
    assert np.all(np.diff(idx) == 4)
    assert np.array_equal(masks.make_mask('random', (64, 8), 4, 8, seed=2),
                          masks.random_mask((64, 8), 4, 8 / 64.0, seed=2))


def test_seed_from_name_is_stable():
    assert masks.seed_from_name('file1.h5') == masks.seed_from_name('file1.h5')
    assert masks.seed_from_name('file1.h5') != masks.seed_from_name('file2.h5')
    assert masks.seed_from_name('a', 0) == 3904355907  # crc32: same on every machine


@pytest.mark.parametrize('acc,sample_n', [(0.5, 4), (4, 20), (4, -1)])
def test_bad_parameters(acc, sample_n):
    with pytest.raises(InputError):
        masks.cartesian_mask((64, 64), acc, sample_n)


def test_unknown_mask_type():
    with pytest.raises(InputError, match='unknown mask type'):
        masks.make_mask('spiral', (32, 32), 4)
