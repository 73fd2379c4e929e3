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
"""Real multi-coil k-space for the multi-coil layout (docs/data.md): fastMRI multi-coil HDF5
and CMRxRecon cine (MATLAB v7.3), read one slice at a time.

Both sources store k-space centred (origin in the middle); ours is uncentred and orthonormal,
with the phase-encoding (PE) lines along axis -2 and the readout along axis -1. to_ours()
converts: the coil images are formed with the centred inverse FFT, the readout is cropped in the
image domain (removing the 2x readout oversampling loses nothing: the data are fully
sampled), and the k-space of the crop is taken with our FFT. Along PE nothing is resampled:
each acquired line stays one line (its index moved to our layout, its sign alternating), so a
source's own masks (CMRxRecon's AccFactor folders) apply as they are. A PE extent other than
the file's is reached by zero lines added (or high-frequency lines dropped) symmetrically in
k-space, never by interpolation.

Layouts read (h5py shapes; MATLAB's are reversed):
  fastMRI multi-coil   `kspace` (slices, coils, readout, PE) complex64, centred; the
                       `ismrmrd_header` XML gives reconSpace (fastMRI's 320 x 320 crop).
  CMRxRecon 2023 cine  MultiCoil/Cine/*/FullSample/P*/cine_{sax,lax}.mat: `kspace_full`,
                       MATLAB (kx, ky, sc, sz, t) complex = h5py (t, sz, sc, ky, kx) compound
                       {real, imag}, centred; kx readout, ky PE (the central 24 ky lines
                       always sampled). AccFactor{04,08,10}/P*/cine_*_mask.mat: `mask04` ...,
                       MATLAB (kx, ky) = h5py (ky, kx), one mask for every coil, slice and frame.
"""
import os
import re

import h5py
import numpy as np

from models.errors import InputError, first_line

CMRX_KEY = 'kspace_full'


def centred_ifft2(k):
    """Centred k-space (..., H, W) -> image (..., H, W), orthonormal (fastMRI's ifft2c)."""
    axes = (-2, -1)
    return np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(k, axes=axes), axes=axes,
                                        norm='ortho'), axes=axes)


def _centre_slice(n, m):
    """The slice of the m central entries of n (fftshift's centre n // 2 kept central)."""
    start = n // 2 - m // 2
    return slice(start, start + m)


def fit_pe(k, pe):
    """Centred k-space (..., PE, RO) -> (..., pe, RO): zero lines added, or the outermost lines
    dropped, symmetrically about the centre line; pe None keeps it."""
    n = k.shape[-2]
    if pe is None or pe == n:
        return k
    if pe < n:
        return k[..., _centre_slice(n, pe), :]
    out = np.zeros(k.shape[:-2] + (pe, k.shape[-1]), k.dtype)
    out[..., _centre_slice(pe, n), :] = k
    return out


def to_ours(k, readout=None, pe=None):
    """Centred k-space (..., PE, RO) of a fully sampled acquisition -> our k-space (..., pe,
    readout) complex64, uncentred and orthonormal: PE fitted in k-space (fit_pe), the readout
    cropped to its `readout` central pixels in the image domain (None keeps it)."""
    img = centred_ifft2(fit_pe(k, pe))
    if readout is not None:
        if readout > img.shape[-1]:
            raise InputError('readout crop %d is larger than the %d readout points'
                             % (readout, img.shape[-1]))
        img = img[..., _centre_slice(img.shape[-1], readout)]
    return np.fft.fft2(img, norm='ortho').astype(np.complex64)


def mask_to_ours(mask, shape):
    """A centred (PE, RO) 0/1 mask of lines -> ours for `shape` (pe, readout): PE fitted as the
    k-space (added lines unsampled), the readout taken whole per line, ifftshift-ed."""
    mask = np.asarray(mask, dtype=np.float32)
    if not np.all((mask == 0) | (mask == 1)) or not mask.any():
        raise InputError('a mask must be 0/1 and sample something')
    lines = mask.max(axis=-1)
    if np.any(mask != lines[:, None]):
        raise InputError('the mask is not one of whole lines along the readout')
    n, pe = lines.shape[0], shape[0]
    if pe < n:
        lines = lines[_centre_slice(n, pe)]
    elif pe > n:
        full = np.zeros(pe, np.float32)
        full[_centre_slice(pe, n)] = lines
        lines = full
    return np.fft.ifftshift(np.repeat(lines[:, None], shape[1], axis=1), axes=(-2, -1))


