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
"""Cartesian undersampling masks.

Every function returns a float32 array of 0/1 of the requested shape (..., Nx, Ny) with
phase-encoding lines along axis -2 (a line is a whole row, constant along axis -1).
Masks are returned **uncentred** (k-space origin at index [0, 0], numpy FFT layout), the
layout stored in our HDF5 files, unless ``centred=True``.

Randomness comes only from the ``seed`` argument (an int, or a ``numpy.random.Generator``):
the same seed gives the same mask on every machine.
"""
import zlib

import numpy as np

from models.errors import InputError

MASK_TYPES = ('cartesian', 'equispaced', 'random')


def _rng(seed):
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def seed_from_name(name, base_seed=0):
    """A stable integer seed from a string (file name), the same on every machine and run."""
    return (zlib.crc32(str(name).encode('utf-8')) + int(base_seed)) % (2 ** 32)


def slice_name(file_name, index):
    """The name of slice `index` (int or tuple of ints, e.g. (volume, slice)) of a file:
    '<file_name>#<i>' or '<file_name>#<v>,<i>'. It is what the output's `name` dataset holds and
    what seeds the slice's mask."""
    if np.isscalar(index):
        index = (index,)
    return '%s#%s' % (file_name, ','.join(str(int(i)) for i in index))


def seed_from_slice(file_name, index, base_seed=0):
    """A stable seed for slice `index` of file `file_name`: each slice of a volume gets its own
    mask, and the same file gets the same masks on every machine and in every run."""
    return seed_from_name(slice_name(file_name, index), base_seed)


def _centre_lines(nx, sample_n):
    """Indices (centred layout) of the `sample_n` fully sampled central lines."""
    start = nx // 2 - sample_n // 2
    return np.arange(start, start + sample_n)


def _check(nx, acc, sample_n):
    if acc < 1:
        raise InputError('acceleration must be >= 1, got %g' % acc)
    n_lines = int(nx / acc)
    if sample_n < 0 or sample_n > n_lines:
        raise InputError('sample_n=%d central lines does not fit in int(%d/%g)=%d sampled lines'
                         % (sample_n, nx, acc, n_lines))
    return n_lines


def _expand(lines, shape, centred):
    """(N, Nx) line masks -> float32 mask of `shape`, uncentred unless `centred`."""
    mask = np.repeat(lines[:, :, None], shape[-1], axis=2).reshape(shape).astype(np.float32)
    if not centred:
        mask = np.fft.ifftshift(mask, axes=(-2, -1))
    return mask


def cartesian_mask(shape, acc, sample_n=10, seed=0, centred=False):
    """Variable-density Cartesian mask of Schlemper et al. (after k-t FOCUSS).

    Line density is a Gaussian centred on the k-space centre (sigma = Nx/10) plus a uniform
    term 1/(2*acc); `sample_n` central lines are always sampled and the rest are drawn without
    replacement so that every frame has exactly int(Nx/acc) lines.

    shape: (..., Nx, Ny); every leading index (frame / sample) gets its own draw.
    acc: acceleration factor (float allowed).
    sample_n: number of always-sampled central lines; 0 is allowed.
    Returns float32 (..., Nx, Ny) of 0/1.
    """
    nx = shape[-2]
    n = int(np.prod(shape[:-2], dtype=np.int64))
    n_lines = _check(nx, acc, sample_n)
    rng = _rng(seed)
    x = np.arange(nx) - nx / 2.0
    pdf = np.exp(-0.5 * x ** 2 / (nx / 10.0) ** 2) + (nx / (2.0 * acc)) / nx
    centre = _centre_lines(nx, sample_n)
    pdf[centre] = 0.0
    pdf /= pdf.sum()
    lines = np.zeros((n, nx), dtype=np.float32)
    for i in range(n):
        lines[i, rng.choice(nx, n_lines - sample_n, replace=False, p=pdf)] = 1.0
    lines[:, centre] = 1.0
    return _expand(lines, shape, centred)


def equispaced_mask(shape, acc, center_fraction=0.08, seed=0, centred=False):
    """Equispaced lines every `acc` (random offset per frame) plus a fully sampled centre of
    round(Nx * center_fraction) lines. Returns float32 (..., Nx, Ny)."""
    nx = shape[-2]
    n = int(np.prod(shape[:-2], dtype=np.int64))
    rng = _rng(seed)
    centre = _centre_lines(nx, int(round(nx * center_fraction)))
    step = max(int(round(acc)), 1)
    lines = np.zeros((n, nx), dtype=np.float32)
    for i in range(n):
        lines[i, rng.integers(0, step)::step] = 1.0
    lines[:, centre] = 1.0
    return _expand(lines, shape, centred)


def random_mask(shape, acc, center_fraction=0.08, seed=0, centred=False):
    """Uniformly random lines plus a fully sampled centre of round(Nx * center_fraction)
    lines; exactly int(Nx/acc) lines per frame. Returns float32 (..., Nx, Ny)."""
    nx = shape[-2]
    n = int(np.prod(shape[:-2], dtype=np.int64))
    sample_n = int(round(nx * center_fraction))
    n_lines = _check(nx, acc, sample_n)
    rng = _rng(seed)
    centre = _centre_lines(nx, sample_n)
    outer = np.setdiff1d(np.arange(nx), centre)
    lines = np.zeros((n, nx), dtype=np.float32)
    for i in range(n):
        lines[i, rng.choice(outer, n_lines - sample_n, replace=False)] = 1.0
    lines[:, centre] = 1.0
    return _expand(lines, shape, centred)


