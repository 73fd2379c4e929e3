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
"""The networks' entry point (the name the Ascend port's users know): build a model from a saved
run configuration, and the inference graph that test.py, ckpt_to_pb.py and ATC use.

Graph contract: placeholders `feature` (N, H, W, 2) float32 zero-filled image and `mask`
(N, H, W) float32, output `predTst` (N, H, W, 2); a dynamic model (the DS cascade or CRNN-MRI)
adds T after N.
The networks live in models/nets/, one module each: cfg['net'] 'cascade' is the paper's
(cascade.py: D{n}-C{k} and D{n}-C{k}(S)), 'port' the Ascend port's (port.py, `--preset port`);
cfg['model'] 'crnn' is CRNN-MRI (crnn.py). Their layers are in models/nets/layers.py (FFT, DC,
DS, conv block), models/nets/recurrent.py (BCRNN, CRNN-i) and models/nets/conv.py (the conv).
"""
import tensorflow.compat.v1 as tf

from models.config import INIT_UNSET, is_dynamic
from models.nets import cascade, crnn, port
from models.nets.cascade import SCOPE, makeModel  # noqa: F401  (the port's entry name)
from models.nets.layers import (data_consistency, data_sharing,  # noqa: F401
                                sampled_kspace)

# Variable scopes of the networks: a checkpoint holds the variables under one of these.
NET_SCOPES = (cascade.SCOPE, port.SCOPE, crnn.SCOPE)


def model_from_config(feature, mask, train, cfg):
    """The network of a saved run configuration (models.config): CRNN-MRI for cfg['model']
    'crnn' (nd = Dn, nc = Dc), the port's for cfg['net'] 'port' (config.json files without
    'net' are the paper's cascade), else makeModel. All return the same dict of outputs.
    cfg['init'] ('ref' or 'he') initialises the cascade's conv kernels; files without it are
    'he', what they were trained from. CRNN-MRI and the port keep their own initialisation
    whatever cfg['init'] says (CRNN-MRI: the reference's for its recurrent kernels, He's for
    its output conv, which trained better here than the reference's, docs/quality.md; the
    port: Glorot)."""
    init = cfg.get('init', INIT_UNSET)
    if cfg.get('model') == 'crnn':
        return crnn.crnn_mri(feature, mask, train, nd=cfg['Dn'], nc=cfg['Dc'], nf=cfg['nf'],
                             dc_mode=cfg['dc_mode'], seed=cfg.get('random_seed'))
    if cfg.get('net', 'cascade') == 'port':
        return port.makeModel(feature, mask, train, nLayers=cfg['Dn'], K=cfg['Dc'],
                              nf=cfg['nf'], seed=cfg.get('random_seed'))
    dynamic = cfg.get('model', 'static') == 'dynamic'
    return makeModel(feature, mask, train, nLayers=cfg['Dn'], K=cfg['Dc'], nf=cfg['nf'],
                     dc_mode=cfg['dc_mode'], batch_norm=cfg['batch_norm'],
                     share_weights=cfg['share_weights'], seed=cfg.get('random_seed'),
                     frame_dist=cfg.get('frame_dist') if dynamic else None, init=init)


def input_shape(cfg, batch=None, height=None, width=None, frames=None):
    """The `mask` placeholder's shape: [batch, H, W], or [batch, T, H, W] for a dynamic model
    (T fixed: cfg['frames'] unless given); `feature` adds a trailing 2."""
    h = height or cfg['image_size'][0]
    w = width or cfg['image_size'][1]
    if is_dynamic(cfg):
        return [batch, frames or cfg['frames'], h, w]
    return [batch, h, w]


def build_inference_graph(cfg, batch=None, height=None, width=None, frames=None):
    """A fresh graph with placeholders `feature` (batch, H, W, 2) and `mask` (batch, H, W)
    and the output `predTst` (batch, H, W, 2); for a dynamic model (batch, T, H, W, 2),
    (batch, T, H, W) and (batch, T, H, W, 2). Returns (graph, feature, mask, predTst)."""
    shape = input_shape(cfg, batch, height, width, frames)
    graph = tf.Graph()
    with graph.as_default():
        feature = tf.placeholder(tf.float32, shape + [2], name='feature')
        mask = tf.placeholder(tf.float32, shape, name='mask')
        out = model_from_config(feature, mask, False, cfg)
        pred = tf.identity(out['dc%d' % cfg['Dc']], name='predTst')
    return graph, feature, mask, pred


def model_variables(graph=None):
    """The variables a checkpoint must hold to run the model (weights + batch-norm stats):
    every global variable under one of NET_SCOPES."""
    graph = graph or tf.get_default_graph()
    return [v for scope in NET_SCOPES
            for v in graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES, scope=scope + '/')]
