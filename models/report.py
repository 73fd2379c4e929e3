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
"""A run's results for people: training_curves.png from a training log and a one-page
report.html of a test.

  python -m models.report LOGDIR [--output PNG]

draws LOGDIR/training_curves.png from the training log found in LOGDIR: a checkpoint folder
(its train_log.txt, which train.py appends to) or a launcher output folder (its
train_<device>.log); LOGDIR may also be the log file itself. train.py calls the same code at
the end of training, test.py --report writes report.html (write_report).

report.html is one self-contained file (images embedded as data: URIs, no script, no server):
the summary table (IN / RE PSNR, cPSNR when present, SSIM, NMSE, MSE, and fastMRI's per-volume
NMSE, PSNR and SSIM when present; a column per baseline of test.py --baseline), the training curves
when the checkpoint folder holds a training log, the PSNR per frame of a dynamic model, the
five worst and five best images by RE PSNR as labelled panels (models.plots), and the run's
configuration (config.json and the test's settings).
"""
import base64
import glob
import html
import io
import json
import os
import sys
import time

from models import baselines, coil_baselines, logparse, plots, runlog
from models.errors import ArgumentParser, InputError

CURVES = 'training_curves.png'
REPORT = 'report.html'


def find_log(where):
    """The training log of a checkpoint folder (train_log.txt), of a launcher output folder
    (its one train_*.log), or `where` itself if it is a file."""
    if os.path.isfile(where):
        return where
    if not os.path.isdir(where):
        raise InputError('%s: no such file or folder' % where)
    own = os.path.join(where, runlog.FILE)
    if os.path.isfile(own):
        return own
    hits = sorted(glob.glob(os.path.join(where, 'train_*.log')))
    if len(hits) == 1:
        return hits[0]
    raise InputError('%s: no training log (expected %s, written by train.py, or one '
                     'train_*.log of a launcher; found %d)' % (where, runlog.FILE, len(hits)))


def run_label(folder):
    """'D5-C5 nf=64, <folder>' from the folder's config.json, else the folder alone."""
    try:
        with open(os.path.join(folder, 'config.json')) as f:
            cfg = json.load(f)
        return 'D%d-C%d%s nf=%d, %s' % (cfg['Dn'], cfg['Dc'],
                                        '(S)' if cfg.get('frame_dist') else '', cfg['nf'],
                                        folder)
    except (IOError, OSError, ValueError, KeyError):
        return folder


def write_curves(log_path, out, label=''):
    """training_curves.png of a log; returns the history drawn, None (and nothing written)
    when the log holds no [step] line."""
    with open(log_path) as f:
        hist = logparse.history(f.read())
    if not hist['step']:
        return None
    plots.training_curves(out, hist, label)
    return hist


def training_curves(ckpt_dir):
    """<ckpt_dir>/training_curves.png from its own train_log.txt (what train.py calls at the
    end); returns the path written, or None when the log has no step yet."""
    out = os.path.join(ckpt_dir, CURVES)
    hist = write_curves(os.path.join(ckpt_dir, runlog.FILE), out, run_label(ckpt_dir))
    return out if hist is not None else None


class Extremes(object):
    """The k worst and the k best items by RE PSNR, kept while streaming over a test set
    (ties: lower index first). An image is listed once: best() leaves out what worst() has."""

    def __init__(self, k=5):
        self.k = k
        self.low, self.high = [], []

    def add(self, row, item, frame_rows=None):
        """row: the metrics row (metrics.csv); item: (index, feature, pred, label)."""
        entry = ((row['psnr_re'], row['index']), row, item, frame_rows)
        self.low = sorted(self.low + [entry], key=lambda e: e[0])[:self.k]
        self.high = sorted(self.high + [entry], key=lambda e: (-e[0][0], e[0][1]))[:self.k]

    def worst(self):
        return [e[1:] for e in self.low]

    def best(self):
        seen = set(e[0] for e in self.low)
        return [e[1:] for e in self.high if e[0] not in seen]


def _png_uri(draw):
    """data: URI of the PNG that draw(file) writes; None if draw returns None."""
    buf = io.BytesIO()
    if draw(buf) is None:
        return None
    return 'data:image/png;base64,' + base64.b64encode(buf.getvalue()).decode('ascii')


# The summary table's rows: (summary.json key, name, format (that of the `Avg ...` lines),
# how RE is set against IN: a difference in dB, a difference, or IN / RE).
SUMMARY_ROWS = (('psnr', 'PSNR (dB)', '%.4f', 'dB'), ('cpsnr', 'cPSNR (dB)', '%.4f', 'dB'),
                ('ssim', 'SSIM', '%.4f', '+'), ('nmse', 'NMSE', '%.6e', '/'),
                ('mse', 'MSE', '%.6e', '/'), ('fastmri_nmse', 'fastMRI NMSE', '%.6e', '/'),
                ('fastmri_psnr', 'fastMRI PSNR (dB)', '%.4f', 'dB'),
                ('fastmri_ssim', 'fastMRI SSIM', '%.4f', '+'))
