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
"""The centre of the repository: one typed configuration resolved once (models/config.py),
shared flag groups (models/flags.py), one training step (models/step.py) that train.py runs
and the benchmarks time, one loop (models/loop.py), the checkpoint folder in one module
(models/ckpt.py), and functions a reader sees whole."""
import ast
import collections
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, TINY_MODEL, given_flags, run_script
from models import ckpt, config as cfgmod, logparse
from models.errors import InputError

# An old config.json (before presets, training keys and this Config): it must keep loading.
OLD_CONFIG = {'model': 'static', 'Dn': 5, 'Dc': 5, 'nf': 64, 'dc_mode': 'hard',
              'batch_norm': False, 'share_weights': False, 'image_size': [64, 64],
              'batch_size': 16, 'random_seed': 0}


def test_old_config_loads_with_the_paper_presets_values(tmp_path):
    cfgmod.save(str(tmp_path), dict(OLD_CONFIG, some_future_key=[1, 2]))
    cfg = cfgmod.load(str(tmp_path))
    assert isinstance(cfg, cfgmod.Config)
    assert (cfg.preset, cfg.net, cfg.loss, cfg.label_scale) == ('paper', 'cascade', 'mse',
                                                                'image_max')
    assert (cfg.Dn, cfg.Dc, cfg.nf, cfg.image_size) == (5, 5, 64, [64, 64])
    assert cfg.name == 'D5-C5' and cfg.output_key == 'dc5' and not cfg.dynamic
    # saving a loaded file loses nothing, not even keys this version does not know
    cfgmod.save(str(tmp_path), cfg)
    with open(cfgmod.path(str(tmp_path))) as f:
        again = json.load(f)
    assert again['some_future_key'] == [1, 2] and 'frame_dist' not in again


def test_config_json_round_trip_is_exact():
    cfg = cfgmod.Config(model='dynamic', Dn=4, Dc=3, nf=8, frame_dist=[0, 1], frames=6,
                        image_size=[32, 48], random_seed=3, learning_rate=2e-4)
    d = cfg.to_json()
    assert cfgmod.Config.from_json(d) == cfg
    assert d['frame_dist'] == [0, 1] and 'init_checkpoint' not in d and 'extra' not in d
    assert cfgmod.Config(model='crnn', Dn=5, Dc=10).name == 'CRNN-MRI nd=5 nc=10'


def test_resolve_order_flags_saved_preset_data():
    attrs = {'mask_type': 'equispaced', 'acc': 6.0, 'sample_n': 10}
    # nothing saved: the preset, then the data file's attributes
    cfg = cfgmod.resolve(given_flags(model='static'), None, attrs)
    assert (cfg.optimizer, cfg.learning_rate, cfg.mask_type, cfg.acc, cfg.sample_n) == (
        'adam', 1e-3, 'equispaced', 6.0, 10)
    assert (cfg.batch_size, cfg.random_seed, cfg.mask_mode) == (16, 0, 'fixed')
    port = cfgmod.resolve(given_flags(model='static', preset='port'), None, {})
    assert (port.optimizer, port.loss, port.Dn, port.mask_type) == ('sgd', 'port', 11,
                                                                   'cartesian')
    # a saved run's settings beat the preset and the data ...
    saved = cfg.replace(learning_rate=5e-4, acc=8.0, weight_decay=1e-6, adam_beta1=0.7)
    again = cfgmod.resolve(given_flags(model='static'), saved, attrs)
    assert (again.learning_rate, again.acc, again.weight_decay, again.adam_beta1) == (
        5e-4, 8.0, 1e-6, 0.7)
    # ... and a flag beats them all
    flagged = cfgmod.resolve(given_flags(model='static', learning_rate=1e-2, acc=3.0), saved, attrs)
    assert (flagged.learning_rate, flagged.acc) == (1e-2, 3.0)
    with pytest.raises(InputError, match='flags contradict the saved model configuration'):
        cfgmod.resolve(given_flags(model='static', nf=32), saved, attrs)
    crnn = cfgmod.resolve(given_flags(model='crnn'), None, {})
    assert (crnn.Dc, crnn.share_weights, crnn.adam_beta1) == (10, True, 0.5)
    # the initialisation: the default 'uniform' for the DS cascade, 'ref' for every other
    # model (the 3D cascade without DS too), else a saved run's, else the flag
    ds = cfgmod.resolve(given_flags(model='dynamic'), None, {})
    no_ds = cfgmod.resolve(given_flags(model='dynamic', frame_dist=[]), None, {})
    assert (cfg.init, crnn.init, ds.frame_dist, ds.init) == ('ref', 'ref', [0, 1, 2, 3, 4],
                                                             'uniform')
    assert (no_ds.frame_dist, no_ds.init) == ([], 'ref')
    assert cfgmod.resolve(given_flags(model='dynamic'), ds.replace(init='ref'), {}).init == 'ref'
    assert cfgmod.resolve(given_flags(model='dynamic'), no_ds.replace(init='uniform'),
                          {}).init == 'uniform'
    assert cfgmod.resolve(given_flags(model='dynamic', init='he'), None, {}).init == 'he'


