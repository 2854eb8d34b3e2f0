"""Gaussian kernel density heatmaps from 2-D points.

:func:`kde` evaluates a Gaussian KDE at the pixel centres of an (H, W) grid, matching
``scipy.stats.gaussian_kde(...).evaluate`` (``normalize="density"``) but thousands of times
faster. Two C++ kernels do the work:

- ``"exact"``: truncated-kernel splatting. Every point adds its Gaussian on the box where it
  exceeds ``tol`` (relative L2 truncation error ``tol`` per kernel, default 1e-7). Any 2x2
  covariance. Cost grows with N x sigma^2: best for few points or small sigma. Axis-aligned
  kernels are separable (each point's 1-D profiles are computed once; a window row is a scaled
  copy of the x profile); the grid is built in row bands that stay in L2 cache and written once,
  with the normalisation folded in (no second pass).
- ``"binned"``: linear binning onto the grid (plus a margin so points outside still add their
  in-grid tails), then a recursive (IIR, three complex poles, forward + backward) Gaussian blur
  whose cost does not depend on sigma. The linear-binning variance (1/6 pixel^2 per axis) is
  subtracted from the blur's. Correlated covariances add a third recursive pass along a lattice
  direction (1, ±1), (±2, 1), (1, ±2), ... whose variances sum to the covariance (weak
  correlations use both diagonals (1, 1) and (-1, 1), variances differing by sxy). When no split
  keeps every pass's sigma >= 2 pixels (tiny or nearly singular kernels) ``method="auto"`` uses
  ``"exact"`` and ``method="binned"`` raises ValueError. Binning adds an error of about
  0.08 / sigma^2 per point (pixels) that averages out over many points.
- ``"auto"`` picks by a cost model (measured ns per kernel pixel / per binned point / per blur
  pixel) and only picks ``"binned"`` when its predicted error is below 2e-4.

Speed (2-core VM, shared while measured; ``python bench/compare_kde.py`` for the full table):
1e6 clustered points onto 1920x1080 at sigma 15 take about 15-24 ms (np.bincount +
cv2.GaussianBlur: 85-145 ms, KDEpy FFTKDE: ~850 ms), onto 480x270 about 4-7 ms; Scott's
rule on 1920x1080 stays under ~45 ms for any N up to 1e6; 1e3 points exact on 1920x1080 take
about 6.3 ms of one core's CPU time (writing the 16 MB result included); two threads split the
bands (best 6.8 ms wall, measured while the VM ran at load 11; the previous row-band splatting
was 2.6x slower in the same run). ``dtype=np.float32`` halves the memory.

Limits: a kernel sigma more than ``MAX_SIGMA_DIAGONALS`` (1e4) grid diagonals wide is a
ValueError naming the value (the heatmap would be flat to 5e-9; usually a units mistake), and
so is a result that is not finite (weights near the float64 limit): never a NaN picture. Binning splits the points over threads (one grid per worker, summed); the y pass runs
over column chunks and the x pass over 8-row blocks, both vectorised.

Coordinates
-----------
Points are (x, y). Without ``extent`` they are pixel coordinates: pixel (row i, column j)
covers x in [j, j+1), y in [i, i+1) and is evaluated at its centre (j + 0.5, i + 0.5), i.e.
``extent = (0, W, 0, H)``. With ``extent = (xmin, xmax, ymin, ymax)`` the grid covers that
rectangle of data units and **row 0 is ymin** (like image rows: y grows downwards in the array;
use ``origin="lower"`` in matplotlib, or flip with ``H[::-1]``, to draw y upwards). Bandwidths are
in the same units as the points (pixels without ``extent``).
"""

from __future__ import annotations

import math
from typing import Any, Literal, Sequence

import numpy as np

from . import _checks
from .accumulator import Accumulator
from .reference import kde as _ref

__all__ = ["kde", "scott_factor", "silverman_factor", "bandwidth_covariance", "KDEAccumulator", "fit_extent"]

Normalize = Literal["density", "count", "none"]
Method = Literal["auto", "exact", "binned"]

