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
"""Writing training HDF5 files in our layout (or the Ascend port's), one image at a time
(bounded memory).

A file is written to `<path>.partial` and renamed when complete, so an interrupted conversion
never leaves a file that looks finished, and an existing file is never replaced unless asked.

Layouts (docs/data.md):
  'ours'  label complex64 or float32 scaled to max |x| = 1, mask float32 0/1 per image,
          scale (N,), name (N,), file attributes saying how the masks were made;
  'port'  the port's make_h5data.py files: `label` (N, H, W) uint8 0-255 grayscale (|x| scaled
          so that each image's max is 255, rounded; phase is dropped), `mask` (N, H, W) float64,
          one per image, and no other dataset, so the port's own train.py / test.py read them.
Multi-coil files (layout 'ours', `coils` C): also `kspace` (N[, T], C, H, W) complex64, the
fully sampled k-space of every coil (uncentred, orthonormal, divided by the label's scale), and
`coil_maps` of the same shape; `label` is their coil combination sum_c conj(S_c) ifft2(k_c),
`rss` (N[, T], H, W) float32 the root sum of squares of the coil images (on the label's scale,
the reference fastMRI's metrics use), and the attribute `coils` is C.
"""
import os

import h5py
import numpy as np

from models import masks as masks_mod
from models.data import coils as coils_mod
from models.errors import InputError, first_line


def check_writable(paths, overwrite):
    """Refuse to replace existing outputs unless `overwrite`."""
    existing = [p for p in paths if os.path.exists(p)]
    if existing and not overwrite:
        raise InputError('%s already exists; pass --overwrite to replace it' % existing[0])


LAYOUTS = ('ours', 'port')


def to_uint8(label):
    """An image scaled to max |x| = 1 -> its magnitude as uint8 0-255 (rounded), the port's
    grayscale labels."""
    return np.clip(np.round(np.abs(label) * 255.0), 0, 255).astype(np.uint8)


