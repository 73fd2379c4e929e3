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
"""The multi-coil baselines (models/coil_baselines.py) on noiseless simulated coils: CG-SENSE
recovers an image that 4 coils at acceleration 2 determine, L1-wavelet ESPIRiT beats the
zero-filled combination, and the zero-filled one is the network's input."""
import numpy as np
import pytest

from models import coil_baselines as baselines, masks
from models.data import coils
from models.data.synthetic import phantom


def nmse(x, ref):
    return np.sum(np.abs(x - ref) ** 2) / np.sum(np.abs(ref) ** 2)


def problem(n=2, size=32, c=4, acc=2.0):
    x = np.stack([phantom(size, seed=i) for i in range(n)])
    s = coils.birdcage_maps((size, size), c, seed=0)
    m = masks.make_mask('equispaced', (n, size, size), acc, 4, seed=1)
    return x, s, m, coils.sense_forward(x, np.broadcast_to(s, (n, c, size, size)), m)


def test_cg_sense_recovers_a_determined_image():
    x, s, m, k = problem()
    zf = baselines.zero_filled(k, s, m)
    np.testing.assert_allclose(zf, coils.sense_adjoint(k, s), atol=1e-6)
    rec = baselines.cg_sense(k, s, m, iters=60)
    assert nmse(rec, x) < 1e-3 < nmse(zf, x)


def test_l1_espirit_beats_zero_filled():
    pytest.importorskip('sigpy')
    x, s, m, k = problem(n=1, acc=4.0)
    rec = baselines.l1_espirit(k, s, m, lam=1e-4, iters=30)
    assert rec.shape == x.shape
    assert nmse(rec, x) < 0.5 * nmse(baselines.zero_filled(k, s, m), x)
