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
"""Multi-coil acquisitions with no reference, read for inference (infer.py): our multi-coil
HDF5, fastMRI multi-coil test files and CMRxRecon undersampled cine files (AccFactor04/08/10).

Each reader yields, batch by batch (models.data.acquired.Acquisition.batches), the network's
four inputs in our convention (docs/data.md): the acquired k-space k (B[, T], C, H, W)
complex64, uncentred and orthonormal, unsampled points zero; the mask (B[, T], H, W); the coil
maps (B[, T], C, H, W) (the file's, or estimated with ESPIRiT, models.data.coils.espirit_maps,
from the fully sampled central lines: per item, a cine's from its k-space averaged over the
frames, shared by them); and the zero-filled coil combination sense_adjoint(k * mask, maps).

Formats:
  ours       `kspace` (N[, T], C, H, W) complex, acquired; `mask` (N[, T], H, W) or one
             ([T,] H, W); `coil_maps` of the k-space's shape (optional: ESPIRiT without it).
  fastMRI    multi-coil test/challenge files: `kspace` (S, C, H, W) complex64 CENTRED, readout
             along H, `mask` (W,); as the single-coil reader (readout cropped to the header's
             reconstruction size, transposed, submission layout back), coil by coil.
  CMRxRecon  MultiCoil/Cine/TestSet|ValidationSet/AccFactor04|08|10/P*/cine_sax.mat (or lax):
             `kspace_sub04` ... (MATLAB v7.3) MATLAB (kx, ky, sc, sz, t) = h5py (t, sz, sc, ky,
             kx), compound {real, imag}, centred, zero where not sampled; the mask file beside
             it, cine_sax_mask.mat, `mask04` ..., MATLAB (kx, ky) = h5py (ky, kx). ky are the
             PE lines (axis -2 here), kx is kept whole. A dynamic model gets one item per slice
             (T, H, W); a 2-D model one per frame (item z * T + t: slice z, frame t).
"""
import os
import re

import h5py
import numpy as np

from models.data import coils
from models.data.acquired import Acquisition, FastMRISingleCoil, _dataset, centre_crop
from models.data.multicoil_sources import (_complex, centred_ifft2, mask_to_ours,
                                              read_cmrxrecon_mask, to_ours)
from models.errors import InputError

CALIB = 24  # the widest ESPIRiT calibration region used (CMRxRecon's 24 central lines)
MIN_CALIB = 8  # ESPIRiT's 6 x 6 kernels need a few more lines than that


def calibration_lines(mask):
    """The number of contiguous sampled lines around the k-space centre of an uncentred mask
    (..., H, W) of whole lines along axis -2 (a line counts when every frame samples it)."""
    lines = np.asarray(mask).reshape((-1,) + mask.shape[-2:]).min(axis=0).max(axis=-1)
    lines = np.fft.fftshift(lines)
    c = len(lines) // 2
    if not lines[c]:
        return 0
    lo, hi = c, c
    while lo > 0 and lines[lo - 1]:
        lo -= 1
    while hi < len(lines) - 1 and lines[hi + 1]:
        hi += 1
    return hi - lo + 1


def estimate_maps(k, mask, where, calib=CALIB):
    """ESPIRiT maps of one item: k (..., C, H, W) acquired, mask (..., H, W) -> maps of k's
    shape (a cine's from the frame average, broadcast to its frames)."""
    width = min(calib, calibration_lines(mask), k.shape[-1])
    if width < MIN_CALIB:
        raise InputError('%s: only %d fully sampled central k-space lines; ESPIRiT coil maps '
                         'need at least %d (or give coil_maps)' % (where, width, MIN_CALIB))
    mean = k.reshape((-1,) + k.shape[-3:]).mean(axis=0)
    try:
        maps = coils.espirit_maps(mean, calib_width=width)
    except InputError as e:
        raise InputError('%s: %s' % (where, str(e).replace(' (--calib)', '')))
    return np.broadcast_to(maps, k.shape).astype(np.complex64)


