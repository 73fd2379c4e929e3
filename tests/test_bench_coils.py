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
"""bench/bench.py --coils runs end to end on a tiny configuration: a line per row (the
single-coil reference, then each C), whose times and peak memory are positive (figures:
docs/benchmarks.md). No timing is asserted."""
import os
import re
import sys

import pytest

from conftest import ROOT, quiet

sys.path.insert(0, os.path.join(ROOT, 'bench'))
import bench  # noqa: E402

NUM = r'([0-9.]+)'
ROW = re.compile(r'^C=(\w+) step %s ms, FFT/DC %s ms = %s%% of the step, peak RSS %s MB; '
                 r'vs C=(\d+): step x%s, FFT/DC x%s, peak RSS x%s; load %s$' % ((NUM,) * 8))


def test_bench_coils_tiny():
    rc, out = quiet(bench.main, ['--size', '16', '--coils', '1', '2', '--nf', '4',
                                 '--steps', '1', '--batch', '1', '--nd', '3', '--nc', '2'])
    assert rc == 0
    lines = out.splitlines()
    assert lines[0].startswith('cpu: ')
    assert any(l.startswith('config: multi-coil training step') and 'load average' in l
               for l in lines)
    rows = [ROW.match(l) for l in lines if l.startswith('C=')]
    assert all(rows) and [r.group(1) for r in rows] == ['single', '1', '2']
    for r in rows:
        step, dc, share, rss = (float(r.group(i)) for i in (2, 3, 4, 5))
        assert step > 0 and dc > 0 and share > 0 and rss > 0
        assert r.group(6) == '1' and all(float(r.group(i)) > 0 for i in (7, 8, 9))
    assert rows[1].group(7) == '1.00'  # C=1 is the reference


def test_coils_flag_refuses_zero():
    with pytest.raises(SystemExit):
        bench.parse_args(['--coils', '0'])
