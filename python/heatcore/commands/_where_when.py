"""``--slice`` / ``--zones`` for the counting commands: the run is also counted per time slice and
per zone (:mod:`heatcore.run_folder`), and the states plus a ``run.json`` are saved in a folder that
``heatcore report FOLDER`` turns into the HTML report."""

from __future__ import annotations

import argparse
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
    """Add the sliced heatmap and the zone counter to a job's accumulators (when asked)."""
    from ..run_folder import where_when_accumulators

    where_when_accumulators(accumulators, factory, slicing=getattr(args, "slice", None),
                            zones=getattr(args, "zones", None), tz=getattr(args, "tz", None), homography=homography,
                            seconds_per_obs=seconds_per_obs, input=input)


def finish(args: argparse.Namespace, res: Any, folder: Path, *, main: str, title: str, method: str,
           inputs: list[str], background: Path | None = None, homography: Path | None = None) -> Path | None:
    """Save the states and ``run.json`` into ``folder`` (returns it, or None when not asked)."""
    if getattr(args, "slice", None) is None and getattr(args, "zones", None) is None:
        return None
    from ..run_folder import save_run_folder

    out = save_run_folder(args.report_dir or folder, res, main=main, title=title, method=method, inputs=inputs,
                          command=f"heatcore {args.command}", slicing=args.slice, zones=args.zones,
                          background=background, homography=homography)
    print(f"  states and run.json for `heatcore report {out}` are in {out}")
    return out
