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
"""Undersampled acquisitions with no reference, read for inference (infer.py), slice batch by
slice batch: nothing is held beyond the batch in flight.

Every reader turns its file into the network's convention (docs/data.md): zero-filled images
(B, H, W) complex64 (dynamic: (B, T, H, W)) with phase-encoding lines along axis -2, and
uncentred 0/1 masks (B, H, W) float32, k-space = the orthonormal fft2 of the image. It turns
the reconstruction back into the file's own geometry (`to_file`).

Formats:
  ours      our HDF5 without `label`: `kspace` (N, H, W) complex, uncentred, orthonormal,
            what was acquired (unsampled points are ignored), or `feature` (N, H, W) complex
            or real, the zero-filled image; `mask` (N, H, W) or one (H, W), 0/1, uncentred.
            Dynamic data adds T after N (a shared mask is then (T, H, W)).
  fastMRI   single-coil `kspace` (S, H, W) complex64, CENTRED (origin in the middle), readout
            along H (oversampled, 640 for the knee data), phase encoding along W, and `mask`
            (W,), the sampled columns (the test and challenge files). The image of a slice is
            fftshift(ifft2(ifftshift(kspace * mask))) (orthonormal, as models.data.formats);
            its readout is centre-cropped to the reconstruction size of `ismrmrd_header`
            (320 when the file does not say), and it is transposed so that the phase-encoding
            lines lie along axis -2 as in our data; the mask becomes ifftshift(mask) along that
            axis. `to_file` transposes back and centre-crops to the reconstruction size: the
            fastMRI submission's (slices, 320, 320) magnitude.
Multi-coil data (our multi-coil HDF5, fastMRI multi-coil test files, CMRxRecon undersampled
cine .mat files) has its readers in models/data/acquired_coils.py, chosen in `open_acquired`.
"""
import xml.etree.ElementTree as ElementTree

import h5py
import numpy as np

from models.errors import InputError, first_line

FASTMRI_CROP = (320, 320)  # the fastMRI reconstruction size when the header does not give it
H5_ERRORS = (OSError, IOError, RuntimeError, KeyError, ValueError, TypeError)


def centre_crop(x, size, axis):
    """x cropped to `size` along `axis` around its centre (fastMRI's center_crop rule:
    start (n - size) // 2); unchanged where it is not larger."""
    n = x.shape[axis]
    if n <= size:
        return x
    start = (n - size) // 2
    return np.take(x, np.arange(start, start + size), axis=axis)


class Acquisition(object):
    """Base of the readers. `path`, `describe` (one line), `n` items, `shape` of one item in
    the network's convention ((H, W), dynamic (T, H, W)), `is_dynamic`, `scale_default`
    ('stored' or 'zf_max': models/infer.py), `spacing` (mm per pixel along the file's
    (rows, columns, slices)), `out_shape` (one item as `to_file` returns it)."""
    spacing = (1.0, 1.0, 1.0)
    scale_default = 'stored'
    coils = 0  # C of multi-coil data (models/data/acquired_coils.py)

    def batches(self, size):
        """Yield (first index, zero-filled (B, ...) complex64, mask (B, ...) float32, coil
        data): coil data None, or for multi-coil data (acquired k-space, coil maps)
        (B, ..., C, H, W) complex64, the zero-filled image their coil combination."""
        for start in range(0, self.n, size):
            stop = min(self.n, start + size)
            try:
                got = self._read(start, stop)
            except H5_ERRORS as e:
                raise InputError('%s: cannot read items %d..%d (%s)'
                                 % (self.path, start, stop - 1, first_line(e)))
            zf, mask = got[:2]
            if not np.all(np.isfinite(zf)):
                raise InputError('%s: items %d..%d contain NaN or Inf' % (self.path, start,
                                                                          stop - 1))
            yield (start, zf.astype(np.complex64), mask.astype(np.float32),
                   tuple(got[2:]) or None)

    def to_file(self, x):
        """Images (B, ...) complex in the network's convention -> the file's geometry."""
        return x

    def close(self):
        self.f.close()


