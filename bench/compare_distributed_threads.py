"""Why two Dask workers may not give 2x: cores used per worker, per-partition time, fixed costs.

    python bench/compare_distributed_threads.py [--files 16] [--rounds 3]

Runs the diff job of ``compare_distributed.py`` (the campus video as N files, fixed reference)
on four LocalClusters at once — 1 and 2 workers, with and without pinning each one-thread worker
to one core's worth of threads (``heatcore.distributed.PIN_THREADS``: OpenCV's pool, the FFmpeg
decoder's frame threads, the C++ kernels' ``threads=``) — interleaved round by round, and prints
per case the medians of: wall time, the workers' CPU time (user + sys, ``getrusage`` in each
worker), CPU / wall (cores the job obtained), the sum of the partitions' compute time (Dask's
task stream) and the fixed cost (wall - compute / workers: submitting, scattering, merging).
Needs the shared campus video.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))

DATA = Path(os.environ.get("HEATCORE_DATA", ROOT.parent / "shared" / "data"))


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _set_pin(value: bool) -> bool:
    from heatcore import distributed

    distributed.PIN_THREADS = value
    return value


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="4 files, 2 rounds")
    args = ap.parse_args()
    if args.quick:
        args.files, args.rounds = 4, 2
    warnings.simplefilter("ignore")
    from distributed import Client, get_task_stream

    from heatcore import distributed
    from heatcore.inputs import Segment
    from heatcore.motion import sample_reference

    campus = DATA / "campus_480x360.avi"
    if not campus.exists():
        print(f"needs {campus}")
        return 0
    ref, _ = sample_reference(campus, 9)
    segs = [Segment(f"cam{k % 4}", campus, float(k), k) for k in range(args.files)]
    clusters = {}
    for pin in (False, True):
        for n in (1, 2):
            c = distributed.local_cluster(n)
            k = Client(c)
            k.run(_set_pin, pin)  # before any task: an unpinned worker keeps its thread pools
            distributed.run_partitions(segs[:1], "diff", executor=k, reference=ref)  # imports, first decode
            clusters[(pin, n)] = (c, k)
    load0 = os.getloadavg()[0]
    res: dict[tuple[bool, int], list[tuple[float, float, float]]] = {key: [] for key in clusters}
    try:
        for _ in range(args.rounds):
            for key, (_c, k) in clusters.items():
                before = k.run(_cpu)
                with get_task_stream(k) as ts:
                    t0 = time.perf_counter()
                    distributed.run_partitions(segs, "diff", executor=k, reference=ref)
                    wall = time.perf_counter() - t0
                after = k.run(_cpu)
                compute = sum(x["stop"] - x["start"] for d in ts.data if str(d["key"]).startswith("_run_task")
                              for x in d["startstops"] if x["action"] == "compute")
                res[key].append((wall, sum(after[w] - before[w] for w in after), compute))
    finally:
        for c, k in clusters.values():
            k.close()
            c.close()
    load = os.getloadavg()[0]
    frames = 795 * args.files
    print(f"diff job, campus 480x360 as {args.files} files ({frames} frames); load {load0:.1f} before, {load:.1f} "
          f"after, {os.cpu_count()} cores; medians of {args.rounds} interleaved rounds\n")
    print("| pinned | workers | wall | worker CPU | CPU / wall (cores) | CPU per frame | partitions' compute | "
          "fixed cost |")
    print("|---|---|---|---|---|---|---|---|")
    med = {}
    for (pin, n), rows in res.items():
        wall, cpu, comp = (statistics.median(r[i] for r in rows) for i in range(3))
        med[(pin, n)] = wall
        print(f"| {'yes' if pin else 'no'} | {n} | {wall:.2f} s | {cpu:.2f} s | {cpu / wall:.2f} | "
              f"{cpu / frames * 1e3:.2f} ms | {comp:.2f} s | {wall - comp / n:.2f} s |")
    print("\n| case | heatcore | anchor | ratio | target |")
    print("|---|---|---|---|---|")
    for pin in (False, True):
        a, b = med[(pin, 1)], med[(pin, 2)]
        print(f"| 2 workers vs 1, {'pinned' if pin else 'not pinned'} | {b:.2f} s | {a:.2f} s | {a / b:.2f}x | "
              ">= 1.6x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
