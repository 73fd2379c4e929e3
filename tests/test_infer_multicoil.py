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
"""infer.py on multi-coil data: the acquired k-space, coil maps and mask of a multi-coil test
file, written without its label, give test.py's reconstruction (checkpoint and frozen graph);
a CMRxRecon undersampled cine file and its mask file (MATLAB v7.3 layout, ESPIRiT maps)
reconstruct; coil counts that do not fit the model are one line each, exit 2, the other files
written."""
import os
import shutil

import h5py
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import infer
from conftest import quiet, run_script
from models import ckpt, config as cfgmod, evaluate, model_tf, pre_input
from models.data import acquired, acquired_coils, coils
from test_export_compat import tiny_config, write_checkpoint
from test_infer import HEADER

COILS = 3


@pytest.fixture(scope='module')
def mc(tmp_path_factory):
    """A 3-coil synthetic 32x32 set, a D3-C2 nf=8 model trained 2 epochs on it, test.py's
    reconstruction of its test file and that file's acquired data without the label."""
    d = str(tmp_path_factory.mktemp('infer_mc'))
    data = os.path.join(d, 'D')
    r = run_script('make_h5data.py', '--synthetic', '12', '--coils', str(COILS),
                   '--image_size', '32', '--sample_n', '4', '--output_dir', data)
    assert r.returncode == 0, r.stderr
    ck = os.path.join(d, 'C')
    r = run_script('train.py', '--data_url', data, '--Dn', '3', '--Dc', '2', '--nf', '8',
                   '--batch_size', '4', '--num_epoch', '2', '--save_ckpt_Dir', ck)
    assert r.returncode == 0, r.stderr
    ref = ckpt.find_data(data, 'test')
    feature, pred = reconstruct_as_test_py(ck, ref)
    acq = write_acquired(ref, os.path.join(d, 'acq.hdf5'))
    return dict(dir=d, ck=ck, ref=ref, feature=feature, pred=pred, acq=acq)


def reconstruct_as_test_py(ckpt_dir, h5_path, batch_size=2):
    """(feature, pred) complex (N, H, W) of test.py's loop (padded batches, the four graph
    inputs of evaluate.network_inputs) with the inference graph of the folder's config."""
    data = pre_input.H5Data(h5_path)
    batches = pre_input.Batches(data, batch_size, shuffle=False, drop_remainder=False,
                                pad_last=True)
    cfg = cfgmod.load(ckpt_dir)
    graph, _, _, pred = model_tf.build_inference_graph(cfg)
    with graph.as_default():
        saver = tf.train.Saver(model_tf.model_variables(graph))
        ph = [graph.get_tensor_by_name(n + ':0') for n, _ in model_tf.graph_inputs(cfg)]
    with tf.Session(graph=graph) as sess:
        saver.restore(sess, tf.train.latest_checkpoint(ckpt_dir))
        items = list(evaluate.reconstruct(lambda *x: sess.run(pred, dict(zip(ph, x))),
                                          batches))
    data.close()
    return (np.stack([pre_input.to_complex(i[1]) for i in items]),
            np.stack([pre_input.to_complex(i[2]) for i in items]))


def read_reference(ref_path):
    data = pre_input.H5Data(ref_path)
    idx = np.arange(data.n)
    label, mask = data.read(idx)
    k, maps = data.read_coils(idx)
    data.close()
    return label, mask, k, maps


def write_acquired(ref_path, out_path, maps=True, coils_kept=None):
    """A reference file's acquired data without its label: `kspace` = k * mask (all coils,
    or the first `coils_kept`), `coil_maps` (unless not `maps`) and `mask`."""
    _, mask, k, s = read_reference(ref_path)
    if coils_kept:
        k, s = k[:, :coils_kept], s[:, :coils_kept]
    with h5py.File(out_path, 'w') as f:
        f['kspace'] = (k * mask[:, None]).astype(np.complex64)
        if maps:
            f['coil_maps'] = s
        f['mask'] = mask
    return out_path


def read_outputs(out_dir, name):
    with h5py.File(os.path.join(out_dir, 'reconstructions', name), 'r') as f:
        return dict((k, f[k][()]) for k in f.keys())


