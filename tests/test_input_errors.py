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
"""Every script, every bad input a user can give: one line on stderr naming the file or flag,
exit code 2, nothing written. A table of cases x scripts."""
import os

import h5py
import numpy as np
import pytest

from conftest import run_script

CASES = {
    # name: (how to make the file, text the message must contain)
    'missing_file': (None, 'no such file'),
    'not_hdf5': ('text', 'not a readable HDF5 file'),
    'wrong_key': ('no_label', "missing dataset 'label'"),
    'shape_mismatch': ('shape', 'does not match label shape'),
    'mask_not_binary': ('mask2', 'mask values must be 0 or 1'),
    'mask_all_zero': ('mask0', 'samples nothing'),
    'nan_in_label': ('nan', 'contains NaN or Inf'),
    'inf_in_label': ('inf', 'contains NaN or Inf'),
    'empty_dataset': ('empty', 'empty'),
    'wrong_rank': ('rank', 'expected (N, H, W)'),
    'string_label': ('strings', 'label must be numeric (float, complex or integer)'),
}


def make_file(kind, path):
    if kind is None:
        return path
    if kind == 'text':
        open(path, 'w').write('this is not an HDF5 file')
        return path
    rng = np.random.default_rng(0)
    label = (rng.random((6, 32, 32)) + 0j).astype(np.complex64)
    mask = np.zeros((6, 32, 32), np.float32)
    mask[:, ::4] = 1
    if kind == 'shape':
        mask = mask[:, :, :16]
    elif kind == 'mask2':
        mask[1, 0, 0] = 2
    elif kind == 'mask0':
        mask[5] = 0
    elif kind == 'nan':
        label[3, 1, 1] = np.nan
    elif kind == 'inf':
        label[2, 1, 1] = np.inf
    elif kind == 'empty':
        label, mask = label[:0], mask[:0]
    elif kind == 'rank':
        label, mask = label[0, 0], mask[0, 0]
    with h5py.File(path, 'w') as f:
        if kind == 'strings':
            f['label'] = np.full((6, 32, 32), b'a')
        elif kind != 'no_label':
            f['label'] = label
        f['mask'] = mask
    return path


def scripts(tiny_model, tmp):
    """script -> (argument list taking the HDF5 path as {h5}, the output that must not appear)"""
    return {
        'train.py': (['--data_train_dir', '{h5}', '--save_ckpt_Dir', tmp + '/ckpt',
                      '--batch_size', '2', '--Dn', '2', '--Dc', '1', '--nf', '4'],
                     tmp + '/ckpt'),
        'test.py': (['--save_ckpt_Dir', tiny_model[0], '--data_test_dir', '{h5}',
                     '--output_dir', tmp + '/results'], tmp + '/results'),
        'image_to_bin.py': (['--data_test_dir', '{h5}', '--output_dir', tmp + '/bins'],
                            tmp + '/bins'),
    }


def check_one_line_exit_2(r, expected, where):
    assert r.returncode == 2, (where, r.returncode, r.stdout[-500:], r.stderr[-500:])
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: '), (where, r.stderr)
    assert expected in lines[0], (where, lines[0])


@pytest.mark.parametrize('script', ['train.py', 'test.py', 'image_to_bin.py'])
@pytest.mark.parametrize('case', sorted(CASES))
def test_bad_hdf5(tiny_model, tmp_path, script, case):
    kind, expected = CASES[case]
    h5 = make_file(kind, str(tmp_path / ('%s.h5' % case)))
    args, output = scripts(tiny_model, str(tmp_path))[script]
    r = run_script(script, *[x.replace('{h5}', h5) for x in args])
    check_one_line_exit_2(r, expected, (script, case))
    assert h5 in r.stderr
    assert not os.path.exists(output) or not os.listdir(output)


FLAG_CASES = [
    ('train.py', ['--precision_mode', 'fp4'], "--precision_mode: invalid choice: 'fp4'"),
    ('train.py', ['--optimizer', 'rmsprop'], "invalid choice: 'rmsprop'"),
    ('train.py', ['--mask_mode', 'sometimes'], "invalid choice: 'sometimes'"),
    ('train.py', ['--num_epoch', '0'], '--num_epoch must be >= 1'),
    ('train.py', ['--learning_rate', '-1'], '--learning_rate > 0'),
    ('train.py', ['--continue_training', 'maybe'], 'expected a boolean'),
    ('train.py', ['--continue_training', '--save_ckpt_Dir', '/nonexistent/ckpt'],
     '/nonexistent/ckpt: no such folder'),
    ('train.py', ['--data_url', '/nonexistent/data'], 'no such folder'),
    ('test.py', ['--save_ckpt_Dir', '/nonexistent/ckpt'], 'no such folder'),
    ('test.py', ['--batch_size', 'x'], "invalid int value: 'x'"),
    ('make_h5data.py', ['--synthetic', '0'], '--synthetic needs N >= 1'),
    ('make_h5data.py', ['--synthetic', '4', '--mask_type', 'radial'], "invalid choice: 'radial'"),
    ('make_h5data.py', ['--synthetic', '4', '--acc', '0.5', '--image_size', '32'],
     'acceleration must be >= 1'),
    ('make_h5data.py', ['--image_dir', '/nonexistent/images'], 'no such file or folder'),
    ('make_h5data.py', [], 'one of the arguments'),
    ('ckpt_to_pb.py', ['--save_ckpt_Dir', '/nonexistent/ckpt'], 'no such folder'),
    ('ckpt_to_pb.py', ['--batch', '0'], '--batch must be >= 1'),
    ('view_pb.py', ['/nonexistent/cascade.pb'], 'no such file'),
    ('msame_cpu.py', ['--model', '/nonexistent/cascade.pb', '--input', 'a,b', '--output', 'o'],
     'no such file'),
    ('om_precision.py', ['--label_dir', '/nonexistent/label', '--output_dir', '/nonexistent/o'],
     '/nonexistent'),
]


@pytest.mark.parametrize('script,args,expected', FLAG_CASES,
                         ids=['%s:%s' % (c[0], ' '.join(c[1])) for c in FLAG_CASES])
def test_bad_flags(tmp_path, script, args, expected):
    r = run_script(script, *args, cwd=str(tmp_path))
    check_one_line_exit_2(r, expected, (script, args))
    assert os.listdir(str(tmp_path)) == []


def test_image_size_not_matching_the_graph(tiny_model, tmp_path):
    from models.data import h5writer
    tr, te = h5writer.write_synthetic(str(tmp_path), 6, (24, 24), 4.0, 2, name='small')
    r = run_script('test.py', '--save_ckpt_Dir', tiny_model[0], '--data_test_dir', tr)
    check_one_line_exit_2(r, 'images are 24x24 but the model', 'test.py size')
    r = run_script('train.py', '--data_train_dir', tr, '--save_ckpt_Dir', tiny_model[0],
                   '--continue_training', '--batch_size', '2')
    # the same check, and the same message, as test.py's (models.ckpt.check_data)
    check_one_line_exit_2(r, 'images are 24x24 but the model', 'train.py size')
