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
"""Multi-coil data (models/data/coils.py): birdcage maps, the SENSE pair, RSS, SVD coil
compression, ESPIRiT maps; the multi-coil HDF5 files make_h5data.py --coils writes and
H5Data / Batches read; bad coil data is one line and exit code 2."""
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest

from models.data import coils
from models.data.synthetic import phantom
from models.errors import InputError
from models.pre_input import Batches, H5Data, to_complex

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
H = W = 24


def test_birdcage_maps_normalised_seeded_and_distinct():
    s = coils.birdcage_maps((H, W + 4), 6, seed=3)
    assert s.shape == (6, H, W + 4) and s.dtype == np.complex64
    np.testing.assert_allclose(np.sum(np.abs(s) ** 2, axis=0), 1.0, atol=1e-5)
    np.testing.assert_array_equal(s, coils.birdcage_maps((H, W + 4), 6, seed=3))
    assert not np.allclose(s, coils.birdcage_maps((H, W + 4), 6, seed=4))
    corr = np.abs(np.einsum('chw,dhw->cd', s, np.conj(s))) / (H * (W + 4))
    assert corr[0, 3] < 0.7 * corr[0, 0]  # opposite coils see different regions


def test_sense_pair_is_adjoint_and_combination_inverts_coil_images():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, H, W)) + 1j * rng.standard_normal((2, H, W))
    y = rng.standard_normal((2, 4, H, W)) + 1j * rng.standard_normal((2, 4, H, W))
    s = coils.birdcage_maps((H, W), 4, seed=1)
    lhs = np.vdot(coils.sense_forward(x, s), y)
    rhs = np.vdot(x, coils.sense_adjoint(y, s))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-4)
    imgs = coils.coil_images(x, s)
    np.testing.assert_allclose(coils.sense_combine(imgs, s), x, atol=1e-5)
    np.testing.assert_allclose(coils.rss(imgs), np.abs(x), atol=1e-5)
    np.testing.assert_allclose(coils.sense_adjoint(coils.sense_forward(x, s), s), x, atol=1e-5)


def test_svd_compression_keeps_low_rank_data_and_energy_order():
    rng = np.random.default_rng(1)
    x = phantom((H, W), seed=0)
    base = coils.birdcage_maps((H, W), 2, seed=2)
    mix = rng.standard_normal((6, 2)) + 1j * rng.standard_normal((6, 2))
    maps = np.einsum('cb,bhw->chw', mix, base).astype(np.complex64)  # 6 coils of rank 2
    k = coils.sense_forward(x, maps)
    k2, s2 = coils.compress_coils(k, maps, 2)
    assert k2.shape == s2.shape == (2, H, W)
    assert np.isclose(np.sum(np.abs(k2) ** 2), np.sum(np.abs(k) ** 2), rtol=1e-4)
    np.testing.assert_allclose(coils.sense_forward(x, s2), k2, atol=1e-4)  # still consistent
    k1, _ = coils.compress_coils(k, maps, 1)
    e1 = np.sum(np.abs(k1) ** 2)
    assert 0.5 * np.sum(np.abs(k) ** 2) < e1 < np.sum(np.abs(k) ** 2)
    with pytest.raises(InputError, match='7 virtual coils: the data has 6'):
        coils.compress_coils(k, maps, 7)


def test_espirit_maps_recover_the_image_magnitude():
    pytest.importorskip('sigpy')
    x = phantom((32, 32), seed=1)
    s = coils.birdcage_maps((32, 32), 8, seed=0)
    k = coils.sense_forward(x, s)
    est = coils.espirit_maps(k, calib_width=12, crop=0.8)
    assert est.shape == (8, 32, 32) and est.dtype == np.complex64
    obj = np.abs(x) > 0.2
    combined = coils.sense_combine(coils.coil_images(x, s), est)
    np.testing.assert_allclose(np.abs(combined)[obj], np.abs(x)[obj], atol=0.03)
    # the estimated maps span the true ones where the object is (up to one phase per pixel)
    ratio = np.abs(np.sum(np.conj(est) * s, axis=0))[obj]
    assert ratio.min() > 0.95


