"""Pure-NumPy twins of the kde kernels (cpp/src/kde.cpp).

Same conventions as the C++ side: GRID units (column u, row v; pixel (i, j) centre at
(u, v) = (j, i)), covariances in grid units, and every kernel returns the raw sum of peak-1
Gaussians ``K = sum_k w_k exp(-q_k / 2)``. These are slow but straightforward: tests compare the
compiled kernels against them and ``heatcore.kde(..., backend="numpy")`` uses them.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "truncation_radius",
    "exact",
    "bin_linear",
    "blur_plan",
    "iir_coefficients",
    "blur",
]

# exp(-t^2/2), t >= 0, as sum_k (a cos(w t) + c sin(w t)) exp(-b t); rows a, c, b, w (same fit as C++).
_FIT = np.array([
    [3.1545256, 7.31261191, 2.18272762, 0.52660518],
    [-2.31305845, -0.9198975, 2.15162817, 1.61612797],
    [0.15852447, -0.04392657, 2.07925217, 2.85671727],
])
BIN_VAR = 1.0 / 6.0
MIN_PASS_VAR = 4.0


def truncation_radius(tol: float) -> float:
    """Mahalanobis radius beyond which one kernel's relative L2 mass is below ``tol``."""
    if not 0 < tol < 1:
        tol = 1e-7
    return math.sqrt(-2.0 * math.log(tol))


def exact(points: np.ndarray, weights: np.ndarray | None, shape: tuple[int, int],
          cov: tuple[float, float, float], tol: float = 1e-7) -> np.ndarray:
    """Truncated splatting: each point's kernel evaluated on its bounding box of radius r."""
    H, W = shape
    sxx, sxy, syy = (float(c) for c in cov)
    det = sxx * syy - sxy * sxy
    if not (sxx > 0 and syy > 0 and det > 0):
        raise ValueError(f"covariance {cov} is not positive definite")
    a, b, c = syy / det, -sxy / det, sxx / det
    r = truncation_radius(tol)
    rx, ry = r * math.sqrt(sxx), r * math.sqrt(syy)
    out = np.zeros((H, W))
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    w = np.ones(len(pts)) if weights is None else np.asarray(weights, dtype=np.float64)
    for (u, v), wk in zip(pts, w):
        j0, j1 = max(0, math.ceil(u - rx)), min(W - 1, math.floor(u + rx))
        i0, i1 = max(0, math.ceil(v - ry)), min(H - 1, math.floor(v + ry))
        if j0 > j1 or i0 > i1 or wk == 0:
            continue
        dx = np.arange(j0, j1 + 1) - u
        dy = (np.arange(i0, i1 + 1) - v)[:, None]
        q = a * dx * dx + 2 * b * dx * dy + c * dy * dy
        if sxy != 0:  # the C++ side clips each row to the ellipse q <= r^2 (box for sxy == 0)
            q = np.where((dy * dy / syy <= r * r) & (a * (dx + (b / a) * dy) ** 2 <= r * r), q, np.inf)
        out[i0:i1 + 1, j0:j1 + 1] += wk * np.exp(-0.5 * q)
    return out


def bin_linear(points: np.ndarray, weights: np.ndarray | None, grid: np.ndarray, mx: int, my: int) -> None:
    """Add each point's weight to its 4 nearest pixel centres of ``grid`` (in place); grid pixel
    (0, 0) sits at padded (my, mx)."""
    Hp, Wp = grid.shape
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    w = np.ones(len(pts)) if weights is None else np.asarray(weights, dtype=np.float64)
    u = pts[:, 0] + mx
    v = pts[:, 1] + my
    keep = (u > -1) & (u < Wp) & (v > -1) & (v < Hp)
    u, v, w = u[keep], v[keep], w[keep]
    fu, fv = np.floor(u), np.floor(v)
    ax, ay = u - fu, v - fv
    j, i = fu.astype(np.int64), fv.astype(np.int64)
    flat = grid.reshape(-1)
    w1 = w * ay
    w0 = w - w1
    for di, wy in ((0, w0), (1, w1)):
        for dj, part in ((0, wy - wy * ax), (1, wy * ax)):
            ii, jj = i + di, j + dj
            ok = (ii >= 0) & (ii < Hp) & (jj >= 0) & (jj < Wp)
            flat += np.bincount((ii * Wp + jj)[ok], weights=part[ok], minlength=Hp * Wp)


