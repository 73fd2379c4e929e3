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
"""Reading dynamic sequences from .mat (v5 and v7.3) and NIfTI files, temporal windows, and
make_h5data.py --cine_file."""

import h5py
import numpy as np
import pytest
from scipy import io as sio

import make_h5data
from models.data import dynamic_sources as ds
from models.errors import InputError

NX, NY, NT, N = 16, 12, 10, 3


def cine_array(complex_data=True):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((NX, NY, NT, N))
    return a + 1j * rng.standard_normal(a.shape) if complex_data else a


def test_mat_v5_4d_and_3d(tmp_path):
    a = cine_array()
    p = str(tmp_path / 'cardiac.mat')
    sio.savemat(p, {'seq': a, 'other': a[..., 0]})
    seqs = ds.read_cine_file(p)
    assert seqs.shape == (N, NT, NX, NY)
    np.testing.assert_allclose(seqs[2, 4], a[:, :, 4, 2])
    one = ds.read_cine_file(p, key='other')
    assert one.shape == (1, NT, NX, NY)
    np.testing.assert_allclose(one[0, 7], a[:, :, 7, 0])
    with pytest.raises(InputError, match="no variable 'img'.*other, seq"):
        ds.read_cine_file(p, key='img')


def test_mat_v73_through_h5py(tmp_path):
    """MATLAB v7.3 stores column-major arrays (h5py sees the axes reversed) and complex
    numbers as a (real, imag) compound."""
    a = cine_array()
    p = str(tmp_path / 'v73.mat')
    comp = np.dtype([('real', '<f8'), ('imag', '<f8')])
    rev = np.transpose(a)
    stored = np.empty(rev.shape, comp)
    stored['real'], stored['imag'] = rev.real, rev.imag
    with h5py.File(p, 'w') as f:
        f['seq'] = stored
    seqs = ds.read_cine_file(p)
    assert seqs.shape == (N, NT, NX, NY)
    np.testing.assert_allclose(seqs[1, 3], a[:, :, 3, 1])


def test_nifti_3d_and_4d(tmp_path):
    import nibabel
    vol = cine_array(False).astype(np.float32)          # read as (x, y, z, t) here
    p = str(tmp_path / 'cine.nii.gz')
    nibabel.save(nibabel.Nifti1Image(vol, np.eye(4)), p)
    seqs = ds.read_cine_file(p)
    assert seqs.shape == (NT, N, NX, NY)                 # NT slices of N frames
    np.testing.assert_allclose(seqs[5, 2], vol[:, :, 5, 2])
    p3 = str(tmp_path / 'one.nii')
    nibabel.save(nibabel.Nifti1Image(vol[:, :, 0], np.eye(4)), p3)
    assert ds.read_cine_file(p3).shape == (1, N, NX, NY)


def test_bad_files(tmp_path):
    p = str(tmp_path / 'flat.mat')
    sio.savemat(p, {'seq': np.zeros((4, 4))})
    with pytest.raises(InputError, match='expected \\(nx, ny, nt\\)'):
        ds.read_cine_file(p)
    with pytest.raises(InputError, match='no such file'):
        ds.read_cine_file(str(tmp_path / 'none.mat'))
    bad = tmp_path / 'x.npy'
    bad.write_bytes(b'0')
    with pytest.raises(InputError, match='unknown cine file type'):
        ds.read_cine_file(str(bad))


def test_window_starts():
    assert ds.window_starts(10) == [0]
    assert ds.window_starts(10, 4) == [0, 4]
    assert ds.window_starts(10, 4, 2) == [0, 2, 4, 6]
    assert ds.window_starts(10, 10, 3) == [0]
    with pytest.raises(InputError, match='longer than the 10 frames'):
        ds.window_starts(10, 11)


def test_make_h5data_cine_file_windows(tmp_path):
    a = cine_array()
    p = str(tmp_path / 'cardiac.mat')
    sio.savemat(p, {'seq': a})
    out = str(tmp_path / 'out')
    train, test = make_h5data.main(['--cine_file', p, '--window', '4', '--stride', '3',
                                    '--output_dir', out, '--sample_n', '2', '--split', '0.67'])
    with h5py.File(train, 'r') as f:
        # 2 of 3 sequences for training, windows starting at frames 0, 3, 6 of 10
        assert f['label'].shape == (2 * 3, 4, NX, NY) and f['label'].dtype == np.complex64
        assert f['mask'].shape == (6, 4, NX, NY)
        names = [n.decode() if isinstance(n, bytes) else n for n in f['name'][()]]
        assert names[1].endswith('_t003')
        s = int(names[0].split('_s')[1][:3])
        x = f['label'][2] * f['scale'][2]
        np.testing.assert_allclose(x, a[:, :, 6:10, s].transpose(2, 0, 1), rtol=1e-4, atol=1e-5)
    with h5py.File(test, 'r') as f:
        assert f['label'].shape[0] == 3
    with pytest.raises(SystemExit):
        make_h5data.main(['--cine_file', p, '--output_dir', out])  # exists: no overwrite
