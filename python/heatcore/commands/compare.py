"""`heatcore compare`: two heatmaps, or two periods of one sliced run, on one colour scale."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare",
        help="compare two heatmaps (or two periods of one time-sliced run): A, B and B - A",
        description="Loads two saved accumulator states (save() or a --checkpoint .npz), or one time-sliced state "
        "and two ranges of its slices (--split TIME, or --a/--b lo:hi slice keys), normalises both per hour of "
        "footage (or per frame / per visitor; the output says which), and writes one figure: A and B on one "
        "colour scale and the difference B - A on a diverging scale. With --zones, the zone table of both and "
        "the change in percent. Heatmaps of different geometry or configuration are refused.",
    )
    p.add_argument("a", type=Path, help="state .npz of A (or of the whole sliced run)")
    p.add_argument("b", type=Path, nargs="?", help="state .npz of B (omit to compare two periods of A)")
    p.add_argument("-o", "--output", "--out", dest="out", type=Path, required=True,
                   help="output figure (.png); compare.json and the zone table (.csv) are written beside it")
    p.add_argument("--name", help="accumulator name inside a pipeline checkpoint (default: the only/first heatmap)")
    p.add_argument("--split", help="one sliced run: A = slices before this time, B = from it on (ISO time "
                   "'2026-11-30T10:00' (UTC unless it has an offset) or a slice key)")
    p.add_argument("--a", dest="range_a", help="one sliced run: A's slice keys 'lo:hi' or 'k1,k2'")
    p.add_argument("--b", dest="range_b", help="one sliced run: B's slice keys 'lo:hi' or 'k1,k2'")
    p.add_argument("--per", choices=["hour", "frame", "visitor", "none"], default="hour",
                   help="normalise per hour of footage (default), per frame, per visitor, or not")
    p.add_argument("--fps", type=float, default=None, help="frames per second, for hours of footage of unsliced states")
    p.add_argument("--zones", type=Path, help="zones file (JSON/YAML) for the zone table")
    p.add_argument("--homography", type=Path, help="homography JSON (image -> plan) when zones and heatmap use "
                   "different units")
    p.add_argument("--label-a", default=None, help="name of A in the output")
    p.add_argument("--label-b", default=None, help="name of B in the output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..comparison import compare_states, save_comparison

    if args.out.suffix.lower() != ".png":
        raise ValueError(f"-o/--output must be a .png figure, got {args.out.name!r}")
    c = compare_states(args.a, args.b, name=args.name, split=args.split, range_a=args.range_a, range_b=args.range_b,
                       per=args.per, fps=args.fps, zones=args.zones, homography=args.homography,
                       label_a=args.label_a, label_b=args.label_b)
    written = save_comparison(c, args.out)
    print(f"normalised {c.summary()['normalised']}: {c.unit}")
    print(f"A {c.A.label}: total {c.a.sum():.6g}; B {c.B.label}: total {c.b.sum():.6g}; max |B - A| "
          f"{abs(c.diff).max():.6g}")
    for r in c.zones:
        ch = "n/a" if r["change_pct"] is None else f"{r['change_pct']:+.1f} %"
        print(f"  {r['zone']}: A {r['activity_a']:.6g}, B {r['activity_b']:.6g}, change {ch}")
    print("wrote " + ", ".join(str(p) for p in written))
    return 0
