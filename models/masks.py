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
"""Undersampling masks: Cartesian line masks, 2D point masks and k-t masks for dynamic data.

Every function returns a float32 array of 0/1 of the requested shape (..., Nx, Ny).
Line masks (`cartesian`, `equispaced`, `equispaced_fraction`, `random` and the k-t masks)
sample phase-encoding lines along axis -2 (a line is a whole row, constant along axis -1);
the 2D masks (`variable_density`, `poisson`) sample single points of the (Nx, Ny) plane.
Masks are returned **uncentred** (k-space origin at index [0, 0], numpy FFT layout), the
layout stored in our HDF5 files, unless ``centred=True``. k-t masks (`kt_gaussian`,
`kt_shear`) need a (..., T, Nx, Ny) shape and give every frame its own lines.

Randomness comes only from the ``seed`` argument (an int, or a ``numpy.random.Generator``):
the same seed gives the same mask on every machine. `achieved_acc(mask)` is the acceleration
a mask really gives (points / sampled points).
"""
import zlib

import numpy as np

from models.errors import InputError

MASK_TYPES = ('cartesian', 'equispaced', 'random', 'equispaced_fraction', 'variable_density',
              'poisson', 'kt_gaussian', 'kt_shear')
KT_TYPES = ('kt_gaussian', 'kt_shear')


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


def _check_range(nx, acc, sample_n):
    """acc >= 1, at least one line left at that acceleration, and 0 <= sample_n <= nx central
    lines; InputError otherwise."""
    if acc < 1:
        raise InputError('acceleration must be >= 1, got %g' % acc)
    if int(nx / acc) < 1:
        raise InputError('acceleration %g leaves no line of %d (at most %d)' % (acc, nx, nx))
    if not 0 <= sample_n <= nx:
        raise InputError('sample_n=%d central lines does not fit in %d lines' % (sample_n, nx))


def _check(nx, acc, sample_n):
    """_check_range, and sample_n within the int(nx / acc) lines a frame gets. Returns that
    line count."""
    _check_range(nx, acc, sample_n)
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
    sample_n = int(round(nx * center_fraction))
    _check_range(nx, acc, sample_n)
    rng = _rng(seed)
    centre = _centre_lines(nx, sample_n)
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


def _finish(mask, centred):
    """A point mask built in the centred layout -> float32, uncentred unless `centred`."""
    mask = np.asarray(mask, dtype=np.float32)
    return mask if centred else np.fft.ifftshift(mask, axes=(-2, -1))


def _frames(shape, name):
    """(T, Nx) of a k-t mask's shape (..., T, Nx, Ny); InputError for 2D shapes."""
    if len(shape) < 3:
        raise InputError('--mask_type %s is a k-t mask for dynamic data (T, H, W); these data '
                         'are 2D (%s)' % (name, 'x'.join(str(int(d)) for d in shape)))
    return int(shape[-3]), int(shape[-2])


def achieved_acc(mask):
    """The acceleration a mask (..., Nx, Ny) 0/1 really gives: points / sampled points, over
    every frame and image together (inf for an empty mask)."""
    m = np.asarray(mask)
    total = float(np.count_nonzero(m))
    return m.size / total if total else float('inf')


def gaussian(n, sigma_frac):
    """exp(-x^2 / (2 (sigma_frac n)^2)) at x = i - n // 2 (centred axis). float64 (n,)."""
    x = np.arange(n) - n // 2
    return np.exp(-0.5 * (x / (sigma_frac * n)) ** 2)


def gaussian_weights(n, sigma_frac):
    """Weights of the n lines of a centred axis after the reference's normal_pdf with its
    high-frequency floor: gaussian(n, sigma_frac) / 1.25 + 0.02. float64 (n,)."""
    return gaussian(n, sigma_frac) / 1.25 + 0.02


def inclusion_probabilities(weights, n):
    """Sampling probabilities p = min(1, s * weights) with s chosen (bisection) so that
    sum(p) = n: the density of a mask of exactly n points drawn in proportion to `weights`,
    where the densest points saturate at 1. weights: (M,) > 0, 0 <= n <= M. float64 (M,)."""
    w = np.asarray(weights, dtype=np.float64)
    if n <= 0:
        return np.zeros_like(w)
    if n >= len(w):
        return np.ones_like(w)
    lo, hi = 0.0, 1.0 / w.max()
    while np.minimum(1.0, hi * w).sum() < n:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if np.minimum(1.0, mid * w).sum() < n:
            lo = mid
        else:
            hi = mid
    return np.minimum(1.0, hi * w)


