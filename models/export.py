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
"""Freezing the inference graph to a .pb for ATC (loadable on TensorFlow 1.15 wherever it was
frozen), writing it as a SavedModel, inspecting a .pb, and running one on the CPU.

The frozen graph keeps the graph contract (docs/model.md): Placeholder inputs `feature` (B, H, W, 2)
float32 and `mask` (B, H, W) float32, output `predTst` (B, H, W, 2) float32, with B, H and W
fixed at freezing time because ATC needs static shapes. Everything here reads shapes and names
from the graph itself, so a dynamic model (inputs `feature` (B, T, H, W, 2), `mask` (B, T, H, W),
output (B, T, H, W, 2), T fixed at freezing from config.json's `frames`) goes through the same
code.
"""
import collections
import os
import shutil

import numpy as np
import tensorflow.compat.v1 as tf
from google.protobuf.message import DecodeError

from models import model_tf
from models.errors import InputError, first_line

OUTPUT = 'predTst'
SIGNATURE = 'serving_default'  # of the SavedModel (saved_model)

# Ops that must not reach ATC. This is OUR list, written from what the ops do, not an official
# Huawei list: host-side Python, variables (a frozen graph has none: they mean freezing failed)
# and checkpoint/logging I/O have no place in an offline model. The authority for what a given
# CANN version converts is its operator support list and ATC's own log.
ATC_BLOCKING = dict(
    [(op, 'runs Python on the host; an offline model cannot contain it')
     for op in ('PyFunc', 'PyFuncStateless', 'EagerPyFunc')] +
    [(op, 'a variable: the graph is not frozen (variables must be folded to constants)')
     for op in ('Variable', 'VariableV2', 'VarHandleOp', 'ReadVariableOp', 'Assign',
                'AssignVariableOp', 'AssignAdd', 'AssignSub')] +
    [(op, 'checkpoint or logging I/O, not inference')
     for op in ('SaveV2', 'RestoreV2', 'Save', 'Restore', 'Print', 'PrintV2')])

# Ops on complex64 tensors. The Ascend AI Core has no complex data type, so whether ATC converts
# these depends on the CANN version (AI CPU kernels). The Ascend ModelZoo port of this model
# (CascadeNet_ID2121_for_TensorFlow, README) reports converting a graph with FFT2D/IFFT2D and
# complex tensors for Ascend310 and running it with msame; we have NOT run ATC ourselves, so these
# are flagged for checking, not as errors.
ATC_CHECK = dict(
    (op, 'complex64 op: not an AI Core type; check ATC\'s log for your CANN version')
    for op in ('FFT', 'IFFT', 'FFT2D', 'IFFT2D', 'FFT3D', 'IFFT3D', 'Complex', 'Real', 'Imag',
               'ComplexAbs', 'Conj', 'Angle'))
# Ops of the dynamic (2D+t) graph, or ops one might write for it, whose ATC conversion nobody
# here has verified: the ModelZoo port only converted the 2-D graph (Conv2D). Our DS layer shifts
# frames with StridedSlice + ConcatV2 (models.nets.layers._roll_time), not tf.roll, so a frozen
# dynamic
# graph holds no Roll; Roll is listed so that a graph which does use it gets flagged.
ATC_CHECK.update({
    'Conv3D': '3-D convolution (dynamic model): ATC conversion not verified by us (the ModelZoo '
              'port converted only the 2-D Conv2D graph); check the operator list / ATC log',
    'Roll': 'tf.roll: ATC support not verified by us; models.nets.layers._roll_time avoids it',
})

# Attributes TensorFlow 2.x writes that TensorFlow 1.15 (the Ascend image's, where ATC runs)
# does not know, with the default value under which leaving them out changes nothing. Found by
# comparing the registered OpDefs of TF 1.15.5 and TF 2.21 for every op our four graphs hold
# (AddV2, Complex, ConcatV2, Const, Conv2D, Conv3D, FFT2D, IFFT2D, Fill, FusedBatchNormV3,
# Identity, Imag, Maximum, Mul, Pack, Placeholder, Real, RealDiv, Relu, Reshape, StridedSlice,
# Sub): only this one differs, and no default differs. TF 1.15 refuses a node carrying it
# ("NodeDef mentions attr 'exponential_avg_factor' not in Op<name=FusedBatchNormV3>").
TF2_ONLY_ATTRS = {
    'FusedBatchNormV3': {'exponential_avg_factor': 1.0},  # 1.0: plain batch statistics
}


