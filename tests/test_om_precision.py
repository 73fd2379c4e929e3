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
"""The offline chain without an NPU: image_to_bin.py -> msame_cpu.py (frozen .pb) ->
om_precision.py gives test.py's figures on the same images, fastMRI's per-volume lines
included; bad input ends in exit code 2."""
import os
import shutil

import h5py
import numpy as np
import pytest

import ckpt_to_pb
import image_to_bin
import msame_cpu
import om_precision
import test as test_script
from conftest import expect_exit2, quiet as printed
from models import bins, pre_input


def quiet(main, argv):
    return printed(main, argv)[0]


def fastmri_lines(stdout):
    lines = [line for line in stdout.splitlines() if line.startswith('Avg fastMRI ')]
    assert [line.split(':')[0] for line in lines] == \
        ['Avg fastMRI NMSE', 'Avg fastMRI PSNR', 'Avg fastMRI SSIM'], stdout
    return lines


@pytest.fixture(scope='module')
def chain(tiny_data, tiny_model, tmp_path_factory):
    """Folders and summaries of one run of the chain on tiny_data's test set."""
    d = tmp_path_factory.mktemp('chain')
    pb, binsd, out = str(d / 'cascade.pb'), str(d / 'bins'), str(d / 'out')
    quiet(ckpt_to_pb.main, ['--save_ckpt_Dir', tiny_model[0], '--output', pb])
    quiet(image_to_bin.main, ['--data_test_dir', tiny_data[1], '--output_dir', binsd])
    quiet(msame_cpu.main, ['--model', pb, '--input', binsd + '/feature,' + binsd + '/mask',
                           '--output', out])
    om, om_out = printed(om_precision.main, ['--label_dir', binsd + '/label', '--output_dir', out])
    ref, ref_out = printed(test_script.main, ['--save_ckpt_Dir', tiny_model[0], '--data_test_dir',
                                              tiny_data[1], '--output_dir',
                                              str(d / 'test_results')])
    return {'pb': pb, 'bins': binsd, 'out': out, 'om': om, 'ref': ref, 'dir': d,
            'om_out': om_out, 'ref_out': ref_out}


def test_bins_hold_test_py_inputs(tiny_data, chain):
    data = pre_input.H5Data(tiny_data[1])
    assert bins.indexed_files(os.path.join(chain['bins'], 'feature')) == list(range(data.n))
    batch = pre_input.Batches(data, data.n, shuffle=False).batch(0, 0)
    i = data.n - 1
    for sub in bins.FOLDERS:
        got = bins.read_bin(os.path.join(chain['bins'], sub, '%d.bin' % i), batch[sub][i].shape)
        assert np.array_equal(got, batch[sub][i]), sub
    assert bins.read_info(chain['bins'])['label_shape'] == [32, 32, 2]


def test_chain_gives_test_py_metrics(tiny_data, chain):
    om, ref = chain['om'], chain['ref']
    assert om['images'] == ref['images'] == 8
    assert abs(om['psnr_re'] - ref['psnr_re']) < 1e-3
    assert abs(om['psnr_in'] - ref['psnr_in']) < 1e-3
    assert abs(om['ssim_re'] - ref['ssim_re']) < 1e-4
    assert abs(om['nmse_re'] - ref['nmse_re']) < 1e-5 * max(1.0, ref['nmse_re'])
    # RE and IN differ, so the outputs are reconstructions, not copies of the input.
    assert abs(om['psnr_re'] - om['psnr_in']) > 1e-2
    assert os.path.isfile(os.path.join(chain['out'], bins.output_name(7)))
    with open(os.path.join(chain['out'], 'om_metrics.csv')) as f:
        assert len(f.read().strip().splitlines()) == 1 + 8


def test_missing_output_file(chain, tmp_path, capsys):
    out = tmp_path / 'out'
    out.mkdir()
    for i in (0, 1, 2):
        name = bins.output_name(i)
        (out / name).write_bytes(open(os.path.join(chain['out'], name), 'rb').read())
    expect_exit2(capsys, om_precision.main,
                 ['--label_dir', chain['bins'] + '/label', '--output_dir', str(out)],
                 'no output for 5 of the 8 labels')


def test_wrong_shapes(tiny_model, chain, tmp_path, capsys):
    expect_exit2(capsys, om_precision.main,
                 ['--label_dir', chain['bins'] + '/label', '--output_dir', chain['out'],
                  '--image_size', '16', '--csv', str(tmp_path / 'm.csv')],
                 'expected 2048 (float32 array of shape (16, 16, 2))')
    # A 48x48 graph fed 32x32 files: refused before anything is written.
    pb48 = str(tmp_path / 'c48.pb')
    quiet(ckpt_to_pb.main, ['--save_ckpt_Dir', tiny_model[0], '--output', pb48,
                            '--image_size', '48'])
    out = str(tmp_path / 'out48')
    expect_exit2(capsys, msame_cpu.main,
                 ['--model', pb48, '--input', chain['bins'] + '/feature,' + chain['bins'] + '/mask',
                  '--output', out], 'expected 18432 (float32 array of shape (1, 48, 48, 2))')
    assert not os.path.exists(out)
    expect_exit2(capsys, msame_cpu.main,
                 ['--model', chain['pb'], '--input', chain['bins'] + '/feature', '--output', out],
                 '1 folders given, the graph %s has 2 inputs (feature, mask)' % chain['pb'])


