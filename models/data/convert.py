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
"""Real data (models.formats) -> a train/test pair of our HDF5 files, one slice at a time.

Split: by unit (file or DICOM series), never by slice, so no test slice has a neighbour from the
same volume in the training set. The split is drawn over every discovered unit with `seed`
before any file is read, so a file that fails today and is fixed tomorrow does not reshuffle
the others. `test_files` (shell patterns) names the test units instead.

Bad input (nothing is lost silently): a file that cannot be opened or read (corrupt, truncated,
missing key, DICOM without pixel data) is reported on stderr as `warning: <file>: <why>; skipped`
and left out entirely (slices of it already written are removed again); every other file is
still converted and written. The caller gets the list of problems and exits with code 2 after
writing, so a script notices.

Memory: one source slice, its fitted image and its mask are in memory at a time (plus, for
MATLAB v5 files only, the one variable being converted); HDF5 output is written per image.
"""
import os
import sys

import numpy as np

from models.data import formats, h5writer
from models import masks as masks_mod
from models.errors import InputError


def split_units(units, split, seed=0, test_files=None):
    """units -> (train units, test units), by file; see the module docstring."""
    if test_files:
        test = formats.match_units(units, test_files)
        return [u for u in units if u.name not in test], [u for u in units if u.name in test]
    order = np.random.default_rng(seed).permutation(len(units))
    n_train = h5writer.split_count(len(units), split)
    return ([units[i] for i in sorted(order[:n_train])],
            [units[i] for i in sorted(order[n_train:])])


class Options(object):
    """What a conversion needs besides the units (the make_h5data.py flags of the same name)."""

    def __init__(self, size, acc=4.0, sample_n=8, mask_type='cartesian', seed=0, fit='resize',
                 target='kspace', key=None, axis=2, min_signal=0.05, layout='ours',
                 fixed_mask=None, mask_file='', coils=0, noise=0.0, coil_target='sense'):
        self.size, self.acc, self.sample_n, self.mask_type = tuple(size), acc, sample_n, mask_type
        self.seed, self.fit, self.target, self.key = seed, fit, target, key
        self.axis, self.min_signal = axis, min_signal
        self.layout, self.fixed_mask, self.mask_file = layout, fixed_mask, mask_file
        # simulated coils on real anatomy (make_h5data --input --coils): 'sense' writes the
        # multi-coil layout, 'rss' the single-coil file of the coils' RSS magnitudes
        self.coils, self.noise, self.coil_target = int(coils), noise, coil_target

    @property
    def multicoil(self):
        """Whether the output files are multi-coil (kspace and coil_maps stored)."""
        return bool(self.coils) and self.coil_target == 'sense'

    def with_coils(self, name, x):
        """An image normalised to max |x| = 1 -> (label, scale factor, append keywords): as it
        is without --coils; else through `coils` simulated birdcage coils with k-space noise
        (models.data.coils.simulate_coils, seeded by the slice name) and back, to the coil
        combination with its kspace and coil_maps ('sense'), or to the RSS magnitude of the
        noisy coil images ('rss': the single-coil path of multi-coil data)."""
        if not self.coils:
            return x, 1.0, {}
        from models.data import coils as coils_mod
        _, k, maps = next(coils_mod.simulate_coils([(name, x)], self.coils, self.seed,
                                                   self.noise))
        if self.coil_target == 'rss':
            label, s = h5writer.normalise(coils_mod.rss(np.fft.ifft2(k, norm='ortho')))
            return label, s, {}
        label, s = h5writer.normalise(coils_mod.sense_adjoint(k, maps))
        return label, s, {'kspace': k / s, 'coil_maps': maps}

    def mask(self, unit_name, idx):
        """The mask of slice `idx` of `unit_name`: --mask_file's, else one seeded by the
        slice's name (masks.seed_from_slice)."""
        if self.fixed_mask is not None:
            return self.fixed_mask
        return masks_mod.make_mask(self.mask_type, self.size, self.acc, self.sample_n,
                                   seed=masks_mod.seed_from_slice(unit_name, idx, self.seed))

    def coil_note(self):
        """What --coils did, for the file's `source` attribute ('' without)."""
        if not self.coils:
            return ''
        return ('; %d simulated birdcage coils, k-space noise %g%s' % (
            self.coils, self.noise, ', label = RSS magnitude' if self.coil_target == 'rss'
            else ''))

    def open(self, unit):
        return formats.open_unit(unit, self.target, self.key, self.axis, self.min_signal)


