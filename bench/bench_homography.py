"""pytest-benchmark suite for the homography kernel and the HOG detector.

    PYTHONPATH=python python -m pytest bench/bench_homography.py --benchmark-enable

Homography.apply on 1e6 points (C++ 1 thread / all threads) vs cv2.perspectiveTransform vs the
NumPy twin; HOG people detection on one 480x360 campus frame. Ratios: bench/compare_floorplan.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from heatcore import HOGDetector, Homography
from heatcore.reference.homography import apply_homography

VIDEO = Path(os.environ.get("HEATCORE_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")) / \
    "campus_480x360.avi"
H = Homography.from_points([[40, 460], [600, 460], [470, 140], [170, 140]], [[0, 300], [400, 300], [400, 0], [0, 0]])
PTS = np.random.default_rng(0).uniform([0, 150], [640, 480], (1_000_000, 2))
PTS_CV = PTS.reshape(-1, 1, 2)


@pytest.mark.parametrize("threads", [1, 0], ids=["1thread", "allthreads"])
def test_apply_cpp(benchmark, threads):
    out = benchmark(H.apply, PTS, threads=threads)
    assert out.shape == PTS.shape


def test_apply_opencv(benchmark):
    benchmark(cv2.perspectiveTransform, PTS_CV, H.matrix)


def test_apply_numpy_twin(benchmark):
    benchmark(apply_homography, H.matrix, PTS)


def test_hog_frame(benchmark):
    if not VIDEO.exists():
        pytest.skip(f"{VIDEO} not present")
    cap = cv2.VideoCapture(str(VIDEO))
    cap.set(cv2.CAP_PROP_POS_FRAMES, 250)
    ok, frame = cap.read()
    cap.release()
    assert ok
    benchmark(HOGDetector(), frame)
