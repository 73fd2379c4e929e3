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