def test_checkpoint_inference_equals_test_py(mc):
    out = os.path.join(mc['dir'], 'out_ckpt')
    done, text = quiet(infer.main, ['--save_ckpt_Dir', mc['ck'], '--input', mc['acq'],
                                    '--output_dir', out, '--batch_size', '2'])
    n = len(mc['pred'])
    assert done['files'] == 1 and done['images'] == n and not done['problems']
    assert 'multi-coil acquired k-space %dx%dx32x32 (%d coils), coil maps from the file, ' \
        'mask per item' % (n, COILS, COILS) in text
    got = read_outputs(out, 'acq.hdf5')
    assert got['reconstruction'].shape == (n, 32, 32)
    assert np.max(np.abs(got['reconstruction'] - np.abs(mc['pred']))) < 1e-4
    assert np.max(np.abs(got['zero_filled'] - np.abs(mc['feature']))) < 1e-5
    _, mask, k, _ = read_reference(mc['ref'])
    rss = coils.rss(np.fft.ifft2(k * mask[:, None], norm='ortho'))
    assert np.max(np.abs(got['zero_filled_rss'] - rss)) < 1e-5
    assert os.path.isfile(os.path.join(out, 'nifti', 'acq.nii'))


def test_frozen_graph_inference_equals_test_py(mc):
    pb = os.path.join(mc['dir'], 'mc_b2.pb')
    r = run_script('ckpt_to_pb.py', '--save_ckpt_Dir', mc['ck'], '--output', pb,
                   '--batch', '2')
    assert r.returncode == 0, r.stderr
    out = os.path.join(mc['dir'], 'out_pb')
    done, text = quiet(infer.main, ['--pb', pb, '--input', mc['acq'], '--output_dir', out,
                                    '--formats', 'h5'])
    assert done['images'] == len(mc['pred'])  # 3 items: the last batch padded
    got = read_outputs(out, 'acq.hdf5')
    assert np.max(np.abs(got['reconstruction'] - np.abs(mc['pred']))) < 1e-4


