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
"""The Ascend port's data as it is: its HDF5 layout (uint8 0-255 labels, a float64 mask per
image, one stored mask repeated) read by train.py, test.py and image_to_bin.py with either
preset; masks stored centred detected and shifted; make_h5data.py --mask_file / --layout port.
Every port-layout file here is written by the test itself with h5py, as the port's
make_h5data.py writes them."""
import json
import os
import re

import h5py
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import image_to_bin
import make_h5data
import test as test_script
import train
from conftest import TINY_MODEL
from models import bins, masks, metrics, model_tf, pre_input
from models.data.synthetic import phantom

from test_port_net import np_port_forward, np_port_loss


def gray_images(n, size, seed=0):
    """n grayscale uint8 0-255 phantoms, as the port's cv2.imread(path, 0) gives them."""
    return np.stack([np.round(np.abs(phantom(size, seed, i)) * 255) for i in range(n)]
                    ).astype(np.uint8)


def write_port_file(path, labels, mask):
    """The port's make_h5data.py layout: `label` as given, `mask` = one mask repeated per
    image as float64, nothing else."""
    with h5py.File(str(path), 'w') as f:
        f.create_dataset('label', data=labels)
        f.create_dataset('mask', data=np.repeat(mask[None].astype(np.float64), len(labels), 0))
    return str(path)


def zero_filled_psnr(labels, mask):
    """Mean PSNR of ifft2(fft2(x) m) against x, in float64."""
    x = labels.astype(np.complex128)
    zf = np.fft.ifft2(np.fft.fft2(x) * mask)
    return np.mean([metrics.psnr(x[i], zf[i]) for i in range(len(x))])


@pytest.mark.parametrize('dtype', [np.uint8, np.uint16, np.int32])
def test_integer_labels_and_float64_masks(tmp_path, dtype, capsys):
    """Integer labels are read: divided by each image's max with label_scale image_max (the
    paper preset), kept as stored with 'stored' (the port preset); one line says so."""
    imgs = gray_images(3, 16).astype(dtype) * (2 if dtype != np.uint8 else 1)
    mask = masks.cartesian_mask((16, 16), 4, 4, seed=0)
    path = write_port_file(tmp_path / 'p.hdf5', imgs, mask)
    d = pre_input.H5Data(path)
    lab, m = d.read([2, 0])
    note = capsys.readouterr().out.strip()
    assert note == d.note and note.startswith(path + ': ')
    assert '%s labels (values 0..%d) each image divided by its max' % (
        np.dtype(dtype).name, imgs.max()) in note and 'float64 masks read as float32' in note
    np.testing.assert_allclose(lab, imgs[[2, 0]] / imgs[[2, 0]].max(axis=(1, 2), keepdims=True),
                               rtol=1e-6)
    assert lab.dtype == np.complex64 and m.dtype == np.float32
    np.testing.assert_array_equal(m, np.repeat(mask[None], 2, 0))
    stored = pre_input.H5Data(path, 'stored')
    np.testing.assert_array_equal(stored.read([1])[0], imgs[[1]])
    assert 'used as stored' in stored.note


def test_origin_layout_of_every_mask_type():
    for kind in masks.MASK_TYPES:
        for shape, sample_n in (((20, 64, 64), 8), ((1, 256, 256), 8), ((1, 32, 32), 4)):
            m = masks.make_mask(kind, shape, 3, sample_n, seed=1)
            assert masks.origin_layout(m) == masks.UNCENTRED, (kind, shape)
            assert masks.origin_layout(np.fft.fftshift(m, axes=(-2, -1))) == masks.CENTRED
    assert masks.origin_layout(np.ones((2, 16, 16))) == masks.UNKNOWN


