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
"""Readers of models/data/formats.py on small real files shipped with nibabel/pydicom and on small
files written here in each format."""
import os
import shutil

import h5py
import numpy as np
import pytest

from models.data import formats
from models.errors import InputError


def _slices(reader):
    out = list(reader.slices())
    reader.close()
    return out


def _unit(path, fmt=None):
    return formats.Unit(os.path.basename(path), [path], fmt or formats.format_of(path))


def write_fastmri(path, n=3, shape=(40, 36), coils=0, seed=0, extra=True):
    """fastMRI-like HDF5: kspace (n, H, W) or (n, coils, H, W) complex64 of a known image."""
    rng = np.random.default_rng(seed)
    full = ((n, coils) if coils else (n,)) + tuple(shape)
    img = (rng.standard_normal(full) + 1j * rng.standard_normal(full)).astype(np.complex64)
    axes = (-2, -1)
    k = np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(img, axes=axes), axes=axes, norm='ortho'),
                        axes=axes).astype(np.complex64)
    with h5py.File(path, 'w') as f:
        f['kspace'] = k
        if extra:
            f['reconstruction_esc'] = rng.random((n, 20, 20)).astype(np.float32)
        f.attrs['acquisition'] = 'CORPD_FBK'
    return img


def test_fastmri_single_coil_is_complex_centred_fft(tmp_path):
    p = str(tmp_path / 'file1.h5')
    img = write_fastmri(p)
    r = formats.open_unit(_unit(p))
    assert r.is_complex and r.n == 3
    got = _slices(r)
    assert [i for i, _ in got] == [(0,), (1,), (2,)]
    for (_, x), ref in zip(got, img):
        assert np.iscomplexobj(x) and x.shape == (40, 36)
        np.testing.assert_allclose(x, ref, atol=1e-4)
    # the centred convention puts a k-space centre delta at a flat image, not a checkerboard
    k = np.zeros((8, 8), complex)
    k[4, 4] = 1
    assert np.ptp(formats.fastmri_image(k).real) < 1e-12


def test_fastmri_multicoil_rss_and_target(tmp_path):
    p = str(tmp_path / 'multi.h5')
    img = write_fastmri(p, n=2, coils=4)
    r = formats.open_unit(_unit(p))
    assert not r.is_complex and 'root-sum-of-squares' in r.describe
    got = _slices(r)
    assert len(got) == 2 and not np.iscomplexobj(got[0][1])
    np.testing.assert_allclose(got[1][1], np.sqrt((np.abs(img[1]) ** 2).sum(0)), rtol=1e-4)
    r = formats.open_unit(_unit(p), target='reconstruction_esc')
    got = _slices(r)
    assert len(got) == 2 and got[0][1].shape == (20, 20) and not np.iscomplexobj(got[0][1])
    with pytest.raises(InputError, match='multi.h5.*reconstruction_rss.*kspace'):
        formats.open_unit(_unit(p), target='reconstruction_rss')


def _nib_data(name):
    import nibabel
    p = os.path.join(os.path.dirname(nibabel.__file__), 'tests', 'data', name)
    if not os.path.exists(p):
        pytest.skip('nibabel test file %s not installed' % name)
    return p


def test_nifti_real_files_3d_and_4d():
    import nibabel as nib
    p3 = _nib_data('anatomical.nii')
    vol = np.asarray(nib.load(p3).get_fdata())
    got = _slices(formats.open_unit(_unit(p3), axis=2, min_signal=0.0))
    nonzero = [z for z in range(vol.shape[2]) if np.any(vol[:, :, z])]
    assert [i for i, _ in got] == [(z,) for z in nonzero]
    np.testing.assert_allclose(got[0][1], vol[:, :, nonzero[0]])
    got = _slices(formats.open_unit(_unit(p3), axis=0, min_signal=0.0))
    assert got[0][1].shape == vol.shape[1:]

    p4 = _nib_data('example4d.nii.gz')
    shape = nib.load(p4).shape
    r = formats.open_unit(_unit(p4), axis=2, min_signal=0.0)
    assert r.n == shape[2] * shape[3] and not r.is_complex
    got = _slices(r)
    assert got[0][0] == (0, 0) and got[-1][0][0] == shape[3] - 1
    assert all(x.shape == shape[:2] for _, x in got)


