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
"""Multi-coil MR data in numpy: simulated coil maps, the SENSE forward model and its adjoint,
coil combination (SENSE and RSS), SVD coil compression and ESPIRiT map estimation.

Convention (the graph's, models/nets/layers.py): coil axis -3, arrays (..., C, H, W) complex;
k-space is uncentred (numpy FFT layout, origin at [0, 0]) and orthonormal (norm='ortho').
Coil maps S are normalised so that sum_c |S_c|^2 = 1 where the object is, so the coil
combination sum_c conj(S_c) S_c x of noiseless coil images is x itself.
Array in, array out; every random draw takes a seed.
"""
import numpy as np

from models.errors import InputError

COIL_AXIS = -3


def birdcage_maps(shape, coils, seed=0, radius=1.5):
    """Simulated coil sensitivities of a birdcage-like array: (coils, H, W) complex64.

    Coil c sits at distance `radius` (in half fields of view) from the centre, at angle
    2 pi c / coils plus a seeded rotation of the whole array and a seeded jitter per coil, with
    the magnitude 1/r of a small loop and the phase of its angle (sigpy's birdcage_maps, made
    seeded). The maps are divided by their root sum of squares, so sum_c |S_c|^2 = 1 at every
    pixel."""
    if coils < 1:
        raise ValueError('coils must be >= 1, got %d' % coils)
    h, w = shape
    rng = np.random.default_rng([seed, coils, h, w])
    angles = (2 * np.pi * np.arange(coils) / coils + rng.uniform(0, 2 * np.pi)
              + rng.normal(0, 0.1, coils))
    radii = radius * (1 + rng.normal(0, 0.05, coils))
    y = (np.arange(h) - h / 2.0) / (h / 2.0)
    x = (np.arange(w) - w / 2.0) / (w / 2.0)
    yy, xx = np.meshgrid(y, x, indexing='ij')
    dx = xx[None] - (radii * np.cos(angles))[:, None, None]
    dy = yy[None] - (radii * np.sin(angles))[:, None, None]
    r = np.sqrt(dx ** 2 + dy ** 2)
    maps = np.exp(1j * (np.arctan2(dx, -dy) - angles[:, None, None])) / r
    return normalise_maps(maps)


def normalise_maps(maps, axis=COIL_AXIS):
    """Divide maps by their root sum of squares over the coils where it is non-zero: afterwards
    sum_c |S_c|^2 = 1 there (and 0 where every coil was 0). complex64."""
    norm = rss(maps, axis)
    norm = np.where(norm > 0, norm, 1.0)
    return (maps / np.expand_dims(norm, axis)).astype(np.complex64)


def coil_images(image, maps):
    """Image (..., H, W) and maps (..., C, H, W) -> the coil images S_c x, (..., C, H, W)."""
    return maps * np.expand_dims(image, COIL_AXIS)


def sense_forward(image, maps, mask=None):
    """The forward model: k_c = mask fft2(S_c x), (..., C, H, W) complex64, orthonormal,
    uncentred; mask (..., H, W) 0/1 or None (fully sampled)."""
    k = np.fft.fft2(coil_images(image, maps), norm='ortho')
    if mask is not None:
        k = k * np.expand_dims(mask, COIL_AXIS)
    return k.astype(np.complex64)


def sense_combine(images, maps):
    """The SENSE coil combination sum_c conj(S_c) x_c of coil images (..., C, H, W) ->
    (..., H, W) complex64: the reference image of a multi-coil file."""
    return np.sum(np.conj(maps) * images, axis=COIL_AXIS).astype(np.complex64)


def sense_adjoint(kspace, maps):
    """The forward model's adjoint: sum_c conj(S_c) ifft2(k_c) -> (..., H, W) complex64. Of
    zero-filled k-space, the network's multi-coil input `feature`."""
    return sense_combine(np.fft.ifft2(kspace, norm='ortho'), maps)


def rss(images, axis=COIL_AXIS):
    """Root sum of squares over the coils: (..., C, H, W) -> (..., H, W) real float32."""
    return np.sqrt(np.sum(np.abs(images) ** 2, axis=axis)).astype(np.float32)


def compression_matrix(kspace, virtual):
    """The SVD coil compression to `virtual` coils of k-space (C, ...): the (virtual, C) matrix
    A of the leading left singular vectors' conjugates, so A @ k keeps the most energy any
    `virtual` linear combinations of the coils can (A A^H = I)."""
    c = kspace.shape[0]
    if not 1 <= virtual <= c:
        raise InputError('coil compression to %d virtual coils: the data has %d coils'
                         % (virtual, c))
    k = np.asarray(kspace).reshape(c, -1)
    cov = k @ np.conj(k.T)  # C x C: cheaper than the SVD of the C x P samples
    vals, vecs = np.linalg.eigh(cov)
    order = np.argsort(vals)[::-1][:virtual]
    return np.conj(vecs[:, order].T)


