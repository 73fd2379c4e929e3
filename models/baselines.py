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
"""Reconstructions without training, on the same k-space samples: the floor a learned model
has to beat (docs/baselines.md).

All take k0 (..., H, W) complex, the acquired samples in our layout (uncentred, orthonormal
numpy FFT, zero where the mask is 0), and the mask (..., H, W) 0/1, and return complex64
images (..., H, W):

* `zero_filled`  ifft2(k0), the network's input;
* `tv`           sigpy.mri.app.TotalVariationRecon, min_x 1/2 ||M F x - k0||^2 + lam ||D x||_1
                 (D: circular finite differences along H and W; LAM_TV);
* `l1_wavelet`   sigpy.mri.app.L1WaveletRecon, min_x 1/2 ||M F x - k0||^2 + lam ||W x||_1
                 (W: Daubechies-4 wavelets; LAM_WAVELET);
* `temporal_tv`  dynamic data (T, H, W): min_x 1/2 ||M F x - k0||^2 + lam ||D_t x||_1 with D_t
                 the circular finite difference along the frames (a cine is periodic), by
                 sigpy.app.LinearLeastSquares (primal-dual); LAM_TEMPORAL.

Single coil: sensitivity maps of ones. sigpy's FFT is centred, ours is not: the samples are
handed to sigpy with the linear phase of its ifftshift and fftshift-ed (to_sigpy_kspace), so
sigpy's image is ours, unshifted (exact; shifting the image instead cuts the object at the
edges and costs the wavelet baseline 0.7 dB). The lambdas are for images of max |x| = 1: every image
is solved at that scale (k0 divided by max |zero-filled|) and scaled back, so they do not
depend on the data's scale (0-255 port images give the same result).
"""
import numpy as np

from models import evaluate, metrics

LAM_TV = 0.03
LAM_WAVELET = 0.0005
LAM_TEMPORAL = 0.02
MAX_ITER = 100
METHODS_2D = ('tv', 'l1wavelet')
METHODS_DYNAMIC = ('ttv',)


def zero_filled(k0):
    """ifft2(k0) (orthonormal, uncentred): (..., H, W) complex64."""
    return np.fft.ifft2(k0, norm='ortho').astype(np.complex64)


def _scaled(k0):
    """(k0 / s, s) with s = max |zero-filled image| (1 for an all-zero k0)."""
    s = float(np.abs(zero_filled(k0)).max()) or 1.0
    return np.asarray(k0, dtype=np.complex64) / s, s


