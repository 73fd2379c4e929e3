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


# --- 2D point masks, fastMRI's equispaced rule, k-t masks ---------------------------------

def test_check_rejects_unreachable_equispaced():
    # used to raise IndexError: more central lines than the image has
    with pytest.raises(InputError, match='does not fit'):
        masks.make_mask('equispaced', (32, 32), 4, sample_n=40)
    with pytest.raises(InputError, match='leaves no line'):
        masks.make_mask('equispaced', (32, 32), 40, sample_n=0)


@pytest.mark.parametrize('mask_type', ['kt_gaussian', 'kt_shear'])
def test_kt_masks_refuse_2d_shapes(mask_type):
    with pytest.raises(InputError, match='k-t mask for dynamic data'):
        masks.make_mask(mask_type, (32, 32), 4, 4)


def test_draw_exact_count_and_probabilities():
    rng = np.random.default_rng(0)
    p = np.array([1.0, 0.5, 0.25, 0.25, 0.75, 0.25])  # sum 3
    hits = np.zeros(len(p))
    for _ in range(4000):
        idx = masks.draw_exact(p, rng)
        assert len(idx) == 3 and len(set(idx)) == 3
        hits[idx] += 1
    np.testing.assert_allclose(hits / 4000, p, atol=0.03)


def test_inclusion_probabilities_sum_and_saturation():
    w = masks.gaussian_weights(64, 0.1)
    p = masks.inclusion_probabilities(w, 20)
    assert abs(p.sum() - 20) < 1e-9 and p.max() == 1.0 and p.min() > 0
    # unsaturated points keep the weights' ratios
    free = p < 1
    np.testing.assert_allclose(p[free] / w[free], (p[free] / w[free])[0], rtol=1e-9)


@pytest.mark.parametrize('shape,acc,sample_n', [((64, 64), 4, 8), ((48, 40), 6, 5),
                                                ((3, 32, 32), 3, 6)])
def test_variable_density_exact_count_and_centre(shape, acc, sample_n):
    m = masks.make_mask('variable_density', shape, acc, sample_n, seed=4)
    nx, ny = shape[-2:]
    frames = m.reshape(-1, nx, ny)
    np.testing.assert_array_equal(frames.sum(axis=(1, 2)), int(nx * ny / acc))
    c = np.fft.fftshift(frames, axes=(-2, -1))
    r, s = nx // 2 - sample_n // 2, ny // 2 - sample_n // 2
    assert np.all(c[:, r:r + sample_n, s:s + sample_n] == 1)
    assert frames[0, 0, 0] == 1  # uncentred: the origin is sampled
    assert not np.all(frames == frames[:1]) or len(frames) == 1


def test_variable_density_follows_its_formula():
    p = masks.point_probabilities(32, 32, 4, 4)
    assert abs(p.sum() - 256) < 1e-6
    m = masks.variable_density_mask((3000, 32, 32), 4, 4, seed=7, centred=True)
    freq = m.mean(axis=0)
    # 3000 draws: the binomial std is at most 0.0092 per point
    assert np.abs(freq - p).max() < 0.045
    assert abs(freq[16, 16:].mean() - p[16, 16:].mean()) < 0.01
    assert freq[16, 16] == 1 and p[0, 0] < 0.3  # dense centre, sparse corners


def test_kt_gaussian_follows_its_formula_and_frames_differ():
    p = masks.line_probabilities(64, 4, 6)
    m = masks.kt_gaussian_mask((200, 10, 64, 8), 4, 6, seed=2, centred=True)
    lines = lines_of(m).reshape(200, 10, 64)
    np.testing.assert_array_equal(lines.sum(axis=-1), 16)
    freq = lines.reshape(-1, 64).mean(axis=0)
    assert np.abs(freq - p).max() < 0.05        # 2000 frames: std at most 0.011
    np.testing.assert_array_equal(freq[29:35], 1)
    differ = [(lines[i, t] != lines[i, t + 1]).any() for i in range(200) for t in range(9)]
    assert np.mean(differ) > 0.99


