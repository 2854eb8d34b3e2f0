"""Compare heatcore.kde with the tools a user would otherwise use, in one run; print a markdown table.

Data: clustered points (5 Gaussian blobs + 10% uniform noise) in a 1920x1080 frame, mapped onto
the grid (480x270 grids get the points scaled by 1/4, so sigma is always in grid pixels).
Bandwidths: sigma = 15 grid pixels, and Scott's rule (correlated blobs).

Columns: median wall time (ms), ratio = time / heatcore's, and rel. L2 error against the exact
KDE (heatcore method="exact", itself checked against scipy in the tests) on a 64x96 window
centred on a blob (the exact reference over the whole grid would take minutes at N = 1e6).

Competitors: heatcore (auto, all threads), heatcore 1 thread, heatcore's NumPy twin, scipy
gaussian_kde (N = 1e3 only), KDEpy FFTKDE (isotropic sigma only: its 2-D bandwidth is a scalar),
and np.bincount linear binning + cv2.GaussianBlur (cv2.filter2D with a sampled correlated kernel
for Scott, which GaussianBlur cannot do).

    python bench/compare_kde.py            # full (several minutes)
    python bench/compare_kde.py --quick    # N <= 1e5, fewer repeats, no slow competitors
    python bench/compare_kde.py --small    # only the small-end row: 1e3 points, 1920x1080, sigma 15
    python bench/compare_kde.py --small --previous OLD/python   # + an older heatcore's exact path

The small-end table (printed first) times heatcore's separable exact path (float64 and float32
output, all threads and 1 thread) against np.bincount + cv2.GaussianBlur, the NumPy twin (exact)
and, with ``--previous DIR``, the exact path of another heatcore build (DIR holds its
``heatcore`` package with a built ``_core``; it runs in a subprocess, rounds interleaved with
this process's). Times are medians; ratio = time / heatcore's.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
import heatcore as hc  # noqa: E402

kdemod = sys.modules["heatcore.kde"]

FRAME = (1920, 1080)


def clustered(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    W, H = FRAME
    centres = np.array([[400, 300], [1000, 600], [1500, 250], [700, 850], [1650, 800]], float)
    covs = [np.array([[90 ** 2, 0.5 * 90 * 60], [0.5 * 90 * 60, 60 ** 2]]), np.diag([120.0 ** 2, 80.0 ** 2]),
            np.array([[70 ** 2, -0.6 * 70 * 110], [-0.6 * 70 * 110, 110 ** 2]]), np.diag([50.0 ** 2, 50.0 ** 2]),
            np.array([[100 ** 2, 0.3 * 100 * 70], [0.3 * 100 * 70, 70 ** 2]])]
    m = n // 10
    k = rng.integers(0, 5, n - m)
    pts = np.empty((n, 2))
    for i in range(5):
        sel = np.flatnonzero(k == i)
        pts[m + sel] = rng.multivariate_normal(centres[i], covs[i], len(sel))
    pts[:m] = rng.uniform([0, 0], [W, H], (m, 2))
    return np.clip(pts, 0.5 + 1e-6, [W - 0.5 - 1e-6, H - 0.5 - 1e-6])  # KDEpy needs all points strictly inside its grid


def timeit(fn, repeats: int):
    ts, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t)
    return float(np.median(ts)), out


def window(shape):
    H, W = shape
    cy, cx = int(600 / 1080 * H), int(1000 / 1920 * W)  # blob 2
    h, w = min(64, H), min(96, W)
    return slice(cy - h // 2, cy - h // 2 + h), slice(cx - w // 2, cx - w // 2 + w)


def exact_window(pts, shape, cov, win):
    """Exact KDE (density) on the window only: pixel centres of the window via extent."""
    ys, xs = win
    H, W = shape
    ext = (xs.start, xs.stop, ys.start, ys.stop)
    C = [[cov[0], cov[1]], [cov[1], cov[2]]]
    K = hc.kde(pts, (ys.stop - ys.start, xs.stop - xs.start), C, extent=ext, method="exact", normalize="none")
    return K / len(pts)


def bincount_cv2(pts, shape, cov):
    import cv2
    H, W = shape
    u, v = pts[:, 0] - 0.5, pts[:, 1] - 0.5
    fu, fv = np.floor(u), np.floor(v)
    ax, ay = u - fu, v - fv
    j, i = fu.astype(np.int64), fv.astype(np.int64)
    grid = np.zeros(H * W)
    for di, wy in ((0, 1 - ay), (1, ay)):
        for dj, wx in ((0, 1 - ax), (1, ax)):
            ii, jj = i + di, j + dj
            ok = (ii >= 0) & (ii < H) & (jj >= 0) & (jj < W)
            grid += np.bincount((ii * W + jj)[ok], weights=(wy * wx)[ok], minlength=H * W)
    grid = grid.reshape(H, W).astype(np.float32)
    sxx, sxy, syy = cov[0] - 1 / 6, cov[1], cov[2] - 1 / 6
    det = cov[0] * cov[2] - cov[1] ** 2
    if sxy == 0:
        out = cv2.GaussianBlur(grid, (0, 0), math.sqrt(sxx), sigmaY=math.sqrt(syy), borderType=cv2.BORDER_CONSTANT)
        # GaussianBlur truncates at ~4 sigma and normalises the sampled kernel
    else:
        rx, ry = int(math.ceil(4 * math.sqrt(sxx))), int(math.ceil(4 * math.sqrt(syy)))
        yy, xx = np.mgrid[-ry:ry + 1, -rx:rx + 1]
        inv = np.linalg.inv([[sxx, sxy], [sxy, syy]])
        k = np.exp(-0.5 * (inv[0, 0] * xx * xx + 2 * inv[0, 1] * xx * yy + inv[1, 1] * yy * yy))
        k = (k / k.sum()).astype(np.float32)
        out = cv2.filter2D(grid, -1, k, borderType=cv2.BORDER_CONSTANT)
    return out.astype(np.float64) / len(pts) * (2 * math.pi * math.sqrt(det)) / (2 * math.pi * math.sqrt(det))


def kdepy_fft(pts, shape, sigma):
    from KDEpy import FFTKDE
    H, W = shape
    xs, ys = np.arange(W) + 0.5, np.arange(H) + 0.5
    X, Y = np.meshgrid(xs, ys, indexing="ij")  # KDEpy sorts by x, then y
    grid = np.column_stack([X.ravel(), Y.ravel()])
    vals = FFTKDE(kernel="gaussian", bw=sigma, norm=2).fit(pts).evaluate(grid)
    return vals.reshape(W, H).T


def scipy_kde(pts, shape, cov):
    from scipy.stats import gaussian_kde
    H, W = shape
    k = gaussian_kde(pts.T)
    C = np.array([[cov[0], cov[1]], [cov[1], cov[2]]])
    k.set_bandwidth(1.0)
    k.covariance = C
    k.cho_cov = np.linalg.cholesky(C)
    k.log_det = 2 * np.log(np.diag(k.cho_cov)).sum()
    X, Y = np.meshgrid(np.arange(W) + 0.5, np.arange(H) + 0.5)
    return k(np.vstack([X.ravel(), Y.ravel()])).reshape(H, W)


_PREV_SNIPPET = r"""
import sys, time, json
sys.meta_path[:] = [f for f in sys.meta_path if "heatcore" not in type(f).__module__]
sys.path.insert(0, sys.argv[1])
import numpy as np
import heatcore as hc
pts = np.load(sys.argv[2])
reps = int(sys.argv[3])
hc.kde(pts, (1080, 1920), 15.0, method="exact")
ts = []
for _ in range(reps):
    t = time.perf_counter()
    hc.kde(pts, (1080, 1920), 15.0, method="exact")
    ts.append(time.perf_counter() - t)