# cost model (ns, one core): exact per kernel pixel (x2.5 when correlated), binning per point,
# recursive blur per padded pixel per pass
_NS_EXACT = 0.4
_NS_BIN = 5.0
_NS_PASS = 3.5
_BINNED_MAX_ERR = 2e-4
# Largest kernel sigma, in multiples of the grid diagonal (grid pixels). Beyond it the heatmap is
# flat to within (1/MAX_SIGMA_DIAGONALS)^2 / 2 = 5e-9 relative (below float32 resolution): such a
# bandwidth is a units mistake, and the recursive filter would lose precision near 1e13 pixels.
MAX_SIGMA_DIAGONALS = 1e4


def scott_factor(n: float, d: int = 2) -> float:
    """Scott's bandwidth factor ``n ** (-1 / (d + 4))`` (n = effective number of points)."""
    n = _checks.positive_float("n", n)
    return n ** (-1.0 / (d + 4))


def silverman_factor(n: float, d: int = 2) -> float:
    """Silverman's factor ``(n (d + 2) / 4) ** (-1 / (d + 4))`` (equal to Scott's for d = 2)."""
    n = _checks.positive_float("n", n)
    return (n * (d + 2) / 4.0) ** (-1.0 / (d + 4))


def _weighted_cov(points: np.ndarray, w: np.ndarray | None) -> tuple[np.ndarray, float]:
    n = len(points)
    if w is None:
        cov = np.cov(points.T, bias=False)
        return np.atleast_2d(cov), float(n)
    sw = float(w.sum())
    if not sw > 0:
        raise ValueError("weights sum to 0: a data-driven bandwidth needs positive weights")
    neff = sw * sw / float((w * w).sum())
    return np.atleast_2d(np.cov(points.T, aweights=w, bias=False)), neff


def _check_cov(cov: np.ndarray, what: str) -> tuple[float, float, float]:
    sxx, sxy, syy = float(cov[0, 0]), float(0.5 * (cov[0, 1] + cov[1, 0])), float(cov[1, 1])
    if not all(math.isfinite(v) for v in (sxx, sxy, syy)):
        raise ValueError(f"{what} covariance is not finite: {cov.tolist()}")
    # det > 1e-12 sxx syy, i.e. correlation^2 < 1 - 1e-12, without forming sxx * syy (overflow)
    if not (sxx > 0 and syy > 0 and ((sxy / math.sqrt(sxx)) / math.sqrt(syy)) ** 2 < 1 - 1e-12):
        raise ValueError(
            f"{what} covariance {[[sxx, sxy], [sxy, syy]]} is singular (the points lie on a line or "
            "coincide, so a variance is 0): pass an explicit bandwidth, e.g. bandwidth=15 (pixels)")
    return sxx, sxy, syy


def bandwidth_covariance(bandwidth: Any, points: np.ndarray, weights: np.ndarray | None = None) -> tuple[float, float, float]:
    """The kernel covariance (sxx, sxy, syy) in data units for a ``bandwidth`` spec.

    ``bandwidth``: a number (isotropic sigma), ``(sx, sy)`` sigmas, a 2x2 covariance matrix, or
    ``"scott"`` / ``"silverman"`` = the weighted data covariance times the factor squared with
    ``neff = sum(w)^2 / sum(w^2)``, exactly as ``scipy.stats.gaussian_kde``.
    """
    if isinstance(bandwidth, str):
        name = bandwidth.lower()
        if name not in ("scott", "silverman"):
            raise ValueError(f"bandwidth must be a number, (sx, sy), a 2x2 covariance, 'scott' or 'silverman', got {bandwidth!r}")
        if len(points) < 2:
            raise ValueError(f"bandwidth={bandwidth!r} needs at least 2 points, got {len(points)}; pass an explicit bandwidth")
        cov, neff = _weighted_cov(points, weights)
        f = scott_factor(neff) if name == "scott" else silverman_factor(neff)
        return _check_cov(cov * f * f, f"the {name} bandwidth")
    if isinstance(bandwidth, (int, float, np.integer, np.floating)) and not isinstance(bandwidth, bool):
        s = _checks.positive_float("bandwidth", bandwidth)
        return s * s, 0.0, s * s
    try:
        arr = np.asarray(bandwidth, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"bandwidth must be a number, (sx, sy), a 2x2 covariance, 'scott' or 'silverman', got {bandwidth!r}") from None
    if arr.shape == (2,):
        sx = _checks.positive_float("bandwidth[0] (sx)", float(arr[0]))
        sy = _checks.positive_float("bandwidth[1] (sy)", float(arr[1]))
        return sx * sx, 0.0, sy * sy
    if arr.shape == (2, 2):
        if not np.allclose(arr, arr.T, rtol=1e-9, atol=0):
            raise ValueError(f"bandwidth covariance must be symmetric, got {arr.tolist()}")
        return _check_cov(arr, "the bandwidth")
    raise ValueError(f"bandwidth must be a number, (sx, sy), a 2x2 covariance, 'scott' or 'silverman', got shape {arr.shape}")


