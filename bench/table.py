"""Print every comparison table: heatcore vs its NumPy twin vs the tools users reach for.

Runs each ``bench/compare_<area>.py`` in turn (each measures all its contenders in one run and
prints a markdown table of medians and ratios). ``--quick`` passes through for a short run.

    python bench/table.py [--quick] [--only kde,motion]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
AREAS = ["kde", "motion", "grid", "flatbuf", "floorplan", "mog2", "detect", "video", "slices", "distributed"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer repeats and sizes")
    ap.add_argument("--only", default="", help="comma-separated areas (default: all)")
    args = ap.parse_args()
    areas = [a for a in args.only.split(",") if a] or AREAS
    print(f"# heatcore benchmark tables ({time.strftime('%Y-%m-%d %H:%M')}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()})\n")
    status = 0
    for area in areas:
        script = HERE / f"compare_{area}.py"
        if not script.exists():
            print(f"## {area}: no {script.name}\n")
            continue
        print(f"## {area}\n", flush=True)
        cmd = [sys.executable, str(script)] + (["--quick"] if args.quick else [])
        rc = subprocess.call(cmd)
        status = status or rc
        print(flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
