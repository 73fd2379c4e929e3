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
"""The export chain on the dynamic (2D+t) model: ckpt_to_pb.py freezes it with T fixed, the
frozen graph computes what the checkpoint computes, and image_to_bin -> msame_cpu ->
om_precision gives test.py's per-sequence metrics, fastMRI's per-volume lines included."""
import json
import os

import numpy as np
import pytest

import ckpt_to_pb
import image_to_bin
import msame_cpu
import om_precision
import test as test_script
import train
import view_pb
from conftest import quiet, run_script
from models import bins, export, pre_input
from test_export import checkpoint_predictions

T, SIZE = 8, 32


@pytest.fixture(scope='module')
def dyn(tmp_path_factory):
    """A D3-C2(S) nf=8 model (frame_dist 0 1 2) trained 12 steps on 7 + 3 cine phantoms of
    8 frames 32x32, frozen to a .pb: dict of paths and ckpt_to_pb's stdout."""
    d = str(tmp_path_factory.mktemp('dyn_export'))
    r = run_script('make_h5data.py', '--synthetic', 10, '--frames', T, '--image_size', SIZE,
                   '--sample_n', 4, '--split', 0.7, '--output_dir', d)
    assert r.returncode == 0, r.stderr
    train_h5, test_h5 = [os.path.join(d, 'synthetic_cine_%s_acc4.hdf5' % p)
                         for p in ('train', 'test')]
    ck = os.path.join(d, 'ck')
    quiet(train.main, ['--data_train_dir', train_h5, '--Dn', '3', '--Dc', '2', '--nf', '8',
                       '--frame_dist', '0', '1', '2', '--batch_size', '2', '--train_steps', '12',
                       '--num_epoch', '100', '--save_ckpt_Dir', ck, '--log_every', '6'])
    pb = os.path.join(d, 'cascade.pb')
    _, out = quiet(ckpt_to_pb.main, ['--save_ckpt_Dir', ck, '--output', pb])
    return {'dir': d, 'test': test_h5, 'ck': ck, 'pb': pb, 'stdout': out}


def test_frozen_dynamic_graph_shapes_and_atc_command(dyn):
    graph_def = export.load_pb(dyn['pb'])
    graph = export.import_graph(graph_def)
    assert export.inputs(graph) == [('feature', 'float32', (1, T, SIZE, SIZE, 2)),
                                    ('mask', 'float32', (1, T, SIZE, SIZE))]
    assert export.outputs(graph) == [('predTst', 'float32', (1, T, SIZE, SIZE, 2))]
    assert 'feature:1,%d,%d,%d,2;mask:1,%d,%d,%d' % (T, SIZE, SIZE, T, SIZE, SIZE) in dyn['stdout']
    ops = dict(export.op_counts(graph_def))
    # The DS layer shifts frames with slices + concat, so no tf.roll reaches the graph.
    assert 'Roll' not in ops and ops['Conv3D'] == 3 * 2 and 'Conv2D' not in ops
    blocking, check = export.atc_flags(graph_def)
    assert blocking == []
    assert set(op for op, _, _ in check) >= {'Conv3D', 'FFT2D', 'IFFT2D'}


def test_view_pb_lists_conv3d_to_check(dyn):
    code, out = quiet(view_pb.main, [dyn['pb']])
    assert code == 0
    assert 'ATC check: Conv3D x6' in out and 'ATC blocking' not in out
    assert 'feature float32 (1, %d, %d, %d, 2)' % (T, SIZE, SIZE) in out


def test_frozen_dynamic_graph_equals_checkpoint(dyn):
    batch = pre_input.Batches(pre_input.H5Data(dyn['test']), 3, shuffle=False).batch(0, 0)
    assert batch['feature'].shape == (3, T, SIZE, SIZE, 2)
    want = checkpoint_predictions(dyn['ck'], batch['feature'], batch['mask'])
    runner = export.PbRunner(export.load_pb(dyn['pb']))
    got = np.concatenate([runner.run([batch['feature'][j:j + 1], batch['mask'][j:j + 1]])[0]
                          for j in range(3)])
    runner.close()
    assert got.shape == want.shape == (3, T, SIZE, SIZE, 2)
    assert np.max(np.abs(got - want)) < 1e-5
    assert np.max(np.abs(got - batch['feature'])) > 1e-3  # not a pass-through


def test_bin_chain_gives_test_py_metrics(dyn):
    d = dyn['dir']
    bdir, out = os.path.join(d, 'bins'), os.path.join(d, 'cpu_out')
    info, _ = quiet(image_to_bin.main, ['--data_test_dir', dyn['test'], '--output_dir', bdir])
    assert info['feature_shape'] == [T, SIZE, SIZE, 2] and info['mask_shape'] == [T, SIZE, SIZE]
    feature = bins.read_bin(os.path.join(bdir, 'feature', '0.bin'), (T, SIZE, SIZE, 2))
    want = pre_input.Batches(pre_input.H5Data(dyn['test']), 1, shuffle=False).batch(0, 0)
    assert np.array_equal(feature, want['feature'][0])
    n, _ = quiet(msame_cpu.main, ['--model', dyn['pb'], '--input',
                                  '%s/feature,%s/mask' % (bdir, bdir), '--output', out])
    assert n == 3
    om, text = quiet(om_precision.main, ['--label_dir', os.path.join(bdir, 'label'),
                                         '--output_dir', out])
    assert 'sequence 2: PSNR' in text
    ref, ref_text = quiet(test_script.main, ['--save_ckpt_Dir', dyn['ck'], '--data_test_dir',
                                             dyn['test'], '--output_dir', os.path.join(d, 'res')])
    assert om['images'] == ref['images'] == 3
    # fastMRI's per-volume lines: each sequence a volume, its frames the slices
    assert om['volumes'] == ref['volumes'] == 3
    assert [x for x in text.splitlines() if x.startswith('Avg fastMRI ')] == \
        [x for x in ref_text.splitlines() if x.startswith('Avg fastMRI ')] != []
    for key in ('psnr_in', 'psnr_re'):
        assert abs(om[key] - ref[key]) < 1e-3, key
    for key in ('ssim_re', 'nmse_re'):
        assert om[key] == pytest.approx(ref[key], rel=1e-4), key
    # the same shapes given by hand instead of info.json
    om2, _ = quiet(om_precision.main, ['--label_dir', os.path.join(bdir, 'label'),
                                       '--output_dir', out, '--image_size', str(SIZE),
                                       '--frames', str(T), '--csv', os.path.join(d, 'm2.csv')])
    assert om2['psnr_re'] == om['psnr_re']
    with open(os.path.join(out, 'om_metrics_summary.json')) as f:
        assert json.load(f)['shape'] == [T, SIZE, SIZE, 2]


def test_om_precision_frames_without_image_size(dyn, tmp_path):
    r = run_script('om_precision.py', '--label_dir', os.path.join(dyn['dir'], 'bins', 'label'),
                   '--output_dir', str(tmp_path), '--frames', 8)
    assert r.returncode == 2 and '--frames' in r.stderr
