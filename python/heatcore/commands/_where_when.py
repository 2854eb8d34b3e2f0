"""``--slice`` / ``--zones`` for the counting commands (grid, floorplan): the run is also counted
per time slice and per zone, and the states plus a ``run.json`` are saved in a folder that
``heatcore report FOLDER`` turns into the HTML report."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any, Callable

__all__ = ["add_options", "attach", "finish"]


def add_options(p: argparse.ArgumentParser, folder_help: str) -> None:
    g = p.add_argument_group("where and when (for heatcore report)")
    g.add_argument("--slice", default=None, metavar="PERIOD",
                   help="also count per time slice: a period (15min, 1h, 1d, ...), hour (of day), weekday or "
                        "weekhour; wall-clock time when the input has it, else seconds from the start")
    g.add_argument("--zones", type=Path, default=None, help="zones file (JSON/YAML): also count people per zone")
    g.add_argument("--tz", default=None, help="local time offset for --slice, hours or +HH:MM (default UTC)")
    g.add_argument("--report-dir", type=Path, default=None,
                   help=f"where the sliced/zone states and run.json go (default: {folder_help})")


def attach(args: argparse.Namespace, accumulators: dict[str, Any], factory: Callable[[], Any], *,
           homography: Any = None, seconds_per_obs: float | None = None, input: Path | None = None) -> None:
    """Add the sliced heatmap and the zone counter to a job's accumulators (when asked). Records
    without wall-clock time get it from the time stamp in ``input``'s name, if any."""
    if getattr(args, "slice", None) is None and getattr(args, "zones", None) is None:
        return
    from ..slices import SlicedAccumulator
    from ..zones import ZoneCounter, load_zones

    start = None
    if input is not None:
        from ..io.timestamps import start_time_from_name

        start = start_time_from_name(input)
    if args.slice is not None:
        accumulators["sliced"] = SlicedAccumulator(factory, args.slice, tz=args.tz, start=start)
    if args.zones is not None:
        zones = load_zones(args.zones)

        def counter() -> Any:
            return ZoneCounter(zones, homography=homography, seconds_per_obs=seconds_per_obs)

        accumulators["zones"] = SlicedAccumulator(counter, args.slice, tz=args.tz, start=start) \
            if args.slice else counter()


def finish(args: argparse.Namespace, res: Any, folder: Path, *, main: str, title: str, method: str,
           inputs: list[str], background: Path | None = None, homography: Path | None = None) -> Path | None:
    """Save the states and ``run.json`` into ``folder`` (returns it, or None when not asked)."""
    if getattr(args, "slice", None) is None and getattr(args, "zones", None) is None:
        return None
    folder = Path(args.report_dir or folder)
    folder.mkdir(parents=True, exist_ok=True)
    run: dict[str, Any] = {"title": title, "camera": Path(inputs[0]).stem if inputs else "", "method": method,
                           "meta": {"inputs": ", ".join(inputs), "records": res.records,
                                    "run time": f"{res.seconds:.2f} s", "command": f"heatcore {args.command}",
                                    "slicing": args.slice or "none", "zones file": str(args.zones or "none")}}
    res[main].save(folder / f"{main}.npz")
    run["heat"] = main
    if "sliced" in res.accumulators:
        res["sliced"].save(folder / "sliced.npz")
        run["heat"] = "sliced"
    if "zones" in res.accumulators:
        res["zones"].save(folder / "zones.npz")
        run["counter"] = "zones"
        z = folder / ("zones" + args.zones.suffix.lower())
        if args.zones.resolve() != z.resolve():
            shutil.copyfile(args.zones, z)
        run["zones"] = z.name
    if background is not None:
        b = folder / ("background" + background.suffix.lower())
        if background.resolve() != b.resolve():
            shutil.copyfile(background, b)
        run["background"] = b.name
    if homography is not None:
        h = folder / "homography.json"
        if homography.resolve() != h.resolve():
            shutil.copyfile(homography, h)
        run["homography"] = h.name
    (folder / "run.json").write_text(json.dumps(run, indent=1))
    print(f"  states and run.json for `heatcore report {folder}` are in {folder}")
    return folder
