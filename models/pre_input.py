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
"""Reading our HDF5 files and turning them into network inputs, streamed batch by batch.

Layout (docs/data.md): dataset `label` (N, H, W) real float32 or complex64 (dynamic: (N, T, H, W));
dataset `mask` of the same shape or one shared (H, W) / (T, H, W) mask, values 0/1, uncentred.
Optional: `scale` (N,) and file attributes `acc`, `sample_n`, `mask_type`.
The Ascend port's files are read too: integer labels (its uint8 0-255 grayscale images; what
is done with them is the `label_scale` of models/presets.py), float64 masks, and masks stored
centred (k-space origin in the middle), which are detected and shifted to the uncentred layout.
One line says what was done.

Network inputs: feature (B, H, W, 2) float32 = zero-filled image ifft2(fft2(label) * mask) as
(real, imag); label (B, H, W, 2) float32; mask (B, H, W) float32.
Multi-coil files (datasets `kspace` and `coil_maps` (N[, T], C, H, W) complex64, docs/data.md)
add kspace = the acquired k-space k * mask and coil_maps, (B[, T], C, H, W, 2) float32 each;
feature is then the zero-filled coil combination sum_c conj(S_c) ifft2(k_c mask), and label
the file's (the fully sampled coil combination). Their optional `rss` (N[, T], H, W) float32,
the root sum of squares of the fully sampled coil images on the label's scale, is read by
read_rss() (test.py's RSS metrics). A file attribute `recon_size` (H, W) (fastMRI's reconSpace,
recorded at conversion) is `recon_size`: the centre crop metrics are taken on. Nothing is held
in memory beyond the batches in flight: memory does not grow with the file's size.
"""
import os
import queue
import threading

import h5py
import numpy as np

from models import masks as masks_mod
from models.data.coils import sense_adjoint
from models.errors import InputError, first_line

# What h5py raises for a damaged file (a truncated or corrupted header, chunk or B-tree).
H5_ERRORS = (OSError, IOError, RuntimeError, KeyError, ValueError, TypeError)
# Bytes per read when scanning a whole file: a fixed image count would make the peak memory
# grow with the image size and, up to that count, with the file's length.
SCAN_BYTES = 4 << 20


def undersample(label, mask):
    """label (..., H, W) complex, mask (..., H, W) 0/1 -> zero-filled image (..., H, W) complex64.

    Uses the orthonormal FFT pair (norm='ortho'), the convention of the graph's data
    consistency (models.nets.layers.fft2), so the graph's k0 = fft2(feature) * mask is the
    acquired k-space. The zero-filled image itself does not depend on the scaling."""
    k = np.fft.fft2(label, norm='ortho') * mask
    return np.fft.ifft2(k, norm='ortho').astype(np.complex64)


def to_two_channel(x):
    """(...) complex -> (..., 2) float32 (real, imag)."""
    return np.stack([x.real, x.imag], axis=-1).astype(np.float32)


def to_complex(x):
    """(..., 2) float32 -> (...) complex64."""
    return (x[..., 0] + 1j * x[..., 1]).astype(np.complex64)


def coil_inputs(label, mask, kspace, coil_maps):
    """A multi-coil batch: label (B, ...) complex, mask (B, ..., H, W), fully sampled kspace and
    coil_maps (B, ..., C, H, W) complex -> the network's inputs feature (zero-filled coil
    combination), label, mask, kspace (acquired: k * mask) and coil_maps, float32 2-channel."""
    k0 = (kspace * np.expand_dims(mask, -3)).astype(np.complex64)
    return {'feature': to_two_channel(sense_adjoint(k0, coil_maps)),
            'label': to_two_channel(label), 'mask': mask, 'kspace': to_two_channel(k0),
            'coil_maps': to_two_channel(coil_maps)}


def volume_ids(n, is_dynamic, volume=None):
    """The rule of H5Data.volumes() for n images (sequences): int64 (N,). `volume`: the file's
    `volume` dataset (or None); it is used when it is an integer (N,) dataset, else the file
    is one volume; dynamic data: each sequence is a volume of its own."""
    if is_dynamic:
        return np.arange(n, dtype=np.int64)
    if isinstance(volume, h5py.Dataset) and volume.shape == (n,) and volume.dtype.kind in 'iu':
        return np.asarray(volume[()], dtype=np.int64)
    return np.zeros(n, dtype=np.int64)


