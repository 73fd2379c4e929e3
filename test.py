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
"""
import glob
import os
import sys
import time

from models import config as cfgmod
from models import ckpt as ckpt_mod
from models import baselines, evaluate, plots, pre_input, presets, report
from models.errors import ArgumentParser, InputError, bool_flag, exit_on_input_error, str2bool
from models.tfv1 import tf_v1

META = 'modelTst.meta'


def parse_args(argv):
    p = ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--save_ckpt_Dir', default='./save_ckpt', help='folder written by train.py')
    p.add_argument('--data_test_dir', default='', help='test HDF5 file')
    p.add_argument('--data_url', default='', help='folder holding one *test*.hdf5')
    p.add_argument('--batch_size', type=int, default=16)
    p.add_argument('--image_size', type=int, nargs='+', default=None, metavar='H [W]',
                   help='checked against the saved model and the data')
    p.add_argument('--num_epoch', type=int, default=None, help='accepted for the launchers; unused')
    p.add_argument('--output_dir', default='', help='default: <save_ckpt_Dir>/test_results')
    bool_flag(p, 'plot', False, 'write PNG panels')
    p.add_argument('--plot_count', type=int, default=8, help='panels to write with --plot')
    p.add_argument('--plot_frame', type=int, default=None,
                   help='dynamic: the frame a panel shows (default: the middle one)')
    bool_flag(p, 'report', False, 'write report.html (summary, training curves, the 5 worst '
              'and 5 best images, configuration)')
    bool_flag(p, 'baseline', False, 'also reconstruct every image without training (TV and '
              'L1-wavelet CS; dynamic: temporal TV; models/baselines.py) and add their metrics '
              '(psnr_tv, ...) to metrics.csv and the summary')
    p.add_argument('--preset', default=None, choices=presets.NAMES,
                   help='must agree with the saved model; for a folder without config.json '
                   '(the port\'s checkpoints) the model to build (with --Dn/--Dc/--nf)')
    p.add_argument('--Dn', type=int, default=None, help='must agree with the saved model')
    p.add_argument('--Dc', type=int, default=None, help='must agree with the saved model')
    p.add_argument('--nf', type=int, default=None, help='must agree with the saved model')
    p.add_argument('--dc_mode', default=None)
    p.add_argument('--batch_norm', type=str2bool, nargs='?', const=True, default=None)
    p.add_argument('--share_weights', type=str2bool, nargs='?', const=True, default=None)
    a = p.parse_args(argv)
    if a.batch_size < 1:
        p.error('--batch_size must be >= 1')
    return a


def resolve_test_file(a):
    path = a.data_test_dir
    if a.data_url and path and not os.path.exists(path):
        path = os.path.join(a.data_url, path)
    if not path and a.data_url:
        hits = sorted(h for h in glob.glob(os.path.join(a.data_url, '*test*.hdf5')))
        if len(hits) != 1:
            raise InputError('--data_url %s: expected one *test*.hdf5, found %d; name it with '
                             '--data_test_dir' % (a.data_url, len(hits)))
        path = hits[0]
    if not path:
        raise InputError('no test data: give --data_test_dir FILE (or --data_url DIR)')
    return path


@exit_on_input_error
def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    d = a.save_ckpt_Dir
    given = {'preset': a.preset, 'Dn': a.Dn, 'Dc': a.Dc, 'nf': a.nf, 'dc_mode': a.dc_mode,
             'batch_norm': a.batch_norm, 'share_weights': a.share_weights}
    cfg, from_file = cfgmod.load_or_preset(d, a.preset, given)
    if from_file:
        cfgmod.resolve_arch(given, cfg, cfgmod.path(d))
        if not os.path.isfile(os.path.join(d, META)):
            raise InputError('%s: no %s (the inference graph train.py writes)' % (d, META))
    data = pre_input.H5Data(resolve_test_file(a), cfg['label_scale'])
    if not from_file:
        cfg['image_size'] = list(data.shape[-2:])
    h, w = cfg['image_size']
    if data.shape[-2:] != (h, w):
        raise InputError('%s: images are %dx%d but the model in %s was built for %dx%d'
                         % (data.path, data.shape[-2], data.shape[-1], d, h, w))
    dynamic = cfgmod.is_dynamic(cfg)
    if data.is_dynamic != dynamic:
        raise InputError('%s: %s data but the model in %s is %s' % (
            data.path, 'dynamic (N, T, H, W)' if data.is_dynamic else '2D (N, H, W)', d,
            cfg['model']))
    if dynamic and data.shape[0] != cfg['frames']:
        raise InputError('%s: sequences have %d frames but the model in %s was built for %d'
                         % (data.path, data.shape[0], d, cfg['frames']))
    if a.image_size is not None and (a.image_size[0], a.image_size[-1]) != (h, w):
        raise InputError('--image_size %s does not match the saved model (%dx%d)'
                         % ('x'.join(map(str, a.image_size)), h, w))
    if a.plot_frame is not None and not (dynamic and 0 <= a.plot_frame < cfg['frames']):
        raise InputError('--plot_frame %d: %s' % (a.plot_frame, 'frames are 0..%d' % (
            cfg['frames'] - 1) if dynamic else 'the model in %s is 2D' % d))
    out_dir = a.output_dir or os.path.join(d, 'test_results')

    tf = tf_v1()
    ckpt = ckpt_mod.latest(tf, d)
    if not ckpt:
        raise InputError('%s: no checkpoint (expected model-<step>.index and a checkpoint file)'
                         % d)
    if not os.path.isdir(out_dir):
        os.makedirs(out_dir)
    if from_file:
        graph = tf.Graph()
        with graph.as_default():
            saver = tf.train.import_meta_graph(os.path.join(d, META), clear_devices=True)
            feature = graph.get_tensor_by_name('feature:0')
            mask = graph.get_tensor_by_name('mask:0')
            pred = graph.get_tensor_by_name('predTst:0')
    else:  # no modelTst.meta of ours: the graph is built from the preset
        from models import model_tf
        graph, feature, mask, pred = model_tf.build_inference_graph(cfg)
        with graph.as_default():
            saver = tf.train.Saver(model_tf.model_variables(graph))
    from models import device
    dev = device.detect_device()
    sess = tf.Session(graph=graph, config=device.session_config(
        dev, cfg.get('precision_mode', 'allow_mix_precision')))
    with graph.as_default():
        ckpt_mod.restore(tf, saver, sess, ckpt, tf.global_variables())
    print('restored %s (%s nf=%d%s), testing %d %s of %s'
          % (ckpt, cfgmod.model_name(cfg), cfg['nf'], ', dynamic' if dynamic else '', data.n,
             'sequences' if dynamic else 'images', data.path))

    # the last batch padded: one input shape, as the NPU wants (see models.pre_input.Batches)
    batches = pre_input.Batches(data, a.batch_size, shuffle=False, drop_remainder=False,
                                pad_last=True)
    rows, frames, times = [], [], []
    extremes = report.Extremes(5) if a.report else None
    volumes = evaluate.FastMRIVolumes(data.volumes())  # fastMRI's per-volume rule

    def predict(f, m):
        t0 = time.perf_counter()
        out = sess.run(pred, {feature: f, mask: m})
        times.append((time.perf_counter() - t0) / len(f))
        return out

    def mask_of(i):
        return data.read([i])[1][0]  # the file's mask: the one test batches use

    for n, item in enumerate(evaluate.reconstruct(predict, batches)):
        rows.append(evaluate.image_row(*item))
        volumes.add(*item)
        if a.baseline:
            rows[-1].update(baselines.metrics_row(item[1], mask_of(item[0]), item[3]))
            baselines.progress(n + 1, data.n)
        item_frames = evaluate.frame_rows(*item) if dynamic else None
        if dynamic:
            frames.extend(item_frames)
        if a.plot and n < a.plot_count:
            plots.save_panel(os.path.join(out_dir, 'panel_%05d.png' % item[0]), item,
                             mask_of(item[0]), rows[-1], item_frames, a.plot_frame)
        if extremes is not None:
            extremes.add(rows[-1], item, item_frames)
    sess.close()
    s = evaluate.summarize(rows)
    volumes.finish(rows, s)
    if a.baseline:
        s.update(baselines.summarize(rows))
    s.update({'checkpoint': ckpt, 'data': os.path.abspath(data.path), 'images': len(rows),
              'seconds_per_image': sum(times) / len(rows)})
    evaluate.write_csv(os.path.join(out_dir, 'metrics.csv'), rows)
    if dynamic:
        s['per_frame'] = evaluate.summarize_frames(frames)
        evaluate.write_csv(os.path.join(out_dir, 'metrics_frames.csv'), frames)
        for f in s['per_frame']:
            print('frame %3d: PSNR IN %.4f RE %.4f  SSIM IN %.4f RE %.4f'
                  % (f['frame'], f['psnr_in'], f['psnr_re'], f['ssim_in'], f['ssim_re']))
        print('per sequence (frames averaged):')
    evaluate.write_json(os.path.join(out_dir, 'summary.json'), s)
    for line in evaluate.summary_lines(s) + (baselines.summary_lines(s) if a.baseline else []):
        print(line)
    print('per-%s metrics: %s%s, summary: %s%s'
          % ('sequence' if dynamic else 'image', os.path.join(out_dir, 'metrics.csv'),
             ' (per frame: metrics_frames.csv)' if dynamic else '',
             os.path.join(out_dir, 'summary.json'),
             ', plots: %s/panel_*.png' % out_dir if a.plot else ''))
    if extremes is not None:
        print('report: %s' % report.write_report(os.path.join(out_dir, report.REPORT), s,
                                                 extremes, mask_of, cfg, d, vars(a)))
    return s


if __name__ == '__main__':
    main()
