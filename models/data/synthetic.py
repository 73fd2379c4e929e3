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
"""A deterministic synthetic MR-like dataset, so everything runs with no download.

Each image is a cross-section-like phantom: a body ellipse with a bright subcutaneous-fat rim,
a few organs of different contrast, small bright vessels, smooth tissue texture, a smooth
background phase (coil/B0-like) and optional complex Gaussian noise. Image i of seed s is the
same on every machine (numpy's PCG64 seeded by (s, i)).

`cine_phantom` is the dynamic (2D+t) counterpart: the same kind of still body, with a heart-like
structure in the middle (a bright blood pool inside a darker myocardium, and a second, smaller
chamber) that contracts and expands over one periodic cycle, like a short-axis cardiac cine.
Only the heart moves, as in a breath-held cine. With motion='global' the whole field of view
moves as well: every frame is translated and scaled (a free-breathing-like rigid drift of body
and heart together), so no pixel stays still from frame to frame.
"""
import numpy as np
from scipy import ndimage


def _ellipse(yy, xx, cy, cx, ry, rx, angle):
    c, s = np.cos(angle), np.sin(angle)
    y, x = yy - cy, xx - cx
    u, v = c * x + s * y, -s * x + c * y
    return (u / rx) ** 2 + (v / ry) ** 2 <= 1.0


def _grid(size):
    h, w = (size, size) if np.isscalar(size) else size
    yy, xx = np.meshgrid(np.linspace(-1, 1, h), np.linspace(-1, 1, w), indexing='ij')
    return h, w, yy, xx


def _body(yy, xx, rng):
    """Magnitude (H, W) of body, fat rim, organs and vessels; returns (img, body, inner,
    (cy, cx, ry, rx))."""
    img = np.zeros(yy.shape)

    ry, rx = rng.uniform(0.6, 0.85), rng.uniform(0.7, 0.92)
    angle = rng.uniform(-0.3, 0.3)
    cy, cx = rng.uniform(-0.05, 0.05, size=2)
    body = _ellipse(yy, xx, cy, cx, ry, rx, angle)
    inner = _ellipse(yy, xx, cy, cx, ry - 0.08, rx - 0.08, angle)
    img[body] = rng.uniform(0.8, 1.0)           # fat rim
    img[inner] = rng.uniform(0.3, 0.5)          # soft tissue

    for _ in range(rng.integers(3, 7)):         # organs
        oy = cy + rng.uniform(-0.5, 0.5) * (ry - 0.2)
        ox = cx + rng.uniform(-0.5, 0.5) * (rx - 0.2)
        organ = _ellipse(yy, xx, oy, ox, rng.uniform(0.08, 0.3), rng.uniform(0.08, 0.3),
                         rng.uniform(0, np.pi)) & inner
        img[organ] = rng.uniform(0.05, 0.95)

    for _ in range(rng.integers(4, 10)):        # vessels and small lesions
        vy = cy + rng.uniform(-0.6, 0.6) * ry
        vx = cx + rng.uniform(-0.6, 0.6) * rx
        r = rng.uniform(0.015, 0.05)
        img[_ellipse(yy, xx, vy, vx, r, r, 0.0) & inner] = rng.uniform(0.6, 1.0)
    return img, body, inner, (cy, cx, ry, rx)


def _phase(yy, xx, rng):
    """A smooth background phase (H, W): constant + linear + a little bilinear term."""
    a, b, c, d = rng.uniform(-1.0, 1.0, size=4)
    return a * np.pi / 4 + b * xx + c * yy + 0.5 * d * xx * yy


def phantom(size, seed=0, index=0, noise=0.0):
    """One complex64 (H, W) phantom with max |x| = 1. `size` is an int or (H, W)."""
    h, w, yy, xx = _grid(size)
    rng = np.random.default_rng([seed, index])
    img, body, _, _ = _body(yy, xx, rng)

    texture = ndimage.gaussian_filter(rng.standard_normal((h, w)), sigma=max(h, w) / 64.0)
    texture /= np.abs(texture).max() + 1e-12
    img = img * (1.0 + 0.08 * texture) * body
    img = ndimage.gaussian_filter(img, sigma=0.6)  # partial-volume edges

    x = img * np.exp(1j * _phase(yy, xx, rng))
    if noise > 0:
        x = x + noise * (rng.standard_normal((h, w)) + 1j * rng.standard_normal((h, w))) / np.sqrt(2)
    return (x / np.abs(x).max()).astype(np.complex64)


MOTIONS = ('local', 'global')


def _global_motion(frames, rng):
    """Per-frame (dy, dx, scale) of a periodic whole-body motion, in the [-1, 1] grid units of
    `_grid` (the field of view is 2 wide): one cycle over T with its own start phase, vertical
    drift amplitude 0.10..0.20 (5-10 % of the FOV, a breathing-like excursion), horizontal
    0.03..0.08, isotropic scale 1 +- 0.03..0.06. The ranges were fixed before any experiment."""
    ay, ax = rng.uniform(0.10, 0.20), rng.uniform(0.03, 0.08)
    az = rng.uniform(0.03, 0.06)
    p = rng.uniform(0, 2 * np.pi)
    t = 2 * np.pi * np.arange(frames) / frames + p
    return ay * np.sin(t), ax * np.sin(t + rng.uniform(0, np.pi)), 1.0 + az * np.sin(t)


