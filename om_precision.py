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
"""PSNR, SSIM and NMSE of offline-inference outputs (msame or msame_cpu.py) against the labels.

  python om_precision.py --label_dir bins/label --output_dir msame_out

Reads label/{i}.bin and the matching {i}_output_0.bin (in --output_dir or in msame's single
time-stamped sub-folder of it) and the zero-filled input feature/{i}.bin, and reports IN
(zero-filled) and RE (reconstruction) metrics per image and on average, with the same rules and
code as test.py (models.metrics, models.evaluate). Shapes come from info.json beside the label
folder (image_to_bin.py) or --image_size [--frames]. Dynamic (2D+t) data: each file is one
sequence (T, H, W, 2) and its metrics are the mean over its frames, as test.py's per-sequence
rows (evaluate.image_row); the averages are over sequences. Writes a CSV and a JSON summary.

Multi-coil data: feature/{i}.bin is the zero-filled coil combination, test.py's IN; where the
bins have rss/{i}.bin (image_to_bin.py writes the file's `rss`), the `Avg RSS` lines of test.py
too (evaluate.rss_row), and where info.json records recon_size, every metric is taken on that
centre crop, as test.py does (evaluate.crop_item).

fastMRI's per-volume lines (`Avg fastMRI NMSE/PSNR/SSIM`, evaluate.FastMRIVolumes, as test.py)
group the images by volume: by the `volume` dataset of --data_test_dir when given, else by the
volumes image_to_bin.py recorded in info.json; without either, by test.py's rule for a file
without a `volume` dataset (one volume; a dynamic sequence is a volume of its own), said in a
note line.
"""
import os
import sys

import numpy as np

from models import bins, evaluate, pre_input
from models.errors import ArgumentParser, InputError, bool_flag, exit_on_input_error


def parse_args(argv):
    p = ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--label_dir', default='bins/label', help='label/{i}.bin folder')
    p.add_argument('--output_dir', required=True, help='msame --output folder')
    p.add_argument('--feature_dir', default='', help='default: feature/ beside --label_dir')
    p.add_argument('--image_size', type=int, nargs='+', default=None, metavar='H [W]',
                   help='needed when there is no info.json beside --label_dir')
    p.add_argument('--frames', type=int, default=None, metavar='T',
                   help='with --image_size: dynamic data of T frames per sequence')
    p.add_argument('--data_test_dir', default='',
                   help='the HDF5 file the bins were written from: its `volume` dataset groups '
                   'the images for the fastMRI lines (default: the volumes in info.json)')
    p.add_argument('--rss_dir', default='',
                   help='multi-coil: the RSS references (default: rss/ beside --label_dir, '
                   'when there)')
    p.add_argument('--csv', default='', help='default: <output_dir>/om_metrics.csv')
    bool_flag(p, 'overwrite', False, 'replace an existing CSV / summary')
    return p.parse_args(argv)


def label_shape(a, root, info):
    if a.image_size is not None:
        if len(a.image_size) > 2 or min(a.image_size) < 1:
            raise InputError('--image_size takes one or two positive integers (H [W])')
        if a.frames is not None and a.frames < 1:
            raise InputError('--frames must be >= 1, got %d' % a.frames)
        frames = (a.frames,) if a.frames else ()
        return frames + (a.image_size[0], a.image_size[-1], 2)
    if a.frames is not None:
        raise InputError('--frames applies with --image_size (info.json gives the shapes)')
    if info is None:
        raise InputError('%s: no %s (written by image_to_bin.py); give --image_size H W'
                         % (root, bins.INFO))
    return tuple(info['label_shape'])


def image_volumes(a, root, info, shape, indices):
    """(the volume of each image index, where they come from) for FastMRIVolumes: test.py's
    rule (pre_input.volume_ids) on --data_test_dir's file, else info.json's `volumes`, else
    on a file without a `volume` dataset."""
    need = indices[-1] + 1
    if a.data_test_dir:
        volumes, data_shape = pre_input.file_volumes(a.data_test_dir)
        if data_shape[1:] != tuple(shape[:-1]) or data_shape[0] < need:
            raise InputError('%s: label has shape %s; the bins hold %s images of shape %s '
                             '(indices up to %d)' % (a.data_test_dir, data_shape,
                                                    'sequences' if len(shape) == 4 else '2D',
                                                    tuple(shape[:-1]), need - 1))
        return volumes, a.data_test_dir
    volumes = (info or {}).get('volumes')
    if volumes is not None:
        if not (isinstance(volumes, list) and len(volumes) >= need
                and all(type(v) is int and v >= 0 for v in volumes)):
            raise InputError('%s: `volumes` must list a volume number (int >= 0) for each of '
                             'the images 0..%d' % (os.path.join(root, bins.INFO), need - 1))
        return np.asarray(volumes, dtype=np.int64), os.path.join(root, bins.INFO)
    print('note: no volumes (neither --data_test_dir nor `volumes` in %s): the fastMRI lines '
          'take %s, as test.py does for a file without a `volume` dataset'
          % (os.path.join(root, bins.INFO), 'each sequence as a volume' if len(shape) == 4
             else 'all images as one volume'))
    return pre_input.volume_ids(need, len(shape) == 4), None


