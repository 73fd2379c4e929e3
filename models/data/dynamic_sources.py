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
"""Sources of dynamic (2D+t) sequences for make_h5data.py. Each source yields (name, sequence)
pairs, one at a time, sequence being a (T, H, W) numpy array (real or complex) of the requested
size; T is the window length when the sequences are cut into temporal windows.

Accepted files:
* MATLAB .mat holding a (nx, ny, nt) or (nx, ny, nt, n) array under `key` (the reference's
  cardiac.mat, key 'seq'): v5 through scipy.io.loadmat, v7.3 (HDF5) through h5py.
* NIfTI .nii / .nii.gz: (x, y, t) one sequence, or (x, y, z, t) one sequence per slice z.
Axis nx / x becomes H (axis -2, along which the phase-encoding lines of our masks run).
"""
import os

import h5py
import numpy as np

from models.errors import InputError, first_line
from models.data.sources import fit_image
from models.data.synthetic import cine_phantom

CINE_EXTENSIONS = ('.mat', '.nii', '.nii.gz')


def synthetic_sequences(indices, size, frames, seed=0, noise=0.0, motion='local'):
    """Yield ('synthetic_cine_<i>', complex64 (T, H, W) cine phantom) for each index."""
    for i in indices:
        yield 'synthetic_cine_%05d' % i, cine_phantom(size, frames, seed=seed, index=i,
                                                      noise=noise, motion=motion)



def _h5_array(path, key):
    """A MATLAB v7.3 variable: h5py sees MATLAB's column-major array with its axes reversed,
    and complex data as a compound of 'real' and 'imag'."""
    with h5py.File(path, 'r') as f:
        if key not in f or not isinstance(f[key], h5py.Dataset):
            raise InputError('%s: no variable %r (found: %s); choose one with --key'
                             % (path, key, ', '.join(sorted(k for k in f.keys()
                                                            if not k.startswith('#')))))
        a = f[key][()]
    if a.dtype.names and 'real' in a.dtype.names and 'imag' in a.dtype.names:
        a = a['real'] + 1j * a['imag']
    return np.transpose(a)


def _mat_array(path, key):
    if h5py.is_hdf5(path):
        return _h5_array(path, key)
    from scipy import io as sio
    try:
        d = sio.loadmat(path)
    except Exception as e:  # scipy raises ValueError, TypeError, MatReadError... for bad files
        raise InputError('%s: not a readable MATLAB file (%s)' % (path, first_line(e)))
    if key not in d:
        raise InputError('%s: no variable %r (found: %s); choose one with --key'
                         % (path, key, ', '.join(sorted(k for k in d if not k.startswith('__')))))
    return d[key]


def read_cine_file(path, key='seq'):
    """The sequences of a .mat or NIfTI file as an array (n, T, H, W) (a view where possible).

    .mat: (nx, ny, nt) or (nx, ny, nt, n) under `key`. NIfTI: (x, y, t) or (x, y, z, t).
    """
    if not os.path.isfile(path):
        raise InputError('%s: no such file' % path)
    low = path.lower()
    if low.endswith('.mat'):
        a = np.asarray(_mat_array(path, key))
        what = 'variable %r' % key
        if a.ndim == 3:
            a = a[..., None]
        if a.ndim != 4:
            raise InputError('%s: %s has shape %s; expected (nx, ny, nt) or (nx, ny, nt, n)'
                             % (path, what, a.shape))
        seqs = np.transpose(a, (3, 2, 0, 1))
    elif low.endswith('.nii') or low.endswith('.nii.gz'):
        import nibabel
        try:
            a = np.asanyarray(nibabel.load(path).dataobj)
        except Exception as e:  # nibabel raises ImageFileError, OSError, EOFError...
            raise InputError('%s: not a readable NIfTI file (%s)' % (path, first_line(e)))
        if a.ndim == 3:
            a = a[:, :, None, :]
        if a.ndim != 4:
            raise InputError('%s: NIfTI image has shape %s; expected (x, y, t) or (x, y, z, t)'
                             % (path, a.shape))
        seqs = np.transpose(a, (2, 3, 0, 1))
    else:
        raise InputError('%s: unknown cine file type; expected %s'
                         % (path, ', '.join(CINE_EXTENSIONS)))
    if seqs.dtype.kind not in 'fciu' or seqs.size == 0:
        raise InputError('%s: expected a non-empty numeric array, got %s of shape %s'
                         % (path, seqs.dtype, seqs.shape))
    if not np.all(np.isfinite(seqs)):
        raise InputError('%s: the array contains NaN or Inf' % path)
    return seqs


