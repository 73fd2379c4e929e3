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
"""infer.py: reconstruction of undersampled data with no reference. The acquired k-space of a
test file, written without its label, gives test.py's reconstruction (checkpoint and frozen
graph); fastMRI single-coil files go through their centring, crop and transposition; outputs
(fastMRI submission HDF5, NIfTI, PNG) hold the same numbers; a bad file is one line and exit 2
while the others are written; nothing is overwritten without --overwrite."""
import os
import shutil

import h5py
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import ckpt_to_pb
import infer
from conftest import quiet
from models import config as cfgmod
from models import evaluate, model_tf, pre_input
from models.data import acquired
from test_export_compat import tiny_config, write_checkpoint


def reconstruct_as_test_py(ckpt_dir, h5_path, batch_size=3):
    """(feature, pred) complex (N, ...) of test.py's loop (padded batches through
    evaluate.reconstruct) on a file with a reference; the graph is modelTst.meta as in
    test.py, or for a folder without one the inference graph of its config.json."""
    data = pre_input.H5Data(h5_path)
    batches = pre_input.Batches(data, batch_size, shuffle=False, drop_remainder=False,
                                pad_last=True)
    meta = os.path.join(ckpt_dir, 'modelTst.meta')
    if os.path.isfile(meta):
        graph = tf.Graph()
        with graph.as_default():
            saver = tf.train.import_meta_graph(meta)
    else:
        graph, _, _, _ = model_tf.build_inference_graph(cfgmod.load(ckpt_dir))
        with graph.as_default():
            saver = tf.train.Saver(model_tf.model_variables(graph))
    with tf.Session(graph=graph) as sess:
        saver.restore(sess, tf.train.latest_checkpoint(ckpt_dir))

        def predict(f, m):
            return sess.run('predTst:0', {'feature:0': f, 'mask:0': m})

        items = list(evaluate.reconstruct(predict, batches))
    data.close()
    return (np.stack([pre_input.to_complex(i[1]) for i in items]),
            np.stack([pre_input.to_complex(i[2]) for i in items]))


def write_acquired(ref_path, out_path, key='kspace', shared_mask=False):
    """The undersampled data of a reference file, without its label: `kspace` = fft2(label)
    (orthonormal, uncentred) * mask, or `feature` = the zero-filled image; and `mask`."""
    data = pre_input.H5Data(ref_path)
    label, mask = data.read(np.arange(data.n))
    data.close()
    with h5py.File(out_path, 'w') as f:
        if key == 'kspace':
            f['kspace'] = (np.fft.fft2(label, norm='ortho') * mask).astype(np.complex64)
        else:
            f['feature'] = pre_input.undersample(label, mask)
        f['mask'] = mask[0] if shared_mask else mask
    return out_path


def read_outputs(out_dir, name):
    with h5py.File(os.path.join(out_dir, 'reconstructions', name), 'r') as f:
        return f['zero_filled'][()], f['reconstruction'][()]


@pytest.fixture(scope='module')
def reference(tiny_data, tiny_model, tmp_path_factory):
    """test.py's reconstruction of tiny_data's test file and that file's acquired k-space."""
    d = str(tmp_path_factory.mktemp('infer'))
    feature, pred = reconstruct_as_test_py(tiny_model[0], tiny_data[1])
    acq = write_acquired(tiny_data[1], os.path.join(d, 'acq.hdf5'))
    return dict(dir=d, ck=tiny_model[0], ref=tiny_data[1], feature=feature, pred=pred, acq=acq)


def test_checkpoint_inference_equals_test_py(reference, capsys):
    out = os.path.join(reference['dir'], 'out_ckpt')
    done = infer.main(['--save_ckpt_Dir', reference['ck'], '--input', reference['acq'],
                       '--output_dir', out, '--batch_size', '3'])
    text = capsys.readouterr().out
    assert done['files'] == 1 and done['images'] == 8 and not done['problems']
    assert '[1/1] %s: acquired k-space 8x32x32, mask per item; 8 images' % reference['acq'] in text
    assert 'reconstructed 8 images from 1 of 1 files' in text and 'images/s' in text
    zf, rec = read_outputs(out, 'acq.hdf5')
    assert rec.shape == zf.shape == (8, 32, 32) and rec.dtype == np.float32
    assert np.max(np.abs(rec - np.abs(reference['pred']))) < 1e-4
    assert np.max(np.abs(zf - np.abs(reference['feature']))) < 1e-5
    assert np.max(np.abs(rec - zf)) > 1e-2  # the network did something
    # NIfTI: (W, H, N), rows flipped, 1 mm; PNG per image
    import nibabel as nib
    img = nib.load(os.path.join(out, 'nifti', 'acq.nii'))
    assert img.shape == (32, 32, 8) and np.allclose(img.header.get_zooms(), (1, 1, 1))
    vol = np.asarray(img.dataobj)
    assert np.array_equal(vol[:, ::-1, :].transpose(2, 1, 0), rec)
    zvol = np.asarray(nib.load(os.path.join(out, 'nifti', 'acq_zero_filled.nii')).dataobj)
    assert np.array_equal(zvol[:, ::-1, :].transpose(2, 1, 0), zf)
    pngs = sorted(os.listdir(os.path.join(out, 'png')))
    assert pngs == ['acq_%03d.png' % i for i in range(8)]
    from matplotlib import image
    assert image.imread(os.path.join(out, 'png', pngs[0])).shape[:2] == (32, 64)