def _dataset(f, key):
    return f[key] if key in f and isinstance(f[key], h5py.Dataset) else None


class OursUndersampled(Acquisition):
    """Our HDF5 layout without a reference (module docstring)."""

    def __init__(self, path, f):
        self.path, self.f = path, f
        self.source = _dataset(f, 'kspace')
        self.key = 'kspace'
        if self.source is None:
            self.source, self.key = _dataset(f, 'feature'), 'feature'
        mask = _dataset(f, 'mask')
        if self.source is None:
            raise InputError('%s: neither k-space nor image: expected dataset kspace or feature '
                             '(and mask); found %s' % (path, ', '.join(sorted(f.keys())) or
                                                      'nothing'))
        if mask is None:
            raise InputError('%s: no dataset mask beside %s' % (path, self.key))
        shape = self.source.shape
        if len(shape) not in (3, 4) or 0 in shape:
            raise InputError('%s: %s has shape %s; expected (N, H, W) or (N, T, H, W)'
                             % (path, self.key, shape))
        if mask.shape not in (shape, shape[1:]):
            raise InputError('%s: mask shape %s differs from %s shape %s; expected %s or %s'
                             % (path, mask.shape, self.key, shape, shape, shape[1:]))
        if self.source.dtype.kind not in ('c' if self.key == 'kspace' else 'cf'):
            raise InputError('%s: %s is %s; expected %s' % (
                path, self.key, self.source.dtype,
                'complex' if self.key == 'kspace' else 'complex or float'))
        self.mask = mask
        self.shared = mask[()].astype(np.float32) if mask.shape == shape[1:] else None
        self.n, self.shape = shape[0], tuple(shape[1:])
        self.out_shape = self.shape
        self.is_dynamic = len(shape) == 4
        self.describe = '%s %s%s, mask %s' % (
            'acquired k-space' if self.key == 'kspace' else 'zero-filled images',
            'x'.join(map(str, shape)), ' (dynamic)' if self.is_dynamic else '',
            'shared' if self.shared is not None else 'per item')

    def _read(self, start, stop):
        mask = (np.broadcast_to(self.shared, (stop - start,) + self.shape)
                if self.shared is not None else self.mask[start:stop])
        mask = np.asarray(mask, dtype=np.float32)
        if not np.all((mask == 0) | (mask == 1)):
            raise InputError('%s: mask values must be 0 or 1' % self.path)
        x = self.source[start:stop]
        if self.key == 'feature':
            return x, mask
        return np.fft.ifft2(x * mask, norm='ortho'), mask


def _recon_size(f):
    """(rows, columns) and mm per pixel (rows, columns, slice) of the reconstruction from a
    fastMRI file's ismrmrd_header; FASTMRI_CROP and 1 mm when it has none. As in fastMRI's
    own reader, the header's x is the k-space's H (readout, rows) and y its W (columns)."""
    header = _dataset(f, 'ismrmrd_header')
    if header is None:
        return FASTMRI_CROP, (1.0, 1.0, 1.0)
    try:
        root = ElementTree.fromstring(header[()])
        ns = {'m': root.tag.split('}')[0].strip('{')} if root.tag.startswith('{') else {}
        pre = 'm:' if ns else ''
        space = root.find('%sencoding/%sreconSpace' % (pre, pre), ns)
        size = [int(space.find('%smatrixSize/%s%s' % (pre, pre, k), ns).text) for k in 'xy']
        fov = [float(space.find('%sfieldOfView_mm/%s%s' % (pre, pre, k), ns).text)
               for k in 'xyz']
    except (ElementTree.ParseError, AttributeError, ValueError, TypeError):
        return FASTMRI_CROP, (1.0, 1.0, 1.0)
    return (size[0], size[1]), (fov[0] / size[0], fov[1] / size[1], fov[2])


