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
"""fastMRI multi-coil and CMRxRecon cine conversion (models/data/multicoil_sources.py): our
k-space convention, acquired lines staying lines, and make_h5data.py on files written here in
each source's published layout (fastMRI: kspace (slices, coils, readout, PE) centred;
CMRxRecon 2023: kspace_full MATLAB (kx, ky, sc, sz, t) complex, stored by MATLAB v7.3 as
h5py (t, sz, sc, ky, kx) compound {real, imag}; masks mask04 MATLAB (kx, ky))."""
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest

from models.data import coils
from models.data import multicoil_sources as mc
from models.data.synthetic import cine_phantom, phantom
from models.errors import InputError
from models.pre_input import H5Data

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def centred_fft2(img):
    """fastMRI's / CMRxRecon's fft2c: image (natural layout) -> centred orthonormal k-space."""
    axes = (-2, -1)
    return np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(img, axes=axes), axes=axes,
                                       norm='ortho'), axes=axes)


def source(shape, c, seed=0):
    """Coil images (c, PE, RO) of a phantom through birdcage maps and their centred k-space."""
    x = phantom(shape, seed=seed)
    imgs = coils.coil_images(x, coils.birdcage_maps(shape, c, seed=seed))
    return imgs, centred_fft2(imgs).astype(np.complex64)


def test_to_ours_is_our_fft_of_the_readout_crop():
    imgs, k = source((12, 20), 3)
    np.testing.assert_allclose(mc.to_ours(k), np.fft.fft2(imgs, norm='ortho'), atol=1e-5)
    np.testing.assert_allclose(mc.to_ours(k, readout=10),
                               np.fft.fft2(imgs[..., 5:15], norm='ortho'), atol=1e-5)


@pytest.mark.parametrize('readout, pe', [(None, None), (10, None), (10, 16), (None, 8)])
def test_acquired_lines_stay_acquired_lines(readout, pe):
    """Masking the source's lines and converting = converting and masking with the converted
    mask: nothing along PE is resampled."""
    _, k = source((12, 20), 3, seed=1)
    rng = np.random.default_rng(0)
    lines = (rng.random(12) < 0.4).astype(np.float32)
    lines[5:8] = 1
    m = np.repeat(lines[:, None], 20, axis=1)
    ours = mc.mask_to_ours(m, ((pe or 12), (readout or 20)))
    np.testing.assert_allclose(mc.to_ours(k * m, readout, pe), mc.to_ours(k, readout, pe) * ours,
                               atol=1e-5)
    kept = lines[mc._centre_slice(12, pe)] if pe and pe < 12 else lines
    assert ours.sum() == kept.sum() * (readout or 20)


def test_recon_space_from_the_ismrmrd_header():
    xml = (b'<ismrmrdHeader><encoding><encodedSpace><matrixSize><x>640</x><y>368</y>'
           b'</matrixSize></encodedSpace><reconSpace><matrixSize><x>320</x><y>320</y><z>1</z>'
           b'</matrixSize></reconSpace></encoding></ismrmrdHeader>')
    assert mc.recon_space(xml) == (320, 320)
    assert mc.recon_space('<ismrmrdHeader/>') is None


def write_fastmri(path, n_slices=2, c=4, ro=32, pe=16, seed=0):
    ks = []
    for s in range(n_slices):
        _, k = source((ro, pe), c, seed=seed + s)  # fastMRI: (coils, readout, PE)
        ks.append(k)
    with h5py.File(path, 'w') as f:
        f['kspace'] = np.stack(ks)
        f['ismrmrd_header'] = (b'<ismrmrdHeader><reconSpace><matrixSize><x>12</x><y>14</y>'
                               b'</matrixSize></reconSpace></ismrmrdHeader>')
    return ks


def write_cmrx(path, frames=4, n_slices=2, c=3, ky=16, kx=20, key='kspace_full'):
    """A MultiCoil FullSample cine_sax.mat as MATLAB v7.3 stores it; returns the centred
    k-space as (sz, t, sc, ky, kx)."""
    ks = []
    for z in range(n_slices):
        seq = cine_phantom((ky, kx), frames, seed=z)
        imgs = coils.coil_images(seq, coils.birdcage_maps((ky, kx), c, seed=z))
        ks.append(centred_fft2(imgs).astype(np.complex64))  # (t, sc, ky, kx)
    k = np.stack(ks)
    h5 = np.transpose(k, (1, 0, 2, 3, 4))  # (t, sz, sc, ky, kx): MATLAB's reversed
    rec = np.empty(h5.shape, dtype=[('real', '<f4'), ('imag', '<f4')])
    rec['real'], rec['imag'] = h5.real, h5.imag
    with h5py.File(path, 'w') as f:
        f[key] = rec
    return k


def make_h5data(*args):
    r = subprocess.run([sys.executable, os.path.join(ROOT, 'make_h5data.py')] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                       cwd=ROOT)
    return r