def _extent(extent: Sequence[float] | None, H: int, W: int) -> tuple[float, float, float, float]:
    if extent is None:
        return 0.0, float(W), 0.0, float(H)
    try:
        xmin, xmax, ymin, ymax = (float(v) for v in extent)
    except (TypeError, ValueError):
        raise TypeError(f"extent must be (xmin, xmax, ymin, ymax), got {extent!r}") from None
    if not all(math.isfinite(v) for v in (xmin, xmax, ymin, ymax)) or not (xmax > xmin and ymax > ymin):
        raise ValueError(f"extent must be finite with xmax > xmin and ymax > ymin, got {extent!r}")
    return xmin, xmax, ymin, ymax


def _scale(normalize: str, cov_data: tuple[float, float, float], total_weight: float) -> float:
    if normalize == "count":
        return 1.0
    sxx, sxy, syy = cov_data
    rho = (sxy / math.sqrt(sxx)) / math.sqrt(syy)
    norm = 1.0 / (2.0 * math.pi * math.sqrt(sxx) * math.sqrt(syy) * math.sqrt(1.0 - rho * rho))
    if normalize == "none":
        s = norm
    elif normalize == "density":
        s = norm / total_weight if total_weight > 0 else 0.0
    else:
        raise ValueError(f"normalize must be 'density', 'count' or 'none', got {normalize!r}")
    if not math.isfinite(s):
        raise ValueError(f"normalize={normalize!r}: the scale factor {s!r} is not finite (kernel covariance {cov_data}, "
                         f"total weight {total_weight!r})")
    return s


