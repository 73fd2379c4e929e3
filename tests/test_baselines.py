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

from models import baselines, masks, metrics
from models.data.synthetic import phantom
from models.pre_input import to_two_channel, undersample

sp = pytest.importorskip('sigpy')


@pytest.mark.parametrize('shape', [(8, 8), (7, 10)])
def test_to_sigpy_kspace_is_sigpys_fft_of_the_same_image(shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    np.testing.assert_allclose(baselines.to_sigpy_kspace(np.fft.fft2(x, norm='ortho')),
                               sp.fft(x, axes=(-2, -1)), atol=1e-5)


def sample(shape, mask_type, seed=0):
    img = phantom(shape[-2:], seed)
    if len(shape) == 3:
        img = np.stack([img] * shape[0])
    m = masks.make_mask(mask_type, shape, 4, 4, seed=seed)
    return img, m, np.fft.fft2(img, norm='ortho') * m


@pytest.mark.parametrize('method', ['tv', 'l1wavelet'])
def test_2d_baselines_keep_k0_and_beat_zero_filled(method):
    img, m, k0 = sample((32, 32), 'cartesian')
    fn = baselines.RECONSTRUCT[method]
    loose = fn(k0, m, 1e-7, 200)  # almost no regularisation: the samples are kept
    s = m == 1
    err = np.abs(np.fft.fft2(loose, norm='ortho')[s] - k0[s]).max()
    assert err < 1e-4 * np.abs(k0).max()
    rec = baselines.reconstruct(k0, m, [method])[method]
    assert rec.dtype == np.complex64 and rec.shape == (32, 32)
    assert metrics.psnr(img, rec) > metrics.psnr(img, baselines.zero_filled(k0))
    # the scale of the data does not change the result (lambdas are for max |x| = 1)
    np.testing.assert_allclose(fn(255 * k0, m) / 255, rec, atol=5e-3)  # iterative: float32


def test_temporal_tv_beats_zero_filled_on_k_t_masks():
    img, m, k0 = sample((6, 32, 32), 'kt_gaussian')
    rec = baselines.reconstruct(k0, m)['ttv']
    assert rec.shape == (6, 32, 32)
    zf = baselines.zero_filled(k0)
    assert metrics.complex_psnr(img, rec) > metrics.complex_psnr(img, zf) + 3


def test_metrics_row_and_summary():
    img, m, k0 = sample((32, 32), 'variable_density')
    feature = to_two_channel(undersample(img, m))
    row = baselines.metrics_row(feature, m, to_two_channel(img))
    assert sorted(row) == sorted('%s_%s' % (k, b) for k in ('psnr', 'ssim', 'nmse', 'cpsnr')
                                 for b in ('tv', 'l1wavelet'))
    s = baselines.summarize([dict(row, index=0, psnr_in=1.0), dict(row, index=1)])
    assert s['psnr_tv'] == pytest.approx(row['psnr_tv']) and 'psnr_in' not in s
    lines = baselines.summary_lines(s)
    assert lines[0].startswith('Baseline L1-wavelet: PSNR ') and lines[1].startswith(
        'Baseline TV: PSNR %.4f' % row['psnr_tv'])


def test_test_script_baseline_and_fastmri_columns(tiny_model, tiny_data, tmp_path, capsys):
    import test as test_script
    s = test_script.main(['--save_ckpt_Dir', tiny_model[0], '--data_test_dir', tiny_data[1],
                          '--output_dir', str(tmp_path), '--baseline', '--batch_size', '4'])
    printed = capsys.readouterr().out
    assert 'baselines: 8/8' in printed
    assert 'Baseline TV: PSNR %.4f' % s['psnr_tv'] in printed
    assert 'Avg fastMRI PSNR: IN %.4f RE %.4f' % (s['fastmri_psnr_in'], s['fastmri_psnr_re']) \
        in printed
    header = open(str(tmp_path / 'metrics.csv')).readline().strip().split(',')
    assert {'psnr_tv', 'ssim_l1wavelet', 'volume', 'fastmri_ssim_re'} <= set(header)
    assert s['volumes'] == 8  # tiny_data: every synthetic image is a volume of its own
    # the baselines by fastMRI's rule too: summary, printed line and, by hand, image 0's volume
    assert 'Baseline TV: PSNR %.4f SSIM %.4f NMSE %.6e cPSNR %.4f fastMRI NMSE %.6e PSNR %.4f' % (
        s['psnr_tv'], s['ssim_tv'], s['nmse_tv'], s['cpsnr_tv'], s['fastmri_nmse_tv'],
        s['fastmri_psnr_tv']) in printed
    import csv
    from models.pre_input import H5Data
    row = next(csv.DictReader(open(str(tmp_path / 'metrics.csv'))))
    data = H5Data(tiny_data[1])
    label, mask = data.read([int(row['index'])])
    data.close()
    k0 = np.fft.fft2(label[0], norm='ortho') * mask[0]  # test.py's k0, from the same samples
    rec = baselines.reconstruct(k0, mask[0])['tv']
    want = metrics.volume_metrics(np.abs(label[0])[None], np.abs(rec)[None])
    # TV iterates: float32 rounding of its input (test.py's k0 comes from the zero-filled
    # float32 feature) moves the result in the 4th digit
    for key, tol in (('nmse', 1e-2), ('psnr', 1e-3), ('ssim', 1e-3)):
        assert float(row['fastmri_%s_tv' % key]) == pytest.approx(want[key], rel=tol)
    assert np.mean([float(r['fastmri_ssim_tv']) for r in csv.DictReader(
        open(str(tmp_path / 'metrics.csv')))]) == pytest.approx(s['fastmri_ssim_tv'])


def test_baseline_lam_replaces_the_default(tiny_model, tiny_data, tmp_path):
    import csv
    import test as test_script
    from models.pre_input import H5Data
    s = test_script.main(['--save_ckpt_Dir', tiny_model[0], '--data_test_dir', tiny_data[1],
                          '--output_dir', str(tmp_path), '--baseline', '--batch_size', '8',
                          '--baseline_lam', 'tv=0.2'])
    assert s['baseline_lam'] == {'tv': 0.2}
    row = next(csv.DictReader(open(str(tmp_path / 'metrics.csv'))))
    data = H5Data(tiny_data[1])
    label, mask = data.read([int(row['index'])])
    data.close()
    k0 = np.fft.fft2(label[0], norm='ortho') * mask[0]
    got = float(row['psnr_tv'])
    assert got == pytest.approx(metrics.psnr(label[0], baselines.tv(k0, mask[0], lam=0.2)),
                                abs=1e-2)
    assert abs(got - metrics.psnr(label[0], baselines.tv(k0, mask[0]))) > 0.05


@pytest.mark.parametrize('extra, message', [
    (['--baseline', '--baseline_lam', 'zfsense=0.1'], '--baseline_lam zfsense=0.1: expected'),
    (['--baseline', '--baseline_lam', 'tv=-1'], '--baseline_lam tv=-1: expected'),
    (['--baseline', '--baseline_lam', 'tv'], '--baseline_lam tv: expected'),
    (['--baseline_lam', 'tv=0.1'], '--baseline_lam needs --baseline'),
])
def test_baseline_lam_bad_values_are_one_line(tiny_model, tiny_data, tmp_path, extra, message):
    import subprocess
    import sys
    import os
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    r = subprocess.run([sys.executable, 'test.py', '--save_ckpt_Dir', tiny_model[0],
                        '--data_test_dir', tiny_data[1], '--output_dir', str(tmp_path / 'o')]
                       + extra, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, cwd=root)
    assert r.returncode == 2 and message in r.stderr and r.stderr.count('\n') == 1, r.stderr
