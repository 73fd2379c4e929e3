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
"""Interrupted training resumes exactly; divergence and damaged checkpoints are reported."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, run_script

MODEL = ['--Dn', '3', '--Dc', '2', '--nf', '8']


def losses(text):
    return dict((int(m.group(1)), float(m.group(2)))
                for m in re.finditer(r'^\[step\] step=(\d+) epoch=\d+ loss=(\S+)', text, re.M))


def train_args(data, ckpt, *extra):
    return ['--data_train_dir', data, '--save_ckpt_Dir', ckpt, '--batch_size', '4',
            '--num_epoch', '5', '--log_every', '1', '--checkpoint_steps', '4',
            '--mask_mode', 'random', '--sample_n', '4'] + MODEL + list(extra)


def test_kill_9_then_resume_matches_uninterrupted_run(tiny_data, tmp_path):
    ref = run_script('train.py', *train_args(tiny_data[0], str(tmp_path / 'ref')))
    assert ref.returncode == 0, ref.stderr
    ref_losses = losses(ref.stdout)
    assert sorted(ref_losses) == list(range(1, 31))

    kill_at = int(np.random.default_rng().integers(6, 25))  # a random point, logged on failure
    ckpt = str(tmp_path / 'run')
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3', PYTHONUNBUFFERED='1')
    p = subprocess.Popen([sys.executable, os.path.join(ROOT, 'train.py')] +
                         train_args(tiny_data[0], ckpt), stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, universal_newlines=True, env=env)
    seen = []
    for line in p.stdout:
        seen.append(line)
        m = re.match(r'\[step\] step=(\d+)', line)
        if m and int(m.group(1)) >= kill_at:
            p.send_signal(signal.SIGKILL)
            break
    p.wait()
    assert p.returncode == -signal.SIGKILL, 'run ended before step %d' % kill_at
    before = losses(''.join(seen))

    resumed = run_script('train.py', *train_args(tiny_data[0], ckpt, '--continue_training'))
    assert resumed.returncode == 0, resumed.stderr
    start = int(re.search(r'resumed from \S+ at step (\d+)', resumed.stdout).group(1))
    # a checkpoint from around the kill: every 4 steps and at each epoch end (6 steps); the
    # process may have run a step or two past the line read before the signal landed
    assert (start % 4 == 0 or start % 6 == 0) and kill_at - 8 < start < 30, (kill_at, start)
    after = losses(resumed.stdout)
    assert sorted(after) == list(range(start + 1, 31))
    for step, value in list(before.items()) + list(after.items()):
        assert value == pytest.approx(ref_losses[step], rel=1e-4, abs=1e-7), (kill_at, step)


def test_non_finite_loss_stops_and_keeps_last_good_checkpoint(tiny_data, tmp_path):
    ckpt = str(tmp_path / 'c')
    r = run_script('train.py', '--data_train_dir', tiny_data[0], '--save_ckpt_Dir', ckpt,
                   '--batch_size', '4', '--num_epoch', '5', '--optimizer', 'sgd',
                   '--learning_rate', '1e12', '--checkpoint_steps', '1', '--log_every', '1',
                   *MODEL)
    assert r.returncode == 1, r.stdout + r.stderr
    assert 'non-finite loss or gradients' in r.stderr and 'last good checkpoint' in r.stderr
    last = max(losses(r.stdout))
    state = open(os.path.join(ckpt, 'checkpoint')).read()
    assert 'model-%d"' % last in state
    import h5py  # noqa: F401  (the checkpoint must hold finite weights)
    from models.tfv1 import tf_v1
    tf = tf_v1()
    reader = tf.train.load_checkpoint(os.path.join(ckpt, 'model-%d' % last))
    for name in reader.get_variable_to_shape_map():
        assert np.all(np.isfinite(reader.get_tensor(name))), name


@pytest.fixture
def ckpt_copy(tiny_model, tmp_path):
    d = str(tmp_path / 'ckpt')
    shutil.copytree(tiny_model[0], d)
    return d


def test_corrupt_checkpoint_is_reported(ckpt_copy, tiny_data):
    data = [f for f in os.listdir(ckpt_copy) if f.startswith('model-48.data')][0]
    with open(os.path.join(ckpt_copy, data), 'r+b') as f:
        f.truncate(100)
    r = run_script('test.py', '--save_ckpt_Dir', ckpt_copy, '--data_test_dir', tiny_data[1])
    assert r.returncode == 2, r.stderr
    assert 'model-48' in r.stderr and 'restore' in r.stderr


def test_config_of_another_model_names_what_differs(ckpt_copy, tiny_data):
    p = os.path.join(ckpt_copy, 'config.json')
    cfg = json.load(open(p))
    cfg['nf'] = 32
    json.dump(cfg, open(p, 'w'))
    r = run_script('train.py', '--data_train_dir', tiny_data[0], '--save_ckpt_Dir', ckpt_copy,
                   '--batch_size', '4', '--continue_training', '--num_epoch', '9')
    assert r.returncode == 2
    assert 'different model configuration' in r.stderr and '[3, 3, 2, 16]' in r.stderr
    r = run_script('train.py', '--data_train_dir', tiny_data[0], '--save_ckpt_Dir', ckpt_copy,
                   '--batch_size', '4', '--continue_training', '--Dc', '3')
    assert r.returncode == 2 and 'Dc=3 (saved 2)' in r.stderr


def test_corrupt_config_json(ckpt_copy, tiny_data):
    open(os.path.join(ckpt_copy, 'config.json'), 'w').write('{"Dn": 3,')
    r = run_script('test.py', '--save_ckpt_Dir', ckpt_copy, '--data_test_dir', tiny_data[1])
    assert r.returncode == 2 and 'corrupt JSON' in r.stderr