def _op_types(graph):
    """Op type -> count over the graph and its function library (TF 2 builds tf.cond's
    branches as functions), less the inputs (placeholders, constants, the tf.data pipeline,
    whose generator adds Identity and NoOp nodes)."""
    gd = graph.as_graph_def()
    types = [n.op for n in gd.node] + [n.op for f in gd.library.function for n in f.node_def]
    return collections.Counter(
        t for t in types if t not in ('Placeholder', 'Const', 'PyFunc', 'Identity', 'NoOp')
        and 'Iterator' not in t
        and not t.endswith('Dataset'))


def test_bench_times_the_step_train_py_runs(tiny_data):
    """bench.py and allreduce.py build models.step's step: the same ops (loss, Adam, the
    finite-step guard) as train.py's graph, less the input pipeline and validation."""
    import tensorflow.compat.v1 as tf
    sys.path.insert(0, os.path.join(ROOT, 'bench'))
    import bench
    from models import pipeline, pre_input, step as stepmod
    data = pre_input.H5Data(tiny_data[0])
    cfg = cfgmod.Config(Dn=3, Dc=2, nf=8, random_seed=0, image_size=[32, 32])
    g_train = tf.Graph()
    with g_train.as_default():
        inputs = pipeline.TrainInput(pre_input.Batches(data, 4, 0))
        stepmod.build(cfg, inputs.feature, inputs.mask, inputs.label)
    g_bench, _, step = bench.training_graph(tf, cfg, [4, 32, 32])
    assert _op_types(g_bench) == _op_types(g_train)
    assert step.weights and not step.loss_scaling
    kinds = _op_types(g_bench)
    assert kinds['ApplyAdam'] + kinds['ResourceApplyAdam'] == len(step.weights)
    assert kinds['IsFinite'] > len(step.weights)


def test_port_step_is_sgd_with_the_ports_loss():
    import tensorflow.compat.v1 as tf
    from models import step as stepmod
    cfg = cfgmod.resolve(given_flags(model='static', preset='port', Dn=3, nf=4), None, {})
    cfg.image_size = [16, 16]
    with tf.Graph().as_default() as g:
        f = tf.placeholder(tf.float32, [2, 16, 16, 2])
        m = tf.placeholder(tf.float32, [2, 16, 16])
        stepmod.build(cfg, f, m, f)
    kinds = _op_types(g)
    assert kinds['ApplyGradientDescent'] + kinds['ResourceApplyGradientDescent'] > 0
    assert kinds['ApplyAdam'] + kinds['ResourceApplyAdam'] == 0
    assert kinds['Sqrt'] >= 3  # the port's ||W|| regulariser, one per layer


@pytest.mark.parametrize('script,args', [
    ('test.py', ['--dc_mode', 'bogus']),
    ('ckpt_to_pb.py', ['--dc_mode', 'bogus']),
    ('train.py', ['--mask_mode', 'bogus']),
    ('train.py', ['--precision_mode', 'fp8']),
])
def test_closed_flag_values_are_one_line_and_exit_2(script, args, tmp_path):
    r = run_script(script, '--save_ckpt_Dir', str(tmp_path), *args)
    assert r.returncode == 2
    assert r.stderr.count('\n') == 1 and 'invalid choice' in r.stderr, r.stderr


