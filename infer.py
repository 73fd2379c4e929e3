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
"""Reconstruct undersampled data that has no reference, with a trained model or a frozen graph.

  python infer.py --save_ckpt_Dir save_ckpt --input FILE_OR_FOLDER [...] --output_dir recon
  python infer.py --pb cascade.pb --input FILE_OR_FOLDER [...] --output_dir recon
                  [--batch_size 4] [--formats h5 nifti png] [--input_scale auto|stored|zf_max]
                  [--peak P] [--overwrite]

Inputs (docs/data.md, *Data without a reference*): our HDF5 with `kspace` (acquired, uncentred,
orthonormal) or `feature` (the zero-filled image) and `mask`, no `label`; fastMRI single-coil
files with masked `kspace` and `mask` (test / challenge files); multi-coil data for a
multi-coil model: our multi-coil HDF5 (acquired `kspace` (N[, T], C, H, W), `mask`, `coil_maps`
or ESPIRiT maps from the central lines), fastMRI multi-coil test files, CMRxRecon undersampled
cine files (AccFactor04/08/10 cine_sax.mat with cine_sax_mask.mat beside it); folders of
them. Outputs under --output_dir: reconstructions/<file name> (`reconstruction`, the fastMRI
submission layout, and `zero_filled`; multi-coil: coil combinations, and `zero_filled_rss`;
CMRxRecon: <P*>_cine_sax.h5), nifti/<stem>.nii and <stem>_zero_filled.nii,
png/<stem>_<item>.png. A coil count other than the model's is refused. One
progress line per file and a summary line with images/s. A file that cannot be reconstructed
is one `error:` line; the other files are still written and the exit code is 2.
"""
import sys

from models import ckpt as ckpt_mod
from models import config as cfgmod
from models import infer as infer_mod
from models.errors import ArgumentParser, InputError, bool_flag, exit_on_input_error
from models.tfv1 import tf_v1


def parse_args(argv):
    p = ArgumentParser(description=__doc__.splitlines()[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument('--save_ckpt_Dir', help='folder written by train.py (config.json + '
                     'checkpoints); the model is built for each file\'s size')
    src.add_argument('--pb', help='frozen graph from ckpt_to_pb.py (size and batch fixed)')
    p.add_argument('--input', nargs='+', required=True, metavar='PATH',
                   help='HDF5 (or CMRxRecon .mat) files and folders of them')
    p.add_argument('--output_dir', required=True, help='where the outputs go')
    p.add_argument('--batch_size', type=int, default=4,
                   help='items per network call (a frozen graph uses its own batch)')
    p.add_argument('--formats', nargs='+', default=list(infer_mod.FORMATS),
                   choices=infer_mod.FORMATS)
    p.add_argument('--input_scale', default='auto', choices=infer_mod.SCALES,
                   help='stored: as the file holds it (our files); zf_max: each item scaled to '
                   'max |zero-filled| = --peak and back (scanner units); auto: stored for our '
                   'files, zf_max for fastMRI')
    p.add_argument('--peak', type=float, default=None,
                   help='zf_max target (default 1, 255 for a --preset port checkpoint)')
    bool_flag(p, 'overwrite', False, 'replace existing outputs')
    a = p.parse_args(argv)
    if a.batch_size < 1:
        p.error('--batch_size must be >= 1')
    if a.peak is not None and not a.peak > 0:
        p.error('--peak must be > 0')
    return a


def load_model(a, tf):
    """The CheckpointModel or FrozenModel the flags name."""
    if a.pb:
        return infer_mod.FrozenModel(a.pb)
    cfg = cfgmod.load(a.save_ckpt_Dir)
    ckpt = ckpt_mod.latest(tf, a.save_ckpt_Dir)
    if not ckpt:
        raise InputError('%s: no checkpoint (expected model-<step>.index and a checkpoint file)'
                         % a.save_ckpt_Dir)
    return infer_mod.CheckpointModel(tf, cfg, ckpt, a.save_ckpt_Dir)


@exit_on_input_error
def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    if a.save_ckpt_Dir:
        cfgmod.load(a.save_ckpt_Dir)  # a bad folder is reported before TensorFlow starts
    paths = infer_mod.find_inputs(a.input, a.output_dir)
    tf = tf_v1()
    model = load_model(a, tf)
    print('%s: %d files -> %s' % (model.describe, len(paths), a.output_dir))

    def warn(line):
        sys.stdout.flush()
        sys.stderr.write(line + '\n')
        sys.stderr.flush()

    try:
        done = infer_mod.run(model, paths, a.output_dir, a.batch_size, a.formats, a.input_scale,
                         a.peak, a.overwrite, warn=warn)
    finally:
        model.close()
    if done['problems']:
        sys.exit(2)
    return done


if __name__ == '__main__':
    main()
