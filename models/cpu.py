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
"""The x86 CPU this process runs on, and TensorFlow's oneDNN switch.

TensorFlow 2.x ships oneDNN (Intel's CPU kernels) in its Linux x86 builds but turns it on by
default only on CPUs with AVX512_VNNI, AVX512_BF16, AVX_VNNI or AMX (TF 2.9 and later; before
2.9, nowhere): an AVX2-only CPU such as an AMD EPYC before Zen 4 runs the slower Eigen kernels
unless TF_ENABLE_ONEDNN_OPTS=1. `default_onednn` sets that variable where the user has not,
when the `models` package is imported, i.e. before any entry script, benchmark or test imports
TensorFlow (which reads it once, at import). TF 1.15 ignores the variable.

oneDNN picks its kernels from the CPU's instruction sets; ONEDNN_MAX_CPU_ISA (or the older
DNNL_MAX_CPU_ISA) caps them, e.g. `AVX2` makes an AVX-512 CPU run the AVX2 kernels, which is
how the benchmark emulates an AVX2-only CPU (docs/benchmarks.md).
"""
import os
import platform

ONEDNN_VAR = 'TF_ENABLE_ONEDNN_OPTS'
ISA_CAP_VARS = ('ONEDNN_MAX_CPU_ISA', 'DNNL_MAX_CPU_ISA')
X86 = ('x86_64', 'amd64', 'i386', 'i686', 'x86')
# The instruction sets that decide which kernels run, in the order printed.
SHOWN_FLAGS = ('sse4_2', 'avx', 'fma', 'avx2', 'avx512f', 'avx512_vnni', 'avx512_bf16',
               'avx512_fp16', 'amx_tile', 'amx_bf16', 'amx_int8')


def is_x86(machine=None):
    return (machine if machine is not None else platform.machine()).lower() in X86


def default_onednn(environ=None, machine=None):
    """Set TF_ENABLE_ONEDNN_OPTS=1 in `environ` (default os.environ) on an x86 CPU when the user
    has not set it; a value the user gave (0 included) is kept. Returns the value in effect, or
    None where it stays unset (other CPUs: TensorFlow's own default)."""
    environ = os.environ if environ is None else environ
    if ONEDNN_VAR not in environ and is_x86(machine):
        environ[ONEDNN_VAR] = '1'
    return environ.get(ONEDNN_VAR)


def _cpuinfo(path='/proc/cpuinfo'):
    """(model name, set of flags) of the first CPU listed in `path`; ('', set()) if unreadable."""
    model, flags = '', set()
    try:
        with open(path) as f:
            for line in f:
                key, _, value = line.partition(':')
                key = key.strip()
                if key == 'model name' and not model:
                    model = value.strip()
                elif key == 'flags' and not flags:
                    flags = set(value.split())
                if model and flags:
                    break
    except (IOError, OSError):
        pass
    return model, flags


def cpu_model():
    """The CPU's marketing name, e.g. 'AMD EPYC 7B13' (platform.processor() off Linux)."""
    return _cpuinfo()[0] or platform.processor() or platform.machine()


def isa_flags(flags=None):
    """The SHOWN_FLAGS this CPU has, in SHOWN_FLAGS order."""
    flags = _cpuinfo()[1] if flags is None else flags
    return [f for f in SHOWN_FLAGS if f in flags]


def onednn_isa_cap(environ=None):
    """The oneDNN ISA cap the user set (ONEDNN_MAX_CPU_ISA, else DNNL_MAX_CPU_ISA), upper
    case, or '' for none."""
    environ = os.environ if environ is None else environ
    for var in ISA_CAP_VARS:
        if environ.get(var):
            return environ[var].strip().upper()
    return ''


def vector_isa(flags=None, cap=None):
    """'avx512', 'avx2' or 'older': the widest float32 vector ISA oneDNN uses here, after the
    cap (a cap naming AVX2 or older, such as 'AVX2' or 'AVX2_VNNI', keeps it at AVX2 or
    below)."""
    flags = _cpuinfo()[1] if flags is None else flags
    cap = onednn_isa_cap() if cap is None else cap
    have = 'avx512' if 'avx512f' in flags else 'avx2' if {'avx2', 'fma'} <= flags else 'older'
    if cap and 'AVX512' not in cap and 'AVX10' not in cap and 'AMX' not in cap \
            and cap != 'ALL' and have == 'avx512':
        have = 'avx2' if cap.startswith('AVX2') else 'older'
    return have


def onednn_enabled():
    """True / False: whether TensorFlow runs its oneDNN kernels in this process (TF 2.x reads
    TF_ENABLE_ONEDNN_OPTS and the CPU); None where TensorFlow cannot tell (TF 1.15)."""
    try:
        from tensorflow.python.util import _pywrap_util_port
    except ImportError:
        return None
    return bool(_pywrap_util_port.IsMklEnabled())


