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
import hashlib
import os

import h5py
import numpy as np
from skimage import io as skio

import make_h5data
from conftest import run_script
from models.data.synthetic import phantom


def digest(path):
    with h5py.File(path, 'r') as f:
        return hashlib.sha1(f['label'][()].tobytes() + f['mask'][()].tobytes()).hexdigest()


def test_synthetic_layout_and_determinism(tmp_path):
    args = ['--synthetic', '10', '--image_size', '32', '--acc', '4', '--sample_n', '4']
    tr, te = make_h5data.main(args + ['--output_dir', str(tmp_path / 'a')])
    tr2, _ = make_h5data.main(args + ['--output_dir', str(tmp_path / 'b')])
    assert os.path.basename(tr) == 'synthetic_train_acc4.hdf5'
    with h5py.File(tr, 'r') as f, h5py.File(te, 'r') as g:
        assert f['label'].shape == (8, 32, 32) and g['label'].shape == (2, 32, 32)
        assert f['label'].dtype == np.complex64 and f['mask'].dtype == np.float32
        np.testing.assert_allclose(np.abs(f['label'][()]).max(axis=(1, 2)), 1.0, rtol=1e-5)
        assert np.all(f['mask'][()][:, :, 0].sum(axis=1) == 8)
        assert f.attrs['acc'] == 4.0 and f.attrs['sample_n'] == 4
        assert np.iscomplexobj(f['label'][()]) and np.abs(f['label'][()].imag).max() > 0.1
    assert digest(tr) == digest(tr2)


def test_phantom_has_structure():
    x = np.abs(phantom(64, seed=0, index=3))
    assert (x > 0.05).mean() > 0.3                 # a body fills much of the field of view
    assert len(np.unique(np.round(x[x > 0.05], 1))) > 4  # several tissue contrasts
    assert not np.array_equal(phantom(64, 0, 1), phantom(64, 0, 2))


def test_image_folder_8_and_16_bit(tmp_path):
    src = tmp_path / 'imgs'
    src.mkdir()
    for i in range(4):
        img = np.abs(phantom((40, 50), seed=1, index=i))
        skio.imsave(str(src / ('im%d.png' % i)), (img * 255).astype(np.uint8), check_contrast=False)
        skio.imsave(str(src / ('im%d.tif' % i)), (img * 65535).astype(np.uint16),
                    check_contrast=False)
    tr, te = make_h5data.main(['--image_dir', str(src), '--image_size', '32', '--split', '0.75',
                               '--output_dir', str(tmp_path / 'out'), '--sample_n', '4'])
    with h5py.File(tr, 'r') as f, h5py.File(te, 'r') as g:
        assert f['label'].shape == (6, 32, 32) and g['label'].shape == (2, 32, 32)
        assert f['label'].dtype == np.float32
        names = [n.decode() if isinstance(n, bytes) else n for n in f['name'][()]]
        assert all(n.split('#')[0].endswith(('.png', '.tif')) for n in names), names


def test_refuses_to_overwrite(tmp_path):
    args = ['--synthetic', '4', '--image_size', '16', '--sample_n', '2',
            '--output_dir', str(tmp_path)]
    make_h5data.main(args)
    before = digest(str(tmp_path / 'synthetic_train_acc4.hdf5'))
    r = run_script('make_h5data.py', *(args + ['--seed', '9']))
    assert r.returncode == 2 and 'already exists' in r.stderr and '--overwrite' in r.stderr
    assert digest(str(tmp_path / 'synthetic_train_acc4.hdf5')) == before
    assert len(r.stderr.strip().splitlines()) == 1


def test_new_mask_types_record_achieved_acceleration_and_volumes(tmp_path):
    out = str(tmp_path)
    tr, _ = make_h5data.main(['--synthetic', '4', '--image_size', '32', '--mask_type',
                              'variable_density', '--acc', '4', '--sample_n', '4',
                              '--output_dir', out])
    with h5py.File(tr, 'r') as f:
        assert f.attrs['mask_type'] == 'variable_density'
        assert f.attrs['acc_achieved'] == 4.0  # exact count: 256 of 1024 points per image
        np.testing.assert_array_equal(f['volume'][()], np.arange(3))  # a phantom: a volume
        assert f['mask'][0, 0, 0] == 1 and f['mask'][0].sum() == 256
    tr, _ = make_h5data.main(['--synthetic', '2', '--frames', '4', '--image_size', '32',
                              '--mask_type', 'kt_shear', '--sample_n', '0', '--output_dir', out,
                              '--name', 'cine'])
    with h5py.File(tr, 'r') as f:
        m = f['mask'][0, :, :, 0]
        assert f.attrs['acc_achieved'] == 4.0
        assert not np.array_equal(m[0], m[1])


def test_k_t_mask_for_2d_data_and_unreachable_centre_exit_2(tmp_path):
    base = ['--synthetic', '2', '--image_size', '32', '--output_dir', str(tmp_path)]
    r = run_script('make_h5data.py', *base + ['--mask_type', 'kt_gaussian'])
    assert r.returncode == 2 and 'k-t mask for dynamic data' in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    r = run_script('make_h5data.py', *base + ['--mask_type', 'equispaced', '--sample_n', '40'])
    assert r.returncode == 2 and 'does not fit in 32 lines' in r.stderr
