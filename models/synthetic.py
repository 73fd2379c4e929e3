"""A deterministic synthetic MR-like dataset, so everything runs with no download.

Each image is a cross-section-like phantom: a body ellipse with a bright subcutaneous-fat rim,
a few organs of different contrast, small bright vessels, smooth tissue texture, a smooth
background phase (coil/B0-like) and optional complex Gaussian noise. Image i of seed s is the
same on every machine (numpy's PCG64 seeded by (s, i)).
"""
import numpy as np
from scipy import ndimage


def _ellipse(yy, xx, cy, cx, ry, rx, angle):
    c, s = np.cos(angle), np.sin(angle)
    y, x = yy - cy, xx - cx
    u, v = c * x + s * y, -s * x + c * y
    return (u / rx) ** 2 + (v / ry) ** 2 <= 1.0


def phantom(size, seed=0, index=0, noise=0.0):
    """One complex64 (H, W) phantom with max |x| = 1. `size` is an int or (H, W)."""
    h, w = (size, size) if np.isscalar(size) else size
    rng = np.random.default_rng([seed, index])
    yy, xx = np.meshgrid(np.linspace(-1, 1, h), np.linspace(-1, 1, w), indexing='ij')
    img = np.zeros((h, w))

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

    texture = ndimage.gaussian_filter(rng.standard_normal((h, w)), sigma=max(h, w) / 64.0)
    texture /= np.abs(texture).max() + 1e-12
    img = img * (1.0 + 0.08 * texture) * body
    img = ndimage.gaussian_filter(img, sigma=0.6)  # partial-volume edges

    a, b, c, d = rng.uniform(-1.0, 1.0, size=4)
    phase = a * np.pi / 4 + b * xx + c * yy + 0.5 * d * xx * yy
    x = img * np.exp(1j * phase)
    if noise > 0:
        x = x + noise * (rng.standard_normal((h, w)) + 1j * rng.standard_normal((h, w))) / np.sqrt(2)
    return (x / np.abs(x).max()).astype(np.complex64)