def _h5(path):
    if not os.path.isfile(path):
        raise InputError('%s: no such file' % path)
    try:
        return h5py.File(path, 'r')
    except Exception as e:  # h5py raises OSError and others for a non-HDF5 / damaged file
        raise InputError('%s: not a readable HDF5 / MATLAB v7.3 file (%s)'
                         % (path, first_line(e)))


def _complex(x, path, key):
    """An h5py array -> complex64: native complex, or MATLAB's compound {real, imag}."""
    if x.dtype.names and set(x.dtype.names) >= {'real', 'imag'}:
        return (x['real'] + 1j * x['imag']).astype(np.complex64)
    if x.dtype.kind != 'c':
        raise InputError('%s: %s is %s; multi-coil k-space must be complex' % (path, key, x.dtype))
    return x.astype(np.complex64)


def recon_space(header):
    """(x, y) of the reconSpace matrixSize in a fastMRI ismrmrd_header (XML bytes or str), or
    None: the size fastMRI's metrics crop to (320 x 320 for the knee)."""
    if isinstance(header, bytes):
        header = header.decode('utf-8', 'replace')
    m = re.search(r'<reconSpace>.*?<matrixSize>\s*<x>(\d+)</x>\s*<y>(\d+)</y>', header or '',
                  re.S)
    return (int(m.group(1)), int(m.group(2))) if m else None


class FastMRIMultiCoil(object):
    """A fastMRI multi-coil file: slices() yields (index, k) with k (C, PE, RO) centred
    complex64, the PE axis moved to -2 (our lines); `recon_size` is reconSpace (x, y) or None."""

    def __init__(self, path):
        self.path = path
        self.f = _h5(path)
        if 'kspace' not in self.f or not isinstance(self.f['kspace'], h5py.Dataset):
            self.f.close()
            raise InputError('%s: no dataset \'kspace\' (found: %s)'
                             % (path, ', '.join(sorted(self.f.keys())) or 'none'))
        self.ds = self.f['kspace']
        if self.ds.ndim != 4:
            shape = self.ds.shape
            self.f.close()
            raise InputError('%s: kspace has shape %s; expected multi-coil (slices, coils, '
                             'readout, PE)' % (path, shape))
        self.coils = self.ds.shape[1]
        header = self.f['ismrmrd_header'][()] if 'ismrmrd_header' in self.f else None
        self.recon_size = recon_space(header) if header is not None else None

    def slices(self):
        for s in range(self.ds.shape[0]):
            k = _complex(np.asarray(self.ds[s]), self.path, 'kspace')
            yield s, np.swapaxes(k, -1, -2)

    def close(self):
        self.f.close()


class CMRxReconCine(object):
    """A CMRxRecon multi-coil cine file (cine_sax.mat / cine_lax.mat, MATLAB v7.3):
    slices() yields (z, k) with k (T, C, ky, kx) centred complex64 (ky the PE lines)."""

    def __init__(self, path, key=CMRX_KEY):
        self.path = path
        self.f = _h5(path)
        if key not in self.f or not isinstance(self.f[key], h5py.Dataset):
            found = ', '.join(sorted(self.f.keys())) or 'none'
            self.f.close()
            raise InputError('%s: no variable %r (found: %s); CMRxRecon FullSample files hold '
                             'kspace_full' % (path, key, found))
        self.key, self.ds = key, self.f[key]
        if self.ds.ndim != 5:
            shape = self.ds.shape
            self.f.close()
            raise InputError('%s: %s has h5py shape %s; expected MATLAB (kx, ky, sc, sz, t), '
                             'i.e. h5py (t, sz, sc, ky, kx)' % (path, key, shape))
        self.frames, self.n_slices, self.coils = self.ds.shape[:3]

    def slices(self):
        for z in range(self.n_slices):
            yield z, _complex(np.asarray(self.ds[:, z]), self.path, self.key)

    def close(self):
        self.f.close()