def test_kt_shear_lattice():
    m = masks.kt_shear_mask((6, 32, 4), 4, 0, seed=1, centred=True)
    lines = lines_of(m)
    np.testing.assert_array_equal(lines.sum(axis=1), 8)
    start = int(np.flatnonzero(lines[0])[0])
    for t in range(6):
        np.testing.assert_array_equal(np.flatnonzero(lines[t]),
                                      np.arange((start + t) % 4, 32, 4))
    np.testing.assert_array_equal(lines[:4].sum(axis=0), 1)  # acc frames cover every line once
    with_centre = lines_of(masks.kt_shear_mask((6, 32, 4), 4, 4, seed=1, centred=True))
    assert np.all(with_centre[:, 14:18] == 1)
    with pytest.raises(InputError, match='integer acceleration'):
        masks.kt_shear_mask((6, 32, 4), 3.5, 4)


def test_equispaced_fraction_hand_computed():
    # Nx 32, acc 4, 4 central lines: spacing 4 (4 - 32) / (16 - 32) = 7; offset o in 0..3
    m = masks.make_mask('equispaced_fraction', (32, 2), 4, 4, seed=0, centred=True)
    lines = np.flatnonzero(lines_of(m)[0])
    o = [x for x in lines if x < 7][0]
    expect = set(np.around(np.arange(o, 31, 7.0)).astype(int)) | {14, 15, 16, 17}
    assert set(lines) == expect
    assert masks.achieved_acc(masks.make_mask('equispaced_fraction', (32, 2), 4, 4, seed=0)) \
        == pytest.approx(32 / len(expect))
    with pytest.raises(InputError, match='cannot be reached'):
        masks.make_mask('equispaced_fraction', (32, 2), 4, 8)


def test_poisson_acceleration_centre_and_seed():
    a = masks.make_mask('poisson', (32, 24), 4, 4, seed=5)
    assert abs(masks.achieved_acc(a) - 4) < 0.1
    c = np.fft.fftshift(a)
    assert np.all(c[14:18, 10:14] == 1)
    np.testing.assert_array_equal(a, masks.make_mask('poisson', (32, 24), 4, 4, seed=5))
    assert not np.array_equal(a, masks.make_mask('poisson', (32, 24), 4, 4, seed=6))
    with pytest.raises(InputError, match='reaches accelerations'):
        masks.make_mask('poisson', (32, 24), 1.05, 4)


@pytest.mark.parametrize('mask_type', [t for t in masks.MASK_TYPES if t != 'poisson'])
def test_every_type_is_deterministic_and_sampled_at_origin(mask_type):
    shape = (4, 32, 24)
    a = masks.make_mask(mask_type, shape, 4, 4, seed=9)
    assert a.dtype == np.float32 and a.shape == shape
    np.testing.assert_array_equal(a, masks.make_mask(mask_type, shape, 4, 4, seed=9))
    assert np.all(a[:, 0, 0] == 1)
    assert 2.5 < masks.achieved_acc(a) < 4.5


def test_achieved_acc():
    m = np.zeros((2, 8, 8))
    m[:, :2] = 1
    assert masks.achieved_acc(m) == 4.0
    assert masks.achieved_acc(np.zeros((4, 4))) == float('inf')


def test_poisson_seed_whose_first_point_falls_in_the_calibration_block():
    # frame 2 of this seed used to draw nothing but the 8x8 block (acceleration 64)
    m = masks.make_mask('poisson', (3, 64, 64), 4, 8, seed=1)
    assert all(abs(masks.achieved_acc(f) - 4) < 0.1 for f in m)


@pytest.mark.parametrize('mask_type', ['variable_density', 'equispaced_fraction',
                                       'kt_gaussian', 'kt_shear'])
def test_layout_detection_judges_new_types_right(mask_type):
    for size in (32, 64):
        for c in (4, 6):
            m = masks.make_mask(mask_type, (10, size, size), 4, c, seed=1)
            assert masks.origin_layout(m) == masks.UNCENTRED
            assert masks.origin_layout(np.fft.fftshift(m, axes=(-2, -1))) == masks.CENTRED
