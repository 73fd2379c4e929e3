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
"""Freeze the latest checkpoint of a training folder to a .pb for ATC.

  python ckpt_to_pb.py --save_ckpt_Dir save_ckpt --output cascade.pb [--image_size H [W]]
                       [--batch 1] [--soc_version Ascend310] [--overwrite]
  python ckpt_to_pb.py --save_ckpt_Dir save_ckpt --saved_model DIR [--image_size H [W]]

Rebuilds the inference graph from config.json with the input shapes fixed (ATC needs static
shapes): `feature` (batch, H, W, 2) float32, `mask` (batch, H, W) float32 -> `predTst`
(batch, H, W, 2). H, W default to the training size. A dynamic (2D+t) model gets `feature`
(batch, T, H, W, 2), `mask` (batch, T, H, W) -> `predTst` (batch, T, H, W, 2), T = the
training data's frame count (config.json `frames`). A multi-coil model (config.json `coils` C)
adds `kspace` and `coil_maps` (batch[, T], C, H, W, 2) float32 after `mask`, in that order
(models.model_tf.graph_inputs). Prints the ATC and msame commands for it.
A folder of the Ascend port's own checkpoints (no config.json) is frozen with --preset port,
--image_size and, if it is not D11-C5, --Dn/--Dc.
"""
import os
import sys

from models import ckpt as ckpt_mod
from models import flags
from models.errors import ArgumentParser, InputError, bool_flag, exit_on_input_error
from models.tfv1 import tf_v1


def parse_args(argv):
    p = ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--save_ckpt_Dir', default='./save_ckpt', help='folder written by train.py')
    p.add_argument('--output', default='cascade.pb', help='the .pb to write')
    p.add_argument('--image_size', type=int, nargs='+', default=None, metavar='H [W]',
                   help='input size fixed in the graph (default: the training size)')
    p.add_argument('--batch', type=int, default=1, help='batch size fixed in the graph')
    p.add_argument('--soc_version', default='Ascend310', help='for the printed ATC command')
    flags.add_model_flags(p, saved=True)
    bool_flag(p, 'overwrite', False, 'replace an existing --output')
    p.add_argument('--saved_model', default=None, metavar='DIR',
                   help='write a SavedModel (signature serving_default: feature, mask -> '
                   'predTst; any batch) to DIR, which must not exist or be empty, instead of '
                   'the .pb')
    a = p.parse_args(argv)
    flags.check_model_flags(p, a)
    if a.batch < 1:
        p.error('--batch must be >= 1')
    return a


def load(a):
    """The model's Config; for a folder without config.json (the port's checkpoints) the
    --preset model with --image_size."""
    d = a.save_ckpt_Dir
    cfg, from_file = ckpt_mod.load_model_config(d, a.preset, flags.given(a, flags.MODEL_KEYS),
                                                flags.image_size(a))
    if not from_file and a.image_size is None:
        raise InputError('%s has no %s: give --image_size H [W], the size to fix in the graph'
                         % (d, 'config.json'))
    return cfg


def check_output(a):
    """--output must be new (or --overwrite) in an existing folder."""
    if os.path.exists(a.output) and not a.overwrite:
        raise InputError('--output %s: file exists; pass --overwrite to replace it' % a.output)
    out_dir = os.path.dirname(a.output)
    if out_dir and not os.path.isdir(out_dir):
        raise InputError('--output %s: folder %s does not exist' % (a.output, out_dir))


def print_commands(a, cfg, export, ins, h, w):
    """The ATC and msame commands for the frozen graph, and notes on its shapes."""
    if (h, w) != tuple(cfg.image_size):
        print('note: fixed to %dx%d; the model was trained on %dx%d images'
              % (h, w, cfg.image_size[0], cfg.image_size[1]))
    om = os.path.splitext(os.path.basename(a.output))[0] + '_om'
    print('ATC command:')
    print('  ' + export.atc_command(a.output, ins, a.soc_version, om))
    print('msame command (inputs from image_to_bin.py, in graph input order):')
    print('  ' + export.msame_command(om + '.om', ['bins/' + t.name for t in ins], 'msame_out'))
    if cfg.dynamic:
        # Conv3D's TF layout is NDHWC; whether ATC wants --input_format=NDHWC for this graph
        # (5-D feature, 4-D mask) has not been tried on a CANN install here.
        print('note: dynamic model, T=%d frames fixed in the graph; ATC may need '
              '--input_format=NDHWC for the 5-D input (not verified)' % cfg.frames)
    if cfg.coils:
        # image_to_bin.py writes the four folders under these names, in this order.
        print('note: multi-coil model (%d coils): 4 inputs in this order, kspace and coil_maps '
              '%d-D (batch%s, C, H, W, 2); ATC conversion of this graph not verified'
              % (cfg.coils, 6 if cfg.dynamic else 5, ', T' if cfg.dynamic else ''))
    if a.batch > 1:
        print('note: with --batch %d each msame input file must hold %d images; image_to_bin.py '
              'writes one image per file' % (a.batch, a.batch))


@exit_on_input_error
def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    cfg = load(a)
    if a.saved_model is not None:
        return saved_model(a, cfg)
    check_output(a)
    tf = tf_v1()
    from models import export
    found = ckpt_mod.require_latest(tf, a.save_ckpt_Dir)
    h, w = flags.image_size(a) or cfg.image_size
    graph_def = export.freeze(cfg, found, a.batch, h, w)
    export.save_pb(graph_def, a.output)
    graph = export.import_graph(graph_def, a.output)
    ins, outs = export.inputs(graph), export.outputs(graph)
    print('froze %s (%s nf=%d) -> %s: %d nodes, %d KB'
          % (found, cfg.name, cfg.nf, a.output, len(graph_def.node),
             os.path.getsize(a.output) // 1024))
    for tag, ts in (('input', ins), ('output', outs)):
        for t in ts:
            print('  %s %s %s %s' % (tag, t.name, t.dtype, t.shape))
    print_commands(a, cfg, export, ins, h, w)
    return a.output


def saved_model(a, cfg):
    """--saved_model DIR: the checkpoint as a SavedModel (models.export.saved_model)."""
    out = a.saved_model
    if os.path.exists(out) and not (os.path.isdir(out) and not os.listdir(out)):
        raise InputError('--saved_model %s: exists and is not an empty folder; give a new one'
                         % out)
    tf = tf_v1()
    from models import export
    found = ckpt_mod.require_latest(tf, a.save_ckpt_Dir)
    h, w = flags.image_size(a) or cfg.image_size
    export.saved_model(cfg, found, out, h, w)
    print('saved %s (%s nf=%d) -> SavedModel %s: tag serve, signature %s: %s -> %s, input size '
          '%dx%d, any batch' % (found, cfg.name, cfg.nf, out, export.SIGNATURE,
                                ', '.join(n for n, _ in export.model_tf.graph_inputs(cfg)),
                                export.OUTPUT, h, w))
    return out


if __name__ == '__main__':
    main()
