"""`heatcore report`: one self-contained HTML report of a run's output folder."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="one self-contained HTML report (heatmap, time slices, activity, zones, comparison, metadata)",
        description="Reads a run's output folder (accumulator states saved with save() or --checkpoint .npz files, "
        "and optionally run.json naming the title, camera, method, zones, background and a comparison) and writes "
        "ONE HTML file that opens from disk with no network: the overall heatmap, a slider over the time slices "
        "on one colour scale, the activity over time, the zone table, the comparison and the run's metadata. "
        "It prints to PDF cleanly.",
    )
    p.add_argument("folder", type=Path, help="the run's output folder")
    p.add_argument("-o", "--output", "--out", dest="out", type=Path, default=None,
                   help="the HTML file (default: FOLDER/report.html)")
    p.add_argument("--zones", type=Path, help="zones file (JSON/YAML), overrides run.json")
    p.add_argument("--background", type=Path, help="image under the heatmap (scene frame or plan)")
    p.add_argument("--title", help="report title")
    p.add_argument("--compare-a", help="compare two periods of the sliced run: A's slice keys 'lo:hi'")
    p.add_argument("--compare-b", help="... and B's slice keys 'lo:hi'")
    p.add_argument("--per", choices=["hour", "frame", "visitor", "none"], default=None,
                   help="normalisation of the comparison (default: run.json's, else per hour of footage)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..report import report_from_folder

    if args.out is not None and args.out.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"-o/--output must be an .html file, got {args.out.name!r}")
    cmp = None
    if (args.compare_a is None) != (args.compare_b is None):
        raise ValueError("give both --compare-a and --compare-b")
    if args.compare_a is not None:
        cmp = {"a": args.compare_a, "b": args.compare_b}
    rep = report_from_folder(args.folder, args.out, zones=args.zones, compare=cmp, per=args.per, title=args.title,
                             background=args.background)
    path = rep.path
    assert path is not None
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB, figures: {', '.join(rep.figures)})")
    return 0