def _out_dtype(dtype: Any) -> np.dtype:
    """np.float64 or np.float32 (the result dtype); anything else is a ValueError naming it."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"dtype must be float64 or float32, got {dtype!r}") from None
    if dt not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise ValueError(f"dtype must be float64 or float32, got {dtype!r}")
    return dt


def check_bandwidth_bound(covg: tuple[float, float, float], H: int, W: int, dx: float = 1.0, dy: float = 1.0) -> None:
    """ValueError when the kernel (grid pixels^2) is wider than ``MAX_SIGMA_DIAGONALS`` grid diagonals.

    ``dx``, ``dy``: data units per grid pixel, only to quote the bandwidth in the caller's units.
    """
    sxx, _, syy = covg
    sigma = math.sqrt(max(sxx, syy))
    diag = math.hypot(H, W)
    if not sigma <= MAX_SIGMA_DIAGONALS * diag:
        data = math.sqrt(max(sxx * dx * dx, syy * dy * dy))
        raise ValueError(
            f"bandwidth sigma {data:.6g} (data units) = {sigma:.6g} grid pixels is more than {MAX_SIGMA_DIAGONALS:g}x "
            f"the grid diagonal ({diag:.6g} pixels): the heatmap would be flat. Pass a smaller bandwidth (check its "
            "units against the extent)")


def _to_grid(points: np.ndarray, ext: tuple[float, float, float, float], H: int, W: int):
    xmin, xmax, ymin, ymax = ext
    dx, dy = (xmax - xmin) / W, (ymax - ymin) / H
    g = np.empty_like(points)
    g[:, 0] = (points[:, 0] - xmin) / dx - 0.5
    g[:, 1] = (points[:, 1] - ymin) / dy - 0.5
    return g, dx, dy


def _margins(gp: np.ndarray, covg: tuple[float, float, float], H: int, W: int, r: float, plan: dict | None) -> tuple[int, int]:
    """Padding (columns, rows) so points outside the grid add their in-grid tails."""
    sxx, _, syy = covg
    extra = 0.0
    if plan is not None and plan["C"] > 0:  # the diagonal pass can carry mass out and back in
        extra = r * math.sqrt(plan["C"] + plan["C2"]) * max(abs(plan["dx"]), abs(plan["dy"]))
    if len(gp):
        over_x = max(0.0, -float(gp[:, 0].min()), float(gp[:, 0].max()) - (W - 1))
        over_y = max(0.0, -float(gp[:, 1].min()), float(gp[:, 1].max()) - (H - 1))
    else:
        over_x = over_y = 0.0
    mx = min(r * math.sqrt(sxx) + 1.0, over_x + extra)
    my = min(r * math.sqrt(syy) + 1.0, over_y + extra)
    return int(math.ceil(mx)) + 2, int(math.ceil(my)) + 2


def _choose(method: str, n: int, covg: tuple[float, float, float], H: int, W: int, r: float, plan: dict | None,
            mx: int, my: int) -> str:
    if method not in ("auto", "exact", "binned"):
        raise ValueError(f"method must be 'auto', 'exact' or 'binned', got {method!r}")
    if method == "binned" and plan is None:
        raise ValueError(
            f"method='binned' cannot split the covariance {covg} (grid pixels^2) into recursive passes with "
            "sigma >= 2 pixels; use method='exact' or 'auto'")
    if method != "auto":
        return method
    if plan is None or n == 0:
        return "exact"
    sxx, sxy, syy = covg
    sx, sy = math.sqrt(sxx), math.sqrt(syy)
    exact_ns = n * (2 * r * sx + 1) * (2 * r * sy + 1) * _NS_EXACT * (1.0 if sxy == 0 else 2.5)
    passes = 2 + (plan["C"] > 0) + (plan["C2"] > 0)
    binned_ns = n * _NS_BIN + (H + 2 * my) * (W + 2 * mx) * _NS_PASS * passes
    # binning error: about 0.08 / sigma_min^2 per point, averaged over the points under a kernel
    smin2 = min(sxx, syy)
    per_kernel = max(1.0, n * 2 * math.pi * sx * sy / (H * W))
    err = 0.08 / smin2 / math.sqrt(per_kernel)
    return "binned" if binned_ns < exact_ns and err <= _BINNED_MAX_ERR else "exact"


def _stats_numpy(pts: np.ndarray, w: np.ndarray | None) -> dict[str, float]:
    """Same numbers as ``_core.kde_stats`` for already-clean points (NumPy)."""
    n = len(pts)
    if n == 0:
        return {"finite": 0, "xmin": 0.0, "xmax": 0.0, "ymin": 0.0, "ymax": 0.0, "wmin": 0.0, "x0": 0.0, "y0": 0.0,
                "sw": 0.0, "sw2": 0.0, "swx": 0.0, "swy": 0.0, "swxx": 0.0, "swxy": 0.0, "swyy": 0.0}
    ww = np.ones(n) if w is None else w
    x0, y0 = float(pts[0, 0]), float(pts[0, 1])
    dx, dy = pts[:, 0] - x0, pts[:, 1] - y0
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    with np.errstate(over="ignore", invalid="ignore"):  # sums of huge values: inf, reported by the caller
        return {"finite": n, "xmin": float(lo[0]), "xmax": float(hi[0]), "ymin": float(lo[1]), "ymax": float(hi[1]),
                "wmin": float(ww.min()), "x0": x0, "y0": y0, "sw": float(ww.sum()), "sw2": float((ww * ww).sum()),
                "swx": float(ww @ dx), "swy": float(ww @ dy), "swxx": float(ww @ (dx * dx)),
                "swxy": float(ww @ (dx * dy)), "swyy": float(ww @ (dy * dy))}


def _cov_from_moments(sw: float, sw2: float, swx: float, swy: float, swxx: float, swxy: float, swyy: float) -> tuple[np.ndarray, float]:
    """Weighted covariance exactly as ``np.cov(aweights=w, ddof=1)`` from moments, and neff."""
    if not sw > 0:
        raise ValueError("weights sum to 0: a data-driven bandwidth needs positive weights")
    denom = sw - sw2 / sw
    if not denom > 0:
        raise ValueError("a data-driven bandwidth needs at least 2 points with positive weight; pass an explicit bandwidth")
    cxx = (swxx - swx * swx / sw) / denom
    cxy = (swxy - swx * swy / sw) / denom
    cyy = (swyy - swy * swy / sw) / denom
    return np.array([[cxx, cxy], [cxy, cyy]]), sw * sw / sw2


def _kernel_cov(bandwidth: Any, st: dict[str, float]) -> tuple[float, float, float]:
    if isinstance(bandwidth, str) and bandwidth.lower() in ("scott", "silverman"):
        name = bandwidth.lower()
        if st["finite"] < 2:
            raise ValueError(f"bandwidth={bandwidth!r} needs at least 2 points, got {st['finite']}; pass an explicit bandwidth")
        cov, neff = _cov_from_moments(st["sw"], st["sw2"], st["swx"], st["swy"], st["swxx"], st["swxy"], st["swyy"])
        f = scott_factor(neff) if name == "scott" else silverman_factor(neff)
        return _check_cov(cov * f * f, f"the {name} bandwidth")
    return bandwidth_covariance(bandwidth, np.zeros((0, 2)))


def _clean_points(points: Any, weights: Any, backend: str, moments: bool = True):
    """(points, weights, stats): the caller's float64 array is used as is when every row is finite."""
    if (backend == "cpp" and isinstance(points, np.ndarray) and points.dtype == np.float64 and points.ndim == 2
            and points.shape[1] == 2 and points.flags.c_contiguous
            and (weights is None or (isinstance(weights, np.ndarray) and weights.dtype == np.float64
                                     and weights.shape == (points.shape[0],) and weights.flags.c_contiguous))):
        from . import _core
        st = _core.kde_stats(points, weights, moments)
        if st["finite"] == len(points):
            if weights is not None and len(points) and st["wmin"] < 0:
                raise ValueError(f"weights must be >= 0, got min {st['wmin']!r}")
            return points, weights, st
    pts, w = _checks.as_points(points, weights=weights)
    if backend == "cpp":
        from . import _core
        return pts, w, _core.kde_stats(pts, w)
    return pts, w, _stats_numpy(pts, w)


