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


def test_complex_psnr_hand_values():
    """The reference's complex_psnr(x, y, peak='max'): 10 log10(max|gt|^2 / mean|gt - rec|^2)."""
    gt = np.ones((4, 4), np.complex64)
    gt[1, 2] = 2j                               # peak |gt| = 2, min 1
    rec = gt + 0.1                              # complex error 0.1 everywhere: MSE 0.01
    assert metrics.complex_psnr(gt, rec) == pytest.approx(10 * np.log10(4 / 0.01))  # 26.02
    # the port's rule on the same pair: range max - min = 1 and magnitude errors
    mag_err = np.mean((np.abs(rec) - np.abs(gt)) ** 2)
    assert metrics.psnr(gt, rec) == pytest.approx(10 * np.log10(1 / mag_err))
    # a phase error counts: |1 - e^{i pi/3}| = 1, so a constant-magnitude image turned by
    # pi/3 has MSE 1 and peak 1: 0 dB, where the magnitude PSNR sees identical images
    unit = np.exp(1j * np.linspace(0, 3, 16)).reshape(4, 4)
    assert metrics.complex_psnr(unit, unit * np.exp(1j * np.pi / 3)) == pytest.approx(0, abs=1e-9)
    mags = np.linspace(0.5, 1.0, 16).reshape(4, 4)
    turned = mags * unit * np.exp(1j * np.pi / 3)
    assert metrics.complex_psnr(mags * unit, turned) == pytest.approx(
        10 * np.log10(1 / np.mean(mags ** 2)))
    assert metrics.psnr(mags * unit, turned) > 100
    # two-channel input is read as complex; identical images give inf
    two = np.stack([gt.real, gt.imag], -1)
    assert metrics.complex_psnr(two, rec) == pytest.approx(metrics.complex_psnr(gt, rec))
    assert metrics.complex_psnr(gt, gt) == float('inf')


def test_sequence_complex_psnr_is_over_all_frames():
    """Dynamic data: the reference takes one peak and one MSE over the whole sequence, not the
    mean of per-frame values: frames of peak 2 (error 0.1) and peak 1 (error 0.2) give
    10 log10(4 / 0.025) = 22.04 dB, where the frame mean would be (26.02 + 13.98) / 2 = 20.0."""
    from models import evaluate
    gt = np.ones((2, 8, 8), np.complex64)
    gt[0, 3, 3] = 2.0
    gt[1, 5, 5] = 0.5  # no flat frame: the magnitude PSNR and SSIM of image_row need a range
    err = np.stack([np.full((8, 8), 0.1), np.full((8, 8), 0.2j)])
    rec = gt + err
    two = lambda z: np.stack([z.real, z.imag], -1).astype(np.float32)  # noqa: E731
    want = 10 * np.log10(4 / 0.025)
    assert metrics.complex_psnr(gt, rec) == pytest.approx(want)
    row = evaluate.image_row(0, two(gt), two(rec), two(gt))
    assert row['cpsnr_re'] == pytest.approx(want, abs=1e-4)
    assert row['cpsnr_in'] == float('inf')
    frames = [metrics.complex_psnr(g, r) for g, r in zip(gt, rec)]
    assert np.mean(frames) == pytest.approx(20.0, abs=0.01)
    # 2D rows carry the per-image value
    row2 = evaluate.image_row(1, two(gt[0]), two(rec[0]), two(gt[0]))
    assert row2['cpsnr_re'] == pytest.approx(10 * np.log10(4 / 0.01), abs=1e-4)


def two_slice_volume():
    """gt: slice 0 all 1, slice 1 all 2 (8x8); rec: slice 0 off by +0.5, slice 1 exact."""
    gt = np.stack([np.ones((8, 8)), 2 * np.ones((8, 8))])
    rec = gt.copy()
    rec[0] += 0.5
    return gt, rec


def test_fastmri_volume_nmse_and_psnr_hand_values():
    gt, rec = two_slice_volume()
    # ||gt - rec||^2 = 64 * 0.25 = 16, ||gt||^2 = 64 * 1 + 64 * 4 = 320
    assert metrics.volume_nmse(gt, rec) == pytest.approx(16 / 320.0)
    # peak = the volume's max (2), not slice 0's; MSE over the volume = 16 / 128
    assert metrics.volume_psnr(gt, rec) == pytest.approx(10 * np.log10(4 / 0.125))
    assert metrics.volume_psnr(gt, gt) == float('inf')


def test_fastmri_volume_ssim_hand_value():
    gt = np.stack([np.ones((8, 8)), 10 * np.ones((8, 8))])
    rec = gt.copy()
    rec[0] = 1.5
    # constant windows: SSIM = (2 a b + C1) / (a^2 + b^2 + C1), C1 = (0.01 L)^2 with
    # L = the volume's max 10 (slice 0 alone would use 1); slice 1 is exact: 1
    c1 = (0.01 * 10) ** 2
    slice0 = (2 * 1 * 1.5 + c1) / (1 + 1.5 ** 2 + c1)
    assert metrics.volume_ssim(gt, rec) == pytest.approx((slice0 + 1.0) / 2, abs=1e-9)
    own = (2 * 1.5 + 1e-4) / (1 + 1.5 ** 2 + 1e-4)
    assert abs(metrics.volume_ssim(gt, rec) - (own + 1.0) / 2) > 1e-4


def test_fastmri_volume_metrics_take_magnitudes():
    gt, rec = two_slice_volume()
    m = metrics.volume_metrics(gt * np.exp(1j * 0.3), np.stack([rec, 0 * rec], -1))
    assert m['nmse'] == pytest.approx(0.05)
    assert m['psnr'] == pytest.approx(10 * np.log10(32))
    assert m['ssim'] == pytest.approx(metrics.volume_ssim(gt, rec))