def read_cmrxrecon_mask(path, key=None):
    """A CMRxRecon mask file (cine_sax_mask.mat): `key` (default the only mask* variable),
    MATLAB (kx, ky) = h5py (ky, kx) -> centred (PE, RO) float32."""
    with _h5(path) as f:
        names = sorted(k for k in f.keys() if k.startswith('mask'))
        key = key or (names[0] if len(names) == 1 else None)
        if key is None or key not in f:
            raise InputError('%s: no mask variable %s(found: %s)'
                             % (path, '%r ' % key if key else '', ', '.join(sorted(f.keys()))
                                or 'none'))
        m = np.asarray(f[key][()])
    if m.ndim != 2:
        raise InputError('%s: %s has shape %s; expected MATLAB (kx, ky)' % (path, key, m.shape))
    return m.astype(np.float32)


def multicoil_items(name, slices, readout=None, pe=None, virtual=None, calib=24):
    """(index, centred k (..., C, PE, RO)) -> (name#index, kspace, coil_maps) for the
    multi-coil writer (h5writer.write_multicoil_dataset): to_ours, then optional SVD coil
    compression to `virtual` coils (one matrix per slice, frames included), then maps
    estimated once per slice with ESPIRiT from the central `calib` lines of the k-space
    averaged over the frames (a cine's coils do not move), shared by its frames."""
    from models.data import coils
    from models.masks import slice_name
    for idx, k in slices:
        k = to_ours(k, readout, pe)
        cine = k.ndim == 4
        kc = np.moveaxis(k, 1, 0) if cine else k  # coil axis first for compression
        if virtual:
            a = coils.compression_matrix(kc, virtual)
            kc = (a @ kc.reshape(kc.shape[0], -1)).reshape((virtual,) + kc.shape[1:])
        mean = kc.mean(axis=1) if cine else kc
        maps = coils.espirit_maps(mean, calib_width=calib)
        k = np.moveaxis(kc, 0, 1) if cine else kc
        maps = np.broadcast_to(maps, k.shape).astype(np.complex64)
        yield slice_name(name, idx), k.astype(np.complex64), maps


def _windows(items, frames):
    """Cut (name, k (T, C, H, W), maps) into windows of `frames` frames (no overlap; the last
    frames that do not fill one are left out), named <name>_t<start>."""
    for name, k, maps in items:
        if k.shape[0] < frames:
            raise InputError('%s has %d frames, fewer than --window %d'
                             % (name, k.shape[0], frames))
        for t0 in range(0, k.shape[0] - frames + 1, frames):
            yield '%s_t%03d' % (name, t0), k[t0:t0 + frames], maps[t0:t0 + frames]


def _write(readers, paths, shape, opts, source):
    """Split the readers by file (seeded), write each side with write_multicoil_dataset."""
    from models.data import h5writer
    order = np.random.default_rng(opts['seed']).permutation(len(readers))
    n_train = h5writer.split_count(len(readers), opts['split'])
    counts = []
    for path, sel in ((paths[0], order[:n_train]), (paths[1], order[n_train:])):
        if not len(sel):
            counts.append(0)
            continue
        def items(sel=sel):
            for i in sorted(sel):
                name, reader = readers[i]
                its = multicoil_items(name, reader.slices(), opts['readout'], shape[-2],
                                      opts['virtual'], opts['calib'])
                for it in (_windows(its, shape[0]) if len(shape) == 3 else its):
                    yield it
        coils = opts['virtual'] or readers[0][1].coils
        crop = recon_crop(readers[0][1], opts['readout'])
        counts.append(h5writer.write_multicoil_dataset(
            path, items(), shape, coils, opts['mask_type'], opts['acc'], opts['sample_n'],
            opts['seed'], source, opts.get('fixed_mask'),
            {'recon_size': np.array(crop, np.int64)} if crop else None))
    return counts