def draw_exact(p, rng):
    """Indices drawn so that index i is chosen with probability p[i] exactly and the count is
    exactly round(sum(p)): systematic sampling over a random order (Madow's method). Points
    with p = 1 are always chosen. p: (M,) in [0, 1]. Returns int64 indices."""
    p = np.asarray(p, dtype=np.float64)
    sure = np.flatnonzero(p >= 1.0 - 1e-9)
    rest = np.flatnonzero((p > 0) & (p < 1.0 - 1e-9))
    n = int(round(p.sum())) - len(sure)
    if n <= 0 or not len(rest):
        return sure
    order = rest[rng.permutation(len(rest))]
    c = np.cumsum(p[order])
    c *= n / c[-1]
    hits = np.searchsorted(c, rng.random() + np.arange(n), side='right')
    return np.concatenate([sure, order[np.minimum(hits, len(order) - 1)]])


def line_probabilities(nx, acc, sample_n, sigma_frac=0.1):
    """Centred (nx,) probability of each line in a kt_gaussian frame: 1 on the sample_n central
    lines, min(1, s * gaussian_weights) elsewhere, summing to int(nx / acc)."""
    n_lines = _check(nx, acc, sample_n)
    centre = _centre_lines(nx, sample_n)
    outer = np.setdiff1d(np.arange(nx), centre)
    p = np.ones(nx)
    p[outer] = inclusion_probabilities(gaussian_weights(nx, sigma_frac)[outer],
                                       n_lines - sample_n)
    return p


def point_probabilities(nx, ny, acc, sample_n, sigma_frac=0.15):
    """Centred (nx, ny) probability of each point in a variable_density mask: 1 in the central
    sample_n x min(sample_n, ny) block, min(1, s * w) elsewhere with
    w = g(kx) g(ky) / 1.25 + 0.02 (g Gaussians of std sigma_frac * nx and sigma_frac * ny), the
    reference var_dens_mask's density; the sum is int(nx * ny / acc) points."""
    _check_range(nx, acc, sample_n)
    n_points = int(nx * ny / acc)
    block = np.zeros((nx, ny), dtype=bool)
    block[np.ix_(_centre_lines(nx, sample_n), _centre_lines(ny, min(sample_n, ny)))] = True
    if block.sum() > n_points:
        raise InputError('a central block of %dx%d points does not fit in the int(%d*%d/%g)=%d '
                         'points of acceleration %g' % (sample_n, min(sample_n, ny), nx, ny, acc,
                                                        n_points, acc))
    w = np.outer(gaussian(nx, sigma_frac), gaussian(ny, sigma_frac)) / 1.25 + 0.02
    p = np.ones((nx, ny))
    p[~block] = inclusion_probabilities(w[~block], n_points - int(block.sum()))
    return p


def variable_density_mask(shape, acc, sample_n=10, seed=0, centred=False, sigma_frac=0.15):
    """2D variable-density point mask after the reference's var_dens_mask (Gaussian density
    with a floor for the high frequencies, fully sampled centre), with an exact count: every
    frame has exactly int(Nx Ny / acc) points, point (kx, ky) sampled with probability
    point_probabilities(...)[kx, ky] (systematic sampling, draw_exact).

    shape: (..., Nx, Ny); every leading index gets its own draw. sample_n: side of the always
    sampled central block. Returns float32 (..., Nx, Ny) of 0/1."""
    nx, ny = shape[-2:]
    p = point_probabilities(nx, ny, acc, sample_n, sigma_frac).ravel()
    rng = _rng(seed)
    n = int(np.prod(shape[:-2], dtype=np.int64))
    out = np.zeros((n, nx * ny), dtype=np.float32)
    for i in range(n):
        out[i, draw_exact(p, rng)] = 1.0
    return _finish(out.reshape(shape), centred)


def _poisson_radius(nx, ny, sample_n):
    """Normalised k-space radius (Nx, Ny), centred, 0 inside the calibration block and 1 at
    the middle of each edge: sigpy.mri.poisson's r, with the (Nx, Ny) axes in our order."""
    cx, cy = sample_n, min(sample_n, ny)
    x = np.maximum(np.abs(np.arange(nx) - nx / 2.0) - cx / 2.0, 0)
    y = np.maximum(np.abs(np.arange(ny) - ny / 2.0) - cy / 2.0, 0)
    x, y = x / max(x.max(), 1e-12), y / max(y.max(), 1e-12)
    return np.sqrt(x[:, None] ** 2 + y[None, :] ** 2)


