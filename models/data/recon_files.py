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
"""Writing reconstructions item by item (bounded memory), for infer.py:

  h5     reconstructions/<input file name>: `reconstruction` (N, H, W) float32 magnitude, the
         fastMRI submission layout (dynamic: (N, T, H, W)), and `zero_filled` beside it
         (multi-coil data: both coil combinations, and `zero_filled_rss`, the root sum of
         squares of the zero-filled coil images);
  nifti  nifti/<stem>.nii and nifti/<stem>_zero_filled.nii, float32, uncompressed (each image
         written in place as it comes), array (W, H, N) (dynamic (W, H, N, T)) with voxel
         [i, j, k] = image k at row H-1-j, column i, so viewers show it upright as the PNGs;
         the affine is diagonal with the file's pixel spacing (1 mm where the file does not
         give one);
  png    png/<stem>_<item>.png: zero-filled | reconstruction side by side (a dynamic item's
         middle frame), both on the reconstruction's grey scale.

Each file is written as <path>.partial and renamed when complete: an interrupted run leaves no
file that looks finished. An existing output is replaced only with `overwrite`.
"""
import os

import h5py
import numpy as np

from models.errors import InputError

NIFTI_OFFSET = 352  # a NIfTI-1 header (348 bytes) and its empty extension flag (4)


class _H5(object):
    def __init__(self, tmp, n, shape, rss=False):
        self.f = h5py.File(tmp, 'w')
        self.ds = [self.f.create_dataset(k, (n,) + shape, dtype=np.float32,
                                         chunks=(1,) + shape)
                   for k in ('zero_filled', 'reconstruction') + (('zero_filled_rss',)
                                                                 if rss else ())]

    def write(self, start, zf, rec, rss=None):
        for ds, x in zip(self.ds, (zf, rec, rss)):
            ds[start:start + len(x)] = x

    def close(self):
        self.f.close()


def nifti_header(shape, spacing):
    """A NIfTI-1 header for float32 data of `shape` (i, j, k[, t]) with millimetre spacing
    (i, j, k) on the diagonal of the qform and sform."""
    import nibabel as nib
    hdr = nib.Nifti1Header()
    hdr.set_data_shape(shape)
    hdr.set_data_dtype(np.float32)
    affine = np.diag([spacing[0], spacing[1], spacing[2], 1.0])
    hdr.set_qform(affine, code=1)
    hdr.set_sform(affine, code=1)
    hdr.set_xyzt_units('mm', 'sec')
    hdr['vox_offset'] = NIFTI_OFFSET
    return hdr


class _Nifti(object):
    """Frames are written where they belong with seek + write: each 2-D image is one contiguous
    block of the (Fortran-ordered) NIfTI array, so nothing but the batch is held in memory (a
    memory map would keep the touched pages in the process's resident memory)."""

    def __init__(self, tmps, n, shape, spacing):
        rows, cols = shape[-2:]
        self.n = n
        self.dims = (cols, rows, n) + ((shape[0],) if len(shape) == 3 else ())
        hdr = nifti_header(self.dims, (spacing[1], spacing[0], spacing[2]))
        nbytes = int(np.prod(self.dims)) * 4
        self.files = []
        for tmp in tmps:
            f = open(tmp, 'wb')
            self.files.append(f)
            f.write(hdr.binaryblock)
            f.write(b'\0' * (NIFTI_OFFSET - len(hdr.binaryblock)))
            f.truncate(NIFTI_OFFSET + nbytes)

    def write(self, start, zf, rec):
        frame_bytes = self.dims[0] * self.dims[1] * 4
        for f, x in zip(self.files, (rec, zf)):
            for j, item in enumerate(x):
                frames = item if item.ndim == 3 else item[None]
                for t, img in enumerate(frames):
                    # image (H, W) -> (W, H) Fortran order, rows flipped; frame t of item n at
                    # block t * N + n
                    f.seek(NIFTI_OFFSET + (t * self.n + start + j) * frame_bytes)
                    f.write(np.asarray(img[::-1, :], dtype='<f4').tobytes())

    def close(self):
        for f in self.files:
            f.close()
        self.files = []


class _Png(object):
    def __init__(self, tmps):
        self.tmps = tmps

    def write(self, start, zf, rec):
        from matplotlib import image
        for j in range(len(rec)):
            z, r = zf[j], rec[j]
            if r.ndim == 3:
                z, r = z[len(z) // 2], r[len(r) // 2]
            top = r.max() or 1.0
            with open(self.tmps[start + j], 'wb') as f:
                image.imsave(f, np.concatenate([z, r], axis=1) / top, cmap='gray', vmin=0,
                             vmax=1, format='png')

    def close(self):
        pass


class Writers(object):
    """The outputs of one input file: `outputs` {format: [paths]} (models.infer.output_paths),
    `acq` the reader (n, out_shape, spacing). A context manager: the files take their names
    on a clean exit and are removed on an error."""

    def __init__(self, outputs, acq, overwrite):
        self.paths = [p for ps in outputs.values() for p in ps]
        existing = [p for p in self.paths if os.path.exists(p)]
        if existing and not overwrite:
            raise InputError('%s: output %s exists; pass --overwrite to replace it'
                             % (acq.path, existing[0]))
        for p in self.paths:
            d = os.path.dirname(p)
            if d and not os.path.isdir(d):
                os.makedirs(d)
        tmp = dict((k, [p + '.partial' for p in ps]) for k, ps in outputs.items())
        self.parts = []
        shape = tuple(acq.out_shape)
        try:
            if 'h5' in tmp:
                self.parts.append(_H5(tmp['h5'][0], acq.n, shape, bool(acq.coils)))
            if 'nifti' in tmp:
                self.parts.append(_Nifti(tmp['nifti'], acq.n, shape, acq.spacing))
            if 'png' in tmp:
                self.parts.append(_Png(tmp['png']))
        except Exception as e:
            self.__exit__(type(e), e, None)
            raise

    def write(self, start, zf, rec, rss=None):
        """zero-filled and reconstruction magnitudes (B, ...) of items start..start+B-1 (and
        for multi-coil data the zero-filled coils' RSS, kept in the HDF5 output only)."""
        for part in self.parts:
            if isinstance(part, _H5):
                part.write(start, zf, rec, rss)
            else:
                part.write(start, zf, rec)

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        for part in self.parts:
            part.close()
        for p in self.paths:
            if kind is None:
                os.replace(p + '.partial', p)
            elif os.path.exists(p + '.partial'):
                os.remove(p + '.partial')
        return False