class H5Writer(object):
    """Append (label, mask, scale) triples to a new HDF5 file.

    label: (H, W) or (T, H, W) complex or real, scaled to max |x| = 1; stored complex64 when
    `complex_data`, else float32 (layout 'port': uint8, see to_uint8). mask: same shape, 0/1,
    uncentred (float32; 'port': float64). scale: the factor the label was divided by (not
    stored in the 'port' layout, nor are the names). volume: any hashable naming the volume
    (source file) an image belongs to; the file's `volume` dataset (N,) int32 numbers them
    0, 1, ... in order of appearance (None: the image is a volume of its own). fastMRI's
    evaluation rule is per volume (models/evaluate.py). The attribute `acc_achieved` is the
    acceleration the written masks give together (points / sampled points).
    """

    def __init__(self, path, shape, complex_data, attrs=None, layout='ours', coils=0):
        if layout not in LAYOUTS:
            raise ValueError('layout must be one of %s, got %r' % (LAYOUTS, layout))
        if coils and layout != 'ours':
            raise InputError('multi-coil data is written in our layout only, not --layout %s'
                             % layout)
        self.path = path
        self.tmp = path + '.partial'
        self.layout = layout
        d = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(d):
            os.makedirs(d)
        self.f = h5py.File(self.tmp, 'w')
        chunk = (1,) + tuple(shape)
        if layout == 'port':
            dtype, mask_dtype = np.uint8, np.float64
        else:
            dtype, mask_dtype = (np.complex64 if complex_data else np.float32), np.float32
        self.label = self.f.create_dataset('label', (0,) + tuple(shape), dtype=dtype,
                                           maxshape=(None,) + tuple(shape), chunks=chunk)
        self.mask = self.f.create_dataset('mask', (0,) + tuple(shape), dtype=mask_dtype,
                                          maxshape=(None,) + tuple(shape), chunks=chunk)
        self.datasets = [self.label, self.mask]
        if layout == 'ours':
            self.scale = self.f.create_dataset('scale', (0,), dtype=np.float32,
                                               maxshape=(None,))
            self.datasets.append(self.scale)
        self.coils = int(coils)
        if self.coils:
            cshape = tuple(shape[:-2]) + (self.coils,) + tuple(shape[-2:])
            for key in ('kspace', 'coil_maps'):
                ds = self.f.create_dataset(key, (0,) + cshape, dtype=np.complex64,
                                           maxshape=(None,) + cshape, chunks=(1,) + cshape)
                setattr(self, key, ds)
                self.datasets.append(ds)
            self.rss = self.f.create_dataset('rss', (0,) + tuple(shape), dtype=np.float32,
                                             maxshape=(None,) + tuple(shape), chunks=chunk)
            self.datasets.append(self.rss)
            self.f.attrs['coils'] = self.coils
        self.names = []
        self.volumes, self.volume_ids = [], {}
        self.sampled = []  # (points, sampled points) of each image's mask
        for k, v in (attrs or {}).items():
            self.f.attrs[k] = v
        self.n = 0
        self.complex_data = complex_data

    def append(self, label, mask, scale=1.0, name='', volume=None, kspace=None,
               coil_maps=None):
        """One image; a multi-coil file needs its kspace and coil_maps (C, H, W)."""
        if self.coils and (kspace is None or coil_maps is None):
            raise ValueError('a multi-coil file needs kspace and coil_maps for every image')
        i = self.n
        key = ('image', i) if volume is None else volume
        self.volumes.append(self.volume_ids.setdefault(key, len(self.volume_ids)))
        self.sampled.append((int(np.size(mask)), int(np.count_nonzero(mask))))
        for ds in self.datasets:
            ds.resize(i + 1, axis=0)
        if self.layout == 'port':
            self.label[i] = to_uint8(label)
        else:
            self.label[i] = label if self.complex_data else np.real(label)
            self.scale[i] = scale
        if self.coils:
            self.kspace[i] = kspace
            self.coil_maps[i] = coil_maps
            self.rss[i] = coils_mod.rss(np.fft.ifft2(kspace, norm='ortho'))
        self.mask[i] = mask
        self.names.append(str(name))
        self.n += 1

    def truncate(self, n):
        """Drop every image from index `n` on (undo a source file that failed half-way)."""
        for ds in self.datasets:
            ds.resize(n, axis=0)
        del self.names[n:]
        del self.volumes[n:]
        self.volume_ids = dict((k, v) for k, v in self.volume_ids.items()
                               if v < (max(self.volumes) + 1 if self.volumes else 0))
        del self.sampled[n:]
        self.n = n

    def close(self):
        """Finish the file and move it into place."""
        if self.layout == 'ours':
            self.f.create_dataset('name', data=np.array(self.names, dtype=h5py.string_dtype()))
            self.f.create_dataset('volume', data=np.array(self.volumes, dtype=np.int32))
        points, sampled = np.sum(self.sampled, axis=0) if self.sampled else (0, 0)
        if sampled:
            self.f.attrs['acc_achieved'] = float(points) / sampled
        self.f.close()
        os.replace(self.tmp, self.path)

    def abort(self):
        self.f.close()
        if os.path.exists(self.tmp):
            os.remove(self.tmp)


def normalise(x):
    """Scale so that max |x| = 1. Returns (scaled complex64, scale)."""
    s = float(np.abs(x).max())
    if not np.isfinite(s) or s == 0:
        raise InputError('image is empty or not finite (max |x| = %r)' % s)
    return (x / s).astype(np.complex64), s


def mask_attrs(mask_type, acc, sample_n, seed, fixed_mask=None, mask_file=''):
    """The file attributes saying how the masks were made: drawn per image (type,
    acceleration, central lines, seed), or one stored mask for all (its file and measured
    acceleration; no mask_type, so train.py --mask_mode random falls back to its defaults)."""
    if fixed_mask is None:
        return {'acc': float(acc), 'sample_n': int(sample_n), 'mask_type': mask_type,
                'seed': int(seed)}
    return {'acc': fixed_mask.size / float(fixed_mask.sum()),
            'mask_file': os.path.basename(mask_file)}


def achieved_note(path):
    """' (masks: acceleration A achieved)' from a written file's `acc_achieved`, or ''."""
    with h5py.File(path, 'r') as f:
        acc = f.attrs.get('acc_achieved')
    return '' if acc is None else ' (masks: acceleration %.3f achieved)' % acc


