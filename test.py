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
"""Evaluate a trained cascade on an HDF5 test set.

  python test.py --save_ckpt_Dir save_ckpt --data_test_dir data/x_test_acc4.hdf5 [--plot] [--report]

Restores the latest checkpoint in --save_ckpt_Dir into the inference graph saved there
(modelTst.meta, built from config.json), so no model flags need repeating; a folder of the
Ascend port's own checkpoints (no config.json) is read with --preset port. Prints
`Avg PSNR: IN <zero-filled> RE <reconstruction>` (and SSIM, MSE, NMSE), writes a per-image CSV,
a JSON summary, with --plot labelled PNG panels (mask, zero-filled, reconstruction, ground
truth, error maps, with each image's PSNR/SSIM) and with --report a one-page report.html
(models/report.py). For a dynamic (2D+t) model the figures are per sequence (frames averaged);
per-frame metrics go to metrics_frames.csv and the summary, and a sequence's panel shows one
frame, the x-t profiles and the PSNR of every frame.
Multi-coil files: metrics are of the magnitude of the coil combination against the label; where
the file has `rss`, also `Avg RSS ...` lines (IN, RE and the label itself against the root sum
of squares, on the label's scale); where it records `recon_size` (fastMRI's reconSpace), every
metric is taken on that centre crop of reconstruction and reference (docs/training.md).
"""
import os
import sys
import time

from models import ckpt as ckpt_mod
from models import baselines, coil_baselines, evaluate, flags, plots, pre_input, report
from models.errors import ArgumentParser, InputError, bool_flag, exit_on_input_error
from models.tfv1 import tf_v1


def parse_args(argv):
    p = ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--save_ckpt_Dir', default='./save_ckpt', help='folder written by train.py')
    flags.add_data_flags(p, train=False)
    p.add_argument('--batch_size', type=int, default=16)
    p.add_argument('--num_epoch', type=int, default=None, help='accepted for the launchers; unused')
    p.add_argument('--output_dir', default='', help='default: <save_ckpt_Dir>/test_results')
    bool_flag(p, 'plot', False, 'write PNG panels')
    p.add_argument('--plot_count', type=int, default=8, help='panels to write with --plot')
    p.add_argument('--plot_frame', type=int, default=None,
                   help='dynamic: the frame a panel shows (default: the middle one)')
    bool_flag(p, 'report', False, 'write report.html (summary, training curves, the 5 worst '
              'and 5 best images, configuration)')
    bool_flag(p, 'baseline', False, 'also reconstruct every image without training (TV and '
              'L1-wavelet CS; dynamic: temporal TV; models/baselines.py; 2-D multi-coil: '
              'zero-filled SENSE, CG-SENSE, L1-ESPIRiT, models/coil_baselines.py) and add their '
              'metrics (psnr_tv, psnr_cgsense, ...) to metrics.csv and the summary')
    p.add_argument('--baseline_lam', nargs='+', default=[], metavar='NAME=LAMBDA',
                   help='--baseline: regularisation weights instead of the defaults, e.g. '
                   'tv=0.01 l1wavelet=0.002 (also ttv, cgsense, l1espirit); choose them on '
                   'training or validation images, not on the test set (docs/baselines.md)')
    flags.add_model_flags(p, saved=True)
    flags.add_port_noop_flags(p, 'test')
    a = p.parse_args(argv)
    flags.check_model_flags(p, a)
    if a.batch_size < 1:
        p.error('--batch_size must be >= 1')
    return a


def resolve_test_file(a):
    """--data_test_dir (relative to --data_url where it is not a path as it stands), else the
    one *test* file of --data_url."""
    path = ckpt_mod.data_file(a.data_url, a.data_test_dir, 'test')
    if not path and a.data_url:
        raise InputError('--data_url %s: no *test*.hdf5 file; name it with --data_test_dir'
                         % a.data_url)
    if not path:
        raise InputError('no test data: give --data_test_dir FILE (or --data_url DIR)')
    return path


