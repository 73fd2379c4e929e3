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
"""The dynamic (2D+t) cascade: the data-sharing layer against numpy, the model's shapes and
data consistency, the cine phantom, and a tiny end-to-end make_h5data -> train -> test run."""
import csv
import json
import os

import h5py
import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from PIL import Image

from conftest import run_script
from models import config as cfgmod
from models import evaluate, masks, model_tf, plots
from models.data.synthetic import cine_phantom

tf.disable_v2_behavior()

T, H, W = 5, 12, 10


def ds_numpy(x, mask, frame_dist, divide_by_n):
    """Straight from the definition: for each frame t, sum k-space and mask over the frames
    (t + s) mod T, s = -d..d, divide by max(c, count), put the acquired samples back."""
    k = np.fft.fft2(x)
    out = [x]
    nt = x.shape[1]
    for d in frame_dist:
        res = np.empty_like(k)
        for t in range(nt):
            ks = sum(k[:, (t + s) % nt] for s in range(-d, d + 1))
            ms = sum(mask[:, (t + s) % nt] for s in range(-d, d + 1))
            avg = ks / np.maximum(2 * d + 1 if divide_by_n else 1.0, ms)
            res[:, t] = avg * (1 - mask[:, t]) + k[:, t] * mask[:, t]
        out.append(np.fft.ifft2(res))
    return out


