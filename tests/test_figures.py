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
"""Figures people look at (models/plots.py, models/report.py, models/runlog.py): the panels show
the right pixels on the scales their colour bars state and carry the metrics.csv numbers in
their titles; train.py keeps its own log and draws its curves from it; test.py --report writes
a self-contained report.html that a headless browser renders with its summary table."""
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from contextlib import redirect_stdout

import numpy as np
import pytest
from PIL import Image

import test as test_script
from conftest import ROOT
from models import evaluate, logparse, masks, plots, pre_input, report, runlog
from models.data import synthetic


def png_rgb(path_or_bytes):
    src = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    return np.asarray(Image.open(src).convert('RGB')).astype(np.float64) / 255.0


def png_titles(path):
    """The titles a figure wrote into its PNG text chunk, one per line."""
    return Image.open(path).info['Description'].splitlines()


def tile_title(name, row, tag):
    """A tile's title as png_titles gives it: name, PSNR and SSIM of the metrics row, and the
    complex PSNR where the row has it (metrics.csv does)."""
    t = '%s PSNR %.2f dB  SSIM %.3f' % (name, row['psnr_' + tag], row['ssim_' + tag])
    if 'cpsnr_' + tag in row:
        t += ' cPSNR %.2f dB' % row['cpsnr_' + tag]
    return t


def block_centres(tile, rows, cols):
    """Pixel values at the centres of a rows x cols grid of equal blocks of a tile."""
    h, w = tile.shape[:2]
    ys = ((np.arange(rows) + 0.5) * h / rows).astype(int)
    xs = ((np.arange(cols) + 0.5) * w / cols).astype(int)
    return tile[ys][:, xs]


def crop(img, box):
    x, y, w, h = box
    return img[y:y + h, x:x + w]


def inferno_values(rgb, vmax):
    """Invert the error colour map: RGB pixels -> values on 0..vmax (nearest of 256 colours)."""
    import matplotlib
    try:
        cmap = matplotlib.colormaps[plots.ERROR_CMAP]
    except AttributeError:  # matplotlib < 3.5
        import matplotlib.cm
        cmap = matplotlib.cm.get_cmap(plots.ERROR_CMAP)
    lut = cmap(np.linspace(0, 1, 256))[:, :3]
    d = ((rgb[..., None, :] - lut) ** 2).sum(-1)
    return d.argmin(-1) / 255.0 * vmax


def case_2d(n=32):
    """A phantom, its 4x mask, zero-filled input and a noisy 'reconstruction', two-channel;
    magnitudes far from 1, as raw k-space data has them."""
    g = 3e-4 * synthetic.phantom(n, seed=0, index=3)
    m = masks.make_mask('cartesian', (n, n), 4.0, 4, seed=1)
    rng = np.random.default_rng(0)
    re = g + 6e-6 * (rng.standard_normal(g.shape) + 1j * rng.standard_normal(g.shape))
    f, p, l = (pre_input.to_two_channel(x) for x in (pre_input.undersample(g, m), re, g))
    return f, p, l, m


ROW = {'index': 3, 'psnr_in': 17.1234, 'psnr_re': 31.9876, 'ssim_in': 0.5551,
       'ssim_re': 0.9449, 'nmse_in': 0.1144, 'nmse_re': 0.00305, 'mse_in': 1.0, 'mse_re': 0.1}