def _restore(graph, sess, ckpt):
    """Restore the model variables of `graph` from `ckpt` into `sess`."""
    with graph.as_default():
        saver = tf.train.Saver(model_tf.model_variables(graph))
    try:
        saver.restore(sess, ckpt)
    except (tf.errors.NotFoundError, tf.errors.InvalidArgumentError,
            tf.errors.DataLossError) as e:
        raise InputError('%s: cannot restore (%s)' % (ckpt, first_line(e)))


def freeze(cfg, ckpt, batch=1, height=None, width=None):
    """Restore checkpoint `ckpt` into a fresh inference graph with inputs fixed to
    (batch, H, W, ...) and fold its variables to constants. Returns a GraphDef whose only
    output is `predTst`, importable on TensorFlow 1.15 (tf115_compatible)."""
    graph, _, _, _ = model_tf.build_inference_graph(cfg, batch, height, width)
    with tf.Session(graph=graph) as sess:
        _restore(graph, sess, ckpt)
        graph_def = tf.graph_util.convert_variables_to_constants(
            sess, graph.as_graph_def(), [OUTPUT])
    return tf115_compatible(graph_def)


def tf115_compatible(graph_def):
    """Remove the TF2_ONLY_ATTRS holding their default from every node of `graph_def` (in
    place; returned too), so that TensorFlow 1.15 imports a graph frozen under 2.x with the
    same result. A node holding another value cannot be written for TF 1.15: InputError."""
    for node in graph_def.node:
        for attr, default in TF2_ONLY_ATTRS.get(node.op, {}).items():
            if attr not in node.attr:
                continue
            value = getattr(node.attr[attr], node.attr[attr].WhichOneof('value'))
            if value != default:
                raise InputError('node %s (%s) has %s=%r; TensorFlow 1.15 only runs the '
                                 'default %r' % (node.name, node.op, attr, value, default))
            del node.attr[attr]
    return graph_def


def saved_model(cfg, ckpt, path, height=None, width=None):
    """Write checkpoint `ckpt` as a SavedModel in folder `path` (which must not exist or be
    empty; written beside it as path.partial and renamed): tag 'serve', signature
    SIGNATURE with inputs `feature` (N, H, W, 2) and `mask` (N, H, W) float32 (dynamic: T after
    N; multi-coil: also `kspace` and `coil_maps`, model_tf.graph_inputs), N free, H, W (and T)
    fixed, output `predTst` (N, H, W, 2) float32. Attributes holding
    their default are left out (strip_default_attrs), so TensorFlow 1.15 loads a SavedModel
    written under 2.x."""
    graph, _, _, pred = model_tf.build_inference_graph(cfg, None, height, width)
    inputs = dict((name, graph.get_tensor_by_name(name + ':0'))
                  for name, _ in model_tf.graph_inputs(cfg))
    tmp = path.rstrip(os.sep) + '.partial'
    if os.path.isdir(tmp):
        shutil.rmtree(tmp)  # ours: left by an interrupted export
    with tf.Session(graph=graph) as sess:
        _restore(graph, sess, ckpt)
        with graph.as_default():
            builder = tf.saved_model.builder.SavedModelBuilder(tmp)
            signature = tf.saved_model.signature_def_utils.predict_signature_def(
                inputs, {OUTPUT: pred})
            builder.add_meta_graph_and_variables(
                sess, [tf.saved_model.tag_constants.SERVING],
                signature_def_map={SIGNATURE: signature}, strip_default_attrs=True)
            builder.save()
    if os.path.isdir(path):
        os.rmdir(path)  # empty (checked by the caller): the finished export takes its name
    os.rename(tmp, path)
    return path


def save_pb(graph_def, path):
    """Write a GraphDef atomically (a partial .pb never takes the final name)."""
    tmp = path + '.partial'
    with open(tmp, 'wb') as f:
        f.write(graph_def.SerializeToString())
    os.replace(tmp, path)


def load_pb(path):
    """Read a binary GraphDef; a missing or unparsable file is an InputError."""
    if not os.path.isfile(path):
        raise InputError('%s: no such file' % path)
    with open(path, 'rb') as f:
        data = f.read()
    graph_def = tf.GraphDef()
    try:
        graph_def.ParseFromString(data)
    except DecodeError as e:
        raise InputError('%s: not a binary TensorFlow GraphDef (.pb) (%s)' % (path, e))
    if not graph_def.node:
        raise InputError('%s: empty graph (no nodes)' % path)
    return graph_def


def import_graph(graph_def, where='graph'):
    """GraphDef -> tf.Graph with the nodes under their own names (no 'import/' prefix)."""
    graph = tf.Graph()
    with graph.as_default():
        try:
            tf.import_graph_def(graph_def, name='')
        except (ValueError, tf.errors.InvalidArgumentError, tf.errors.NotFoundError) as e:
            raise InputError('%s: cannot import the graph (%s)' % (where, first_line(e)))
    return graph