def test_port_flags_are_accepted_and_named_as_ignored(tiny_data, tiny_model, tmp_path):
    d = str(tmp_path / 'ck')
    r = run_script('train.py', '--data_train_dir', tiny_data[0], '--save_ckpt_Dir', d,
                   '--batch_size', '8', '--train_steps', '1', '--model_name', 'dc',
                   '--last_checkpoint_dir_name', '/D10-C7/', *TINY_MODEL)
    assert r.returncode == 0, r.stderr
    assert 'note: --model_name, --last_checkpoint_dir_name: the port\'s flags, ignored here' \
        in r.stdout
    r = run_script('test.py', '--save_ckpt_Dir', tiny_model[0], '--data_test_dir',
                   tiny_data[1], '--random_seed', '0', '--model_name', 'dc', '--train_url',
                   str(tmp_path / 'obs'), '--last_checkpoint_dir', 'x',
                   '--last_checkpoint_dir_name', 'y', '--checkpoint_period', '10',
                   '--output_dir', str(tmp_path / 'out'))
    assert r.returncode == 0, r.stderr
    assert 'Avg PSNR: IN' in r.stdout and 'the port\'s flags, ignored here' in r.stdout
    assert not os.path.exists(str(tmp_path / 'obs'))


def test_other_ranks_need_only_the_config_of_init_checkpoint(tmp_path):
    """A rank other than 0 restores nothing: a folder holding only config.json will do."""
    cfgmod.save(str(tmp_path), OLD_CONFIG)
    dirs = ckpt.RunDirs(str(tmp_path / 'new'), init=str(tmp_path))
    saved, stale = dirs.prepare(chief=False)
    assert saved.Dn == 5 and stale == []
    with pytest.raises(InputError, match='no checkpoint in the folder'):
        dirs.prepare(chief=True)


def test_one_data_url_finder(tmp_path):
    for name in ('a_train.h5', 'a_test.hdf5', 'a_test.hdf5.partial'):
        (tmp_path / name).write_bytes(b'')
    url = str(tmp_path)
    assert ckpt.data_file(url, '', 'train').endswith('a_train.h5')
    assert ckpt.data_file(url, '', 'test').endswith('a_test.hdf5')
    assert ckpt.data_file(url, 'a_train.h5', 'train') == os.path.join(url, 'a_train.h5')
    (tmp_path / 'b_test.h5').write_bytes(b'')
    with pytest.raises(InputError, match='several test files'):
        ckpt.data_file(url, '', 'test')
    with pytest.raises(InputError, match='no such folder'):
        ckpt.data_file(str(tmp_path / 'none'), '', 'test')


def test_8p_launcher_refuses_without_npu_bridge(tmp_path):
    table = tmp_path / 'rank_table.json'
    table.write_text('{}')
    env = dict(os.environ, RANK_SIZE='2', ASCEND_DEVICE_ID='0',
               CASCADENET_OUTPUT_ROOT=str(tmp_path / 'out'))
    env.pop('PYTHONPATH', None)
    r = subprocess.run(['bash', os.path.join(ROOT, 'test', 'train_full_8p.sh'),
                        '--rank_table_file=%s' % table], cwd=ROOT, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True, timeout=120)
    assert r.returncode == 2
    assert r.stdout.strip().splitlines()[-1].startswith('[Error] no npu_bridge')
    assert 'test/train_full_dist.sh' in r.stdout
    assert not os.path.exists(str(tmp_path / 'out'))  # nothing moved or created


def test_curves_say_why_there_is_no_validation():
    with_test = ('model: preset paper, D3-C2 nf=8 dc=hard, images 32x32, 24 training images, '
                 '8 test images\n[step] step=2 epoch=1 loss=1e-2 step_time=0.1 images/sec=4\n')
    assert logparse.history(with_test)['test_data'] is True
    assert logparse.history(with_test.replace(', 8 test images', ''))['test_data'] is False


def _functions(path):
    with open(path) as f:
        tree = ast.parse(f.read())
    for n in ast.walk(tree):
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield n.name, n.lineno, getattr(n, 'end_lineno', n.lineno)


@pytest.mark.skipif(sys.version_info < (3, 8), reason='end_lineno needs Python 3.8')
def test_no_function_over_80_lines():
    """One idea per function: a reader sees each whole (tests aside)."""
    long = []
    for root, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in ('.git', 'tests', 'data', 'output') and
                   not d.startswith('.') and not d.startswith('venv')]
        for name in files:
            if name.endswith('.py'):
                p = os.path.join(root, name)
                long += ['%s:%s (%d lines)' % (os.path.relpath(p, ROOT), fn, end - start + 1)
                         for fn, start, end in _functions(p) if end - start >= 80]
    assert not long, long