def test_image_panel_pixels_scales_and_titles(tmp_path):
    f, p, l, m = case_2d()
    path = str(tmp_path / 'p.png')
    info = plots.image_panel(path, f, p, l, m, ROW, index=3)
    img = png_rgb(path)
    assert (img.shape[1], img.shape[0]) == info['size'] == plots.panel_size(32, 32)
    assert len(info['tiles']) == 6
    for box in info['tiles'].values():
        assert box[2] >= 256 and box[3] >= 256 and box[2] % 32 == 0  # a whole upscale of 32
    gt, zf, re = (np.abs(x[..., 0] + 1j * x[..., 1]) for x in (l, f, p))
    top = gt.max()
    # grey tiles: 0..max|GT| on the grey ramp
    for name, ref in (('gt', gt), ('in', zf), ('re', re)):
        got = block_centres(crop(img, info['tiles'][name]), 32, 32)
        np.testing.assert_allclose(got[..., 0], np.clip(ref / top, 0, 1), atol=2.5 / 255)
    # the mask, centre of k-space in the middle
    got = block_centres(crop(img, info['tiles']['mask']), 32, 32)[..., 0] > 0.5
    np.testing.assert_array_equal(got, np.fft.fftshift(m) > 0.5)
    # both error maps on one scale: the 99th percentile of the zero-filled error
    vmax = np.percentile(np.abs(zf - gt) / top, 99)
    assert info['scales']['grey'] == (0, 1)   # what the colour bars are labelled with
    assert info['scales']['error'] == pytest.approx((0, vmax), rel=1e-6)
    for name, ref in (('err_in', zf), ('err_re', re)):
        got = inferno_values(block_centres(crop(img, info['tiles'][name]), 32, 32), vmax)
        np.testing.assert_allclose(got, np.clip(np.abs(ref - gt) / top, 0, vmax),
                                   atol=2.5 / 255 * vmax)
    # titles: the row's numbers (not recomputed ones), the mask's sampling rate
    titles = png_titles(path)
    assert titles == [t.replace('\n', ' ') for t in info['titles']] and len(titles) == 7
    assert 'PSNR 17.12 -> 31.99 dB, SSIM 0.555 -> 0.945' in titles[0]
    assert 'zero-filled input (IN) PSNR 17.12 dB  SSIM 0.555' in titles
    assert 'reconstruction (RE) PSNR 31.99 dB  SSIM 0.945' in titles
    assert any('fftshifted' in t and '%.1f%% sampled' % (100 * m.sum() / m.size) in t
               for t in titles)


def test_tiles_upscale_small_images_and_cap_large_ones():
    assert plots.tile_shape(32, 32) == (256, 256)
    assert plots.tile_shape(48, 40) == (336, 280)      # x7, the shorter side reaches 256
    assert plots.tile_shape(256, 256) == (256, 256)
    assert plots.tile_shape(640, 320) == (512, 256)    # longer side capped at 512
    assert plots.tile_shape(1024, 1024) == (512, 512)


def test_sequence_panel_frame_xt_profile_and_psnr_per_frame(tmp_path):
    n_t = 8
    g = synthetic.cine_phantom(32, n_t, seed=0, index=1)
    m = np.stack([masks.make_mask('cartesian', (32, 32), 4.0, 4, seed=t) for t in range(n_t)])
    rng = np.random.default_rng(0)
    re = g + 0.02 * (rng.standard_normal(g.shape) + 1j * rng.standard_normal(g.shape))
    re[[0, -1]] += 0.05   # weak first and last frames, as data sharing leaves them
    f, p, l = (pre_input.to_two_channel(x) for x in (pre_input.undersample(g, m), re, g))
    row = evaluate.image_row(5, f, p, l)
    frames = evaluate.frame_rows(5, f, p, l)
    path = str(tmp_path / 's.png')
    info = plots.save_panel(path, (5, f, p, l), m, row, frames, frame=2)
    img = png_rgb(path)
    assert (img.shape[1], img.shape[0]) == info['size'] == plots.panel_size(32, 32, n_t)
    top = np.abs(g).max()
    col = plots.xt_column(32)
    # the chosen frame, except the dashed column that marks the x-t line
    got = block_centres(crop(img, info['tiles']['gt']), 32, 32)[..., 0]
    keep = np.arange(32) != col
    np.testing.assert_allclose(got[:, keep], (np.abs(g[2]) / top)[:, keep], atol=2.5 / 255)
    # x-t profile: that column over time, frames left to right
    got = block_centres(crop(img, info['tiles']['xt_gt']), 32, n_t)[..., 0]
    np.testing.assert_allclose(got, np.abs(g[:, :, col]).T / top, atol=2.5 / 255)
    titles = png_titles(path)
    assert len(titles) == 1 + 6 + 3 + 1
    assert tile_title('zero-filled input (IN), frame 2', frames[2], 'in') in titles
    assert 'PSNR %.2f -> %.2f dB' % (row['psnr_in'], row['psnr_re']) in titles[0]
    psnr = [r['psnr_re'] for r in frames]
    assert np.argmin(psnr) in (0, n_t - 1)
    assert titles[-1] == ('PSNR per frame: RE mean %.2f dB, first frame %.2f, last frame %.2f, '
                          'lowest frame %d (%.2f)' % (np.mean(psnr), psnr[0], psnr[-1],
                                                      np.argmin(psnr), min(psnr)))