def describe():
    """One line: CPU model, its ISA flags, the oneDNN cap and whether oneDNN is on."""
    on = onednn_enabled()
    return 'cpu: %s; isa %s; oneDNN %s (%s=%s), ISA cap %s' % (
        cpu_model(), ' '.join(isa_flags()) or '-',
        {True: 'on', False: 'off', None: 'n/a'}[on], ONEDNN_VAR,
        os.environ.get(ONEDNN_VAR, 'unset'), onednn_isa_cap() or 'none')


# The filter gradient of the conv layers (models.nets.conv): one implementation for all
# layers, or 'auto', which takes this CPU's row of AUTO_FILTER_GRAD, per layer kind.
CONV_GRAD_VAR = 'CASCADENET_CONV_GRAD'
FILTER_GRAD_IMPLS = ('tf', 'eigen', 'matmul')
CONV_GRAD_SETTINGS = ('auto',) + FILTER_GRAD_IMPLS
LAYER_KINDS = ('first', 'inner', 'last')
# The fastest per layer kind, measured at 256x256 with bench/bench.py and the per-op timings
# of docs/benchmarks.md. Rows: oneDNN on, by vector ISA; 'eigen': oneDNN off (TF 2.x with
# TF_ENABLE_ONEDNN_OPTS=0, or TF 1.15), where TensorFlow's batched matmul is Eigen's and slower.
AUTO_FILTER_GRAD = {
    'avx512': {'first': 'tf', 'inner': 'tf', 'last': 'tf'},
    'avx2': {'first': 'tf', 'inner': 'matmul', 'last': 'matmul'},
    'older': {'first': 'tf', 'inner': 'matmul', 'last': 'matmul'},
    'eigen': {'first': 'tf', 'inner': 'tf', 'last': 'matmul'},
}
# Below this many pixels per image oneDNN's AVX2 filter gradient keeps up (its slowdown comes
# with large images): the 'avx2' row then takes 'tf' throughout.
AUTO_MIN_PIXELS = {'avx2': 96 * 96}


def layer_kind(cin, cout):
    """'first' (fewer input than output channels, e.g. 2 -> 64), 'last' (more, 64 -> 2) or
    'inner' (64 -> 64)."""
    return 'first' if cin < cout else 'last' if cin > cout else 'inner'


def conv_grad_setting(value=None, environ=None):
    """The filter-gradient setting: `value` (a flag) if given, else $CASCADENET_CONV_GRAD, else
    'auto'. Raises ValueError for a name not in CONV_GRAD_SETTINGS."""
    environ = os.environ if environ is None else environ
    setting = value or environ.get(CONV_GRAD_VAR) or 'auto'
    if setting not in CONV_GRAD_SETTINGS:
        raise ValueError('%s: unknown conv filter-gradient setting %r (choose from %s)'
                         % ('--conv_grad' if value else CONV_GRAD_VAR, setting,
                            ', '.join(CONV_GRAD_SETTINGS)))
    return setting


def auto_row(isa, onednn):
    """The row of AUTO_FILTER_GRAD for vector ISA `isa` (vector_isa()) and `onednn`
    (onednn_enabled(): True, False, or None for TF 1.15, which has no oneDNN kernels)."""
    return isa if onednn else 'eigen'


def filter_grad_policy(setting, device='cpu', pixels=None, row=None):
    """{layer kind: implementation} for `setting` on `device`, for images of `pixels` = H W
    (None: large). 'auto' takes AUTO_FILTER_GRAD's `row` (unless given, this process's: needs
    TensorFlow imported), or TensorFlow's gradient throughout for images smaller than the
    row's AUTO_MIN_PIXELS; a named implementation applies to every layer. On GPU / NPU
    TensorFlow's own gradient always runs (the others are CPU remedies)."""
    if device != 'cpu':
        return dict.fromkeys(LAYER_KINDS, 'tf')
    if setting != 'auto':
        return dict.fromkeys(LAYER_KINDS, setting)
    row = row or auto_row(vector_isa(), onednn_enabled())
    if pixels is not None and pixels < AUTO_MIN_PIXELS.get(row, 0):
        return dict.fromkeys(LAYER_KINDS, 'tf')
    return dict(AUTO_FILTER_GRAD[row])


def describe_policy(setting, policy):
    """'auto: first tf, inner matmul, last matmul' for the train log."""
    return '%s: %s' % (setting, ', '.join('%s %s' % (k, policy[k]) for k in LAYER_KINDS))
