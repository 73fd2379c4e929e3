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
"""How often does the centred-mask detection (models.masks.origin_layout) judge a file right?

  python bench/mask_layout.py

For every mask type of models/masks.py, sizes 8-320, acc 2-8 and 0-16 central lines (at most
H/2), masks are drawn (seeds 0..19 for single masks, 0..2 for files of 50 masks), stored
uncentred and fftshift-ed (centred), and classified. Fully sampled masks are left out (no
layout to find).
Prints, per mask type and central-line count (< 3 or >= 3), how many were judged the wrong
layout and how many were left undecided (used as stored).
"""
import collections
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from models import masks  # noqa: E402
from models.errors import InputError  # noqa: E402

SIZES = (8, 16, 32, 64, 128, 256, 320)
ACCS = (2, 3, 4, 6, 8)
CENTRAL = (0, 1, 2, 3, 4, 8, 16)


def tally(pool, seeds):
    """{(type, central-line group): [judged, wrong, undecided]} for files of `pool` masks."""
    out = collections.defaultdict(lambda: [0, 0, 0])
    for size in SIZES:
        for kind in masks.MASK_TYPES:
            for acc in ACCS:
                for sample_n in [c for c in CENTRAL if c <= size // 2]:
                    for seed in range(seeds):
                        try:
                            m = masks.make_mask(kind, (pool, size, size), acc, sample_n, seed)
                        except InputError:  # sample_n does not fit int(size / acc) lines
                            continue
                        if m.min() == 1:
                            continue
                        row = out[(kind, '>= 3' if sample_n >= 3 else '< 3')]
                        for stored, want in ((m, masks.UNCENTRED),
                                             (np.fft.fftshift(m, axes=(-2, -1)), masks.CENTRED)):
                            got = masks.origin_layout(stored)
                            row[0] += 1
                            row[1] += got == -want
                            row[2] += got == masks.UNKNOWN
    return out


def main():
    for pool, seeds in ((1, 20), (50, 3)):
        print('files of %d mask%s:' % (pool, 's' if pool > 1 else ''))
        print('  %-11s %-14s %7s %6s %9s' % ('mask type', 'central lines', 'judged', 'wrong',
                                             'undecided'))
        for (kind, group), (n, wrong, unknown) in sorted(tally(pool, seeds).items()):
            print('  %-11s %-14s %7d %6d %9d' % (kind, group, n, wrong, unknown))


if __name__ == '__main__':
    main()