LOG = """model: D3-C2 nf=16
[run] start_step=0
[step] step=2 epoch=1 loss=4.0e-01 step_time=- images/sec=-
[step] step=4 epoch=1 loss=3.0e-01 step_time=0.1 images/sec=40.0
[epoch] epoch=1 step=4 loss=3.5e-01 step_time=0.1 images/sec=40.0
[val] epoch=1 psnr_in=20.0 psnr_re=21.0 ssim_in=0.50 ssim_re=0.60 cpsnr_in=19.0 cpsnr_re=20.5
[step] step=6 epoch=2 loss=2.0e-01 step_time=0.1 images/sec=40.0
[step] step=8 epoch=2 loss=1.0e-01 step_time=0.1 images/sec=40.0
[epoch] epoch=2 step=8 loss=1.5e-01 step_time=0.1 images/sec=40.0
[val] epoch=2 psnr_in=20.0 psnr_re=22.0 ssim_in=0.50 ssim_re=0.65 cpsnr_in=19.0 cpsnr_re=21.5
[step] step=10 epoch=3 loss=0.9e-01 step_time=0.1 images/sec=40.0
resumed from ckpt/model-4 at step 4
[run] start_step=4
[step] step=6 epoch=2 loss=2.5e-01 step_time=0.1 images/sec=40.0
[step] step=8 epoch=2 loss=1.5e-01 step_time=0.1 images/sec=40.0
[epoch] epoch=2 step=8 loss=2.0e-01 step_time=0.1 images/sec=40.0
[val] epoch=2 psnr_in=20.0 psnr_re=22.5 ssim_in=0.50 ssim_re=0.66 cpsnr_in=19.0 cpsnr_re=21.9
[done] steps=8 epochs=2.00 train_time=1.0 step_time=0.1 images/sec=40.0
"""


def test_history_follows_resumes_and_fresh_starts():
    h = logparse.history(LOG)
    assert [(s['step'], s['loss']) for s in h['step']] == [(2, 0.4), (4, 0.3), (6, 0.25),
                                                          (8, 0.15)]
    assert [(e['epoch'], e['loss']) for e in h['epoch']] == [(1, 0.35), (2, 0.2)]
    assert [(v['epoch'], v['psnr_re'], v['cpsnr_re']) for v in h['val']] == [(1, 21.0, 20.5),
                                                                           (2, 22.5, 21.9)]
    fresh = logparse.history(LOG + '[run] start_step=0\n[step] step=1 epoch=1 loss=9.0e-01\n')
    assert [(s['step'], s['loss']) for s in fresh['step']] == [(1, 0.9)]
    assert fresh['epoch'] == [] and fresh['val'] == []


def test_training_curves_figure(tmp_path):
    path = str(tmp_path / 'c.png')
    info = plots.training_curves(path, logparse.history(LOG), 'tiny')
    img = png_rgb(path)
    assert (img.shape[1], img.shape[0]) == plots.CURVES_SIZE
    assert png_titles(path) == ['training curves: tiny', 'training loss per step (4 logged steps)',
                                'validation PSNR per epoch (last: IN 20.00, RE 22.50 dB)',
                                'validation SSIM per epoch (last: IN 0.500, RE 0.660)']
    assert info['titles'] == png_titles(path)
    # no validation: said in the figure, not an error
    plots.training_curves(path, logparse.history('[step] step=1 epoch=1 loss=1.0\n'))
    assert png_titles(path)[2] == 'validation PSNR per epoch (none)'


