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
"""Running a reconstruction over a dataset and summarising IN (zero-filled) and RE
(reconstruction) metrics; shared by train.py (validation) and test.py."""
import collections
import csv
import json

import numpy as np

from models import metrics
from models.data.acquired import centre_crop

KEYS = ('psnr', 'ssim', 'mse', 'nmse', 'cpsnr')


INPUT_KEYS = ('feature', 'mask', 'kspace', 'coil_maps')


def network_inputs(batch):
    """The graph inputs of a batch in feed order: feature, mask and, for multi-coil data,
    kspace and coil_maps (models.model_tf.graph_inputs)."""
    return [batch[k] for k in INPUT_KEYS if k in batch]


def reconstruct(predict, batches):
    """Yield (index, feature, pred, label) per image; `predict(feature, mask[, kspace,
    coil_maps])` returns a batch of (B, ..., 2) reconstructions."""
    for batch in batches.epoch():
        pred = predict(*network_inputs(batch))
        for j, i in enumerate(batch['index']):
            yield int(i), batch['feature'][j], pred[j], batch['label'][j]


def image_row(index, feature, pred, label):
    """Metrics of one image (2-D) or, for a sequence, of its frames averaged, except cpsnr:
    the reference's complex PSNR of a sequence is taken over all its frames at once, as its
    main_3d.py and main_crnn.py do."""
    frames = [(feature, pred, label)] if label.ndim == 3 else list(zip(feature, pred, label))
    row = {'index': index}
    for tag, k, rec in (('in', 0, feature), ('re', 1, pred)):
        per = [metrics.evaluate(f[2], f[k]) for f in frames]
        for key in KEYS:
            row['%s_%s' % (key, tag)] = float(np.mean([p[key] for p in per]))
        row['cpsnr_%s' % tag] = metrics.complex_psnr(label, rec)
    return row


def crop(x, size, channels=False):
    """x (..., H, W), or two-channel (..., H, W, 2) when `channels`, centre-cropped to size
    (h, w) as fastMRI's center_crop (start (n - h) // 2); an axis not larger than the size is
    kept whole, and size None keeps x."""
    if size is None:
        return x
    axes = (-3, -2) if channels else (-2, -1)
    for axis, n in zip(axes, size):
        x = centre_crop(x, n, x.ndim + axis)
    return x


def crop_item(item, size):
    """(index, feature, pred, label) with the two-channel images centre-cropped to `size`
    (the file's recon_size; None: unchanged): what the metrics are taken on."""
    return (item[0],) + tuple(crop(x, size, channels=True) for x in item[1:])


RSS_KEYS = ('psnr', 'ssim', 'mse', 'nmse')
RSS_TAGS = ('in', 're', 'label')


def rss_row(feature, pred, label, rss):
    """Metrics of the magnitudes of IN (zero-filled), RE and the label (the fully sampled coil
    combination: what a perfect reconstruction scores) against the RSS reference (H, W), or
    (T, H, W) with the frames averaged: rss_<key>_<in|re|label> (RSS_KEYS; no cPSNR,
    the RSS has no phase). All four arrays on one scale and crop (test.py)."""
    frames = ([(feature, pred, label, rss)] if label.ndim == 3 else
              list(zip(feature, pred, label, rss)))
    row = {}
    for j, tag in enumerate(RSS_TAGS):
        for key in RSS_KEYS:
            fn = getattr(metrics, key)
            row['rss_%s_%s' % (key, tag)] = float(np.mean([fn(f[3], f[j]) for f in frames]))
    return row


def summarize_rss(rows):
    """Means over images of the rss_* columns (rss_row)."""
    return dict(('rss_%s_%s' % (k, t), float(np.mean([r['rss_%s_%s' % (k, t)] for r in rows])))
                for k in RSS_KEYS for t in RSS_TAGS)


def frame_rows(index, feature, pred, label):
    """Per-frame metrics of one sequence (T, H, W, 2): a row per frame with 'index', 'frame'."""
    rows = []
    for t, (f, p, g) in enumerate(zip(feature, pred, label)):
        row = {'index': index, 'frame': t}
        for tag, rec in (('in', f), ('re', p)):
            for key, v in sorted(metrics.evaluate(g, rec).items()):
                row['%s_%s' % (key, tag)] = float(v)
        rows.append(row)
    return rows


def summarize_frames(rows):
    """Mean of every metric over sequences, for each frame index: a list ordered by frame."""
    frames = sorted(set(r['frame'] for r in rows))
    out = []
    for t in frames:
        sel = [r for r in rows if r['frame'] == t]
        s = summarize(sel)
        s['frame'] = t
        out.append(s)
    return out


def summarize(rows):
    """Mean of every metric over images."""
    return dict(('%s_%s' % (k, t), float(np.mean([r['%s_%s' % (k, t)] for r in rows])))
                for k in KEYS for t in ('in', 're'))