def compress_coils(kspace, maps, virtual):
    """SVD coil compression of one slice: kspace (C, H, W) [or (C, T, H, W), T frames of one
    compression] and its maps of the same shape -> (kspace', maps') with `virtual` coils,
    both A @ (coil axis) with A = compression_matrix(kspace, virtual). Coil images are linear
    in the maps, so k' = fft2(A S x) stays consistent with maps' = A S; sum_c |S'_c|^2 is the
    share of the maps' energy the virtual coils keep (<= 1), so the SENSE combination of the
    compressed coils is that share of the image: recompute the reference from them, or
    re-estimate the maps (espirit_maps) on the compressed k-space."""
    if kspace.shape != maps.shape:
        raise InputError('coil compression: kspace %s and coil maps %s differ in shape'
                         % (kspace.shape, maps.shape))
    a = compression_matrix(kspace, virtual)
    shape = (virtual,) + kspace.shape[1:]
    apply = lambda z: (a @ z.reshape(z.shape[0], -1)).reshape(shape).astype(np.complex64)
    return apply(kspace), apply(maps)


def espirit_maps(kspace, calib_width=24, thresh=0.02, crop=0.95):
    """Coil maps (C, H, W) complex64 estimated with ESPIRiT (Uecker et al. 2014) from the
    fully sampled centre (calib_width x calib_width) of k-space (C, H, W), uncentred and
    orthonormal (our convention), through sigpy's EspiritCalib. Maps are zero where the
    eigenvalue is below `crop` (outside the object) and sum_c |S_c|^2 = 1 elsewhere.
    sigpy is optional: without it, one InputError line saying how to get it."""
    try:
        import sigpy
        from sigpy.mri.app import EspiritCalib
    except ImportError as e:
        raise InputError('ESPIRiT coil maps need sigpy (pip install sigpy; it needs numba): %s'
                         % e)
    # sigpy's k-space is centred, of the image in its natural layout: fft of our coil images
    ksp = sigpy.fft(np.fft.ifft2(kspace, norm='ortho'), axes=(-2, -1))
    maps = np.asarray(EspiritCalib(ksp, calib_width=calib_width, thresh=thresh, crop=crop,
                                   show_pbar=False).run())
    if not np.any(maps):
        raise InputError('ESPIRiT found no coil sensitivity above crop %g from the central %d x '
                         '%d k-space: try a larger calibration region (--calib)'
                         % (crop, calib_width, calib_width))
    return normalise_maps(maps)


def check_coil_data(kspace, maps, where):
    """Raise one InputError line (naming `where`) unless kspace is complex (..., C, H, W), the
    maps have its shape (the same coil count) and are not all zero."""
    kspace, maps = np.asarray(kspace), np.asarray(maps)
    if kspace.dtype.kind != 'c':
        raise InputError('%s: multi-coil k-space must be complex, got %s (real values have no '
                         'phase to keep)' % (where, kspace.dtype))
    if kspace.ndim < 3:
        raise InputError('%s: multi-coil k-space has shape %s; expected (..., C, H, W)'
                         % (where, kspace.shape))
    if maps.shape != kspace.shape:
        if maps.ndim == kspace.ndim and maps.shape[COIL_AXIS] != kspace.shape[COIL_AXIS]:
            raise InputError('%s: k-space has %d coils but the coil maps have %d'
                             % (where, kspace.shape[COIL_AXIS], maps.shape[COIL_AXIS]))
        raise InputError('%s: coil maps have shape %s; expected the k-space\'s %s'
                         % (where, maps.shape, kspace.shape))
    if not np.any(maps):
        raise InputError('%s: the coil maps are all zero' % where)


def simulate_coils(items, coils, seed=0, noise=0.0):
    """(name, image (H, W) or (T, H, W)) pairs -> (name, kspace, coil_maps) triples of `coils`
    simulated coils: birdcage maps seeded by the name (each image sees its own array rotation;
    the frames of a sequence share one) broadcast over the frames, fully sampled k-space
    sense_forward(image, maps) plus complex Gaussian noise of std `noise` per coil sample
    (seeded by the name too), (T,) C, H, W complex64."""
    from models.masks import seed_from_name
    for name, image in items:
        image = np.asarray(image)
        s = seed_from_name(name, seed)
        maps = birdcage_maps(image.shape[-2:], coils, seed=s)
        maps = np.broadcast_to(maps, image.shape[:-2] + maps.shape).astype(np.complex64)
        k = sense_forward(image, maps)
        if noise > 0:
            rng = np.random.default_rng([s, 1])
            k = k + noise / np.sqrt(2) * (rng.standard_normal(k.shape)
                                          + 1j * rng.standard_normal(k.shape))
        yield name, k.astype(np.complex64), maps
