"""Floor-plan mapping and detection speed: heatcore vs cv2.perspectiveTransform vs the NumPy twin,
and the HOG people detector's throughput on the campus video, in one run.

    python bench/compare_floorplan.py [--quick]

* Homography.apply on 1e6 (N, 2) float64 points: C++ kernel with 1 thread and all threads,
  cv2.perspectiveTransform on the same (N, 1, 2) float64 array (what a user would call), and the
  NumPy twin. Accuracy: max |difference| to OpenCV (points in front of the horizon).
  Targets: at least as fast as OpenCV, >= 5x the NumPy twin.
* HOG (OpenCV's default people detector) frames/s on ../shared/data/campus_480x360.avi at its
  native 480x360, and the whole `detect_video` loop (decode + detect) with stride 1.
Machine noise: medians of several runs; the 2 cores may be shared with other jobs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))

import cv2  # noqa: E402

from heatcore import HOGDetector, Homography, detect_video  # noqa: E402
from heatcore.io.video import iter_frames  # noqa: E402
from heatcore.reference.homography import apply_homography  # noqa: E402

VIDEO = Path(os.environ.get("HEATCORE_DATA", ROOT.parent / "shared" / "data")) / "campus_480x360.avi"


def median_time(fn, repeat: int) -> float:
    fn()  # warm-up
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer repeats and frames")
    args = ap.parse_args()
    repeat = 5 if args.quick else 21
    n = 1_000_000
    h = Homography.from_points([[40, 460], [600, 460], [470, 140], [170, 140]],
                               [[0, 300], [400, 300], [400, 0], [0, 0]])
    pts = np.random.default_rng(0).uniform([0, 150], [640, 480], (n, 2))
    ref_cv = cv2.perspectiveTransform(pts.reshape(-1, 1, 2), h.matrix).reshape(-1, 2)
    front = np.isfinite(h.apply(pts))
    rows = []
    contenders = [
        ("heatcore C++, 1 thread", lambda: h.apply(pts, threads=1)),
        (f"heatcore C++, all threads ({os.cpu_count()})", lambda: h.apply(pts, threads=0)),
        ("cv2.perspectiveTransform", lambda: cv2.perspectiveTransform(pts.reshape(-1, 1, 2), h.matrix)),
        ("NumPy twin", lambda: apply_homography(h.matrix, pts)[0]),
    ]
    times = {}
    for name, fn in contenders:
        t = median_time(fn, repeat)
        out = np.asarray(fn()).reshape(-1, 2)
        err = float(np.nanmax(np.abs(out[front] - ref_cv[front])))
        times[name] = t
        rows.append((name, t, err))
    t_cv = times["cv2.perspectiveTransform"]
    t_np = times["NumPy twin"]
    print(f"### Homography.apply, {n:,} points (median of {repeat})\n")
    print("| contender | median ms | Mpoints/s | vs OpenCV | vs NumPy twin | max abs diff to OpenCV |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, t, err in rows:
        print(f"| {name} | {t * 1e3:.2f} | {n / t / 1e6:.0f} | {t_cv / t:.2f}x | {t_np / t:.2f}x | {err:.1e} |")
    print()
    if not VIDEO.exists():
        print(f"(HOG: {VIDEO} not present, skipped)")
        return 0
    nframes = 40 if args.quick else 200
    frames = [f for _, f in iter_frames(VIDEO, stop=nframes)]
    print(f"### HOG people detector, campus video {frames[0].shape[1]}x{frames[0].shape[0]}, {len(frames)} frames\n")
    print("| variant | median ms/frame | frames/s | boxes/frame |")
    print("|---|---:|---:|---:|")
    for label, kw in [("HOG native 480x360", {}), ("HOG upscaled to 720 px wide", {"resize_width": 720})]:
        hog = HOGDetector(**kw)
        ts, boxes = [], 0
        for f in frames:
            t = time.perf_counter()
            boxes += len(hog(f))
            ts.append(time.perf_counter() - t)
        m = statistics.median(ts)
        print(f"| {label} | {m * 1e3:.1f} | {1 / m:.1f} | {boxes / len(frames):.2f} |")
    t = time.perf_counter()
    k = sum(1 for _ in detect_video(VIDEO, HOGDetector(), stop=nframes))
    dt = time.perf_counter() - t
    print(f"| detect_video (decode + HOG native), stride 1 | {dt / k * 1e3:.1f} | {k / dt:.1f} | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