def recon_crop(reader, readout):
    """fastMRI: reconSpace (x readout, y PE) of the file as (H, W) in our layout (PE first),
    capped at the output's readout; None where the file has none."""
    size = getattr(reader, 'recon_size', None)
    if size is None:
        return None
    return (size[1], min(size[0], readout) if readout else size[0])


def find_files(kind, inputs):
    """make_h5data.py's inputs -> sorted [(name, path)]: files as given (named by their path),
    folders walked for fastMRI .h5 files or CMRxRecon cine_*.mat files (not the *_mask.mat
    ones), named by their path inside the folder (P001/cine_sax.mat)."""
    def wanted(fn):
        if kind == 'fastmri':
            return fn.endswith('.h5')
        return fn.startswith('cine_') and fn.endswith('.mat') and not fn.endswith('_mask.mat')
    found = []
    for inp in inputs:
        if os.path.isfile(inp):
            found.append((os.path.normpath(inp).replace(os.sep, '/'), inp))
        elif os.path.isdir(inp):
            for d, subdirs, files in os.walk(inp):
                subdirs.sort()
                found += [(os.path.relpath(os.path.join(d, fn), inp).replace(os.sep, '/'),
                           os.path.join(d, fn)) for fn in sorted(files) if wanted(fn)]
        else:
            raise InputError('%s: no such file or folder' % inp)
    if not found:
        raise InputError('%s: no %s files found' % (', '.join(inputs), 'fastMRI .h5' if
                                                    kind == 'fastmri' else 'cine_*.mat'))
    return sorted(found)


def write_multicoil(kind, files, output_dir, name, acc=4.0, sample_n=8, mask_type='cartesian',
                    seed=0, split=0.8, readout=None, pe=None, virtual=None, calib=24,
                    frames=None, mask_file=None, overwrite=False):
    """Convert fastMRI multi-coil files (kind 'fastmri') or CMRxRecon cine files ('cmrxrecon'),
    `files` [(name, path)] (find_files; the name seeds the masks), into a multi-coil
    train/test pair, split by file. The output size is the first file's:
    PE `pe` (default its PE extent), readout `readout` (fastMRI default: half, removing the
    2x oversampling; CMRxRecon: kept), and for cine `frames` (default its frame count; other
    files are cut into windows of that many frames). `mask_file` (CMRxRecon's
    cine_*_mask.mat) replaces the drawn masks with the challenge's. Returns (train, test)."""
    from models.data import h5writer
    if kind not in ('fastmri', 'cmrxrecon'):
        raise ValueError('kind must be fastmri or cmrxrecon, got %r' % kind)
    opener = FastMRIMultiCoil if kind == 'fastmri' else CMRxReconCine
    readers = []
    try:
        for unit, path in files:
            readers.append((unit, opener(path)))
        ds = readers[0][1].ds
        ro = ds.shape[-2] if kind == 'fastmri' else ds.shape[-1]
        pe = pe or (ds.shape[-1] if kind == 'fastmri' else ds.shape[-2])
        readout = readout or (ro // 2 if kind == 'fastmri' else None)
        size = (pe, readout or ro)
        shape = size if kind == 'fastmri' else (frames or ds.shape[0],) + size
        fixed = None
        if mask_file:
            fixed = mask_to_ours(read_cmrxrecon_mask(mask_file), size)
            acc = round(fixed.size / float(fixed.sum()), 1)
        train, test = h5writer.split_paths(output_dir, name, acc)
        h5writer.check_writable([train, test], overwrite)
        opts = {'seed': seed, 'split': split, 'readout': readout, 'virtual': virtual,
                'calib': calib, 'mask_type': mask_type, 'acc': acc, 'sample_n': sample_n,
                'fixed_mask': fixed}
        source = ('%s multi-coil k-space (%d files), %s' % (
            'fastMRI' if kind == 'fastmri' else 'CMRxRecon cine', len(files),
            'ESPIRiT maps' + (', %d virtual coils' % virtual if virtual else '')))
        _write(readers, (train, test), shape, opts, source)
    finally:
        for _, r in readers:
            r.close()
    return train, test
