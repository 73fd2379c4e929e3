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
"""Figures for people: labelled per-image panels (2D and 2D+t) and training curves, as PNG.

Every figure is drawn with matplotlib on its Agg canvas directly (never through pyplot), so no
display or GUI backend is ever involved: headless machines and the Ascend image draw the same
files. matplotlib is imported only when a figure is drawn.

Conventions. Images are magnitudes of (H, W, 2) (real, imag) arrays (models.metrics.magnitude).
Grey tiles share one scale, 0 to max |GT| (the ground truth's maximum, of the image or of the
whole sequence); error tiles share one colour scale, |rec - GT| / max |GT|, up to the 99th
percentile of the zero-filled error, so the two error maps can be compared by eye. Masks are
stored uncentred (numpy FFT layout) and shown fftshifted, k-space centre in the middle. Each
tile is at least MIN_TILE pixels on its shorter side (small images are upscaled by a whole
factor, pixels kept square and sharp). The figure's layout is fixed in pixels, so a figure's
size depends only on the image size; every function returns what it drew:
{'size': (width, height) in pixels, 'titles': [suptitle, tile titles...],
 'tiles': {name: (x, y, w, h) in pixels from the top-left corner},
 'scales': {'grey': (0, 1), 'error': (0, vmax)}, the colour bars' limits (panels only)}.
The titles also go into the
PNG's text chunk 'Description', one a line, so a file can be checked without its figure code
(titles are plain ASCII: PNG text chunks are Latin-1).
"""
import math

import numpy as np

from models import metrics

DPI = 100
MIN_TILE = 256       # pixels on a tile's shorter side, at least
MAX_TILE = 512       # larger images are shown downscaled to this
FONT = 9             # points; at DPI 100 a title line is about 15 px high
MARGIN = 16
GAP = 14
TITLE_H = 54         # room for three title lines above a tile
SUPTITLE_H = 44
CBAR_W = 14
CBAR_ROOM = 76       # colour bar ticks and label
PLOT_H = 300         # the per-frame PSNR line plot, its title, axis label and legend
ERROR_CMAP = 'inferno'


