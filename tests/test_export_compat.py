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
"""Exported models that load on the other TensorFlow: every model (paper static, port preset,
dynamic DS cascade, CRNN-MRI; tiny) frozen to a .pb and written as a SavedModel under this
stack gives the same output when the other stack's interpreter (CASCADENET_OTHER_PYTHON: the
TF 1.15 venv's python under TF 2, `python3` under TF 1.15; .ci/run sets it) loads it with
nothing but TensorFlow. Plus the rewrite that makes that possible and the SavedModel export."""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import ckpt_to_pb
from conftest import ROOT, quiet
from models import config as cfgmod
from models import export, model_tf, presets
from models.errors import InputError


def other_python():
    """CASCADENET_OTHER_PYTHON; a bare name is looked up on PATH without this interpreter's
    folder, which conftest.py puts first (so `python3` is not this venv's own)."""
    name = os.environ.get('CASCADENET_OTHER_PYTHON', '')
    if not name or os.path.dirname(name):
        return name
    here = os.path.dirname(sys.executable)
    path = os.pathsep.join(p for p in os.environ.get('PATH', '').split(os.pathsep)
                           if p and os.path.abspath(p) != here)
    return shutil.which(name, path=path) or name


OTHER = other_python()
SIZE, T = 16, 4
KINDS = ('paper', 'port', 'dynamic', 'crnn')


def tiny_config(kind):
    """config.json of a tiny model of each kind (nf 4, 16x16, dynamic T=4)."""
    cfg = dict(presets.PRESETS[presets.PORT if kind == 'port' else presets.PAPER],
               preset=presets.PORT if kind == 'port' else presets.PAPER, model='static',
               Dn=3, Dc=2, nf=4, image_size=[SIZE, SIZE], random_seed=1)
    if kind == 'dynamic':
        cfg.update(model='dynamic', frame_dist=[0, 1], frames=T)
    if kind == 'crnn':
        cfg.update(model='crnn', share_weights=True, frames=T)
    return cfg


def write_checkpoint(cfg, folder):
    """An untrained checkpoint + config.json of `cfg` in `folder`; batch-norm statistics and
    scales drawn at random so that the port's batch norm is not an identity."""
    graph, _, _, _ = model_tf.build_inference_graph(cfg)
    rng = np.random.RandomState(0)
    with graph.as_default():
        variables = model_tf.model_variables(graph)
        saver = tf.train.Saver(variables)
        init = tf.global_variables_initializer()
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        for v in variables:
            if any(k in v.op.name for k in ('gamma', 'beta', 'moving_')):
                v.load(rng.uniform(0.5, 1.5, v.shape.as_list()).astype(np.float32), sess)
        saver.save(sess, os.path.join(folder, 'model'), global_step=0)
    cfgmod.save(folder, cfg)
    return tf.train.latest_checkpoint(folder)


def tiny_inputs(cfg, batch):
    """feature (batch, [T,] H, W, 2) and mask (batch, [T,] H, W) float32, mask 1 on 1/3."""
    rng = np.random.RandomState(2)
    shape = tuple(model_tf.input_shape(cfg, batch))
    mask = (rng.uniform(size=shape) < 0.33).astype(np.float32)
    return {'feature': rng.randn(*shape + (2,)).astype(np.float32), 'mask': mask}


def run_elsewhere(python, jobs, folder):
    """Run [kind, path, inputs dict] jobs with tests/exported_runner.py under `python`:
    the outputs, in job order."""
    spec = []
    for n, (kind, path, arrays) in enumerate(jobs):
        npz, out = os.path.join(folder, 'in%d.npz' % n), os.path.join(folder, 'out%d.npy' % n)
        np.savez(npz, **arrays)
        spec.append([kind, path, npz, out])
    with open(os.path.join(folder, 'jobs.json'), 'w') as f:
        json.dump(spec, f)
    r = subprocess.run([python, os.path.join(ROOT, 'tests', 'exported_runner.py'),
                        os.path.join(folder, 'jobs.json')], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True, timeout=600,
                       env=dict(os.environ, PYTHONPATH=''))
    assert r.returncode == 0, r.stderr[-3000:]
    return [np.load(s[3]) for s in spec]


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
    """Per kind: cfg, checkpoint, frozen .pb (batch 2), SavedModel, inputs and this stack's
    output of the .pb."""
    out = {}
    for kind in KINDS:
        d = str(tmp_path_factory.mktemp('compat_' + kind))
        cfg = tiny_config(kind)
        ckpt = write_checkpoint(cfg, d)
        pb = os.path.join(d, 'cascade.pb')
        export.save_pb(export.freeze(cfg, ckpt, 2), pb)
        sm = os.path.join(d, 'saved_model')
        quiet(ckpt_to_pb.main, ['--save_ckpt_Dir', d, '--saved_model', sm])
        arrays = tiny_inputs(cfg, 2)
        runner = export.PbRunner(export.load_pb(pb))
        want = runner.run([arrays['feature'], arrays['mask']])[0]
        runner.close()
        out[kind] = dict(dir=d, cfg=cfg, pb=pb, sm=sm, inputs=arrays, want=want)
    return out