class MultiCoil(Acquisition):
    """Base of the multi-coil readers: `_coil_items(start, stop)` -> (k acquired, mask, maps or
    None); `_read` adds the ESPIRiT maps where missing and the zero-filled coil combination."""
    coils = 0
    maps_source = 'ESPIRiT maps'

    def _read(self, start, stop):
        k, mask, maps = self._coil_items(start, stop)
        k = (k * np.expand_dims(mask, -3)).astype(np.complex64)
        if maps is None:
            maps = np.stack([estimate_maps(k[i], mask[i], '%s item %d' % (self.path, start + i))
                             for i in range(len(k))])
        maps = np.asarray(maps, np.complex64)
        if not np.all(np.isfinite(k)) or not np.all(np.isfinite(maps)):
            raise InputError('%s: items %d..%d contain NaN or Inf' % (self.path, start, stop - 1))
        return coils.sense_adjoint(k, maps), mask, k, maps


def _check_mask(mask, path):
    if not np.all((mask == 0) | (mask == 1)):
        raise InputError('%s: mask values must be 0 or 1' % path)
    return mask


class OursMultiCoil(MultiCoil):
    """Our multi-coil HDF5 layout without a reference (module docstring)."""

    def __init__(self, path, f):
        self.path, self.f = path, f
        self.kspace, self.maps, self.mask = (_dataset(f, k) for k in ('kspace', 'coil_maps',
                                                                       'mask'))
        shape = self.kspace.shape
        if len(shape) not in (4, 5) or 0 in shape or self.kspace.dtype.kind != 'c':
            raise InputError('%s: multi-coil kspace is %s %s; expected complex (N, C, H, W) or '
                             '(N, T, C, H, W)' % (path, self.kspace.dtype, shape))
        item = shape[1:-3] + shape[-2:]
        if self.mask is None:
            raise InputError('%s: no dataset mask beside kspace' % path)
        if self.mask.shape not in ((shape[0],) + item, item):
            raise InputError('%s: mask shape %s does not fit multi-coil kspace shape %s; '
                             'expected %s or %s' % (path, self.mask.shape, shape,
                                                    (shape[0],) + item, item))
        if self.maps is not None:
            if self.maps.shape != shape:
                raise InputError('%s: coil_maps shape %s differs from kspace shape %s'
                                 % (path, self.maps.shape, shape))
            self.maps_source = 'coil maps from the file'
        self.shared = (_check_mask(self.mask[()].astype(np.float32), path)
                       if self.mask.shape == item else None)
        self.n, self.shape, self.coils = shape[0], tuple(item), shape[-3]
        self.out_shape = self.shape
        self.is_dynamic = len(shape) == 5
        self.describe = 'multi-coil acquired k-space %s (%d coils%s), %s, mask %s' % (
            'x'.join(map(str, shape)), self.coils, ', dynamic' if self.is_dynamic else '',
            self.maps_source, 'shared' if self.shared is not None else 'per item')

    def _coil_items(self, start, stop):
        mask = (np.broadcast_to(self.shared, (stop - start,) + self.shape)
                if self.shared is not None else
                _check_mask(np.asarray(self.mask[start:stop], np.float32), self.path))
        maps = self.maps[start:stop] if self.maps is not None else None
        return self.kspace[start:stop], np.asarray(mask, np.float32), maps


class FastMRIMultiCoilTest(MultiCoil, FastMRISingleCoil):
    """fastMRI multi-coil test/challenge files: masked centred `kspace` (S, C, H, W), `mask`
    (W,); geometry as FastMRISingleCoil's, maps by ESPIRiT."""

    def __init__(self, path, f):
        FastMRISingleCoil.__init__(self, path, f)
        s, c, h, w = self.kspace.shape
        self.coils = c
        self.describe = self.describe.replace(
            'fastMRI single-coil k-space %dx' % s,
            'fastMRI multi-coil k-space %dx%dx' % (s, c)) + ', ESPIRiT maps'

    def _coil_items(self, start, stop):
        k = self.kspace[start:stop] * self.mask_file
        img = centre_crop(centred_ifft2(k), self.rows, axis=-2)
        k = np.fft.fft2(np.swapaxes(img, -2, -1), norm='ortho')
        return k, np.broadcast_to(self.mask, (stop - start,) + self.shape), None


CMRX_SUB = re.compile(r'^kspace_sub(\d+)$')


def cmrx_mask_path(path):
    """The mask file of a CMRxRecon k-space file: cine_sax.mat -> cine_sax_mask.mat beside it."""
    stem, ext = os.path.splitext(path)
    return stem + '_mask' + ext


