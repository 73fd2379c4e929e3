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
A multi-coil model (cfg 'coils' = C > 0) adds two placeholders, float32 (real, imag) as
`feature`: `kspace` (N[, T], C, H, W, 2), the acquired k-space of every coil (orthonormal,
uncentred; off-mask values are ignored), and `coil_maps` (N[, T], C, H, W, 2), the coil
sensitivities; `feature` is then their zero-filled coil combination. Single-coil graphs
(cfg without 'coils', or 0) are exactly those built before multi-coil existed.
The networks live in models/nets/, one module each: cfg['net'] 'cascade' is the paper's
(cascade.py: D{n}-C{k} and D{n}-C{k}(S)), 'port' the Ascend port's (port.py, `--preset port`);
cfg['model'] 'crnn' is CRNN-MRI (crnn.py). Their layers are in models/nets/layers.py (FFT, DC,
DS, conv block), models/nets/recurrent.py (BCRNN, CRNN-i) and models/nets/conv.py (the conv).
"""
import tensorflow.compat.v1 as tf

from models.config import is_dynamic
from models.errors import InputError
from models.nets import cascade, crnn, port
from models.nets.cascade import SCOPE, makeModel  # noqa: F401  (the port's entry name)
from models.nets.layers import (data_consistency, data_sharing,  # noqa: F401
                                r2c, sampled_kspace)

# Variable scopes of the networks: a checkpoint holds the variables under one of these.
NET_SCOPES = (cascade.SCOPE, port.SCOPE, crnn.SCOPE)


def coil_count(cfg):
    """The number of coils C of a run configuration: 0 (or absent) for single-coil data. The one
    place the graph code reads the multi-coil setting."""
    return int(cfg.get('coils', 0) or 0)


def model_from_config(feature, mask, train, cfg, kspace=None, coil_maps=None):
    """The network of a saved run configuration (models.config): CRNN-MRI for cfg['model']
    'crnn' (nd = Dn, nc = Dc), the port's for cfg['net'] 'port' (config.json files without
    'net' are the paper's cascade), else makeModel. All return the same dict of outputs.
    Multi-coil: kspace and coil_maps (N[, T], C, H, W, 2) float32, as the placeholders of
    build_inference_graph; the port's network refuses them (InputError)."""
    coil_args = {}
    if kspace is not None or coil_maps is not None:
        if cfg.get('net', 'cascade') == 'port':
            raise InputError('the port\'s network (--preset port) is single-coil: multi-coil '
                             'data (%d coils) needs the paper\'s cascade or CRNN-MRI'
                             % coil_count(cfg))
        coil_args = {'kspace': r2c(kspace), 'coil_maps': r2c(coil_maps)}
    if cfg.get('model') == 'crnn':
        return crnn.crnn_mri(feature, mask, train, nd=cfg['Dn'], nc=cfg['Dc'], nf=cfg['nf'],
                             dc_mode=cfg['dc_mode'], seed=cfg.get('random_seed'), **coil_args)
    if cfg.get('net', 'cascade') == 'port':
        return port.makeModel(feature, mask, train, nLayers=cfg['Dn'], K=cfg['Dc'],
                              nf=cfg['nf'], seed=cfg.get('random_seed'))
    dynamic = cfg.get('model', 'static') == 'dynamic'
    return makeModel(feature, mask, train, nLayers=cfg['Dn'], K=cfg['Dc'], nf=cfg['nf'],
                     dc_mode=cfg['dc_mode'], batch_norm=cfg['batch_norm'],
                     share_weights=cfg['share_weights'], seed=cfg.get('random_seed'),
                     frame_dist=cfg.get('frame_dist') if dynamic else None, **coil_args)


def input_shape(cfg, batch=None, height=None, width=None, frames=None):
    """The `mask` placeholder's shape: [batch, H, W], or [batch, T, H, W] for a dynamic model
    (T fixed: cfg['frames'] unless given); `feature` adds a trailing 2."""
    h = height or cfg['image_size'][0]
    w = width or cfg['image_size'][1]
    if is_dynamic(cfg):
        return [batch, frames or cfg['frames'], h, w]
    return [batch, h, w]


def graph_inputs(cfg, batch=None, height=None, width=None, frames=None, coils=None):
    """The inference graph's placeholders in feed order, [(name, shape)]: feature, mask and,
    for C coils (`coils`, else cfg's), kspace and coil_maps [batch(, T), C, H, W, 2]: what
    an ATC --input_shape lists."""
    shape = input_shape(cfg, batch, height, width, frames)
    inputs = [('feature', shape + [2]), ('mask', shape)]
    c = coil_count(cfg) if coils is None else int(coils)
    if c > 0:
        coil_shape = shape[:-2] + [c] + shape[-2:] + [2]
        inputs += [('kspace', coil_shape), ('coil_maps', coil_shape)]
    return inputs


def build_inference_graph(cfg, batch=None, height=None, width=None, frames=None, coils=None):
    """A fresh graph with placeholders `feature` (batch, H, W, 2) and `mask` (batch, H, W)
    and the output `predTst` (batch, H, W, 2); for a dynamic model (batch, T, H, W, 2),
    (batch, T, H, W) and (batch, T, H, W, 2). With C coils (`coils`, else cfg['coils']) also
    `kspace` and `coil_maps` (graph_inputs), found by name in the graph.
    Returns (graph, feature, mask, predTst)."""
    inputs = graph_inputs(cfg, batch, height, width, frames, coils)
    graph = tf.Graph()
    with graph.as_default():
        ph = [tf.placeholder(tf.float32, shape, name=name) for name, shape in inputs]
        out = model_from_config(ph[0], ph[1], False, cfg, *ph[2:])
        pred = tf.identity(out['dc%d' % cfg['Dc']], name='predTst')
    return graph, ph[0], ph[1], pred


def model_variables(graph=None):
    """The variables a checkpoint must hold to run the model (weights + batch-norm stats):
    every global variable under one of NET_SCOPES."""
    graph = graph or tf.get_default_graph()
    return [v for scope in NET_SCOPES
            for v in graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES, scope=scope + '/')]