def test_frozen_graph_inference_of_zero_filled_images(reference, capsys):
    """A `feature` file (zero-filled images, one shared mask) through a .pb frozen at batch 3:
    8 images in batches of 3 (the last padded), the same reconstruction."""
    d = reference['dir']
    pb = os.path.join(d, 'b3.pb')
    quiet(ckpt_to_pb.main, ['--save_ckpt_Dir', reference['ck'], '--output', pb, '--batch', '3'])
    src = write_acquired(reference['ref'], os.path.join(d, 'zf.hdf5'), key='feature')
    out = os.path.join(d, 'out_pb')
    done = infer.main(['--pb', pb, '--input', src, '--output_dir', out, '--formats', 'h5'])
    assert done['images'] == 8
    zf, rec = read_outputs(out, 'zf.hdf5')
    assert np.max(np.abs(rec - np.abs(reference['pred']))) < 1e-4
    assert not os.path.exists(os.path.join(out, 'nifti'))


# fastMRI's header: x is the k-space's H (readout), y its W (phase encoding)
HEADER = ('<?xml version="1.0"?><ismrmrdHeader xmlns="http://www.ismrm.org/ISMRMRD"><encoding>'
          '<encodedSpace><matrixSize><x>48</x><y>32</y><z>1</z></matrixSize></encodedSpace>'
          '<reconSpace><matrixSize><x>32</x><y>%d</y><z>1</z></matrixSize><fieldOfView_mm>'
          '<x>64</x><y>%g</y><z>3</z></fieldOfView_mm></reconSpace></encoding></ismrmrdHeader>')


def write_fastmri(ref_path, out_path, recon_cols=32, multicoil=False):
    """A fastMRI single-coil test file from a reference file's images (N, 32, 32): the readout
    (rows) zero-padded to 48 as the scanner's oversampling, centred k-space masked by the
    reference's row mask turned into fastMRI's column mask (the image transposed: readout
    along H, phase encoding along W), `mask` (W,) centred, and an ismrmrd_header saying the
    reconstruction is 32 x recon_cols with 2 mm pixels. Returns (path, uncentred row mask)."""
    data = pre_input.H5Data(ref_path)
    label, mask = data.read(np.arange(data.n))
    data.close()
    rows = mask[0][:, 0]  # our masks sample rows (axis -2): one value per row
    img = np.pad(np.swapaxes(label, 1, 2), ((0, 0), (8, 8), (0, 0)), mode='constant')
    axes = (-2, -1)
    k = np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(img, axes=axes), norm='ortho'), axes=axes)
    col_mask = np.fft.fftshift(rows)
    with h5py.File(out_path, 'w') as f:
        f['kspace'] = (k * col_mask).astype(np.complex64)[:, None] if multicoil else \
            (k * col_mask).astype(np.complex64)
        f['mask'] = col_mask.astype(np.float32)
        f['ismrmrd_header'] = HEADER % (recon_cols, 2 * recon_cols)
    return out_path, rows


