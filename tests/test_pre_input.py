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
import h5py
import numpy as np
import pytest

from models import pre_input
from models.errors import InputError


def write(path, label, mask, **extra):
    with h5py.File(path, 'w') as f:
        if label is not None:
            f['label'] = label
        if mask is not None:
            f['mask'] = mask
        for k, v in extra.items():
            f[k] = v
    return str(path)


def good(n=6, h=16, w=16):
    rng = np.random.default_rng(0)
    label = (rng.random((n, h, w)) * np.exp(1j * rng.random((n, h, w)))).astype(np.complex64)
    mask = np.zeros((n, h, w), np.float32)
    mask[:, ::2] = 1
    return label, mask


def test_reads_in_requested_order(tmp_path):
    label, mask = good()
    d = pre_input.H5Data(write(tmp_path / 'a.h5', label, mask))
    lab, m = d.read([4, 1, 3])
    np.testing.assert_array_equal(lab, label[[4, 1, 3]])
    np.testing.assert_array_equal(m, mask[[4, 1, 3]])
    assert d.n == 6 and d.shape == (16, 16) and not d.is_dynamic


def test_shared_mask_and_real_label(tmp_path):
    label, mask = good()
    d = pre_input.H5Data(write(tmp_path / 'a.h5', label.real.astype(np.float32), mask[0]))
    lab, m = d.read([0, 5])
    assert lab.dtype == np.complex64 and m.shape == (2, 16, 16)


def test_zero_filled_matches_definition():
    label, mask = good(2)
    zf = pre_input.undersample(label, mask)
    np.testing.assert_allclose(np.fft.fft2(zf), np.fft.fft2(label) * mask, atol=1e-4)


@pytest.mark.parametrize('case,message', [
    ('missing', 'no such file'),
    ('not_hdf5', 'not a readable HDF5'),
    ('no_mask', "missing dataset 'mask'"),
    ('shape', 'does not match label shape'),
    ('rank', 'expected (N, H, W)'),
    ('mask_values', 'mask values must be 0 or 1'),
    ('mask_empty', 'samples nothing'),
    ('empty', 'empty'),
])
def test_bad_files(tmp_path, case, message):
    label, mask = good()
    p = tmp_path / 'bad.h5'
    if case == 'missing':
        p = str(tmp_path / 'nope.h5')
    elif case == 'not_hdf5':
        p.write_text('not hdf5')
    elif case == 'no_mask':
        write(p, label, None)
    elif case == 'shape':
        write(p, label, mask[:, :8])
    elif case == 'rank':
        write(p, label[0, 0], mask[0, 0])
    elif case == 'mask_values':
        mask[2, 0, 0] = 0.5
        write(p, label, mask)
    elif case == 'mask_empty':
        mask[3] = 0
        write(p, label, mask)
    elif case == 'empty':
        write(p, label[:0], mask[:0])
    with pytest.raises(InputError) as e:
        pre_input.H5Data(str(p))
    assert message in str(e.value) and str(p) in str(e.value)


def test_nan_label_is_reported_at_open(tmp_path):
    label, mask = good()
    label[4, 3, 3] = np.nan
    with pytest.raises(InputError, match='image 4 contains NaN'):
        pre_input.H5Data(write(tmp_path / 'nan.h5', label, mask))


def test_batches_deterministic_and_resumable(tmp_path):
    label, mask = good(10)
    d = pre_input.H5Data(write(tmp_path / 'a.h5', label, mask))
    b = pre_input.Batches(d, 3, seed=5)
    assert b.steps_per_epoch == 3
    seen = [b.batch(0, i)['index'] for i in range(3)]
    assert len(set(np.concatenate(seen))) == 9                      # no repeats in an epoch
    assert not np.array_equal(b.order(0), b.order(1))                # reshuffled each epoch
    stream = b.from_step(4)                                          # resume mid-epoch 1
    e, i, first = next(stream)
    assert (e, i) == (1, 1)
    np.testing.assert_array_equal(first['feature'], b.batch(1, 1)['feature'])
    assert first['feature'].shape == (3, 16, 16, 2) and first['mask'].dtype == np.float32


def test_random_masks_per_epoch(tmp_path):
    label, mask = good(4, 32, 32)
    d = pre_input.H5Data(write(tmp_path / 'a.h5', label, mask))
    b = pre_input.Batches(d, 2, seed=1, mask_mode='random', acc=4, sample_n=4)
    m0, m1 = b.batch(0, 0), b.batch(1, 0)
    assert np.all(m0['mask'][:, :, 0].sum(axis=1) == 8)              # int(32/4) lines
    np.testing.assert_array_equal(m0['mask'], b.batch(0, 0)['mask'])  # seeded
    assert not np.array_equal(m0['mask'], m1['mask'])


def test_batch_larger_than_dataset(tmp_path):
    label, mask = good(3)
    d = pre_input.H5Data(write(tmp_path / 'a.h5', label, mask))
    with pytest.raises(InputError, match='larger than the 3 images'):
        pre_input.Batches(d, 4)


def test_prefetch_passes_items_and_errors():
    assert list(pre_input.Prefetch(iter(range(5)))) == list(range(5))

    def broken():
        yield 1
        raise InputError('boom')
    it = pre_input.Prefetch(broken())
    assert next(it) == 1
    with pytest.raises(InputError, match='boom'):
        next(it)