def write_cmrxrecon(mc, folder, central=12, acc_key='04'):
    """A CMRxRecon AccFactor file pair from the reference's images: cine_sax.mat with
    kspace_sub04, h5py (t, sz, sc, ky, kx) compound {real, imag} centred (2 slices x 2 frames
    of its images, its coil maps), and cine_sax_mask.mat with mask04 (ky, kx): `central`
    central lines and every third. Returns (path, (k-space, mask)) of the items in our layout
    (slice-major: item z * t + frame), the k-space fully sampled."""
    label, _, _, maps = read_reference(mc['ref'])
    idx = np.arange(4) % len(label)
    img = label[idx].reshape(2, 2, 32, 32)  # (sz, t, H, W)
    k = coils.sense_forward(img, maps[idx].reshape(2, 2, COILS, 32, 32))
    axes = (-2, -1)
    kc = np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(np.fft.ifft2(k, norm='ortho'), axes=axes),
                                     norm='ortho'), axes=axes)
    lines = np.zeros(32, np.float32)
    lines[::3] = 1
    lines[16 - central // 2:16 + central // 2] = 1
    mask = np.repeat(lines[:, None], 32, axis=1)  # centred (ky, kx)
    kc = np.transpose(kc * mask, (1, 0, 2, 3, 4))  # (t, sz, sc, ky, kx)
    os.makedirs(folder)
    path = os.path.join(folder, 'cine_sax.mat')
    compound = np.dtype([('real', '<f4'), ('imag', '<f4')])
    data = np.empty(kc.shape, compound)
    data['real'], data['imag'] = kc.real, kc.imag
    with h5py.File(path, 'w') as f:
        f['kspace_sub' + acc_key] = data
    with h5py.File(os.path.join(folder, 'cine_sax_mask.mat'), 'w') as f:
        f['mask' + acc_key] = mask
    ours = np.fft.ifftshift(mask, axes=(-2, -1))
    return path, (k.reshape(4, COILS, 32, 32), np.broadcast_to(ours, (4, 32, 32)))


def test_cmrxrecon_undersampled_cine(mc):
    d = os.path.join(mc['dir'], 'AccFactor04')
    path, items_ours = write_cmrxrecon(mc, os.path.join(d, 'P001'))
    acq = acquired.open_acquired(path, frames=True)
    assert acq.n == 4 and acq.shape == (32, 32) and acq.coils == COILS
    acq.close()
    out = os.path.join(mc['dir'], 'out_cmrx')
    done, text = quiet(infer.main, ['--save_ckpt_Dir', mc['ck'], '--input', d,
                                    '--output_dir', out, '--formats', 'h5', 'png'])
    assert done['files'] == 1 and done['images'] == 4 and not done['problems']
    assert 'CMRxRecon cine kspace_sub04 2x2x3x32x32 (t, slices, coils, ky, kx), 19 of 32 ' \
        'lines sampled, ESPIRiT maps, one item per frame' in text
    got = read_outputs(out, 'P001_cine_sax.h5')
    rec, zf = got['reconstruction'], got['zero_filled']
    assert rec.shape == zf.shape == got['zero_filled_rss'].shape == (4, 32, 32)
    assert np.all(np.isfinite(rec)) and np.max(np.abs(rec - zf)) > 1e-2
    assert len(os.listdir(os.path.join(out, 'png'))) == 4
    # the geometry: the RSS of the zero-filled coils (no maps in it) is that of the reference's
    # k-space in our layout, items slice-major
    k, mask = items_ours
    assert np.max(np.abs(got['zero_filled_rss'] - coils.rss(np.fft.ifft2(
        k * mask[:, None], norm='ortho')))) < 1e-5
    # the same acquisition in our multi-coil layout with the ESPIRiT maps of each slice (its
    # frames averaged), scaled the same way: the same reconstruction
    maps = np.concatenate([acquired_coils.estimate_maps(
        k[2 * z:2 * z + 2] * mask[2 * z:2 * z + 2, None], mask[2 * z:2 * z + 2], 'slice')
        for z in range(2)])
    ours = os.path.join(mc['dir'], 'cmrx_as_ours.hdf5')
    with h5py.File(ours, 'w') as f:
        f['kspace'] = (k * mask[:, None]).astype(np.complex64)
        f['coil_maps'] = maps
        f['mask'] = mask[0]
    out2 = os.path.join(mc['dir'], 'out_cmrx_ours')
    quiet(infer.main, ['--save_ckpt_Dir', mc['ck'], '--input', ours, '--output_dir', out2,
                       '--formats', 'h5', '--input_scale', 'zf_max'])
    same = read_outputs(out2, 'cmrx_as_ours.hdf5')
    assert np.max(np.abs(same['zero_filled'] - zf)) < 1e-5 * zf.max()
    assert np.max(np.abs(same['reconstruction'] - rec)) < 1e-4 * rec.max()


def test_espirit_maps_ours_and_fastmri_multicoil(mc):
    """Without coil maps: ESPIRiT from the 12 central lines, in our layout and in a fastMRI
    multi-coil test file of the same coil images (readout along H padded to 48, centred,
    column mask): the same reconstruction, transposed."""
    _, _, k, _ = read_reference(mc['ref'])
    lines = np.zeros(32, np.float32)
    lines[::3] = 1
    lines[10:22] = 1
    rows = np.fft.ifftshift(lines)
    mask = np.repeat(rows[:, None], 32, axis=1)
    d = mc['dir']
    ours = os.path.join(d, 'espirit.hdf5')
    with h5py.File(ours, 'w') as f:
        f['kspace'] = (k * mask).astype(np.complex64)
        f['mask'] = mask
    img = np.pad(np.swapaxes(np.fft.ifft2(k, norm='ortho'), -2, -1),
                 ((0, 0), (0, 0), (8, 8), (0, 0)), mode='constant')
    axes = (-2, -1)
    kc = np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(img, axes=axes), norm='ortho'), axes=axes)
    fm = os.path.join(d, 'file_brain_AXT2_200_2000001.h5')
    with h5py.File(fm, 'w') as f:
        f['kspace'] = (kc * lines).astype(np.complex64)
        f['mask'] = lines
        f['ismrmrd_header'] = HEADER % (32, 64)
    out = os.path.join(d, 'out_espirit')
    done, text = quiet(infer.main, ['--save_ckpt_Dir', mc['ck'], '--input', ours, fm,
                                    '--output_dir', out, '--formats', 'h5',
                                    '--input_scale', 'zf_max'])
    n = len(k)
    assert done['files'] == 2 and not done['problems']
    assert 'multi-coil acquired k-space %dx3x32x32 (3 coils), ESPIRiT maps, mask shared' % n \
        in text
    assert 'fastMRI multi-coil k-space %dx3x48x32, 19 of 32 columns sampled, readout cropped ' \
        'to 32, reconstruction 32x32, ESPIRiT maps' % n in text
    a, b = read_outputs(out, 'espirit.hdf5'), read_outputs(out, os.path.basename(fm))
    for key in ('zero_filled', 'reconstruction', 'zero_filled_rss'):
        x = np.swapaxes(a[key], 1, 2)
        assert np.max(np.abs(b[key] - x)) < 1e-4 * x.max(), key
    assert np.max(np.abs(a['reconstruction'] - a['zero_filled'])) > 1e-2