def load_mask_file(path, size):
    """One stored mask for every image (make_h5data.py --mask_file, the port's way with its
    mask_acc3.hdf5): dataset 'mask' of an HDF5 file, (H, W), or (N, H, W) holding N equal
    masks (the port's files repeat one). Any float or integer dtype; values 0/1. A mask stored
    centred (k-space origin in the middle, models.masks.origin_layout) is shifted to our
    uncentred layout, with a printed line. Returns float32 (H, W)."""
    if not os.path.isfile(path):
        raise InputError('--mask_file %s: no such file' % path)
    try:
        with h5py.File(path, 'r') as f:
            if 'mask' not in f or not isinstance(f['mask'], h5py.Dataset):
                raise InputError('--mask_file %s: no dataset \'mask\' (found: %s)'
                                 % (path, ', '.join(sorted(f.keys())) or 'none'))
            m = np.asarray(f['mask'][()])
    except (OSError, IOError, RuntimeError, KeyError, ValueError, TypeError) as e:
        raise InputError('--mask_file %s: not a readable HDF5 file (%s)'
                         % (path, first_line(e)))
    if m.dtype.kind not in 'fiub':
        raise InputError('--mask_file %s: mask must be numeric, got %s' % (path, m.dtype))
    if m.ndim == 3 and len(m) and np.all(m == m[:1]):
        m = m[0]
    if m.ndim != 2:
        raise InputError('--mask_file %s: mask has shape %s; expected (H, W) or (N, H, W) '
                         'holding one mask repeated' % (path, m.shape))
    if tuple(m.shape) != tuple(size):
        raise InputError('--mask_file %s: mask is %dx%d, the images are %dx%d (--image_size)'
                         % (path, m.shape[0], m.shape[1], size[0], size[1]))
    if not np.all(np.isfinite(m)) or not np.all((m == 0) | (m == 1)) or not m.any():
        raise InputError('--mask_file %s: mask values must be 0 or 1 and sample something'
                         % path)
    m = m.astype(np.float32)
    if masks_mod.origin_layout(m[None]) == masks_mod.CENTRED:
        print('--mask_file %s: the mask is stored centred (its fully sampled low frequencies '
              'sit around the middle row): shifted with ifftshift to the uncentred layout'
              % path)
        m = np.fft.ifftshift(m, axes=(-2, -1))
    return m


def write_dataset(path, items, shape, complex_data, mask_type, acc, sample_n, seed, source,
                  layout='ours', fixed_mask=None, mask_file=''):
    """Write an iterable of (name, image) to `path` with a fixed mask per image, in `layout`.

    The mask of an image is seeded by its name and `seed` (masks.seed_from_name), so the same
    image gets the same mask on every machine and in every run; `fixed_mask` (H, W), read from
    `mask_file`, replaces them all. Returns the image count.
    """
    attrs = mask_attrs(mask_type, acc, sample_n, seed, fixed_mask, mask_file)
    attrs['source'] = source
    w = H5Writer(path, shape, complex_data, attrs, layout)
    try:
        for name, img in items:
            x, s = normalise(img)
            m = fixed_mask if fixed_mask is not None else masks_mod.make_mask(
                mask_type, shape, acc, sample_n, seed=masks_mod.seed_from_name(name, seed))
            w.append(x, m, s, name)
        if w.n == 0:
            raise InputError('no images to write to %s' % path)
    except BaseException:
        w.abort()
        raise
    w.close()
    return w.n


