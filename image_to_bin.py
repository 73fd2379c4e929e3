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
"""Write the msame input folders (and the labels) for an HDF5 test set.

  python image_to_bin.py --data_test_dir data/x_test_acc4.hdf5 --output_dir bins/

Writes bins/feature/{i}.bin (H, W, 2) float32 zero-filled image, bins/mask/{i}.bin (H, W)
float32 and bins/label/{i}.bin (H, W, 2) float32, i = image index in the file, computed exactly
as test.py computes its inputs (models.pre_input), plus bins/info.json with the shapes and the
volume of each image (for om_precision.py's fastMRI lines, as test.py groups them).
Dynamic (2D+t) data: one file per sequence, feature/label (T, H, W, 2) and mask (T, H, W).
Multi-coil data (datasets kspace and coil_maps, C coils) also gets bins/kspace/{i}.bin, the
acquired k-space k * mask of every coil, and bins/coil_maps/{i}.bin, (C, H, W, 2) float32 each
(dynamic: (T, C, H, W, 2)), and feature is the zero-filled coil combination, as test.py feeds
them. info.json lists the input folders in the frozen graph's input order (`inputs`: feature,
mask[, kspace, coil_maps]), the order of msame's --input and of ckpt_to_pb.py's ATC line.
For om_precision.py's copy of test.py's metrics, a file's `rss` (the root-sum-of-squares
reference of multi-coil files) goes to bins/rss/{i}.bin (H, W) float32 ((T, H, W)), not a graph
input, and its attribute recon_size (the centre crop the metrics are taken on) to info.json.
"""
import os
import sys

from models import bins, pre_input, presets
from models.errors import ArgumentParser, InputError, bool_flag, exit_on_input_error


def parse_args(argv):
    p = ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--data_test_dir', default='', help='test HDF5 file')
    p.add_argument('--output_dir', default='bins', help='folder for feature/, mask/, label/')
    p.add_argument('--count', type=int, default=None, help='only the first COUNT images')
    p.add_argument('--preset', default=presets.DEFAULT, choices=presets.NAMES,
                   help='the preset of the model the inputs are for: integer (e.g. uint8) '
                   'labels are scaled as that preset trains on them (port: kept 0-255)')
    bool_flag(p, 'overwrite', False, 'write into a non-empty --output_dir')
    a = p.parse_args(argv)
    if a.count is not None and a.count < 1:
        p.error('--count must be >= 1')
    return a


def shapes(data):
    """{folder: the shape of one of its files} for `data` (an H5Data)."""
    out = {'feature': list(data.shape) + [2], 'mask': list(data.shape),
           'label': list(data.shape) + [2]}
    if data.coils:
        coil_shape = list(data.shape[:-2]) + [data.coils] + list(data.shape[-2:]) + [2]
        out.update((k, coil_shape) for k in bins.COIL_INPUTS)
    if data.has_rss:
        out[bins.RSS] = list(data.shape)
    return out


def write_all(data, n, output_dir, subs):
    """Write items 0..n-1 of `data` as test.py's inputs: one file per item and folder."""
    batches = pre_input.Batches(data, 16, shuffle=False, drop_remainder=False)
    done = 0
    for batch in batches.epoch():
        for j, i in enumerate(batch['index']):
            if i >= n:
                continue
            for sub in subs:
                bins.write_bin(os.path.join(output_dir, sub, '%d.bin' % i), batch[sub][j])
            if data.has_rss:
                bins.write_bin(os.path.join(output_dir, bins.RSS, '%d.bin' % i),
                               data.read_rss([i])[0])
            done += 1
        if done == n:
            break


@exit_on_input_error
def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    if not a.data_test_dir:
        raise InputError('no test data: give --data_test_dir FILE')
    data = pre_input.H5Data(a.data_test_dir, presets.PRESETS[a.preset]['label_scale'])
    if data.coils and presets.PRESETS[a.preset]['net'] == 'port':
        raise InputError('%s: multi-coil data (%d coils); the port\'s network (--preset %s) '
                         'is single-coil' % (data.path, data.coils, a.preset))
    subs = bins.folders(data.coils)
    bins.prepare_dir(a.output_dir, a.overwrite)
    for sub in subs + ((bins.RSS,) if data.has_rss else ()):
        bins.prepare_dir(os.path.join(a.output_dir, sub), True)
    n = data.n if a.count is None else min(a.count, data.n)
    write_all(data, n, a.output_dir, subs)
    info = {'source': os.path.abspath(data.path), 'count': n, 'coils': data.coils,
            'inputs': list(bins.input_folders(data.coils)),
            'volumes': data.volumes()[:n].tolist(), 'dtype': 'float32 little-endian, no header'}
    info.update(('%s_shape' % k, v) for k, v in shapes(data).items())
    if data.recon_size:
        info['recon_size'] = list(data.recon_size)
    bins.write_info(a.output_dir, info)
    subs += (bins.RSS,) if data.has_rss else ()
    print('wrote %d %s of %s to %s/{%s}/{i}.bin (%s float32)'
          % (n, 'sequences' if len(data.shape) == 3 else 'images', data.path, a.output_dir,
             ','.join(subs), ', '.join('%s %s' % (k, tuple(info[k + '_shape'])) for k in subs)))
    print('msame --input (graph input order): %s'
          % ','.join(os.path.join(a.output_dir, k) for k in info['inputs']))
    return info


if __name__ == '__main__':
    main()
