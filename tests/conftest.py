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
"""Shared fixtures: the repository on sys.path, a tiny synthetic dataset and a tiny trained
model, single-coil and multi-coil, each built once per test session."""
import io
import os
import subprocess
import sys
from contextlib import redirect_stdout

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
# Before any test module imports TensorFlow, as every entry script does: the package sets the
# oneDNN default (models/cpu.py).
import models  # noqa: E402,F401
# The launchers call `python3`: make that the interpreter running the tests (a venv that is
# not activated, or a second Python such as the TF 1.15 / Python 3.7 run of .ci/run).
os.environ['PATH'] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get('PATH', '')

TINY_SIZE = 32
TINY_MODEL = ['--Dn', '3', '--Dc', '2', '--nf', '16']
COILS = 3  # of coil_data


def quiet(main, argv):
    """Run a script's main in-process with its stdout captured; returns (result, stdout)."""
    buf = io.StringIO()
    with redirect_stdout(buf):
        result = main(argv)
    return result, buf.getvalue()


def given_flags(**kw):
    """The `given` of models.config.resolve: every model and training flag None (not given)
    but those in `kw`, as models.flags.given returns them for a command line."""
    from models import flags
    given = dict((k, None) for k in flags.MODEL_KEYS + flags.TRAIN_KEYS)
    given.update(kw)
    return given


def expect_exit2(capsys, main, argv, pattern):
    """Run a script's main in-process: it must exit 2 with one stderr line holding `pattern`."""
    with pytest.raises(SystemExit) as e:
        quiet(main, argv)
    err = capsys.readouterr().err
    assert e.value.code == 2
    assert err.count('\n') == 1 and pattern in err, err


def run_script(script, *args, **kwargs):
    """Run a top-level script in a subprocess; returns CompletedProcess (text, both streams)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3', PYTHONUNBUFFERED='1')
    return subprocess.run([sys.executable, os.path.join(ROOT, script)] + [str(a) for a in args],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, cwd=kwargs.get('cwd', ROOT), env=env,
                          timeout=kwargs.get('timeout', 600))


@pytest.fixture(scope='session')
def tiny_data(tmp_path_factory):
    """(train.hdf5, test.hdf5): 24 + 8 synthetic 32x32 complex images, acc 4, 4 centre lines."""
    from models.data import h5writer
    d = str(tmp_path_factory.mktemp('tiny_data'))
    return h5writer.write_synthetic(d, 32, (TINY_SIZE, TINY_SIZE), acc=4.0, sample_n=4,
                                    seed=0, split=0.75, name='tiny')


@pytest.fixture(scope='session')
def tiny_model(tiny_data, tmp_path_factory):
    """A D3-C2 nf=16 model trained for 8 epochs (48 steps) on tiny_data: (ckpt_dir, train
    stdout)."""
    import train
    d = str(tmp_path_factory.mktemp('tiny_ckpt'))
    import io
    from contextlib import redirect_stdout
    buf = io.StringIO()
    with redirect_stdout(buf):
        train.main(['--data_train_dir', tiny_data[0], '--data_test_dir', tiny_data[1],
                    '--batch_size', '4', '--num_epoch', '8', '--save_ckpt_Dir', d,
                    '--log_every', '4'] + TINY_MODEL)
    return d, buf.getvalue()


@pytest.fixture(scope='session')
def coil_data(tmp_path_factory):
    """A folder with a train/test pair of 24 + 6 synthetic 32x32 images with COILS simulated
    coils (make_h5data.py --coils)."""
    d = str(tmp_path_factory.mktemp('coils'))
    r = run_script('make_h5data.py', '--synthetic', '30', '--coils', str(COILS),
                   '--image_size', '32', '--sample_n', '4', '--output_dir', d)
    assert r.returncode == 0, r.stderr
    return d


@pytest.fixture(scope='session')
def coil_model(coil_data, tmp_path_factory):
    """A D3-C2 nf=8 model trained for 3 epochs on coil_data: (ckpt_dir, train stdout)."""
    d = str(tmp_path_factory.mktemp('coil_ckpt'))
    r = run_script('train.py', '--data_url', coil_data, '--Dn', '3', '--Dc', '2', '--nf', '8',
                   '--batch_size', '4', '--num_epoch', '3', '--save_ckpt_Dir', d)
    assert r.returncode == 0, r.stderr
    return d, r.stdout
