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
"""Build training/test HDF5 files (label, mask, scale) in the layout of docs/data.md.

  python make_h5data.py --synthetic 200 --image_size 64 --output_dir data
  python make_h5data.py --image_dir my_pngs/ --image_size 256 --name knee --output_dir data
  python make_h5data.py --input knee_singlecoil_train/ --name knee --output_dir data
  python make_h5data.py --synthetic 200 --image_size 64 --coils 8 --noise 0.002  # multi-coil
  python make_h5data.py --synthetic 40 --frames 16 --image_size 48 --output_dir data   # 2D+t
  python make_h5data.py --synthetic 40 --frames 16 --image_size 48 --motion global  # moving FOV
  python make_h5data.py --cine_file cardiac.mat --key seq --window 16 --stride 8
  python make_h5data.py --input knee_multicoil_train/ --multicoil --virtual_coils 8 --name knee
  python make_h5data.py --cmrxrecon MultiCoil/Cine/TrainingSet/FullSample --window 12
  python make_h5data.py --image_dir chest/ --mask_file mask_acc3.hdf5 --layout port  # as the port

Writes <output_dir>/<name>_train_acc<acc>.hdf5 and <name>_test_acc<acc>.hdf5. Each image is
scaled to max |x| = 1 (the factor is kept in `scale`) and gets a fixed undersampling mask
seeded by its name, or --mask_file's one mask. --layout port writes the Ascend port's files
(uint8 0-255 labels, a float64 mask per image, datasets label and mask only).
"""
import os
import sys

from models import masks
from models.data import convert, dynamic_sources, formats, h5writer
from models.data.h5writer import LAYOUTS
from models.errors import ArgumentParser, InputError, bool_flag, exit_on_input_error


def add_source_flags(p):
    """Where the images come from (one source), and the options of each source."""
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument('--synthetic', type=int, metavar='N',
                     help='build N synthetic MR-like phantoms (no download needed)')
    src.add_argument('--image_dir', help='folder of PNG/JPG/TIFF images (8 or 16 bit); the same '
                     'as --input DIR --format image')
    convert.add_arguments(p, src)
    src.add_argument('--cmrxrecon', nargs='+', metavar='PATH',
                     help='CMRxRecon multi-coil cine: cine_*.mat files (MATLAB v7.3, '
                     'kspace_full) or folders of them; multi-coil output')
    src.add_argument('--cine_file', help='dynamic data: .mat with a (nx, ny, nt[, n]) array '
                     '(see --key) or NIfTI (x, y[, z], t)')
    p.add_argument('--frames', type=int, default=None, metavar='T',
                   help='with --synthetic: build T-frame cine phantoms (dynamic data)')
    p.add_argument('--motion', default=None, choices=('local', 'global'),
                   help="with --synthetic --frames: 'local' (default, only the heart moves) or "
                   "'global' (the whole field of view translates and scales over the cycle)")
    p.add_argument('--window', type=int, default=None, metavar='T',
                   help='--cine_file: cut sequences into windows of T frames')
    p.add_argument('--stride', type=int, default=None, metavar='S',
                   help='--cine_file: start a window every S frames (default T: no overlap)')


def add_output_flags(p):
    """Names, sizes, masks and splits of the files written."""
    p.add_argument('--output_dir', default='data')
    p.add_argument('--name', default=None, help='file name prefix (default: synthetic or the '
                   'image folder name)')
    p.add_argument('--image_size', type=int, nargs='+', default=None, metavar='H [W]',
                   help='default 256; 320 (fastMRI\'s crop) when every --input is fastMRI; '
                   '--cine_file: the file\'s size')
    p.add_argument('--acc', type=float, default=4.0, help='acceleration factor')
    p.add_argument('--sample_n', type=int, default=8, help='fully sampled central lines')
    p.add_argument('--mask_type', default='cartesian', choices=masks.MASK_TYPES)
    p.add_argument('--mask_file', default=None, metavar='FILE',
                   help='2-D data: one stored mask for every image (HDF5 dataset \'mask\', '
                   '(H, W) or one repeated (N, H, W), e.g. the port\'s mask_acc3.hdf5); replaces '
                   '--mask_type/--acc/--sample_n, and the files are named by its acceleration')
    p.add_argument('--layout', default='ours', choices=LAYOUTS,
                   help='ours (default: complex64/float32 labels, scale, name) or port (the '
                   'port\'s files: uint8 0-255 labels, float64 mask per image, nothing else)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--split', type=float, default=0.8, help='fraction of images for training')
    p.add_argument('--fit', default='resize', choices=('resize', 'crop'),
                   help="images: centre-crop to a square then 'resize', or centre-'crop'")
    bool_flag(p, 'overwrite', False, 'replace existing output files')


