"""Image quality metrics, computed on magnitude images, one image at a time.

Rule (kept from the Ascend port, written once here): for each image the data range is
max(|gt|) - min(|gt|) of the ground-truth magnitude; PSNR = 10 log10(range^2 / MSE) with the MSE
of magnitudes; SSIM is scikit-image's structural_similarity with the same data range;
NMSE = ||gt - rec||^2 / ||gt||^2 of magnitudes. Inputs may be complex (H, W), or real
(H, W, 2) two-channel arrays.
"""
import numpy as np
from skimage.metrics import structural_similarity


def magnitude(x):
    """(H, W) complex/real or (H, W, 2) two-channel -> (H, W) float64 magnitude."""
    x = np.asarray(x)
    if not np.iscomplexobj(x) and x.ndim >= 3 and x.shape[-1] == 2:
        x = x[..., 0] + 1j * x[..., 1]
    return np.abs(x).astype(np.float64)


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


def ssim(gt, rec):
    g, r = magnitude(gt), magnitude(rec)
    if min(g.shape) < 7:
        raise ValueError('SSIM needs images of at least 7x7 pixels, got %s' % (g.shape,))
    return float(structural_similarity(g, r, data_range=data_range(gt)))


def evaluate(gt, rec):
    """All metrics for one image as a dict."""
    return {'psnr': psnr(gt, rec), 'ssim': ssim(gt, rec), 'mse': mse(gt, rec),
            'nmse': nmse(gt, rec)}