def test_nifti_min_signal_skips_empty_and_faint_slices(tmp_path):
    import nibabel as nib
    vol = np.zeros((16, 12, 6), np.float32)
    vol[:, :, 1:5] = 1.0
    vol[:, :, 4] = 0.01  # faint end slice
    p = str(tmp_path / 'sub01.nii.gz')
    nib.save(nib.Nifti1Image(vol, np.eye(4)), p)
    assert [i for i, _ in _slices(formats.open_unit(_unit(p), min_signal=0.0))] == \
        [(1,), (2,), (3,), (4,)]
    r = formats.open_unit(_unit(p), min_signal=0.05)
    assert [i for i, _ in _slices(r)] == [(1,), (2,), (3,)] and r.skipped == 3


def test_mat_v5_and_v73_complex_same_slices(tmp_path):
    from scipy import io as sio
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((10, 8, 3)) + 1j * rng.standard_normal((10, 8, 3)))
    p5 = str(tmp_path / 'a.mat')
    sio.savemat(p5, {'img': x, 'other': np.ones(3), 'note': 'text'})
    p73 = str(tmp_path / 'b.mat')
    with h5py.File(p73, 'w', userblock_size=512) as f:  # how MATLAB -v7.3 lays a complex array
        comp = np.dtype([('real', '<f8'), ('imag', '<f8')])
        d = np.empty(x.T.shape, comp)
        d['real'], d['imag'] = x.real.T, x.imag.T
        f.create_dataset('img', data=d).attrs['MATLAB_class'] = np.bytes_('double')
    for p in (p5, p73):
        r = formats.open_unit(_unit(p), key='img', axis=2, min_signal=0.0)
        assert r.is_complex, p
        got = _slices(r)
        assert len(got) == 3
        for (i, s), z in zip(got, range(3)):
            assert i == (z,)
            np.testing.assert_allclose(s, x[:, :, z])
    with pytest.raises(InputError, match=r'a\.mat: pass --key \(variables: img, other\)'):
        formats.open_unit(_unit(p5))
    with pytest.raises(InputError, match=r"b\.mat: no variable 'kspace' \(variables: img\)"):
        formats.open_unit(_unit(p73), key='kspace')
    real = str(tmp_path / 'r.mat')
    sio.savemat(real, {'im': np.arange(30.0).reshape(5, 6)})
    r = formats.open_unit(_unit(real))
    got = _slices(r)
    assert not r.is_complex and len(got) == 1 and got[0][1].shape == (5, 6)


def _pydicom_file(name):
    try:
        from pydicom.data import get_testdata_file
        p = get_testdata_file(name)
    except Exception:  # offline and not bundled
        p = None
    if not p or not os.path.exists(p):
        pytest.skip('pydicom test file %s not available offline' % name)
    return p


def write_dicom(path, pixels, instance):
    """A minimal MR image DICOM written with pydicom."""
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.4'
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.InstanceNumber = 'MR', instance
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, 'MONOCHROME2'
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit, ds.PixelRepresentation = 15, 0
    ds.PixelData = pixels.astype('<u2').tobytes()
    kw = {'enforce_file_format': True} if int(pydicom.__version__.split('.')[0]) >= 3 \
        else {'write_like_original': False}
    ds.save_as(path, **kw)


