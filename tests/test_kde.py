"""heatcore.kde against scipy.stats.gaussian_kde and by the definitions of its normalisations."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
from scipy.stats import gaussian_kde, multivariate_normal

import heatcore as hc

kdemod = sys.modules["heatcore.kde"]


def rel(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def centres(shape, extent):
    H, W = shape
    xmin, xmax, ymin, ymax = extent
    xs = xmin + (np.arange(W) + 0.5) * (xmax - xmin) / W
    ys = ymin + (np.arange(H) + 0.5) * (ymax - ymin) / H  # row 0 = ymin
    X, Y = np.meshgrid(xs, ys)
    return np.vstack([X.ravel(), Y.ravel()])


def clustered(rng, n, extent, corr=True):
    xmin, xmax, ymin, ymax = extent
    c = rng.uniform([xmin, ymin], [xmax, ymax], (4, 2))
    k = rng.integers(0, 4, n)
    s = 0.06 * (xmax - xmin)
    mix = np.array([[1.0, 0.6], [0.0, 0.6]]) if corr else np.eye(2)
    pts = c[k] + rng.normal(0, s, (n, 2)) @ mix
    m = n // 10  # 10% uniform noise
    pts[:m] = rng.uniform([xmin, ymin], [xmax, ymax], (m, 2))
    return pts


def mvn_sum(pts, w, cov, G):
    C = np.array([[cov[0], cov[1]], [cov[1], cov[2]]])
    tot = np.zeros(G.shape[1])
    for p, wk in zip(pts, w):
        tot += wk * multivariate_normal(p, C).pdf(G.T)
    return tot


EXT = (-3.0, 5.0, -2.0, 4.0)


@pytest.mark.parametrize("bw, method", [("scott", "exact"), ("scott", "binned"), ("scott", "auto"),
                                        ("silverman", "exact")])  # silverman == scott in 2-D
def test_scott_silverman_match_scipy_with_weights_and_extent(rng, bw, method):
    shape = (108, 144) if method != "exact" else (54, 72)
    pts = clustered(rng, 8000 if method != "exact" else 2000, EXT)
    w = rng.uniform(0.2, 3.0, len(pts))
    ref = gaussian_kde(pts.T, bw_method=bw, weights=w)(centres(shape, EXT)).reshape(shape)
    got = hc.kde(pts, shape, bw, weights=w, extent=EXT, method=method)
    assert rel(got, ref) <= 1e-3
    if method == "exact":
        assert rel(got, ref) <= 1e-6


@pytest.mark.parametrize("bw", [0.35, (0.4, 0.25), [[0.12, 0.05], [0.05, 0.08]], [[0.12, -0.07], [-0.07, 0.08]]])
def test_fixed_bandwidths_match_independent_sum(rng, bw):
    shape = (36, 48)
    pts = clustered(rng, 400, EXT)
    w = rng.uniform(0.2, 3.0, len(pts))
    cov = kdemod.bandwidth_covariance(bw, pts)
    ref = (mvn_sum(pts, w, cov, centres(shape, EXT)) / w.sum()).reshape(shape)
    for method in ("exact", "auto"):
        assert rel(hc.kde(pts, shape, bw, weights=w, extent=EXT, method=method), ref) <= 1e-4


def test_isotropic_binned_many_points_within_1e4_of_scipy(rng):
    shape = (60, 80)
    ext = (0.0, 80.0, 0.0, 60.0)
    pts = clustered(rng, 200000, ext, corr=False)
    got = hc.kde(pts, shape, 8.0, method="binned")
    exact = hc.kde(pts, shape, 8.0, method="exact")
    sub = rng.choice(len(pts), 4000, replace=False)  # scipy on a subset checks the exact path
    k = gaussian_kde(pts[sub].T)
    k.set_bandwidth(1.0)
    k.covariance = np.eye(2) * 64.0
    k.cho_cov = np.linalg.cholesky(k.covariance)
    k.log_det = 2 * np.log(np.diag(k.cho_cov)).sum()
    ref_sub = k(centres(shape, ext)).reshape(shape)
    assert rel(hc.kde(pts[sub], shape, 8.0, method="exact"), ref_sub) <= 1e-6
    assert rel(got, exact) <= 1e-4


def test_y_direction_row0_is_ymin():
    g = hc.kde([[1.4, 0.5]], (10, 4), 0.3, extent=(0, 4, 0, 10), normalize="count")
    assert np.unravel_index(g.argmax(), g.shape) == (0, 1)
    g = hc.kde([[1.5, 9.5]], (10, 4), 0.3, normalize="count")  # pixel coordinates
    assert np.unravel_index(g.argmax(), g.shape) == (9, 1)


def test_count_and_none_normalisations_by_definition(rng):
    # count: each point's kernel peaks at its weight -> two coincident points on a centre peak at 2 w
    g = hc.kde([[10.5, 5.5], [10.5, 5.5]], (12, 20), (3.0, 2.0), normalize="count", method="exact")
    assert g.max() == pytest.approx(2.0, rel=1e-12)
    g = hc.kde([[10.5, 5.5]], (12, 20), 3.0, weights=[2.5], normalize="count")
    assert g[5, 10] == pytest.approx(2.5, rel=1e-12)
    assert g[5, 13] == pytest.approx(2.5 * np.exp(-0.5), rel=1e-12)
    # none: sum of unit-mass kernels -> integrates to the total weight; density integrates to 1
    pts = rng.uniform([30, 30], [70, 50], (50, 2))
    w = rng.uniform(0.5, 2, 50)
    none = hc.kde(pts, (80, 100), [[16.0, 4.0], [4.0, 9.0]], weights=w, normalize="none")
    dens = hc.kde(pts, (80, 100), [[16.0, 4.0], [4.0, 9.0]], weights=w, normalize="density")
    assert none.sum() == pytest.approx(w.sum(), rel=1e-6)
    assert dens.sum() == pytest.approx(1.0, rel=1e-6)
    np.testing.assert_allclose(none, dens * w.sum(), rtol=1e-12)


def test_points_outside_the_grid_add_their_tails(rng):
    pts = np.array([[-6.0, 10.0], [45.0, -5.0], [20.0, 28.0]])
    for method in ("exact", "binned"):
        g = hc.kde(pts, (25, 40), 5.0, normalize="count", method=method)
        assert g[10, 0] == pytest.approx(np.exp(-0.5 * (6.5 ** 2 + 0.5 ** 2) / 25), rel=5e-3)
        assert g[0, 39] > 0.3 * np.exp(-0.5 * (5.5 ** 2 + 5.5 ** 2) / 25)
    a = hc.kde(np.c_[rng.uniform(-30, 70, 3000), rng.uniform(-30, 55, 3000)], (25, 40), 9.0, method="exact")
    b = hc.kde(np.c_[rng.uniform(-30, 70, 3000), rng.uniform(-30, 55, 3000)], (25, 40), 9.0, method="exact")
    assert a.min() > 0 and b.min() > 0


def test_binned_outside_points_match_exact(rng):
    pts = np.c_[rng.uniform(-40, 100, 20000), rng.uniform(-40, 80, 20000)]
    for bw in (10.0, [[120.0, 60.0], [60.0, 90.0]]):
        a = hc.kde(pts, (40, 60), bw, method="binned")
        b = hc.kde(pts, (40, 60), bw, method="exact")
        assert rel(a, b) < 2e-4


def test_numpy_backend_matches(rng):
    pts = clustered(rng, 2000, (0, 60, 0, 40))
    for method, bw in (("exact", 3.0), ("binned", [[30.0, 10.0], [10.0, 20.0]])):
        a = hc.kde(pts, (40, 60), bw, method=method)
        b = hc.kde(pts, (40, 60), bw, method=method, backend="numpy")
        assert rel(a, b) < 2e-6


def test_auto_picks_binned_for_many_points_and_exact_for_few(rng, monkeypatch):
    calls = []
    from heatcore import _core
    real_blur, real_exact = _core.kde_binned, _core.kde_exact
    monkeypatch.setattr(_core, "kde_binned", lambda *a: calls.append("binned") or real_blur(*a))
    monkeypatch.setattr(_core, "kde_exact", lambda *a: calls.append("exact") or real_exact(*a))
    hc.kde(rng.uniform(0, 300, (100000, 2)), (200, 300), 15.0)
    hc.kde(rng.uniform(0, 300, (20, 2)), (200, 300), 15.0)
    hc.kde(rng.uniform(0, 300, (100000, 2)), (200, 300), 0.8)  # too small for the blur
    assert calls == ["binned", "exact", "exact"]


def test_nan_rows_dropped_with_count():
    pts = np.array([[1.0, 2.0], [np.nan, 3.0], [4.0, np.inf], [5.0, 5.0]])
    with pytest.warns(RuntimeWarning, match="dropped 2 of 4"):
        g = hc.kde(pts, (10, 10), 2.0, normalize="count")
    np.testing.assert_allclose(g, hc.kde(pts[[0, 3]], (10, 10), 2.0, normalize="count"))


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(shape=(0, 10)), ValueError, "height"),
    (dict(shape=(10, -1)), ValueError, "width"),
    (dict(shape="axb"), ValueError, "1920x1080"),
    (dict(bandwidth=0), ValueError, "bandwidth"),
    (dict(bandwidth=-3.0), ValueError, "bandwidth"),
    (dict(bandwidth=(1.0, 0.0)), ValueError, "sy"),
    (dict(bandwidth="wide"), ValueError, "scott"),
    (dict(bandwidth=[[1.0, 2.0], [2.0, 1.0]]), ValueError, "singular"),
    (dict(bandwidth=[[1.0, 0.5], [0.2, 1.0]]), ValueError, "symmetric"),
    (dict(normalize="peak"), ValueError, "normalize"),
    (dict(method="fft"), ValueError, "method"),
    (dict(extent=(0, 0, 0, 1)), ValueError, "extent"),
    (dict(extent=(0, 1, 0)), TypeError, "extent"),
    (dict(weights=[1.0, 2.0]), ValueError, "weights"),
    (dict(weights=[1.0, -1.0, 1.0]), ValueError, "weights"),
    (dict(backend="cuda"), ValueError, "backend"),
])
def test_bad_inputs(kwargs, exc, match):
    args = dict(points=[[1.0, 2.0], [3.0, 4.0], [5.0, 1.0]], shape=(10, 10), bandwidth=2.0)
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        hc.kde(**args)


def test_wrong_point_shapes_and_singular_data():
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        hc.kde(np.zeros((5, 3)), (10, 10), 2.0)
    with pytest.raises(TypeError, match="numeric"):
        hc.kde([["a", "b"]], (10, 10), 2.0)
    line = np.c_[np.arange(10.0), 2 * np.arange(10.0)]  # all points on a line
    with pytest.raises(ValueError, match="explicit bandwidth"):
        hc.kde(line, (20, 20), "scott")
    with pytest.raises(ValueError, match="at least 2 points"):
        hc.kde([[1.0, 1.0]], (20, 20), "scott")
    with pytest.raises(ValueError, match="cannot split"):
        hc.kde(np.ones((3, 2)) + [[0, 0], [1, 0], [0, 1]], (20, 20), 1.0, method="binned")
    assert not hc.kde(np.zeros((0, 2)), (5, 6), 2.0).any()


def test_factors():
    assert hc.scott_factor(64) == pytest.approx(64 ** (-1 / 6))
    assert hc.silverman_factor(64) == pytest.approx(hc.scott_factor(64))  # equal in 2-D
    assert hc.silverman_factor(64, d=1) == pytest.approx((64 * 3 / 4) ** (-1 / 5))
    with pytest.raises(ValueError):
        hc.scott_factor(0)


# -- accumulator ------------------------------------------------------------------------------

def test_accumulator_batches_merge_and_state_roundtrip(rng, tmp_path):
    pts = np.c_[rng.uniform(-10, 130, 30000), rng.uniform(-10, 90, 30000)]
    w = rng.uniform(0.5, 2, len(pts))
    full = hc.kde(pts, (80, 120), 6.0, weights=w, method="binned")
    a = hc.KDEAccumulator((80, 120), 6.0)
    b = hc.KDEAccumulator((80, 120), 6.0)
    for part in range(3):
        sl = slice(part * 10000, (part + 1) * 10000)
        (a if part < 2 else b).update(pts[sl], weights=w[sl])
    a.save(tmp_path / "a.npz")
    a2 = hc.KDEAccumulator.load(tmp_path / "a.npz")
    a2 += b
    assert rel(a2.result(), full) < 1e-6
    assert rel(a2.result(), hc.kde(pts, (80, 120), 6.0, weights=w, method="exact")) < 2e-4
    with pytest.raises(ValueError, match="different configurations"):
        a2.merge(hc.KDEAccumulator((80, 120), 7.0))


def test_accumulator_scott_matches_kde(rng):
    pts = clustered(rng, 8000, EXT)
    w = rng.uniform(0.5, 2, len(pts))
    acc = hc.KDEAccumulator((120, 160), "scott", extent=EXT, margin=(160, 120))
    for chunk in np.array_split(np.arange(len(pts)), 4):
        acc.update(pts[chunk], weights=w[chunk])
    ref = gaussian_kde(pts.T, weights=w)(centres((120, 160), EXT)).reshape(120, 160)
    assert rel(acc.result(), ref) < 1e-3
    np.testing.assert_allclose(acc.covariance(), kdemod.bandwidth_covariance("scott", pts, w), rtol=1e-9)


def test_accumulator_empty_and_bad():
    acc = hc.KDEAccumulator((10, 10), 3.0)
    assert not acc.result().any()
    with pytest.raises(ValueError, match="scott"):
        hc.KDEAccumulator((10, 10), "broad")
    with pytest.raises(ValueError, match="at least 2"):
        hc.KDEAccumulator((10, 10), "scott").update([[1.0, 1.0]]).result()


def test_extent_fast_path_matches_numpy_twin_and_list_input(rng):
    ext = (100.0, 300.0, -50.0, 50.0)
    pts = np.c_[rng.uniform(80, 320, 5000), rng.uniform(-70, 70, 5000)]
    w = rng.uniform(0.1, 1.0, 5000)
    for method, bw in (("exact", 4.0), ("binned", (12.0, 9.0)), ("binned", [[150.0, 40.0], [40.0, 60.0]])):
        a = hc.kde(pts, (50, 100), bw, weights=w, extent=ext, method=method)
        b = hc.kde(pts, (50, 100), bw, weights=w, extent=ext, method=method, backend="numpy")
        c = hc.kde(pts.tolist(), (50, 100), bw, weights=list(w), extent=ext, method=method)
        assert rel(a, b) < 2e-6
        np.testing.assert_allclose(a, c, rtol=1e-12)


def test_scott_from_moments_equals_numpy_cov(rng):
    pts = rng.normal([1e4, -3e3], [5.0, 2.0], (500, 2))  # large offsets: moments must stay stable
    w = rng.uniform(0.1, 1.0, 500)
    from heatcore import _core
    cov = kdemod._kernel_cov("scott", _core.kde_stats(pts, w))
    np.testing.assert_allclose(cov, kdemod.bandwidth_covariance("scott", pts, w), rtol=1e-9)


def test_far_points_with_wide_kernel_do_not_blow_up_the_padding():
    # sigma 3e5 px on a 20x30 grid (diagonal 36 px: just inside the 1e4-diagonal bound)
    pts = np.array([[5.0, 5.0], [1.5e6, 5.0], [6.0, 4.0]])
    with pytest.raises(ValueError, match="padded grid"):
        hc.kde(pts, (20, 30), 3e5, method="binned")
    g = hc.kde(pts, (20, 30), 3e5, normalize="count")  # auto falls back to exact
    assert g.max() == pytest.approx(2.0 + np.exp(-0.5 * 1.5e6 ** 2 / 9e10), rel=1e-7)


# --- the separable exact path at sigma 15, float32 output -----------------------------------------

def test_exact_sigma15_wide_grid_matches_scipy(rng):
    # the 1920x1080-style case in miniature: many bands, two threads, points near every edge
    shape = (120, 320)
    pts = np.c_[rng.uniform(-20, 340, 150), rng.uniform(-20, 140, 150)]
    ref = gaussian_kde(pts.T, bw_method=1.0)
    ref.set_bandwidth(1.0)
    ref.covariance = np.diag([225.0, 225.0])
    ref.cho_cov = np.linalg.cholesky(ref.covariance)
    ref.log_det = 2 * np.log(np.diag(ref.cho_cov)).sum()
    want = ref(centres(shape, (0, 320, 0, 120))).reshape(shape)
    for threads in (1, 2):
        got = hc.kde(pts, shape, 15.0, method="exact", threads=threads)
        assert rel(got, want) < 1e-7  # tol 1e-7 truncation
    np.testing.assert_allclose(hc.kde(pts, shape, 15.0, method="exact", backend="numpy"), got, rtol=1e-10,
                               atol=1e-12 * got.max())


@pytest.mark.parametrize("method", ["exact", "binned"])
def test_float32_result_within_stated_tolerance_of_float64(rng, method):
    pts = clustered(rng, 3000, EXT)
    w = rng.uniform(0.2, 3.0, len(pts))
    a = hc.kde(pts, (90, 120), 0.3, weights=w, extent=EXT, method=method)
    b = hc.kde(pts, (90, 120), 0.3, weights=w, extent=EXT, method=method, dtype=np.float32)
    assert a.dtype == np.float64 and b.dtype == np.float32
    # summed in float64 and rounded once: within 2^-24 relative (documented as 6e-8)
    np.testing.assert_allclose(b, a, rtol=6e-8, atol=0)
    c = hc.kde(pts, (90, 120), 0.3, weights=w, extent=EXT, method=method, backend="numpy", dtype="float32")
    assert c.dtype == np.float32
    np.testing.assert_allclose(c, a, rtol=1e-4 if method == "binned" else 1e-6, atol=1e-6 * float(a.max()))
    assert hc.kde(np.zeros((0, 2)), (4, 5), 2.0, dtype=np.float32).dtype == np.float32
    with pytest.raises(ValueError, match="dtype must be float64 or float32, got 'float16'"):
        hc.kde(pts, (9, 12), 0.3, extent=EXT, dtype="float16")


def test_accumulator_float32_result(rng):
    pts = clustered(rng, 5000, (0.0, 120.0, 0.0, 90.0))
    a = hc.KDEAccumulator((90, 120), 6.0).update(pts)
    b = hc.KDEAccumulator((90, 120), 6.0, dtype=np.float32).update(pts)
    ra, rb = a.result(), b.result()
    assert rb.dtype == np.float32
    np.testing.assert_array_equal(rb, ra.astype(np.float32))
    c = hc.KDEAccumulator.from_state(b.state())
    assert c.dtype == np.float32 and c.result().dtype == np.float32
    with pytest.raises(ValueError, match="dtype"):
        hc.KDEAccumulator((9, 12), 6.0, dtype=int)


# --- issue 9: bandwidth bound, non-finite results -------------------------------------------------

@pytest.mark.parametrize("bw", [1e14, 1e17, (3.0, 1e15)])
@pytest.mark.parametrize("method", ["auto", "exact", "binned"])
def test_issue9_huge_bandwidth_is_a_clear_error_not_a_wrong_or_nan_grid(bw, method):
    pts = np.array([[5.0, 5.0], [20.0, 9.0], [11.0, 3.0]])
    with pytest.raises(ValueError, match=r"bandwidth sigma 1e\+1[457] \(data units\).*grid diagonal"):
        hc.kde(pts, (20, 30), bw, method=method)


def test_issue9_bandwidth_bound_is_relative_to_the_grid_diagonal():
    pts = np.array([[5.0, 5.0], [20.0, 9.0], [11.0, 3.0]])
    diag = math.hypot(20, 30)
    ok = hc.kde(pts, (20, 30), 0.99e4 * diag, normalize="count", method="exact")  # just inside: a flat field
    np.testing.assert_allclose(ok, 3.0, rtol=1e-8)
    np.testing.assert_allclose(hc.kde(pts, (20, 30), 0.99e4 * diag, normalize="count"), 3.0, rtol=2e-4)  # binned
    with pytest.raises(ValueError, match="grid diagonal"):
        hc.kde(pts, (20, 30), 1.01e4 * diag)
    # in data units with an extent: the bound is on grid pixels (here 1 data unit = 100 pixels)
    ext = (0.0, 0.3, 0.0, 0.2)
    hc.kde(pts / 100, (20, 30), 0.99e4 * diag / 100, extent=ext)
    with pytest.raises(ValueError, match="grid diagonal"):
        hc.kde(pts / 100, (20, 30), 1.01e4 * diag / 100, extent=ext)
    with pytest.raises(ValueError, match="grid diagonal"):
        hc.KDEAccumulator((20, 30), 1e17)
    acc = hc.KDEAccumulator((20, 30), "scott", margin=(4, 4)).update(np.array([[0.0, 0.0], [1e15, 2e15], [3.0, 1e15]]))
    with pytest.raises(ValueError, match="grid diagonal"):
        acc.result()


def test_issue9_non_finite_result_is_an_error(rng):
    pts = np.array([[3.0, 3.0], [3.5, 3.0], [4.0, 3.5]])
    for backend in ("cpp", "numpy"):
        with pytest.raises(ValueError, match=r"weights sum to inf.*overflows"):
            hc.kde(pts, (30, 30), 5.0, weights=np.full(3, 1e308), backend=backend)
        # finite weights, finite sum, but the scaled kernel overflows float64 (exact) / float32 (binned grid)
        with pytest.raises(ValueError, match="not finite"):
            hc.kde([[3.5, 3.5]], (30, 30), 0.1, weights=[2e307], normalize="none", method="exact", backend=backend)
        with pytest.raises(ValueError, match="not finite"):
            hc.kde(pts[:1], (30, 30), 5.0, weights=[1e39], normalize="count", method="binned", backend="cpp")


def test_issue9_cli_huge_bandwidth_exits_2_and_writes_no_png(tmp_path, capsys):
    from heatcore.cli import main
    csv = tmp_path / "c.csv"
    csv.write_text("x,y\n1,2\n3,5\n4,1\n")
    for bw in ("1e14", "1e17"):
        out = tmp_path / f"o{bw}.png"
        assert main(["kde", str(csv), "-o", str(out), "--shape", "10x10", "--bandwidth", bw]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("heatcore kde: error:") and "grid diagonal" in err and "\n" not in err
        assert not out.exists()
