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
"""models/cpu.py: the oneDNN default set before TensorFlow is imported, the CPU's ISA and the
oneDNN cap, and the filter-gradient setting."""
import os
import subprocess
import sys

import pytest

from conftest import ROOT
from models import cpu

PROBE = ('import os, models; v = os.environ.get("TF_ENABLE_ONEDNN_OPTS"); '
         'import tensorflow; from models import cpu; print(v, cpu.onednn_enabled())')


def probe(**env):
    """(TF_ENABLE_ONEDNN_OPTS after `import models`, TF's answer) in a fresh interpreter."""
    e = dict((k, v) for k, v in os.environ.items() if k != cpu.ONEDNN_VAR)
    e.update(env, TF_CPP_MIN_LOG_LEVEL='3')
    r = subprocess.run([sys.executable, '-c', PROBE], cwd=ROOT, env=e, universal_newlines=True,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()[-2:]


@pytest.mark.skipif(not cpu.is_x86(), reason='the default is set on x86 CPUs only')
def test_onednn_turned_on_when_unset():
    value, enabled = probe()
    assert value == '1'
    assert enabled in ('True', 'None')  # None: TF 1.15, which ignores the variable


def test_onednn_user_value_kept():
    value, enabled = probe(TF_ENABLE_ONEDNN_OPTS='0')
    assert value == '0'
    assert enabled in ('False', 'None')


def test_default_onednn_per_machine():
    env = {}
    assert cpu.default_onednn(env, machine='x86_64') == '1' and env == {cpu.ONEDNN_VAR: '1'}
    env = {}
    assert cpu.default_onednn(env, machine='aarch64') is None and env == {}
    env = {cpu.ONEDNN_VAR: '0'}
    assert cpu.default_onednn(env, machine='AMD64') == '0'


def test_cpuinfo_parsed(tmp_path):
    f = tmp_path / 'cpuinfo'
    f.write_text('processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n'
                 'flags\t\t: fpu sse4_2 avx fma avx2 bmi2\n\nprocessor\t: 1\n'
                 'model name\t: other\nflags\t\t: avx512f\n')
    model, flags = cpu._cpuinfo(str(f))
    assert model == 'AMD EPYC 7B13'
    assert cpu.isa_flags(flags) == ['sse4_2', 'avx', 'fma', 'avx2']
    assert cpu._cpuinfo(str(tmp_path / 'missing')) == ('', set())


@pytest.mark.parametrize('flags,cap,expect', [
    ({'avx2', 'fma', 'avx512f'}, '', 'avx512'),
    ({'avx2', 'fma', 'avx512f'}, 'AVX2', 'avx2'),
    ({'avx2', 'fma', 'avx512f'}, 'AVX2_VNNI', 'avx2'),
    ({'avx2', 'fma', 'avx512f'}, 'AVX512_CORE', 'avx512'),
    ({'avx2', 'fma', 'avx512f'}, 'AVX', 'older'),
    ({'avx2', 'fma'}, '', 'avx2'),
    ({'avx2', 'fma'}, 'AVX512_CORE_AMX', 'avx2'),
    ({'avx'}, '', 'older'),
])
def test_vector_isa_under_cap(flags, cap, expect):
    assert cpu.vector_isa(flags, cap) == expect


def test_auto_row():
    assert cpu.auto_row('avx2', True) == 'avx2'
    assert cpu.auto_row('avx512', False) == 'eigen'
    assert cpu.auto_row('older', None) == 'eigen'  # TF 1.15: no oneDNN switch, Eigen kernels


def test_isa_cap_from_either_variable():
    assert cpu.onednn_isa_cap({}) == ''
    assert cpu.onednn_isa_cap({'DNNL_MAX_CPU_ISA': 'avx2'}) == 'AVX2'
    assert cpu.onednn_isa_cap({'ONEDNN_MAX_CPU_ISA': 'AVX2', 'DNNL_MAX_CPU_ISA': 'ALL'}) == 'AVX2'


def test_conv_grad_setting_and_policy():
    assert cpu.conv_grad_setting(None, {}) == 'auto'
    assert cpu.conv_grad_setting(None, {cpu.CONV_GRAD_VAR: 'eigen'}) == 'eigen'
    assert cpu.conv_grad_setting('matmul', {cpu.CONV_GRAD_VAR: 'eigen'}) == 'matmul'
    with pytest.raises(ValueError, match='CASCADENET_CONV_GRAD'):
        cpu.conv_grad_setting(None, {cpu.CONV_GRAD_VAR: 'onednn'})
    with pytest.raises(ValueError, match='--conv_grad'):
        cpu.conv_grad_setting('onednn', {})
    for key, row in cpu.AUTO_FILTER_GRAD.items():
        assert cpu.filter_grad_policy('auto', 'cpu', 256 * 256, key) == row
        assert set(row) == set(cpu.LAYER_KINDS)
        assert set(row.values()) <= set(cpu.FILTER_GRAD_IMPLS)
    assert cpu.filter_grad_policy('eigen', 'cpu') == dict.fromkeys(cpu.LAYER_KINDS, 'eigen')
    for dev in ('gpu', 'npu'):
        assert cpu.filter_grad_policy('matmul', dev) == dict.fromkeys(cpu.LAYER_KINDS, 'tf')
    # small images on AVX2: oneDNN's own gradient; on the Eigen row the size does not matter
    assert cpu.filter_grad_policy('auto', 'cpu', 64 * 64, 'avx2') == \
        dict.fromkeys(cpu.LAYER_KINDS, 'tf')
    assert cpu.filter_grad_policy('auto', 'cpu', 96 * 96, 'avx2') == cpu.AUTO_FILTER_GRAD['avx2']
    assert cpu.filter_grad_policy('auto', 'cpu', 64 * 64, 'eigen') == \
        cpu.AUTO_FILTER_GRAD['eigen']
    assert [cpu.layer_kind(*s) for s in [(2, 64), (64, 64), (64, 2)]] == list(cpu.LAYER_KINDS)
