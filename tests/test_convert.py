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
"""make_h5data.py --input end to end (models/data/convert.py): split by file, fixed per-slice masks,
scale, and bad files reported by name while the others are still written."""
import gzip
import os
import shutil

import h5py
import numpy as np
import pytest

import make_h5data
from models import masks
from tests.conftest import run_script
from tests.test_formats import _pydicom_file, write_dicom, write_fastmri

COMMON = ['--image_size', '32', '--sample_n', '4', '--acc', '4']


def _run(argv, capsys):
    """make_h5data.main in-process -> (exit code, stdout, stderr)."""
    try:
        make_h5data.main(argv)
        code = 0
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def _read(path):
    with h5py.File(path, 'r') as f:
        return (f['label'][()], f['mask'][()], f['scale'][()],
                [n.decode() if isinstance(n, bytes) else n for n in f['name'][()]], dict(f.attrs))


def _files(names):
    return set(n.split('#')[0] for n in names)


def _nifti(path, n_slices, seed):
    import nibabel as nib
    rng = np.random.default_rng(seed)
    vol = (rng.random((24, 20, n_slices)) + 0.5).astype(np.float32)
    nib.save(nib.Nifti1Image(vol, np.eye(4)), path)


@pytest.fixture()
def fastmri_dir(tmp_path):
    d = tmp_path / 'knee'
    d.mkdir()
    for i in range(4):
        write_fastmri(str(d / ('file%d.h5' % i)), n=3, seed=i)
    with open(str(d / 'corrupt.h5'), 'wb') as f:
        f.write(b'\x89HDF\r\n\x1a\n' + b'\0' * 200)
    with h5py.File(str(d / 'nokey.h5'), 'w') as f:
        f['reconstruction_esc'] = np.ones((2, 8, 8), np.float32)
    return str(d)


def test_fastmri_split_by_file_bad_files_named_and_rest_written(fastmri_dir, tmp_path, capsys):
    out = str(tmp_path / 'out')
    code, stdout, err = _run(['--input', fastmri_dir, '--output_dir', out, '--split', '0.5']
                             + COMMON, capsys)
    assert code == 2
    assert 'corrupt.h5: not a readable HDF5 file' in err
    assert "nokey.h5: no dataset 'kspace' (found: reconstruction_esc)" in err
    assert err.strip().splitlines()[-1].startswith('error: 2 input file(s) could not be converted')
    tr, te = (os.path.join(out, 'knee_%s_acc4.hdf5' % p) for p in ('train', 'test'))
    lab_tr, m_tr, s_tr, n_tr, attrs = _read(tr)
    lab_te, _, _, n_te, _ = _read(te)
    assert lab_tr.dtype == np.complex64 and lab_tr.shape[1:] == (32, 32)
    assert attrs['label_kind'] == 'complex' and 'single-coil' in attrs['source']
    # by file: 6 units (bad ones included) split 3/3 before reading; every slice of a file
    # on one side, all 3 slices of each good file present
    assert not _files(n_tr) & _files(n_te)
    assert _files(n_tr) | _files(n_te) == set('file%d.h5' % i for i in range(4))
    assert len(n_tr) + len(n_te) == 12
    np.testing.assert_allclose(np.abs(lab_tr).max(axis=(1, 2)), 1.0, rtol=1e-5)
    assert np.all(s_tr > 0)
    for name, m in zip(n_tr, m_tr):
        f, i = name.split('#')
        np.testing.assert_array_equal(m, masks.make_mask('cartesian', (32, 32), 4, 4,
                                                         seed=masks.seed_from_slice(f, int(i))))
    assert not np.array_equal(m_tr[0], m_tr[1])  # each slice its own mask
    assert 'labels: complex64' in stdout


def test_masks_fixed_per_file_and_run(fastmri_dir, tmp_path, capsys):
    """The same file gets the same masks whatever else is converted with it, in every run."""
    a, b = str(tmp_path / 'a'), str(tmp_path / 'b')
    _run(['--input', fastmri_dir, '--output_dir', a, '--test_files', 'file2.h5'] + COMMON, capsys)
    code, _, _ = _run(['--input', os.path.join(fastmri_dir, 'file2.h5'), '--output_dir', b,
                       '--split', '1'] + COMMON, capsys)
    assert code == 0
    lab_a, m_a, s_a, n_a, _ = _read(os.path.join(a, 'knee_test_acc4.hdf5'))
    lab_b, m_b, s_b, n_b, _ = _read(os.path.join(b, 'file2_train_acc4.hdf5'))
    assert n_a == n_b == ['file2.h5#0', 'file2.h5#1', 'file2.h5#2']
    np.testing.assert_array_equal(m_a, m_b)
    np.testing.assert_array_equal(lab_a, lab_b)
    np.testing.assert_array_equal(s_a, s_b)
    code, _, err = _run(['--input', fastmri_dir, '--output_dir', a, '--overwrite',
                         '--test_files', 'nothere*'] + COMMON, capsys)
    assert code == 2 and '--test_files nothere*: matches none' in err


