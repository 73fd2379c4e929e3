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
import h5py
import numpy as np
import pytest

from models import evaluate, logparse, metrics, pre_input
from models.data import h5writer


def two_channel(x):
    return np.stack([x.real, x.imag], -1).astype(np.float32)


def images(n, seed=0):
    rng = np.random.default_rng(seed)
    gt = rng.random((n, 12, 12)) + 0.1
    return gt, gt + 0.05 * rng.standard_normal(gt.shape), gt * 0.9


def test_fastmri_volumes_group_by_volume():
    gt, zf, re = images(5)
    volumes = [0, 0, 1, 1, 1]
    acc = evaluate.FastMRIVolumes(volumes)
    rows = []
    for i in (0, 1, 2, 3, 4):
        acc.add(i, two_channel(zf[i]), two_channel(re[i]), two_channel(gt[i]))
        rows.append({'index': i})
    assert not acc.held  # both volumes complete: nothing kept in memory
    s = {}
    acc.finish(rows, s)
    v0, v1 = (metrics.volume_metrics(gt[sl], re[sl]) for sl in (slice(0, 2), slice(2, 5)))
    assert s['volumes'] == 2
    assert s['fastmri_psnr_re'] == pytest.approx((v0['psnr'] + v1['psnr']) / 2, rel=1e-5)
    assert s['fastmri_ssim_re'] == pytest.approx((v0['ssim'] + v1['ssim']) / 2, rel=1e-5)
    zf0 = metrics.volume_metrics(gt[:2], zf[:2])
    assert rows[1]['volume'] == 0 and rows[1]['fastmri_nmse_in'] == pytest.approx(
        zf0['nmse'], rel=1e-4)
    assert rows[4]['fastmri_nmse_re'] == pytest.approx(v1['nmse'], rel=1e-4)
    lines = evaluate.summary_lines(dict(s, **{'%s_%s' % (k, t): 1.0 for k in evaluate.KEYS
                                              for t in ('in', 're')}))
    assert lines[5].startswith('Avg fastMRI NMSE: IN ')
    assert lines[6] == 'Avg fastMRI PSNR: IN %.4f RE %.4f' % (s['fastmri_psnr_in'],
                                                               s['fastmri_psnr_re'])
    assert lines[7].startswith('Avg fastMRI SSIM: IN ')
    # the launchers' parser still reads the first line only
    assert logparse.parse_test('\n'.join(lines))['TrainAccuracy'] == 1.0


def test_sequence_frames_are_the_slices():
    rng = np.random.default_rng(1)
    gt = rng.random((2, 3, 10, 10)) + 0.1
    acc = evaluate.FastMRIVolumes(np.arange(2))
    for i in range(2):
        acc.add(i, two_channel(gt[i] * 0.5), two_channel(gt[i] * 0.8), two_channel(gt[i]))
    s = {}
    acc.finish([{'index': 0}, {'index': 1}], s)
    expect = np.mean([metrics.volume_psnr(gt[i], gt[i] * 0.8) for i in range(2)])
    assert s['fastmri_psnr_re'] == pytest.approx(expect, rel=1e-5)


def test_reader_volumes(tmp_path):
    path = str(tmp_path / 'v.hdf5')
    w = h5writer.H5Writer(path, (8, 8), True)
    m = np.ones((8, 8), np.float32)
    m[::2] = 0
    for i, vol in enumerate(['a', 'a', 'b', None, 'b']):
        w.append(np.ones((8, 8), np.complex64), m, 1.0, 'x%d' % i, vol)
    w.close()
    d = pre_input.H5Data(path)
    np.testing.assert_array_equal(d.volumes(), [0, 0, 1, 2, 1])
    assert d.attrs['acc_achieved'] == pytest.approx(2.0)
    d.close()
    with h5py.File(path, 'a') as f:
        del f['volume']
    d = pre_input.H5Data(path)
    np.testing.assert_array_equal(d.volumes(), 0)  # no volume dataset: the file is one volume
    d.close()