def file_volumes(path):
    """(volume of each image as H5Data(path).volumes() gives it, the label's shape (N, ...))
    of an HDF5 file, read without its images: for om_precision.py, whose images come from
    .bin files."""
    if not os.path.isfile(path):
        raise InputError('%s: no such file' % path)
    try:
        with h5py.File(path, 'r') as f:
            label = f.get('label')
            if not isinstance(label, h5py.Dataset) or len(label.shape) not in (3, 4):
                raise InputError('%s: no dataset `label` of shape (N, H, W) or (N, T, H, W)'
                                 % path)
            shape = tuple(label.shape)
            return volume_ids(shape[0], len(shape) == 4, f.get('volume')), shape
    except H5_ERRORS as e:
        raise InputError('%s: not a readable HDF5 file (%s)' % (path, first_line(e)))


LABEL_SCALES = ('image_max', 'stored')
COIL_KEYS = ('kspace', 'coil_maps')


class H5Data(object):
    """A checked, lazily read HDF5 dataset in our layout.

    The file stays open; reads are by sorted index. `is_dynamic` is True for (N, T, H, W) data.
    Every problem a user can cause ends in InputError naming the file and what was expected.

    label_scale: what read() does with INTEGER labels (float and complex ones are returned as
    stored): 'image_max' divides each image by its max |x| (so max |x| = 1, as in the files
    make_h5data.py writes), 'stored' keeps the stored values (the port's 0-255 pixel scale).
    Masks found centred (models.masks.LayoutEvidence) are returned ifftshift-ed (uncentred).
    `note` is the line printed at open saying what was done ('' when nothing was).
    `coils` is C for a multi-coil file (datasets kspace and coil_maps), else 0; read_coils()
    reads them; `has_rss` says whether it has the optional `rss`, which read_rss() reads.
    `recon_size` is the file attribute recon_size as (H, W), or None.

    Args:
      path: the HDF5 file: `label` (N, H, W) or (N, T, H, W) and `mask` of the same shape or
        one shared (H, W) / (T, H, W) mask (docs/data.md).
      label_scale: one of LABEL_SCALES (above).
    Attributes:
      n: the number of images (sequences); shape: (H, W) or (T, H, W); is_dynamic; coils;
      has_rss; recon_size; attrs: the file's attributes (mask_type, acc, sample_n, ... as
      make_h5data.py writes).
    Raises:
      InputError: a missing file or key, a wrong shape or dtype, NaN/Inf, a mask not 0/1.
    """

    def __init__(self, path, label_scale='image_max'):
        if label_scale not in LABEL_SCALES:
            raise ValueError('label_scale must be one of %s, got %r' % (LABEL_SCALES,
                                                                       label_scale))
        self.path = path
        self.label_scale = label_scale
        if not path:
            raise InputError('no HDF5 file given')
        if not os.path.isfile(path):
            raise InputError('%s: no such file' % path)
        try:
            self.f = h5py.File(path, 'r')
        except H5_ERRORS as e:
            raise InputError('%s: not a readable HDF5 file (%s)' % (path, first_line(e)))
        try:
            self._open()
        except H5_ERRORS as e:
            self.f.close()
            raise InputError('%s: damaged HDF5 file (%s)' % (path, first_line(e)))
        except InputError:
            self.f.close()
            raise

    def _open(self):
        path = self.path
        for key in ('label', 'mask'):
            if key not in self.f or not isinstance(self.f[key], h5py.Dataset):
                raise InputError('%s: missing dataset %r (expected keys: label, mask; found: %s)'
                                 % (path, key, ', '.join(sorted(self.f.keys())) or 'none'))
        self.label = self.f['label']
        self.mask = self.f['mask']
        lshape, mshape = self.label.shape, self.mask.shape
        if len(lshape) not in (3, 4):
            raise InputError('%s: label has shape %s; expected (N, H, W) or (N, T, H, W)'
                             % (path, lshape))
        if lshape[0] == 0:
            raise InputError('%s: the dataset is empty (label has 0 images)' % path)
        if mshape != lshape and mshape != lshape[1:]:
            raise InputError('%s: mask shape %s does not match label shape %s; expected %s or %s'
                             % (path, mshape, lshape, lshape, lshape[1:]))
        if self.label.dtype.kind not in 'fciu' or self.mask.dtype.kind not in 'fiub':
            raise InputError('%s: label must be numeric (float, complex or integer) and mask '
                             'numeric, got %s and %s' % (path, self.label.dtype, self.mask.dtype))
        self.n = lshape[0]
        self.shape = tuple(lshape[1:])
        self.is_dynamic = len(lshape) == 4
        self.shared_mask = mshape == lshape[1:]
        self.integer_labels = self.label.dtype.kind in 'iu'
        self.attrs = dict(self.f.attrs)
        self.recon_size = self._recon_size()
        self._open_coils()
        self._scan()
        self.note = self._describe()
        if self.note:
            print(self.note)

    def _open_coils(self):
        """Find and check the multi-coil datasets (both or neither); self.coils = C or 0."""
        path, lshape = self.path, self.label.shape
        present = [k for k in COIL_KEYS if k in self.f]
        self.coils, self.rss = 0, None
        if not present:
            return
        if len(present) == 1:
            raise InputError('%s: multi-coil files need both datasets %s; found only %r'
                             % (path, ' and '.join(COIL_KEYS), present[0]))
        k, s = self.f['kspace'], self.f['coil_maps']
        if k.dtype.kind != 'c' or s.dtype.kind not in 'cf':
            raise InputError('%s: kspace must be complex (and coil_maps complex or real), got '
                             '%s and %s' % (path, k.dtype, s.dtype))
        if k.ndim != len(lshape) + 1 or k.shape[:-3] != lshape[:-2] \
                or k.shape[-2:] != lshape[-2:]:
            raise InputError('%s: kspace has shape %s; expected (N[, T], C, H, W) with the '
                             'label\'s %s' % (path, k.shape, lshape))
        if s.shape != k.shape:
            if s.ndim == k.ndim and s.shape[-3] != k.shape[-3]:
                raise InputError('%s: kspace has %d coils but coil_maps has %d'
                                 % (path, k.shape[-3], s.shape[-3]))
            raise InputError('%s: coil_maps has shape %s; expected the kspace\'s %s'
                             % (path, s.shape, k.shape))
        self.kspace, self.coil_maps = k, s
        self.coils = k.shape[-3]
        self._open_rss()

    def _open_rss(self):
        """The optional `rss` of a multi-coil file: real, the label's shape."""
        if 'rss' not in self.f:
            return
        r, lshape = self.f['rss'], self.label.shape
        if not isinstance(r, h5py.Dataset) or r.dtype.kind != 'f' or r.shape != lshape:
            raise InputError('%s: rss must be a real (float) dataset of the label\'s shape %s, '
                             'got %s' % (self.path, lshape, '%s %s' % (r.dtype, r.shape)
                                         if isinstance(r, h5py.Dataset) else 'a group'))
        self.rss = r

    @property
    def has_rss(self):
        return self.rss is not None

    def _recon_size(self):
        """The attribute recon_size as (H, W) of positive ints, or None when absent."""
        size = self.attrs.get('recon_size')
        if size is None:
            return None
        v = np.asarray(size).ravel()
        if v.size != 2 or v.dtype.kind not in 'iuf' or np.any(v < 1) or np.any(v != np.round(v)):
            raise InputError('%s: attribute recon_size is %r; expected (H, W), two positive '
                             'integers (the centre crop of the metrics)' % (self.path, size))
        return int(v[0]), int(v[1])

    def _scan_coils(self):
        """Multi-coil files: k-space finite and each image's maps not all zero, read in
        bounded chunks."""
        per_image = int(np.prod(self.kspace.shape[1:])) * self.kspace.dtype.itemsize
        chunk = max(1, SCAN_BYTES // max(per_image, 1))
        for start in range(0, self.n, chunk):
            try:
                k = np.asarray(self.kspace[start:start + chunk])
                s = np.asarray(self.coil_maps[start:start + chunk])
            except H5_ERRORS as e:
                raise InputError('%s: cannot read the coil data of images %d..%d (%s)'
                                 % (self.path, start, start + chunk - 1, first_line(e)))
            bad = ~np.isfinite(k.reshape(len(k), -1)).all(axis=1)
            if bad.any():
                raise InputError('%s: kspace of image %d contains NaN or Inf'
                                 % (self.path, start + np.flatnonzero(bad)[0]))
            empty = ~s.reshape(len(s), -1).any(axis=1)
            if empty.any():
                raise InputError('%s: the coil maps of image %d are all zero'
                                 % (self.path, start + np.flatnonzero(empty)[0]))
            if self.has_rss:
                self._check_rss(start, chunk)

    def _check_rss(self, start, chunk):
        try:
            r = np.asarray(self.rss[start:start + chunk])
        except H5_ERRORS as e:
            raise InputError('%s: cannot read the rss of images %d..%d (%s)'
                             % (self.path, start, start + chunk - 1, first_line(e)))
        bad = ~(np.isfinite(r) & (r >= 0)).reshape(len(r), -1).all(axis=1)
        if bad.any():
            raise InputError('%s: rss of image %d is negative, NaN or Inf'
                             % (self.path, start + np.flatnonzero(bad)[0]))

    def _take(self, datasets, idx, what):
        """Rows `idx` (any order) of each of `datasets`, read in sorted order, as arrays in
        idx's order."""
        idx = np.asarray(idx, dtype=np.int64)
        order = np.argsort(idx)
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
        try:
            return [np.asarray(ds[idx[order]])[inverse] for ds in datasets]
        except H5_ERRORS as e:
            raise InputError('%s: cannot read the %s of images %s (%s)'
                             % (self.path, what, idx[:4].tolist(), first_line(e)))

    def read_coils(self, idx):
        """Multi-coil files: images `idx` (any order) -> (kspace, coil_maps) complex64
        (B[, T], C, H, W), fully sampled k-space as stored."""
        k, s = self._take((self.kspace, self.coil_maps), idx, 'coil data')
        return k.astype(np.complex64), s.astype(np.complex64)

    def read_rss(self, idx):
        """Multi-coil files with `rss`: images `idx` (any order) -> (B[, T], H, W) float32, on
        the label's scale as stored (make_h5data.py computes it from the k-space divided by
        the label's scale, docs/data.md): nothing is rescaled."""
        return self._take((self.rss,), idx, 'rss')[0].astype(np.float32)

    def volumes(self):
        """The volume (source file) of each image, int64 (N,), for fastMRI's per-volume
        metrics (models.evaluate.FastMRIVolumes): the file's `volume` dataset, as
        make_h5data.py writes it; a file without one (or with one of another length) is one
        volume. Each sequence of dynamic data is a volume of its own, its frames the slices."""
        return volume_ids(self.n, self.is_dynamic, self.f.get('volume'))

    def _describe(self):
        """The line saying what is done to this file's data ('' when it is used as stored)."""
        done = []
        if self.integer_labels:
            lo, hi = self._label_range
            what = ('each image divided by its max |x| (max |x| = 1, as make_h5data.py writes)'
                    if self.label_scale == 'image_max' else
                    'used as stored (the port\'s pixel scale)')
            done.append('%s labels (values %s..%s) %s' % (self.label.dtype, lo, hi, what))
        if self.mask.dtype != np.float32:
            done.append('%s masks read as float32' % self.mask.dtype)
        if self.mask_centred:
            done.append('masks are stored centred (the fully sampled low frequencies sit '
                        'around the middle row, not row 0): shifted with ifftshift to the '
                        'uncentred layout the network uses')
        return '%s: %s' % (self.path, '; '.join(done)) if done else ''

    def _scan(self):
        """Read the file once in bounded chunks, before anything else is done with it: masks
        must be 0/1 and sample something, labels must be finite; where the masks' k-space
        origin sits and the labels' range are gathered on the way."""
        layout = masks_mod.LayoutEvidence()
        lo, hi = [], []
        if self.shared_mask:
            self._shared = np.asarray(self.mask[()]).astype(np.float32)  # read once, reused
            self._check_mask_values(self._shared, 0)
            layout.add(self._shared[None])
        per_image = int(np.prod(self.shape)) * self.label.dtype.itemsize
        chunk = max(1, SCAN_BYTES // max(per_image, 1))
        for start in range(0, self.n, chunk):
            try:
                if not self.shared_mask:
                    m = np.asarray(self.mask[start:start + chunk])
                    self._check_mask_values(m, start)
                    layout.add(m)
                label = self.label[start:start + chunk]
            except H5_ERRORS as e:
                raise InputError('%s: cannot read images %d..%d (%s)'
                                 % (self.path, start, start + chunk - 1, first_line(e)))
            if self.integer_labels:
                lo.append(label.min())
                hi.append(label.max())
            # checked as read() returns it (complex64), so read() need not check again
            label = np.asarray(label).astype(np.complex64)
            bad = ~np.isfinite(label.reshape(len(label), -1)).all(axis=1)
            if bad.any():
                raise InputError('%s: label of image %d contains NaN or Inf'
                                 % (self.path, start + np.flatnonzero(bad)[0]))
        self._label_range = (min(lo), max(hi)) if self.integer_labels else None
        self.mask_centred = layout.layout() == masks_mod.CENTRED
        if self.coils:
            self._scan_coils()
        if self.mask_centred and self.shared_mask:
            self._shared = np.fft.ifftshift(self._shared, axes=(-2, -1))

    def _check_mask_values(self, m, start):
        m = np.asarray(m)
        if not np.all(np.isfinite(m)) or not np.all((m == 0) | (m == 1)):
            raise InputError('%s: mask values must be 0 or 1 (found e.g. %r)'
                             % (self.path, m[(m != 0) & (m != 1)].flat[0]))
        batch = m[None] if self.shared_mask else m
        empty = np.flatnonzero(batch.reshape(batch.shape[0], -1).max(axis=1) == 0)
        if empty.size:
            raise InputError('%s: mask of image %d samples nothing (all zeros)'
                             % (self.path, start + empty[0]))

    def read(self, idx):
        """Read images `idx`.

        Args:
          idx: image indices, in any order.
        Returns:
          (label complex64 (B, ...), mask float32 (B, ...)), B = len(idx), in idx's order.
        """
        idx = np.asarray(idx, dtype=np.int64)
        order = np.argsort(idx)
        sorted_idx = idx[order]
        try:
            label = self.label[sorted_idx] if sorted_idx.size else self.label[0:0]
            mask = (np.broadcast_to(self._shared, (len(idx),) + self.shape)
                    if self.shared_mask else self.mask[sorted_idx])
        except H5_ERRORS as e:
            raise InputError('%s: cannot read images %s (%s)' % (self.path, idx[:4].tolist(),
                                                                 first_line(e)))
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
        label = self._scale(np.asarray(label)[inverse])
        mask = np.asarray(mask)
        if not self.shared_mask:
            mask = mask[inverse]
            if self.mask_centred:
                mask = np.fft.ifftshift(mask, axes=(-2, -1))
        return label, mask.astype(np.float32)

    def _scale(self, label):
        """Labels (B, ...) as read -> complex64, integer ones scaled by `label_scale`."""
        if not self.integer_labels or self.label_scale == 'stored':
            return label.astype(np.complex64)
        x = label.astype(np.float32)
        peak = np.abs(x).reshape(len(x), -1).max(axis=1) if len(x) else np.zeros(0)
        peak = np.where(peak > 0, peak, 1.0).reshape((-1,) + (1,) * (x.ndim - 1))
        return (x / peak).astype(np.complex64)

    def close(self):
        self.f.close()


class Batches(object):
    """Deterministic batches of (feature, label, mask) from an H5Data.

    The order of epoch e is a permutation seeded by (seed, e) and a random mask of image i in
    epoch e is seeded by (seed, e, i), so batch b of epoch e is the same whatever step training
    was started or resumed from.

    mask_mode 'fixed' uses the file's masks; 'random' draws a fresh `mask_type` mask
    (acceleration `acc`, `sample_n` central lines) per image per epoch, the reference's
    augmentation.

    pad_last (with drop_remainder False): a short last batch is filled up to batch_size rows by
    repeating its first image, so every batch has one shape (the NPU compiles a graph per input
    shape); 'index' lists the real images only, and consumers use the first len(index) rows.

    rank, ranks (data-parallel training, models/distributed.py): `batch_size` is the batch of
    one rank; a global batch is batch_size * ranks consecutive images of the epoch's order and
    rank r takes its rows [r * batch_size, (r + 1) * batch_size), so R ranks at batch b see
    exactly the images one process sees at batch R * b, no image twice in an epoch and none
    left out beyond the N mod (b * R) remainder. A step is a global step: an epoch is
    N // (b * R) of them. Needs drop_remainder.

    Args:
      data: an H5Data; batch_size: images per batch (per rank); seed: the run seed;
      shuffle, drop_remainder, pad_last: as above; mask_mode 'fixed' | 'random', mask_type,
      acc, sample_n: the random masks; rank, ranks: this rank and their number.
    A batch (batch(), epoch(), from_step()) is a dict: feature, label (B, ..., 2) float32,
    mask (B, ...) float32, index (the image indices), and for multi-coil data kspace and
    coil_maps (B, ..., C, H, W, 2) float32.
    """

    def __init__(self, data, batch_size, seed=0, shuffle=True, drop_remainder=True,
                 mask_mode='fixed', mask_type='cartesian', acc=4.0, sample_n=8, pad_last=False,
                 rank=0, ranks=1):
        if batch_size < 1:
            raise InputError('--batch_size must be >= 1, got %d' % batch_size)
        if not 0 <= rank < ranks or (ranks > 1 and not drop_remainder):
            raise ValueError('rank %d of %d ranks (sharding needs drop_remainder)'
                             % (rank, ranks))
        if drop_remainder and batch_size * ranks > data.n:
            raise InputError('--batch_size %d%s is larger than the %d images in %s'
                             % (batch_size, ' x %d ranks' % ranks if ranks > 1 else '', data.n,
                                data.path))
        if mask_mode not in ('fixed', 'random'):
            raise InputError('--mask_mode must be fixed or random, got %r' % mask_mode)
        self.data = data
        self.batch_size = batch_size
        self.seed = seed
        self.shuffle = shuffle
        self.mask_mode = mask_mode
        self.mask_type = mask_type
        self.acc = acc
        self.sample_n = sample_n
        self.pad_last = pad_last
        self.rank = rank
        self.ranks = ranks
        n = data.n
        step = batch_size * ranks
        self.steps_per_epoch = n // step if drop_remainder else -(-n // step)

    def order(self, epoch):
        if not self.shuffle:
            return np.arange(self.data.n)
        return np.random.default_rng([self.seed, epoch]).permutation(self.data.n)

    def batch(self, epoch, b):
        """Batch b of epoch e (this rank's share).

        Args:
          epoch, b: the epoch and the batch in it.
        Returns:
          dict: feature, label (B, ..., 2), mask (B, ...) float32, index; multi-coil data adds
          kspace and coil_maps (B, ..., C, H, W, 2).
        """
        first = (b * self.ranks + self.rank) * self.batch_size  # this rank's rows of batch b
        idx = self.order(epoch)[first:first + self.batch_size]
        label, mask = self.data.read(idx)
        if self.mask_mode == 'random':
            mask = np.stack([masks_mod.make_mask(self.mask_type, self.data.shape, self.acc,
                                                 self.sample_n, seed=[self.seed, epoch, int(i)])
                             for i in idx])
        if self.data.coils:
            out = coil_inputs(label, mask, *self.data.read_coils(idx))
        else:
            out = {'feature': to_two_channel(undersample(label, mask)),
                   'label': to_two_channel(label), 'mask': mask}
        if self.pad_last and len(idx) < self.batch_size:
            fill = np.zeros(self.batch_size - len(idx), dtype=np.int64)  # row 0, repeated
            out = dict((k, np.concatenate([v, v[fill]])) for k, v in out.items())
        out['index'] = idx
        return out

    def from_step(self, step):
        """Yield (epoch, b, batch) forever, starting at global step `step`."""
        epoch, b = divmod(step, self.steps_per_epoch)
        while True:
            yield epoch, b, self.batch(epoch, b)
            b += 1
            if b == self.steps_per_epoch:
                epoch, b = epoch + 1, 0

    def epoch(self, epoch=0):
        """Yield the batches of one epoch."""
        for b in range(self.steps_per_epoch):
            yield self.batch(epoch, b)


class Prefetch(object):
    """Run an iterator in a background thread, `size` items ahead. numpy's FFT and h5py
    release the GIL, so reading and undersampling overlap the training step."""

    _END = object()

    def __init__(self, iterator, size=2):
        self._q = queue.Queue(maxsize=size)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(iterator,))
        self._thread.daemon = True
        self._thread.start()

    def _put(self, item):
        """Queue `item` unless close() was called; False once closed."""
        while not self._stop.is_set():
            try:
                self._q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, iterator):
        try:
            for item in iterator:
                if not self._put(item):
                    return
            self._put(self._END)
        except Exception as e:  # re-raised in the consumer's thread
            self._put(e)

    def __iter__(self):
        return self

    def __next__(self):
        item = self._q.get()
        if item is self._END:
            raise StopIteration
        if isinstance(item, Exception):
            raise item
        return item

    next = __next__

    def close(self):
        """Stop the producer and wait for it: a daemon thread left inside an h5py read when
        the interpreter exits can deadlock the exit on h5py's lock."""
        self._stop.set()
        self._thread.join()
