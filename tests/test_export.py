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
"""models/export.py, ckpt_to_pb.py and view_pb.py: the frozen graph computes what the
checkpoint computes, has fixed shapes and no variables, and bad input ends in exit code 2."""
import os
import shutil

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import ckpt_to_pb
import view_pb
from conftest import run_script
from models import config as cfgmod
from models import export, pre_input


@pytest.fixture(scope='module')
def frozen(tiny_model, tmp_path_factory):
    """cascade.pb (batch 1, 32x32) frozen from tiny_model, and ckpt_to_pb's stdout."""
    import io
    from contextlib import redirect_stdout
    pb = str(tmp_path_factory.mktemp('pb') / 'cascade.pb')
    buf = io.StringIO()
    with redirect_stdout(buf):
        ckpt_to_pb.main(['--save_ckpt_Dir', tiny_model[0], '--output', pb])
    return pb, buf.getvalue()


def checkpoint_predictions(ckpt_dir, feature, mask):
    """predTst of the latest checkpoint through modelTst.meta, as test.py runs it."""
    graph = tf.Graph()
    with graph.as_default():
        saver = tf.train.import_meta_graph(os.path.join(ckpt_dir, 'modelTst.meta'))
    with tf.Session(graph=graph) as sess:
        saver.restore(sess, tf.train.latest_checkpoint(ckpt_dir))
        return sess.run('predTst:0', {'feature:0': feature, 'mask:0': mask})


def test_frozen_graph_equals_checkpoint(tiny_data, tiny_model, frozen):
    batch = pre_input.Batches(pre_input.H5Data(tiny_data[1]), 3, shuffle=False).batch(0, 0)
    want = checkpoint_predictions(tiny_model[0], batch['feature'], batch['mask'])
    runner = export.PbRunner(export.load_pb(frozen[0]))
    got = np.concatenate([runner.run([batch['feature'][j:j + 1], batch['mask'][j:j + 1]])[0]
                          for j in range(3)])
    runner.close()
    assert got.shape == want.shape == (3, 32, 32, 2)
    assert np.max(np.abs(got - want)) < 1e-5
    # The network changed its input: a pass-through graph would also "match" a broken freeze.
    assert np.max(np.abs(got - batch['feature'])) > 1e-3


def test_frozen_graph_has_fixed_shapes_and_no_variables(frozen):
    graph_def = export.load_pb(frozen[0])
    graph = export.import_graph(graph_def)
    assert export.inputs(graph) == [('feature', 'float32', (1, 32, 32, 2)),
                                    ('mask', 'float32', (1, 32, 32))]
    assert export.outputs(graph) == [('predTst', 'float32', (1, 32, 32, 2))]
    blocking, check = export.atc_flags(graph_def)
    assert blocking == []
    assert set(op for op, _, _ in check) >= {'FFT2D', 'IFFT2D'}


def test_ckpt_to_pb_prints_atc_and_msame_commands(frozen):
    pb, out = frozen
    assert ('atc --model=%s --framework=3 --input_shape="feature:1,32,32,2;mask:1,32,32" '
            '--input_format=NHWC --output=cascade_om --soc_version=Ascend310' % pb) in out
    assert 'msame --model cascade_om.om --input bins/feature,bins/mask' in out


def test_ckpt_to_pb_other_size_and_batch(tiny_model, tmp_path, capsys):
    pb = str(tmp_path / 'c.pb')
    ckpt_to_pb.main(['--save_ckpt_Dir', tiny_model[0], '--output', pb, '--image_size', '48',
                     '--batch', '2', '--soc_version', 'Ascend310P3'])
    out = capsys.readouterr().out
    assert 'feature:2,48,48,2;mask:2,48,48' in out and '--soc_version=Ascend310P3' in out
    graph = export.import_graph(export.load_pb(pb))
    assert export.outputs(graph)[0].shape == (2, 48, 48, 2)


def expect_exit2(capsys, main, argv, pattern):
    with pytest.raises(SystemExit) as e:
        main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2
    assert err.count('\n') == 1 and err.startswith('error: ')
    assert pattern in err, err


def test_ckpt_to_pb_errors(tiny_model, frozen, tmp_path, capsys):
    expect_exit2(capsys, ckpt_to_pb.main, ['--save_ckpt_Dir', str(tmp_path / 'none')],
                 'no such folder')
    bare = tmp_path / 'bare'
    bare.mkdir()
    shutil.copy(cfgmod.path(tiny_model[0]), str(bare))
    expect_exit2(capsys, ckpt_to_pb.main, ['--save_ckpt_Dir', str(bare), '--output',
                                           str(tmp_path / 'x.pb')], 'no checkpoint')
    before = os.path.getmtime(frozen[0])
    expect_exit2(capsys, ckpt_to_pb.main, ['--save_ckpt_Dir', tiny_model[0], '--output',
                                           frozen[0]], 'file exists; pass --overwrite')
    assert os.path.getmtime(frozen[0]) == before
    expect_exit2(capsys, ckpt_to_pb.main, ['--save_ckpt_Dir', tiny_model[0], '--batch', '0'],
                 '--batch must be >= 1')


def test_view_pb_lists_inputs_outputs_and_ops(frozen):
    r = run_script('view_pb.py', frozen[0])
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert '  feature float32 (1, 32, 32, 2)' in lines
    assert '  mask float32 (1, 32, 32)' in lines
    assert '  predTst float32 (1, 32, 32, 2)' in lines
    n_conv = [l for l in lines if l.split()[:1] == ['Conv2D']]
    assert n_conv and int(n_conv[0].split()[1]) == 3 * 2  # D3-C2: 3 convs per cascade
    assert any(l.startswith('ATC check: FFT2D') for l in lines)
    assert not any(l.startswith('ATC blocking') for l in lines)


def test_view_pb_flags_unfrozen_variables(tmp_path, capsys):
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [1, 4], name='feature')
        v = tf.get_variable('w', [4], initializer=tf.zeros_initializer())
        tf.identity(x + v, name='predTst')
    pb = str(tmp_path / 'unfrozen.pb')
    export.save_pb(graph.as_graph_def(), pb)
    assert view_pb.main([pb]) == 1
    assert 'ATC blocking: VariableV2' in capsys.readouterr().out


def test_view_pb_errors(tmp_path, capsys):
    expect_exit2(capsys, view_pb.main, [str(tmp_path / 'none.pb')], 'no such file')
    bad = tmp_path / 'bad.pb'
    bad.write_bytes(b'\xff\xff\xff not a graph')
    expect_exit2(capsys, view_pb.main, [str(bad)], 'not a binary TensorFlow GraphDef')