def add_coil_flags(p):
    """Multi-coil output: simulated coils, fastMRI multi-coil, CMRxRecon (docs/data.md)."""
    p.add_argument('--noise', type=float, default=0.0,
                   help='synthetic: complex Gaussian noise std (image max is 1); with '
                   '--coils (also on --input images), of each coil\'s k-space samples')
    p.add_argument('--coils', type=int, default=0, metavar='C',
                   help='with --synthetic or --input images: multi-coil files of C simulated '
                   'birdcage coils (default 0: single-coil)')
    p.add_argument('--coil_target', choices=('sense', 'rss'), default='sense',
                   help='with --input --coils: \'sense\' writes the multi-coil layout (label = '
                   'coil combination); \'rss\' single-coil files whose label is the RSS '
                   'magnitude of the same noisy coils (the single-coil path, for comparison)')
    bool_flag(p, 'multicoil', False, '--input fastMRI multi-coil files: keep the coils '
              '(k-space and ESPIRiT maps) instead of root-sum-of-squares magnitudes')
    p.add_argument('--virtual_coils', type=int, default=None, metavar='V',
                   help='multi-coil real data: SVD coil compression to V virtual coils')
    p.add_argument('--calib', type=int, default=24, metavar='N',
                   help='multi-coil real data: ESPIRiT calibration region N x N (default 24)')
    p.add_argument('--readout', type=int, default=None, metavar='N',
                   help='multi-coil real data: crop the readout to its N central pixels in the '
                   'image domain (fastMRI default: half, its 2x oversampling; CMRxRecon: kept)')
    p.add_argument('--pe', type=int, default=None, metavar='N',
                   help='multi-coil real data: N phase-encoding lines (default: the first '
                   'file\'s); others get zero lines added or outer lines dropped in k-space')
    p.add_argument('--cmrx_mask', default=None, metavar='FILE',
                   help='--cmrxrecon: the challenge\'s mask file (AccFactor*/P*/cine_*_mask.mat) '
                   'for every image instead of drawn masks')


def check_coil_args(p, a):
    """The multi-coil options against the source (p.error: one line, exit 2)."""
    multi = a.multicoil or a.cmrxrecon is not None
    if a.multicoil and a.input is None:
        p.error('--multicoil applies to --input (fastMRI multi-coil files)')
    if not multi and any(v is not None for v in (a.virtual_coils, a.readout, a.pe)):
        p.error('--virtual_coils, --readout and --pe apply to --multicoil and --cmrxrecon')
    if a.cmrx_mask and a.cmrxrecon is None:
        p.error('--cmrx_mask applies to --cmrxrecon')
    if multi and a.image_size is not None:
        p.error('multi-coil real data keeps its size: --pe and --readout, not --image_size')
    if multi and (a.mask_file or a.layout != 'ours'):
        p.error('multi-coil data is written in our layout: no --mask_file or --layout port')


