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
A multi-coil model (coils = C > 0 in its Config) adds two placeholders, float32 (real, imag) as
`feature`: `kspace` (N[, T], C, H, W, 2), the acquired k-space of every coil (orthonormal,
uncentred; off-mask values are ignored), and `coil_maps` (N[, T], C, H, W, 2), the coil
sensitivities; `feature` is then their zero-filled coil combination. Single-coil graphs
(coils 0) are exactly those built before multi-coil existed.
The networks live in models/nets/, one module each: net 'cascade' is the paper's
(cascade.py: D{n}-C{k} and D{n}-C{k}(S)), 'port' the Ascend port's (port.py, `--preset port`);
model 'crnn' is CRNN-MRI (crnn.py). Their layers are in models/nets/layers.py (FFT, DC,
DS, conv block), models/nets/recurrent.py (BCRNN, CRNN-i) and models/nets/conv.py (the conv).
"""
import tensorflow.compat.v1 as tf

from models.config import as_config
from models.errors import InputError
from models.nets import cascade, crnn, port
from models.nets.cascade import SCOPE, makeModel  # noqa: F401  (the port's entry name)
from models.nets.layers import (data_consistency, data_sharing,  # noqa: F401
                                r2c, sampled_kspace)

# Variable scopes of the networks: a checkpoint holds the variables under one of these.
NET_SCOPES = (cascade.SCOPE, port.SCOPE, crnn.SCOPE)


def coil_count(cfg):
    """The number of coils C of a run configuration: 0 for single-coil data."""
    return int(as_config(cfg).coils or 0)


def model_from_config(feature, mask, train, cfg, kspace=None, coil_maps=None):
    """The network of a run configuration.

    Args:
      feature: (N[, T], H, W, 2) float32 zero-filled image (multi-coil: the coil combination).
      mask: (N[, T], H, W) float32 0/1, uncentred.
      train: True for the training graph (batch statistics in batch norm).
      cfg: models.config.Config, or a config.json dict.
      kspace, coil_maps: multi-coil only, (N[, T], C, H, W, 2) float32 as the placeholders of
        build_inference_graph; the port's network refuses them (InputError).
    Returns:
      The networks' dict: 'dc<i>' the output of cascade (iteration) i = 1..Dc, 'dc0' the
      input, 'cnn<i>' each CNN's output, 'k0' the acquired samples. CRNN-MRI for model
      'crnn', the port's for net 'port', else makeModel.
    The config's init ('ref', 'he' or 'uniform') initialises the cascade's convs; config.json
    files without it are 'he', what they were trained from. CRNN-MRI and the port keep their
    own initialisation whatever it says (CRNN-MRI: the reference's for its recurrent kernels,
    He's for its output conv, which trained better here than the reference's,
    docs/quality.md; the port: Glorot).
    """
    cfg = as_config(cfg)
    seed = cfg.random_seed
    coil_args = {}
    if kspace is not None or coil_maps is not None:
        if cfg.net == 'port':
            raise InputError('the port\'s network (--preset port) is single-coil: multi-coil '
                             'data (%d coils) needs the paper\'s cascade or CRNN-MRI'
                             % coil_count(cfg))
        coil_args = {'kspace': r2c(kspace), 'coil_maps': r2c(coil_maps)}
    if cfg.model == 'crnn':
        return crnn.crnn_mri(feature, mask, train, Dn=cfg.Dn, Dc=cfg.Dc, nf=cfg.nf,
                             dc_mode=cfg.dc_mode, seed=seed, **coil_args)
    if cfg.net == 'port':
        return port.makeModel(feature, mask, train, Dn=cfg.Dn, Dc=cfg.Dc, nf=cfg.nf, seed=seed)
    return makeModel(feature, mask, train, Dn=cfg.Dn, Dc=cfg.Dc, nf=cfg.nf,
                     dc_mode=cfg.dc_mode, batch_norm=cfg.batch_norm,
                     share_weights=cfg.share_weights, seed=seed,
                     frame_dist=cfg.frame_dist if cfg.model == 'dynamic' else None,
                     init=cfg.init, **coil_args)


def reconstruction(feature, mask, train, cfg, kspace=None, coil_maps=None):
    """The model's reconstruction (N[, T], H, W, 2): the output of its last cascade."""
    cfg = as_config(cfg)
    return model_from_config(feature, mask, train, cfg, kspace, coil_maps)[cfg.output_key]


def input_shape(cfg, batch=None, height=None, width=None, frames=None):
    """The `mask` placeholder's shape: [batch, H, W], or [batch, T, H, W] for a dynamic model
    (T fixed: the config's frames unless given); `feature` adds a trailing 2."""
    cfg = as_config(cfg)
    h = height or cfg.image_size[0]
    w = width or cfg.image_size[1]
    if cfg.dynamic:
        return [batch, frames or cfg.frames, h, w]
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


def placeholders(cfg, batch=None, height=None, width=None, frames=None, coils=None):
    """The graph contract's inputs in the default graph, in feed order: `feature`
    (batch[, T], H, W, 2) and `mask` (batch[, T], H, W) float32, and for a multi-coil model
    `kspace` and `coil_maps` (graph_inputs)."""
    return [tf.placeholder(tf.float32, shape, name=name)
            for name, shape in graph_inputs(cfg, batch, height, width, frames, coils)]


def build_inference_graph(cfg, batch=None, height=None, width=None, frames=None, coils=None):
    """A fresh graph with placeholders `feature` (batch, H, W, 2) and `mask` (batch, H, W)
    and the output `predTst` (batch, H, W, 2); for a dynamic model (batch, T, H, W, 2),
    (batch, T, H, W) and (batch, T, H, W, 2). With C coils (`coils`, else the config's) also
    `kspace` and `coil_maps` (graph_inputs), found by name in the graph.
    Returns (graph, feature, mask, predTst)."""
    graph = tf.Graph()
    with graph.as_default():
        ph = placeholders(cfg, batch, height, width, frames, coils)
        pred = tf.identity(reconstruction(ph[0], ph[1], False, cfg, *ph[2:]), name='predTst')
    return graph, ph[0], ph[1], pred


def model_variables(graph=None):
    """The variables a checkpoint must hold to run the model (weights + batch-norm stats):
    every global variable under one of NET_SCOPES."""
    graph = graph or tf.get_default_graph()
    return [v for scope in NET_SCOPES
            for v in graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES, scope=scope + '/')]