class FastMRISingleCoil(Acquisition):
    """fastMRI single-coil test/challenge files: masked centred `kspace` (S, H, W) and `mask`
    (W,) (module docstring)."""
    scale_default = 'zf_max'

    def __init__(self, path, f):
        self.path, self.f = path, f
        self.kspace = f['kspace']
        s, h, w = (self.kspace.shape[i] for i in (0, -2, -1))
        mask = np.asarray(f['mask'][()]).astype(np.float32).ravel()
        if f['mask'].ndim != 1 or mask.size != w:
            raise InputError('%s: mask shape %s differs from kspace shape %s; expected (%d,), '
                             'the sampled phase-encoding columns' % (path, f['mask'].shape,
                                                                     self.kspace.shape, w))
        if not np.all((mask == 0) | (mask == 1)) or not mask.any():
            raise InputError('%s: mask values must be 0 or 1 and sample something' % path)
        self.mask_file = mask
        self.crop, self.spacing = _recon_size(f)
        self.rows = min(h, self.crop[0])
        self.n, self.shape = s, (w, self.rows)
        self.out_shape = (self.rows, min(w, self.crop[1]))
        self.is_dynamic = False
        self.mask = np.broadcast_to(np.fft.ifftshift(mask)[:, None], self.shape)
        self.describe = ('fastMRI single-coil k-space %dx%dx%d, %d of %d columns sampled, '
                         'readout cropped to %d, reconstruction %dx%d'
                         % ((s, h, w, int(mask.sum()), w, self.rows) + self.out_shape))

    def _read(self, start, stop):
        k = self.kspace[start:stop] * self.mask_file
        axes = (-2, -1)
        img = np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(k, axes=axes), axes=axes,
                                           norm='ortho'), axes=axes)
        img = centre_crop(img, self.rows, axis=1)
        return (np.ascontiguousarray(np.swapaxes(img, 1, 2)),
                np.broadcast_to(self.mask, (stop - start,) + self.shape))

    def to_file(self, x):
        return centre_crop(np.swapaxes(x, -2, -1), self.crop[1], axis=-1)


def is_multicoil(path, f):
    """Whether an open file holds multi-coil data: a CMRxRecon .mat file; fastMRI k-space
    (S, C, H, W); ours with coil_maps, or with a mask that drops kspace's coil axis -3."""
    if path.lower().endswith('.mat'):
        return True
    kspace, mask = _dataset(f, 'kspace'), _dataset(f, 'mask')
    if kspace is None:
        return False
    if _dataset(f, 'ismrmrd_header') is not None or (mask is not None and mask.ndim == 1):
        return kspace.ndim == 4
    if _dataset(f, 'coil_maps') is not None:
        return True
    shape = kspace.shape
    return (mask is not None and kspace.ndim in (4, 5) and mask.shape not in (shape, shape[1:])
            and mask.shape in (shape[:-3] + shape[-2:], shape[1:-3] + shape[-2:]))


def open_acquired(path, frames=False):
    """The reader of one HDF5 (or CMRxRecon .mat) file; InputError naming the file when it is
    none of the formats. `frames`: a cine of the CMRxRecon reader read frame by frame (for a
    2-D model)."""
    try:
        f = h5py.File(path, 'r')
    except H5_ERRORS as e:
        raise InputError('%s: not a readable HDF5 file (%s)' % (path, first_line(e)))
    try:
        if is_multicoil(path, f):
            from models.data import acquired_coils
            return acquired_coils.open_multicoil(path, f, frames)
        kspace, mask = _dataset(f, 'kspace'), _dataset(f, 'mask')
        fastmri = kspace is not None and (_dataset(f, 'ismrmrd_header') is not None or
                                          (mask is not None and mask.ndim == 1))
        if fastmri:
            if kspace.ndim != 3 or kspace.dtype.kind != 'c':
                raise InputError('%s: kspace is %s %s; expected complex (slices, H, W)'
                                 % (path, kspace.dtype, kspace.shape))
            if mask is None:
                raise InputError('%s: no dataset mask beside kspace (a fully sampled fastMRI '
                                 'file? it needs a mask of the sampled columns)' % path)
            return FastMRISingleCoil(path, f)
        return OursUndersampled(path, f)
    except InputError:
        f.close()
        raise
    except H5_ERRORS as e:
        f.close()
        raise InputError('%s: damaged HDF5 file (%s)' % (path, first_line(e)))