Tensor = collections.namedtuple('Tensor', 'name dtype shape')


def _tensor_info(t):
    dims = t.shape.as_list() if t.shape.dims is not None else None
    return Tensor(t.name.split(':')[0] if t.name.endswith(':0') else t.name, t.dtype.name,
                  None if dims is None else tuple(-1 if d is None else d for d in dims))


def inputs(graph):
    """Placeholders in graph order, as Tensor(name, dtype, shape); unknown dims are -1."""
    return [_tensor_info(op.outputs[0]) for op in graph.get_operations()
            if op.type == 'Placeholder']


def outputs(graph):
    """The outputs of ops no op consumes anything of (Const/NoOp/Placeholder aside), as Tensor
    tuples. An op some of whose outputs are used is inside the graph: the unused batch mean and
    variance of an inference-mode FusedBatchNorm are not graph outputs."""
    used = set(t.op.name for op in graph.get_operations() for t in op.inputs)
    return [_tensor_info(t) for op in graph.get_operations()
            if op.type not in ('Const', 'NoOp', 'Placeholder') and op.name not in used
            for t in op.outputs]


def op_counts(graph_def):
    """{op type: number of nodes}, most frequent first."""
    return collections.Counter(n.op for n in graph_def.node).most_common()


def atc_flags(graph_def):
    """(blocking, check): lists of (op type, count, reason) for ops of ATC_BLOCKING and
    ATC_CHECK present in the graph."""
    counts = dict(op_counts(graph_def))
    blocking = [(op, counts[op], ATC_BLOCKING[op]) for op in sorted(counts) if op in ATC_BLOCKING]
    check = [(op, counts[op], ATC_CHECK[op]) for op in sorted(counts) if op in ATC_CHECK]
    return blocking, check


def atc_command(pb_path, graph_inputs, soc_version='Ascend310', output=None):
    """The ATC command line converting `pb_path` with the graph's own input shapes."""
    shapes = ';'.join('%s:%s' % (t.name, ','.join(str(d) for d in t.shape)) for t in graph_inputs)
    out = output or os.path.splitext(os.path.basename(pb_path))[0] + '_om'
    return ('atc --model=%s --framework=3 --input_shape="%s" --input_format=NHWC '
            '--output=%s --soc_version=%s' % (pb_path, shapes, out, soc_version))


def msame_command(om_path, input_dirs, output_dir):
    """The msame command line for an .om and one input folder per graph input (graph order)."""
    return ('msame --model %s --input %s --output %s --outfmt BIN'
            % (om_path, ','.join(input_dirs), output_dir))


class PbRunner(object):
    """Runs a frozen GraphDef on numpy inputs, on whatever device TF picks (the CPU here)."""

    def __init__(self, graph_def, output_names=None, where='graph'):
        self.graph = import_graph(graph_def, where)
        self.inputs = inputs(self.graph)
        if not self.inputs:
            raise InputError('%s: the graph has no Placeholder inputs' % where)
        names = output_names or [t.name for t in outputs(self.graph)]
        try:
            self._fetch = [self.graph.get_tensor_by_name(n if ':' in n else n + ':0')
                           for n in names]
        except (KeyError, ValueError) as e:
            raise InputError('%s: no output %s' % (where, first_line(e)))
        self.outputs = [_tensor_info(t) for t in self._fetch]
        self._feed = [self.graph.get_tensor_by_name(t.name + ':0') for t in self.inputs]
        self.sess = tf.Session(graph=self.graph)

    def run(self, arrays):
        """arrays: one numpy array per input, in `self.inputs` order -> list of outputs."""
        return self.sess.run(self._fetch, dict(zip(self._feed, arrays)))

    def close(self):
        self.sess.close()


def file_shape(tensor, n_values, where):
    """The shape of one input file's data for graph input `tensor`: its static shape, with an
    unknown leading (batch) dimension taken from the file size."""
    shape = list(tensor.shape)
    if any(d < 0 for d in shape[1:]):
        raise InputError('%s: input %s has unknown dimensions %s; freeze it with fixed shapes '
                         '(ckpt_to_pb.py)' % (where, tensor.name, tensor.shape))
    per_item = int(np.prod(shape[1:]))
    if shape and shape[0] < 0:
        if n_values % per_item:
            raise InputError('%s: %d float32 values is not a whole number of %s items of input %s'
                             % (where, n_values, tuple(shape[1:]), tensor.name))
        shape[0] = n_values // per_item
    return tuple(shape)
