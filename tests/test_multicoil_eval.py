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
"""test.py on multi-coil files: the RSS metrics and the recon_size crop against a numpy
computation of the model's reconstructions, --baseline's zero-filled SENSE, CG-SENSE and
L1-ESPIRiT columns, and the bad inputs (one line, exit code 2)."""
import csv
import json
import re
import shutil

import h5py
import numpy as np
import pytest
from skimage.metrics import structural_similarity

import test as test_script
import train
from conftest import quiet
from models import evaluate, pre_input

SIZE, COILS = 24, 4
CROP = (16, 20)  # rows 4..19, columns 2..21 of 24 x 24


def synthetic(d, name, *args):
    from models.data import h5writer
    return h5writer.write_synthetic(d, args[0], (SIZE, SIZE), acc=4.0, sample_n=4, seed=0,
                                    split=0.5, name=name, coils=COILS, **args[1])


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    """{'noisy': (train, test), 'clean': (train, test)}: 12 + 8 synthetic 24x24 images through
    4 simulated coils, acc 4, k-space noise 0.002 and none."""
    d = str(tmp_path_factory.mktemp('mc_eval'))
    return {'noisy': synthetic(d, 'noisy', 12, {'noise': 0.002}),
            'clean': synthetic(d, 'clean', 8, {})}


@pytest.fixture(scope='module')
def model(files, tmp_path_factory):
    """A D2-C2 nf=8 multi-coil model, one epoch on the noisy training file."""
    d = str(tmp_path_factory.mktemp('mc_eval_ckpt'))
    quiet(train.main, ['--data_train_dir', files['noisy'][0], '--data_test_dir',
                       files['noisy'][1], '--Dn', '2', '--Dc', '2', '--nf', '8',
                       '--batch_size', '2', '--num_epoch', '1', '--save_ckpt_Dir', d])
    return d


def with_attrs(src, dst, edit):
    shutil.copy(src, dst)
    with h5py.File(dst, 'a') as f:
        edit(f)
    return dst


def run_test(model, data, out, *more):
    return quiet(test_script.main, ['--save_ckpt_Dir', model, '--data_test_dir', data,
                                    '--output_dir', out, '--batch_size', '4'] + list(more))


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def reconstructions(model, path):
    """The model's reconstructions of every image of `path`, complex (N, H, W), from its
    checkpoint (test.py's restore, the file's batches)."""
    from models.tfv1 import tf_v1
    a = test_script.parse_args(['--save_ckpt_Dir', model, '--data_test_dir', path])
    cfg, data, from_file = test_script.load(a)
    sess, inputs, pred, _ = test_script.restore(tf_v1(), cfg, model, from_file)
    batch = pre_input.Batches(data, data.n, shuffle=False, drop_remainder=False).batch(0, 0)
    out = sess.run(pred, dict(zip(inputs, evaluate.network_inputs(batch))))
    sess.close()
    return out[..., 0] + 1j * out[..., 1]


def by_hand(ref, rec, rows=slice(None), cols=slice(None)):
    """PSNR (range max - min of the reference), SSIM, MSE and NMSE of magnitudes, in numpy."""
    g, r = np.abs(ref[rows, cols]).astype(np.float64), np.abs(rec[rows, cols]).astype(np.float64)
    mse = np.mean((g - r) ** 2)
    rng = g.max() - g.min()
    return {'psnr': 10 * np.log10(rng ** 2 / mse), 'mse': mse,
            'nmse': np.sum((g - r) ** 2) / np.sum(g ** 2),
            'ssim': structural_similarity(g, r, data_range=rng)}


def test_crop_is_fastmris_centre_crop():
    x = np.arange(5 * 6 * 2).reshape(5, 6, 2)
    np.testing.assert_array_equal(evaluate.crop(x, (3, 3), channels=True), x[1:4, 1:4])
    np.testing.assert_array_equal(evaluate.crop(x[..., 0], (3, 9)), x[1:4, :, 0])
    assert evaluate.crop(x, None) is x