def kde(points: Any, shape: Any, bandwidth: Any = "scott", weights: Any = None,
        extent: Sequence[float] | None = None, normalize: Normalize = "density", method: Method = "auto",
        threads: int | None = None, backend: Literal["cpp", "numpy"] = "cpp", tol: float = 1e-7,
        dtype: Any = np.float64) -> np.ndarray:
    """Gaussian kernel density of 2-D points at the pixel centres of an (H, W) grid.

    Parameters
    ----------
    points : (N, 2) array-like of (x, y). Pixel coordinates unless ``extent`` is given. Rows with
        NaN/inf (in points or weights) are dropped with one RuntimeWarning giving the count.
    shape : (H, W) in pixels, or ``"HxW"`` text.
    bandwidth : number (isotropic sigma), ``(sx, sy)``, 2x2 covariance, or ``"scott"`` /
        ``"silverman"`` (scipy.stats.gaussian_kde's rule, weighted covariance and neff). Data
        units (pixels without ``extent``).
    weights : (N,) non-negative weights, or None.
    extent : (xmin, xmax, ymin, ymax) in data units covered by the grid; row 0 is ymin.
    normalize : ``"density"`` = scipy's pdf at the pixel centres (integrates to ~1 over the
        plane, in 1/data-unit^2); ``"count"`` = each point adds a kernel with peak ``weight``
        (two coincident points peak at 2); ``"none"`` = sum of unit-mass kernels
        ``sum_k w_k N(x; p_k, Sigma)`` (density x total weight).
    method : ``"auto"``, ``"exact"`` or ``"binned"`` (see the module docs).
    threads : worker threads (None/0 = all cores).
    backend : ``"cpp"`` (compiled) or ``"numpy"`` (the pure-NumPy twins; slow).
    tol : relative L2 truncation error per kernel of the exact method.
    dtype : ``np.float64`` (default) or ``np.float32`` (half the memory; the exact method sums in
        float64 and rounds once, so values are within 6e-8 relative of the float64 result).

    Returns
    -------
    (H, W) array of ``dtype`` the caller owns.

    Raises
    ------
    ValueError : bad arguments; a kernel sigma more than ``MAX_SIGMA_DIAGONALS`` (1e4) grid
        diagonals wide (the heatmap would be flat; usually a units mistake); a result that is
        not finite (e.g. weights near the float64 limit) — never a NaN/inf picture.
    """
    H, W = _checks.as_shape(shape)
    out_dtype = _out_dtype(dtype)
    nthreads = _checks.resolve_threads(threads)
    if backend not in ("cpp", "numpy"):
        raise ValueError(f"backend must be 'cpp' or 'numpy', got {backend!r}")
    if normalize not in ("density", "count", "none"):
        raise ValueError(f"normalize must be 'density', 'count' or 'none', got {normalize!r}")
    if method not in ("auto", "exact", "binned"):
        raise ValueError(f"method must be 'auto', 'exact' or 'binned', got {method!r}")
    if not (isinstance(tol, (int, float)) and 0 < tol < 1):
        raise ValueError(f"tol must be in (0, 1), got {tol!r}")
    if not isinstance(bandwidth, str):
        bandwidth_covariance(bandwidth, np.zeros((0, 2)))  # validate before touching the points
    elif bandwidth.lower() not in ("scott", "silverman"):
        raise ValueError(f"bandwidth must be a number, (sx, sy), a 2x2 covariance, 'scott' or 'silverman', got {bandwidth!r}")
    ext = _extent(extent, H, W)
    pts, w, st = _clean_points(points, weights, backend, moments=isinstance(bandwidth, str))
    cov = _kernel_cov(bandwidth, st)
    n = int(st["finite"])
    total = float(st["sw"])
    if not math.isfinite(total):
        raise ValueError(f"the weights sum to {total!r} (each is finite, their sum overflows float64): scale them down")
    xmin, xmax, ymin, ymax = ext
    dx, dy = (xmax - xmin) / W, (ymax - ymin) / H
    affine = (1.0 / dx, -xmin / dx - 0.5, 1.0 / dy, -ymin / dy - 0.5)
    covg = (cov[0] / (dx * dx), cov[1] / (dx * dy), cov[2] / (dy * dy))
    check_bandwidth_bound(covg, H, W, dx, dy)
    if n == 0:
        return np.zeros((H, W), dtype=out_dtype)
    scale = _scale(normalize, cov, total)
    r = _ref.truncation_radius(tol)
    plan = _ref.blur_plan(covg)
    bbox = np.array([[affine[0] * st["xmin"] + affine[1], affine[2] * st["ymin"] + affine[3]],
                     [affine[0] * st["xmax"] + affine[1], affine[2] * st["ymax"] + affine[3]]])
    mx, my = _margins(bbox, covg, H, W, r, plan)
    how = _choose(method, n, covg, H, W, r, plan, mx, my)
    if how == "binned" and (H + 2 * my) * (W + 2 * mx) > max(16 * H * W, 1 << 26):
        if method == "binned":
            raise ValueError(
                f"method='binned' would need a {H + 2 * my}x{W + 2 * mx} padded grid (points far outside the "
                "grid with a wide kernel); use method='exact' or drop the far points")
        how = "exact"
    if backend == "cpp":
        from . import _core
        # the normalisation is folded into the kernel's weights: no second pass over the grid
        if how == "exact":
            return _core.kde_exact(pts, w, H, W, *covg, tol, nthreads, affine, scale, out_dtype.name)
        return _core.kde_binned(pts, w, H, W, mx, my, *covg, nthreads, affine, scale, out_dtype.name)
    gp, _, _ = _to_grid(pts, ext, H, W)
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported below
        if how == "exact":
            K = _ref.exact(gp, w, (H, W), covg, tol)
        else:
            grid = np.zeros((H + 2 * my, W + 2 * mx))
            _ref.bin_linear(gp, w, grid, mx, my)
            K = _ref.blur(grid, mx, my, (H, W), covg)
        K *= scale
    if not np.isfinite(K).all():
        raise ValueError("kde: the result is not finite (weights or scale too large)")
    return K.astype(out_dtype, copy=False)