def test_tee_keeps_early_lines_appends_and_restores_stdout(tmp_path):
    path = str(tmp_path / runlog.FILE)
    out = io.StringIO()
    with redirect_stdout(out):
        with runlog.Tee() as log:
            print('before the folder exists')
            log.open(path)
            print('[step] step=1')
        print('after')
        with pytest.raises(RuntimeError):
            with runlog.Tee() as log:
                log.open(path)
                print('[run] start_step=1')
                raise RuntimeError('x')
        assert sys.stdout is out
        with runlog.Tee():
            print('refused before open: not in the file')
    assert out.getvalue().splitlines() == ['before the folder exists', '[step] step=1', 'after',
                                           '[run] start_step=1',
                                           'refused before open: not in the file']
    assert open(path).read() == 'before the folder exists\n[step] step=1\n[run] start_step=1\n'


def test_train_writes_its_log_and_curves(tiny_model):
    d, out = tiny_model
    logged = open(os.path.join(d, runlog.FILE)).read()
    tags = ('[run]', '[step]', '[epoch]', '[val]', '[done]')
    assert ([l for l in logged.splitlines() if l.startswith(tags)] ==
            [l for l in out.splitlines() if l.startswith(tags)])
    path = os.path.join(d, report.CURVES)
    assert 'training curves: %s' % path in out
    assert png_rgb(path).shape[:2] == plots.CURVES_SIZE[::-1]
    last = [l for l in out.splitlines() if l.startswith('[val]')][-1]
    v = dict(re.findall(r'(\S+?)=(\S+)', last))
    assert ('validation PSNR per epoch (last: IN %.2f, RE %.2f dB)'
            % (float(v['psnr_in']), float(v['psnr_re']))) in png_titles(path)


def test_report_cli_on_checkpoint_and_launcher_folders(tiny_model, tmp_path):
    ck = str(tmp_path / 'ck')
    os.makedirs(ck)
    shutil.copy(os.path.join(tiny_model[0], runlog.FILE), ck)
    launcher = str(tmp_path / 'out0')
    os.makedirs(launcher)
    with open(os.path.join(launcher, 'train_0.log'), 'w') as f:
        f.write(tiny_model[1])
    for folder in (ck, launcher):
        r = subprocess.run([sys.executable, '-m', 'models.report', folder],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, cwd=ROOT)
        assert r.returncode == 0, r.stderr
        assert 'training curves: %s' % os.path.join(folder, report.CURVES) in r.stdout
        assert '12 steps, 8 validations' in r.stdout
        assert png_titles(os.path.join(folder, report.CURVES))[1] == \
            'training loss per step (12 logged steps)'
    empty = str(tmp_path / 'empty')
    os.makedirs(empty)
    for bad in (empty, str(tmp_path / 'missing')):
        r = subprocess.run([sys.executable, '-m', 'models.report', bad], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True,
                           cwd=ROOT)
        assert r.returncode == 2 and r.stderr.startswith('error:'), r.stderr


@pytest.fixture(scope='module')
def tested(tiny_model, tiny_data, tmp_path_factory):
    """test.py --plot --report on the tiny model: (output folder, summary)."""
    out = str(tmp_path_factory.mktemp('report'))
    buf = io.StringIO()
    with redirect_stdout(buf):
        s = test_script.main(['--save_ckpt_Dir', tiny_model[0], '--data_test_dir',
                              tiny_data[1], '--output_dir', out, '--plot', '--report',
                              '--batch_size', '3'])
    assert 'report: %s' % os.path.join(out, report.REPORT) in buf.getvalue()
    return out, s


def metrics_rows(folder):
    with open(os.path.join(folder, 'metrics.csv')) as f:
        return [dict((k, float(v)) for k, v in r.items()) for r in csv.DictReader(f)]


def test_test_panels_carry_metrics_csv_numbers(tested):
    out, _ = tested
    rows = metrics_rows(out)
    assert sorted(f for f in os.listdir(out) if f.endswith('.png')) == \
        ['panel_%05d.png' % i for i in range(8)]
    for r in rows:
        path = os.path.join(out, 'panel_%05d.png' % r['index'])
        assert png_rgb(path).shape[:2] == plots.panel_size(32, 32)[::-1]
        titles = png_titles(path)
        assert len(titles) == 7
        assert 'cpsnr_in' in r and 'cpsnr_re' in r
        assert tile_title('zero-filled input (IN)', r, 'in') in titles
        assert tile_title('reconstruction (RE)', r, 're') in titles
        assert 'error |RE - GT| NMSE %.3e' % r['nmse_re'] in titles


