"""`heatcore demo`: synthesize scenes and write example outputs of every capability."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from . import _options as opt


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="write example heatmaps of every capability from synthetic data (no input files)",
        description="Synthesizes scenes (points, a video with moving blobs, detections, a floor "
        "plan) and writes example outputs of every heatcore capability into a folder.",
    )
    opt.add_output(p, "output folder (default: ./heatcore-demo)", default=Path("heatcore-demo"))
    opt.add_quiet(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .. import demo as demos
    from .. import demo_report

    out: Path = args.out
    opt.check_folder(out)
    out.mkdir(parents=True, exist_ok=True)
    for name, fn in [("kde", demos.kde_demo), ("motion", demos.motion_demo), ("grid", demos.grid_demo),
                     ("floorplan", demos.floorplan_demo), ("report", demo_report.demo)]:
        t0 = time.perf_counter()
        files = fn(out / name, quiet=args.quiet)
        dt = time.perf_counter() - t0
        print(f"{name:10s} {dt:6.2f} s")
        for f in files:
            print(f"  {f}")
    print(f"demo outputs are in {out.resolve()}")
    return 0