def test_multicoil_is_magnitude_and_said(tmp_path, capsys):
    p = str(tmp_path / 'brain.h5')
    write_fastmri(p, n=2, coils=3, shape=(36, 36))
    code, out, _ = _run(['--input', p, '--output_dir', str(tmp_path), '--split', '1'] + COMMON,
                        capsys)
    assert code == 0 and 'root-sum-of-squares MAGNITUDE' in out and 'float32 magnitude' in out
    lab, _, _, _, attrs = _read(str(tmp_path / 'brain_train_acc4.hdf5'))
    assert lab.dtype == np.float32 and lab.shape == (2, 32, 32) and lab.min() >= 0
    assert attrs['label_kind'] == 'magnitude'


def test_truncated_nifti_rolled_back_others_kept(tmp_path, capsys):
    import nibabel
    d = tmp_path / 'brains'
    d.mkdir()
    for i in range(3):
        _nifti(str(d / ('sub%d.nii.gz' % i)), 6, i)
    shutil.copy(os.path.join(os.path.dirname(nibabel.__file__), 'tests', 'data', 'anatomical.nii'),
                str(d / 'anat.nii'))
    raw = gzip.decompress((d / 'sub1.nii.gz').read_bytes())
    (d / 'sub1.nii.gz').write_bytes(gzip.compress(raw)[:-len(raw) // 3])  # cut mid-volume
    out = str(tmp_path / 'out')
    code, stdout, err = _run(['--input', str(d), '--output_dir', out, '--split', '1',
                              '--min_signal', '0', '--fit', 'crop'] + COMMON, capsys)
    assert code == 2 and 'sub1.nii.gz: cannot read slice data' in err
    lab, _, _, names, attrs = _read(os.path.join(out, 'brains_train_acc4.hdf5'))
    assert _files(names) == {'sub0.nii.gz', 'sub2.nii.gz', 'anat.nii'}  # no half of sub1
    assert sum(n.startswith('sub') for n in names) == 12
    assert lab.dtype == np.float32 and attrs['label_kind'] == 'magnitude'


def test_cli_mat_dicom_images_one_warning_line_each(tmp_path):
    from scipy import io as sio
    from skimage import io as skio
    d = tmp_path / 'mixed'
    (d / 'series1').mkdir(parents=True)
    rng = np.random.default_rng(0)
    sio.savemat(str(d / 'cplx.mat'), {'img': rng.standard_normal((40, 40, 2)) + 1j})
    sio.savemat(str(d / 'wrongkey.mat'), {'data': np.ones((40, 40))})
    for inst in (1, 2):
        write_dicom(str(d / 'series1' / ('%d.dcm' % inst)), rng.integers(1, 900, (40, 40)), inst)
    shutil.copy(_pydicom_file('rtplan.dcm'), str(d / 'series1' / 'plan.dcm'))
    skio.imsave(str(d / 'photo16.png'), rng.integers(0, 65535, (48, 48)).astype(np.uint16),
                check_contrast=False)
    out = str(tmp_path / 'out')
    r = run_script('make_h5data.py', '--input', str(d), '--output_dir', out, '--key', 'img',
                   '--split', '1', *COMMON)
    assert r.returncode == 2, r.stderr
    assert 'Traceback' not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 3, r.stderr
    assert any("wrongkey.mat: no variable 'img' (variables: data); skipped" in l for l in lines)
    assert any('plan.dcm: not an image' in l for l in lines)
    lab, _, _, names, _ = _read(os.path.join(out, 'mixed_train_acc4.hdf5'))
    assert lab.dtype == np.complex64 and lab.shape == (5, 32, 32)
    assert sorted(_files(names)) == ['cplx.mat', 'photo16.png', 'series1']
    assert np.abs(lab[[i for i, n in enumerate(names) if n.startswith('cplx')]].imag).max() > 0


def test_nothing_convertible_is_an_error(tmp_path, capsys):
    p = tmp_path / 'broken.nii'
    p.write_bytes(b'not nifti')
    code, _, err = _run(['--input', str(p), '--output_dir', str(tmp_path)] + COMMON, capsys)
    assert code == 2 and 'broken.nii: not a readable NIfTI file' in err
    assert 'no image could be converted' in err
    assert not [f for f in os.listdir(str(tmp_path)) if f.endswith(('.hdf5', '.partial'))]