class CMRxReconUndersampled(MultiCoil):
    """A CMRxRecon undersampled cine file and its mask file (module docstring); `frames`:
    one item per frame (for a 2-D model) instead of one per slice."""
    scale_default = 'zf_max'

    def __init__(self, path, f, frames=False):
        self.path, self.f = path, f
        keys = sorted(k for k in f.keys() if CMRX_SUB.match(k))
        if len(keys) != 1 or not isinstance(f[keys[0]], h5py.Dataset):
            raise InputError('%s: expected one variable kspace_sub04 / kspace_sub08 / '
                             'kspace_sub10 (CMRxRecon AccFactor files), found %s'
                             % (path, ', '.join(sorted(f.keys())) or 'nothing'))
        self.key = keys[0]
        self.ds = f[self.key]
        if self.ds.ndim != 5:
            raise InputError('%s: %s has h5py shape %s; expected MATLAB (kx, ky, sc, sz, t), '
                             'i.e. h5py (t, sz, sc, ky, kx)' % (path, self.key, self.ds.shape))
        t, sz, c, ky, kx = self.ds.shape
        mask_path = cmrx_mask_path(path)
        mask_key = 'mask' + CMRX_SUB.match(self.key).group(1)
        if not os.path.isfile(mask_path):
            raise InputError('%s: no mask file %s (with %s) beside it'
                             % (path, os.path.basename(mask_path), mask_key))
        mask = read_cmrxrecon_mask(mask_path, mask_key)
        if mask.shape != (ky, kx):
            raise InputError('%s: %s in %s has h5py shape %s; the k-space\'s (ky, kx) is %s'
                             % (path, mask_key, mask_path, mask.shape, (ky, kx)))
        try:
            self.mask = mask_to_ours(mask, (ky, kx))
        except InputError as e:
            raise InputError('%s: %s: %s' % (mask_path, mask_key, e))
        self.frames, self.n_slices, self.coils = t, sz, c
        self.is_dynamic = not frames
        self.n = sz * t if frames else sz
        self.shape = (ky, kx) if frames else (t, ky, kx)
        self.out_shape = self.shape
        self._cached = (None, None, None)
        # the files of every patient are named alike: the output is named <P*>_cine_sax.h5
        self.out_name = '%s_%s.h5' % (os.path.basename(os.path.dirname(os.path.abspath(path))),
                                      os.path.splitext(os.path.basename(path))[0])
        self.describe = ('CMRxRecon cine %s %dx%dx%dx%dx%d (t, slices, coils, ky, kx), %d of %d '
                         'lines sampled, ESPIRiT maps, %s' % (
                             self.key, t, sz, c, ky, kx, int(mask.max(axis=1).sum()), ky,
                             'one item per frame' if frames else 'one item per slice'))

    def _slice(self, z):
        """Slice z's acquired k-space (T, C, ky, kx) in our layout and its ESPIRiT maps
        (C, ky, kx), kept while its frames are read."""
        if self._cached[0] != z:
            k = to_ours(_complex(np.asarray(self.ds[:, z]), self.path, self.key))
            k = k * self.mask
            m = estimate_maps(k, np.broadcast_to(self.mask, (len(k),) + self.mask.shape),
                              '%s slice %d' % (self.path, z))[0]
            self._cached = (z, k, m)
        return self._cached[1:]

    def _coil_items(self, start, stop):
        ks = []
        for i in range(start, stop):
            z, t = divmod(i, self.frames) if not self.is_dynamic else (i, None)
            k, m = self._slice(z)
            ks.append((k if t is None else k[t], m))
        mask = np.broadcast_to(self.mask, (stop - start,) + self.shape)
        return (np.stack([k for k, _ in ks]), mask,
                np.stack([np.broadcast_to(m, k.shape) for k, m in ks]))


def open_multicoil(path, f, frames=False):
    """The multi-coil reader of an open file (models.data.acquired.open_acquired)."""
    if os.path.splitext(path)[1].lower() == '.mat':
        return CMRxReconUndersampled(path, f, frames)
    if _dataset(f, 'ismrmrd_header') is not None or (
            _dataset(f, 'mask') is not None and f['mask'].ndim == 1):
        return FastMRIMultiCoilTest(path, f)
    return OursMultiCoil(path, f)
