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
"""Every --mask_type through the whole chain: make_h5data.py writes the masks, train.py trains
a few steps on them (fixed) and draws new ones (random), test.py scores the result. The data
consistency layer needs no change for 2D or k-t masks: the RE images keep the acquired samples
and beat nothing less than a finite PSNR."""
import os

import numpy as np
import pytest

import make_h5data
import test as test_script
import train
from conftest import quiet
from models import masks, pre_input

TWO_D = [t for t in masks.MASK_TYPES if not t.startswith('kt_')]
K_T = [t for t in masks.MASK_TYPES if t.startswith('kt_')]


def _run(tmp_path, mask_type, extra):
    data = str(tmp_path / 'data')
    acc = '3' if mask_type == 'kt_shear' else '4'  # the sheared lattice takes integer steps
    quiet(make_h5data.main, ['--synthetic', '10', '--image_size', '32', '--sample_n', '4',
                             '--acc', acc, '--mask_type', mask_type, '--output_dir', data,
                             '--split', '0.8'] + extra)
    test_file = [os.path.join(data, f) for f in os.listdir(data) if '_test_' in f][0]
    m = pre_input.H5Data(test_file).read([0])[1][0]
    assert set(np.unique(m)) <= {0.0, 1.0} and 1.0 < masks.achieved_acc(m) < 6.0
    ck = str(tmp_path / 'ck')
    for mode in ('fixed', 'random'):
        quiet(train.main, ['--data_url', data, '--Dn', '2', '--Dc', '1', '--nf', '4',
                           '--batch_size', '4', '--train_steps', '2', '--num_epoch', '5',
                           '--mask_mode', mode, '--mask_type', mask_type, '--acc', acc,
                           '--sample_n', '4', '--save_ckpt_Dir', ck, '--overwrite'])
    s, _ = quiet(test_script.main, ['--save_ckpt_Dir', ck, '--data_url', data,
                                    '--output_dir', str(tmp_path / 'res')])
    assert np.isfinite(s['psnr_re']) and np.isfinite(s['psnr_in'])
    return s


@pytest.mark.parametrize('mask_type', TWO_D)
def test_2d_mask_trains_and_tests(mask_type, tmp_path):
    _run(tmp_path, mask_type, [])


@pytest.mark.parametrize('mask_type', K_T)
def test_kt_mask_trains_and_tests(mask_type, tmp_path):
    _run(tmp_path, mask_type, ['--frames', '4'])