def parse_args(argv):
    p = ArgumentParser(description=__doc__.splitlines()[0])
    add_source_flags(p)
    add_output_flags(p)
    add_coil_flags(p)
    a = p.parse_args(argv)
    if a.image_dir is not None:
        a.input, a.format = [a.image_dir], 'image'
    if a.image_size is None and a.cine_file is None and a.cmrxrecon is None and not a.multicoil:
        a.image_size = [formats.default_size(a.input or [], a.format)]
    if a.image_size is not None and (len(a.image_size) > 2 or min(a.image_size) < 8):
        p.error('--image_size takes H or H W, each >= 8')
    a.size = (a.image_size[0], a.image_size[-1]) if a.image_size else None
    if a.frames is not None and (a.synthetic is None or a.frames < 1):
        p.error('--frames needs --synthetic and T >= 1')
    if a.motion is not None and a.frames is None:
        p.error('--motion needs --synthetic --frames')
    if a.stride is not None and a.cine_file is None or (
            a.window is not None and a.cine_file is None and a.cmrxrecon is None):
        p.error('--window applies to --cine_file and --cmrxrecon, --stride to --cine_file')
    check_coil_args(p, a)
    if a.synthetic is not None and a.synthetic < 1:
        p.error('--synthetic needs N >= 1')
    if a.coils and ((a.synthetic is None and a.input is None) or a.multicoil or a.coils < 1):
        p.error('--coils needs --synthetic or --input (images, not --multicoil) and C >= 1')
    if a.coil_target != 'sense' and (not a.coils or a.input is None):
        p.error('--coil_target applies to --input --coils')
    if a.noise and a.synthetic is None and not a.coils:
        p.error('--noise applies to --synthetic and to --input --coils')
    if a.coils and (a.mask_file or a.layout != 'ours'):
        p.error('--coils writes our multi-coil layout: no --mask_file or --layout port')
    if (a.mask_file or a.layout != 'ours') and (a.frames is not None or a.cine_file):
        p.error('--mask_file and --layout port are for 2-D data, not --frames / --cine_file')
    return a


@exit_on_input_error
def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    fixed, acc = None, a.acc
    if a.mask_file:
        fixed = h5writer.load_mask_file(a.mask_file, a.size)
        acc = round(fixed.size / float(fixed.sum()), 1)
    elif a.size:  # a bad type, acc or sample_n fails before anything is read
        shape = ((a.frames,) if a.frames else ((2,) if a.cine_file else ())) + tuple(a.size)
        m = masks.make_mask(a.mask_type, shape, a.acc, a.sample_n)
        print('masks: %s, acceleration %g requested, %.3g achieved (first mask)'
              % (a.mask_type, a.acc, masks.achieved_acc(m)))
    if a.synthetic is not None and a.frames is not None:
        train, test = dynamic_sources.write_synthetic_cine(
            a.output_dir, a.synthetic, a.size, a.frames, a.acc, a.sample_n, a.mask_type, a.seed,
            a.split, a.noise, a.name or 'synthetic_cine', a.overwrite, a.motion or 'local',
            a.coils)
    elif a.cmrxrecon is not None or a.multicoil:
        from models.data import multicoil_sources as mc
        kind = 'fastmri' if a.multicoil else 'cmrxrecon'
        files = mc.find_files(kind, a.input if a.multicoil else a.cmrxrecon)
        train, test = mc.write_multicoil(
            kind, files, a.output_dir, a.name or kind + '_multicoil', a.acc, a.sample_n,
            a.mask_type, a.seed, a.split, a.readout, a.pe, a.virtual_coils, a.calib, a.window,
            a.cmrx_mask, a.overwrite)
        problems = []
    elif a.cine_file is not None:
        name = a.name or os.path.basename(a.cine_file).split('.')[0]
        train, test = dynamic_sources.write_cine_file(
            a.cine_file, a.output_dir, name, a.size, a.acc, a.sample_n, a.mask_type, a.seed,
            a.split, a.key or 'seq', a.window, a.stride, a.fit, a.overwrite)
    elif a.synthetic is not None:
        train, test = h5writer.write_synthetic(a.output_dir, a.synthetic, a.size, acc,
                                               a.sample_n, a.mask_type, a.seed, a.split,
                                               a.noise, a.name or 'synthetic', a.overwrite,
                                               a.layout, fixed, a.mask_file or '', a.coils)
    else:
        train, test, problems = convert.run_input(a, a.output_dir, a.name, a.size, acc, fixed)
    for path in (train, test):
        if os.path.exists(path):
            print('wrote %s%s' % (path, h5writer.achieved_note(path)))
    if a.input and problems:
        raise InputError('%d input file(s) could not be converted (warnings above); the others '
                         'were written' % len(problems))
    return train, test


if __name__ == '__main__':
    main()