def close(got, want):
    return np.max(np.abs(got - want)) <= 1e-5 * max(1.0, np.max(np.abs(want)))


@pytest.mark.parametrize('kind', KINDS)
def test_frozen_graph_holds_no_tf2_only_attrs(exported, kind):
    graph_def = export.load_pb(exported[kind]['pb'])
    ops = set(n.op for n in graph_def.node)
    assert ('FusedBatchNormV3' in ops) == (kind == 'port')
    for node in graph_def.node:
        assert not set(node.attr) & set(export.TF2_ONLY_ATTRS.get(node.op, {})), node.name
    want = exported[kind]['want']
    assert np.max(np.abs(want - exported[kind]['inputs']['feature'])) > 1e-3  # not a pass-through


def test_tf115_rewrite_refuses_a_non_default_value():
    graph_def = tf.GraphDef()
    node = graph_def.node.add(name='bn', op='FusedBatchNormV3')
    node.attr['exponential_avg_factor'].f = 1.0
    export.tf115_compatible(graph_def)
    assert 'exponential_avg_factor' not in graph_def.node[0].attr
    graph_def.node[0].attr['exponential_avg_factor'].f = 0.5
    with pytest.raises(InputError, match='exponential_avg_factor=0.5'):
        export.tf115_compatible(graph_def)


@pytest.mark.parametrize('kind', KINDS)
def test_saved_model_equals_frozen_graph_here(exported, kind):
    e = exported[kind]
    graph = tf.Graph()
    with tf.Session(graph=graph) as sess:
        meta = tf.saved_model.loader.load(sess, ['serve'], e['sm'])
        sig = meta.signature_def[export.SIGNATURE]
        assert sorted(sig.inputs) == ['feature', 'mask'] and list(sig.outputs) == ['predTst']
        got = sess.run(sig.outputs['predTst'].name, {sig.inputs['feature'].name:
                                                     e['inputs']['feature'],
                                                     sig.inputs['mask'].name: e['inputs']['mask']})
    assert close(got, e['want'])


def test_saved_model_v2_loader(exported, tmp_path):
    """tf.saved_model.load (TF 2's loader, eager) in a fresh process of this interpreter."""
    if not hasattr(tf, 'enable_v2_behavior') or tf.__version__.startswith('1.'):
        pytest.skip('TensorFlow %s: tf.saved_model.load of TF 2 needs TensorFlow 2'
                    % tf.__version__)
    got = run_elsewhere(sys.executable, [('saved_model_v2', exported[k]['sm'],
                                          exported[k]['inputs']) for k in KINDS], str(tmp_path))
    for k, g in zip(KINDS, got):
        assert close(g, exported[k]['want']), k


def test_ckpt_to_pb_saved_model_refuses_a_non_empty_folder(exported, tmp_path, capsys):
    full = tmp_path / 'full'
    full.mkdir()
    (full / 'keep.txt').write_text('mine')
    with pytest.raises(SystemExit) as e:
        ckpt_to_pb.main(['--save_ckpt_Dir', exported['paper']['dir'], '--saved_model',
                         str(full)])
    assert e.value.code == 2
    assert 'exists and is not an empty folder' in capsys.readouterr().err
    assert os.listdir(str(full)) == ['keep.txt']


def test_exports_run_on_the_other_stack(exported, tmp_path):
    """Both exports of every model, loaded by the other TensorFlow: same output."""
    if not OTHER:
        pytest.skip('CASCADENET_OTHER_PYTHON is not set (the other stack\'s python: .ci/run '
                    'sets it), so the cross-stack check cannot run')
    probe = subprocess.run([OTHER, '-c', 'import tensorflow as tf; print(tf.__version__)'],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, env=dict(os.environ, PYTHONPATH=''))
    assert probe.returncode == 0, 'CASCADENET_OTHER_PYTHON=%s: %s' % (OTHER, probe.stderr[-500:])
    other_version = probe.stdout.strip().splitlines()[-1]
    assert other_version.split('.')[0] != tf.__version__.split('.')[0], (
        'CASCADENET_OTHER_PYTHON runs TensorFlow %s, the same major version as this one'
        % other_version)
    loader = 'saved_model_v1' if other_version.startswith('1.') else 'saved_model_v2'
    jobs = [(kind, exported[k][key], exported[k]['inputs'])
            for k in KINDS for kind, key in (('pb', 'pb'), (loader, 'sm'))]
    got = run_elsewhere(OTHER, jobs, str(tmp_path))
    for (kind, path, _), g, k in zip(jobs, got, [k for k in KINDS for _ in (0, 1)]):
        assert g.shape == exported[k]['want'].shape, path
        assert close(g, exported[k]['want']), '%s %s on TensorFlow %s' % (k, kind,
                                                                          other_version)
