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
"""Image helpers shared by the make_h5data.py readers (models/data/formats.py) and the synthetic
source, which yields (name, image) pairs one at a time."""
import numpy as np
from skimage import transform

from models.errors import InputError
from models.data.synthetic import phantom

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.tif', '.tiff', '.bmp')


def fit_image(img, size, fit='resize'):
    """2-D array -> (H, W) float64. 'resize': centre-crop to a square, then resize;
    'crop': centre-crop (zero-pad where smaller) to exactly (H, W)."""
    h, w = size
    img = np.asarray(img, dtype=np.float64)
    if fit == 'resize':
        s = min(img.shape)
        y0, x0 = (img.shape[0] - s) // 2, (img.shape[1] - s) // 2
        img = img[y0:y0 + s, x0:x0 + s]
        return transform.resize(img, (h, w), order=1, anti_aliasing=True, preserve_range=True)
    out = np.zeros((h, w))
    ch, cw = min(h, img.shape[0]), min(w, img.shape[1])
    y0, x0 = (img.shape[0] - ch) // 2, (img.shape[1] - cw) // 2
    oy, ox = (h - ch) // 2, (w - cw) // 2
    out[oy:oy + ch, ox:ox + cw] = img[y0:y0 + ch, x0:x0 + cw]
    return out


def to_gray(img, path):
    """8/16-bit or float image (H, W), (H, W, 3) or (H, W, 4) -> (H, W) float64."""
    img = np.asarray(img)
    if img.ndim == 3 and img.shape[-1] in (3, 4):
        img = img[..., :3].astype(np.float64) @ np.array([0.2125, 0.7154, 0.0721])
    if img.ndim != 2:
        raise InputError('%s: expected a 2-D grayscale or RGB image, got shape %s'
                         % (path, img.shape))
    return img.astype(np.float64)


def synthetic_images(indices, size, seed=0, noise=0.0):
    """Yield ('synthetic_<i>', complex64 phantom) for each index."""
    for i in indices:
        yield 'synthetic_%05d' % i, phantom(size, seed=seed, index=i, noise=noise)
