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
"""bench/infer_speed.py runs end to end on a tiny configuration (figures: docs/benchmarks.md)."""
import os
import sys

from conftest import ROOT, quiet

sys.path.insert(0, os.path.join(ROOT, 'bench'))
import infer_speed  # noqa: E402


def test_infer_speed_tiny():
    rows, out = quiet(infer_speed.main, ['--sizes', '16', '--batches', '2', '--nf', '2',
                                         '--frames', '2', '--steps', '1', '--peer_script', '',
                                         '--models', 'static', 'dynamic', 'crnn', 'port'])
    assert [r[:3] for r in rows] == [('static', 16, 2), ('dynamic', 16, 2), ('crnn', 16, 2),
                                     ('port', 16, 2)]
    assert all(r[3] > 0 for r in rows)
    lines = out.splitlines()
    assert lines[0].startswith('CPU: ')
    assert any(l.startswith('D5-C10(S) nf=2 T=2') and '16x16 batch 2: ' in l for l in lines)
    assert any(l.startswith('CRNN-MRI nd=5 nc=10 nf=2 T=2') for l in lines)
    assert 'peer: ' in out  # no peer script given (or no torch): said, not an error
