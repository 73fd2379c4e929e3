import numpy as np
import pytest

from models import metrics


def test_psnr_uses_gt_range_of_magnitudes():
    gt = np.zeros((16, 16))
    gt[4:12, 4:12] = 2.0                       # range 2
    rec = gt + 0.1                             # MSE 0.01
    assert metrics.psnr(gt, rec) == pytest.approx(10 * np.log10(4 / 0.01))
    # complex input: the magnitude is compared, so a global phase changes nothing
    assert metrics.psnr(gt * np.exp(1j * 0.7), rec * np.exp(-1j * 0.3)) == pytest.approx(
        metrics.psnr(gt, rec))
    # two-channel (H, W, 2) input is read as complex
    two = np.stack([gt, np.zeros_like(gt)], -1)
    assert metrics.psnr(two, rec) == pytest.approx(metrics.psnr(gt, rec))


def test_nmse_mse_ssim():
    rng = np.random.default_rng(0)
    gt = rng.random((32, 32)) + 0.5
    rec = gt * 1.1
    assert metrics.nmse(gt, rec) == pytest.approx(0.01)
    assert metrics.mse(gt, rec) == pytest.approx(np.mean((0.1 * gt) ** 2))
    assert metrics.ssim(gt, gt) == pytest.approx(1.0)
    assert metrics.ssim(gt, rec) < 1.0
    assert metrics.psnr(gt, gt) == float('inf')