def write_multicoil_dataset(path, items, shape, coils, mask_type, acc, sample_n, seed, source,
                            fixed_mask=None, attrs=None):
    """Write an iterable of (name, kspace, coil_maps), each (C, H, W) or (T, C, H, W) complex,
    fully sampled, orthonormal and uncentred, to a multi-coil file in our layout: the label is
    the coil combination (models.data.coils.sense_adjoint) scaled to max |x| = 1, the k-space
    is divided by the same factor, and the masks are those of write_dataset (`fixed_mask`
    (H, W), a source's own, for every image and frame if given; `attrs` more file attributes).
    Returns the image count."""
    attrs = dict(attrs or {}, source=source, **mask_attrs(mask_type, acc, sample_n, seed,
                                                          fixed_mask))
    w = H5Writer(path, shape, True, attrs, coils=coils)
    try:
        for name, kspace, maps in items:
            coils_mod.check_coil_data(kspace, maps, name)
            x, s = normalise(coils_mod.sense_adjoint(kspace, maps))
            m = (np.broadcast_to(fixed_mask, shape) if fixed_mask is not None else
                 masks_mod.make_mask(mask_type, shape, acc, sample_n,
                                     seed=masks_mod.seed_from_name(name, seed)))
            w.append(x, m, s, name, kspace=kspace / s, coil_maps=maps)
        if w.n == 0:
            raise InputError('no images to write to %s' % path)
    except BaseException:
        w.abort()
        raise
    w.close()
    return w.n


def split_paths(output_dir, name, acc):
    """The port's naming: <name>_train_acc<acc>.hdf5 and <name>_test_acc<acc>.hdf5."""
    return tuple(os.path.join(output_dir, '%s_%s_acc%g.hdf5' % (name, part, acc))
                 for part in ('train', 'test'))


def synthetic_training_set(output_dir, n, size, acc, sample_n):
    """The synthetic train/test pair train.py uses when no data is given: built in
    `output_dir` on first use (n images of size (H, W), Cartesian masks), reused after.
    Returns (train, test) paths."""
    name = 'synthetic%dx%d_n%d_s%d' % (size[0], size[1], n, sample_n)
    train, test = split_paths(output_dir, name, acc)
    if os.path.exists(train) and os.path.exists(test):
        print('no data given: using the synthetic dataset %s, %s' % (train, test))
        return train, test
    print('no data given: building a synthetic dataset of %d %dx%d images in %s/ '
          '(make_h5data.py --synthetic)' % (n, size[0], size[1], output_dir))
    return write_synthetic(output_dir, n, size, acc, sample_n, 'cartesian', seed=0, name=name,
                           overwrite=True)


def split_count(n, split):
    """Number of training items out of n for train fraction `split` (at least one each side
    when n >= 2)."""
    if not 0 < split <= 1:
        raise InputError('--split must be in (0, 1], got %g' % split)
    n_train = int(round(n * split))
    if n >= 2 and split < 1:
        n_train = min(max(n_train, 1), n - 1)
    return n_train


def write_synthetic(output_dir, n, size, acc, sample_n, mask_type='cartesian', seed=0,
                    split=0.8, noise=0.0, name='synthetic', overwrite=False, layout='ours',
                    fixed_mask=None, mask_file='', coils=0):
    """Write the synthetic phantom dataset as a train/test pair (in `layout`, with
    `fixed_mask` for every image if given). With `coils` C > 0, multi-coil files of simulated
    birdcage coils (models.data.coils.simulate_coils; `noise` is then the k-space noise of
    each coil). Returns (train, test) paths."""
    from models.data.sources import synthetic_images
    train_path, test_path = split_paths(output_dir, name, acc)
    check_writable([train_path, test_path], overwrite)
    n_train = split_count(n, split)
    parts = [(train_path, range(n_train)), (test_path, range(n_train, n))]
    if coils:
        if fixed_mask is not None:
            raise InputError('--mask_file is for single-coil data, not --coils')
        for path, idx in parts:
            if len(idx):
                items = coils_mod.simulate_coils(synthetic_images(idx, size, seed), coils, seed,
                                                 noise)
                write_multicoil_dataset(
                    path, items, tuple(size), coils, mask_type, acc, sample_n, seed,
                    'synthetic phantoms (seed %d), %d simulated birdcage coils, k-space noise %g'
                    % (seed, coils, noise))
        return train_path, test_path
    for path, idx in parts:
        if len(idx):
            write_dataset(path, synthetic_images(idx, size, seed, noise), tuple(size), True,
                          mask_type, acc, sample_n, seed, 'synthetic phantoms (seed %d)' % seed,
                          layout, fixed_mask, mask_file)
    return train_path, test_path