def summary_lines(s):
    """The lines test.py prints and the launchers parse; cPSNR is the reference code's complex
    PSNR (metrics.complex_psnr), the one to compare with the papers' tables; the fastMRI lines
    (only when `s` has them, see FastMRIVolumes) are fastMRI's per-volume rule, the one to
    compare with fastMRI's tables; the RSS lines (multi-coil files with `rss`, rss_row) are
    IN, RE and the label itself against the root-sum-of-squares reference."""
    lines = ['Avg PSNR: IN %.4f RE %.4f' % (s['psnr_in'], s['psnr_re']),
             'Avg SSIM: IN %.4f RE %.4f' % (s['ssim_in'], s['ssim_re']),
             'Avg MSE: IN %.6e RE %.6e' % (s['mse_in'], s['mse_re']),
             'Avg NMSE: IN %.6e RE %.6e' % (s['nmse_in'], s['nmse_re']),
             'Avg cPSNR: IN %.4f RE %.4f' % (s['cpsnr_in'], s['cpsnr_re'])]
    if 'fastmri_psnr_in' in s:
        lines += ['Avg fastMRI NMSE: IN %.6e RE %.6e' % (s['fastmri_nmse_in'],
                                                         s['fastmri_nmse_re']),
                  'Avg fastMRI PSNR: IN %.4f RE %.4f' % (s['fastmri_psnr_in'],
                                                         s['fastmri_psnr_re']),
                  'Avg fastMRI SSIM: IN %.4f RE %.4f' % (s['fastmri_ssim_in'],
                                                         s['fastmri_ssim_re'])]
    if 'rss_psnr_re' in s:
        for key, name, fmt in (('psnr', 'PSNR', '%.4f'), ('ssim', 'SSIM', '%.4f'),
                               ('mse', 'MSE', '%.6e'), ('nmse', 'NMSE', '%.6e')):
            lines.append(('Avg RSS %s: IN %s RE %s (label %s)' % (name, fmt, fmt, fmt))
                         % tuple(s['rss_%s_%s' % (key, t)] for t in RSS_TAGS))
    return lines


FASTMRI_KEYS = ('fastmri_nmse', 'fastmri_psnr', 'fastmri_ssim')


class FastMRIVolumes(object):
    """fastMRI's evaluation rule (metrics.volume_metrics per volume, then the mean over
    volumes) for IN (zero-filled) and RE, fed image by image as test.py reconstructs them.

    volumes: (N,) the volume of each image (pre_input.H5Data.volumes()). An image's magnitudes
    are held until the last image of its volume has arrived; test order keeps a volume's
    slices together, so memory holds about one volume.
    """

    def __init__(self, volumes):
        self.volume_of = np.asarray(volumes, dtype=np.int64)
        self.left = collections.Counter(self.volume_of.tolist())
        self.held = {}
        self.results = {}

    def add(self, index, feature, pred, label, extra=None):
        """One image (H, W, 2) or sequence (T, H, W, 2, its frames the slices) of `index`;
        `extra`: more reconstructions of it by tag ({'tv': (..., H, W) complex}, the baselines),
        evaluated by the same rule as RE."""
        v = int(self.volume_of[index])
        recs = dict(extra or {}, gt=label, **{'in': feature, 're': pred})
        recs = dict((tag, metrics.magnitude(x).astype(np.float32)) for tag, x in recs.items())
        held = self.held.setdefault(v, [])
        held.extend([dict((tag, x) for tag, x in recs.items())] if label.ndim == 3 else
                     [dict((tag, x[t]) for tag, x in recs.items())
                      for t in range(label.shape[0])])
        self.left[v] -= 1
        if self.left[v] == 0:
            self._reduce(v)

    def _reduce(self, v):
        frames = self.held.pop(v)
        gt = np.stack([f['gt'] for f in frames])
        row = {}
        for tag in sorted(set(frames[0]) - {'gt'}):
            rec = np.stack([f[tag] for f in frames])
            for key, val in metrics.volume_metrics(gt, rec).items():
                row['fastmri_%s_%s' % (key, tag)] = val
        self.results[v] = row

    def finish(self, rows, summary):
        """Give every row (dicts with 'index') its 'volume' and that volume's metrics, and
        `summary` the means over volumes and their count 'volumes'. A volume with images
        missing is reduced from those it has."""
        for v in list(self.held):
            self._reduce(v)
        for r in rows:
            v = int(self.volume_of[r['index']])
            r['volume'] = v
            r.update(self.results[v])
        for key in sorted(set().union(*self.results.values())):
            summary[key] = float(np.mean([res[key] for res in self.results.values()]))
        summary['volumes'] = len(self.results)


def write_csv(path, rows):
    with open(path, 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)


def write_json(path, obj):
    with open(path, 'w') as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write('\n')


def panel(feature, pred, label, error_gain=5.0):
    """uint8 (H, 4W) panel: zero-filled | reconstruction | ground truth | |error| x gain,
    all on the ground truth's magnitude scale: train.py's TensorBoard image of validation
    (the labelled PNG figures are models/plots.py's)."""
    zf, re, gt = (metrics.magnitude(x) for x in (feature, pred, label))
    top = gt.max() or 1.0
    err = np.abs(re - gt) * error_gain
    img = np.concatenate([zf, re, gt, err], axis=1) / top
    return (np.clip(img, 0, 1) * 255).round().astype(np.uint8)


def middle_frame(images):
    """(feature, pred, label) of a sequence (T, H, W, 2) -> their middle frames; 2-D images
    are returned unchanged. For the one validation panel train.py logs."""
    if images[0].ndim == 3:
        return tuple(images)
    t = images[0].shape[0] // 2
    return tuple(x[t] for x in images)
