import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from models import edge_conv, model_tf

tf.disable_v2_behavior()


@pytest.mark.parametrize('cin,cout,fn', [(16, 2, edge_conv.conv_to_few),
                                         (2, 16, edge_conv.conv_from_few)])
def test_matches_conv2d_and_its_gradients(cin, cout, fn):
    rng = np.random.default_rng(0)
    x_v = rng.standard_normal((2, 12, 9, cin)).astype(np.float32)  # H != W, odd W
    w_v = (0.3 * rng.standard_normal((3, 3, cin, cout))).astype(np.float32)
    dy_v = rng.standard_normal((2, 12, 9, cout)).astype(np.float32)
    g = tf.Graph()
    with g.as_default():
        x = tf.constant(x_v)
        w = tf.constant(w_v)
        outs = []
        for conv in (fn, lambda a, b: tf.nn.conv2d(a, b, [1, 1, 1, 1], 'SAME')):
            y = conv(x, w)
            outs.append([y] + tf.gradients(tf.reduce_sum(y * dy_v), [x, w]))
        with tf.Session() as sess:
            got, ref = sess.run(outs)
    for a, b in zip(got, ref):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, atol=1e-4 * max(1.0, np.abs(b).max()))


def test_dispatch_only_when_enabled(monkeypatch):
    def op_types(enabled):
        monkeypatch.setattr(edge_conv, 'ENABLED', enabled)
        g = tf.Graph()
        with g.as_default():
            x = tf.zeros([1, 8, 8, 2])
            h = edge_conv.conv2d(x, tf.zeros([3, 3, 2, 16]))
            h = edge_conv.conv2d(h, tf.zeros([3, 3, 16, 16]))
            edge_conv.conv2d(h, tf.zeros([3, 3, 16, 2]))
        return [op.type for op in g.get_operations()]
    assert op_types(False).count('Conv2D') == 3 and 'MatMul' not in op_types(False)
    on = op_types(True)
    assert on.count('Conv2D') == 2 and on.count('MatMul') == 1


def _train_step(cfg, enabled, monkeypatch, feature, mask, label):
    """Variables (names, shapes) and outputs, gradients of one model built with edge_conv
    `enabled`, from the same seeded initial values."""
    monkeypatch.setattr(edge_conv, 'ENABLED', enabled)
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(0)
        f = tf.constant(feature)
        m = tf.constant(mask)
        pred = model_tf.model_from_config(f, m, True, cfg)['dc%d' % cfg['Dc']]
        loss = tf.reduce_mean(tf.square(pred - label))
        var = model_tf.model_variables(g)
        grads = tf.gradients(loss, var)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            out = sess.run([pred] + grads)
    return [(v.op.name, tuple(v.shape.as_list())) for v in var], out


def test_model_same_variables_outputs_and_gradients(monkeypatch):
    cfg = {'Dn': 3, 'Dc': 2, 'nf': 16, 'dc_mode': 'hard', 'batch_norm': False,
           'share_weights': False, 'random_seed': 0, 'image_size': [16, 16]}
    rng = np.random.default_rng(1)
    feature = rng.standard_normal((2, 16, 16, 2)).astype(np.float32)
    label = rng.standard_normal((2, 16, 16, 2)).astype(np.float32)
    mask = (rng.random((2, 16, 16)) < 0.4).astype(np.float32)
    names_off, off = _train_step(cfg, False, monkeypatch, feature, mask, label)
    names_on, on = _train_step(cfg, True, monkeypatch, feature, mask, label)
    assert names_on == names_off  # checkpoint compatible
    assert len(on) == len(off) > 1
    for a, b in zip(on, off):
        np.testing.assert_allclose(a, b, atol=1e-4 * max(1.0, np.abs(b).max()))


def test_enabled_restores_and_train_exports_conv2d(tiny_model):
    assert not edge_conv.ENABLED
    with edge_conv.enabled(True):
        assert edge_conv.ENABLED
    assert not edge_conv.ENABLED
    # train.py (run in this process by the fixture, on CPU) used edge_conv for training only:
    # the exported inference graph keeps the native Conv2D of every layer.
    import os
    g = tf.Graph()
    with g.as_default():
        tf.train.import_meta_graph(os.path.join(tiny_model[0], 'modelTst.meta'))
    types = [op.type for op in g.get_operations()]
    assert types.count('Conv2D') == 3 * 2 and 'MatMul' not in types  # D3-C2