def _figure(width, height):
    """A Figure of exactly width x height pixels on an Agg canvas, and an `axes(x, y, w, h)`
    function placing axes in pixels from the top-left corner."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width / float(DPI), height / float(DPI)), dpi=DPI)
    FigureCanvasAgg(fig)

    def axes(x, y, w, h):
        return fig.add_axes([x / float(width), 1.0 - (y + h) / float(height),
                             w / float(width), h / float(height)])
    return fig, axes


def _save(fig, out, titles):
    """Write the figure as PNG to a path or binary file, the titles in its text chunk."""
    fig.savefig(out, dpi=DPI, format='png',
                metadata={'Description': '\n'.join(t.replace('\n', ' ') for t in titles)})


def tile_shape(h, w):
    """(tile height, tile width) in pixels of an h x w image: a whole upscaling factor so the
    shorter side reaches MIN_TILE, or a downscale so the longer side is at most MAX_TILE."""
    s = max(1, int(math.ceil(MIN_TILE / float(min(h, w)))))
    if max(h, w) * s > MAX_TILE and min(h, w) >= MIN_TILE:
        s = MAX_TILE / float(max(h, w))
    return int(round(h * s)), int(round(w * s))


def _grey(ax, img, top, title):
    ax.imshow(img / top, cmap='gray', vmin=0.0, vmax=1.0, interpolation='nearest',
              aspect='auto')
    ax.set_axis_off()
    ax.set_title(title, fontsize=FONT)
    return ax.images[-1]


def _error(ax, err, top, vmax, title):
    ax.imshow(err / top, cmap=ERROR_CMAP, vmin=0.0, vmax=vmax, interpolation='nearest',
              aspect='auto')
    ax.set_axis_off()
    ax.set_title(title, fontsize=FONT)
    return ax.images[-1]


def _colour_bar(fig, axes, mappable, x, y, h, label):
    cax = axes(x, y, CBAR_W, h)
    cb = fig.colorbar(mappable, cax=cax)
    cb.ax.tick_params(labelsize=FONT - 1)
    cb.set_label(label, fontsize=FONT - 1)


def error_scale(zf_err, top):
    """The error tiles' upper colour limit: the 99th percentile of |IN - GT| / max |GT|
    (outliers would wash the maps out), never 0."""
    v = float(np.percentile(zf_err / top, 99))
    return v if v > 0 else 1.0


def sampling_title(mask):
    """'25.0% sampled: acc 4.00' for a 0/1 mask."""
    rate = float(np.mean(mask))
    return '%.1f%% sampled: acc %.2f' % (100.0 * rate, 1.0 / rate if rate else float('inf'))


def metric_title(name, row, tag):
    """Tile title with the image's numbers, e.g. 'zero-filled (IN)\\nPSNR 20.07 dB  SSIM
    0.550' from a metrics row (keys psnr_in, ssim_in, ... as in metrics.csv; cpsnr_* when
    present)."""
    t = '%s\nPSNR %.2f dB  SSIM %.3f' % (name, row['psnr_' + tag], row['ssim_' + tag])
    if 'cpsnr_' + tag in row:
        t += '\ncPSNR %.2f dB' % row['cpsnr_' + tag]
    return t


def summary_title(what, row):
    """The figure's two-line headline: what it shows, then IN -> RE PSNR and SSIM of the
    metrics row."""
    return ('%s\nPSNR %.2f -> %.2f dB, SSIM %.3f -> %.3f (zero-filled -> '
            'reconstruction)' % (what, row['psnr_in'], row['psnr_re'], row['ssim_in'],
                                 row['ssim_re']))


def _image_rows(fig, axes, y0, zf, re, gt, mask, top, row, frame_note=''):
    """Two rows of tiles from pixel y0: GT | IN | RE, then mask | |IN - GT| | |RE - GT|,
    with a grey and an error colour bar; frame_note (e.g. ', frame 4') follows the first row's
    names. Returns (titles, tiles, {name: axes}, {'grey': limits, 'error': limits} of the
    colour bars, y below)."""
    th, tw = tile_shape(*gt.shape)
    e_in, e_re = np.abs(zf - gt), np.abs(re - gt)
    vmax = error_scale(e_in, top)
    titles, tiles = [], {}
    ys = (y0 + TITLE_H, y0 + 2 * TITLE_H + th + GAP)
    spec = [
        ('gt', 0, 0, 'ground truth (GT)%s' % frame_note),
        ('in', 0, 1, metric_title('zero-filled input (IN)%s' % frame_note, row, 'in')),
        ('re', 0, 2, metric_title('reconstruction (RE)%s' % frame_note, row, 're')),
        ('mask', 1, 0, 'sampling mask, fftshifted\n(k-space centre in the middle)\n'
         + sampling_title(mask)),
        ('err_in', 1, 1, 'error |IN - GT|\nNMSE %.3e' % row['nmse_in']),
        ('err_re', 1, 2, 'error |RE - GT|\nNMSE %.3e' % row['nmse_re']),
    ]
    drawn, axs = {}, {}
    for name, r, c, title in spec:
        x = MARGIN + c * (tw + GAP)
        ax = axes(x, ys[r], tw, th)
        tiles[name], axs[name] = (x, ys[r], tw, th), ax
        titles.append(title)
        if name == 'mask':
            ax.imshow(np.fft.fftshift(mask, axes=(-2, -1)), cmap='gray', vmin=0, vmax=1,
                      interpolation='nearest', aspect='auto')
            ax.set_axis_off()
            ax.set_title(title, fontsize=FONT)
        elif name.startswith('err'):
            drawn[name] = _error(ax, e_in if name == 'err_in' else e_re, top, vmax, title)
        else:
            drawn[name] = _grey(ax, {'gt': gt, 'in': zf, 're': re}[name], top, title)
    xb = MARGIN + 3 * tw + 3 * GAP
    _colour_bar(fig, axes, drawn['re'], xb, ys[0], th, '|image| / max |GT|')
    _colour_bar(fig, axes, drawn['err_re'], xb, ys[1], th, '|error| / max |GT|')
    scales = {'grey': drawn['re'].get_clim(), 'error': drawn['err_re'].get_clim()}
    return titles, tiles, axs, scales, ys[1] + th


def panel_size(h, w, frames=None):
    """(width, height) in pixels of the panel of an h x w image (frames=None) or of a
    sequence of `frames` such images."""
    th, tw = tile_shape(h, w)
    width = MARGIN + 3 * tw + 3 * GAP + CBAR_W + CBAR_ROOM
    height = SUPTITLE_H + 2 * (TITLE_H + th) + GAP + MARGIN
    if frames is not None:
        height += GAP + TITLE_H + th + GAP + PLOT_H
    return width, height


def image_panel(out, feature, pred, label, mask, row, index=None):
    """PNG panel of one 2D image: GT | zero-filled IN | reconstruction RE over sampling mask |
    |IN - GT| | |RE - GT|, titled with the metrics row's PSNR/SSIM/NMSE (the numbers of
    metrics.csv). feature, pred, label (H, W, 2); mask (H, W) 0/1 uncentred. `out` is a path
    or a binary file. Returns the layout dict (module docstring)."""
    zf, re, gt = (metrics.magnitude(x) for x in (feature, pred, label))
    top = float(gt.max()) or 1.0
    width, height = panel_size(*gt.shape)
    fig, axes = _figure(width, height)
    head = summary_title('image %s (%d x %d)' % ('' if index is None else index, gt.shape[0],
                                                gt.shape[1]), row)
    fig.text(MARGIN / float(width), 1.0 - 8.0 / height, head, fontsize=FONT + 1,
             va='top', ha='left', weight='bold')
    titles, tiles, _, scales, _ = _image_rows(fig, axes, SUPTITLE_H, zf, re, gt, mask, top,
                                              row)
    titles = [head] + titles
    _save(fig, out, titles)
    return {'size': (width, height), 'titles': titles, 'tiles': tiles, 'scales': scales}


def xt_column(w):
    """The image column the x-t profiles show: the centre one."""
    return w // 2


def frame_psnr_plot(ax, psnr_in, psnr_re, chosen=None):
    """PSNR per frame on `ax`: RE solid, IN dashed; first and last frames, where data sharing
    and temporal context are weakest, ringed in red with their RE value written; `chosen`
    (the frame shown above, or None) a dotted vertical line. Returns the axes title."""
    t = np.arange(len(psnr_re))
    ax.plot(t, psnr_in, '--o', color='0.45', ms=3, lw=1.2, label='zero-filled (IN)')
    ax.plot(t, psnr_re, '-o', color='tab:blue', ms=4, lw=1.6, label='reconstruction (RE)')
    ends = sorted(set([0, len(t) - 1]))
    ax.plot(ends, [psnr_re[i] for i in ends], 'o', ms=10, mfc='none', mec='tab:red', mew=1.5,
            label='first / last frame')
    for i in ends:
        ax.annotate('%.2f' % psnr_re[i], (i, psnr_re[i]), textcoords='offset points',
                    xytext=(0, 8), ha='center', fontsize=FONT - 1, color='tab:red')
    if chosen is not None:
        ax.axvline(chosen, color='k', ls=':', lw=1, label='frame shown above')
    ax.set_xlabel('frame', fontsize=FONT)
    ax.set_ylabel('PSNR (dB)', fontsize=FONT)
    ax.tick_params(labelsize=FONT - 1)
    ax.set_xticks(t if len(t) <= 32 else t[::max(1, len(t) // 16)])
    ax.margins(x=0.04, y=0.18)   # room for the annotations
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=FONT - 1, loc='upper center', bbox_to_anchor=(0.5, -0.2), ncol=4,
              frameon=False)
    low = int(np.argmin(psnr_re))
    title = ('PSNR per frame: RE mean %.2f dB, first frame %.2f, last frame %.2f, lowest '
             'frame %d (%.2f)' % (float(np.mean(psnr_re)), psnr_re[0], psnr_re[-1], low,
                                  psnr_re[low]))
    ax.set_title(title, fontsize=FONT)
    return title


FRAMES_SIZE = (900, 340)


def frame_psnr_figure(out, per_frame, label='mean over the test sequences'):
    """PNG of frame_psnr_plot alone, from a list of {'frame', 'psnr_in', 'psnr_re'} (the
    summary's 'per_frame'). Returns the layout dict (no tiles)."""
    width, height = FRAMES_SIZE
    fig, axes = _figure(width, height)
    ax = axes(64, 40, width - 64 - MARGIN, height - 40 - 76)
    title = frame_psnr_plot(ax, [f['psnr_in'] for f in per_frame],
                            [f['psnr_re'] for f in per_frame])
    ax.set_title('%s\n%s' % (title, label), fontsize=FONT)
    titles = [title]
    _save(fig, out, titles)
    return {'size': (width, height), 'titles': titles, 'tiles': {}}


def sequence_panel(out, feature, pred, label, mask, row, frame_rows, frame=None, index=None):
    """PNG panel of one sequence: frame `frame` (default the middle one) as in image_panel,
    titled with that frame's numbers (frame_rows, the rows of metrics_frames.csv); the x-t
    profiles of GT, IN and RE at the centre column (dashed on the GT tile), time left to right;
    and the PSNR of every frame (frame_psnr_plot). The headline carries the sequence's numbers
    (row, frames averaged, as in metrics.csv). feature, pred, label (T, H, W, 2); mask
    (T, H, W). Returns the layout dict."""
    zf, re, gt = (metrics.magnitude(x) for x in (feature, pred, label))
    n_t, h, w = gt.shape
    t = n_t // 2 if frame is None else frame
    top = float(gt.max()) or 1.0
    th, tw = tile_shape(h, w)
    width, height = panel_size(h, w, n_t)
    fig, axes = _figure(width, height)
    head = summary_title('sequence %s (%d frames of %d x %d, frames averaged)'
                         % ('' if index is None else index, n_t, h, w), row)
    fig.text(MARGIN / float(width), 1.0 - 8.0 / height, head, fontsize=FONT + 1,
             va='top', ha='left', weight='bold')
    col = xt_column(w)
    titles, tiles, axs, scales, y = _image_rows(fig, axes, SUPTITLE_H, zf[t], re[t], gt[t],
                                                mask[t], top, frame_rows[t], ', frame %d' % t)
    titles[0] += '\ndashed: column %d, the x-t profiles' % col
    axs['gt'].set_title(titles[0], fontsize=FONT)
    axs['gt'].axvline(col, color='yellow', ls='--', lw=0.8)
    y += GAP + TITLE_H
    for c, (name, img) in enumerate((('GT', gt), ('IN', zf), ('RE', re))):
        x = MARGIN + c * (tw + GAP)
        title = 'x-t profile, %s\ncolumn %d over frames 0..%d, left to right' % (name, col,
                                                                                n_t - 1)
        _grey(axes(x, y, tw, th), img[:, :, col].T, top, title)
        tiles['xt_' + name.lower()] = (x, y, tw, th)
        titles.append(title)
    y += th + GAP + 30
    box = (MARGIN + 48, y, 3 * tw + 2 * GAP - 48, PLOT_H - 30 - 76)
    ax = axes(*box)
    tiles['psnr_frames'] = box
    titles.append(frame_psnr_plot(ax, [r['psnr_in'] for r in frame_rows],
                                  [r['psnr_re'] for r in frame_rows], t))
    titles = [head] + titles
    _save(fig, out, titles)
    return {'size': (width, height), 'titles': titles, 'tiles': tiles, 'scales': scales}


def save_panel(out, item, mask, row, frame_rows=None, frame=None):
    """The panel of one evaluated item (index, feature, pred, label) as evaluate.reconstruct
    yields it: image_panel for a 2D image, sequence_panel (frame_rows needed) for a sequence."""
    index, feature, pred, label = item
    if label.ndim == 3:
        return image_panel(out, feature, pred, label, mask, row, index)
    return sequence_panel(out, feature, pred, label, mask, row, frame_rows, frame, index)


CURVES_SIZE = (1320, 400)


def training_curves(out, history, label=''):
    """PNG of a training run from models.logparse.history: the loss per logged step (log
    scale, with each epoch's mean as dots), validation PSNR per epoch and validation SSIM per
    epoch, RE solid and IN (zero-filled, the level to beat) dashed; cPSNR too when the [val]
    lines carry it. Returns the layout dict (no tiles)."""
    from matplotlib.ticker import MaxNLocator
    width, height = CURVES_SIZE
    fig, axes = _figure(width, height)
    head = 'training curves%s' % (': ' + label if label else '')
    fig.text(MARGIN / float(width), 1.0 - 10.0 / height, head, fontsize=FONT + 2, va='top',
             ha='left', weight='bold')
    left, gap = 84, 16   # room for each plot's tick labels and axis label; between plots
    pw = (width - 2 * MARGIN - 3 * left - 2 * gap) // 3
    top, ph = SUPTITLE_H + 24, height - SUPTITLE_H - 84
    ax_loss, ax_psnr, ax_ssim = (axes(MARGIN + left + i * (pw + left + gap), top, pw, ph)
                                 for i in range(3))
    titles = [head]
    steps = history['step']
    ax_loss.plot([s['step'] for s in steps], [s['loss'] for s in steps], '-', color='tab:blue',
                 lw=1.2, label='logged step')
    ep = history['epoch']
    if ep:
        ax_loss.plot([e['step'] for e in ep], [e['loss'] for e in ep], 'o', color='tab:orange',
                     ms=4, label='epoch mean')
    if steps or ep:
        ax_loss.set_yscale('log')
    ax_loss.set_xlabel('step', fontsize=FONT)
    ax_loss.set_ylabel('training loss', fontsize=FONT)
    titles.append('training loss per step (%d logged steps)' % len(steps))
    val = history['val']
    epochs = [v['epoch'] for v in val]
    for key, name, colour in (('psnr', 'PSNR', 'tab:blue'), ('cpsnr', 'cPSNR', 'tab:green')):
        if val and key + '_re' in val[-1]:
            sel = [v for v in val if key + '_re' in v]
            ax_psnr.plot([v['epoch'] for v in sel], [v[key + '_re'] for v in sel], '-o',
                         color=colour, ms=4, label='%s RE' % name)
            ax_psnr.plot([v['epoch'] for v in sel], [v[key + '_in'] for v in sel], '--',
                         color=colour, alpha=0.7, label='%s IN (zero-filled)' % name)
    ax_psnr.set_ylabel('dB', fontsize=FONT)
    if val:
        ax_ssim.plot(epochs, [v['ssim_re'] for v in val], '-o', color='tab:purple', ms=4,
                     label='SSIM RE')
        ax_ssim.plot(epochs, [v['ssim_in'] for v in val], '--', color='tab:purple', alpha=0.7,
                     label='SSIM IN (zero-filled)')
        last = val[-1]
        titles.append('validation PSNR per epoch (last: IN %.2f, RE %.2f dB)'
                      % (last['psnr_in'], last['psnr_re']))
        titles.append('validation SSIM per epoch (last: IN %.3f, RE %.3f)'
                      % (last['ssim_in'], last['ssim_re']))
    else:
        for ax in (ax_psnr, ax_ssim):
            ax.text(0.5, 0.5, 'no [val] lines:\n' + (
                'no epoch ended (validation runs at the end of each)'
                if history.get('test_data') else 'train.py ran without test data'),
                    ha='center', va='center', fontsize=FONT, transform=ax.transAxes)
        titles += ['validation PSNR per epoch (none)', 'validation SSIM per epoch (none)']
    for ax, title in zip((ax_loss, ax_psnr, ax_ssim), titles[1:]):
        ax.set_title(title, fontsize=FONT)
        ax.tick_params(labelsize=FONT - 1)
        ax.grid(True, alpha=0.3)
        if ax is not ax_loss:
            ax.set_xlabel('epoch', fontsize=FONT)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=FONT - 1, framealpha=0.9)
    _save(fig, out, titles)
    return {'size': (width, height), 'titles': titles, 'tiles': {}}
