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
"""Readers for real MR data: fastMRI HDF5, NIfTI, MATLAB .mat, DICOM series and image files.

A *unit* is what a split may not cut: one file (fastMRI, NIfTI, .mat, image) or one DICOM
series (the .dcm files of one folder). `discover` turns the paths a user gives into units;
`open_unit` returns a reader whose `slices()` yields (index, image) one 2-D slice at a time,
image being an (h, w) numpy array in the source's own size, complex where the source has phase
(fastMRI single-coil k-space, complex .mat) and real otherwise. Nothing reads more than one
slice at a time, except MATLAB v5 files, which scipy can only read one whole variable at a time.

Slice indices are tuples of ints (volume index for 4-D data first); together with the unit name
they name the slice in the output (`masks.slice_name`) and seed its mask.

Every problem a user's data can cause raises InputError naming the file.
"""
import fnmatch
import os
import warnings

import h5py
import numpy as np

from models.errors import InputError, first_line
from models.data.sources import IMAGE_EXTENSIONS, fit_image, to_gray

FORMATS = ('fastmri', 'nifti', 'mat', 'dicom', 'image')
TARGETS = ('kspace', 'reconstruction_esc', 'reconstruction_rss')
FASTMRI_SIZE = 320  # fastMRI's centre crop
DEFAULT_SIZE = 256

_EXTENSIONS = (('.nii.gz', 'nifti'), ('.nii', 'nifti'), ('.h5', 'fastmri'), ('.hdf5', 'fastmri'),
               ('.mat', 'mat'), ('.dcm', 'dicom')) + tuple((e, 'image') for e in IMAGE_EXTENSIONS)



def format_of(path):
    """Format name from a file name's extension, or None."""
    low = path.lower()
    for ext, fmt in _EXTENSIONS:
        if low.endswith(ext):
            return fmt
    return None


class Unit(object):
    """name: stable id, the same on every machine (it seeds masks): the path relative to the
    folder given, or the file's base name (a DICOM series directly in the folder given: the
    folder's name); paths: its files; fmt: one of FORMATS."""

    def __init__(self, name, paths, fmt):
        self.name, self.paths, self.fmt = name, list(paths), fmt

    @property
    def path(self):
        return self.paths[0] if len(self.paths) == 1 else os.path.dirname(self.paths[0])


def discover(inputs, fmt='auto'):
    """Files and folders -> sorted list of Units.

    A file is one unit. A folder is walked recursively: each file of a known extension is a unit,
    except .dcm files, which form one unit (a series) per folder. With `fmt` other than 'auto',
    every file found is read as that format (DICOM files without the .dcm extension need
    --format dicom)."""
    units = []
    for inp in inputs:
        if os.path.isfile(inp):
            f = fmt if fmt != 'auto' else format_of(inp)
            if f is None:
                raise InputError('%s: unknown file type; pass --format (one of %s)'
                                 % (inp, ', '.join(FORMATS)))
            units.append(Unit(os.path.basename(inp), [inp], f))
        elif os.path.isdir(inp):
            root = os.path.normpath(inp)
            for d, subdirs, files in os.walk(inp):
                subdirs.sort()
                series = []
                for fn in sorted(files):
                    p = os.path.join(d, fn)
                    f = fmt if fmt != 'auto' else format_of(fn)
                    if f == 'dicom':
                        series.append(p)
                    elif f is not None:
                        units.append(Unit(os.path.relpath(p, root), [p], f))
                if series:
                    rel = os.path.relpath(d, root)
                    units.append(Unit(os.path.basename(root) if rel == '.' else rel, series,
                                      'dicom'))
        else:
            raise InputError('%s: no such file or folder' % inp)
    if not units:
        raise InputError('%s: no readable files found (known: %s)'
                         % (', '.join(inputs), ', '.join(e for e, _ in _EXTENSIONS)))
    names = [u.name for u in units]
    dup = sorted(set(n for n in names if names.count(n) > 1))
    if dup:
        raise InputError('%s: given twice; each file may appear once' % dup[0])
    return sorted(units, key=lambda u: u.name)