def test_fastmri_single_coil_file(reference, capsys):
    """fastMRI's centred k-space and column mask, readout crop and transposition: the same
    reconstruction as our file of the transposed images with the row mask (zf_max scaling for
    both), turned back; the zero-filled output is fastMRI's own zero-filled baseline."""
    d = reference['dir']
    fm, rows = write_fastmri(reference['ref'], os.path.join(d, 'file1000000.h5'))
    acq = acquired.open_acquired(fm)
    assert isinstance(acq, acquired.FastMRISingleCoil) and acq.shape == (32, 32)
    assert acq.spacing == (2.0, 2.0, 3.0) and acq.scale_default == 'zf_max'
    _, zf_net, mask_net, coil = next(acq.batches(8))
    acq.close()
    assert coil is None
    assert np.array_equal(mask_net[0][:, 0], rows)
    # the zero-filled network input holds exactly the sampled k-space: DC would keep it
    k = np.fft.fft2(zf_net, norm='ortho')
    assert np.max(np.abs(k * (1 - mask_net))) < 1e-4
    out = os.path.join(d, 'out_fastmri')
    infer.main(['--save_ckpt_Dir', reference['ck'], '--input', fm, '--output_dir', out,
                '--formats', 'h5', 'nifti'])
    assert 'fastMRI single-coil k-space 8x48x32, %d of 32 columns sampled, readout cropped ' \
        'to 32, reconstruction 32x32' % rows.sum() in capsys.readouterr().out
    zf, rec = read_outputs(out, 'file1000000.h5')
    with h5py.File(fm, 'r') as f:
        kspace = f['kspace'][()]
    axes = (-2, -1)
    baseline = np.abs(np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(kspace, axes=axes),
                                                   norm='ortho'), axes=axes))[:, 8:40, :]
    assert zf.shape == rec.shape == (8, 32, 32)
    assert np.max(np.abs(zf - baseline)) < 1e-5
    # the same network input written in our layout (transposed, row mask), scaled the same way
    ours = os.path.join(d, 'ours_t.hdf5')
    with h5py.File(ours, 'w') as f:
        f['feature'] = zf_net
        f['mask'] = mask_net[0]
    out2 = os.path.join(d, 'out_ours_t')
    infer.main(['--save_ckpt_Dir', reference['ck'], '--input', ours, '--output_dir', out2,
                '--formats', 'h5', '--input_scale', 'zf_max'])
    _, rec_t = read_outputs(out2, 'ours_t.hdf5')
    assert np.max(np.abs(rec - np.swapaxes(rec_t, 1, 2))) < 1e-5 * rec.max()
    import nibabel as nib
    assert np.allclose(nib.load(os.path.join(out, 'nifti', 'file1000000.nii'))
                       .header.get_zooms(), (2, 2, 3))


def test_fastmri_reconstruction_is_cropped_to_the_header_size(reference):
    fm, _ = write_fastmri(reference['ref'], os.path.join(reference['dir'], 'narrow.h5'),
                          recon_cols=24)
    acq = acquired.open_acquired(fm)
    assert acq.out_shape == (32, 24)
    x = np.arange(32 * 32, dtype=np.float32).reshape(1, 32, 32)
    assert np.array_equal(acq.to_file(x)[0], x[0].T[:, 4:28])
    acq.close()


def expect_exit2(capsys, argv):
    with pytest.raises(SystemExit) as e:
        infer.main(argv)
    assert e.value.code == 2
    return capsys.readouterr()


def test_bad_files_are_one_line_each_and_the_others_are_written(reference, capsys):
    d = os.path.join(reference['dir'], 'mixed')
    os.makedirs(d)
    shutil.copy(reference['acq'], os.path.join(d, 'good.hdf5'))
    with h5py.File(os.path.join(d, 'bad_mask.hdf5'), 'w') as f:
        f['kspace'] = np.zeros((2, 32, 32), np.complex64)
        f['mask'] = np.ones((2, 32, 30), np.float32)
    with h5py.File(os.path.join(d, 'nothing.hdf5'), 'w') as f:
        f['mask'] = np.ones((32, 32), np.float32)
    with h5py.File(os.path.join(d, 'cine.hdf5'), 'w') as f:
        f['kspace'] = np.ones((1, 4, 32, 32), np.complex64)
        f['mask'] = np.ones((4, 32, 32), np.float32)
    write_fastmri(reference['ref'], os.path.join(d, 'multicoil.h5'), multicoil=True)
    fm_bad = os.path.join(d, 'fm_bad_mask.h5')
    write_fastmri(reference['ref'], fm_bad)
    with h5py.File(fm_bad, 'a') as f:
        del f['mask']
        f['mask'] = np.ones(30, np.float32)
    out = os.path.join(reference['dir'], 'out_mixed')
    r = expect_exit2(capsys, ['--save_ckpt_Dir', reference['ck'], '--input', d,
                              '--output_dir', out, '--formats', 'h5'])
    errors = r.err.splitlines()
    assert len(errors) == 5 and all(e.startswith('error: %s' % d) for e in errors), r.err
    want = {'bad_mask.hdf5': 'mask shape (2, 32, 30) differs from kspace shape (2, 32, 32)',
            'nothing.hdf5': 'neither k-space nor image',
            'cine.hdf5': 'dynamic (N, T, H, W) data but the model in %s is 2-D' % reference['ck'],
            'multicoil.h5': 'multi-coil data (1 coil) but the model in %s is single-coil'
                            % reference['ck'],
            'fm_bad_mask.h5': 'mask shape (30,) differs from kspace shape (8, 48, 32)'}
    for name, text in want.items():
        assert any(name in e and text in e for e in errors), (name, r.err)
    assert 'reconstructed 8 images from 1 of 6 files' in r.out and '5 files failed' in r.out
    assert os.listdir(os.path.join(out, 'reconstructions')) == ['good.hdf5']
    # again: the existing output is refused without --overwrite and left as it is
    before = os.path.getmtime(os.path.join(out, 'reconstructions', 'good.hdf5'))
    r = expect_exit2(capsys, ['--save_ckpt_Dir', reference['ck'], '--input',
                              os.path.join(d, 'good.hdf5'), '--output_dir', out, '--formats',
                              'h5'])
    assert 'good.hdf5: output %s exists; pass --overwrite' % os.path.join(
        out, 'reconstructions', 'good.hdf5') in r.err
    assert os.path.getmtime(os.path.join(out, 'reconstructions', 'good.hdf5')) == before
    done, _ = quiet(infer.main, ['--save_ckpt_Dir', reference['ck'], '--input',
                                 os.path.join(d, 'good.hdf5'), '--output_dir', out,
                                 '--formats', 'h5', '--overwrite'])
    assert done['files'] == 1 and not os.path.exists(
        os.path.join(out, 'reconstructions', 'good.hdf5.partial'))


