"""pytest-benchmark suite for the motion kernels and pipeline.

    PYTHONPATH=python python -m pytest bench/bench_motion.py --benchmark-enable

Uses the campus clip (../shared/data/campus_480x360.avi; those benchmarks skip when absent) and a
synthetic 1280x720 clip. Ratios and mask agreement are in bench/compare_motion.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

import heatcore as hc
from heatcore import _core
from heatcore._synthetic import synthetic_frames, write_synthetic_video

CAMPUS = Path(os.environ.get("HEATCORE_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")) / "campus_480x360.avi"
needs_bgsegm = pytest.mark.skipif(not hasattr(cv2, "bgsegm"), reason="cv2.bgsegm is not installed")


@pytest.fixture(scope="module")
def campus_frames() -> list[np.ndarray]:
    if not CAMPUS.exists():
        pytest.skip(f"{CAMPUS} is absent")
    cap = cv2.VideoCapture(str(CAMPUS))
    out = []
    while len(out) < 100:
        ok, f = cap.read()
        if not ok:
            break
        out.append(f)
    return out


@pytest.fixture(scope="module")
def hd_frames() -> list[np.ndarray]:
    return list(synthetic_frames(1280, 720, 20, seed=1, blobs=6))


@pytest.fixture(scope="module")
def hd_clip(tmp_path_factory) -> Path:
    return write_synthetic_video(tmp_path_factory.mktemp("bench") / "hd.mp4", 1280, 720, 60, fourcc="mp4v", seed=1)


def _mog_cv(frames):
    m = cv2.bgsegm.createBackgroundSubtractorMOG()
    for f in frames:
        m.apply(f)


def _mog_hc(frames, threads):
    h, w = frames[0].shape[:2]
    m = _core.MogModel(w, h, 3)
    c = np.zeros((h, w), np.uint32)
    for f in frames:
        m.apply(f, counts=c, threads=threads, return_mask=False)


@needs_bgsegm
def test_mog_kernel_cv2_bgsegm_campus(benchmark, campus_frames):
    benchmark(_mog_cv, campus_frames)


@pytest.mark.parametrize("threads", [1, 0])
def test_mog_kernel_heatcore_campus(benchmark, campus_frames, threads):
    benchmark(_mog_hc, campus_frames, threads)


@needs_bgsegm
def test_mog_kernel_cv2_bgsegm_hd(benchmark, hd_frames):
    benchmark(_mog_cv, hd_frames)


@pytest.mark.parametrize("threads", [1, 0])
def test_mog_kernel_heatcore_hd(benchmark, hd_frames, threads):
    benchmark(_mog_hc, hd_frames, threads)


@pytest.fixture(params=["scalar", "sse41", "avx2"])
def simd_path(request):
    if request.param not in _core.mog_simd_paths():
        pytest.skip(f"this CPU has no {request.param}")
    _core.mog_simd(request.param)
    yield request.param
    _core.mog_simd("auto")


def test_mog_kernel_heatcore_hd_simd_path(benchmark, hd_frames, simd_path):
    """Each SIMD path of the MOG kernel, one thread (all give identical results)."""
    benchmark(_mog_hc, hd_frames, 1)


def test_diff_kernel_hd(benchmark, hd_frames):
    ref = _core.gray_blur(hd_frames[0], 11)
    acc = np.zeros(ref.shape, np.float64)

    def run():
        for f in hd_frames:
            _core.diff_accumulate(f, ref, acc, 11)

    benchmark(run)


def test_diff_recipe_b_hd(benchmark, hd_frames):
    ref = cv2.blur(cv2.cvtColor(hd_frames[0], cv2.COLOR_BGR2GRAY), (11, 11))
    acc = np.zeros(ref.shape, np.float64)

    def run():
        for f in hd_frames:
            acc.__iadd__(cv2.absdiff(cv2.blur(cv2.cvtColor(f, cv2.COLOR_BGR2GRAY), (11, 11)), ref))

    benchmark(run)


def test_pipeline_mog_campus(benchmark):
    if not CAMPUS.exists():
        pytest.skip(f"{CAMPUS} is absent")
    benchmark.pedantic(lambda: hc.motion_heatmap(CAMPUS, "mog"), rounds=3, iterations=1)


def test_pipeline_mog_half_gray_hd(benchmark, hd_clip):
    benchmark.pedantic(lambda: hc.motion_heatmap(hd_clip, "mog", scale=0.5, gray=True), rounds=3, iterations=1)


def test_pipeline_diff_hd(benchmark, hd_clip):
    benchmark.pedantic(lambda: hc.motion_heatmap(hd_clip, "diff"), rounds=3, iterations=1)
