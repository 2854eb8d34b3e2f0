"""pytest-benchmark suite for heatcore.kde (run: PYTHONPATH=python python -m pytest bench/bench_kde.py --benchmark-enable).

Clustered points (5 blobs + 10% uniform noise) in a 1920x1080 frame; grids 480x270 and
1920x1080; sigma 15 grid pixels and Scott's rule. `python bench/compare_kde.py` prints the
comparison table against scipy, KDEpy and np.bincount + cv2.GaussianBlur.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import heatcore as hc  # noqa: E402
from compare_kde import FRAME, bincount_cv2, clustered  # noqa: E402

_BASE = clustered(1_000_000)


def _pts(n, shape):
    s = shape[1] / FRAME[0]
    return np.ascontiguousarray(np.clip(_BASE[:n] * s, 0.5 + 1e-6, [shape[1] - 0.5 - 1e-6, shape[0] - 0.5 - 1e-6]))


@pytest.mark.parametrize("shape", [(270, 480), (1080, 1920)], ids=["480x270", "1920x1080"])
@pytest.mark.parametrize("n", [1000, 10_000, 100_000, 1_000_000])
@pytest.mark.parametrize("bw", [15.0, "scott"], ids=["sigma15", "scott"])
def test_heatcore_kde(benchmark, shape, n, bw):
    pts = _pts(n, shape)
    out = benchmark(hc.kde, pts, shape, bw)
    assert out.shape == shape


@pytest.mark.parametrize("threads", [1, 2])
def test_heatcore_1e6_full_hd_threads(benchmark, threads):
    pts = _pts(1_000_000, (1080, 1920))
    benchmark(hc.kde, pts, (1080, 1920), 15.0, threads=threads)


@pytest.mark.parametrize("shape", [(270, 480), (1080, 1920)], ids=["480x270", "1920x1080"])
@pytest.mark.parametrize("n", [1000, 1_000_000])
def test_bincount_cv2(benchmark, shape, n):
    pts = _pts(n, shape)
    benchmark(bincount_cv2, pts, shape, (225.0, 0.0, 225.0))


@pytest.mark.parametrize("n", [1000, 100_000])
def test_numpy_twin_480x270(benchmark, n):
    pts = _pts(n, (270, 480))
    benchmark.pedantic(hc.kde, args=(pts, (270, 480), 15.0), kwargs={"backend": "numpy", "method": "binned"},
                       rounds=2, iterations=1)


def test_kdepy_fftkde_480x270(benchmark):
    pytest.importorskip("KDEpy")
    from compare_kde import kdepy_fft
    pts = _pts(100_000, (270, 480))
    benchmark(kdepy_fft, pts, (270, 480), 15.0)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("threads", [1, 2])
def test_heatcore_exact_small_end_full_hd(benchmark, dtype, threads):
    """1e3 points, 1920x1080, sigma 15: the separable exact path (issue 14 target <= 6 ms)."""
    pts = _pts(1000, (1080, 1920))
    out = benchmark(hc.kde, pts, (1080, 1920), 15.0, method="exact", threads=threads, dtype=dtype)
    assert out.dtype == np.dtype(dtype)