def default_size(inputs, fmt):
    """fastMRI's 320 when every input is fastMRI HDF5, else 256 (what --image_size defaults to)."""
    if fmt == 'fastmri':
        return FASTMRI_SIZE
    if fmt == 'auto' and inputs and all(os.path.isfile(p) and format_of(p) == 'fastmri'
                                        or os.path.isdir(p) and _only_fastmri(p) for p in inputs):
        return FASTMRI_SIZE
    return DEFAULT_SIZE


def _only_fastmri(folder):
    kinds = set(format_of(f) for _, _, fs in os.walk(folder) for f in fs) - {None}
    return kinds == {'fastmri'}


def match_units(units, patterns):
    """Units whose name or base name matches one of the shell patterns; every pattern must
    match something (a typo must not silently move nothing into the test set)."""
    hit = set()
    for pat in patterns:
        found = [u.name for u in units
                 if fnmatch.fnmatch(u.name, pat) or fnmatch.fnmatch(os.path.basename(u.name), pat)]
        if not found:
            raise InputError('--test_files %s: matches none of the %d input files' % (pat, len(units)))
        hit.update(found)
    return hit


def fit(img, size, how):
    """2-D real or complex -> (H, W) float64 or complex128; real and imaginary parts are fitted
    separately (see sources.fit_image), so phase survives a crop or resize."""
    if np.iscomplexobj(img):
        return fit_image(img.real, size, how) + 1j * fit_image(img.imag, size, how)
    return fit_image(img, size, how)


def fastmri_image(kspace):
    """fastMRI's convention: k-space (..., H, W) with the centre in the middle ->
    fftshift(ifft2(ifftshift(k), norm='ortho')), complex (..., H, W) with the object centred."""
    axes = (-2, -1)
    return np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(kspace, axes=axes), axes=axes,
                                        norm='ortho'), axes=axes)


def rss(coil_images, axis=0):
    """Root-sum-of-squares over coils: (C, H, W) complex -> (H, W) real magnitude."""
    return np.sqrt(np.sum(np.abs(coil_images) ** 2, axis=axis))


def _slice_indices(shape, axis):
    """Index tuples over 2-D slices of an array of `shape`: slices along `axis` of the first 3
    dimensions, extra dimensions (4-D: volumes) outermost. Yields (label, index)."""
    if len(shape) == 2:
        yield (0,), (slice(None), slice(None))
        return
    if axis >= 3 or axis < -3:
        raise InputError('--axis %d: expected 0, 1 or 2 (slice axis of the volume)' % axis)
    axis = axis % 3
    for extra in np.ndindex(*shape[3:]):
        for s in range(shape[axis]):
            idx = [slice(None)] * 3 + list(extra)
            idx[axis] = s
            yield tuple(extra) + (s,), tuple(idx)


class Reader(object):
    """Base: `is_complex`, `describe` (one line for the user), `n` (slices before filtering),
    `slices()` -> (index tuple, 2-D image), `close()`."""
    is_complex = False
    describe = ''
    problems = ()  # (path, message) for parts of a unit that were skipped (DICOM files)

    def close(self):
        pass


