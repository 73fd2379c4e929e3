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
"""How good is the data-sharing fill on its own? PSNR of the DS channels of the first cascade.

  python bench/ds_fill.py data/synthetic_cine_test_acc6.hdf5 [more.hdf5 ...] [--frame_dist D...]

For each test sequence (inputs exactly as test.py builds them, models.pre_input) and each
distance d, the first cascade's DS channel is formed in numpy as model_tf.data_sharing does with
divide_by_n False: the zero-filled k-space of frames t-d..t+d (wrapping in time) is summed and
divided by the number of frames that sampled each point (at least 1), and frame t's own samples
are put back. The channel's image is scored against the ground truth with test.py's metrics
(per frame, averaged over frames, then over sequences). d = 0 is the zero-filled input (IN).
This is what the CNN receives as extra channels; it tells whether neighbouring frames' k-space is
a good guess for the missing lines, independently of any training.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from models import metrics, pre_input  # noqa: E402


def ds_channel(feature, mask, d):
    """feature (T, H, W, 2) zero-filled, mask (T, H, W) uncentred 0/1 -> (T, H, W) complex."""
    x = feature[..., 0] + 1j * feature[..., 1]
    k = np.fft.fft2(x)
    ksum, msum = k.copy(), mask.astype(np.float64).copy()
    for s in range(1, d + 1):
        for sh in (s, -s):
            ksum += np.roll(k, sh, axis=0)
            msum += np.roll(mask, sh, axis=0)
    avg = ksum / np.maximum(msum, 1.0)
    return np.fft.ifft2(avg * (1 - mask) + k * mask)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('data', nargs='+', help='dynamic test HDF5 files')
    p.add_argument('--frame_dist', type=int, nargs='+', default=[0, 1, 2, 3, 4])
    a = p.parse_args(argv)
    for path in a.data:
        data = pre_input.H5Data(path)
        scores = dict((d, []) for d in a.frame_dist)
        for batch in pre_input.Batches(data, 4, shuffle=False, drop_remainder=False).epoch():
            for f, m, g in zip(batch['feature'], batch['mask'], batch['label']):
                for d in a.frame_dist:
                    rec = ds_channel(f, m, d)
                    rec = np.stack([rec.real, rec.imag], axis=-1)
                    scores[d].append(np.mean([metrics.psnr(gt, r) for gt, r in zip(g, rec)]))
        print('%s (%d sequences of %s):' % (path, data.n, data.shape))
        for d in a.frame_dist:
            print('  DS channel d=%d: PSNR %.2f dB' % (d, float(np.mean(scores[d]))))


if __name__ == '__main__':
    main()