def load(a):
    """The model's Config (from config.json, or --preset for the port's checkpoints), the test
    data checked against it, and whether the folder is ours (config.json + modelTst.meta)."""
    d = a.save_ckpt_Dir
    cfg, from_file = ckpt_mod.load_model_config(d, a.preset, flags.given(a, flags.MODEL_KEYS))
    if from_file and not os.path.isfile(os.path.join(d, ckpt_mod.META)):
        raise InputError('%s: no %s (the inference graph train.py writes)' % (d, ckpt_mod.META))
    data = pre_input.H5Data(resolve_test_file(a), cfg.label_scale)
    if a.baseline and data.coils and data.is_dynamic:
        raise InputError('--baseline: %s is dynamic multi-coil data; the multi-coil baselines '
                         '(zero-filled SENSE, CG-SENSE, L1-ESPIRiT) are 2-D only' % data.path)
    if a.baseline_lam and not a.baseline:
        raise InputError('--baseline_lam needs --baseline')
    a.lams = baseline_lams(a.baseline_lam, baseline_names(data))
    if not from_file:
        cfg.image_size = list(data.shape[-2:])
    ckpt_mod.check_data(cfg, data, d)
    ckpt_mod.check_image_size(flags.image_size(a), cfg.image_size, 'the saved model')
    if a.plot_frame is not None and not (cfg.dynamic and 0 <= a.plot_frame < cfg.frames):
        raise InputError('--plot_frame %d: %s' % (a.plot_frame, 'frames are 0..%d' % (
            cfg.frames - 1) if cfg.dynamic else 'the model in %s is 2D' % d))
    return cfg, data, from_file


def restore(tf, cfg, d, from_file):
    """(session, input placeholders in feed order, predTst, checkpoint) with the latest
    checkpoint of folder `d` restored into modelTst.meta, or, for the port's checkpoints, into
    the graph built from the preset."""
    from models import model_tf
    found = ckpt_mod.require_latest(tf, d)
    if from_file:
        graph = tf.Graph()
        with graph.as_default():
            saver = tf.train.import_meta_graph(os.path.join(d, ckpt_mod.META),
                                               clear_devices=True)
    else:  # no modelTst.meta of ours: the graph is built from the preset
        graph = model_tf.build_inference_graph(cfg)[0]
        with graph.as_default():
            saver = tf.train.Saver(model_tf.model_variables(graph))
    inputs = [graph.get_tensor_by_name(name + ':0') for name, _ in model_tf.graph_inputs(cfg)]
    pred = graph.get_tensor_by_name('predTst:0')
    from models import device
    sess = tf.Session(graph=graph, config=device.session_config(
        device.detect_device(), cfg.precision_mode))
    with graph.as_default():
        ckpt_mod.restore(tf, saver, sess, found, tf.global_variables())
    return sess, inputs, pred, found


def run_tests(a, cfg, data, predict, out_dir):
    """Reconstruct every test item; write panels; with --baseline add the baselines' metrics.
    Returns (image rows, frame rows, Extremes or None, the fastMRI volumes)."""
    batches = pre_input.Batches(data, a.batch_size, shuffle=False, drop_remainder=False,
                                pad_last=True)
    rows, frames = [], []
    extremes = report.Extremes(5) if a.report else None
    volumes = evaluate.FastMRIVolumes(data.volumes())  # fastMRI's per-volume rule
    size = data.recon_size  # fastMRI's reconSpace: metrics (and panels) on that centre crop
    for n, full in enumerate(evaluate.reconstruct(predict, batches)):
        item = evaluate.crop_item(full, size)
        rows.append(evaluate.image_row(*item))
        recs = baseline_recs(data, full, a.lams) if a.baseline else {}
        volumes.add(*item, extra=dict((m, evaluate.crop(r, size)) for m, r in recs.items()))
        if data.has_rss:
            rss = evaluate.crop(data.read_rss([item[0]])[0], size)
            rows[-1].update(evaluate.rss_row(item[1], item[2], item[3], rss))
        if a.baseline:
            rows[-1].update(baselines.recon_metrics(recs, full[3], size))
            baselines.progress(n + 1, data.n)
        item_frames = evaluate.frame_rows(*item) if cfg.dynamic else None
        if cfg.dynamic:
            frames.extend(item_frames)
        if a.plot and n < a.plot_count:
            plots.save_panel(os.path.join(out_dir, 'panel_%05d.png' % item[0]), item,
                             mask_of(data, item[0]), rows[-1], item_frames, a.plot_frame)
        if extremes is not None:
            extremes.add(rows[-1], item, item_frames)
    return rows, frames, extremes, volumes


def baseline_recs(data, item, lams=None):
    """The baselines' reconstructions {name: complex image} of one uncropped test item (index,
    feature, pred, label): the single-coil CS baselines from its zero-filled feature, or for
    multi-coil data coil_baselines from the file's k-space, coil maps and mask."""
    i = item[0]
    if data.coils:
        kspace, maps = data.read_coils([i])
        return coil_baselines.reconstruct(kspace[0], maps[0], mask_of(data, i), lams=lams)
    return baselines.reconstruct(baselines.from_feature(item[1], mask_of(data, i)),
                                 mask_of(data, i), lams=lams)