class _ArrayReader(Reader):
    """Slices of an array-like volume (nibabel proxy, h5py dataset, numpy array), read one at a
    time, skipping slices whose mean |x| is below `min_signal` times the largest slice mean of the
    file (a first pass reads every slice once to find that). All-zero slices are always skipped:
    they cannot be scaled to max |x| = 1."""

    def __init__(self, path, arr, axis, min_signal, get=None):
        self.path, self.arr, self.axis, self.min_signal = path, arr, axis, min_signal
        self.get = get or (lambda a, idx: np.asarray(a[idx]))
        shape = tuple(arr.shape)
        if len(shape) < 2 or any(s == 0 for s in shape):
            raise InputError('%s: expected a 2-D, 3-D or 4-D image array, got shape %s'
                             % (path, shape))
        self.shape = shape
        self.index = list(_slice_indices(shape, axis))
        self.n = len(self.index)
        self.skipped = 0

    def _read(self, idx):
        try:
            x = self.get(self.arr, idx)
        except InputError:
            raise
        except Exception as e:  # zlib/h5py/nibabel errors of a truncated or corrupt file
            raise InputError('%s: cannot read slice data (%s)' % (self.path, first_line(e)))
        if x.ndim != 2:
            raise InputError('%s: a slice has shape %s; expected 2-D' % (self.path, x.shape))
        if not np.all(np.isfinite(x)):
            raise InputError('%s: slice contains NaN or Inf' % self.path)
        return x

    def slices(self):
        keep = None
        if self.min_signal > 0 and self.n > 1:
            means = np.array([np.abs(self._read(idx)).mean() for _, idx in self.index])
            keep = means >= self.min_signal * means.max()
        for i, (label, idx) in enumerate(self.index):
            if keep is not None and not keep[i]:
                self.skipped += 1
                continue
            x = self._read(idx)
            if not np.any(x):
                self.skipped += 1
                continue
            yield label, x

    def close(self):
        self.arr = None  # drops the NIfTI proxy and with it the file it keeps open


class NiftiReader(_ArrayReader):
    def __init__(self, path, axis, min_signal):
        import nibabel as nib
        try:
            # keep_file_open: a .nii.gz is read forward once per pass, not re-decompressed per slice
            img = nib.load(path, keep_file_open=True)
            arr = img.dataobj
            shape = arr.shape
        except Exception as e:
            raise InputError('%s: not a readable NIfTI file (%s)' % (path, first_line(e)))
        if len(shape) not in (2, 3, 4):
            raise InputError('%s: NIfTI data has shape %s; expected 3-D or 4-D' % (path, shape))
        self.is_complex = img.get_data_dtype().kind == 'c'
        super(NiftiReader, self).__init__(path, arr, axis, min_signal)
        self.describe = 'NIfTI %s %s, slices along axis %d' % (
            'x'.join(map(str, shape)), 'complex' if self.is_complex else 'real', axis % 3)


def _h5_complex(x):
    """MATLAB v7.3 stores complex arrays as a compound of ('real', 'imag')."""
    if x.dtype.names and 'real' in x.dtype.names and 'imag' in x.dtype.names:
        return x['real'] + 1j * x['imag'].astype(np.float64)
    return x


class _MatlabOrder(object):
    """An h5py dataset of a MATLAB v7.3 variable seen in MATLAB's axis order (h5py shows the
    axes reversed), so --axis means the same for v5 and v7.3 files."""

    def __init__(self, ds):
        self.ds = ds
        self.shape = tuple(reversed(ds.shape))

    def __getitem__(self, idx):
        return np.asarray(_h5_complex(self.ds[tuple(reversed(idx))])).T


class MatReader(_ArrayReader):
    def __init__(self, path, key, axis, min_signal):
        try:
            v73 = h5py.is_hdf5(path)
        except Exception as e:
            raise InputError('%s: cannot open (%s)' % (path, first_line(e)))
        arr = self._open_v73(path, key) if v73 else self._open_v5(path, key)
        super(MatReader, self).__init__(path, arr, axis, min_signal)
        self.is_complex = np.iscomplexobj(arr) if not v73 else bool(arr.ds.dtype.names)
        self.describe = 'MATLAB %s %r %s %s, slices along axis %d' % (
            'v7.3' if v73 else 'v5', self.key, 'x'.join(map(str, arr.shape)),
            'complex' if self.is_complex else 'real', axis % 3)

    def _choose(self, path, key, names):
        if key is None:
            if len(names) != 1:
                raise InputError('%s: pass --key (variables: %s)' % (path, ', '.join(names) or 'none'))
            key = names[0]
        if key not in names:
            raise InputError('%s: no variable %r (variables: %s)'
                             % (path, key, ', '.join(names) or 'none'))
        self.key = key
        return key

    def _open_v5(self, path, key):
        from scipy import io as sio
        try:
            names = [n for n, shape, cls in sio.whosmat(path)
                     if cls in ('double', 'single', 'int8', 'uint8', 'int16', 'uint16', 'int32',
                                'uint32', 'int64', 'uint64', 'logical')]
            key = self._choose(path, key, names)
            arr = sio.loadmat(path, variable_names=[key])[key]
        except InputError:
            raise
        except Exception as e:
            raise InputError('%s: not a readable MATLAB file (%s)' % (path, first_line(e)))
        if arr.dtype.kind not in 'biufc':
            raise InputError('%s: variable %r is %s, expected a numeric array' % (path, key, arr.dtype))
        return np.asarray(arr)

    def _open_v73(self, path, key):
        try:
            f = h5py.File(path, 'r')
        except Exception as e:
            raise InputError('%s: not a readable MATLAB v7.3 (HDF5) file (%s)' % (path, first_line(e)))
        self.f = f
        names = [n for n in f.keys() if isinstance(f[n], h5py.Dataset) and
                 (f[n].dtype.kind in 'biuf' or f[n].dtype.names) and
                 f[n].attrs.get('MATLAB_class', b'double') not in (b'char', b'struct', b'cell')]
        try:
            key = self._choose(path, key, sorted(names))
        except InputError:
            f.close()
            raise
        return _MatlabOrder(f[key])

    def close(self):
        super(MatReader, self).close()
        if getattr(self, 'f', None) is not None:
            self.f.close()


