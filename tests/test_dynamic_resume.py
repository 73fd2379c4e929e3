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
"""Resuming a dynamic (2D+t, DS) run: --continue_training goes on at the saved step with the
losses of an uninterrupted run, and a different --frame_dist is refused (exit code 2)."""
import os
import re

import pytest

from conftest import run_script

MODEL = ['--Dn', '3', '--Dc', '2', '--nf', '8', '--frame_dist', '0', '1', '2']


def losses(text):
    return dict((int(m.group(1)), float(m.group(2)))
                for m in re.finditer(r'^\[step\] step=(\d+) epoch=\d+ loss=(\S+)', text, re.M))


def train_args(data, ckpt, steps, *extra):
    # --mask_mode random: the per-frame masks are drawn per step, so a resume that restarted
    # the mask stream (or the batch order) would give other losses.
    return ['--data_train_dir', data, '--save_ckpt_Dir', ckpt, '--batch_size', '2',
            '--num_epoch', '100', '--train_steps', str(steps), '--log_every', '1',
            '--mask_mode', 'random', '--sample_n', '4', '--random_seed', '3'] + MODEL + \
        list(extra)


@pytest.fixture(scope='module')
def cine_train(tmp_path_factory):
    d = str(tmp_path_factory.mktemp('cine_resume'))
    r = run_script('make_h5data.py', '--synthetic', 6, '--frames', 6, '--image_size', 32,
                   '--sample_n', 4, '--split', 1.0, '--output_dir', d)
    assert r.returncode == 0, r.stderr
    return os.path.join(d, 'synthetic_cine_train_acc4.hdf5')


def test_dynamic_resume_matches_uninterrupted_run(cine_train, tmp_path):
    ref = run_script('train.py', *train_args(cine_train, str(tmp_path / 'ref'), 10))
    assert ref.returncode == 0, ref.stderr
    ref_losses = losses(ref.stdout)
    assert sorted(ref_losses) == list(range(1, 11))

    ckpt = str(tmp_path / 'run')
    first = run_script('train.py', *train_args(cine_train, ckpt, 4))
    assert first.returncode == 0, first.stderr
    assert sorted(losses(first.stdout)) == [1, 2, 3, 4]
    resumed = run_script('train.py', *train_args(cine_train, ckpt, 10, '--continue_training'))
    assert resumed.returncode == 0, resumed.stderr
    assert int(re.search(r'resumed from \S+ at step (\d+)', resumed.stdout).group(1)) == 4
    after = losses(resumed.stdout)
    assert sorted(after) == list(range(5, 11))
    for step, value in list(losses(first.stdout).items()) + list(after.items()):
        assert value == pytest.approx(ref_losses[step], rel=1e-4, abs=1e-7), step

    # the same folder with another data-sharing range is another model: refused
    other = train_args(cine_train, ckpt, 12, '--continue_training')
    i = other.index('--frame_dist')
    other[i + 1:i + 4] = ['0', '1']
    r = run_script('train.py', *other)
    assert r.returncode == 2, r.stdout + r.stderr
    assert 'frame_dist' in r.stderr and len(r.stderr.strip().splitlines()) == 1
    # no DS at all is refused too
    other[i + 1:i + 3] = []
    r = run_script('train.py', *other)
    assert r.returncode == 2 and 'frame_dist' in r.stderr, r.stderr