class KDEAccumulator(Accumulator):
    """Stream batches of points into a linearly binned grid; ``result()`` applies the blur.

    Same parameters and units as :func:`kde` (the binned method). ``bandwidth`` may be
    ``"scott"``/``"silverman"``: the weighted mean/covariance moments are accumulated too, so the
    result equals the binned KDE of all points seen. ``margin = (columns, rows)`` pixels of padding
    around the grid that still collect points outside it (default: 6 sigma for a fixed bandwidth,
    a quarter of the grid for data-driven ones); points beyond the margin are dropped.
    ``merge`` adds grids and moments (exact). ``state()``/``from_state()`` round-trip everything.
    ``dtype``: of ``result()`` (``np.float64`` or ``np.float32``); the binned grid itself stays
    float64 so that counts add exactly.
    """

    kind = "kde"

    def __init__(self, shape: Any, bandwidth: Any = 15.0, *, extent: Sequence[float] | None = None,
                 normalize: Normalize = "density", margin: tuple[int, int] | None = None,
                 threads: int | None = None, backend: Literal["cpp", "numpy"] = "cpp",
                 dtype: Any = np.float64) -> None:
        self.shape = _checks.as_shape(shape)
        self.dtype = _out_dtype(dtype)
        H, W = self.shape
        self.extent = _extent(extent, H, W)
        if normalize not in ("density", "count", "none"):
            raise ValueError(f"normalize must be 'density', 'count' or 'none', got {normalize!r}")
        if backend not in ("cpp", "numpy"):
            raise ValueError(f"backend must be 'cpp' or 'numpy', got {backend!r}")
        self.normalize = normalize
        self.backend = backend
        self.threads = _checks.resolve_threads(threads)
        if isinstance(bandwidth, str):
            if bandwidth.lower() not in ("scott", "silverman"):
                raise ValueError(f"bandwidth must be a number, (sx, sy), a 2x2 covariance, 'scott' or 'silverman', got {bandwidth!r}")
            self.bandwidth: Any = bandwidth.lower()
        else:
            bandwidth_covariance(bandwidth, np.zeros((0, 2)))  # validates
            self.bandwidth = np.asarray(bandwidth, dtype=np.float64).tolist()
        dx = (self.extent[1] - self.extent[0]) / W
        dy = (self.extent[3] - self.extent[2]) / H
        if margin is None:
            if isinstance(self.bandwidth, str):
                mx = my = max(H, W) // 4
            else:
                sxx, sxy, syy = bandwidth_covariance(self.bandwidth, np.zeros((0, 2)))
                check_bandwidth_bound((sxx / (dx * dx), sxy / (dx * dy), syy / (dy * dy)), H, W, dx, dy)
                r = _ref.truncation_radius(1e-7)
                mx = int(math.ceil(r * math.sqrt(sxx) / dx)) + 2
                my = int(math.ceil(r * math.sqrt(syy) / dy)) + 2
        else:
            mx, my = (_checks.nonneg_int("margin[0]", margin[0]), _checks.nonneg_int("margin[1]", margin[1]))
        self.margin = (mx, my)
        self.grid = np.zeros((H + 2 * my, W + 2 * mx))
        # sum w, sum w^2, sum w x, sum w y, sum w xx, sum w xy, sum w yy (x, y about the grid centre)
        self.moments = np.zeros(7)
        self.count = 0

    def config(self) -> dict[str, Any]:
        return {"shape": list(self.shape), "bandwidth": self.bandwidth, "extent": list(self.extent),
                "normalize": self.normalize, "margin": list(self.margin), "dtype": self.dtype.name}

    def update(self, batch: Any, weights: Any = None) -> "KDEAccumulator":
        """Add a batch of (N, 2) points (data units) with optional (N,) weights."""
        pts, w = _checks.as_points(batch, weights=weights)
        if len(pts) == 0:
            return self
        H, W = self.shape
        gp, _, _ = _to_grid(pts, self.extent, H, W)
        mx, my = self.margin
        if self.backend == "cpp":
            from . import _core
            _core.kde_bin(gp, w, self.grid, mx, my, self.threads)
        else:
            _ref.bin_linear(gp, w, self.grid, mx, my)
        ww = np.ones(len(pts)) if w is None else w
        x = pts[:, 0] - 0.5 * (self.extent[0] + self.extent[1])  # moments about the grid centre
        y = pts[:, 1] - 0.5 * (self.extent[2] + self.extent[3])
        self.moments += [ww.sum(), (ww * ww).sum(), (ww * x).sum(), (ww * y).sum(),
                         (ww * x * x).sum(), (ww * x * y).sum(), (ww * y * y).sum()]
        self.count += len(pts)
        return self

    def covariance(self) -> tuple[float, float, float]:
        """The kernel covariance (data units) the result uses."""
        if not isinstance(self.bandwidth, str):
            return bandwidth_covariance(self.bandwidth, np.zeros((0, 2)))
        if self.count < 2:
            raise ValueError(f"bandwidth={self.bandwidth!r} needs at least 2 points, got {self.count}")
        cov, neff = _cov_from_moments(*(float(v) for v in self.moments))
        f = scott_factor(neff) if self.bandwidth == "scott" else silverman_factor(neff)
        return _check_cov(cov * f * f, f"the {self.bandwidth} bandwidth")

    def result(self) -> np.ndarray:
        """The (H, W) heatmap of every point so far (zeros before any point)."""
        H, W = self.shape
        if self.count == 0:
            return np.zeros((H, W), dtype=self.dtype)
        cov = self.covariance()
        dx = (self.extent[1] - self.extent[0]) / W
        dy = (self.extent[3] - self.extent[2]) / H
        covg = (cov[0] / (dx * dx), cov[1] / (dx * dy), cov[2] / (dy * dy))
        check_bandwidth_bound(covg, H, W, dx, dy)
        if _ref.blur_plan(covg) is None:
            raise ValueError(f"KDEAccumulator: the kernel covariance {covg} (pixels^2) is too small or too correlated "
                             "for the binned blur; use heatcore.kde(..., method='exact') on the points")
        mx, my = self.margin
        scale = _scale(self.normalize, cov, float(self.moments[0]))
        if self.backend == "cpp":
            from . import _core
            return _core.kde_blur(self.grid, mx, my, H, W, *covg, self.threads, scale, self.dtype.name)
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported below
            K = _ref.blur(self.grid, mx, my, (H, W), covg) * scale
        if not np.isfinite(K).all():
            raise ValueError("KDEAccumulator: the result is not finite (weights or scale too large)")
        return K.astype(self.dtype, copy=False)

    def state(self) -> dict[str, np.ndarray]:
        return {"grid": self.grid, "moments": self.moments, "count": np.array(self.count),
                "config": np.array(__import__("json").dumps(self.config()))}

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> "KDEAccumulator":
        import json
        cfg = json.loads(str(state["config"]))
        obj = cls(tuple(cfg["shape"]), cfg["bandwidth"], extent=cfg["extent"], normalize=cfg["normalize"],
                  margin=tuple(cfg["margin"]), dtype=cfg.get("dtype", "float64"))
        grid = np.asarray(state["grid"], dtype=np.float64)
        if grid.shape != obj.grid.shape:
            raise ValueError(f"state grid has shape {grid.shape}, expected {obj.grid.shape}")
        obj.grid = grid.copy()
        obj.moments = np.asarray(state["moments"], dtype=np.float64).copy()
        obj.count = int(state["count"])
        return obj

    def _merge(self, other: "KDEAccumulator") -> None:
        self.grid += other.grid
        self.moments += other.moments
        self.count += other.count