NOT_COMPUTED = '\u2013'


def _change(kind, a, b):
    if kind == 'dB':
        return '%+.2f dB' % (b - a)
    if kind == '+':
        return '%+.4f' % (b - a)
    return '\u00f7 %.1f' % (a / b) if b else ''


# single-coil (TV, L1-wavelet, temporal TV) and multi-coil (SENSE, CG-SENSE, L1-ESPIRiT)
BASELINE_NAMES = dict(baselines.NAMES, **coil_baselines.NAMES)


def summary_header(s):
    """The summary table's header: metric, IN, RE, change, then a column per baseline."""
    return ('metric', 'IN (zero-filled)', 'RE (reconstruction)', 'change') + tuple(
        '%s baseline' % BASELINE_NAMES[m] for m in baselines.in_summary(s, BASELINE_NAMES))


def summary_rows(s):
    """[(metric, IN, RE, change, baseline, ...)] as strings, from a summary (summary.json
    keys): the rows of SUMMARY_ROWS that `s` has; a baseline's cell is NOT_COMPUTED where it
    has no such metric (MSE, fastMRI's)."""
    methods = baselines.in_summary(s, BASELINE_NAMES)
    out = []
    for key, name, fmt, kind in SUMMARY_ROWS:
        if key + '_in' not in s:
            continue
        a, b = s[key + '_in'], s[key + '_re']
        out.append((name, fmt % a, fmt % b, _change(kind, a, b)) + tuple(
            fmt % s[key + '_' + m] if key + '_' + m in s else NOT_COMPUTED for m in methods))
    return out


def _summary_note(s, what):
    """The paragraph under the summary table: what its numbers are means of."""
    note = ('Means over the %s%s (models/metrics.py: magnitude images, data range of each '
            'ground truth).' % (what, ', each sequence\'s frames averaged first'
                                if what == 'sequences' else ''))
    if 'fastmri_psnr_in' in s:
        note += (' fastMRI rows: fastMRI\'s rule, per volume (%s), then the mean over volumes '
                 '(peak and SSIM data range: the volume\'s max |gt|; 7x7 SSIM window).'
                 % ('%d volumes' % s['volumes'] if 'volumes' in s else 'volumes'))
    if baselines.in_summary(s, BASELINE_NAMES):
        note += (' Baseline columns: reconstructions without training from the same samples '
                 '(models/baselines.py, models/coil_baselines.py); %s where they have no such '
                 'metric.' % NOT_COMPUTED)
    return '<p>%s</p>' % html.escape(note)


STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 24px; color: #111;
       max-width: 1400px; }