def test_dicom_series_instance_order_and_bad_files(tmp_path):
    series = tmp_path / 'subj1'
    series.mkdir()
    for inst in (3, 1, 2):  # file names in a different order than instances
        write_dicom(str(series / ('im%d.dcm' % (4 - inst))), np.full((12, 10), inst * 100), inst)
    shutil.copy(_pydicom_file('rtplan.dcm'), str(series / 'zz_plan.dcm'))
    shutil.copy(_pydicom_file('MR_truncated.dcm'), str(series / 'zz_trunc.dcm'))
    (unit,) = formats.discover([str(series)])
    assert unit.fmt == 'dicom' and unit.name == 'subj1' and len(unit.paths) == 5
    r = formats.open_unit(unit)
    got = _slices(r)
    assert [x.max() for _, x in got] == [100, 200, 300]
    assert [i for i, _ in got] == [(1,), (2,), (3,)]
    bad = dict((os.path.basename(p), why) for p, why in r.problems)
    assert sorted(bad) == ['zz_plan.dcm', 'zz_trunc.dcm']
    assert 'not an image' in bad['zz_plan.dcm'] and 'pixel data' in bad['zz_trunc.dcm']


def test_dicom_real_file_and_all_bad_series(tmp_path):
    d = tmp_path / 'mr'
    d.mkdir()
    shutil.copy(_pydicom_file('MR_small.dcm'), str(d / 'a.dcm'))
    got = _slices(formats.open_unit(formats.discover([str(d)])[0]))
    assert len(got) == 1 and got[0][1].shape == (64, 64) and got[0][1].dtype == np.float64
    e = tmp_path / 'plan'
    e.mkdir()
    shutil.copy(_pydicom_file('rtplan.dcm'), str(e / 'p.dcm'))
    with pytest.raises(InputError, match='plan.*no readable DICOM image.*p.dcm: not an image'):
        formats.open_unit(formats.discover([str(e)])[0])


@pytest.mark.parametrize('ext,dtype,top', [('png', np.uint8, 255), ('png', np.uint16, 60000),
                                           ('tif', np.uint8, 200), ('tif', np.uint16, 4095)])
def test_images_8_and_16_bit(tmp_path, ext, dtype, top):
    from skimage import io as skio
    img = (np.arange(24 * 20).reshape(24, 20) % 97 * top // 96).astype(dtype)
    p = str(tmp_path / ('im.' + ext))
    skio.imsave(p, img, check_contrast=False)
    got = _slices(formats.open_unit(_unit(p)))
    np.testing.assert_array_equal(got[0][1], img.astype(np.float64))
    assert got[0][1].max() == img.max() > 0


def test_corrupt_files_name_the_file(tmp_path):
    for name, data in (('x.h5', b'\x89HDF\r\n\x1a\n' + b'\0' * 64),
                       ('x.nii.gz', b'\x1f\x8b garbage'),
                       ('x.mat', b'MATLAB 5.0 MAT-file' + b'\0' * 10), ('x.png', b'\x89PNG\r\n')):
        p = str(tmp_path / name)
        with open(p, 'wb') as f:
            f.write(data)
        with pytest.raises(InputError, match=r'x\.' + name.split('.', 1)[1]):
            _slices(formats.open_unit(_unit(p)))


def test_discover_units_and_fit(tmp_path):
    (tmp_path / 'a').mkdir()
    (tmp_path / 'a' / 's1').mkdir()
    for p in ('a/v1.nii.gz', 'a/k.h5', 'a/s1/1.dcm', 'a/s1/2.dcm', 'a/notes.txt'):
        (tmp_path / p).write_bytes(b'')
    units = formats.discover([str(tmp_path / 'a')])
    assert [(u.name, u.fmt, len(u.paths)) for u in units] == \
        [('k.h5', 'fastmri', 1), ('s1', 'dicom', 2), ('v1.nii.gz', 'nifti', 1)]
    with pytest.raises(InputError, match='notes.txt: unknown file type'):
        formats.discover([str(tmp_path / 'a' / 'notes.txt')])
    assert formats.default_size([str(tmp_path / 'a' / 'k.h5')], 'auto') == 320
    assert formats.default_size([str(tmp_path / 'a')], 'auto') == 256
    z = np.ones((40, 30)) * (1 + 1j)
    y = formats.fit(z, (20, 20), 'crop')
    assert y.shape == (20, 20) and np.allclose(y, 1 + 1j)
    assert np.allclose(formats.fit(z, (16, 16), 'resize'), 1 + 1j)
