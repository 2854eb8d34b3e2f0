"""Pure-NumPy twins of the homography kernels (cpp/src/homography.cpp)."""

from __future__ import annotations

import numpy as np

__all__ = ["apply_homography"]


def apply_homography(H: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, int]:
    """Twin of ``_core.apply_homography``: map (N, 2) points through the 3x3 ``H``.

    ``w = H[2,0]*x + H[2,1]*y + H[2,2]``; ``x' = (H[0,0]*x + H[0,1]*y + H[0,2]) * (1/w)`` (same
    operation order as the C++ kernel, so results agree bit for bit). Points with ``w <= 0`` (at or
    behind the horizon) become NaN and are counted. Returns ``(mapped, count)``.
    """
    H = np.asarray(H, dtype=np.float64)
    p = np.asarray(points, dtype=np.float64)
    if H.shape != (3, 3):
        raise ValueError(f"H must have shape (3, 3), got {H.shape}")
    if p.ndim != 2 or p.shape[1] != 2:
        raise ValueError(f"points must have shape (N, 2), got {p.shape}")
    x = p[:, 0]
    y = p[:, 1]
    w = H[2, 0] * x + H[2, 1] * y + H[2, 2]
    bad = w <= 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(bad, np.nan, 1.0 / w)
    out = np.empty_like(p)
    out[:, 0] = (H[0, 0] * x + H[0, 1] * y + H[0, 2]) * inv
    out[:, 1] = (H[1, 0] * x + H[1, 1] * y + H[1, 2]) * inv
    return out, int(bad.sum())
