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
"""Multi-coil data through train.py, test.py and the frozen graph: the coil inputs (kspace,
coil_maps) reach the training step, validation, testing and export; the port refuses them."""
import json
import os
import re

import numpy as np

from conftest import COILS, run_script


def last_val(stdout):
    return dict((k, float(v)) for k, v in re.findall(
        r'(\w+)=([-\d.]+)', [l for l in stdout.splitlines() if l.startswith('[val]')][-1]))


def test_trains_with_the_coils_and_tests_the_same(coil_data, coil_model):
    d, out = coil_model
    assert ', %d coils, images 32x32' % COILS in out
    with open(os.path.join(d, 'config.json')) as f:
        assert json.load(f)['coils'] == COILS
    val = last_val(out)
    assert val['psnr_re'] > val['psnr_in'] + 0.3  # three epochs already beat zero-filling
    r = run_script('test.py', '--save_ckpt_Dir', d, '--data_url', coil_data,
                   '--output_dir', os.path.join(d, 'res'))
    assert r.returncode == 0, r.stderr
    re_psnr = float(re.search(r'Avg PSNR: IN [\d.]+ RE ([\d.]+)', r.stdout).group(1))
    assert abs(re_psnr - val['psnr_re']) < 1e-3  # the same graph, the same coil inputs


def test_frozen_multicoil_graph_equals_the_checkpoint(coil_data, coil_model, tmp_path):
    import tensorflow.compat.v1 as tf
    from models import ckpt, config as cfgmod, export, model_tf, pre_input
    d = coil_model[0]
    pb = str(tmp_path / 'mc.pb')
    r = run_script('ckpt_to_pb.py', '--save_ckpt_Dir', d, '--output', pb, '--batch', '2')
    assert r.returncode == 0, r.stderr
    assert 'kspace:2,%d,32,32,2' % COILS in r.stdout.replace(' ', '')
    cfg = cfgmod.load(d)
    data = pre_input.H5Data(ckpt.find_data(coil_data, 'test'))
    batch = pre_input.Batches(data, 2, shuffle=False).batch(0, 0)
    feeds = [batch[k] for k in ('feature', 'mask', 'kspace', 'coil_maps')]
    runner = export.PbRunner(export.load_pb(pb))
    assert [t.name for t in runner.inputs] == ['feature', 'mask', 'kspace', 'coil_maps']
    frozen = runner.run(feeds)[0]
    graph, _, _, pred = model_tf.build_inference_graph(cfg, batch=2)
    with graph.as_default(), tf.Session() as sess:
        tf.train.Saver(model_tf.model_variables(graph)).restore(sess, ckpt.latest(tf, d))
        ph = [graph.get_tensor_by_name(n + ':0') for n, _ in model_tf.graph_inputs(cfg)]
        direct = sess.run(pred, dict(zip(ph, feeds)))
    np.testing.assert_allclose(frozen, direct, atol=1e-5)


def test_coil_mismatch_and_port_are_one_line(coil_data, coil_model, tiny_data, tmp_path):
    r = run_script('test.py', '--save_ckpt_Dir', coil_model[0], '--data_test_dir', tiny_data[1])
    assert r.returncode == 2 and r.stderr.count('\n') == 1
    assert 'single-coil data but the model' in r.stderr and 'for %d coils' % COILS in r.stderr
    r = run_script('train.py', '--data_url', coil_data, '--preset', 'port', '--Dn', '3',
                   '--save_ckpt_Dir', str(tmp_path / 'p'))
    assert r.returncode == 2 and 'the port\'s network (--preset port) is single-coil' in r.stderr
    assert not os.path.exists(str(tmp_path / 'p'))


def step_losses(text):
    return dict((int(m.group(1)), m.group(2))
                for m in re.finditer(r'^\[step\] step=(\d+) epoch=\d+ loss=(\S+)', text, re.M))


def val_lines(text):
    return [l for l in text.splitlines() if l.startswith('[val] ')]


def test_resume_is_exact(coil_data, tmp_path):
    """4 epochs in one go, or 2 and then --continue_training to 4: the same losses, validation
    figures and checkpoint (weights, Adam's slots, step) to the bit. Random masks, so a resume
    that restarted the mask stream or the batch order (coil inputs included) would differ."""
    from models.tfv1 import tf_v1

    def train(ckpt, epochs, *extra):
        r = run_script('train.py', '--data_url', coil_data, '--save_ckpt_Dir', ckpt,
                       '--batch_size', '6', '--num_epoch', str(epochs), '--log_every', '1',
                       '--mask_mode', 'random', '--sample_n', '4', '--random_seed', '3',
                       '--Dn', '3', '--Dc', '2', '--nf', '8', *extra)
        assert r.returncode == 0, r.stderr[-2000:]
        return r.stdout

    ref = train(str(tmp_path / 'ref'), 4)
    ckpt = str(tmp_path / 'run')
    first = train(ckpt, 2)
    resumed = train(ckpt, 4, '--continue_training')
    assert 'resumed from %s at step 8' % os.path.join(ckpt, 'model-8') in resumed
    assert sorted(step_losses(ref)) == list(range(1, 17))
    assert sorted(step_losses(resumed)) == list(range(9, 17))
    both = step_losses(first)
    both.update(step_losses(resumed))
    assert both == step_losses(ref)  # as printed: the same to the last digit
    assert len(val_lines(ref)) == 4 and val_lines(first) + val_lines(resumed) == val_lines(ref)
    tf = tf_v1()
    a, b = (tf.train.load_checkpoint(os.path.join(d, 'model-16'))
            for d in (str(tmp_path / 'ref'), ckpt))
    names = sorted(a.get_variable_to_shape_map())
    assert names == sorted(b.get_variable_to_shape_map()) and len(names) > 12
    for n in names:
        np.testing.assert_array_equal(a.get_tensor(n), b.get_tensor(n), err_msg=n)