def expect_exit2(argv):
    with pytest.raises(SystemExit) as e:
        quiet(infer.main, argv)
    assert e.value.code == 2


def test_coil_mismatches_are_one_line_each(mc, capsys):
    d = os.path.join(mc['dir'], 'mixed')
    os.makedirs(d)
    shutil.copy(mc['acq'], os.path.join(d, 'good.hdf5'))
    write_acquired(mc['ref'], os.path.join(d, 'two_coils.hdf5'), coils_kept=2)
    write_acquired(mc['ref'], os.path.join(d, 'no_maps.hdf5'), maps=False)
    _, mask, _, _ = read_reference(mc['ref'])
    with h5py.File(os.path.join(d, 'single.hdf5'), 'w') as f:
        f['kspace'] = np.ones((2, 32, 32), np.complex64)
        f['mask'] = mask[0]
    os.makedirs(os.path.join(d, 'P002'))
    with h5py.File(os.path.join(d, 'P002', 'cine_lax.mat'), 'w') as f:
        f['kspace_sub08'] = np.ones((2, 1, COILS, 32, 32), np.complex64)
    out = os.path.join(mc['dir'], 'out_mixed')
    capsys.readouterr()
    expect_exit2(['--save_ckpt_Dir', mc['ck'], '--input', d, '--output_dir', out, '--formats',
                  'h5'])
    errors = capsys.readouterr().err.splitlines()
    want = {'two_coils.hdf5': '2 coils but the model in %s is for 3 coils' % mc['ck'],
            'no_maps.hdf5': 'item 0: only 7 fully sampled central k-space lines; ESPIRiT '
                            'coil maps need at least 8 (or give coil_maps)',
            'single.hdf5': 'single-coil data but the model in %s is for 3 coils' % mc['ck'],
            'cine_lax.mat': 'no mask file cine_lax_mask.mat (with mask08) beside it'}
    assert len(errors) == len(want), errors
    for name, text in want.items():
        assert any(e.startswith('error: ') and name in e and text in e for e in errors), \
            (name, errors)
    assert os.listdir(os.path.join(out, 'reconstructions')) == ['good.hdf5']
    # multi-coil data for a single-coil model; a frozen multi-coil graph and other coil counts
    single = os.path.join(mc['dir'], 'single_ck')
    os.makedirs(single)
    write_checkpoint(tiny_config('paper'), single)
    expect_exit2(['--save_ckpt_Dir', single, '--input', mc['acq'], '--output_dir', out])
    assert capsys.readouterr().err == 'error: %s: multi-coil data (3 coils) but the model in ' \
        '%s is single-coil\n' % (mc['acq'], single)
    pb = os.path.join(mc['dir'], 'mc_b1.pb')
    r = run_script('ckpt_to_pb.py', '--save_ckpt_Dir', mc['ck'], '--output', pb)
    assert r.returncode == 0, r.stderr
    expect_exit2(['--pb', pb, '--input', os.path.join(d, 'two_coils.hdf5'),
                  os.path.join(d, 'single.hdf5'), '--output_dir', os.path.join(d, 'o2')])
    err = capsys.readouterr().err.splitlines()
    assert err == ['error: %s: 2 coils but the graph %s is for 3 coils (its graph fixes the '
                   'coil count; compress or convert the data to 3 coils)'
                   % (os.path.join(d, 'two_coils.hdf5'), pb),
                   'error: %s: single-coil data but the graph %s is for 3 coils (it needs '
                   'kspace and coil_maps)' % (os.path.join(d, 'single.hdf5'), pb)], err


