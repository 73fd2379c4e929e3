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
"""bench/ds_fill.py: the numpy DS channel used to explain the DS / no-DS comparison."""
import os
import sys

import numpy as np

from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, 'bench'))
import ds_fill  # noqa: E402


def test_ds_channel_zero_filled_and_static_fill():
    rng = np.random.default_rng(0)
    img = rng.standard_normal((8, 6)) + 1j * rng.standard_normal((8, 6))
    t = 4
    mask = np.zeros((t, 8, 6))
    for i in range(t):
        mask[i, i::t] = 1.0                       # complementary lines: together they are full
    k = np.fft.fft2(img)[None] * mask
    x = np.fft.ifft2(k)
    feature = np.stack([x.real, x.imag], axis=-1)
    np.testing.assert_allclose(ds_fill.ds_channel(feature, mask, 0), x, atol=1e-10)
    # a still sequence: frames t-2..t+2 (wrapping, 4 frames) sample every line, so d = 2
    # recovers the image exactly in every frame; d = 1 does not
    full = np.broadcast_to(img, x.shape)
    np.testing.assert_allclose(ds_fill.ds_channel(feature, mask, 2), full, atol=1e-10)
    assert np.abs(ds_fill.ds_channel(feature, mask, 1) - img).max() > 1e-3
