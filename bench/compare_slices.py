"""The cost of time slices: a sliced accumulator vs the plain one over the same records.

    python bench/compare_slices.py [--quick]

Contenders (interleaved round by round so machine load hits them alike; medians and ratios):
* grid plain: GridCounter (point mode, 64x48 cells) over synthetic detections, batches of 256;
* grid sliced 15min / 1min: SlicedAccumulator around the same counter (records 2 s apart: a new
  slice every 450 / 30 records);
* motion MOG plain vs sliced 10s: MotionHeatmap("mog", gray) over 480x360 frames at 10 fps (the
  campus video when present, else synthetic frames); every 100 frames the MOG model is handed
  to the next slice;
* motion MOG with 3 zones: the same MotionHeatmap counting motion per zone from every frame's mask
  (zones=, the model's batches then return their masks); the held state of the sliced MOG (a
  finished slice hands its model on and drops it: one model, not one per slice);
* the demo report: building report.html from the demo's run folder (absolute time only).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))

from heatcore import GridCounter, MotionHeatmap  # noqa: E402
from heatcore._synthetic import synthetic_people  # noqa: E402
from heatcore.records import Frame  # noqa: E402
from heatcore.slices import SlicedAccumulator  # noqa: E402

DATA = Path(os.environ.get("HEATCORE_DATA", ROOT.parent / "shared" / "data"))


def _frames(n: int) -> list[Frame]:
    video = DATA / "campus_480x360.avi"
    if video.exists():
        from heatcore.io.video import iter_frames

        imgs = [img for _, img in iter_frames(video, stop=n)]
    else:
        rng = np.random.default_rng(0)
        bg = rng.integers(40, 200, (360, 480, 3), dtype=np.uint8)
        imgs = []
        for i in range(n):
            im = bg.copy()
            im[100:180, (4 * i) % 400:(4 * i) % 400 + 40] = 250
            imgs.append(im)
    return [Frame(i, im, i / 10.0, 1.7e9 + i / 10.0, "cam") for i, im in enumerate(imgs)]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    rounds = 3 if args.quick else 7
    recs = synthetic_people(frames=2000 if args.quick else 10000, size=(640, 480))
    recs = [replace(r, time=2.0 * i, wall=1.7e9 + 2.0 * i) for i, r in enumerate(recs)]
    frames = _frames(150 if args.quick else 300)

    def grid() -> GridCounter:
        return GridCounter(image_size=(640, 480), grid=(64, 48), mode="point")

    def run_grid(acc) -> None:
        for i in range(0, len(recs), 256):
            acc.update_batch(recs[i:i + 256])

    def mog() -> MotionHeatmap:
        return MotionHeatmap("mog", gray=True, threads=1)

    def run_motion(acc) -> None:
        for i in range(0, len(frames), 8):
            acc.update_batch(frames[i:i + 8])

    zones = {"left": [[0, 0], [240, 0], [240, 360], [0, 360]], "right": [[240, 0], [480, 0], [480, 360], [240, 360]],
             "door": [[180, 90], [320, 90], [320, 250], [180, 250]]}

    def mog_zones() -> MotionHeatmap:
        return MotionHeatmap("mog", gray=True, threads=1, zones=zones)

    cases = {
        "grid plain": lambda: run_grid(grid()),
        "grid sliced 15min": lambda: run_grid(SlicedAccumulator(grid, "15min")),
        "grid sliced 1min": lambda: run_grid(SlicedAccumulator(grid, "1min")),
        "motion MOG plain": lambda: run_motion(mog()),
        "motion MOG sliced 10s": lambda: run_motion(SlicedAccumulator(mog, "10s")),
        "motion MOG 3 zones": lambda: run_motion(mog_zones()),
    }
    times: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(rounds):
        for name, fn in cases.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    from heatcore.demo_report import demo
    from heatcore.report import report_from_folder

    with tempfile.TemporaryDirectory() as tmp:
        demo(tmp)
        rt = []
        for _ in range(max(1, rounds // 2)):
            t0 = time.perf_counter()
            report_from_folder(tmp)
            rt.append(time.perf_counter() - t0)
    load = os.getloadavg()[0]
    print(f"{len(recs)} detection records, {len(frames)} frames of 480x360; {rounds} rounds; load {load:.1f} "
          f"on {os.cpu_count()} cores\n")
    print("| case | heatcore sliced (median s) | anchor: plain (median s) | ratio | target |")
    print("|---|---|---|---|---|")
    g = statistics.median(times["grid plain"])
    m = statistics.median(times["motion MOG plain"])
    for name, base, target in [("grid sliced 15min", g, "<= 1.5x"), ("grid sliced 1min", g, "<= 2x"),
                               ("motion MOG sliced 10s", m, "<= 1.2x"), ("motion MOG 3 zones", m, "<= 1.2x")]:
        t = statistics.median(times[name])
        print(f"| {name} | {t:.4f} | {base:.4f} | {t / base:.2f}x | {target} |")
    print(f"| demo report.html build | {statistics.median(rt):.2f} | - | - | < 10 s |")
    sl = SlicedAccumulator(mog, "10s")
    run_motion(sl)
    held = sum(v.nbytes for v in sl.state().values())
    one = sum(v.nbytes for v in mog().state().values())  # before any frame: no model yet
    plain = mog()
    run_motion(plain)
    model = sum(v.nbytes for k, v in plain.state().items() if k.startswith("mog_"))
    print(f"\nsliced MOG state after {len(sl)} slices: {held / 1e6:.1f} MB (one model of {model / 1e6:.1f} MB; "
          f"{len(sl)} models would be {len(sl) * model / 1e6:.1f} MB; empty accumulator {one / 1e3:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