def test_rss_metrics_and_crop_equal_numpy(files, model, tmp_path):
    path = with_attrs(files['noisy'][1], str(tmp_path / 'crop.hdf5'),
                      lambda f: f.attrs.__setitem__('recon_size', np.array(CROP, np.int64)))
    s, printed = run_test(model, path, str(tmp_path / 'res'))
    assert 'metrics on the central 16x20' in printed and s['recon_size'] == list(CROP)
    rows = read_csv(str(tmp_path / 'res' / 'metrics.csv'))
    rec = reconstructions(model, path)
    with h5py.File(path, 'r') as f:
        rss, label = f['rss'][()], f['label'][()]
        k, maps, mask = f['kspace'][()], f['coil_maps'][()], f['mask'][()]
    zf = np.sum(np.conj(maps) * np.fft.ifft2(k * mask[:, None], norm='ortho'), axis=1)
    crop = (slice(4, 20), slice(2, 22))
    for i, row in enumerate(rows):
        for tag, x in (('in', zf[i]), ('re', rec[i]), ('label', label[i])):
            want = by_hand(rss[i], x, *crop)
            for key in ('psnr', 'ssim', 'mse', 'nmse'):
                assert float(row['rss_%s_%s' % (key, tag)]) == pytest.approx(want[key],
                                                                             rel=1e-4)
        # the label's metrics are on the crop too, and the crop changes them
        assert float(row['psnr_re']) == pytest.approx(by_hand(label[i], rec[i], *crop)['psnr'],
                                                      rel=1e-4)
        assert abs(float(row['rss_psnr_re']) - by_hand(rss[i], rec[i])['psnr']) > 1e-3
        # same scale: the fully sampled coil combination is the RSS up to the noise
        assert float(row['rss_psnr_label']) > 40
    mean = np.mean([float(r['rss_psnr_re']) for r in rows])
    assert s['rss_psnr_re'] == pytest.approx(mean)
    assert 'Avg RSS PSNR: IN %.4f RE %.4f (label %.4f)' % (
        s['rss_psnr_in'], s['rss_psnr_re'], s['rss_psnr_label']) in printed
    with open(str(tmp_path / 'res' / 'summary.json')) as f:
        assert json.load(f)['rss_nmse_re'] == pytest.approx(s['rss_nmse_re'])


def test_baseline_columns_and_cg_sense_beats_zero_filled(files, model, tmp_path):
    pytest.importorskip('sigpy')
    s, printed = run_test(model, files['clean'][1], str(tmp_path), '--baseline')
    header = open(str(tmp_path / 'metrics.csv')).readline().strip().split(',')
    assert set('%s_%s' % (k, m) for k in ('psnr', 'ssim', 'nmse', 'cpsnr')
               for m in ('zfsense', 'cgsense', 'l1espirit')) <= set(header)
    assert 'baselines: 4/4' in printed
    for name, m in (('zero-filled SENSE', 'zfsense'), ('CG-SENSE', 'cgsense'),
                    ('L1-ESPIRiT', 'l1espirit')):
        assert 'Baseline %s: PSNR %.4f SSIM %.4f' % (name, s['psnr_' + m], s['ssim_' + m]) \
            in printed
    assert s['psnr_zfsense'] == pytest.approx(s['psnr_in'], abs=1e-3)  # the network's input
    assert s['psnr_cgsense'] > s['psnr_zfsense'] + 1.0
    assert s['nmse_cgsense'] < 0.8 * s['nmse_zfsense']
    assert 'psnr_tv' not in s


def bad_rss(f):
    del f['rss']
    f['rss'] = np.zeros((len(f['label']), 5, 5), np.float32)


@pytest.mark.parametrize('edit,baseline,message', [
    (None, True, '--baseline: .* is dynamic multi-coil data; the multi-coil baselines'),
    (lambda f: f.attrs.__setitem__('recon_size', np.array([16, 0])), False,
     'attribute recon_size is .*; expected \\(H, W\\), two positive integers'),
    (bad_rss, False, 'rss must be a real \\(float\\) dataset of the label\'s shape'),
])
def test_bad_input_is_one_line_and_exit_2(files, model, tmp_path, capsys, edit, baseline,
                                          message):
    if edit is None:  # a 2D+t multi-coil file: refused by --baseline before the model check
        from models.data.dynamic_sources import write_synthetic_cine
        path = write_synthetic_cine(str(tmp_path), 2, (SIZE, SIZE), 3, 4.0, 4, split=0.5,
                                    coils=2)[1]
    else:
        path = with_attrs(files['noisy'][1], str(tmp_path / 'bad.hdf5'), edit)
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        run_test(model, path, str(tmp_path / 'res'), *(['--baseline'] if baseline else []))
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.count('\n') == 1 and re.search(message, err), err
