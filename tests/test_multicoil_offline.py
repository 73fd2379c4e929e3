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
"""The offline chain on a multi-coil model: image_to_bin.py writes kspace/ and coil_maps/ beside
feature/, mask/ and label/, msame_cpu.py feeds the four inputs to the frozen graph in its input
order (that of ckpt_to_pb.py's ATC --input_shape), and om_precision.py prints test.py's numbers
to the last digit, the RSS lines and the recon_size crop included; coil folders given out of
order or of the wrong size are one error line."""
import os
import re
import shutil

import h5py
import numpy as np
import pytest

import ckpt_to_pb
import image_to_bin
import msame_cpu
import om_precision
import test as test_script
from conftest import COILS, expect_exit2, quiet
from models import bins, ckpt, pre_input


@pytest.fixture(scope='module')
def chain(coil_data, coil_model, tmp_path_factory):
    d = tmp_path_factory.mktemp('mc_chain')
    # the test file with a recon_size (fastMRI's reconSpace): metrics on its centre crop
    test_h5 = str(d / 'mc_test.hdf5')
    shutil.copy(ckpt.find_data(coil_data, 'test'), test_h5)
    with h5py.File(test_h5, 'a') as f:
        f.attrs['recon_size'] = np.array([24, 20])
    pb, binsd, out = str(d / 'mc.pb'), str(d / 'bins'), str(d / 'out')
    _, frozen = quiet(ckpt_to_pb.main, ['--save_ckpt_Dir', coil_model[0], '--output', pb])
    info, _ = quiet(image_to_bin.main, ['--data_test_dir', test_h5, '--output_dir', binsd])
    inputs = [os.path.join(binsd, k) for k in info['inputs']]
    quiet(msame_cpu.main, ['--model', pb, '--input', ','.join(inputs), '--output', out])
    om = quiet(om_precision.main, ['--label_dir', binsd + '/label', '--output_dir', out])
    ref = quiet(test_script.main, ['--save_ckpt_Dir', coil_model[0], '--data_test_dir', test_h5,
                                   '--output_dir', str(d / 'test_results')])
    return {'test': test_h5, 'pb': pb, 'bins': binsd, 'inputs': inputs, 'out': out,
            'frozen': frozen, 'info': info, 'om': om, 'ref': ref}


def test_bins_hold_test_py_inputs_in_atc_order(chain):
    info = chain['info']
    assert info['coils'] == COILS and info['inputs'] == ['feature', 'mask', 'kspace', 'coil_maps']
    # the ATC line ckpt_to_pb.py prints: the same inputs, in the same order, batch 1 first
    shapes = re.search(r'--input_shape="([^"]+)"', chain['frozen']).group(1)
    assert [tuple(s.split(':')) for s in shapes.split(';')] == [
        (k, ','.join(str(d) for d in [1] + info[k + '_shape'])) for k in info['inputs']]
    assert info['kspace_shape'] == info['coil_maps_shape'] == [COILS, 32, 32, 2]
    data = pre_input.H5Data(chain['test'])
    batch = pre_input.Batches(data, data.n, shuffle=False).batch(0, 0)
    assert bins.indexed_files(os.path.join(chain['bins'], 'kspace')) == list(range(data.n))
    batch[bins.RSS] = data.read_rss(range(data.n))
    for sub in bins.folders(COILS) + (bins.RSS,):
        for i in range(data.n):
            got = bins.read_bin(os.path.join(chain['bins'], sub, '%d.bin' % i), batch[sub][i].shape)
            assert np.array_equal(got, batch[sub][i]), (sub, i)
    assert info['rss_shape'] == [32, 32] and info['recon_size'] == [24, 20]
    data.close()


def avg_lines(text):
    return [l for l in text.splitlines() if l.startswith('Avg ')]


def test_chain_prints_test_py_numbers(chain):
    (om, om_out), (ref, ref_out) = chain['om'], chain['ref']
    assert om['images'] == ref['images'] == 6 and om['recon_size'] == ref['recon_size']
    assert 'metrics on the central 24x20 of every image' in om_out
    lines = avg_lines(om_out)
    # the five image lines, fastMRI's three per-volume lines, the four RSS lines
    assert len(lines) == 12 and lines == avg_lines(ref_out)
    assert sum(l.startswith('Avg RSS ') for l in lines) == 4
    assert abs(om['psnr_re'] - om['psnr_in']) > 1e-2  # reconstructions, not the inputs


def test_coil_folders_in_order_and_size(chain, tmp_path, capsys):
    feature, mask, kspace, maps = chain['inputs']
    out = str(tmp_path / 'out')
    # kspace and coil_maps have one shape: swapped, they would run and give a wrong result
    expect_exit2(capsys, msame_cpu.main,
                 ['--model', chain['pb'], '--input', ','.join([feature, mask, maps, kspace]),
                  '--output', out],
                 'folder 3 (%s) is named after graph input coil_maps but is given for input '
                 'kspace' % maps)
    expect_exit2(capsys, msame_cpu.main,
                 ['--model', chain['pb'], '--input', feature + ',' + mask, '--output', out],
                 '2 folders given, the graph %s has 4 inputs (feature, mask, kspace, coil_maps)'
                 % chain['pb'])
    short = str(tmp_path / 'coil_maps')
    shutil.copytree(maps, short)
    with open(os.path.join(short, '5.bin'), 'r+b') as f:
        f.truncate(4 * COILS * 32 * 32)
    expect_exit2(capsys, msame_cpu.main,
                 ['--model', chain['pb'], '--input', ','.join([feature, mask, kspace, short]),
                  '--output', out], '5.bin: %d bytes, expected %d (float32 array of shape '
                 '(1, %d, 32, 32, 2))' % (4 * COILS * 32 * 32, 8 * COILS * 32 * 32, COILS))
    assert not os.path.exists(out)
    expect_exit2(capsys, image_to_bin.main,
                 ['--data_test_dir', chain['test'], '--output_dir', str(tmp_path / 'b'),
                  '--preset', 'port'], 'the port\'s network (--preset port) is single-coil')
    assert not os.path.exists(str(tmp_path / 'b'))
    expect_exit2(capsys, om_precision.main,
                 ['--label_dir', chain['bins'] + '/label', '--output_dir', chain['out'],
                  '--rss_dir', str(tmp_path / 'none'), '--csv', str(tmp_path / 'm.csv')],
                 '--rss_dir %s: no such folder' % (tmp_path / 'none'))