def baseline_lams(given, names):
    """--baseline_lam NAME=LAMBDA ... -> {name: lambda}, each name one of the baselines that
    have a lambda among `names` (those test.py runs on this data), each lambda > 0."""
    with_lam = [m for m in sorted(names)
                if m in baselines.RECONSTRUCT or m in coil_baselines.HAS_LAMBDA]
    lams = {}
    for item in given:
        name, _, value = item.partition('=')
        try:
            lam = float(value)
        except ValueError:
            lam = -1.0
        if name not in with_lam or not lam > 0:
            raise InputError('--baseline_lam %s: expected NAME=LAMBDA with NAME one of %s for '
                             'this data and LAMBDA > 0' % (item, ', '.join(with_lam)))
        lams[name] = lam
    return lams


def baseline_names(data):
    """The baselines test.py --baseline runs on `data`: {column suffix: printed name}."""
    return coil_baselines.NAMES if data.coils else baselines.NAMES


def mask_of(data, i):
    """The file's mask of item i: the one test batches use."""
    return data.read([i])[1][0]


def write_results(a, cfg, data, rows, frames, out_dir, s):
    """metrics.csv (+ metrics_frames.csv), summary.json and the printed summary lines."""
    evaluate.write_csv(os.path.join(out_dir, 'metrics.csv'), rows)
    if cfg.dynamic:
        s['per_frame'] = evaluate.summarize_frames(frames)
        evaluate.write_csv(os.path.join(out_dir, 'metrics_frames.csv'), frames)
        for f in s['per_frame']:
            print('frame %3d: PSNR IN %.4f RE %.4f  SSIM IN %.4f RE %.4f'
                  % (f['frame'], f['psnr_in'], f['psnr_re'], f['ssim_in'], f['ssim_re']))
        print('per sequence (frames averaged):')
    evaluate.write_json(os.path.join(out_dir, 'summary.json'), s)
    for line in evaluate.summary_lines(s) + (
            baselines.summary_lines(s, baseline_names(data)) if a.baseline else []):
        print(line)
    print('per-%s metrics: %s%s, summary: %s%s'
          % ('sequence' if cfg.dynamic else 'image', os.path.join(out_dir, 'metrics.csv'),
             ' (per frame: metrics_frames.csv)' if cfg.dynamic else '',
             os.path.join(out_dir, 'summary.json'),
             ', plots: %s/panel_*.png' % out_dir if a.plot else ''))


@exit_on_input_error
def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    d = a.save_ckpt_Dir
    cfg, data, from_file = load(a)
    flags.note_port_noop(a, 'test')
    out_dir = a.output_dir or os.path.join(d, 'test_results')
    tf = tf_v1()
    sess, inputs, pred, found = restore(tf, cfg, d, from_file)
    if not os.path.isdir(out_dir):
        os.makedirs(out_dir)
    print('restored %s (%s nf=%d%s), testing %d %s of %s'
          % (found, cfg.name, cfg.nf, ', dynamic' if cfg.dynamic else '', data.n,
             'sequences' if cfg.dynamic else 'images', data.path))
    if data.recon_size:
        print('metrics on the central %dx%d of every image (the file\'s recon_size)'
              % data.recon_size)
    times = []

    def predict(*x):
        t0 = time.perf_counter()
        out = sess.run(pred, dict(zip(inputs, x)))
        times.append((time.perf_counter() - t0) / len(x[0]))
        return out

    rows, frames, extremes, volumes = run_tests(a, cfg, data, predict, out_dir)
    sess.close()
    s = evaluate.summarize(rows)
    volumes.finish(rows, s)
    if data.has_rss:
        s.update(evaluate.summarize_rss(rows))
    if a.baseline:
        s.update(baselines.summarize(rows, baseline_names(data)))
        s['baseline_lam'] = a.lams  # only those given; the others are the modules' defaults
    if data.recon_size:
        s['recon_size'] = list(data.recon_size)
    s.update({'checkpoint': found, 'data': os.path.abspath(data.path), 'images': len(rows),
              'seconds_per_image': sum(times) / len(rows)})
    write_results(a, cfg, data, rows, frames, out_dir, s)
    if extremes is not None:
        print('report: %s' % report.write_report(
            os.path.join(out_dir, report.REPORT), s, extremes, lambda i: mask_of(data, i),
            cfg.to_json(), d, vars(a)))
    return s


if __name__ == '__main__':
    main()