class FastMRIReader(Reader):
    """fastMRI HDF5. target 'kspace': images from k-space (fastmri_image), centre-cropped;
    single-coil (S, H, W) gives complex images, multi-coil (S, C, H, W) the root-sum-of-squares
    magnitude (real). target 'reconstruction_esc'/'reconstruction_rss': that magnitude image."""

    def __init__(self, path, target):
        try:
            self.f = h5py.File(path, 'r')
        except Exception as e:
            raise InputError('%s: not a readable HDF5 file (%s)' % (path, first_line(e)))
        self.path, self.target = path, target
        try:
            self._open(path, target)
        except InputError:
            self.f.close()
            raise
        except Exception as e:  # h5py raises several types for a damaged header or B-tree
            self.f.close()
            raise InputError('%s: damaged HDF5 file (%s)' % (path, first_line(e)))

    def _open(self, path, target):
        keys = sorted(self.f.keys())
        if target not in self.f or not isinstance(self.f[target], h5py.Dataset):
            raise InputError('%s: no dataset %r (found: %s)' % (path, target, ', '.join(keys) or 'none'))
        self.ds = self.f[target]
        nd = self.ds.ndim
        if nd and min(self.ds.shape) == 0:
            raise InputError('%s: %s has an empty shape %s' % (path, target, self.ds.shape))
        if target == 'kspace':
            if nd not in (3, 4) or self.ds.dtype.kind != 'c':
                raise InputError('%s: kspace is %s %s; expected complex (slices, H, W) or '
                                 '(slices, coils, H, W)' % (path, self.ds.dtype, self.ds.shape))
            self.multicoil = nd == 4
            self.is_complex = not self.multicoil
            if self.multicoil:
                self.describe = ('fastMRI multi-coil k-space (%d coils): labels are the '
                                 'root-sum-of-squares MAGNITUDE (real, no phase)' % self.ds.shape[1])
            else:
                self.describe = ('fastMRI single-coil k-space: complex images (ifftshift, ifft2 '
                                 'ortho, fftshift), centre-cropped')
        else:
            if nd != 3:
                raise InputError('%s: %s has shape %s; expected (slices, H, W)'
                                 % (path, target, self.ds.shape))
            self.multicoil = False
            self.describe = 'fastMRI %s: magnitude images (real)' % target
        self.n = self.ds.shape[0]
        self.skipped = 0

    def slices(self):
        for s in range(self.n):
            try:
                x = self.ds[s]
            except Exception as e:
                raise InputError('%s: cannot read %s slice %d (%s)' % (self.path, self.target, s, first_line(e)))
            if self.target == 'kspace':
                x = fastmri_image(x)
                if self.multicoil:
                    x = rss(x, axis=0)
            if not np.all(np.isfinite(x)):
                raise InputError('%s: slice %d contains NaN or Inf' % (self.path, s))
            if not np.any(x):
                self.skipped += 1
                continue
            yield (s,), x

    def close(self):
        self.f.close()