def recon_size(info):
    """info.json's recon_size as (H, W), or None (no crop)."""
    size = (info or {}).get('recon_size')
    if size is None:
        return None
    if not (isinstance(size, list) and len(size) == 2
            and all(type(v) is int and v > 0 for v in size)):
        raise InputError('%s: recon_size is %r; expected [H, W], two positive integers'
                         % (bins.INFO, size))
    return tuple(size)


def rss_folder(a, root):
    """The rss/ folder of the RSS references, or '' where there is none."""
    if a.rss_dir:
        if not os.path.isdir(a.rss_dir):
            raise InputError('--rss_dir %s: no such folder' % a.rss_dir)
        return a.rss_dir
    d = os.path.join(root, bins.RSS)
    return d if os.path.isdir(d) else ''


def score(i, paths, shape, size):
    """test.py's row of image i and the (cropped) item its fastMRI volume gets: `paths` has
    the label, feature, output and ('' or) rss folders."""
    label_dir, feature_dir, out_dir, rss_dir = paths
    item = (i, bins.read_bin(os.path.join(feature_dir, '%d.bin' % i), shape),
            bins.read_bin(os.path.join(out_dir, bins.output_name(i)), shape),
            bins.read_bin(os.path.join(label_dir, '%d.bin' % i), shape))
    item = evaluate.crop_item(item, size)
    row = evaluate.image_row(*item)
    if rss_dir:
        rss = bins.read_bin(os.path.join(rss_dir, '%d.bin' % i), shape[:-1])
        row.update(evaluate.rss_row(item[1], item[2], item[3], evaluate.crop(rss, size)))
    return row, item


@exit_on_input_error
def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    root = os.path.dirname(os.path.normpath(a.label_dir))
    info = bins.read_info(root)
    shape = label_shape(a, root, info)
    feature_dir = a.feature_dir or os.path.join(root, 'feature')
    out_dir = bins.msame_output_dir(a.output_dir)
    csv_path = a.csv or os.path.join(a.output_dir, 'om_metrics.csv')
    json_path = os.path.splitext(csv_path)[0] + '_summary.json'
    for p in (csv_path, json_path):
        if os.path.exists(p) and not a.overwrite:
            raise InputError('%s: exists; pass --overwrite to replace it' % p)
    indices = bins.indexed_files(a.label_dir)
    missing = [i for i in indices if not os.path.isfile(os.path.join(out_dir, bins.output_name(i)))]
    if missing:
        raise InputError('%s: no output for %d of the %d labels in %s (first missing: %s)'
                         % (out_dir, len(missing), len(indices), a.label_dir,
                            bins.output_name(missing[0])))
    if out_dir != a.output_dir:
        print('outputs: %s' % out_dir)
    what = 'sequence' if len(shape) == 4 else 'image'
    volume_of, volumes_from = image_volumes(a, root, info, shape, indices)
    volumes = evaluate.FastMRIVolumes(volume_of)  # fastMRI's per-volume rule, as test.py
    size, rss_dir = recon_size(info), rss_folder(a, root)
    if size:
        print('metrics on the central %dx%d of every image (recon_size in %s)'
              % (size + (bins.INFO,)))
    rows = []
    for i in indices:
        row, item = score(i, (a.label_dir, feature_dir, out_dir, rss_dir), shape, size)
        rows.append(row)
        volumes.add(*item)
        print('%s %d: PSNR IN %.4f RE %.4f  SSIM IN %.4f RE %.4f  NMSE IN %.4e RE %.4e'
              % (what, i, row['psnr_in'], row['psnr_re'], row['ssim_in'], row['ssim_re'],
                 row['nmse_in'], row['nmse_re']))
    s = evaluate.summarize(rows)
    volumes.finish(rows, s)
    if rss_dir:
        s.update(evaluate.summarize_rss(rows))
    if size:
        s['recon_size'] = list(size)
    s.update({'images': len(rows), 'shape': list(shape), 'volumes_from': volumes_from,
              'label_dir': os.path.abspath(a.label_dir), 'output_dir': os.path.abspath(out_dir)})
    evaluate.write_csv(csv_path, rows)
    evaluate.write_json(json_path, s)
    for line in evaluate.summary_lines(s):
        print(line)
    print('per-image metrics: %s, summary: %s' % (csv_path, json_path))
    return s


if __name__ == '__main__':
    main()
