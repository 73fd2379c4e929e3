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
"""train.py -> test.py end to end on tiny data, resuming, and the errors a user can cause."""
import json
import os
import re
import shutil

import numpy as np
import pytest

import test as test_script
import train
from conftest import ROOT, TINY_MODEL, run_script
from models import logparse, loop


def lines(text, tag):
    return [dict(re.findall(r'(\S+?)=(\S+)', l)) for l in text.splitlines()
            if l.startswith('[%s]' % tag)]


def test_training_lowers_loss_and_raises_psnr(tiny_model):
    _, out = tiny_model
    steps = lines(out, 'step')
    assert [int(s['step']) for s in steps] == list(range(4, 49, 4))
    assert float(steps[-1]['loss']) < 0.75 * float(steps[0]['loss'])
    val = lines(out, 'val')
    assert len(val) == 8
    assert float(val[-1]['psnr_re']) > float(val[0]['psnr_re'])
    assert float(val[-1]['psnr_re']) > float(val[-1]['psnr_in'])  # better than zero-filling
    done = lines(out, 'done')[0]
    assert float(done['step_time']) > 0 and float(done['images/sec']) > 0


def test_checkpoint_folder_contents(tiny_model):
    d, _ = tiny_model
    cfg = json.load(open(os.path.join(d, 'config.json')))
    assert (cfg['Dn'], cfg['Dc'], cfg['nf'], cfg['image_size']) == (3, 2, 16, [32, 32])
    assert os.path.exists(os.path.join(d, 'modelTst.meta'))
    # relative paths: a copied or moved folder restores its own checkpoint
    assert 'model_checkpoint_path: "model-48"' in open(os.path.join(d, 'checkpoint')).read()


def test_test_script_matches_validation(tiny_model, tiny_data, tmp_path, capsys):
    d, out = tiny_model
    s = test_script.main(['--save_ckpt_Dir', d, '--data_test_dir', tiny_data[1],
                          '--output_dir', str(tmp_path), '--plot', '--batch_size', '3'])
    printed = capsys.readouterr().out
    m = re.search(r'Avg PSNR: IN (\S+) RE (\S+)', printed)
    assert m and re.search(r'Avg SSIM: IN \S+ RE \S+', printed)
    assert re.search(r'Avg MSE: IN \S+ RE \S+', printed)
    last_val = lines(out, 'val')[-1]
    assert float(m.group(2)) == pytest.approx(float(last_val['psnr_re']), abs=1e-3)
    assert float(m.group(1)) == pytest.approx(float(last_val['psnr_in']), abs=1e-3)
    rows = open(str(tmp_path / 'metrics.csv')).read().strip().splitlines()
    assert len(rows) == 1 + 8 and rows[0].startswith('index,psnr_in')
    summary = json.load(open(str(tmp_path / 'summary.json')))
    assert summary['images'] == 8 and summary['psnr_re'] == pytest.approx(s['psnr_re'])
    assert len([f for f in os.listdir(str(tmp_path)) if f.endswith('.png')]) == 8


def test_continue_training_resumes(tiny_model, tiny_data, tmp_path, capsys):
    d = str(tmp_path / 'ckpt')
    shutil.copytree(tiny_model[0], d)
    train.main(['--data_train_dir', tiny_data[0], '--batch_size', '4', '--num_epoch', '9',
                '--save_ckpt_Dir', d, '--continue_training', '--log_every', '2'])
    out = capsys.readouterr().out
    assert 'at step 48' in out
    assert [int(s['step']) for s in lines(out, 'step')] == [50, 52, 54]
    assert lines(out, 'epoch')[0]['epoch'] == '9'
    # the folder's own log goes on: both runs, and curves drawn from all of it
    with open(os.path.join(d, 'train_log.txt')) as f:
        hist = logparse.history(f.read())
    assert [s['step'] for s in hist['step']] == list(range(4, 49, 4)) + [50, 52, 54]
    assert [e['epoch'] for e in hist['epoch']] == list(range(1, 10))
    assert 'training curves: %s' % os.path.join(d, 'training_curves.png') in out