def test_refuses_to_overwrite(tiny_data, chain, capsys):
    expect_exit2(capsys, image_to_bin.main,
                 ['--data_test_dir', tiny_data[1], '--output_dir', chain['bins']],
                 'not empty; pass --overwrite')
    expect_exit2(capsys, msame_cpu.main,
                 ['--model', chain['pb'], '--input',
                  chain['bins'] + '/feature,' + chain['bins'] + '/mask', '--output', chain['out']],
                 'not empty; pass --overwrite')
    expect_exit2(capsys, om_precision.main,
                 ['--label_dir', chain['bins'] + '/label', '--output_dir', chain['out']],
                 'om_metrics.csv: exists; pass --overwrite')


def test_om_precision_reads_msame_timestamped_folder(chain, tmp_path, capsys):
    sub = tmp_path / 'msame' / '20240101_10_00_00_000001'
    sub.mkdir(parents=True)
    for i in range(8):
        name = bins.output_name(i)
        (sub / name).write_bytes(open(os.path.join(chain['out'], name), 'rb').read())
    s = quiet(om_precision.main, ['--label_dir', chain['bins'] + '/label',
                                  '--output_dir', str(tmp_path / 'msame')])
    assert s['psnr_re'] == chain['om']['psnr_re']
    assert s['output_dir'] == str(sub)


def test_fastmri_lines_equal_test_py(chain):
    """Volumes from info.json (image_to_bin.py): tiny_data's images are a volume each."""
    assert fastmri_lines(chain['om_out']) == fastmri_lines(chain['ref_out'])
    assert chain['om']['volumes'] == chain['ref']['volumes'] == 8
    assert bins.read_info(chain['bins'])['volumes'] == list(range(8))
    with open(os.path.join(chain['out'], 'om_metrics.csv')) as f:
        header = f.readline().strip().split(',')
    assert {'volume', 'fastmri_nmse_in', 'fastmri_psnr_re', 'fastmri_ssim_re'} <= set(header)


def test_fastmri_volumes_from_the_data_file_or_test_py_fallback(tiny_data, tiny_model, chain,
                                                                 tmp_path):
    """The same bins grouped by a data file's `volume` dataset (3 volumes), and without one
    (--data_test_dir of a file with none, or no volume information at all): one volume, as
    test.py takes such a file."""
    grouped, bare = str(tmp_path / 'grouped.hdf5'), str(tmp_path / 'bare.hdf5')
    for path in (grouped, bare):
        shutil.copy(tiny_data[1], path)
        with h5py.File(path, 'a') as f:
            del f['volume']
            if path == grouped:
                f['volume'] = np.array([0, 0, 0, 1, 1, 2, 2, 2], np.int32)
    labels = tmp_path / 'noinfo' / 'label'  # no info.json beside: shapes from --image_size
    shutil.copytree(os.path.join(chain['bins'], 'label'), str(labels))
    om_args = ['--label_dir', chain['bins'] + '/label', '--output_dir', chain['out']]
    cases = [(grouped, 3, om_args + ['--data_test_dir', grouped]),
             (bare, 1, om_args + ['--data_test_dir', bare]),
             (bare, 1, ['--label_dir', str(labels), '--output_dir', chain['out'],
                        '--feature_dir', chain['bins'] + '/feature', '--image_size', '32'])]
    for n, (data, volumes, argv) in enumerate(cases):
        ref, ref_out = printed(test_script.main, [
            '--save_ckpt_Dir', tiny_model[0], '--data_test_dir', data,
            '--output_dir', str(tmp_path / ('ref%d' % n))])
        om, om_out = printed(om_precision.main, argv + ['--csv', str(tmp_path / ('om%d.csv' % n))])
        assert fastmri_lines(om_out) == fastmri_lines(ref_out), data
        assert om['volumes'] == ref['volumes'] == volumes
        assert ('note: no volumes' in om_out) == (n == 2)
    assert om['volumes_from'] is None


def test_bad_volume_information(tiny_data, chain, tmp_path, capsys):
    argv = ['--label_dir', chain['bins'] + '/label', '--output_dir', chain['out'],
            '--csv', str(tmp_path / 'm.csv')]
    expect_exit2(capsys, om_precision.main, argv + ['--data_test_dir', str(tmp_path / 'no.h5')],
                 'no.h5: no such file')
    other = str(tmp_path / 'other.hdf5')
    with h5py.File(other, 'w') as f:
        f['label'] = np.zeros((8, 16, 16), np.float32)
    expect_exit2(capsys, om_precision.main, argv + ['--data_test_dir', other],
                 'label has shape (8, 16, 16); the bins hold 2D images of shape (32, 32)')
    root = tmp_path / 'bins'
    shutil.copytree(chain['bins'], str(root))
    info = bins.read_info(str(root))
    info['volumes'] = info['volumes'][:5]
    bins.write_info(str(root), info)
    expect_exit2(capsys, om_precision.main,
                 ['--label_dir', str(root / 'label'), '--output_dir', chain['out'],
                  '--csv', str(tmp_path / 'm.csv')],
                 "info.json: `volumes` must list a volume number (int >= 0) for each of the "
                 "images 0..7")
