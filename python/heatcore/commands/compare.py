"""`heatcore compare`: two heatmaps, or two periods of one sliced run, on one colour scale."""

from __future__ import annotations

import argparse
import json
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


def load_heat(path: Path, name: str | None = None):
    """One accumulator from a saved state or a pipeline checkpoint."""
    from ..report import _load_states

    if not path.is_file():
        raise FileNotFoundError(f"no such state file: {path}")
    accs = _load_states(path)
    if name is not None:
        if name not in accs:
            raise ValueError(f"{path} holds {sorted(accs)}, not {name!r}")
        return accs[name]
    heat = [a for a in accs.values() if getattr(a, "inner_kind", a.kind) != "zones"]
    if not heat:
        raise ValueError(f"{path} holds no heatmap (only {sorted(accs)})")
    return heat[0]


def split_key(sliced, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        pass
    from ..io.timestamps import parse_iso_time

    t = parse_iso_time(text)
    if t is None:
        raise ValueError(f"--split must be an ISO time such as 2026-11-30T10:00 or a slice key, got {text!r}")
    if sliced.basis != "wall":
        raise ValueError("--split with a time needs slices of wall-clock time; give a slice key instead")
    return sliced.key_at(t, "wall")


def run(args: argparse.Namespace) -> int:
    from ..comparison import compare, comparison_figure, footage, parse_range
    from ..slices import SlicedAccumulator
    from ..zones import load_zones

    if args.out.suffix.lower() != ".png":
        raise ValueError(f"-o/--output must be a .png figure, got {args.out.name!r}")
    A = load_heat(args.a, args.name)
    zones = load_zones(args.zones) if args.zones else None
    hom = None
    if args.homography:
        from ..homography import Homography

        hom = Homography.from_json(args.homography)
    periods = args.split is not None or args.range_a is not None or args.range_b is not None
    if args.b is not None and periods:
        raise ValueError("give either two state files, or one sliced state with --split / --a / --b")
    if args.b is None:
        if not isinstance(A, SlicedAccumulator):
            raise ValueError(f"{args.a} holds an unsliced {A.kind} heatmap: give a second state file to compare with")
        if args.split is not None:
            k = split_key(A, args.split)
            ra, rb = slice(None, k), slice(k, None)
            la, lb = f"before {args.split}", f"from {args.split}"
        else:
            if args.range_a is None or args.range_b is None:
                raise ValueError("comparing two periods of one run needs --split TIME, or both --a and --b")
            ra, rb = parse_range(args.range_a), parse_range(args.range_b)
            la, lb = f"slices {args.range_a}", f"slices {args.range_b}"
        pa = footage(A, args.label_a or la, slices=ra, fps=args.fps)
        pb = footage(A, args.label_b or lb, slices=rb, fps=args.fps)
    else:
        B = load_heat(args.b, args.name)
        pa = footage(A, args.label_a or args.a.stem, fps=args.fps)
        pb = footage(B, args.label_b or args.b.stem, fps=args.fps)
    c = compare(pa, pb, per=args.per, zones=zones, homography=hom)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    comparison_figure(c).savefig(args.out, dpi=110)
    js = args.out.with_suffix(".json")
    js.write_text(json.dumps(c.summary(), indent=1, default=float))
    print(f"normalised {c.summary()['normalised']}: {c.unit}")
    print(f"A {pa.label}: total {c.a.sum():.6g}; B {pb.label}: total {c.b.sum():.6g}; "
          f"max |B - A| {abs(c.diff).max():.6g}")
    written = [args.out, js]
    if c.zones:
        csvp = args.out.with_name(args.out.stem + "_zones.csv")
        import csv

        with open(csvp, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(c.zones[0]))
            w.writeheader()
            w.writerows(c.zones)
        written.append(csvp)
        for r in c.zones:
            ch = "n/a" if r["change_pct"] is None else f"{r['change_pct']:+.1f} %"
            print(f"  {r['zone']}: A {r['activity_a']:.6g}, B {r['activity_b']:.6g}, change {ch}")
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def demo(outdir: Path, quiet: bool = True) -> list[Path]:  # pragma: no cover - part of the report demo
    return []
