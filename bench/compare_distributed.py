"""Many files on a Dask LocalCluster: scaling with workers, the client's memory, a cluster on paper.

    python bench/compare_distributed.py [--quick]

* throughput of a diff job over many files (fixed reference; the campus video as 4 cameras x 4
  files = 16 files, 12,720 frames, when present, else synthetic clips) with 1 and 2 local workers
  (LocalCluster processes, one thread each, both clusters up, runs interleaved round by round;
  medians and the ratio). The job is long enough (~10 s on one core) that the fixed costs of a
  run (submitting, scattering the reference, opening files, the merges: ~0.1-0.2 s) amortise;
  the first 4-file version (2.5 s) measured them as much as the decoding. Workers with one thread
  are pinned to one core's worth of threads (OpenCV, the FFmpeg decoder, the kernels), so two
  workers do not fight over both cores from inside each process;
* a grid job (the AITRIOS sample CSV as 16 camera files, 9,600 frames) and a floor-plan job
  (synthetic people, 16 files) over many files at 1 vs 2 workers;
* cross-file MOG/MOG2 warm-up: the campus video cut into 4 contiguous segment files (start
  times in the names); differing-pixel fraction and relative L1 of the per-camera result against
  one uninterrupted run over the 4 files' frames, with and without warming each file up on the end
  of the previous contiguous file(s);
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
from typing import Any

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


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _detection_files(tmp: Path, quick: bool) -> tuple[list[Segment], str, Any]:
    """Camera files of detections: the AITRIOS sample CSV as 16 cameras (symlinks), else synthetic."""
    from heatcore.grid import GridCounter

    sample = DATA / "aitrios_sample_detections.csv"
    n = 4 if quick else 16
    segs = []
    if sample.exists():
        for k in range(n):
            (tmp / f"g{k}").mkdir(exist_ok=True)
            f = tmp / f"g{k}" / "sample.csv"
            if not f.exists():
                f.symlink_to(sample)
            segs.append(Segment(f"cam{k}", f, None, k))
        return segs, f"AITRIOS sample CSV x {n} cameras (600 frames each)", GridCounter((1920, 1080), (60, 36))
    segs = [Segment(f"cam{k}", f, None, k) for k, f in enumerate(_synthetic_people_files(tmp, n, "g"))]
    return segs, f"synthetic people x {n} files", GridCounter((1280, 720), (64, 36))


def _synthetic_people_files(tmp: Path, n: int, prefix: str) -> list[Path]:
    import csv

    from heatcore._synthetic import synthetic_people
    from heatcore.io.detections import DETECTIONS_HEADER, detections_csv_rows, write_meta

    out = []
    for k in range(n):
        f = tmp / f"{prefix}{k}.csv"
        with open(f, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(DETECTIONS_HEADER)
            for r in synthetic_people(600, (1280, 720), people=20, seed=k):
                r.time = r.frame / 10.0
                for row in detections_csv_rows(r):
                    w.writerow(row)
        write_meta(f, {"format": "heatcore-detections", "fps": 10.0, "stride": 1})
        out.append(f)
    return out


def _contiguous_campus(tmp: Path, campus: Path, parts: int = 4) -> list[Segment]:
    """The campus video cut into ``parts`` contiguous MJPG files named with their start times."""
    from heatcore import render
    from heatcore.io.video import iter_frames, video_info

    info = video_info(campus)
    fps = float(info.fps)
    n = int(info.frame_count)
    bounds = [n * i // parts for i in range(parts + 1)]
    writers, segs = [], []
    t0 = 1_700_000_000.0
    (tmp / "seg").mkdir(exist_ok=True)
    for k in range(parts):
        start = t0 + bounds[k] / fps
        p = tmp / "seg" / f"{int(start)}_{k}_campus_0-0-480-360_24_769.avi"
        writers.append(render.VideoWriter(p, fps, (info.width, info.height), fourcc="MJPG", order="bgr"))
        segs.append(Segment("campus", p, start, k))
    k = 0
    for i, img in iter_frames(campus):
        while i >= bounds[k + 1]:
            k += 1
        writers[k].write(img)
    for w in writers:
        w.close()
    return segs


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    rounds = 2 if args.quick else 3
    warnings.simplefilter("ignore")
    from distributed import Client

    from heatcore.floorplan import FloorplanAccumulator
    from heatcore.homography import Homography
    from heatcore.many import CountTask

    tmp = Path(tempfile.mkdtemp(prefix="hc-dist-"))
    campus = DATA / "campus_480x360.avi"
    nfiles = 4 if args.quick else 16
    if campus.exists():
        files = [campus] * nfiles
        what = f"campus 480x360 as {nfiles} files x 795 frames"
    else:
        files = [write_synthetic_video(tmp / f"c{k}.avi", 480, 360, 300, seed=k) for k in range(nfiles)]
        what = f"synthetic 480x360, {nfiles} files x 300 frames"
    ref, _ = sample_reference(files[0], 9)
    segs = [Segment(f"cam{k % 4}", f, float(k), k) for k, f in enumerate(files)]
    dsegs, dwhat, counter = _detection_files(tmp, args.quick)
    psegs = [Segment(f"cam{k % 4}", f, None, k) for k, f in enumerate(_synthetic_people_files(tmp, nfiles, "p"))]
    plan = FloorplanAccumulator((640, 360), Homography([[0.5, 0, 0], [0, 0.5, 0], [0, 0, 1.0]]), seconds_per_obs=0.1)
    grid_task, plan_task = CountTask(counter), CountTask(plan)
    total_frames = 0
    load0 = os.getloadavg()[0]

    c1, c2 = distributed.local_cluster(1), distributed.local_cluster(2)
    k1, k2 = Client(c1), Client(c2)
    times: dict[tuple[str, int], list[float]] = {}
    try:
        for cl in (k1, k2):  # warm the workers up (imports, first decode) outside the timings
            distributed.run_partitions(segs[:2], "diff", executor=cl, reference=ref, threads=1)
        for _ in range(rounds):
            for n, cl in ((1, k1), (2, k2)):
                def diff_job() -> None:
                    nonlocal total_frames
                    heat = distributed.run_partitions(segs, "diff", executor=cl, reference=ref, threads=1)
                    total_frames = sum(h.frames for h in heat.values())

                times.setdefault(("diff", n), []).append(_timed(diff_job))
                times.setdefault(("grid", n), []).append(
                    _timed(lambda: distributed.run_partitions(dsegs, grid_task, executor=cl)))
                times.setdefault(("plan", n), []).append(
                    _timed(lambda: distributed.run_partitions(psegs, plan_task, executor=cl)))
        med = {k: statistics.median(v) for k, v in times.items()}
        t1, t2 = med[("diff", 1)], med[("diff", 2)]
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
    print(f"diff job: {what}, fixed reference, {total_frames} frames; grid job: {dwhat}; floor-plan job: "
          f"synthetic people x {nfiles} files (600 frames, 20 people). Load {load0:.1f} before, {load:.1f} after, "
          f"on {os.cpu_count()} cores; {rounds} interleaved rounds, medians\n")
    print("| case | heatcore | anchor | ratio | target |")
    print("|---|---|---|---|---|")
    print(f"| {nfiles}-file diff job: 2 workers vs 1 worker | {t2:.2f} s | {t1:.2f} s | {t1 / t2:.2f}x | >= 1.6x |")
    print(f"| grid over {len(dsegs)} detection files: 2 workers vs 1 | {med[('grid', 2)]:.2f} s | {med[('grid', 1)]:.2f} s "
          f"| {med[('grid', 1)] / med[('grid', 2)]:.2f}x | - |")
    print(f"| floor plan over {len(psegs)} detection files: 2 workers vs 1 | {med[('plan', 2)]:.2f} s | "
          f"{med[('plan', 1)]:.2f} s | {med[('plan', 1)] / med[('plan', 2)]:.2f}x | - |")
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

        from heatcore.io.video import iter_frames
        from heatcore.motion import MotionHeatmap

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

        cut = _contiguous_campus(tmp, campus)
        print("\n| cross-file warm-up (campus cut into 4 contiguous files, gray) | differing pixels | relative L1 |")
        print("|---|---|---|")
        for method, hist in (("mog", 200), ("mog2", 500)):
            one = MotionHeatmap(method, gray=True)
            for s in cut:  # one uninterrupted model over the same decoded frames
                for _, img in iter_frames(s.path, gray=True):
                    one.update(img)
            whole = one.result().astype(np.float64)
            for cross in (False, True):
                r = distributed.run_partitions(cut, method, gray=True, cross_warmup=cross)["campus"]
                r = r.result().astype(np.float64)
                label = (f"warm-up on the last {hist} frames of the previous contiguous files (~199 frames each)"
                         if cross else "each file from a fresh model")
                print(f"| {method}: {label} | {np.mean(r != whole):.4f} | {np.abs(r - whole).sum() / whole.sum():.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