h1 { font-size: 24px; margin-bottom: 4px; }
h2 { font-size: 19px; margin-top: 32px; border-bottom: 1px solid #ccc; }
p.lead { font-size: 16px; margin-top: 4px; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { border: 1px solid #999; padding: 4px 12px; text-align: right; font-size: 15px; }
td.k, th.k { text-align: left; }
table#summary th { background: #1f4e79; color: #fff; }
table#summary td { background: #eaf1f8; }
table.config td { font-family: monospace; font-size: 13px; text-align: left; }
figure { margin: 12px 0 24px 0; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 14px; color: #333; }
"""


def _table(rows, header=None, attrs=''):
    h = ''
    if header:
        h = '<tr>%s</tr>' % ''.join('<th%s>%s</th>' % (' class="k"' if i == 0 else '',
                                                      html.escape(c))
                                    for i, c in enumerate(header))
    body = ''.join('<tr>%s</tr>' % ''.join('<td%s>%s</td>' % (' class="k"' if i == 0 else '',
                                                             html.escape(str(c)))
                                           for i, c in enumerate(r)) for r in rows)
    return '<table%s>%s%s</table>' % (attrs, h, body)


def _html_figure(uri, caption):
    return '<figure><img src="%s" alt="%s"><figcaption>%s</figcaption></figure>' % (
        uri, html.escape(caption), html.escape(caption))


def _curves_html(ckpt_dir):
    """The training curves of the folder's log as an embedded figure, or a line saying why
    there are none."""
    try:
        log = find_log(ckpt_dir)
    except InputError:
        log = None
    uri = log and _png_uri(lambda f: write_curves(log, f, run_label(ckpt_dir)))
    if not uri:
        return ('<p>No training log with [step] lines in %s (train.py writes %s there).</p>'
                % (html.escape(ckpt_dir), runlog.FILE))
    return _html_figure(uri, 'from %s' % log)


def _panels(entries, mask_of, frame):
    """A table of the entries' numbers, then each one's panel (models.plots.save_panel)."""
    if not entries:
        return ''
    out = [_table([(r['index'], '%.2f' % r['psnr_in'], '%.2f' % r['psnr_re'],
                    '%.3f' % r['ssim_in'], '%.3f' % r['ssim_re']) for r, _, _ in entries],
                  ('index', 'PSNR IN (dB)', 'PSNR RE (dB)', 'SSIM IN', 'SSIM RE'))]
    for row, item, frame_rows in entries:
        uri = _png_uri(lambda f: plots.save_panel(f, item, mask_of(item[0]), row, frame_rows,
                                                  frame))
        out.append(_html_figure(uri, 'image %d: PSNR IN %.2f \u2192 RE %.2f dB, SSIM IN %.3f '
                           '\u2192 RE %.3f' % (row['index'], row['psnr_in'], row['psnr_re'],
                                               row['ssim_in'], row['ssim_re'])))
    return ''.join(out)


def write_report(path, summary, extremes, mask_of, cfg, ckpt_dir, flags):
    """Write report.html. summary: test.py's summary (summary.json; 'per_frame' for a dynamic
    model); extremes: an Extremes filled with every test item; mask_of(index): the (H, W) or
    (T, H, W) mask that image was undersampled with; cfg: config.json; ckpt_dir: where the
    training log may be; flags: test.py's flags as a dict ('plot_frame': the frame a dynamic
    panel shows, None for the middle one)."""
    frame = flags.get('plot_frame')
    n = summary['images']
    what = 'sequences' if cfg.get('model') == 'dynamic' else 'images'
    model = 'D%d-C%d%s nf=%d' % (cfg['Dn'], cfg['Dc'], '(S)' if cfg.get('frame_dist') else '',
                                 cfg['nf'])
    parts = ['<!DOCTYPE html><html><head><meta charset="utf-8"><title>CascadeNet test report: '
             '%s</title><style>%s</style></head><body>' % (html.escape(model), STYLE),
             '<h1>CascadeNet test report: %s</h1>' % html.escape(model),
             '<p class="lead">%d test %s of %s: PSNR %.2f \u2192 %.2f dB, SSIM %.3f \u2192 '
             '%.3f (zero-filled IN \u2192 reconstruction RE)</p>'
             % (n, what, html.escape(os.path.basename(summary['data'])), summary['psnr_in'],
                summary['psnr_re'], summary['ssim_in'], summary['ssim_re']),
             '<h2>Summary</h2>',
             _table(summary_rows(summary), summary_header(summary), ' id="summary"'),
             _summary_note(summary, what)]
    parts.append('<h2>Training curves</h2>')
    parts.append(_curves_html(ckpt_dir))
    if summary.get('per_frame'):
        parts.append('<h2>PSNR per frame</h2>')
        uri = _png_uri(lambda f: plots.frame_psnr_figure(f, summary['per_frame']))
        parts.append(_html_figure(uri, 'mean over the %d test sequences, for each frame index'
                                  % n))
    worst, best = extremes.worst(), extremes.best()
    parts.append('<h2>The %d worst %s by RE PSNR</h2>' % (len(worst), what))
    parts.append(_panels(worst, mask_of, frame))
    parts.append('<h2>The %d best %s by RE PSNR</h2>' % (len(best), what))
    parts.append(_panels(best, mask_of, frame) or '<p>(all %s are listed above)</p>' % what)
    parts.append('<h2>Configuration</h2><p>config.json of %s:</p>' % html.escape(ckpt_dir))
    parts.append(_table([(k, json.dumps(cfg[k])) for k in sorted(cfg)], ('key', 'value'),
                        ' class="config"'))
    test = [('checkpoint', summary['checkpoint']), ('data', summary['data']),
            (what, n), ('seconds per image', '%.4f' % summary['seconds_per_image']),
            ('written', time.strftime('%Y-%m-%d %H:%M:%S'))]
    test += [('--' + k, json.dumps(flags[k])) for k in sorted(flags)]
    parts.append('<p>test (test.py and its flags):</p>' + _table(test, ('key', 'value'),
                                                                 ' class="config"'))
    parts.append('</body></html>\n')
    with open(path, 'w', encoding='utf-8') as f:
        f.write('\n'.join(parts))
    return path


def main(argv=None):
    p = ArgumentParser(prog='python -m models.report',
                                description='Draw training_curves.png from a training log.')
    p.add_argument('logdir', help='checkpoint folder, launcher output folder, or the log file')
    p.add_argument('--output', default='',
                   help='PNG to write (default: training_curves.png in the folder)')
    a = p.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        log = find_log(a.logdir)
        folder = a.logdir if os.path.isdir(a.logdir) else os.path.dirname(a.logdir) or '.'
        out = a.output or os.path.join(folder, CURVES)
        hist = write_curves(log, out, run_label(folder))
        if hist is None:
            raise InputError('%s: no [step] lines to draw' % log)
    except (InputError, IOError, OSError) as e:
        sys.stderr.write('error: %s\n' % e)
        return 2
    print('training curves: %s (%d steps, %d validations, from %s)'
          % (out, len(hist['step']), len(hist['val']), log))
    return 0


if __name__ == '__main__':
    sys.exit(main())