def test_init_checkpoint_starts_from_the_weights(tiny_model, tiny_data, tmp_path):
    """--init_checkpoint (the launchers' --ckpt_path): the trained weights, the architecture of
    their config.json, and a fresh step count; a learning rate of 1e-30 leaves them as loaded."""
    d = str(tmp_path / 'ckpt')
    r = run_script('train.py', '--data_train_dir', tiny_data[0], '--save_ckpt_Dir', d,
                   '--batch_size', '4', '--train_steps', '1', '--learning_rate', '1e-30',
                   '--init_checkpoint', tiny_model[0])
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'initialised the model weights from %s' % os.path.join(tiny_model[0], 'model-48') \
        in r.stdout
    assert 'D3-C2 nf=16' in r.stdout and '[done] steps=1 ' in r.stdout
    from models.tfv1 import tf_v1
    tf = tf_v1()
    start = tf.train.load_checkpoint(os.path.join(tiny_model[0], 'model-48'))
    new = tf.train.load_checkpoint(os.path.join(d, 'model-1'))
    assert new.get_tensor('global_step') == 1
    weights = [n for n in start.get_variable_to_shape_map()
               if n.startswith('cascade_net/') and 'Adam' not in n]  # not the optimizer's
    assert len(weights) >= 6
    for n in weights:
        np.testing.assert_allclose(new.get_tensor(n), start.get_tensor(n), rtol=1e-6, atol=1e-7)
        # a fresh Adam after one step: m = 0.1 g, v = 0.001 g^2, so v = 0.1 m^2
        m, v = new.get_tensor(n + '/Adam'), new.get_tensor(n + '/Adam_1')
        np.testing.assert_allclose(v, 0.1 * m.astype(np.float64) ** 2, rtol=1e-4, atol=1e-30)
    assert json.load(open(os.path.join(d, 'config.json')))['init_checkpoint'] == tiny_model[0]


def test_read_error_mid_training_is_reported(tiny_data, tmp_path, monkeypatch, capsys):
    """An InputError raised by the tf.data input's generator (here: reading the 4th batch)
    ends training with its own one-line message and exit code 2, not TensorFlow's."""
    from models import pre_input
    from models.errors import InputError
    batch = pre_input.Batches.batch

    def failing(self, epoch, b):
        if (epoch, b) == (0, 3):
            raise InputError('%s: cannot read images [5, 9] (damaged chunk)' % self.data.path)
        return batch(self, epoch, b)
    monkeypatch.setattr(pre_input.Batches, 'batch', failing)
    with pytest.raises(SystemExit) as e:
        train.main(['--data_train_dir', tiny_data[0], '--batch_size', '4', '--log_every', '1',
                    '--save_ckpt_Dir', str(tmp_path / 'c')] + TINY_MODEL)
    out, err = capsys.readouterr()
    assert e.value.code == 2
    assert err == 'error: %s: cannot read images [5, 9] (damaged chunk)\n' % tiny_data[0]
    assert [int(s['step']) for s in lines(out, 'step')] == [1, 2, 3]


def test_existing_checkpoints_are_not_overwritten(tiny_model, tiny_data, tmp_path):
    d = str(tmp_path / 'ckpt')
    shutil.copytree(tiny_model[0], d)
    before = sorted(os.listdir(d))
    r = run_script('train.py', '--data_train_dir', tiny_data[0], '--save_ckpt_Dir', d,
                   '--batch_size', '4', '--train_steps', '1', *TINY_MODEL)
    assert r.returncode == 2
    assert '--continue_training' in r.stderr and '--overwrite' in r.stderr
    assert sorted(os.listdir(d)) == before


def test_test_script_errors(tiny_model, tiny_data, tmp_path):
    d = tiny_model[0]
    r = run_script('test.py', '--save_ckpt_Dir', d, '--data_test_dir', tiny_data[1], '--Dn', '5')
    assert r.returncode == 2 and 'Dn=5 (saved 3)' in r.stderr
    r = run_script('test.py', '--save_ckpt_Dir', str(tmp_path), '--data_test_dir', tiny_data[1])
    assert r.returncode == 2 and 'config.json' in r.stderr
    r = run_script('test.py', '--save_ckpt_Dir', d, '--data_test_dir', str(tmp_path / 'x.h5'))
    assert r.returncode == 2 and 'no such file' in r.stderr