def _poisson_at(nx, ny, sample_n, slope, seed):
    """One Poisson-disc pattern (Nx, Ny) of sigpy.mri.poisson for a given density slope: local
    radius 1 + slope r (in pixels, scaled by N / max(Nx, Ny) per axis), the calibration block
    sampled, corners r >= 1 cropped. Bridson's dart throwing runs in sigpy's compiled core
    (sigpy.mri.samp._poisson), which takes x along axis -1."""
    from sigpy.mri import samp  # imports numba: only when a Poisson mask is asked for
    r = _poisson_radius(nx, ny, sample_n)
    big = float(max(nx, ny))
    rad_x = np.clip((1 + r * slope) * nx / big, 1, None)
    rad_y = np.clip((1 + r * slope) * ny / big, 1, None)
    m = samp._poisson(ny, nx, 30, rad_y, rad_x, (sample_n, min(sample_n, ny)), seed)
    return (m * (r < 1)).astype(np.float32)


def _poisson_frame(nx, ny, acc, sample_n, seed, tol, steps=30):
    """Bisection over the slope in [0, max(Nx, Ny)], as sigpy.mri.poisson does, but bounded:
    at most `steps` patterns, stopping at |achieved - acc| < tol, else the closest one. When
    even that misses by more than 10%, `acc` lies outside what the densest (slope 0) and the
    sparsest patterns give: InputError naming that range. None when the seed draws nothing
    but the calibration block (sigpy's dart throwing starts from one random point, and one
    inside the block has no free neighbour): the caller tries another seed."""
    lo, hi = 0.0, float(max(nx, ny))
    best, err = None, float('inf')
    block = sample_n * min(sample_n, ny)
    for step in range(steps):
        mid = 0.5 * (lo + hi)
        m = _poisson_at(nx, ny, sample_n, mid, seed)
        if step == 0 and block and np.count_nonzero(m) <= block:
            return None  # the seed's first point fell in the calibration block: nothing grew
        a = achieved_acc(m)
        if abs(a - acc) < err:
            best, err = m, abs(a - acc)
        if err < tol:
            break
        lo, hi = (mid, hi) if a < acc else (lo, mid)
    if err > 0.1 * acc:
        a_lo, a_hi = (achieved_acc(_poisson_at(nx, ny, sample_n, s, seed))
                      for s in (0.0, float(max(nx, ny))))
        raise InputError('poisson mask %dx%d with a %d-line centre reaches accelerations '
                         '%.2f..%.2f, not %g' % (nx, ny, sample_n, a_lo, a_hi, acc))
    return best


def poisson_mask(shape, acc, sample_n=10, seed=0, centred=False, tol=0.1):
    """Variable-density Poisson-disc point mask as sigpy.mri.poisson draws it: density about
    1 / (1 + s |r|), no two points closer than the local radius (so no clusters and gaps as
    with independent draws), k-space corners beyond r = 1 left out, a central
    sample_n x min(sample_n, Ny) calibration block fully sampled. The slope s is found by
    bisection until the acceleration is within `tol` of `acc` (at most 30 patterns, else the
    closest): the count is not exact, achieved_acc tells it. Seconds per 256x256 frame.

    shape: (..., Nx, Ny), every leading index seeded by its own int drawn from `seed`.
    Returns float32 (..., Nx, Ny) of 0/1."""
    nx, ny = shape[-2:]
    _check_range(nx, acc, sample_n)
    rng = _rng(seed)
    n = int(np.prod(shape[:-2], dtype=np.int64))
    out = np.zeros((n, nx, ny), dtype=np.float32)
    for i in range(n):
        for _ in range(20):
            m = _poisson_frame(nx, ny, acc, sample_n, int(rng.integers(2 ** 31 - 1)), tol)
            if m is not None:
                break
        if m is None:
            raise InputError('poisson mask %dx%d: 20 seeds drew nothing outside the %d-line '
                             'calibration block' % (nx, ny, sample_n))
        out[i] = m
    return _finish(out.reshape(shape), centred)