class Log(object):
    """Progress on stdout, problems as one warning line each on stderr, and the list kept."""

    def __init__(self, out=None, err=None):
        self.out, self.err = out or sys.stdout, err or sys.stderr
        self.problems = []

    def info(self, msg):
        self.out.write(msg + '\n')
        self.out.flush()

    def problem(self, path, why):
        self.problems.append((path, why))
        self.err.write('warning: %s: %s; skipped\n' % (path, why))
        self.err.flush()


def _message(e, path):
    """An InputError's message, with the file name in front when it does not already say it."""
    s = str(e)
    return s[len(path) + 2:] if s.startswith(path + ': ') else s


def probe_complex(units, opts, log):
    """Whether any unit has phase (then labels are stored complex64, else float32). Units that
    cannot even be opened are reported here and dropped."""
    ok, any_complex = [], False
    for u in units:
        if u.fmt in ('dicom', 'image'):  # magnitude by nature; opened once, when written
            ok.append(u)
            continue
        try:
            r = opts.open(u)
        except InputError as e:
            log.problem(u.path, _message(e, u.path))
            continue
        any_complex = any_complex or r.is_complex
        r.close()
        ok.append(u)
    return ok, any_complex


def volume_key(unit_name, idx):
    """The volume slice `idx` of unit `unit_name` belongs to: the unit, and for 4-D data
    (idx = (volume, slice)) the volume within it."""
    return (unit_name,) + tuple(np.atleast_1d(idx)[:-1].tolist())


def write_units(path, units, opts, complex_data, log, part):
    """Write every slice of `units` to `path`. Returns the number of images written (0: no file
    is left behind)."""
    attrs = h5writer.mask_attrs(opts.mask_type, opts.acc, opts.sample_n, opts.seed,
                                opts.fixed_mask, opts.mask_file)
    w = h5writer.H5Writer(path, opts.size, complex_data or opts.multicoil, attrs, opts.layout,
                          coils=opts.coils if opts.multicoil else 0)
    sources = []
    try:
        for u in units:
            n0 = w.n
            try:
                r = opts.open(u)
            except InputError as e:
                log.problem(u.path, _message(e, u.path))
                continue
            # fastMRI is centre-cropped as fastMRI does; other sources follow --fit
            how = 'crop' if u.fmt == 'fastmri' else opts.fit
            empty = 0
            try:
                for idx, img in r.slices():
                    x = formats.fit(img, opts.size, how)
                    if not np.any(x):
                        empty += 1
                        continue
                    x, s = h5writer.normalise(x)
                    name = masks_mod.slice_name(u.name, idx)
                    x, s2, coil_data = opts.with_coils(name, x)
                    w.append(x, opts.mask(u.name, idx), s * s2, name,
                             volume=volume_key(u.name, idx), **coil_data)
            except InputError as e:
                w.truncate(n0)
                log.problem(u.path, _message(e, u.path))
                continue
            finally:
                r.close()
            for p, why in r.problems:
                log.problem(p, why)
            skipped = r.skipped + empty
            log.info('%-5s %s: %d slices%s; %s' % (
                part, u.name, w.n - n0,
                ' (%d empty or below --min_signal left out)' % skipped if skipped else '',
                r.describe))
            if r.describe not in sources:
                sources.append(r.describe)
    except BaseException:
        w.abort()
        raise
    if w.n == 0:
        w.abort()
        return 0
    w.f.attrs['source'] = ' | '.join(sources) + opts.coil_note()
    w.f.attrs['label_kind'] = ('uint8 magnitude' if opts.layout == 'port' else
                               'complex' if complex_data or opts.multicoil else 'magnitude')
    w.close()
    return w.n