def report_images(text):
    return re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)


def test_report_is_self_contained_with_summary_extremes_and_config(tested, tiny_model):
    out, s = tested
    text = open(os.path.join(out, report.REPORT), encoding='utf-8').read()
    # one file: every image embedded, nothing fetched
    assert not re.search(r'(src|href)="(?!data:)', text)
    images = report_images(text)
    assert len(images) == 1 + 5 + 3  # curves, 5 worst, the 3 other images as best
    import base64
    sizes = [png_rgb(base64.b64decode(b)).shape[:2] for b in images]
    assert sizes[0] == plots.CURVES_SIZE[::-1]
    assert sizes[1:] == [plots.panel_size(32, 32)[::-1]] * 8
    # the summary table holds summary.json's numbers
    table = re.search(r'<table id="summary">(.*?)</table>', text).group(1)
    cells = re.findall(r'<t[dh][^>]*>([^<]*)</t[dh]>', table)
    saved = json.load(open(os.path.join(out, 'summary.json')))
    for key, fmt in (('psnr', '%.4f'), ('ssim', '%.4f'), ('nmse', '%.6e'), ('mse', '%.6e'),
                     ('fastmri_nmse', '%.6e'), ('fastmri_psnr', '%.4f'),
                     ('fastmri_ssim', '%.4f')):
        assert fmt % saved[key + '_in'] in cells and fmt % saved[key + '_re'] in cells
    assert summary_cells(text)['fastMRI PSNR (dB)'] == [
        '%.4f' % saved['fastmri_psnr_in'], '%.4f' % saved['fastmri_psnr_re'],
        '%+.2f dB' % (saved['fastmri_psnr_re'] - saved['fastmri_psnr_in'])]
    assert 'per volume (8 volumes)' in text
    # worst first, then best, by RE PSNR of metrics.csv
    rows = sorted(metrics_rows(out), key=lambda r: (r['psnr_re'], r['index']))
    shown = [int(i) for i in re.findall(r'<figcaption>image (\d+):', text)]
    assert shown == [int(r['index']) for r in rows[:5]] + \
        [int(r['index']) for r in rows[::-1][:3]]
    cfg = json.load(open(os.path.join(tiny_model[0], 'config.json')))
    assert '<td class="k">nf</td><td>%d</td>' % cfg['nf'] in text
    assert '<td class="k">--report</td><td>true</td>' in text


def summary_cells(text):
    """{row name: [its cells]} of report.html's summary table, the header under 'metric'."""
    table = re.search(r'<table id="summary">(.*?)</table>', text).group(1)
    rows = [re.findall(r'<t[dh][^>]*>([^<]*)</t[dh]>', r)
            for r in re.findall(r'<tr>(.*?)</tr>', table)]
    return dict((r[0], r[1:]) for r in rows)