def equispaced_fraction_mask(shape, acc, center_fraction=0.08, seed=0, centred=False):
    """fastMRI's EquispacedMaskFractionFunc rule: num_low = round(Nx center_fraction) central
    lines from pad = (Nx - num_low + 1) // 2, then lines round(offset + j a) for
    offset + j a < Nx - 1, spaced a = acc (num_low - Nx) / (num_low acc - Nx) so that about
    Nx / acc lines are sampled in all; the offset is drawn from 0..round(acc) - 1 per frame
    (centred layout, as fastMRI's k-space). Returns float32 (..., Nx, Ny)."""
    nx = shape[-2]
    num_low = int(round(nx * center_fraction))
    _check_range(nx, acc, num_low)
    if num_low * acc >= nx:
        raise InputError('equispaced_fraction: %d central lines already reach %d/%g lines; '
                         'acceleration %g cannot be reached (fewer central lines or a lower '
                         'acceleration)' % (num_low, nx, acc, acc))
    spacing = acc * (num_low - nx) / (num_low * acc - nx)
    rng = _rng(seed)
    n = int(np.prod(shape[:-2], dtype=np.int64))
    pad = (nx - num_low + 1) // 2
    lines = np.zeros((n, nx), dtype=np.float32)
    for i in range(n):
        offset = int(rng.integers(0, max(int(round(acc)), 1)))
        lines[i, np.around(np.arange(offset, nx - 1, spacing)).astype(np.int64)] = 1.0
    lines[:, pad:pad + num_low] = 1.0
    return _expand(lines, shape, centred)


def kt_gaussian_mask(shape, acc, sample_n=10, seed=0, centred=False, sigma_frac=0.1):
    """k-t mask for dynamic data (..., T, Nx, Ny), after the reference's cartesian_mask over
    time: every frame draws its own int(Nx / acc) lines, line kx with probability
    line_probabilities(...)[kx] exactly (a Gaussian of std sigma_frac Nx with the reference's
    floor, the sample_n central lines in every frame), so frames differ and together cover
    k-space more evenly than one frame. Returns float32 (..., T, Nx, Ny)."""
    _frames(shape, 'kt_gaussian')
    nx = shape[-2]
    p = line_probabilities(nx, acc, sample_n, sigma_frac)
    rng = _rng(seed)
    n = int(np.prod(shape[:-2], dtype=np.int64))
    lines = np.zeros((n, nx), dtype=np.float32)
    for i in range(n):
        lines[i, draw_exact(p, rng)] = 1.0
    return _expand(lines, shape, centred)


def kt_shear_mask(shape, acc, sample_n=10, seed=0, centred=False):
    """Sheared-lattice k-t mask (the reference's shear_grid_mask) for (..., T, Nx, Ny): frame t
    samples every acc-th line from offset (start + t) mod acc (centred line index; start drawn
    from `seed` per sequence), so acc consecutive frames cover every line once, plus the
    sample_n central lines in every frame. acc must be an integer. Returns float32."""
    t_len, nx = _frames(shape, 'kt_shear')
    _check_range(nx, acc, sample_n)
    if acc != int(acc):
        raise InputError('--mask_type kt_shear needs an integer acceleration, got %g' % acc)
    acc = int(acc)
    rng = _rng(seed)
    n = int(np.prod(shape[:-3], dtype=np.int64))
    lines = np.zeros((n, t_len, nx), dtype=np.float32)
    for i in range(n):
        start = int(rng.integers(0, acc))
        for t in range(t_len):
            lines[i, t, (start + t) % acc::acc] = 1.0
    lines[:, :, _centre_lines(nx, sample_n)] = 1.0
    return _expand(lines.reshape(n * t_len, nx), shape, centred)


def make_mask(mask_type, shape, acc, sample_n=10, seed=0, centred=False):
    """Dispatch by name. `sample_n` is the number of fully sampled central lines (for
    `equispaced`, `equispaced_fraction` and `random` the centre fraction sample_n / Nx), the
    side of the central block for the 2D masks. shape: (..., Nx, Ny); k-t masks need
    (..., T, Nx, Ny). Returns float32 0/1 of `shape`."""
    if mask_type not in MASK_TYPES:
        raise InputError('unknown mask type %r, expected one of %s'
                         % (mask_type, ', '.join(MASK_TYPES)))
    frac = float(sample_n) / shape[-2]
    by_fraction = {'equispaced': equispaced_mask, 'random': random_mask,
                   'equispaced_fraction': equispaced_fraction_mask}
    if mask_type in by_fraction:
        return by_fraction[mask_type](shape, acc, frac, seed, centred)
    by_lines = {'cartesian': cartesian_mask, 'variable_density': variable_density_mask,
                'poisson': poisson_mask, 'kt_gaussian': kt_gaussian_mask,
                'kt_shear': kt_shear_mask}
    return by_lines[mask_type](shape, acc, sample_n, seed, centred)


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
