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
"""The stand-in's collective communication between the rank processes of one test: each rank
writes its array to a file in $NPU_STUB_EXCHANGE_DIR and reads the others'. Not HCCL, and not
part of the product: it only lets a 2-process CPU test check that ranks stay in step.

A collective op is named at graph construction (`name`, the same on every rank, which builds
the same graph) and counts its calls, so call k of op `name` on every rank meets the others'
call k."""
import os
import time

import numpy as np

TIMEOUT = 120  # seconds a rank waits for the others' files
_CALLS = {}


def rank_and_size():
    return int(os.environ.get('RANK_ID', '0')), int(os.environ.get('RANK_SIZE', '1'))


def _path(name, call, rank):
    if not os.environ.get('NPU_STUB_EXCHANGE_DIR'):
        raise RuntimeError('npu_bridge stand-in: several ranks need $NPU_STUB_EXCHANGE_DIR, a '
                           'folder they share')
    return os.path.join(os.environ['NPU_STUB_EXCHANGE_DIR'],
                        '%s.%d.%d.npy' % (name.replace('/', '_'), call, rank))


def _write(path, array):
    tmp = path + '.tmp.npy'
    np.save(tmp, array)
    os.replace(tmp, path)  # readers never see a partial file


def _read(path):
    t0 = time.time()
    while not os.path.exists(path):
        if time.time() - t0 > TIMEOUT:
            raise RuntimeError('npu_bridge stand-in: no %s after %d s' % (path, TIMEOUT))
        time.sleep(0.01)
    return np.load(path)


def _next_call(name):
    call = _CALLS.get(name, 0)
    _CALLS[name] = call + 1
    return call


def all_gather(name, array):
    """Every rank's `array`, in rank order."""
    rank, size = rank_and_size()
    call = _next_call(name)
    _write(_path(name, call, rank), array)
    return [array if r == rank else _read(_path(name, call, r)) for r in range(size)]


def broadcast(name, array, root):
    """Rank `root`'s `array` (the root writes and does not wait)."""
    rank, _ = rank_and_size()
    call = _next_call(name)
    if rank == root:
        _write(_path(name, call, rank), array)
        return array
    return _read(_path(name, call, root))
