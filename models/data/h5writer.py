"""Writing training HDF5 files in our layout, one image at a time (bounded memory).

A file is written to `<path>.partial` and renamed when complete, so an interrupted conversion
never leaves a file that looks finished, and an existing file is never replaced unless asked.
"""
import os

import h5py
import numpy as np

from models import masks as masks_mod
from models.errors import InputError


def check_writable(paths, overwrite):
    """Refuse to replace existing outputs unless `overwrite`."""
    existing = [p for p in paths if os.path.exists(p)]
    if existing and not overwrite:
        raise InputError('%s already exists; pass --overwrite to replace it' % existing[0])


class H5Writer(object):
    """Append (label, mask, scale) triples to a new HDF5 file.

    label: (H, W) or (T, H, W) complex or real; stored complex64 when `complex_data`, else
    float32. mask: same shape, 0/1, uncentred. scale: the factor the label was divided by.
    """

    def __init__(self, path, shape, complex_data, attrs=None):
        self.path = path
        self.tmp = path + '.partial'
        d = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(d):
            os.makedirs(d)
        self.f = h5py.File(self.tmp, 'w')
        chunk = (1,) + tuple(shape)
        dtype = np.complex64 if complex_data else np.float32
        self.label = self.f.create_dataset('label', (0,) + tuple(shape), dtype=dtype,
                                           maxshape=(None,) + tuple(shape), chunks=chunk)
        self.mask = self.f.create_dataset('mask', (0,) + tuple(shape), dtype=np.float32,
                                          maxshape=(None,) + tuple(shape), chunks=chunk)
        self.scale = self.f.create_dataset('scale', (0,), dtype=np.float32, maxshape=(None,))
        self.names = []
        for k, v in (attrs or {}).items():
            self.f.attrs[k] = v
        self.n = 0
        self.complex_data = complex_data

    def append(self, label, mask, scale=1.0, name=''):
        i = self.n
        for ds in (self.label, self.mask, self.scale):
            ds.resize(i + 1, axis=0)
        self.label[i] = label if self.complex_data else np.real(label)
        self.mask[i] = mask
        self.scale[i] = scale
        self.names.append(str(name))
        self.n += 1

    def truncate(self, n):
        """Drop every image from index `n` on (undo a source file that failed half-way)."""
        for ds in (self.label, self.mask, self.scale):
            ds.resize(n, axis=0)
        del self.names[n:]
        self.n = n

    def close(self):
        """Finish the file and move it into place."""
        self.f.create_dataset('name', data=np.array(self.names, dtype=h5py.string_dtype()))
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


def write_dataset(path, items, shape, complex_data, mask_type, acc, sample_n, seed, source):
    """Write an iterable of (name, image) to `path` with a fixed mask per image.

    The mask of an image is seeded by its name and `seed` (masks.seed_from_name), so the same
    image gets the same mask on every machine and in every run. Returns the image count.
    """
    attrs = {'acc': float(acc), 'sample_n': int(sample_n), 'mask_type': mask_type,
             'seed': int(seed), 'source': source}
    w = H5Writer(path, shape, complex_data, attrs)
    try:
        for name, img in items:
            x, s = normalise(img)
            m = masks_mod.make_mask(mask_type, shape, acc, sample_n,
                                    seed=masks_mod.seed_from_name(name, seed))
            w.append(x, m, s, name)
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
                    split=0.8, noise=0.0, name='synthetic', overwrite=False):
    """Write the synthetic phantom dataset as a train/test pair. Returns (train, test) paths."""
    from models.data.sources import synthetic_images
    train_path, test_path = split_paths(output_dir, name, acc)
    check_writable([train_path, test_path], overwrite)
    n_train = split_count(n, split)
    parts = [(train_path, range(n_train)), (test_path, range(n_train, n))]
    for path, idx in parts:
        if len(idx):
            write_dataset(path, synthetic_images(idx, size, seed, noise), tuple(size), True,
                          mask_type, acc, sample_n, seed, 'synthetic phantoms (seed %d)' % seed)
    return train_path, test_path