@pytest.mark.parametrize('shared', [False, True])
def test_centred_masks_are_detected_and_shifted(tmp_path, shared):
    """A file whose masks are stored centred reads exactly as the same file stored uncentred;
    read unshifted (as before this was detected), the zero-filled PSNR drops by ~10 dB."""
    n = 12
    labels = np.stack([phantom(64, 0, i) for i in range(n)])
    m = masks.cartesian_mask((1 if shared else n, 64, 64), 4, 8, seed=3)
    stored = (lambda x: x[0]) if shared else (lambda x: x)
    plain = pre_input.H5Data(write_port_file(tmp_path / 'u.hdf5', labels, m[0])
                             if shared else _write(tmp_path / 'u.hdf5', labels, m))
    centred_m = np.fft.fftshift(m, axes=(-2, -1))
    path = tmp_path / 'c.hdf5'
    with h5py.File(str(path), 'w') as f:
        f['label'] = labels
        f['mask'] = stored(centred_m)
    centred = pre_input.H5Data(str(path))
    assert centred.mask_centred and not plain.mask_centred
    assert 'masks are stored centred' in centred.note and 'ifftshift' in centred.note
    idx = [5, 0, 11]
    np.testing.assert_array_equal(centred.read(idx)[1], plain.read(idx)[1])

    def psnr_in(data):
        b = pre_input.Batches(data, n, shuffle=False).batch(0, 0)
        zf = pre_input.to_complex(b['feature'])
        return np.mean([metrics.psnr(labels[i], zf[i]) for i in range(n)])

    fixed, wrong = psnr_in(centred), zero_filled_psnr(labels, np.broadcast_to(centred_m,
                                                                              labels.shape))
    assert fixed == psnr_in(plain)
    assert fixed > 18 and fixed - wrong > 8, (fixed, wrong)


def _write(path, labels, mask):
    with h5py.File(str(path), 'w') as f:
        f['label'] = labels
        f['mask'] = mask
    return str(path)


def _h5(path):
    with h5py.File(path, 'r') as f:
        return dict((k, f[k][()]) for k in f.keys()), dict(f.attrs)


def test_make_h5data_mask_file_and_port_layout(tmp_path, capsys):
    size = 32
    m = masks.cartesian_mask((size, size), 3, 4, seed=5).astype(np.float64)
    mask_file = str(tmp_path / 'mask_acc3.hdf5')
    with h5py.File(mask_file, 'w') as f:
        f['mask'] = m
    args = ['--synthetic', '6', '--image_size', str(size), '--split', '0.5', '--sample_n', '4']
    tr, _ = make_h5data.main(args + ['--mask_file', mask_file, '--output_dir',
                                     str(tmp_path / 'a')])
    assert os.path.basename(tr) == 'synthetic_train_acc3.2.hdf5'  # 32 / 10 sampled lines
    d, attrs = _h5(tr)
    assert np.all(d['mask'] == m) and attrs['acc'] == pytest.approx(3.2)
    assert 'mask_type' not in attrs and attrs['mask_file'] == 'mask_acc3.hdf5'

    # the port's layout, with the port's (N, H, W) repeated mask stored centred as input
    port_masks = str(tmp_path / 'port_masks.hdf5')
    with h5py.File(port_masks, 'w') as f:
        f['mask'] = np.repeat(np.fft.fftshift(m)[None], 4, 0)
    tr_p, _ = make_h5data.main(args + ['--mask_file', port_masks, '--layout', 'port',
                                       '--output_dir', str(tmp_path / 'b')])
    assert 'the mask is stored centred' in capsys.readouterr().out
    p, _ = _h5(tr_p)
    assert sorted(p) == ['label', 'mask']
    assert p['label'].dtype == np.uint8 and p['mask'].dtype == np.float64
    assert p['mask'].shape == (3, size, size) and np.all(p['mask'] == m)
    np.testing.assert_array_equal(p['label'], np.round(np.abs(d['label']) * 255))
    assert p['label'].max() == 255

    # the port's layout without a mask file: our per-image masks, same images
    tr_q, _ = make_h5data.main(args + ['--layout', 'port', '--output_dir', str(tmp_path / 'c')])
    tr_o, _ = make_h5data.main(args + ['--output_dir', str(tmp_path / 'o')])
    q, o = _h5(tr_q)[0], _h5(tr_o)[0]
    np.testing.assert_array_equal(q['mask'], o['mask'])
    assert len(np.unique(q['mask'].reshape(3, -1), axis=0)) == 3


@pytest.mark.parametrize('content,message', [
    (np.ones((16, 16)), 'is 16x16, the images are 32x32'),
    (np.full((32, 32), 0.5), 'must be 0 or 1'),
    (np.stack([masks.cartesian_mask((32, 32), 3, 4, seed=s) for s in (1, 2)]),
     'one mask repeated'),
])
def test_mask_file_errors(tmp_path, capsys, content, message):
    mask_file = str(tmp_path / 'm.hdf5')
    with h5py.File(mask_file, 'w') as f:
        f['mask'] = content
    with pytest.raises(SystemExit) as e:
        make_h5data.main(['--synthetic', '4', '--image_size', '32', '--mask_file', mask_file,
                          '--output_dir', str(tmp_path)])
    assert e.value.code == 2 and message in capsys.readouterr().err


