"""The compiled kde kernels against their NumPy twins and against direct evaluation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from heatcore import _core
from heatcore.reference import kde as ref


def rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def direct(pts, w, shape, cov):
    """Untruncated sum of peak-1 Gaussians at pixel centres (independent of both kernels)."""
    H, W = shape
    sxx, sxy, syy = cov
    inv = np.linalg.inv([[sxx, sxy], [sxy, syy]])
    yy, xx = np.mgrid[0:H, 0:W]
    out = np.zeros(shape)
    for (u, v), wk in zip(pts, w):
        d = np.stack([xx - u, yy - v], -1)
        out += wk * np.exp(-0.5 * np.einsum("...i,ij,...j->...", d, inv, d))
    return out


COVS = [(9.0, 0.0, 9.0), (30.0, 0.0, 12.0), (60.0, 0.5, 70.0), (30.0, 12.0, 20.0), (40.0, -25.0, 30.0), (20.0, 30.0, 80.0), (80.0, -30.0, 20.0)]


@pytest.mark.parametrize("cov", COVS)
def test_exact_matches_direct_sum(rng, cov):
    pts = np.c_[rng.uniform(-15, 55, 60), rng.uniform(-15, 45, 60)]
    w = rng.uniform(0.1, 2, 60)
    got = _core.kde_exact(pts, w, 30, 40, *cov, 1e-9, 2)
    assert rel(got, direct(pts, w, (30, 40), cov)) < 1e-8
    assert rel(got, ref.exact(pts, w, (30, 40), cov, 1e-9)) < 1e-8


@pytest.mark.parametrize("cov", COVS[1:])
def test_blur_matches_twin_and_exact(rng, cov):
    H, W, M = 30, 40, 40
    pts = np.c_[rng.uniform(-10, 50, 4000), rng.uniform(-10, 40, 4000)]
    w = rng.uniform(0.5, 2, 4000)
    g1 = np.zeros((H + 2 * M, W + 2 * M))
    g2 = g1.copy()
    _core.kde_bin(pts, w, g1, M, M, 2)
    ref.bin_linear(pts, w, g2, M, M)
    np.testing.assert_allclose(g1, g2, rtol=1e-12, atol=1e-12)
    assert _core.kde_blur_plan(*cov) == pytest.approx(ref.blur_plan(cov))
    a = _core.kde_blur(g1, M, M, H, W, *cov, 2)
    b = ref.blur(g2, M, M, (H, W), cov)
    assert rel(a, b) < 2e-6  # float32 recursion vs float64 twin
    assert rel(a, direct(pts[:4000], w, (H, W), cov)) < 2e-3  # binning error at sigma ~3..9 px


def test_blur_cost_independent_accuracy_at_large_sigma(rng):
    # sigma 15 and 40: the recursive blur of many binned points is within 1e-4 of exact
    H, W, M = 60, 80, 10
    pts = np.c_[rng.uniform(0, W - 1, 20000), rng.uniform(0, H - 1, 20000)]
    for s in (15.0, 40.0):
        cov = (s * s, 0.0, s * s)
        g = np.zeros((H + 2 * M, W + 2 * M))
        _core.kde_bin(pts, None, g, M, M, 1)
        got = _core.kde_blur(g, M, M, H, W, *cov, 1)
        assert rel(got, _core.kde_exact(pts, None, H, W, *cov, 1e-9, 2)) < 1e-4


def test_iir_coefficients_are_calibrated():
    for var in (4.0, 30.0, 2500.0):
        z, g = ref.iir_coefficients(var)
        zc, gc = _core.kde_iir_coefficients(var)
        np.testing.assert_allclose(np.array(zc), z, rtol=1e-12)
        np.testing.assert_allclose(np.array(gc), g, rtol=1e-9)
        n = np.arange(-int(25 * var ** 0.5) - 5, int(25 * var ** 0.5) + 6)
        h = (g[None, :] * z[None, :] ** np.abs(n)[:, None]).real.sum(1)
        assert h.sum() == pytest.approx(1.0, abs=1e-12)
        assert (h * n * n).sum() == pytest.approx(var, rel=1e-9)
        gauss = np.exp(-0.5 * n * n / var)
        assert rel(h, gauss / gauss.sum()) < 6e-5  # the 3-pole fit (8e-6 of the peak)


def test_threads_give_the_same_answer(rng):
    pts = np.c_[rng.uniform(0, 200, 3000), rng.uniform(0, 100, 3000)]
    a = _core.kde_exact(pts, None, 100, 200, 25.0, 5.0, 16.0, 1e-7, 1)
    b = _core.kde_exact(pts, None, 100, 200, 25.0, 5.0, 16.0, 1e-7, 2)
    np.testing.assert_allclose(a, b, rtol=1e-12)
    g1 = np.zeros((104, 204)); g2 = np.zeros((104, 204))
    _core.kde_bin(pts, None, g1, 2, 2, 1); _core.kde_bin(pts, None, g2, 2, 2, 2)
    np.testing.assert_allclose(g1, g2, rtol=1e-12)
    np.testing.assert_allclose(_core.kde_blur(g1, 2, 2, 100, 200, 64, 0, 64, 1),
                               _core.kde_blur(g1, 2, 2, 100, 200, 64, 0, 64, 2), rtol=1e-6)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 30), H=st.integers(1, 20), W=st.integers(1, 20), sx=st.floats(0.3, 8), sy=st.floats(0.3, 8),
       rho=st.floats(-0.9, 0.9), seed=st.integers(0, 2**31))
def test_exact_twin_random(n, H, W, sx, sy, rho, seed):
    r = np.random.default_rng(seed)
    pts = np.c_[r.uniform(-10, W + 10, n), r.uniform(-10, H + 10, n)]
    w = r.uniform(0, 3, n)
    cov = (sx * sx, rho * sx * sy, sy * sy)
    a = _core.kde_exact(pts, w, H, W, *cov, 1e-7, 2)
    b = ref.exact(pts, w, (H, W), cov, 1e-7)
    # pixels right on the truncation ellipse (value <= tol * weight) may fall either side
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1.01e-7 * float(w.sum()) + 1e-12)


@settings(max_examples=15, deadline=None)
@given(n=st.integers(0, 200), H=st.integers(1, 25), W=st.integers(1, 25), sx=st.floats(2.2, 6), sy=st.floats(2.2, 6),
       rho=st.floats(-0.6, 0.6), M=st.integers(0, 12), seed=st.integers(0, 2**31))
def test_binned_twin_random(n, H, W, sx, sy, rho, M, seed):
    r = np.random.default_rng(seed)
    pts = np.c_[r.uniform(-M - 3, W + M + 3, n), r.uniform(-M - 3, H + M + 3, n)]
    w = r.uniform(0, 3, n)
    g1 = np.zeros((H + 2 * M, W + 2 * M)); g2 = g1.copy()
    _core.kde_bin(pts, w, g1, M, M, 2)
    ref.bin_linear(pts, w, g2, M, M)
    np.testing.assert_allclose(g1, g2, rtol=1e-12, atol=1e-12)
    cov = (sx * sx, rho * sx * sy, sy * sy)
    if ref.blur_plan(cov) is None:
        with pytest.raises(ValueError, match="exact"):
            _core.kde_blur(g1, M, M, H, W, *cov, 2)
        return
    a = _core.kde_blur(g1, M, M, H, W, *cov, 2)
    b = ref.blur(g2, M, M, (H, W), cov)
    np.testing.assert_allclose(a, b, rtol=0, atol=2e-6 * max(1e-300, float(np.abs(b).max())) + 1e-12)


def test_core_rejects_bad_sizes():
    pts = np.zeros((3, 2))
    with pytest.raises(ValueError, match="shape"):
        _core.kde_exact(np.zeros((3, 3)), None, 4, 4, 1, 0, 1)
    with pytest.raises(ValueError, match="weights"):
        _core.kde_exact(pts, np.ones(2), 4, 4, 1, 0, 1)
    with pytest.raises(ValueError, match="positive"):
        _core.kde_exact(pts, None, 0, 4, 1, 0, 1)
    with pytest.raises(ValueError, match="positive definite"):
        _core.kde_exact(pts, None, 4, 4, 1, 1, 1)
    with pytest.raises(ValueError, match="outside the padded grid"):
        _core.kde_blur(np.zeros((10, 10)), 2, 2, 9, 8, 25, 0, 25)
    with pytest.raises(ValueError, match="2-D"):
        _core.kde_bin(pts, None, np.zeros(10), 0, 0)


def test_fused_binned_matches_bin_then_blur(rng):
    pts = np.c_[rng.uniform(-20, 140, 50000), rng.uniform(-20, 100, 50000)]
    w = rng.uniform(0.5, 2, len(pts))
    for cov in ((100.0, 0.0, 64.0), (100.0, 30.0, 64.0), (100.0, 1.0, 90.0)):
        g = np.zeros((80 + 2 * 25, 120 + 2 * 30))
        _core.kde_bin(pts, w, g, 30, 25)
        a = _core.kde_blur(g, 30, 25, 80, 120, *cov)
        b = _core.kde_binned(pts, w, 80, 120, 30, 25, *cov)  # float32 binning
        assert rel(b, a) < 1e-6
    with pytest.raises(ValueError, match="margins"):
        _core.kde_binned(pts, w, 80, 120, -1, 25, 100.0, 0.0, 64.0)


def test_stats_one_pass_matches_numpy(rng):
    pts = rng.normal([500.0, -20.0], [50.0, 9.0], (450_000, 2))  # large: the two-thread path
    w = rng.uniform(0, 2, len(pts))
    pts[[7, 300_000]] = np.nan
    w[11] = np.inf
    st = _core.kde_stats(pts, w)
    ok = np.isfinite(pts).all(1) & np.isfinite(w)
    p, ww = pts[ok], w[ok]
    assert st["finite"] == ok.sum() == len(pts) - 3
    assert (st["xmin"], st["xmax"], st["ymin"], st["ymax"]) == (p[:, 0].min(), p[:, 0].max(), p[:, 1].min(), p[:, 1].max())
    assert st["wmin"] == ww.min()
    dx, dy = p[:, 0] - st["x0"], p[:, 1] - st["y0"]
    for key, ref_val in (("sw", ww.sum()), ("sw2", (ww * ww).sum()), ("swx", ww @ dx), ("swxx", ww @ (dx * dx)),
                         ("swxy", ww @ (dx * dy)), ("swyy", ww @ (dy * dy))):
        assert st[key] == pytest.approx(ref_val, rel=1e-9)


def test_parallel_binning_split_matches_single_thread(rng):
    pts = np.c_[rng.uniform(-30, 330, 250_000), rng.uniform(-30, 230, 250_000)]
    w = rng.uniform(0.5, 2, len(pts))
    a = _core.kde_binned(pts, w, 200, 300, 20, 20, 100.0, 0.0, 64.0, 1)
    b = _core.kde_binned(pts, w, 200, 300, 20, 20, 100.0, 0.0, 64.0, 2)  # per-worker grids, summed
    g = np.zeros((240, 340))
    _core.kde_bin(pts, w, g, 20, 20, 2)
    c = _core.kde_blur(g, 20, 20, 200, 300, 100.0, 0.0, 64.0, 1)
    assert rel(b, a) < 1e-6 and rel(b, c) < 1e-6
