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
"""Multi-coil reconstructions that need no training, to report beside the network on the same
files and masks: the zero-filled SENSE combination, CG-SENSE and L1-wavelet ESPIRiT.

Arrays as in models/data/coils.py: k-space (..., C, H, W) complex, uncentred and orthonormal,
maps (..., C, H, W), masks (..., H, W) 0/1; images (..., H, W) complex64.

`test.py --baseline` on a 2-D multi-coil file runs all three (`metrics_row`) with the file's
fully sampled k-space, coil maps and mask (the network's samples) and reports them with the
single-coil baselines' helpers (models/baselines.py: recon_metrics, summarize, summary_lines
with NAMES below): columns psnr_<m>, ssim_<m>, nmse_<m>, cpsnr_<m> for m in zfsense, cgsense,
l1espirit.
"""
import numpy as np

from models import baselines
from models.data.coils import sense_adjoint, sense_forward
from models.errors import InputError


def zero_filled(kspace, maps, mask):
    """The network's input: sum_c conj(S_c) ifft2(k_c mask)."""
    return sense_adjoint(kspace * np.expand_dims(mask, -3), maps)


def cg_sense(kspace, maps, mask, iters=30, lam=0.0, tol=1e-6):
    """CG-SENSE (Pruessmann et al. 2001): conjugate gradients on the normal equations
    (A^H A + lam I) x = A^H y, A = mask fft2 S, started from zero. Images of a batch are
    independent blocks of one system, so they are solved together."""
    m = np.expand_dims(mask, -3)

    def normal(x):
        return sense_adjoint(m * sense_forward(x, maps), maps) + lam * x

    b = sense_adjoint(m * kspace, maps).astype(np.complex128)
    x = np.zeros_like(b)
    r, p = b.copy(), b.copy()
    rs = np.vdot(r, r).real
    stop = (tol * np.linalg.norm(b)) ** 2
    for _ in range(iters):
        if rs <= stop:
            break
        ap = normal(p)
        alpha = rs / np.vdot(p, ap).real
        x += alpha * p
        r -= alpha * ap
        rs_new = np.vdot(r, r).real
        p = r + (rs_new / rs) * p
        rs = rs_new
    return x.astype(np.complex64)


def l1_espirit(kspace, maps, mask, lam=1e-3, iters=50):
    """L1-wavelet regularised SENSE with the (ESPIRiT) maps, sigpy's L1WaveletRecon, one 2-D
    image at a time. sigpy's k-space is centred: ours is moved there by the FFT of our
    zero-filled coil images, and its mask by fftshift (a permutation of the lines)."""
    try:
        import sigpy
        from sigpy.mri.app import L1WaveletRecon
    except ImportError as e:
        raise InputError('L1-wavelet ESPIRiT needs sigpy (pip install sigpy): %s' % e)
    lead = kspace.shape[:-3]
    k = kspace.reshape((-1,) + kspace.shape[-3:])
    s = np.broadcast_to(maps, kspace.shape).reshape(k.shape)
    mk = np.broadcast_to(mask, lead + mask.shape[-2:]).reshape((-1,) + mask.shape[-2:])
    out = []
    for ki, si, mi in zip(k, s, mk):
        y = sigpy.fft(np.fft.ifft2(ki * mi, norm='ortho'), axes=(-2, -1)) * np.fft.fftshift(mi)
        out.append(L1WaveletRecon(y, si, lam, weights=np.fft.fftshift(mi), max_iter=iters,
                                  show_pbar=False).run())
    return np.asarray(out).reshape(lead + kspace.shape[-2:]).astype(np.complex64)


NAMES = {'zfsense': 'zero-filled SENSE', 'cgsense': 'CG-SENSE', 'l1espirit': 'L1-ESPIRiT'}
RECONSTRUCT = {'zfsense': zero_filled, 'cgsense': cg_sense, 'l1espirit': l1_espirit}


def reconstruct(kspace, maps, mask, methods=None, lams=None):
    """Every baseline (default: all of NAMES) of k-space (C, H, W) with its maps and mask
    (H, W): {name: (H, W) complex64}; `lams` {name: lambda} as in baselines.reconstruct (only
    'cgsense', Tikhonov, and 'l1espirit' have one)."""
    return dict((m, RECONSTRUCT[m](kspace, maps, mask, **baselines.lam_kwargs(m, lams)))
                for m in (methods or sorted(NAMES)))


HAS_LAMBDA = ('cgsense', 'l1espirit')  # cgsense: Tikhonov lam (default 0)


def metrics_row(kspace, maps, mask, label, size=None, methods=None):
    """Per-image columns (models.baselines.recon_metrics) of the baselines of one test image:
    k-space and maps (C, H, W), mask (H, W), label (H, W, 2) or complex, centre-cropped to
    `size` (H, W) when given."""
    return baselines.recon_metrics(reconstruct(kspace, maps, mask, methods), label, size)