def test_cmrxrecon_cine_for_a_dynamic_multicoil_model(tmp_path):
    """An (untrained) dynamic multi-coil checkpoint: a CMRxRecon cine gives one item per slice
    (T, H, W), the same reconstruction as its data in our 5-D multi-coil layout with the same
    ESPIRiT maps."""
    ck = str(tmp_path / 'dyn_mc')
    os.makedirs(ck)
    cfg = dict(tiny_config('dynamic'), coils=COILS)
    write_checkpoint(cfg, ck)
    t, n, h = cfg['frames'], 2, 24
    rng = np.random.RandomState(5)
    yy, xx = np.mgrid[:h, :h] / float(h)
    img = np.stack([[1.0 / (1 + np.exp(40 * (np.hypot(yy - 0.5, xx - 0.5 - 0.02 * f) - 0.4)))
                     for f in range(t)] for _ in range(n)]).astype(np.complex64)
    maps = coils.birdcage_maps((h, h), COILS, seed=1)
    k = coils.sense_forward(img, np.broadcast_to(maps, (n, t, COILS, h, h)))
    lines = (rng.uniform(size=h) < 0.3).astype(np.float32)
    lines[7:17] = 1
    axes = (-2, -1)
    kc = np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(np.fft.ifft2(k, norm='ortho'), axes=axes),
                                     norm='ortho'), axes=axes)
    folder = tmp_path / 'AccFactor08' / 'P003'
    os.makedirs(str(folder))
    with h5py.File(str(folder / 'cine_lax.mat'), 'w') as f:
        f['kspace_sub08'] = np.transpose(kc * lines[:, None], (1, 0, 2, 3, 4)).astype(
            np.complex64)
    with h5py.File(str(folder / 'cine_lax_mask.mat'), 'w') as f:
        f['mask08'] = np.repeat(lines[:, None], h, axis=1)
    out = str(tmp_path / 'out')
    done, text = quiet(infer.main, ['--save_ckpt_Dir', ck, '--input', str(tmp_path),
                                    '--output_dir', out, '--formats', 'h5', 'nifti'])
    assert done['files'] == 1 and done['images'] == n * t and not done['problems']
    assert 'one item per slice' in text
    got = read_outputs(out, 'P003_cine_lax.h5')
    assert got['reconstruction'].shape == (n, t, h, h)
    mask = np.broadcast_to(np.fft.ifftshift(np.repeat(lines[:, None], h, axis=1)), (t, h, h))
    k0 = (k * mask[:, None]).astype(np.complex64)
    est = np.stack([acquired_coils.estimate_maps(k0[z], mask, 'slice') for z in range(n)])
    ours = str(tmp_path / 'ours' / 'cine.hdf5')
    os.makedirs(os.path.dirname(ours))
    with h5py.File(ours, 'w') as f:
        f['kspace'] = k0
        f['coil_maps'] = est
        f['mask'] = mask
    done, text = quiet(infer.main, ['--save_ckpt_Dir', ck, '--input', ours, '--output_dir',
                                    str(tmp_path / 'out2'), '--formats', 'h5',
                                    '--input_scale', 'zf_max'])
    assert 'multi-coil acquired k-space %dx%dx%dx%dx%d (%d coils, dynamic)' % (
        n, t, COILS, h, h, COILS) in text
    same = read_outputs(str(tmp_path / 'out2'), 'cine.hdf5')
    for key in ('zero_filled', 'reconstruction', 'zero_filled_rss'):
        assert np.max(np.abs(same[key] - got[key])) < 1e-4 * got[key].max(), key
