"""MOG2: heatcore's own kernel (``_core.Mog2Model``) vs OpenCV's ``createBackgroundSubtractorMOG2``.

    python bench/compare_mog2.py [--quick] [--frames N]

Frames are decoded into memory first; both models then see the same frames, interleaved in
chunks (OpenCV on a chunk, heatcore on the same chunk, next chunk ...), so machine load hits
both alike. Single-threaded rows use ``cv2.setNumThreads(1)`` and ``threads=1``; the last row
lets both use every core. fps = 1 / median time per frame, where time is the CPU time of the
calling thread for single-threaded rows (both kernels then run in that thread; CPU time is far
less disturbed by other processes than wall time) and wall time for the all-cores row; ratio =
median of the per-chunk ratios. Agreement = identical mask pixels over all
frames (and the worst frame). Target (issue 14): ratio >= 2 single-threaded. "batches of 8"
rows use ``apply_frames`` (8 frames per pass over the model state: the same masks, a fraction of
the memory traffic), as ``MotionHeatmap(batch=8)`` / ``motion_heatmap`` do.

Cases: the campus clip (../shared/data/campus_480x360.avi; skipped when absent) in colour and
gray, with and without shadow detection; the campus clip upscaled to 1280x720 (real footage at
HD size); a synthetic busy 1280x720 scene (moving discs over textured ground, sensor noise).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))

from heatcore import _core  # noqa: E402
from heatcore._synthetic import synthetic_frames  # noqa: E402

CAMPUS = Path(os.environ.get("HEATCORE_DATA", ROOT.parent / "shared" / "data")) / "campus_480x360.avi"


def decode(path: Path, limit: int) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    out = []
    while len(out) < limit:
        ok, f = cap.read()
        if not ok:
            break
        out.append(f)
    cap.release()
    return out


def run_case(frames: list[np.ndarray], shadows: bool, threads: int, chunk: int, batch: int = 1) -> dict:
    h, w = frames[0].shape[:2]
    c = 1 if frames[0].ndim == 2 else 3
    old = cv2.getNumThreads()
    cv2.setNumThreads(1 if threads == 1 else old)
    try:
        ref = cv2.createBackgroundSubtractorMOG2(500, 16, shadows)
        ours = _core.Mog2Model(w, h, c, detect_shadows=shadows)
        t_cv, t_hc, ratios = [], [], []
        same = total = 0
        worst = 1.0
        # single-threaded: CPU time of this thread (robust to other processes on a loaded machine);
        # all cores: wall-clock time
        clock = time.thread_time if threads == 1 else time.perf_counter
        for i in range(0, len(frames), chunk):
            part = frames[i:i + chunk]
            t0 = clock()
            a = [ref.apply(f) for f in part]
            t1 = clock()
            if batch == 1:
                b = [ours.apply(f, threads=threads) for f in part]
            else:
                b = [m for j in range(0, len(part), batch)
                     for m in ours.apply_frames(part[j:j + batch], threads=threads, return_mask=True)]
            t2 = clock()
            for x, y in zip(a, b):
                eq = int((x == y).sum())
                same += eq
                total += x.size
                worst = min(worst, eq / x.size)
            if i == 0:
                continue  # warm-up chunk (allocation, first frames)
            t_cv.append((t1 - t0) / len(part))
            t_hc.append((t2 - t1) / len(part))
            ratios.append((t1 - t0) / (t2 - t1))
    finally:
        cv2.setNumThreads(old)
    return {"hc": 1 / statistics.median(t_hc), "cv": 1 / statistics.median(t_cv), "ratio": statistics.median(ratios),
            "agree": same / total, "worst": worst}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer frames")
    ap.add_argument("--frames", type=int, default=0, help="frames per case (default 300, quick 120)")
    args = ap.parse_args()
    n = args.frames or (120 if args.quick else 300)
    n_hd = max(40, n // 3)
    chunk = 16 if args.quick else 24  # a multiple of the batch size
    cases: list[tuple[str, list[np.ndarray], bool, int, int]] = []
    if CAMPUS.exists():
        campus = decode(CAMPUS, n)
        gray = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in campus]
        cases += [("campus 480x360 colour", campus, True, 1, 1),
                  ("campus 480x360 colour, no shadows", campus, False, 1, 1),
                  ("campus 480x360 gray", gray, True, 1, 1)]
        hd = [cv2.resize(f, (1280, 720), interpolation=cv2.INTER_LINEAR) for f in campus[:n_hd]]
        cases += [("campus upscaled 1280x720 colour", hd, True, 1, 1),
                  ("campus upscaled 1280x720 colour, batches of 8", hd, True, 1, 8)]
    else:
        print(f"(campus clip {CAMPUS} not found: its rows are skipped)\n")
    synth = list(synthetic_frames(1280, 720, n_hd, blobs=12, seed=1))
    cases += [("synthetic busy 1280x720 colour", synth, True, 1, 1),
              ("synthetic busy 1280x720 colour, batches of 8", synth, True, 1, 8)]
    if CAMPUS.exists():
        cases.append((f"campus 480x360 colour, all cores ({os.cpu_count()})", campus, True, 0, 1))

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"MOG2 kernel, frames in memory; heatcore SIMD path: {_core.Mog2Model.simd_path}; OpenCV "
          f"{cv2.__version__}; load average {load:.1f} on {os.cpu_count()} cores\n")
    print("| case | heatcore fps | OpenCV fps | ratio | agreement (worst frame) | target |")
    print("|---|---|---|---|---|---|")
    for name, frames, shadows, threads, batch in cases:
        r = run_case(frames, shadows, threads, chunk, batch)
        target = ">= 2x" if threads == 1 else ""
        print(f"| {name} | {r['hc']:.0f} | {r['cv']:.0f} | {r['ratio']:.2f}x | {100 * r['agree']:.4f} % "
              f"({100 * r['worst']:.4f} %) | {target} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