def make_mask(mask_type, shape, acc, sample_n=10, seed=0, centred=False):
    """Dispatch by name. For `equispaced` and `random` the centre is `sample_n` lines."""
    if mask_type == 'cartesian':
        return cartesian_mask(shape, acc, sample_n, seed, centred)
    frac = float(sample_n) / shape[-2]
    if mask_type == 'equispaced':
        return equispaced_mask(shape, acc, frac, seed, centred)
    if mask_type == 'random':
        return random_mask(shape, acc, frac, seed, centred)
    raise InputError('unknown mask type %r, expected one of %s'
                     % (mask_type, ', '.join(MASK_TYPES)))


# origin_layout's codes
UNCENTRED, UNKNOWN, CENTRED = -1, 0, 1


def sampled_run(masks, r0, c0):
    """How far the fully sampled neighbourhood of k-space point [r0, c0] reaches, per mask:
    the largest a <= min(H, W) // 4 - 1 with every point r0-a..r0+a of column c0 AND every
    point c0-a..c0+a of row r0 sampled (wrapping round the edges), -1 where [r0, c0] itself is
    not. masks: (B, ..., H, W) 0/1, axes between B and H (frames) must all be sampled.
    Returns an int array (B,)."""
    m = np.asarray(masks) != 0
    h, w = m.shape[-2:]
    lead = m.reshape((len(m), -1, h, w))
    col = lead[:, :, :, c0 % w].all(axis=1)    # (B, H)
    row = lead[:, :, r0 % h, :].all(axis=1)    # (B, W)
    run = np.full(len(m), -1, dtype=np.int64)
    alive = col[:, r0 % h] & row[:, c0 % w]
    for a in range(max(1, min(h, w) // 4)):
        alive &= (col[:, (r0 - a) % h] & col[:, (r0 + a) % h] &
                  row[:, (c0 - a) % w] & row[:, (c0 + a) % w])
        run[alive] = a
    return run


def window_density(masks):
    """(d_origin, d_centre): the sampled fraction of masks (..., H, W) 0/1, pooled over every
    leading index, in a (2a+1) x (2b+1) window, a = max(1, H // 32), b = max(1, W // 32),
    around [0, 0] (wrapping round the edges) and around [H // 2, W // 2]."""
    m = np.asarray(masks, dtype=np.float32)
    h, w = m.shape[-2:]
    a, b = max(1, h // 32), max(1, w // 32)
    rows, cols = np.arange(-a, a + 1), np.arange(-b, b + 1)

    def density(r0, c0):
        return float(m[..., ((r0 + rows) % h)[:, None], ((c0 + cols) % w)[None, :]].mean())

    return density(0, 0), density(h // 2, w // 2)


class LayoutEvidence(object):
    """What origin_layout decides from, accumulated over masks given in any number of parts
    (a file is scanned in chunks)."""

    def __init__(self):
        self.n = 0
        self.run = np.zeros(2)       # summed sampled_run at the origin, at the centre
        self.density = np.zeros(2)   # summed window_density * masks

    def add(self, masks):
        """masks: (B, ..., H, W) 0/1."""
        h, w = np.shape(masks)[-2:]
        b = len(masks)
        self.n += b
        self.run += [sampled_run(masks, 0, 0).sum(), sampled_run(masks, h // 2, w // 2).sum()]
        self.density += np.array(window_density(masks)) * b

    def layout(self):
        """CENTRED when the fully sampled block around [H // 2, W // 2] reaches further than
        the one around [0, 0] (on average over the masks) and at least one line each side of
        the point; UNCENTRED in the opposite case. Otherwise (short or equal blocks, e.g. a
        mask without fully sampled central lines) by density: CENTRED when the window at the
        centre is at least half sampled and at least twice as densely as the one at the
        origin, UNCENTRED in the opposite case, UNKNOWN when neither (a fully sampled or
        uniformly random mask, whose layout matters little)."""
        run_o, run_c = self.run / max(self.n, 1)
        if max(run_o, run_c) >= 1 and run_o != run_c:
            return CENTRED if run_c > run_o else UNCENTRED
        d_o, d_c = self.density / max(self.n, 1)
        if d_c >= 0.5 and d_c >= 2 * d_o:
            return CENTRED
        if d_o >= 0.5 and d_o >= 2 * d_c:
            return UNCENTRED
        return UNKNOWN


def origin_layout(masks):
    """Where the k-space origin of masks (B, ..., H, W) 0/1 sits, judged from the densely
    sampled low frequencies every undersampling mask has (e.g. the `sample_n` central lines),
    pooled over the B masks: UNCENTRED (origin at [0, 0], the numpy FFT layout our files use),
    CENTRED (origin at [H // 2, W // 2], fftshift-ed) or UNKNOWN (see LayoutEvidence.layout)."""
    e = LayoutEvidence()
    e.add(masks)
    return e.layout()
