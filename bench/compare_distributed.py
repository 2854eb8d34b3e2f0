"""Many files on a Dask LocalCluster: scaling with workers, the client's memory, a cluster on paper.

    python bench/compare_distributed.py [--quick]

* throughput of a 4-file diff job (fixed reference; the campus video as 4 cameras when present,
  else synthetic clips) with 1 and 2 local workers (LocalCluster processes, one thread each, both
  clusters up, runs interleaved round by round; medians and the ratio);
* the client's peak Python memory (tracemalloc: NumPy buffers included) while 8/16/32/64 partitions
  of one clip run: ``run_partitions`` (merges on the workers, the client holds futures) against the
  naive ``map_merge`` gather (the client receives every partial accumulator);
* MOG/MOG2 warm-up: differing-pixel fraction and relative L1 of 4 frame-range partitions against
  one uninterrupted run of the campus video, for warm-ups of 0, history/2, history, 2x history
  (skipped with --quick or without the shared data);
* the cluster size for 1,000 cameras x 24 h at 10 fps from the measured per-core frames/s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))

from heatcore import distributed  # noqa: E402
from heatcore.inputs import Segment  # noqa: E402
from heatcore._synthetic import write_synthetic_video  # noqa: E402
from heatcore.motion import motion_heatmap, sample_reference  # noqa: E402

DATA = Path(os.environ.get("HEATCORE_DATA", ROOT.parent / "shared" / "data"))


def _peak(fn) -> tuple[float, object]:
    tracemalloc.start()
    tracemalloc.reset_peak()
    out = fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6, out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    rounds = 2 if args.quick else 3
    warnings.simplefilter("ignore")
    from distributed import Client

    tmp = Path(tempfile.mkdtemp(prefix="hc-dist-"))
    campus = DATA / "campus_480x360.avi"
    if campus.exists():
        files = [campus] * 4
        what = "campus 480x360, 795 frames"
    else:
        files = [write_synthetic_video(tmp / f"c{k}.avi", 480, 360, 300, seed=k) for k in range(4)]
        what = "synthetic 480x360, 300 frames"
    ref, _ = sample_reference(files[0], 9)
    segs = [Segment(f"cam{k}", f, float(k)) for k, f in enumerate(files)]
    total_frames = None

    c1, c2 = distributed.local_cluster(1), distributed.local_cluster(2)
    k1, k2 = Client(c1), Client(c2)
    times: dict[int, list[float]] = {1: [], 2: []}
    try:
        for _ in range(rounds):
            for n, cl in ((1, k1), (2, k2)):
                t0 = time.perf_counter()
                heat = distributed.run_partitions(segs, "diff", executor=cl, reference=ref, threads=1)
                times[n].append(time.perf_counter() - t0)
                total_frames = sum(h.frames for h in heat.values())
        t1, t2 = statistics.median(times[1]), statistics.median(times[2])
        fps1 = total_frames / t1

        # client memory as partitions grow (one clip split into frame ranges)
        side = (640, 360) if args.quick else (1920, 1080)
        clip = write_synthetic_video(tmp / "clip.avi", side[0], side[1], 64, seed=7)
        cref, _ = sample_reference(clip, 5)
        mem = []
        for parts in (8, 16, 32, 64):
            seg = [Segment("cam", clip, 0.0)]
            ours, _ = _peak(lambda: distributed.run_partitions(seg, "diff", executor=k2, reference=cref,
                                                               split_frames=64 // parts, threads=1))
            tasks = [dict(source=str(clip), method="diff", reference=cref, start=a, stop=b, threads=1)
                     for a, b in distributed.split_range(64, parts)]
            naive, _ = _peak(lambda: distributed.map_merge(motion_heatmap, tasks, executor=k2))
            mem.append((parts, ours, naive))
    finally:
        k1.close()
        k2.close()
        c1.close()
        c2.close()

    load = os.getloadavg()[0]
    print(f"4 files ({what}), method diff with a fixed reference, {total_frames} frames; load {load:.1f} "
          f"on {os.cpu_count()} cores; {rounds} interleaved rounds, medians\n")
    print("| case | heatcore | anchor | ratio | target |")
    print("|---|---|---|---|---|")
    print(f"| 4-file diff job: 2 workers vs 1 worker | {t2:.2f} s | {t1:.2f} s | {t1 / t2:.2f}x | >= 1.6x |")
    for parts, ours, naive in mem:
        print(f"| client peak memory, {parts} partitions of {side[0]}x{side[1]} (run_partitions vs map_merge gather) "
              f"| {ours:.1f} MB | {naive:.1f} MB | {naive / max(ours, 1e-9):.1f}x | flat |")
    frames_day = 1000 * 24 * 3600 * 10
    cores = frames_day / (fps1 * 86400)
    print(f"\nper-core throughput (1 worker, diff, 480x360): {fps1:.0f} frames/s")
    print(f"1,000 cameras x 24 h x 10 fps = {frames_day:.2e} frames/day -> {cores:.0f} cores running 24/7 at this "
          f"resolution (x{1920 * 1080 / (480 * 360):.0f} the pixels at 1080p: ~{cores * 1920 * 1080 / (480 * 360):.0f} "
          f"cores if the cost scales with pixels)")
    if campus.exists() and not args.quick:
        import numpy as np

        print("\n| MOG warm-up (campus, gray, 4 partitions of 200 frames) | differing pixels | relative L1 |")
        print("|---|---|---|")
        seg = [Segment("campus", campus, 0.0)]
        for method, hist in (("mog", 200), ("mog2", 500)):
            whole = motion_heatmap(campus, method, gray=True).result().astype(np.float64)
            for w in (0, hist // 2, hist, 2 * hist):
                r = distributed.run_partitions(seg, method, split_frames=200, warmup=w, gray=True)["campus"]
                r = r.result().astype(np.float64)
                print(f"| {method}, warm-up {w} frames | {np.mean(r != whole):.4f} | "
                      f"{np.abs(r - whole).sum() / whole.sum():.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
