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
"""Run a frozen .pb on msame-style input folders on the CPU, writing msame-named outputs.

  python msame_cpu.py --model cascade.pb --input bins/feature,bins/mask --output cpu_out

Stands in for `msame --model cascade_om.om --input ... --output ... --outfmt BIN` where there is
no NPU, so the offline chain (image_to_bin -> inference -> om_precision) can be checked end to
end. As msame does: one folder per graph input, in the graph's input order (printed), files
matched by name; output k of `<stem>.bin` is written as `<stem>_output_<k>.bin` (raw float32).
Unlike msame, outputs go straight into --output, not a time-stamped sub-folder. A multi-coil
graph has four inputs, feature, mask, kspace, coil_maps (image_to_bin.py's folders of those
names, in that order); a folder named after one graph input but given in another's place (say
kspace and coil_maps swapped: same shape, wrong result) is refused, which msame would not do.
"""
import os
import sys
import time

import numpy as np

from models import bins
from models.errors import ArgumentParser, InputError, bool_flag, exit_on_input_error
from models.tfv1 import tf_v1


def parse_args(argv):
    p = ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--model', required=True, help='frozen .pb (ckpt_to_pb.py)')
    p.add_argument('--input', required=True, help='comma-separated folders, one per graph input')
    p.add_argument('--output', required=True, help='folder for <stem>_output_<k>.bin')
    p.add_argument('--outfmt', default='BIN', help='only BIN (raw float32) is written')
    bool_flag(p, 'overwrite', False, 'write into a non-empty --output')
    a = p.parse_args(argv)
    if a.outfmt.upper() != 'BIN':
        p.error('--outfmt %s: only BIN is supported' % a.outfmt)
    return a


def stems(folder):
    """Names (without .bin) of the .bin files in `folder`, numeric names in numeric order."""
    if not os.path.isdir(folder):
        raise InputError('--input %s: no such folder' % folder)
    names = [n[:-4] for n in os.listdir(folder) if n.endswith('.bin')]
    if not names:
        raise InputError('--input %s: no .bin files' % folder)
    return sorted(names, key=lambda s: (0, int(s), s) if s.isdigit() else (1, 0, s))


def check_order(folders, inputs):
    """A folder whose name is that of a graph input other than the one it is given for is an
    InputError: the folders must be in the graph's input order."""
    names = [t.name for t in inputs]
    for k, (f, t) in enumerate(zip(folders, inputs)):
        base = os.path.basename(os.path.normpath(f))
        if base in names and base != t.name:
            raise InputError('--input: folder %d (%s) is named after graph input %s but is given '
                             'for input %s; give the folders in the graph\'s input order: %s'
                             % (k + 1, f, base, t.name, ', '.join(names)))


def input_shape(path, tensor):
    """Shape of input file `path` for graph input `tensor`; checks that the file fits it."""
    from models import export
    n_values = os.path.getsize(path) // bins.DTYPE.itemsize if os.path.isfile(path) else 0
    shape = export.file_shape(tensor, n_values, path)
    bins.check_bin(path, shape)
    return shape


@exit_on_input_error
def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    if not os.path.isfile(a.model):
        raise InputError('--model %s: no such file' % a.model)
    folders = [f for f in a.input.split(',') if f]
    for f in folders:
        stems(f)
    tf_v1()
    from models import export
    runner = export.PbRunner(export.load_pb(a.model), where=a.model)
    if len(folders) != len(runner.inputs):
        raise InputError('--input: %d folders given, the graph %s has %d inputs (%s)'
                         % (len(folders), a.model, len(runner.inputs),
                            ', '.join(t.name for t in runner.inputs)))
    check_order(folders, runner.inputs)
    names = stems(folders[0])
    # Every input file is checked before anything is run or written.
    shapes = dict((stem, [input_shape(os.path.join(f, stem + '.bin'), t)
                          for t, f in zip(runner.inputs, folders)]) for stem in names)
    bins.prepare_dir(a.output, a.overwrite)
    for t, f in zip(runner.inputs, folders):
        print('input %s %s %s <- %s' % (t.name, t.dtype, t.shape, f))
    seconds = []
    for stem in names:
        arrays = [bins.read_bin(os.path.join(f, stem + '.bin'), shape)
                  for f, shape in zip(folders, shapes[stem])]
        t0 = time.perf_counter()
        results = runner.run(arrays)
        seconds.append(time.perf_counter() - t0)
        for k, r in enumerate(results):
            if not np.all(np.isfinite(r)):
                raise InputError('%s: output %d is not finite for input %s.bin'
                                 % (a.model, k, stem))
            bins.write_bin(os.path.join(a.output, bins.output_name(stem, k)), r)
    runner.close()
    # The first run includes TF's graph set-up, so it is left out of the mean when possible.
    steady = seconds[1:] or seconds
    print('ran %d inputs, %d output(s) each, into %s; %.2f ms per run (CPU, first run excluded)'
          % (len(names), len(runner.outputs), a.output, 1e3 * sum(steady) / len(steady)))
    return len(names)


if __name__ == '__main__':
    main()
