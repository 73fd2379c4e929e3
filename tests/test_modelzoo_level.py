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
"""modelzoo_level.txt holds only `key:value` lines, with the keys and values the ModelZoo
contribution rules define (the reasons behind the values are in docs/devices.md)."""
import os

from conftest import ROOT

ALLOWED = {'FuncStatus': {'OK', 'NOK'}, 'PrecisionStatus': {'OK', 'POK', 'NOK'},
           'PerfStatus': {'PERFECT', 'OK', 'POK', 'NOK'}, 'GPUStatus': {'OK', 'NOK'},
           'NPUMigrationStatus': {'OK', 'POK', 'NOK'}, 'AutoTune': {'OK', 'POK', 'NOK'}}


def test_only_key_value_lines():
    with open(os.path.join(ROOT, 'modelzoo_level.txt')) as f:
        lines = f.read().splitlines()
    pairs = [line.split(':') for line in lines]
    assert all(len(p) == 2 and p[0] and p[1] and ' ' not in line
               for p, line in zip(pairs, lines)), lines
    got = dict(pairs)
    assert len(got) == len(lines) and set(got) == set(ALLOWED)
    assert all(got[k] in ALLOWED[k] for k in got), got
