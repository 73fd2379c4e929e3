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
"""Image quality metrics, one image (or, for cpsnr, one sequence) at a time.

Rule (kept from the Ascend port, written once here): for each image the data range is
max(|gt|) - min(|gt|) of the ground-truth magnitude; PSNR = 10 log10(range^2 / MSE) with the MSE
of magnitudes; SSIM is scikit-image's structural_similarity with the same data range;
NMSE = ||gt - rec||^2 / ||gt||^2 of magnitudes. Inputs may be complex (H, W), or real
(H, W, 2) two-channel arrays.

The reference code and the papers' tables use another PSNR, `complex_psnr` below (peak max|gt|,
MSE of the complex difference), which is the one to compare with them.

fastMRI's rule (fastmri/evaluate.py), the one to compare with fastMRI's tables, is per VOLUME
(all slices of one source file, (S, H, W) magnitudes): `volume_nmse`, `volume_psnr` with peak =
the volume's max |gt|, `volume_ssim` = the mean over slices of a 7x7-window SSIM with
data_range = the volume's max |gt|; results are averaged over volumes.
"""
import numpy as np
from skimage.metrics import structural_similarity


def _complex(x):
    """(...) complex/real as it is, or (..., 2) two-channel (ndim >= 3) -> (...) complex."""
    x = np.asarray(x)
    if not np.iscomplexobj(x) and x.ndim >= 3 and x.shape[-1] == 2:
        x = x[..., 0] + 1j * x[..., 1]
    return x


def magnitude(x):
    """(H, W) complex/real or (H, W, 2) two-channel -> (H, W) float64 magnitude."""
    return np.abs(_complex(x)).astype(np.float64)


def data_range(gt):
    g = magnitude(gt)
    return float(g.max() - g.min())


def mse(gt, rec):
    return float(np.mean((magnitude(gt) - magnitude(rec)) ** 2))


def nmse(gt, rec):
    g = magnitude(gt)
    return float(np.sum((g - magnitude(rec)) ** 2) / np.sum(g ** 2))


def psnr(gt, rec):
    err = mse(gt, rec)
    if err == 0:
        return float('inf')
    return float(10.0 * np.log10(data_range(gt) ** 2 / err))


def complex_psnr(gt, rec):
    """The reference code's PSNR (js3611/Deep-MRI-Reconstruction utils/metric.py,
    complex_psnr(x, y, peak='max'), as main_2d.py, main_3d.py and main_crnn.py call it):
    10 log10(max|gt|^2 / mean|gt - rec|^2), the MSE of the complex difference, so phase errors
    count, and the peak of the ground truth's magnitude. gt, rec: complex (...) or two-channel
    (..., 2) arrays of any rank: the reference applies it to one 2D image, or to one whole
    sequence (all frames together) for the dynamic models."""
    g, r = (_complex(x).astype(np.complex128) for x in (gt, rec))
    err = float(np.mean(np.abs(g - r) ** 2))
    if err == 0:
        return float('inf')
    return float(10.0 * np.log10(np.abs(g).max() ** 2 / err))


def ssim(gt, rec):
    g, r = magnitude(gt), magnitude(rec)
    if min(g.shape) < 7:
        raise ValueError('SSIM needs images of at least 7x7 pixels, got %s' % (g.shape,))
    return float(structural_similarity(g, r, data_range=data_range(gt)))


def evaluate(gt, rec):
    """All metrics for one image as a dict."""
    return {'psnr': psnr(gt, rec), 'ssim': ssim(gt, rec), 'mse': mse(gt, rec),
            'nmse': nmse(gt, rec), 'cpsnr': complex_psnr(gt, rec)}


def volume_nmse(gt, rec):
    """fastMRI's NMSE of a volume: ||gt - rec||^2 / ||gt||^2 over all its slices. gt, rec:
    (S, H, W) magnitudes (float)."""
    g, r = np.asarray(gt, np.float64), np.asarray(rec, np.float64)
    return float(np.sum((g - r) ** 2) / np.sum(g ** 2))


def volume_psnr(gt, rec):
    """fastMRI's PSNR of a volume: 10 log10(max(gt)^2 / mean((gt - rec)^2)), the peak and the
    mean taken over the whole volume (S, H, W) of magnitudes."""
    g, r = np.asarray(gt, np.float64), np.asarray(rec, np.float64)
    err = float(np.mean((g - r) ** 2))
    if err == 0:
        return float('inf')
    return float(10.0 * np.log10(g.max() ** 2 / err))


def volume_ssim(gt, rec):
    """fastMRI's SSIM of a volume: the mean over slices of structural_similarity with a 7x7
    window and data_range = max(gt) of the whole volume (S, H, W) of magnitudes."""
    g, r = np.asarray(gt, np.float64), np.asarray(rec, np.float64)
    if g.ndim != 3 or min(g.shape[1:]) < 7:
        raise ValueError('volume SSIM needs (S, H, W) with H, W >= 7, got %s' % (g.shape,))
    peak = float(g.max())
    return float(np.mean([structural_similarity(a, b, win_size=7, data_range=peak)
                          for a, b in zip(g, r)]))


def volume_metrics(gt, rec):
    """fastMRI's three metrics of one volume as a dict (nmse, psnr, ssim). gt, rec: (S, H, W)
    complex, real, or (S, H, W, 2) two-channel; magnitudes are compared."""
    g = np.abs(_complex(gt)).astype(np.float64)
    r = np.abs(_complex(rec)).astype(np.float64)
    return {'nmse': volume_nmse(g, r), 'psnr': volume_psnr(g, r), 'ssim': volume_ssim(g, r)}