print(json.dumps({"file": hc.__file__, "times": ts}))
"""


def small_end(reps: int, previous: str | None) -> None:
    """1e3 clustered points onto 1920x1080 at sigma 15: the exact path's small end."""
    import json
    import subprocess
    import tempfile

    shape = (1080, 1920)
    pts = np.ascontiguousarray(np.clip(clustered(1000), 0.5 + 1e-6, [1920 - 0.5 - 1e-6, 1080 - 0.5 - 1e-6]))
    cov = (225.0, 0.0, 225.0)
    win = window(shape)
    ref = exact_window(pts, shape, cov, win)
    cases = [
        ("heatcore exact (float64)", lambda: hc.kde(pts, shape, 15.0, method="exact")),
        ("heatcore exact (float32)", lambda: hc.kde(pts, shape, 15.0, method="exact", dtype=np.float32)),
        ("heatcore exact, 1 thread", lambda: hc.kde(pts, shape, 15.0, method="exact", threads=1)),
        ("heatcore auto", lambda: hc.kde(pts, shape, 15.0)),
        ("bincount + cv2.GaussianBlur", lambda: bincount_cv2(pts, shape, cov)),
    ]
    times: dict[str, list[float]] = {name: [] for name, _ in cases}
    outs = {}
    prev_times: list[float] = []
    prev_file = None
    tmp = None
    if previous:
        tmp = tempfile.NamedTemporaryFile(suffix=".npy", delete=False)
        np.save(tmp.name, pts)
    rounds = max(1, reps // 5)
    for _ in range(rounds):  # interleaved: every contender runs in every round
        for name, fn in cases:
            fn()  # warm
            for _ in range(5):
                t = time.perf_counter()
                outs[name] = fn()
                times[name].append(time.perf_counter() - t)
        if previous:
            res = subprocess.run([sys.executable, "-c", _PREV_SNIPPET, previous, tmp.name, "5"], capture_output=True,
                                 text=True, check=True)
            d = json.loads(res.stdout.strip().splitlines()[-1])
            prev_file = d["file"]
            prev_times += d["times"]
    twin_t, twin = timeit(lambda: hc.kde(pts, shape, 15.0, method="exact", backend="numpy"), 1)
    base = float(np.median(times[cases[0][0]]))
    print(f"small end: 1e3 clustered points, 1920x1080, sigma 15 px; {os.cpu_count()} cores; "
          f"{rounds * 5} timed runs per contender in {rounds} interleaved rounds (median)\n")
    print("| case | ms | x heatcore exact | rel L2 err |")
    print("|---|---:|---:|---:|")

    def row(name, t, out):
        err = np.linalg.norm(out[win].astype(np.float64) - ref) / np.linalg.norm(ref)
        print(f"| {name} | {t * 1e3:.2f} | {t / base:.2f} | {err:.1e} |", flush=True)

    for name, _ in cases:
        row(name, float(np.median(times[name])), outs[name])
    if previous:
        print(f"| previous heatcore exact ({prev_file}) | {np.median(prev_times) * 1e3:.2f} | "
              f"{np.median(prev_times) / base:.2f} | |")
        os.unlink(tmp.name)
    row("NumPy twin (exact)", twin_t, twin)
    print()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--small", action="store_true", help="only the small-end table (1e3 points, 1920x1080)")
    ap.add_argument("--previous", default=None, help="python/ folder of another heatcore build to compare")
    args = ap.parse_args()
    small_end(args.repeats or 25, args.previous)
    if args.small:
        return
    Ns = [1000, 10_000, 100_000] if args.quick else [1000, 10_000, 100_000, 1_000_000]
    grids = [(270, 480), (1080, 1920)]
    reps = args.repeats or (3 if args.quick else 7)
    base = clustered(max(Ns))
    print(f"heatcore {hc.__version__}, {os.cpu_count()} cores, repeats {reps} (median); "
          f"error = rel. L2 vs exact KDE on a 64x96 window\n")
    print("| grid | N | bandwidth | method | ms | x heatcore | rel L2 err |")
    print("|---|---|---|---|---:|---:|---:|")
    for shape in grids:
        s = shape[1] / FRAME[0]
        for N in Ns:
            pts = np.ascontiguousarray(np.clip(base[:N] * s, 0.5 + 1e-6, [shape[1] - 0.5 - 1e-6, shape[0] - 0.5 - 1e-6]))
            for bw_name in ("sigma 15", "scott"):
                if bw_name == "scott":
                    cov = kdemod.bandwidth_covariance("scott", pts)
                else:
                    cov = (225.0, 0.0, 225.0)
                C = [[cov[0], cov[1]], [cov[1], cov[2]]]
                win = window(shape)
                slow_exact = N * min(64 * 96, (11.4 ** 2) * cov[0]) > 5e9
                ref = exact_window(pts, shape, cov, win) if not (args.quick and slow_exact) else None
                rows = []

                def run(name, fn, r=reps):
                    try:
                        t, out = timeit(fn, r)
                    except Exception as exc:  # a competitor that cannot do this case
                        rows.append((name, None, f"n/a ({type(exc).__name__})"))
                        return
                    err = "" if ref is None else f"{np.linalg.norm(out[win] - ref) / np.linalg.norm(ref):.1e}"
                    rows.append((name, t, err))

                run("heatcore", lambda: hc.kde(pts, shape, C))
                run("heatcore 1 thread", lambda: hc.kde(pts, shape, C, threads=1))
                if not args.quick or shape[0] <= 270:
                    run("NumPy twin", lambda: hc.kde(pts, shape, C, backend="numpy", method="binned"), 1)
                if N <= 1000 and (not args.quick or shape[0] <= 270):
                    run("scipy gaussian_kde", lambda: scipy_kde(pts, shape, cov), 1)
                if bw_name != "scott":
                    run("KDEpy FFTKDE", lambda: kdepy_fft(pts, shape, 15.0), max(1, reps // 2))
                run("bincount + cv2", lambda: bincount_cv2(pts, shape, cov), max(1, reps // 2))
                t0 = rows[0][1]
                for name, t, err in rows:
                    ms = "" if t is None else f"{t * 1e3:.1f}"
                    ratio = "" if t is None or not t0 else f"{t / t0:.1f}"
                    print(f"| {shape[1]}x{shape[0]} | {N:.0e} | {bw_name} | {name} | {ms} | {ratio} | {err} |", flush=True)


if __name__ == "__main__":
    main()