def run_ds(x, mask, frame_dist, divide_by_n):
    g = tf.Graph()
    with g.as_default():
        xp = tf.constant(np.stack([x.real, x.imag], -1).astype(np.float32))
        mp = tf.constant(mask.astype(np.float32))
        y = model_tf.data_sharing(xp, mp, frame_dist, divide_by_n)
        with tf.Session() as s:
            y = s.run(y)
    return [y[..., 2 * i] + 1j * y[..., 2 * i + 1] for i in range(y.shape[-1] // 2)]


def sample(seed=0, zero_filled=True):
    rng = np.random.default_rng(seed)
    mask = masks.cartesian_mask((2, T, H, W), acc=3, sample_n=2, seed=seed)
    x = rng.standard_normal((2, T, H, W)) + 1j * rng.standard_normal((2, T, H, W))
    if zero_filled:  # the first cascade sees the zero-filled input: k is 0 off the samples
        x = np.fft.ifft2(np.fft.fft2(x) * mask)
    return x, mask


# d = 3 reaches 7 frames out of T = 5: the window wraps onto itself, as the reference's roll.
@pytest.mark.parametrize('divide_by_n,zero_filled', [(False, True), (True, False)])
def test_data_sharing_matches_numpy(divide_by_n, zero_filled):
    x, mask = sample(1, zero_filled)
    dist = [0, 1, 2, 3]
    got = run_ds(x, mask, dist, divide_by_n)
    want = ds_numpy(x, mask, dist, divide_by_n)
    assert len(got) == 1 + len(dist)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, atol=1e-4 * np.abs(w).max())


def test_data_sharing_division_rule_differs():
    """Cascade 1 divides by the sampled count, later ones by 2d+1: on zero-filled input the
    two give different channels for d >= 1 and the same for d = 0."""
    x, mask = sample(2)
    a = run_ds(x, mask, [0, 2], False)
    b = run_ds(x, mask, [0, 2], True)
    np.testing.assert_allclose(a[1], b[1], atol=1e-4)
    assert np.abs(a[2] - b[2]).max() > 1e-2


def test_data_sharing_keeps_acquired_samples_and_fills_gaps():
    x, mask = sample(3)
    k = np.fft.fft2(x)
    for ch in run_ds(x, mask, [1, 2], False)[1:]:
        kc = np.fft.fft2(ch)
        on = mask == 1
        np.testing.assert_allclose(kc[on], k[on], atol=1e-3 * np.abs(k).max())
        assert np.abs(kc[~on]).max() > 1e-2  # neighbours' samples fill some missing lines
    # each filled point is the mean of the neighbours that sampled it
    ch = np.fft.fft2(run_ds(x, mask, [1], False)[1])
    t, r = 2, int(np.flatnonzero((mask[0, 1, :, 0] == 1) & (mask[0, 2, :, 0] == 0))[0])
    nb = [s for s in (1, 2, 3) if mask[0, s, r, 0] == 1]
    np.testing.assert_allclose(ch[0, t, r], np.mean([k[0, s, r] for s in nb], axis=0),
                               atol=1e-3 * np.abs(k).max())


def test_data_sharing_identity_when_fully_sampled():
    x, _ = sample(4, zero_filled=False)
    full = np.ones((2, T, H, W))
    for divide_by_n in (False, True):
        for ch in run_ds(x, full, [0, 1, 4], divide_by_n):
            np.testing.assert_allclose(ch, x, atol=1e-4 * np.abs(x).max())


@pytest.mark.parametrize('frame_dist', [[0, 1, 2], []])
def test_dynamic_model_shapes_and_dc(frame_dist):
    cfg = {'model': 'dynamic', 'Dn': 3, 'Dc': 2, 'nf': 4, 'dc_mode': 'hard',
           'batch_norm': False, 'share_weights': False, 'image_size': [H, W], 'frames': T,
           'frame_dist': frame_dist, 'random_seed': 0}
    graph, feature, mask, pred = model_tf.build_inference_graph(cfg, batch=2)
    assert feature.shape.as_list() == [2, T, H, W, 2]
    assert mask.shape.as_list() == [2, T, H, W]
    assert pred.shape.as_list() == [2, T, H, W, 2]
    names = [v.op.name for v in model_tf.model_variables(graph)]
    w1 = [v for v in model_tf.model_variables(graph) if v.op.name.endswith('cnn1/conv1/W')][0]
    assert w1.shape.as_list() == [3, 3, 3, 2 * (1 + len(frame_dist)), 4]
    assert len(names) == 2 * 3 * 2
    x, m = sample(5)
    with graph.as_default(), tf.Session() as s:
        s.run(tf.global_variables_initializer())
        out = s.run(pred, {feature: np.stack([x.real, x.imag], -1), mask: m})
    k_out = np.fft.fft2(out[..., 0] + 1j * out[..., 1])
    np.testing.assert_allclose(k_out[m == 1], np.fft.fft2(x)[m == 1], atol=1e-3)


def test_dynamic_config_defaults():
    cfg = cfgmod.resolve_arch({'model': 'dynamic'})
    assert cfg['Dc'] == 10 and cfg['frame_dist'] == [0, 1, 2, 3, 4] and cfg['nf'] == 64
    assert 'frame_dist' not in cfgmod.resolve_arch({'model': 'static'})
    assert cfgmod.resolve_arch({'model': 'dynamic', 'frame_dist': []})['frame_dist'] == []


def test_cine_phantom():
    c = cine_phantom(32, 8, seed=0, index=1)
    assert c.shape == (8, 32, 32) and c.dtype == np.complex64
    assert np.isclose(np.abs(c).max(), 1.0)
    moving = np.abs(np.diff(np.abs(c), axis=0)).max(axis=0) > 1e-4
    assert 0.01 < moving.mean() < 0.3            # only the heart moves
    assert not moving[:4].any() and not moving[:, :4].any()  # the border stays still
    np.testing.assert_array_equal(c, cine_phantom(32, 8, seed=0, index=1))
    assert not np.array_equal(c, cine_phantom(32, 8, seed=0, index=2))


def test_cine_phantom_global_motion():
    local = cine_phantom(32, 8, seed=0, index=1)
    np.testing.assert_array_equal(local, cine_phantom(32, 8, seed=0, index=1, motion='local'))
    g = cine_phantom(32, 8, seed=0, index=1, motion='global')
    assert g.shape == (8, 32, 32) and g.dtype == np.complex64
    assert np.isclose(np.abs(g).max(), 1.0)
    np.testing.assert_array_equal(g, cine_phantom(32, 8, seed=0, index=1, motion='global'))
    moving = np.abs(np.diff(np.abs(g), axis=0)).max(axis=0) > 1e-4
    assert moving.mean() > 2 * 0.3                 # far more than the heart moves

    # the body's centre of mass travels (a breathing-like drift), the local one stays put
    def centre_rows(seq):
        a = np.abs(seq)
        return (a * np.arange(32)[:, None]).sum(axis=(1, 2)) / a.sum(axis=(1, 2))
    assert np.ptp(centre_rows(g)) > 1.0 and np.ptp(centre_rows(local)) < 0.5
    with pytest.raises(ValueError):
        cine_phantom(32, 8, motion='sideways')
    r = run_script('make_h5data.py', '--synthetic', 4, '--motion', 'global')
    assert r.returncode == 2 and '--motion' in r.stderr


def test_frame_rows():
    rng = np.random.default_rng(0)
    f, p, g = (rng.standard_normal((6, 16, 20, 2)) for _ in range(3))
    rows = evaluate.frame_rows(3, f, p, g)
    assert [r['frame'] for r in rows] == list(range(6)) and rows[0]['index'] == 3
    s = evaluate.summarize_frames(rows + evaluate.frame_rows(4, f, g, g))
    assert len(s) == 6 and s[0]['psnr_re'] == float('inf')


@pytest.fixture(scope='module')
def cine_data(tmp_path_factory):
    d = str(tmp_path_factory.mktemp('cine'))
    r = run_script('make_h5data.py', '--synthetic', 16, '--frames', 8, '--image_size', 32,
                   '--sample_n', 4, '--output_dir', d, '--split', 0.75)
    assert r.returncode == 0, r.stderr
    return [os.path.join(d, 'synthetic_cine_%s_acc4.hdf5' % p) for p in ('train', 'test')]


def test_make_h5data_synthetic_cine(cine_data):
    with h5py.File(cine_data[0], 'r') as f:
        assert f['label'].shape == (12, 8, 32, 32) and f['mask'].shape == (12, 8, 32, 32)
        m = f['mask'][0]
        assert (m[:, :, 0].sum(axis=1) == 8).all()   # int(32 / 4) lines in every frame
        assert any((m[0] != m[t]).any() for t in range(1, 8))  # a different mask per frame


def test_dynamic_train_test_end_to_end(cine_data, tmp_path):
    ck = str(tmp_path / 'ck')
    r = run_script('train.py', '--data_train_dir', cine_data[0], '--data_test_dir',
                   cine_data[1], '--Dn', 3, '--Dc', 2, '--nf', 8, '--frame_dist', 0, 1, 2,
                   '--batch_size', 2, '--num_epoch', 5, '--save_ckpt_Dir', ck)
    assert r.returncode == 0, r.stderr
    assert 'D3-C2(S) frame_dist=[0, 1, 2]' in r.stdout
    cfg = json.load(open(os.path.join(ck, 'config.json')))
    assert cfg['model'] == 'dynamic' and cfg['frames'] == 8 and cfg['frame_dist'] == [0, 1, 2]
    out = str(tmp_path / 'res')
    r = run_script('test.py', '--save_ckpt_Dir', ck, '--data_test_dir', cine_data[1],
                   '--plot', '--output_dir', out)
    assert r.returncode == 0, r.stderr
    s = json.load(open(os.path.join(out, 'summary.json')))
    assert s['psnr_re'] > s['psnr_in'] + 1.0
    assert len(s['per_frame']) == 8
    assert np.isclose(np.mean([f['psnr_re'] for f in s['per_frame']]), s['psnr_re'])
    with open(os.path.join(out, 'metrics_frames.csv')) as f:
        assert len(list(csv.DictReader(f))) == 4 * 8
    # the panel of a sequence: its middle frame titled with that frame's numbers
    panel = Image.open(os.path.join(out, 'panel_00000.png'))
    assert panel.size == plots.panel_size(32, 32, 8)
    with open(os.path.join(out, 'metrics_frames.csv')) as f:
        mid = [r for r in csv.DictReader(f) if r['index'] == '0' and r['frame'] == '4'][0]
    assert ('reconstruction (RE), frame 4 PSNR %.2f dB  SSIM %.3f'
            % (float(mid['psnr_re']), float(mid['ssim_re']))) in panel.info['Description']
    assert 'frame   7: PSNR IN' in r.stdout

    # a 2D model cannot be asked for on dynamic data
    r = run_script('train.py', '--data_train_dir', cine_data[0], '--model', 'static',
                   '--save_ckpt_Dir', str(tmp_path / 'x'))
    assert r.returncode == 2 and '--model static' in r.stderr


def test_dynamic_flags_refused_on_2d_data(tiny_data, tmp_path):
    r = run_script('train.py', '--data_train_dir', tiny_data[0], '--frame_dist', 1,
                   '--save_ckpt_Dir', str(tmp_path / 'x'))
    assert r.returncode == 2 and '--frame_dist' in r.stderr
    r = run_script('train.py', '--data_train_dir', tiny_data[0], '--model', 'dynamic',
                   '--save_ckpt_Dir', str(tmp_path / 'x'))
    assert r.returncode == 2 and '--model dynamic' in r.stderr


def test_random_masks_per_frame(cine_data):
    from models import pre_input
    data = pre_input.H5Data(cine_data[0])
    b = pre_input.Batches(data, 2, seed=0, mask_mode='random', acc=4.0, sample_n=4).batch(0, 0)
    m = b['mask']
    assert m.shape == (2, 8, 32, 32) and (m[:, :, :, 0].sum(axis=-1) == 8).all()
    assert any((m[0, 0] != m[0, t]).any() for t in range(1, 8))
    np.testing.assert_allclose(b['feature'][..., 0] + 1j * b['feature'][..., 1],
                               pre_input.undersample(b['label'][..., 0] + 1j * b['label'][..., 1],
                                                     m), atol=1e-5)
    data.close()