def test_outputs_inside_the_input_folder_are_not_read_back(reference):
    d = os.path.join(reference['dir'], 'nested')
    os.makedirs(d)
    shutil.copy(reference['acq'], os.path.join(d, 'a.hdf5'))
    argv = ['--save_ckpt_Dir', reference['ck'], '--input', d, '--output_dir',
            os.path.join(d, 'out'), '--formats', 'h5']
    for extra in ([], ['--overwrite']):
        done, _ = quiet(infer.main, argv + extra)
        assert done['files'] == 1 and not done['problems']


def test_flag_and_folder_errors(reference, tmp_path, capsys):
    r = expect_exit2(capsys, ['--save_ckpt_Dir', reference['ck'], '--input',
                              str(tmp_path / 'none'), '--output_dir', str(tmp_path)])
    assert r.err == 'error: %s: no such file or folder\n' % (tmp_path / 'none')
    r = expect_exit2(capsys, ['--pb', str(tmp_path / 'x.pb'), '--input', reference['acq'],
                              '--output_dir', str(tmp_path / 'o')])
    assert r.err == 'error: %s: no such file\n' % (tmp_path / 'x.pb')
    r = expect_exit2(capsys, ['--input', reference['acq'], '--output_dir', str(tmp_path)])
    assert 'one of the arguments --save_ckpt_Dir --pb is required' in r.err


def test_dynamic_model_and_frozen_size_mismatch(reference, tmp_path, capsys):
    """A dynamic (DS cascade) checkpoint on acquired 2D+t k-space: test.py's reconstruction;
    a 4-D NIfTI per file; a frozen 2-D graph of another size refuses the file by name."""
    ck = str(tmp_path / 'dyn')
    os.makedirs(ck)
    cfg = tiny_config('dynamic')
    write_checkpoint(cfg, ck)
    rng = np.random.RandomState(3)
    label = (rng.randn(3, 4, 16, 16) + 1j * rng.randn(3, 4, 16, 16)).astype(np.complex64)
    mask = (rng.uniform(size=(4, 16, 1)) < 0.4) * np.ones((1, 1, 16), np.float32)
    mask[:, 0] = 1
    ref = str(tmp_path / 'cine_ref.hdf5')
    with h5py.File(ref, 'w') as f:
        f['label'] = label
        f['mask'] = mask.astype(np.float32)
    feature, pred = reconstruct_as_test_py(ck, ref, batch_size=2)
    acq = write_acquired(ref, str(tmp_path / 'cine.hdf5'), shared_mask=True)
    out = str(tmp_path / 'out')
    done, text = quiet(infer.main, ['--save_ckpt_Dir', ck, '--input', acq, '--output_dir', out,
                                    '--batch_size', '2'])
    assert done['images'] == 12 and 'acquired k-space 3x4x16x16 (dynamic), mask shared' in text
    zf, rec = read_outputs(out, 'cine.hdf5')
    assert rec.shape == (3, 4, 16, 16)
    assert np.max(np.abs(rec - np.abs(pred))) < 1e-4 * np.abs(pred).max()
    import nibabel as nib
    vol = np.asarray(nib.load(os.path.join(out, 'nifti', 'cine.nii')).dataobj)
    assert vol.shape == (16, 16, 3, 4)
    assert np.array_equal(vol[:, ::-1].transpose(2, 3, 1, 0), rec)
    pb = str(tmp_path / 'c48.pb')
    quiet(ckpt_to_pb.main, ['--save_ckpt_Dir', reference['ck'], '--output', pb,
                            '--image_size', '48'])
    r = expect_exit2(capsys, ['--pb', pb, '--input', reference['acq'], acq, '--output_dir',
                              str(tmp_path / 'o2')])
    assert ('error: %s: items are 32x32 but the graph %s was frozen for 48x48' % (
        reference['acq'], pb)) in r.err
    assert 'error: %s: dynamic (N, T, H, W) data but the graph %s is 2-D' % (acq, pb) in r.err