def test_fastmri_multicoil_conversion(tmp_path):
    pytest.importorskip('sigpy')
    d = tmp_path / 'knee'
    d.mkdir()
    for i in range(2):
        write_fastmri(str(d / ('file%d.h5' % i)), seed=10 * i)
    out = tmp_path / 'out'
    r = make_h5data('--input', str(d), '--multicoil', '--calib', '12', '--sample_n', '2',
                    '--output_dir', str(out), '--name', 'knee', '--split', '0.5')
    assert r.returncode == 0, r.stderr
    data = H5Data(str(out / 'knee_train_acc4.hdf5'))
    assert data.coils == 4 and data.shape == (16, 16)  # (PE, readout / 2)
    label, _ = data.read([0, 1])
    k, maps = data.read_coils([0, 1])
    np.testing.assert_allclose(label, coils.sense_adjoint(k, maps), atol=1e-5)
    # the ESPIRiT combination is the source image's magnitude (readout crop, PE on axis -2)
    name = data.f['name'][0]
    name = name.decode() if isinstance(name, bytes) else name  # 'file<i>.h5#<slice>'
    seed = 10 * int(name[4]) + int(name.split('#')[1])  # as write_fastmri drew it
    ref = np.abs(phantom((32, 16), seed=seed)[8:24].T)  # readout crop, PE moved to axis -2
    got = np.abs(label[0]) * data.f['scale'][0]
    obj = ref > 0.3 * ref.max()
    np.testing.assert_allclose(got[obj], ref[obj], atol=0.05 * ref.max())
    # the RSS reference and fastMRI's reconSpace (x 12 readout, y 14 PE) as our (H, W)
    rss = data.f['rss'][0] * data.f['scale'][0]
    np.testing.assert_allclose(rss, ref, atol=1e-4 * ref.max())
    assert tuple(data.attrs['recon_size']) == (14, 12)
    data.close()


def test_cmrxrecon_conversion_with_the_challenge_mask(tmp_path):
    pytest.importorskip('sigpy')
    full = tmp_path / 'MultiCoil' / 'Cine' / 'TrainingSet' / 'FullSample'
    for p in ('P001', 'P002'):
        (full / p).mkdir(parents=True)
        write_cmrx(str(full / p / 'cine_sax.mat'))
    mask_dir = tmp_path / 'AccFactor04' / 'P001'
    mask_dir.mkdir(parents=True)
    lines = np.zeros(16, np.float32)
    lines[::4] = 1
    lines[6:10] = 1
    with h5py.File(str(mask_dir / 'cine_sax_mask.mat'), 'w') as f:
        f['mask04'] = np.repeat(lines[:, None], 20, axis=1)  # h5py (ky, kx) = MATLAB (kx, ky)
    out = tmp_path / 'out'
    r = make_h5data('--cmrxrecon', str(full), '--calib', '12', '--window', '2',
                    '--cmrx_mask', str(mask_dir / 'cine_sax_mask.mat'),
                    '--output_dir', str(out), '--name', 'cine', '--split', '0.5')
    assert r.returncode == 0, r.stderr
    files = sorted(os.listdir(str(out)))
    assert files == ['cine_test_acc2.3.hdf5', 'cine_train_acc2.3.hdf5'], files
    data = H5Data(str(out / 'cine_train_acc2.3.hdf5'))
    # 2 slices x 2 windows of 2 frames; (T, ky, kx); 3 coils
    assert data.n == 4 and data.coils == 3 and data.shape == (2, 16, 20)
    _, mask = data.read([0])
    np.testing.assert_array_equal(mask[0, 1], np.fft.ifftshift(
        np.repeat(lines[:, None], 20, axis=1)))
    label, _ = data.read(np.arange(4))
    k, maps = data.read_coils(np.arange(4))
    np.testing.assert_allclose(label, coils.sense_adjoint(k, maps), atol=1e-5)
    data.close()


def test_cmrxrecon_missing_key_and_real_kspace_are_one_line_exit_2(tmp_path):
    bad = tmp_path / 'P001'
    bad.mkdir()
    write_cmrx(str(bad / 'cine_sax.mat'), key='kspace_sub04')
    r = make_h5data('--cmrxrecon', str(bad / 'cine_sax.mat'), '--output_dir', str(tmp_path))
    assert r.returncode == 2 and r.stderr.count('\n') == 1
    assert "no variable 'kspace_full' (found: kspace_sub04)" in r.stderr
    with h5py.File(str(tmp_path / 'real.mat'), 'w') as f:
        f['kspace_full'] = np.zeros((2, 1, 2, 8, 8), np.float32)
    with pytest.raises(InputError, match='must be complex'):
        next(mc.CMRxReconCine(str(tmp_path / 'real.mat')).slices())


def test_fastmri_single_coil_file_refused_by_multicoil(tmp_path):
    with h5py.File(str(tmp_path / 'sc.h5'), 'w') as f:
        f['kspace'] = np.zeros((2, 16, 16), np.complex64)
    r = make_h5data('--input', str(tmp_path / 'sc.h5'), '--multicoil',
                    '--output_dir', str(tmp_path / 'o'))
    assert r.returncode == 2 and 'expected multi-coil (slices, coils, readout, PE)' in r.stderr