def to_sigpy_kspace(k):
    """Our k-space (H, W) -> sigpy's centred one of the same image: sigpy's FFT is
    fftshift(fft2(ifftshift(x))) and ifftshift rolls x by -(N // 2), which multiplies fft2(x)
    by exp(2 pi i k (N // 2) / N) along each axis; then fftshift."""
    h, w = k.shape[-2:]
    ph = np.exp(2j * np.pi * (np.arange(h)[:, None] * (h // 2) / h +
                              np.arange(w)[None, :] * (w // 2) / w))
    return np.fft.fftshift(k * ph, axes=(-2, -1)).astype(np.complex64)


def _sigpy_2d(app_class, k0, mask, **kwargs):
    """Run a sigpy.mri.app single-coil reconstruction of one image (H, W) given in our layout;
    the image comes back unshifted (the regulariser sees it as it is, not cut at the edges)."""
    k, s = _scaled(k0)
    y = to_sigpy_kspace(k)[None]
    w = np.fft.fftshift(np.asarray(mask, dtype=np.float32))[None]
    mps = np.ones_like(y)
    x = app_class(y, mps, weights=w, show_pbar=False, **kwargs).run()
    return (np.asarray(x) * s).astype(np.complex64)


def tv(k0, mask, lam=LAM_TV, max_iter=MAX_ITER):
    """Total-variation CS of one image: k0, mask (H, W) -> (H, W) complex64."""
    from sigpy.mri.app import TotalVariationRecon  # sigpy imports numba: only when asked
    return _sigpy_2d(TotalVariationRecon, k0, mask, lamda=lam, max_iter=max_iter)


def l1_wavelet(k0, mask, lam=LAM_WAVELET, max_iter=MAX_ITER):
    """L1-wavelet CS of one image: k0, mask (H, W) -> (H, W) complex64."""
    from sigpy.mri.app import L1WaveletRecon
    return _sigpy_2d(L1WaveletRecon, k0, mask, lamda=lam, max_iter=max_iter)


def temporal_tv(k0, mask, lam=LAM_TEMPORAL, max_iter=MAX_ITER):
    """Temporal-TV CS of one sequence: k0, mask (T, H, W) -> (T, H, W) complex64. The
    operator is our own uncentred FFT (sigpy.linop.FFT with center=False), so nothing is
    shifted."""
    import sigpy as sp
    k, s = _scaled(k0)
    shape = k.shape
    m = np.asarray(mask, dtype=np.complex64)
    A = sp.linop.Multiply(shape, m) * sp.linop.FFT(shape, axes=(-2, -1), center=False)
    G = sp.linop.FiniteDifference(shape, axes=(0,))
    app = sp.app.LinearLeastSquares(A, k * m, proxg=sp.prox.L1Reg(G.oshape, lam), G=G,
                                    max_iter=max_iter, show_pbar=False)
    return (app.run() * s).astype(np.complex64)


RECONSTRUCT = {'tv': tv, 'l1wavelet': l1_wavelet, 'ttv': temporal_tv}


def reconstruct(k0, mask, methods=None, lams=None):
    """Every baseline for one image (H, W) or sequence (T, H, W): {name: complex64 image}.
    Default methods: METHODS_2D for an image, METHODS_DYNAMIC for a sequence. `lams`:
    {name: lambda} replacing the module's defaults (LAM_TV, ...) for those named."""
    if methods is None:
        methods = METHODS_DYNAMIC if np.ndim(k0) == 3 else METHODS_2D
    return dict((name, RECONSTRUCT[name](k0, mask, **lam_kwargs(name, lams)))
                for name in methods)


def lam_kwargs(name, lams):
    """{'lam': lams[name]} where `lams` sets baseline `name`'s lambda, else {}."""
    return {'lam': lams[name]} if lams and name in lams else {}


def from_feature(feature, mask):
    """k0 of a zero-filled two-channel image (..., H, W, 2), as the graph's sampled_kspace."""
    f = metrics._complex(feature)
    return np.fft.fft2(f, norm='ortho') * mask


NAMES = {'tv': 'TV', 'l1wavelet': 'L1-wavelet', 'ttv': 'temporal TV'}


def recon_metrics(recs, label, size=None):
    """Per-image columns of baseline reconstructions {name: (..., H, W) complex} against
    `label` (..., H, W, 2) two-channel or complex, as evaluate.image_row computes the
    network's: psnr_<m>, ssim_<m>, nmse_<m>, cpsnr_<m> (a sequence: frames averaged, cpsnr
    over all frames), on the centre crop `size` (H, W) when given (evaluate.crop)."""
    lab = evaluate.crop(metrics._complex(label), size)
    row = {}
    for name, rec in sorted(recs.items()):
        rec = evaluate.crop(rec, size)
        frames = [(lab, rec)] if rec.ndim == 2 else list(zip(lab, rec))
        per = [metrics.evaluate(g, r) for g, r in frames]
        for key in ('psnr', 'ssim', 'nmse'):
            row['%s_%s' % (key, name)] = float(np.mean([p[key] for p in per]))
        row['cpsnr_%s' % name] = metrics.complex_psnr(lab, rec)
    return row


def metrics_row(feature, mask, label, methods=None, size=None):
    """recon_metrics of the single-coil baselines of one test item, reconstructed from its
    zero-filled feature (..., H, W, 2) and mask (..., H, W)."""
    return recon_metrics(reconstruct(from_feature(feature, mask), mask, methods), label, size)


def summarize(rows, names=NAMES):
    """Means over images of every baseline column (psnr_tv, ...) the rows have, for the
    baselines of `names` (NAMES; models/coil_baselines.py has the multi-coil ones)."""
    keys = sorted(k for k in rows[0] if k.split('_', 1)[-1] in names and
                  k.split('_')[0] in ('psnr', 'ssim', 'nmse', 'cpsnr'))
    return dict((k, float(np.mean([r[k] for r in rows]))) for k in keys)


def in_summary(s, names=NAMES):
    """The baselines of `names` whose metrics a summary holds (psnr_<m>, ...), in key order."""
    return [m for m in sorted(names) if 'psnr_' + m in s]


def summary_lines(s, names=NAMES):
    """'Baseline TV: PSNR .. SSIM .. NMSE .. cPSNR .. [fastMRI NMSE .. PSNR .. SSIM ..]', one
    line per baseline of `names` in `s`, in the order of their keys."""
    return ['Baseline %s: PSNR %.4f SSIM %.4f NMSE %.6e cPSNR %.4f%s'
            % (names[m], s['psnr_' + m], s['ssim_' + m], s['nmse_' + m], s['cpsnr_' + m],
               fastmri_part(s, m)) for m in in_summary(s, names)]


def fastmri_part(s, m):
    """' fastMRI NMSE .. PSNR .. SSIM ..' of baseline `m` (fastMRI's per-volume rule, as the
    network's `Avg fastMRI` lines), or '' where the summary has none."""
    if 'fastmri_psnr_' + m not in s:
        return ''
    return ' fastMRI NMSE %.6e PSNR %.4f SSIM %.4f' % (
        s['fastmri_nmse_' + m], s['fastmri_psnr_' + m], s['fastmri_ssim_' + m])


def progress(done, total):
    """Print 'baselines: done/total' at every tenth of `total` (and at the end)."""
    step = max(1, total // 10)
    if done % step == 0 or done == total:
        print('baselines: %d/%d' % (done, total), flush=True)
