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