def window_starts(nt, window=None, stride=None):
    """Start frames of the temporal windows: every `stride` frames (default: `window`, i.e.
    no overlap) while a whole window fits; one window of all frames when `window` is None."""
    if window is None:
        return [0]
    if window < 1 or (stride is not None and stride < 1):
        raise InputError('--window and --stride must be >= 1')
    if window > nt:
        raise InputError('--window %d is longer than the %d frames of the sequences'
                         % (window, nt))
    return list(range(0, nt - window + 1, stride or window))


def fit_sequence(seq, size, fit='resize'):
    """(T, h, w) real or complex -> (T, H, W) of `size`, frame by frame (real and imaginary
    parts separately, so the phase survives a resize)."""
    if tuple(seq.shape[1:]) == tuple(size):
        return seq
    if np.iscomplexobj(seq):
        return np.stack([fit_image(f.real, size, fit) + 1j * fit_image(f.imag, size, fit)
                         for f in seq])
    return np.stack([fit_image(f, size, fit) for f in seq])


def cine_sequences(path, seqs, indices, size, window=None, stride=None, fit='resize'):
    """Yield ('<file>_s<i>_t<start>', (T, H, W) sequence) for sequences `indices` of the array
    `seqs` (n, nt, h, w), cut into temporal windows."""
    base = os.path.basename(path)
    for i in indices:
        seq = fit_sequence(np.asarray(seqs[i]), size, fit)
        for t0 in window_starts(seq.shape[0], window, stride):
            yield ('%s_s%03d_t%03d' % (base, i, t0),
                   seq if window is None else seq[t0:t0 + window])


def write_synthetic_cine(output_dir, n, size, frames, acc, sample_n, mask_type='cartesian',
                         seed=0, split=0.8, noise=0.0, name='synthetic_cine', overwrite=False,
                         motion='local', coils=0):
    """Write n cine phantoms (T = frames) as a train/test pair, a mask per frame, seeded by
    the sequence name; motion 'local' (only the heart moves) or 'global' (the whole field of
    view moves too, see synthetic.cine_phantom). With `coils` C > 0, multi-coil files of
    simulated birdcage coils, one set of maps per sequence, `noise` the k-space noise of each
    coil (models.data.coils.simulate_coils). Returns (train, test) paths."""
    from models.data import h5writer
    if frames < 1:
        raise InputError('--frames must be >= 1, got %d' % frames)
    train_path, test_path = h5writer.split_paths(output_dir, name, acc)
    h5writer.check_writable([train_path, test_path], overwrite)
    n_train = h5writer.split_count(n, split)
    shape = (frames,) + tuple(size)
    source = ('synthetic cine phantoms (seed %d%s)'
              % (seed, ', global motion' if motion == 'global' else ''))
    for path, idx in ((train_path, range(n_train)), (test_path, range(n_train, n))):
        if len(idx) and coils:
            from models.data.coils import simulate_coils
            seqs = synthetic_sequences(idx, size, frames, seed, 0.0, motion)
            h5writer.write_multicoil_dataset(
                path, simulate_coils(seqs, coils, seed, noise), shape, coils, mask_type, acc,
                sample_n, seed, '%s, %d simulated birdcage coils, k-space noise %g'
                % (source, coils, noise))
        elif len(idx):
            h5writer.write_dataset(path, synthetic_sequences(idx, size, frames, seed, noise,
                                                             motion),
                                   shape, True, mask_type, acc, sample_n, seed, source)
    return train_path, test_path


def write_cine_file(path, output_dir, name, size, acc, sample_n, mask_type='cartesian', seed=0,
                    split=0.8, key='seq', window=None, stride=None, fit='resize',
                    overwrite=False):
    """Convert a .mat / NIfTI cine file into a train/test pair. Sequences (not windows) are
    split, so overlapping windows of one sequence never fall on both sides. size None keeps
    the file's (H, W). Returns (train, test) paths; test is not written when there is a single
    sequence."""
    from models.data import h5writer
    seqs = read_cine_file(path, key)
    n, nt = seqs.shape[:2]
    size = tuple(size) if size else tuple(seqs.shape[2:])
    window_starts(nt, window, stride)  # a bad window fails before any file is opened
    train_path, test_path = h5writer.split_paths(output_dir, name, acc)
    h5writer.check_writable([train_path, test_path], overwrite)
    order = np.random.default_rng(seed).permutation(n)
    n_train = h5writer.split_count(n, split)
    shape = (window or nt,) + size
    for out, sel in ((train_path, order[:n_train]), (test_path, order[n_train:])):
        if len(sel):
            h5writer.write_dataset(out, cine_sequences(path, seqs, sorted(sel), size, window,
                                                       stride, fit),
                                   shape, np.iscomplexobj(seqs), mask_type, acc, sample_n, seed,
                                   'cine sequences from %s' % path)
    return train_path, test_path
