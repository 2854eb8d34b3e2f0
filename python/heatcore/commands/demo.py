"""`heatcore demo`: synthesize scenes and write example outputs of every capability."""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="write example heatmaps of every capability from synthetic data (no input files)",
        description="Synthesizes scenes (points, a video with moving blobs, detections, a floor "
        "plan) and writes example outputs of every heatcore capability into a folder.",
    )
    p.add_argument("-o", "--out", type=Path, default=Path("heatcore-demo"), help="output folder (default: ./heatcore-demo)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from . import floorplan, grid, kde, motion
    from .. import demo_report

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    for name, module in [("kde", kde), ("motion", motion), ("grid", grid), ("floorplan", floorplan),
                         ("report", demo_report)]:
        t0 = time.perf_counter()
        files = module.demo(out / name, quiet=args.quiet)
        dt = time.perf_counter() - t0
        print(f"{name:10s} {dt:6.2f} s")
        for f in files:
            print(f"  {f}")
    print(f"demo outputs are in {out.resolve()}")
    return 0


def demo(outdir: Path, quiet: bool = True) -> list[Path]:  # pragma: no cover - not an area
    return []
