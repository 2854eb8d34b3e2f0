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


# --- separable tiled exact path, float32 output, folded scale -------------------------------------

def test_exact_separable_wide_grid_matches_direct_and_twin(rng):
    # sigma 15 on a grid wider than one band, points inside and beyond every edge, weights
    H, W = 70, 260
    pts = np.c_[rng.uniform(-60, W + 60, 40), rng.uniform(-60, H + 60, 40)]
    w = rng.uniform(0.2, 3, 40)
    cov = (225.0, 0.0, 140.0)
    got = _core.kde_exact(pts, w, H, W, *cov, 1e-9, 2)
    assert rel(got, direct(pts, w, (H, W), cov)) < 1e-8
    np.testing.assert_allclose(got, ref.exact(pts, w, (H, W), cov, 1e-9), rtol=1e-11, atol=1e-300)


def test_exact_is_bitwise_independent_of_threads(rng):
    pts = np.c_[rng.uniform(0, 700, 500), rng.uniform(0, 300, 500)]
    for cov in ((225.0, 0.0, 225.0), (225.0, 60.0, 120.0)):
        a = _core.kde_exact(pts, None, 300, 700, *cov, 1e-7, 1)
        b = _core.kde_exact(pts, None, 300, 700, *cov, 1e-7, 2)
        np.testing.assert_array_equal(a, b)


def test_exact_many_points_split_into_chunks_adds_up(rng):
    # 25k points x (60 + 40) profile values exceed one chunk's 2^21 doubles: the later chunks add
    # onto the earlier ones. The kernel sum is linear in the points.
    pts = np.c_[rng.uniform(-20, 80, 25_000), rng.uniform(-20, 60, 25_000)]
    w = rng.uniform(0, 2, len(pts))
    cov = (225.0, 0.0, 225.0)
    whole = _core.kde_exact(pts, w, 40, 60, *cov, 1e-7, 2)
    parts = sum(_core.kde_exact(pts[s], w[s], 40, 60, *cov, 1e-7, 2) for s in (slice(0, 9000), slice(9000, None)))
    np.testing.assert_allclose(whole, parts, rtol=1e-12)
    f32 = _core.kde_exact(pts, w, 40, 60, *cov, 1e-7, 2, dtype="float32")
    np.testing.assert_allclose(f32, whole, rtol=2e-7)  # one float32 rounding per chunk


@pytest.mark.parametrize("cov", [(225.0, 0.0, 225.0), (30.0, 12.0, 20.0)])
def test_float32_output_is_the_float64_result_rounded_once(rng, cov):
    pts = np.c_[rng.uniform(-10, 130, 300), rng.uniform(-10, 90, 300)]
    w = rng.uniform(0.1, 2, 300)
    a = _core.kde_exact(pts, w, 80, 120, *cov, 1e-7, 2, (1.0, 0.0, 1.0, 0.0), 0.37)
    b = _core.kde_exact(pts, w, 80, 120, *cov, 1e-7, 2, (1.0, 0.0, 1.0, 0.0), 0.37, "float32")
    assert a.dtype == np.float64 and b.dtype == np.float32
    np.testing.assert_array_equal(b, a.astype(np.float32))
    np.testing.assert_allclose(a, 0.37 * _core.kde_exact(pts, w, 80, 120, *cov, 1e-7, 2), rtol=1e-14)
    if cov[1] == 0:
        c = _core.kde_binned(pts, w, 80, 120, 30, 30, *cov, 2, (1.0, 0.0, 1.0, 0.0), 0.37)
        d = _core.kde_binned(pts, w, 80, 120, 30, 30, *cov, 2, (1.0, 0.0, 1.0, 0.0), 0.37, "float32")
        np.testing.assert_array_equal(d, c.astype(np.float32))
        g = np.zeros((140, 180))
        _core.kde_bin(pts, w, g, 30, 30)
        np.testing.assert_array_equal(_core.kde_blur(g, 30, 30, 80, 120, *cov, 2, 0.37, np.float32),
                                      _core.kde_blur(g, 30, 30, 80, 120, *cov, 2, 0.37).astype(np.float32))
    with pytest.raises(ValueError, match="dtype must be float32 or float64.*int32"):
        _core.kde_exact(pts, w, 8, 8, *cov, dtype="int32")
    with pytest.raises(ValueError, match="scale must be finite"):
        _core.kde_exact(pts, w, 8, 8, *cov, scale=float("inf"))


# --- issue 9: huge bandwidths and non-finite results in the kernels -------------------------------

def test_issue9_exact_huge_bandwidth_has_no_float_to_int_overflow():
    # windows of +-r * 1e150 pixels used to be converted to int (UBSan: float-cast-overflow); now
    # they are clamped to the grid first and the kernel is the constant field it should be
    pts = np.array([[3.0, 4.0], [1e6, -2e6], [-5.0, 1.0]])
    w = np.array([1.0, 2.0, 0.5])
    for cov in ((1e300, 0.0, 1e300), (1e300, 0.0, 4.0), (1e200, 3e199, 1e200), (1e12, 0.0, 1e12)):
        got = _core.kde_exact(pts, w, 12, 17, *cov, 1e-7, 2)
        assert np.isfinite(got).all()
        np.testing.assert_allclose(got, direct(pts, w, (12, 17), cov), rtol=1e-12, atol=1e-300)


def test_issue9_blur_refuses_pass_sigma_beyond_1e9():
    g = np.zeros((20, 20))
    g[10, 10] = 1.0
    with pytest.raises(ValueError, match="exceeds 1e9"):
        _core.kde_blur(g, 2, 2, 16, 16, 1e20, 0.0, 1e20)
    with pytest.raises(ValueError, match="exceeds 1e9"):
        _core.kde_binned(np.array([[3.0, 3.0]]), None, 16, 16, 2, 2, 1e34, 0.0, 1e34)
    out = _core.kde_blur(g, 2, 2, 16, 16, 1e16, 0.0, 1e16)  # sigma 1e8: still accurate
    assert np.isfinite(out).all() and out.std() < 1e-6 * out.mean()


def test_issue9_non_finite_results_raise_instead_of_returning_inf():
    pts = np.array([[3.0, 3.0], [3.5, 3.0], [4.0, 3.5]])
    w = np.full(3, 1e308)  # each finite, their sum is not
    with pytest.raises(ValueError, match="not finite"):
        _core.kde_exact(pts, w, 8, 8, 4.0, 0.0, 4.0)
    with pytest.raises(ValueError, match="not finite"):
        _core.kde_exact(pts, w, 8, 8, 4.0, 1.0, 4.0)
    with pytest.raises(ValueError, match="not finite"):
        _core.kde_binned(pts, w, 8, 8, 10, 10, 25.0, 0.0, 25.0)
    g = np.zeros((28, 28))
    _core.kde_bin(pts, w, g, 10, 10)
    with pytest.raises(ValueError, match="not finite"):
        _core.kde_blur(g, 10, 10, 8, 8, 25.0, 0.0, 25.0, 0, 1e300)