@pytest.fixture(scope='module')
def port_files(tmp_path_factory):
    """A train/test pair in the port's layout: 32x32 uint8 phantoms, one float64 mask
    (acc 4, 4 central lines) repeated per image."""
    d = tmp_path_factory.mktemp('port_data')
    imgs = gray_images(12, 32, seed=7)
    mask = masks.cartesian_mask((32, 32), 4, 4, seed=8)
    return (write_port_file(d / 'chest_train_acc4.hdf5', imgs[:8], mask),
            write_port_file(d / 'chest_test_acc4.hdf5', imgs[8:], mask), imgs, mask)


def initial_weights(cfg):
    """The variables train.py starts from (graph seed and per-variable op seeds of cfg)."""
    h, w = cfg['image_size']
    with tf.Graph().as_default(), tf.Session() as sess:
        tf.set_random_seed(cfg['random_seed'])
        model_tf.model_from_config(tf.placeholder(tf.float32, [None, h, w, 2]),
                                   tf.placeholder(tf.float32, [None, h, w]), True, cfg)
        sess.run(tf.global_variables_initializer())
        return sess.run(dict((v.op.name, v) for v in tf.global_variables()))


@pytest.mark.parametrize('preset', ['port', 'paper'])
def test_port_layout_trains_and_tests(port_files, tmp_path, capsys, preset):
    """train.py, test.py and image_to_bin.py on the port's files with either preset. --preset
    port keeps the 0-255 labels: its first logged loss is the port's loss of the first batch
    computed in NumPy from the initial weights; the paper preset scales images to max 1."""
    train_p, test_p, imgs, mask = port_files
    d = str(tmp_path / 'ckpt')
    train.main(['--data_train_dir', train_p, '--data_test_dir', test_p, '--preset', preset,
                '--batch_size', '4', '--num_epoch', '2', '--log_every', '1',
                '--save_ckpt_Dir', d] + TINY_MODEL)
    out = capsys.readouterr().out
    cfg = json.load(open(os.path.join(d, 'config.json')))
    assert cfg['preset'] == preset and 'preset %s, D3-C2 nf=16' % preset in out
    scale = {'port': 'used as stored', 'paper': 'each image divided by its max'}[preset]
    assert '%s: uint8 labels (values 0..255) %s' % (train_p, scale) in out
    losses = [float(x) for x in re.findall(r'\[step\] step=\d+ epoch=\d+ loss=(\S+)', out)]
    assert len(losses) == 4 and np.all(np.isfinite(losses))
    if preset == 'port':
        assert (cfg['net'], cfg['loss'], cfg['optimizer']) == ('port', 'port', 'sgd')
        data = pre_input.H5Data(train_p, 'stored')
        first = pre_input.Batches(data, 4, cfg['random_seed']).batch(0, 0)
        assert first['label'].max() > 200  # 0-255, not rescaled
        wts = initial_weights(cfg)
        pred, _ = np_port_forward(first['feature'], first['mask'], wts, 3, 2, train=True)
        assert losses[0] == pytest.approx(np_port_loss(pred, first['label'], wts, 3, 2),
                                          rel=1e-5)

    s = test_script.main(['--save_ckpt_Dir', d, '--data_test_dir', test_p,
                          '--output_dir', str(tmp_path / 'res')])
    assert s['psnr_in'] == pytest.approx(zero_filled_psnr(imgs[8:], mask), abs=1e-3)
    assert np.isfinite(s['psnr_re'])

    info = image_to_bin.main(['--data_test_dir', test_p, '--output_dir', str(tmp_path / 'bins'),
                              '--preset', preset])
    label0 = bins.read_bin(os.path.join(str(tmp_path / 'bins'), 'label', '0.bin'),
                           info['label_shape'])
    want = imgs[8].astype(np.float32) / (1.0 if preset == 'port' else imgs[8].max())
    np.testing.assert_allclose(label0[..., 0], want, rtol=1e-6)


def test_h5data_rejects_unknown_label_scale(port_files):
    with pytest.raises(ValueError):
        pre_input.H5Data(port_files[0], 'unit')