def test_espirit_without_sigpy_is_one_line(monkeypatch):
    monkeypatch.setitem(sys.modules, 'sigpy', None)
    with pytest.raises(InputError, match='ESPIRiT coil maps need sigpy'):
        coils.espirit_maps(np.ones((2, 8, 8), np.complex64))


def test_espirit_too_small_a_calibration_region_is_one_line():
    pytest.importorskip('sigpy')
    x = phantom((32, 16), seed=0)
    k = coils.sense_forward(x, coils.birdcage_maps((32, 16), 4, seed=0))
    with pytest.raises(InputError, match='try a larger calibration region'):
        coils.espirit_maps(k, calib_width=8)


def test_check_coil_data_errors():
    k = np.zeros((4, 8, 8), np.complex64)
    s = np.ones((4, 8, 8), np.complex64)
    coils.check_coil_data(k, s, 'x')
    with pytest.raises(InputError, match='k-space has 4 coils but the coil maps have 3'):
        coils.check_coil_data(k, s[:3], 'x')
    with pytest.raises(InputError, match='coil maps are all zero'):
        coils.check_coil_data(k, 0 * s, 'x')
    with pytest.raises(InputError, match='must be complex'):
        coils.check_coil_data(k.real, s, 'x')


def make_data(tmp_path, *extra):
    out = tmp_path / 'data'
    cmd = [sys.executable, os.path.join(ROOT, 'make_h5data.py'), '--synthetic', '3',
           '--image_size', '16', '--sample_n', '2', '--output_dir', str(out)] + list(extra)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, cwd=ROOT)
    return r, out


@pytest.mark.parametrize('frames', [None, 3])
def test_make_h5data_coils_writes_what_h5data_reads(tmp_path, frames):
    extra = ['--coils', '4', '--noise', '0.01'] + (['--frames', str(frames)] if frames else [])
    r, out = make_data(tmp_path, *extra)
    assert r.returncode == 0, r.stderr
    name = 'synthetic_cine' if frames else 'synthetic'
    path = str(out / ('%s_train_acc4.hdf5' % name))
    lead = (frames,) if frames else ()
    with h5py.File(path, 'r') as f:
        assert f['kspace'].shape == f['coil_maps'].shape == (2,) + lead + (4, 16, 16)
        assert f['kspace'].dtype == np.complex64 and f.attrs['coils'] == 4
        label, k, s = f['label'][()], f['kspace'][()], f['coil_maps'][()]
    np.testing.assert_allclose(label, coils.sense_adjoint(k, s), atol=1e-5)  # the reference
    with h5py.File(path, 'r') as f:
        np.testing.assert_allclose(f['rss'][()], coils.rss(np.fft.ifft2(k, norm='ortho')),
                                   atol=1e-5)
    np.testing.assert_allclose(np.abs(label).reshape(2, -1).max(axis=1), 1.0, atol=1e-6)
    data = H5Data(path)
    assert data.coils == 4 and data.shape == lead + (16, 16)
    b = Batches(data, 2, shuffle=False).batch(0, 0)
    assert b['kspace'].shape == b['coil_maps'].shape == (2,) + lead + (4, 16, 16, 2)
    m = b['mask']
    k0 = to_complex(b['kspace'])
    np.testing.assert_array_equal(k0, (k * np.expand_dims(m, -3)).astype(np.complex64))
    np.testing.assert_allclose(to_complex(b['feature']), coils.sense_adjoint(k0, s), atol=1e-5)
    np.testing.assert_allclose(to_complex(b['label']), label, atol=1e-6)
    data.close()


def test_single_coil_files_have_no_coils(tmp_path):
    r, out = make_data(tmp_path)
    assert r.returncode == 0, r.stderr
    data = H5Data(str(out / 'synthetic_train_acc4.hdf5'))
    assert data.coils == 0
    assert sorted(Batches(data, 1).batch(0, 0)) == ['feature', 'index', 'label', 'mask']
    data.close()


def edit(path, key, value):
    with h5py.File(path, 'a') as f:
        del f[key]
        if value is not None:
            f[key] = value