def fit_extent(points: Any, bandwidth: Any = "scott", weights: Any = None, *, cut: float = 3.0,
               shape: Any = (200, 200)) -> tuple[float, float, float, float]:
    """The ``extent`` (xmin, xmax, ymin, ymax, data units) of a grid of ``shape = (H, W)`` pixels
    that fits the points the way seaborn's ``kdeplot`` does: the pixel centres are seaborn's
    evaluation grid ``linspace(min - cut * bw, max + cut * bw, n)`` per axis, where ``bw`` is the
    kernel's standard deviation along that axis (``cut=3``, a 200 x 200 grid by default, as in
    seaborn). ``kde(points, shape, bandwidth, extent=fit_extent(points, bandwidth, shape=shape))``
    then gives seaborn's (scipy's) density values on its grid.
    """
    H, W = _checks.as_shape(shape, "shape")
    if H < 2 or W < 2:
        raise ValueError(f"shape must be at least 2x2 to fit an extent, got {H}x{W}")
    cut = float(cut)
    if not (math.isfinite(cut) and cut >= 0):
        raise ValueError(f"cut must be a finite number >= 0 (kernel sigmas of margin), got {cut!r}")
    pts, w = _checks.as_points(points, weights=weights)
    if len(pts) == 0:
        raise ValueError("no points to fit an extent around")
    sxx, _, syy = bandwidth_covariance(bandwidth, pts, w)
    lo = pts.min(axis=0) - cut * np.sqrt([sxx, syy])
    hi = pts.max(axis=0) + cut * np.sqrt([sxx, syy])
    out = []
    for k, n in ((0, W), (1, H)):
        a, b = float(lo[k]), float(hi[k])
        if not b > a:  # all points on one x (or y) and cut 0: one kernel sigma of margin
            s = math.sqrt(sxx if k == 0 else syy)
            a, b = a - s, b + s
        step = (b - a) / (n - 1)
        out += [a - step / 2, b + step / 2]
    return out[0], out[1], out[2], out[3]