class DicomReader(Reader):
    """A series: .dcm files sorted by InstanceNumber (then file name), one magnitude slice per
    file or per frame, RescaleSlope/Intercept applied. A file that is not an image or cannot be
    read is left out and listed in `problems`; the rest of the series is kept."""

    def __init__(self, unit):
        import pydicom
        self.pydicom = pydicom
        self.unit = unit
        self.problems = []
        entries = []
        for p in unit.paths:
            try:
                ds = pydicom.dcmread(p, stop_before_pixels=True)
            except Exception as e:
                self.problems.append((p, 'not a readable DICOM file (%s)' % first_line(e)))
                continue
            if 'Rows' not in ds or 'Columns' not in ds or 'BitsAllocated' not in ds:
                self.problems.append((p, 'not an image (SOP class %s, no pixel data)'
                                      % ds.get('SOPClassUID', 'unknown')))
                continue
            inst = ds.get('InstanceNumber', None)
            entries.append((int(inst) if inst not in (None, '') else 0, p))
        if not entries:
            raise InputError('%s: no readable DICOM image in the series (%s)' % (
                unit.path, '; '.join('%s: %s' % (os.path.basename(p), m) for p, m in self.problems)))
        self.entries = sorted(entries)
        self.n = len(entries)
        self.skipped = 0
        self.describe = 'DICOM series of %d image files, magnitude, in instance order' % self.n

    def slices(self):
        for inst, p in self.entries:
            try:
                ds = self.pydicom.dcmread(p)
                x = np.asarray(ds.pixel_array, dtype=np.float64)
            except Exception as e:
                self.problems.append((p, 'cannot read pixel data (%s)' % first_line(e)))
                continue
            x = x * float(ds.get('RescaleSlope', 1) or 1) + float(ds.get('RescaleIntercept', 0) or 0)
            frames = x if int(ds.get('NumberOfFrames', 1) or 1) > 1 else x[None]
            for j, fr in enumerate(frames):
                try:
                    fr = np.abs(to_gray(fr, p))
                except InputError as e:
                    self.problems.append((p, str(e).split(': ', 1)[-1]))
                    break
                if not np.any(fr):
                    self.skipped += 1
                    continue
                yield ((inst, j) if len(frames) > 1 else (inst,)), fr


class ImageReader(Reader):
    """One PNG/JPG/TIFF/BMP file, 8 or 16 bit, grey or RGB -> one real slice."""

    def __init__(self, path):
        from skimage import io as skio
        try:
            with warnings.catch_warnings():
                # older imageio warns that it reads 16-bit PNGs as int32: values are unchanged
                warnings.filterwarnings('ignore', message='Loading 16-bit', category=UserWarning)
                self.img = to_gray(skio.imread(path), path)
        except InputError:
            raise
        except Exception as e:  # imageio/PIL/tifffile raise many types for a bad file
            raise InputError('%s: cannot read image (%s)' % (path, first_line(e)))
        self.n, self.skipped = 1, 0
        self.describe = 'image %dx%d' % self.img.shape

    def slices(self):
        if np.any(self.img):
            yield (0,), self.img
        else:
            self.skipped = 1


def open_unit(unit, target='kspace', key=None, axis=2, min_signal=0.0):
    """A Reader for one unit; InputError naming the file when it cannot be opened."""
    if unit.fmt == 'fastmri':
        return FastMRIReader(unit.paths[0], target)
    if unit.fmt == 'nifti':
        return NiftiReader(unit.paths[0], axis, min_signal)
    if unit.fmt == 'mat':
        return MatReader(unit.paths[0], key, axis, min_signal)
    if unit.fmt == 'dicom':
        return DicomReader(unit)
    if unit.fmt == 'image':
        return ImageReader(unit.paths[0])
    raise InputError('%s: unknown format %r' % (unit.path, unit.fmt))