@pytest.mark.parametrize('key, change, message', [
    ('coil_maps', lambda s: s[:, :3], 'kspace has 4 coils but coil_maps has 3'),
    ('coil_maps', lambda s: 0 * s, 'coil maps of image 0 are all zero'),
    ('kspace', lambda k: k.real, 'kspace must be complex'),
    ('coil_maps', lambda s: None, "need both datasets kspace and coil_maps; found only 'kspace'"),
])
def test_bad_multicoil_files_are_one_line_exit_2(tmp_path, key, change, message):
    r, out = make_data(tmp_path, '--coils', '4')
    path = str(out / 'synthetic_train_acc4.hdf5')
    with h5py.File(path, 'r') as f:
        value = f[key][()]
    edit(path, key, change(value))
    with pytest.raises(InputError, match=message):
        H5Data(path)
    code = 'import sys; from models.errors import exit_on_input_error as e; ' \
           'from models.pre_input import H5Data; e(lambda: H5Data(sys.argv[1]))()'
    r = subprocess.run([sys.executable, '-c', code, path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True, cwd=ROOT)
    assert r.returncode == 2 and r.stderr.count('\n') == 1 and message.split()[0] in r.stderr


def test_make_h5data_coils_flag_errors(tmp_path):
    r, _ = make_data(tmp_path, '--coils', '2', '--layout', 'port')
    assert r.returncode == 2 and 'no --mask_file or --layout port' in r.stderr


def write_images(folder, n=3, size=20):
    """n grey PNG phantoms (real anatomy stand-ins: magnitude images from files)."""
    from PIL import Image
    folder.mkdir()
    for i in range(n):
        x = np.abs(phantom(size, seed=i))
        Image.fromarray((255 * x / x.max()).astype(np.uint8)).save(str(folder / ('im%d.png' % i)))
    return folder


def test_input_images_with_simulated_coils_and_their_rss_twin(tmp_path):
    """--input --coils: each image through C seeded coils; --coil_target rss: the same coils,
    noise and masks collapsed to RSS magnitudes in a single-coil file."""
    src = write_images(tmp_path / 'src')
    base = [sys.executable, 'make_h5data.py', '--input', str(src), '--image_size', '16',
            '--sample_n', '2', '--split', '1', '--coils', '3', '--noise', '0.01',
            '--output_dir', str(tmp_path)]
    for extra in (['--name', 'mc'], ['--name', 'rs', '--coil_target', 'rss']):
        r = subprocess.run(base + extra, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, cwd=ROOT)
        assert r.returncode == 0, r.stderr
    with h5py.File(str(tmp_path / 'mc_train_acc4.hdf5'), 'r') as f:
        k, s, label, rss = (f[key][()] for key in ('kspace', 'coil_maps', 'label', 'rss'))
        mc_mask, names = f['mask'][()], list(f['name'][()])
        assert f.attrs['coils'] == 3 and 'simulated birdcage coils' in f.attrs['source']
    with h5py.File(str(tmp_path / 'rs_train_acc4.hdf5'), 'r') as f:
        assert 'kspace' not in f and f['label'].dtype == np.float32
        rs_label, rs_mask, rs_names = f['label'][()], f['mask'][()], list(f['name'][()])
    assert k.shape == s.shape == (3, 3, 16, 16) and names == rs_names
    np.testing.assert_array_equal(mc_mask, rs_mask)
    np.testing.assert_allclose(label, coils.sense_adjoint(k, s), atol=1e-5)
    # noise: the coil combination is no longer the real, noiseless image
    assert np.abs(label.imag).max() > 1e-3
    np.testing.assert_allclose(np.abs(label).reshape(3, -1).max(axis=1), 1.0, atol=1e-6)
    # the twin's label is the RSS of the very same noisy coil images, scaled to max 1
    peak = rss.reshape(3, -1).max(axis=1)[:, None, None]
    np.testing.assert_allclose(rs_label, rss / peak, atol=1e-5)


def test_input_coils_flag_errors(tmp_path):
    src = write_images(tmp_path / 'src', n=2)
    for extra, message in ((['--coil_target', 'rss'], '--coil_target applies'),
                           (['--noise', '0.1'], '--noise applies'),
                           (['--coils', '2', '--multicoil'], '--coils needs')):
        r = subprocess.run([sys.executable, 'make_h5data.py', '--input', str(src),
                            '--output_dir', str(tmp_path / 'out')] + extra,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, cwd=ROOT)
        assert r.returncode == 2 and message in r.stderr, r.stderr
        assert not (tmp_path / 'out').exists()