@pytest.mark.parametrize('args,message', [
    (['--precision_mode', 'fp8'], "invalid choice: 'fp8'"),
    (['--mask_type', 'spiral'], "invalid choice: 'spiral'"),
    (['--batch_size', '0'], '--batch_size must be >= 1'),
    (['--image_size', '48'], 'does not match the data'),
    (['--batch_size', '64'], 'larger than the 24 images'),
    (['--data_train_dir', '/nonexistent/train.hdf5'], 'no such file'),
    (['--iterations_per_loop', '4', '--train_steps', '4'],
     'does not divide the 6 steps per epoch'),
    (['--iterations_per_loop', '2', '--checkpoint_steps', '3'],
     '--checkpoint_steps 3 is not a multiple of --iterations_per_loop 2'),
    (['--iterations_per_loop', '0'], '--iterations_per_loop must be >= 1'),
    (['--over_dump', '--data_dump_flag'], 'exclude each other'),
    (['--data_dump_step', '1,2'], '--data_dump_step takes iterations as 0|5|10'),
    (['--init_checkpoint', '/nonexistent/ckpt'], 'no such folder or checkpoint'),
    (['--init_checkpoint', '.', '--continue_training'], 'give one of them'),
])
def test_train_bad_input_exit_2(tiny_data, tmp_path, args, message):
    base = ['--data_train_dir', tiny_data[0], '--save_ckpt_Dir', str(tmp_path / 'c'),
            '--train_steps', '1', '--batch_size', '4'] + TINY_MODEL
    r = run_script('train.py', *(base + args))
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith('error:') and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert message in r.stderr
    assert not os.path.exists(str(tmp_path / 'c' / 'checkpoint'))


def test_no_data_builds_synthetic(tmp_path):
    r = run_script('train.py', '--image_size', '16', '--synthetic_n', '6', '--batch_size', '2',
                   '--train_steps', '2', '--Dn', '2', '--Dc', '1', '--nf', '4', '--sample_n', '2',
                   cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert 'building a synthetic dataset of 6 16x16 images' in r.stdout
    assert os.path.exists(str(tmp_path / 'data' / 'synthetic16x16_n6_s2_train_acc4.hdf5'))
    assert os.path.exists(str(tmp_path / 'save_ckpt' / 'checkpoint'))


def test_full_launcher(tmp_path):
    env_root = str(tmp_path)
    import subprocess
    env = dict(os.environ, CASCADENET_OUTPUT_ROOT=env_root + '/out',
               CASCADENET_DATA_ROOT=env_root + '/data', ASCEND_DEVICE_ID='0')
    r = subprocess.run(['bash', os.path.join(ROOT, 'test', 'train_full_1p.sh'),
                        '--image_size=40', '--train_epochs=2', '--batch_size=8'],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                       universal_newlines=True, timeout=600)
    assert r.returncode == 0, r.stdout
    report = dict(l.split(' = ', 1) for l in
                  open(env_root + '/out/0/CascadeNet_ID2121_for_TensorFlow_bs8_1p_acc.log')
                  .read().splitlines())
    for key in ('Network', 'RankSize', 'BatchSize', 'DeviceType', 'CaseName', 'ActualFPS',
                'TrainingTime', 'ActualLoss', 'E2ETrainingTime', 'TrainAccuracy'):
        assert report.get(key), key
    assert float(report['ActualFPS']) > 0 and np.isfinite(float(report['TrainAccuracy']))
    assert 'Final Performance images/sec' in r.stdout
    assert os.path.exists(env_root + '/out/0/train_0.log')
    for name in ('training curves: %s/out/0/ckpt/training_curves.png',
                 'test report: %s/out/0/ckpt/test_results/report.html'):
        assert name % env_root in r.stdout
        assert os.path.isfile(name.split(': ')[1] % env_root)


def test_timer_leaves_out_warm_up_steps():
    t = loop.Timer(2)
    for dt in (5.0, 4.0, 1.0, 2.0, 3.0):
        t.add(dt)
    assert t.total == [1.0, 2.0, 3.0]
    assert loop.Timer.fmt(t.total, 4) == 'step_time=2.000000 images/sec=2.00'
    assert loop.Timer.fmt([], 4) == 'step_time=- images/sec=-'