def convert(units, train_path, test_path, opts, split=0.8, test_files=None, log=None):
    """Split `units` by file and write both files. Returns (counts {path: images}, problems
    [(file, why)]). Raises InputError when nothing at all could be converted."""
    log = log or Log()
    train, test = split_units(units, split, opts.seed, test_files)
    good, complex_data = probe_complex(train + test, opts, log)
    good = set(id(u) for u in good)
    counts = {}
    for path, part, us in ((train_path, 'train', train), (test_path, 'test', test)):
        us = [u for u in us if id(u) in good]
        counts[path] = write_units(path, us, opts, complex_data, log, part) if us else 0
    if not any(counts.values()):
        raise InputError('no image could be converted from %d input file(s)%s' % (
            len(units), ' (%d problems, listed above)' % len(log.problems) if log.problems else ''))
    log.info('labels: %s' % (
        'uint8 magnitude 0-255 (the port\'s layout%s)' % (', phase dropped' if complex_data else '')
        if opts.layout == 'port' else 'complex64 (phase kept)' if complex_data else
        'complex64 coil combination of %d simulated coils' % opts.coils if opts.multicoil else
        'float32 magnitude (no phase in these sources)'))
    return counts, log.problems


def add_arguments(parser, source_group):
    """make_h5data.py flags for real data (kept here so the script's own edits stay small)."""
    source_group.add_argument(
        '--input', nargs='+', metavar='PATH',
        help='real data: files and/or folders (walked recursively) of fastMRI .h5, NIfTI '
             '.nii/.nii.gz, MATLAB .mat, DICOM .dcm (one series per folder) or images; the '
             'format comes from the extension unless --format is given')
    parser.add_argument('--format', default='auto', choices=('auto',) + formats.FORMATS,
                        help='--input: read every file as this format (default: by extension)')
    parser.add_argument('--target', default='kspace', choices=formats.TARGETS,
                        help='fastMRI: complex images from kspace (default), or a magnitude '
                             'reconstruction dataset')
    parser.add_argument('--key', default=None,
                        help='MATLAB: variable to read (default: the only numeric one; '
                             '--cine_file: seq, as the reference\'s cardiac.mat)')
    parser.add_argument('--axis', type=int, default=2,
                        help='NIfTI/MATLAB volumes: slice along this axis (0, 1 or 2)')
    parser.add_argument('--min_signal', type=float, default=0.05,
                        help='NIfTI/MATLAB: leave out slices whose mean |x| is below this '
                             'fraction of the largest slice mean of the file (0: only all-zero)')
    parser.add_argument('--test_files', nargs='+', metavar='PATTERN',
                        help='--input: files (names or shell patterns) that form the test set; '
                             'replaces --split')


def run_input(a, output_dir, name, size, acc=None, fixed_mask=None):
    """make_h5data.py --input: discover, split by file, write; returns (train, test, problems).
    `acc` names the files (default a.acc); `fixed_mask` (--mask_file) replaces the drawn ones."""
    if a.min_signal < 0 or a.min_signal >= 1:
        raise InputError('--min_signal must be in [0, 1), got %g' % a.min_signal)
    units = formats.discover(a.input, a.format)
    if name is None:  # the folder or file given, without its extension
        base = os.path.basename(os.path.normpath(a.input[0]))
        name = base.split('.')[0] if len(a.input) == 1 and base.split('.')[0] else 'data'
    train, test = h5writer.split_paths(output_dir, name, a.acc if acc is None else acc)
    h5writer.check_writable([train, test], a.overwrite)
    opts = Options(size, a.acc, a.sample_n, a.mask_type, a.seed, a.fit, a.target, a.key,
                   a.axis, a.min_signal, a.layout, fixed_mask, a.mask_file or '', a.coils,
                   a.noise, a.coil_target)
    _, problems = convert(units, train, test, opts, a.split, a.test_files)
    return train, test, problems