def test_report_summary_fastmri_rows_and_baseline_columns(tmp_path):
    """From a summary as test.py --baseline writes it: every row with the `Avg ...` precision,
    fastMRI's three rows, and a column per baseline ('\u2013' where a baseline has no such
    metric)."""
    s = {'images': 6, 'volumes': 2, 'data': '/d/x_test.hdf5', 'checkpoint': '/c/model-9',
         'seconds_per_image': 0.01}
    for i, key in enumerate(evaluate.KEYS + evaluate.FASTMRI_KEYS):
        s[key + '_in'], s[key + '_re'] = 0.5 + i, 0.75 + 2 * i
    for j, m in enumerate(('tv', 'l1wavelet')):
        for key in ('psnr', 'ssim', 'nmse', 'cpsnr'):
            s['%s_%s' % (key, m)] = 30.0 + j + len(key) / 7.0
    path = report.write_report(str(tmp_path / report.REPORT), s, report.Extremes(5),
                               lambda i: None, {'Dn': 5, 'Dc': 5, 'nf': 64},
                               str(tmp_path), {})
    text = open(path, encoding='utf-8').read()
    cells = summary_cells(text)
    assert cells['metric'] == ['IN (zero-filled)', 'RE (reconstruction)', 'change',
                               'L1-wavelet baseline', 'TV baseline']
    dash = report.NOT_COMPUTED
    for key, name, fmt in (('psnr', 'PSNR (dB)', '%.4f'), ('cpsnr', 'cPSNR (dB)', '%.4f'),
                           ('ssim', 'SSIM', '%.4f'), ('nmse', 'NMSE', '%.6e')):
        assert cells[name] == [fmt % s[key + '_in'], fmt % s[key + '_re'], cells[name][2],
                               fmt % s[key + '_l1wavelet'], fmt % s[key + '_tv']]
    assert cells['MSE'][3:] == [dash, dash]
    assert cells['fastMRI NMSE'] == ['%.6e' % s['fastmri_nmse_in'],
                                     '%.6e' % s['fastmri_nmse_re'],
                                     '\u00f7 %.1f' % (s['fastmri_nmse_in'] / s['fastmri_nmse_re']),
                                     dash, dash]
    assert cells['fastMRI PSNR (dB)'] == ['6.5000', '12.7500', '+6.25 dB', dash, dash]
    assert cells['fastMRI SSIM'] == ['7.5000', '14.7500', '+7.2500', dash, dash]
    assert 'per volume (2 volumes)' in text and 'Baseline columns' in text
    # a summary without fastMRI's or the baselines' keys: the table as before
    for key in list(s):
        if key.startswith('fastmri_') or key.split('_')[-1] in ('tv', 'l1wavelet'):
            del s[key]
    text = open(report.write_report(path, s, report.Extremes(5), lambda i: None,
                                    {'Dn': 5, 'Dc': 5, 'nf': 64}, str(tmp_path), {}),
                encoding='utf-8').read()
    assert list(summary_cells(text)) == ['metric', 'PSNR (dB)', 'cPSNR (dB)', 'SSIM', 'NMSE',
                                         'MSE']
    assert len(summary_cells(text)['metric']) == 3
    assert 'fastMRI' not in text and 'Baseline columns' not in text


def chromium():
    return os.environ.get('CASCADENET_CHROMIUM') or shutil.which('chromium')


def test_report_renders_in_a_headless_browser(request):
    exe = chromium()
    if not exe:
        if os.environ.get('CI'):
            pytest.fail('chromium is needed for this test in CI (.ci/run installs it)')
        pytest.skip('no chromium (apt-get install chromium)')
    out, _ = request.getfixturevalue('tested')
    shot = os.path.join(out, 'screenshot.png')
    profile = tempfile.mkdtemp()
    try:
        subprocess.run([exe, '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
                        '--no-first-run', '--disable-background-networking',
                        '--disable-component-update', '--disable-sync', '--hide-scrollbars',
                        '--user-data-dir=' + profile, '--screenshot=' + shot,
                        '--window-size=1280,1600',
                        'file://' + os.path.abspath(os.path.join(out, report.REPORT))],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=180)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    img = (png_rgb(shot) * 255).round()
    assert img.shape[:2] == (1600, 1280)
    # not blank: a good share of the page is drawn
    assert (img.min(axis=2) < 200).mean() > 0.05
    # the summary table: its dark blue header row near the top, white text on it, and
    # light blue cells below holding dark digits
    head = (np.abs(img - [0x1f, 0x4e, 0x79]).max(axis=2) < 8)
    ys, xs = np.nonzero(head)
    assert head.sum() > 2000 and ys.max() < 400
    x0, x1 = xs.min(), xs.max()
    assert (img[ys.min():ys.max() + 1, x0:x1 + 1].min(axis=2) > 230).sum() > 100
    below = img[ys.max() + 1:ys.max() + 300, x0:x1 + 1]
    cells = (np.abs(below - [0xea, 0xf1, 0xf8]).max(axis=2) < 8)
    rows = np.nonzero(cells.mean(axis=1) > 0.5)[0]
    assert len(rows) > 60      # four rows of cells under the header (about 27 px each)
    assert (below[rows.min():rows.max() + 1].max(axis=2) < 100).sum() > 300  # their digits