def _move(x, dy, dx, scale):
    """Complex (H, W) image x translated by (dy, dx) grid units and scaled about the centre
    (linear interpolation of real and imaginary parts, zero outside)."""
    h, w = x.shape
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    yy, xx = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64),
                         indexing='ij')
    # Output pixel p shows the content of source pixel centre + (p - centre - d) / scale.
    sy = cy + (yy - cy - dy * (h - 1) / 2.0) / scale
    sx = cx + (xx - cx - dx * (w - 1) / 2.0) / scale
    out = [ndimage.map_coordinates(part, [sy, sx], order=1, mode='constant', cval=0.0)
           for part in (x.real, x.imag)]
    return out[0] + 1j * out[1]


def cine_phantom(size, frames, seed=0, index=0, noise=0.0, motion='local'):
    """One complex64 (T, H, W) cine sequence with max |x| = 1 over the sequence.

    A still body (as `phantom`) with a heart in the middle: a left ventricle (bright blood pool
    in a darker myocardium) and a smaller right ventricle beside it. The blood pool's radius
    follows one cardiac cycle over the T frames, r(t) = r0 (1 - a (1 - cos(2 pi t / T + p)) / 2),
    contraction a in [0.25, 0.45], start phase p random; the myocardium keeps its area (it
    thickens as the pool shrinks). The cycle is periodic in T, as a cine over one heartbeat is,
    which matches the wrap-around in time of the data-sharing layer. Sequence i of seed s is
    the same on every machine; noise (complex Gaussian std `noise`) differs per frame.

    motion 'local' (default): only the heart moves. motion 'global': each frame (body, heart
    and background phase together) is then moved by a periodic translation and scaling
    (`_global_motion`, drawn from its own random stream, so the heart and body are the same
    as in the 'local' sequence of the same seed and index).
    """
    if motion not in MOTIONS:
        raise ValueError('motion must be one of %s, got %r' % (MOTIONS, motion))
    h, w, yy, xx = _grid(size)
    rng = np.random.default_rng([seed, index, 2])  # its own stream: not the 2D image i
    static, body, inner, (cy, cx, ry, rx) = _body(yy, xx, rng)
    hy = cy + rng.uniform(-0.08, 0.08)
    hx = cx + rng.uniform(-0.08, 0.08)
    r0 = rng.uniform(0.17, 0.24)                 # end-diastolic blood pool radius
    ecc = rng.uniform(0.85, 1.0)                 # slightly elliptic ventricle
    wall = rng.uniform(0.06, 0.09)               # end-diastolic wall thickness
    contraction = rng.uniform(0.25, 0.45)
    start = rng.uniform(0, 2 * np.pi)
    angle = rng.uniform(0, np.pi)
    blood, myo = rng.uniform(0.85, 1.0), rng.uniform(0.2, 0.35)
    rv_side = rng.choice([-1.0, 1.0])
    texture = ndimage.gaussian_filter(rng.standard_normal((h, w)), sigma=max(h, w) / 64.0)
    texture /= np.abs(texture).max() + 1e-12
    phase = _phase(yy, xx, rng)

    wall_area = (r0 + wall) ** 2 - r0 ** 2
    if motion == 'global':
        dys, dxs, scales = _global_motion(frames, np.random.default_rng([seed, index, 3]))
    seq = np.empty((frames, h, w), dtype=np.complex128)
    for t in range(frames):
        r = r0 * (1.0 - contraction * (1.0 - np.cos(2 * np.pi * t / frames + start)) / 2.0)
        r_epi = np.sqrt(r ** 2 + wall_area)
        img = static.copy()
        # RV: a crescent-like chamber beside the LV, moving in phase with it.
        rvx = hx + rv_side * (r_epi + 0.6 * r)
        img[_ellipse(yy, xx, hy, rvx, 1.3 * r, 0.7 * r, 0.0) & inner] = 0.9 * blood
        img[_ellipse(yy, xx, hy, hx, r_epi, ecc * r_epi, angle) & inner] = myo
        img[_ellipse(yy, xx, hy, hx, r, ecc * r, angle) & inner] = blood
        img = img * (1.0 + 0.08 * texture) * body
        img = ndimage.gaussian_filter(img, sigma=0.6)
        x = img * np.exp(1j * phase)
        if motion == 'global':
            x = _move(x, dys[t], dxs[t], scales[t])
        if noise > 0:
            x = x + noise * (rng.standard_normal((h, w)) +
                             1j * rng.standard_normal((h, w))) / np.sqrt(2)
        seq[t] = x
    return (seq / np.abs(seq).max()).astype(np.complex64)