def blur_plan(cov: tuple[float, float, float]) -> dict | None:
    """Split a covariance into passes: variance A along x, B along y (minus the binning
    variance 1/6), C along the lattice direction (dx, dy) and C2 along (-1, 1) (weak
    correlations); None when a pass sigma would be < 2."""
    sxx, sxy, syy = (float(c) for c in cov)
    ax, ay = sxx - BIN_VAR, syy - BIN_VAR
    if abs(sxy) <= 1e-12 * math.sqrt(abs(sxx * syy)):
        ok = ax >= MIN_PASS_VAR and ay >= MIN_PASS_VAR
        return {"A": ax, "B": ay, "C": 0.0, "dx": 0, "dy": 0, "C2": 0.0} if ok else None
    sg = 1 if sxy > 0 else -1
    best, best_score = None, -math.inf
    for p in range(1, 5):
        for orient in (0, 1):
            if p == 1 and orient == 1:
                continue
            ddx, ddy = (p * sg, 1) if orient == 0 else (1, p * sg)
            C = sxy / (ddx * ddy)
            A, B = ax - C * ddx * ddx, ay - C * ddy * ddy
            score = min(A, B, C)
            if score > best_score:
                best_score, best = score, {"A": A, "B": B, "C": C, "dx": ddx, "dy": ddy, "C2": 0.0}
    if best_score >= MIN_PASS_VAR:
        return best
    # weak correlation: passes along (1, 1) and (-1, 1) whose variances differ by sxy
    C1, C2 = MIN_PASS_VAR + max(sxy, 0.0), MIN_PASS_VAR + max(-sxy, 0.0)
    A, B = ax - C1 - C2, ay - C1 - C2
    if A >= MIN_PASS_VAR and B >= MIN_PASS_VAR:
        return {"A": A, "B": B, "C": C1, "dx": 1, "dy": 1, "C2": C2}
    return None


def iir_coefficients(var: float) -> tuple[np.ndarray, np.ndarray]:
    """Poles z (3,) and gains g (3,) (complex) of the recursive Gaussian of variance ``var``,
    calibrated so h[n] = sum Re(g z^|n|) sums to 1 with second moment ``var``."""
    gk = _FIT[:, 0] - 1j * _FIT[:, 1]
    s = math.sqrt(var)
    for _ in range(8):
        z = np.exp((-_FIT[:, 2] + 1j * _FIT[:, 3]) / s)
        tot = np.sum(gk * (1 + z) / (1 - z)).real
        m2 = np.sum(gk * 2 * z * (1 + z) / (1 - z) ** 3).real
        s *= math.sqrt(var / (m2 / tot))
    z = np.exp((-_FIT[:, 2] + 1j * _FIT[:, 3]) / s)
    tot = np.sum(gk * (1 + z) / (1 - z)).real
    return z, gk / tot


def _pass(x: np.ndarray, var: float, shift: int = 0) -> np.ndarray:
    """Forward + backward recursive filter along axis 0 of x (rows, cols); with ``shift`` p the
    lines run through (c + p t, y + t). Zero boundary."""
    z, g = iir_coefficients(var)
    rows, cols = x.shape
    out = np.zeros((rows, cols))

    def shifted(state: np.ndarray) -> np.ndarray:  # state of line through (c, y) from row y - 1
        if shift == 0:
            return state
        res = np.zeros_like(state)
        if shift > 0:
            res[:, shift:] = state[:, :cols - shift]
        else:
            res[:, :cols + shift] = state[:, -shift:]
        return res

    u = np.zeros((3, cols), complex)
    for y in range(rows):
        u = x[y][None, :] + z[:, None] * shifted(u)
        out[y] = (g[:, None] * u).real.sum(0)
    v = np.zeros((3, cols), complex)
    xn = np.zeros(cols)
    for y in range(rows - 2, -1, -1):
        # line through (c, y) continues at (c + shift, y + 1)
        xn[:] = 0.0
        nxt = x[y + 1]
        vv = np.zeros_like(v)
        if shift >= 0:
            xn[:cols - shift] = nxt[shift:]
            vv[:, :cols - shift] = v[:, shift:]
        else:
            xn[-shift:] = nxt[:cols + shift]
            vv[:, -shift:] = v[:, :cols + shift]
        v = z[:, None] * (xn[None, :] + vv)
        out[y] += (g[:, None] * v).real.sum(0)
    return out


def blur(grid: np.ndarray, mx: int, my: int, shape: tuple[int, int], cov: tuple[float, float, float]) -> np.ndarray:
    """Recursive Gaussian blur of a linearly binned padded grid, cropped at (my, mx) to ``shape``
    and scaled to peak-1 kernels (the twin of ``_core.kde_blur``)."""
    H, W = shape
    plan = blur_plan(cov)
    if plan is None:
        raise ValueError("this covariance cannot be blurred accurately by recursive passes; use method='exact'")
    sxx, sxy, syy = cov
    g = np.asarray(grid, dtype=np.float64)
    if plan["C"] > 0 and plan["dy"] == 1:
        g = _pass(g, plan["C"], plan["dx"])
        if plan["C2"] > 0:
            g = _pass(g, plan["C2"], -1)
    g = _pass(g, plan["B"])
    t = np.ascontiguousarray(g.T)
    if plan["C"] > 0 and plan["dy"] != 1:
        t = _pass(t, plan["C"], plan["dy"])
    t = _pass(t, plan["A"])
    scale = 2 * math.pi * math.sqrt(sxx * syy - sxy * sxy)
    return scale * t.T[my:my + H, mx:mx + W]
