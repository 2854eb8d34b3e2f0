"""Before/after comparison of two heatmaps (two saved runs, or two periods of one sliced run).

:func:`compare` normalises both heatmaps — per hour of footage (default), per frame or per visitor,
always stated in the result — and returns A, B, the difference B - A, and the zone table of both
with the change in percent. :func:`comparison_figure` shows A, B (one colour scale) and the
difference (a diverging scale centred on 0) as one matplotlib figure.

Heatmaps of different geometry or configuration (grid size, image size, bandwidth, method,
homography...) are refused with an error naming what differs.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .accumulator import Accumulator

__all__ = ["Period", "Comparison", "compare", "comparison_figure", "footage", "UNITS", "parse_range",
           "load_heat", "compare_states", "save_comparison"]

# what the values of each kind's heatmap are
UNITS = {"grid": "detections per cell", "kde": "density", "motion": "frames in motion",
         "floorplan": "person-seconds (plan KDE)", "zones": "people per frame"}
PER = {"hour": "per hour of footage", "frame": "per frame", "visitor": "per visitor", "none": "not normalised"}


@dataclass
class Period:
    """One side of a comparison: an accumulator (plain, or a merged range of slices), what it
    is called, and how much footage it holds (``seconds`` NaN = unknown)."""

    acc: Accumulator
    label: str
    seconds: float = float("nan")
    frames: int | None = None
    visitors: int | None = None


def _frames_of(acc: Any) -> int | None:
    k = getattr(acc, "kind", "")
    if k in ("grid", "motion", "zones"):
        return int(acc.frames)
    if k == "floorplan":
        return int(acc.counts["frames"])
    return None


def _visitors_of(acc: Any) -> int | None:
    if getattr(acc, "kind", "") == "floorplan" and not acc.counts["untracked"]:
        return len({(s, t) for s, t, _ in acc._visits})
    if getattr(acc, "kind", "") == "zones" and not acc.untracked.any():
        return len(set().union(*acc._visitors))
    return None


def footage(acc: Accumulator, label: str, *, slices: Any = None, fps: float | None = None) -> Period:
    """A :class:`Period` of ``acc``: a sliced accumulator's chosen ``slices`` merged (their
    footage measured from the records' times), or a plain accumulator (footage = frames / ``fps``
    when given)."""
    from .slices import SlicedAccumulator

    if isinstance(acc, SlicedAccumulator):
        sel = acc._select(slices)
        if not sel:
            raise ValueError(f"{label}: no time slices in the chosen range")
        merged = acc.merged(sel)
        sec = acc.seconds(sel)
    else:
        if slices is not None:
            raise ValueError(f"{label}: a range of slices needs a sliced heatmap (SlicedAccumulator)")
        merged, sec = acc, float("nan")
    fr = _frames_of(merged)
    if math.isnan(sec) and fps is not None and fr is not None:
        sec = fr / fps
    return Period(merged, label, sec, fr, _visitors_of(merged))


def _config_diff(a: Accumulator, b: Accumulator) -> list[str]:
    if a.kind != b.kind:
        return [f"kind: {a.kind} vs {b.kind}"]
    ca, cb = a.config(), b.config()
    diffs = [f"{k}: {ca.get(k)!r} vs {cb.get(k)!r}" for k in sorted(set(ca) | set(cb)) if ca.get(k) != cb.get(k)]
    ga, gb = _geometry(a), _geometry(b)
    if ga != gb:
        diffs.append(f"size: {ga} vs {gb}")
    return diffs


def _geometry(acc: Any) -> Any:
    if acc.kind == "motion":
        return {"frame": acc.full_size, "processing": acc.size}
    return None


def _normaliser(p: Period, per: str) -> float:
    if per == "none":
        return 1.0
    if per == "hour":
        if not (p.seconds > 0):
            raise ValueError(f"{p.label}: the hours of footage are unknown (no record times, or a single record): "
                             "give --fps, or normalise per frame (--per frame)")
        return p.seconds / 3600.0
    if per == "frame":
        if not p.frames:
            raise ValueError(f"{p.label}: no frames counted, cannot normalise per frame")
        return float(p.frames)
    if per == "visitor":
        if not p.visitors:
            raise ValueError(f"{p.label}: unique visitors are unknown (they need tracked detections on a floor "
                             "plan or a zone counter); normalise per hour or per frame")
        return float(p.visitors)
    raise ValueError(f"per must be one of {', '.join(PER)}, got {per!r}")


@dataclass
class Comparison:
    """The result of :func:`compare`: normalised heatmaps ``a``, ``b``, ``diff = b - a``, the
    unit text, and the zone rows (``zone, a, b, change_pct`` per metric) when zones were given."""

    a: np.ndarray
    b: np.ndarray
    diff: np.ndarray
    unit: str
    per: str
    A: Period
    B: Period
    zones: list[dict[str, Any]] = field(default_factory=list)
    kind: str = ""

    def summary(self) -> dict[str, Any]:
        def side(p: Period, g: np.ndarray) -> dict[str, Any]:
            return {"label": p.label, "seconds": None if math.isnan(p.seconds) else p.seconds, "frames": p.frames,
                    "visitors": p.visitors, "total": float(g.sum()), "peak": float(g.max()) if g.size else 0.0}

        return {"kind": self.kind, "unit": self.unit, "normalised": PER[self.per], "A": side(self.A, self.a),
                "B": side(self.B, self.b), "max_abs_difference": float(np.abs(self.diff).max()) if self.diff.size else 0.0,
                "zones": self.zones}


def _result(acc: Any) -> np.ndarray:
    if acc.kind == "grid":
        return acc.result64().astype(np.float64)
    return np.asarray(acc.result(), np.float64)


def compare(A: Period | Accumulator, B: Period | Accumulator, *, per: str = "hour", zones: Any = None,
            homography: Any = None, fps: float | None = None) -> Comparison:
    """Compare two heatmaps (see the module docstring). ``A``/``B``: :class:`Period` (see
    :func:`footage`) or accumulators; ``per``: ``"hour"`` | ``"frame"`` | ``"visitor"`` |
    ``"none"``; ``zones``: a :class:`~heatcore.zones.Zones` for the zone table."""
    if per not in PER:
        raise ValueError(f"per must be one of {', '.join(PER)}, got {per!r}")
    pa = A if isinstance(A, Period) else footage(A, "A", fps=fps)
    pb = B if isinstance(B, Period) else footage(B, "B", fps=fps)
    diffs = _config_diff(pa.acc, pb.acc)
    if diffs:
        raise ValueError(f"cannot compare {pa.label} and {pb.label}: they differ in " + "; ".join(diffs))
    ra, rb = _result(pa.acc), _result(pb.acc)
    if ra.shape != rb.shape:
        raise ValueError(f"cannot compare {pa.label} and {pb.label}: heatmap shapes {ra.shape} vs {rb.shape}")
    na, nb = _normaliser(pa, per), _normaliser(pb, per)
    a, b = ra / na, rb / nb
    unit = f"{UNITS.get(pa.acc.kind, 'value')} {PER[per]}" if per != "none" else UNITS.get(pa.acc.kind, "value")
    rows: list[dict[str, Any]] = []
    if zones is not None:
        from .zones import zone_shares

        za = zone_shares(pa.acc, zones, homography)
        zb = zone_shares(pb.acc, zones, homography)
        masks = _masks(pa.acc, zones, homography)
        for n in zones.names:
            m = masks[n]
            va, vb = float(a[m].sum()), float(b[m].sum())
            rows.append({"zone": n, "activity_a": va, "activity_b": vb, "change_pct": _pct(va, vb),
                         "share_a": za[n], "share_b": zb[n], "share_change_pct": _pct(za[n], zb[n])})
    return Comparison(a, b, b - a, unit, per, pa, pb, rows, pa.acc.kind)


def _masks(acc: Any, zones: Any, homography: Any) -> dict[str, np.ndarray]:
    from .zones import _grid_size

    units = "plan" if acc.kind == "floorplan" else "image"
    shape, size = _grid_size(acc, units)
    return zones.to_units(units, homography).masks(shape, size)


def _pct(a: float, b: float) -> float | None:
    if not math.isfinite(a) or not math.isfinite(b) or a == 0:
        return None
    return 100.0 * (b - a) / a


def comparison_figure(c: Comparison, *, title: str = "", cmap: str = "inferno") -> Any:
    """A matplotlib figure: A and B on one colour scale (0 .. the larger peak) and B - A on a
    diverging scale symmetric about 0, each colour bar labelled with the unit."""
    from matplotlib.figure import Figure

    vmax = float(max(c.a.max(), c.b.max(), 1e-300))
    dmax = float(max(np.abs(c.diff).max(), 1e-300))
    h, w = c.a.shape
    fig = Figure(figsize=(13, 4.2 * h / w + 1.3), layout="constrained")
    axes = fig.subplots(1, 3)
    for ax, img, name in ((axes[0], c.a, f"A: {c.A.label}"), (axes[1], c.b, f"B: {c.B.label}")):
        im = ax.imshow(img, cmap=cmap, vmin=0, vmax=vmax, interpolation="nearest")
        ax.set_title(name, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
        fig.colorbar(im, ax=ax, shrink=0.8).set_label(c.unit, fontsize=8)
    im = axes[2].imshow(c.diff, cmap="RdBu_r", vmin=-dmax, vmax=dmax, interpolation="nearest")
    axes[2].set_title("B - A", fontsize=10)
    axes[2].set_xticks([])
    axes[2].set_yticks([])
    fig.colorbar(im, ax=axes[2], shrink=0.8).set_label(f"difference, {c.unit}", fontsize=8)
    fig.suptitle(title or f"{c.kind} heatmap: B vs A ({PER[c.per]})", fontsize=11)
    return fig


def parse_range(text: str | None) -> Any:
    """A slice range from the command line: ``"lo:hi"`` slice keys (either may be empty),
    ``"k1,k2"`` keys, or None (all)."""
    if text is None or text == "":
        return None
    try:
        if ":" in text:
            lo, hi = text.split(":", 1)
            return slice(int(lo) if lo.strip() else None, int(hi) if hi.strip() else None)
        return [int(v) for v in text.split(",")]
    except ValueError:
        raise ValueError(f"a slice range is 'lo:hi' or 'k1,k2,...' slice keys, got {text!r}") from None


def load_heat(path: str | os.PathLike[str], name: str | None = None) -> Accumulator:
    """One heatmap accumulator from a saved state or a pipeline checkpoint (``name``: which one;
    default the first that is not a zone counter)."""
    from .report import _load_states

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such state file: {p}")
    accs = _load_states(p)
    if name is not None:
        if name not in accs:
            raise ValueError(f"{p} holds {sorted(accs)}, not {name!r}")
        return accs[name]
    heat = [a for a in accs.values() if getattr(a, "inner_kind", a.kind) != "zones"]
    if not heat:
        raise ValueError(f"{p} holds no heatmap (only {sorted(accs)})")
    return heat[0]


def _split_key(sliced: Any, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        pass
    from .io.timestamps import parse_iso_time

    t = parse_iso_time(text)
    if t is None:
        raise ValueError(f"--split must be an ISO time such as 2026-11-30T10:00 or a slice key, got {text!r}")
    if sliced.basis != "wall":
        raise ValueError("--split with a time needs slices of wall-clock time; give a slice key instead")
    return int(sliced.key_at(t, "wall"))


def compare_states(a: str | os.PathLike[str], b: str | os.PathLike[str] | None = None, *, name: str | None = None,
                   split: str | None = None, range_a: str | None = None, range_b: str | None = None,
                   per: str = "hour", fps: float | None = None, zones: Any = None, homography: Any = None,
                   label_a: str | None = None, label_b: str | None = None) -> Comparison:
    """Compare two saved states (``a``, ``b``), or two periods of one sliced state ``a``: before /
    from ``split`` (an ISO time or a slice key), or slice ranges ``range_a`` / ``range_b``
    (``"lo:hi"`` or ``"k1,k2"``). ``per``: ``"hour"`` of footage (``fps`` frames per second for
    unsliced states), ``"frame"``, ``"visitor"`` or ``"none"``; ``zones`` (a file or loaded zones)
    adds the zone table (``homography``: a JSON path or :class:`~heatcore.Homography` from the
    heatmap's image to the zones' plan)."""
    from .slices import SlicedAccumulator
    from .zones import load_zones

    A = load_heat(a, name)
    if zones is not None and isinstance(zones, (str, os.PathLike)):
        zones = load_zones(zones)
    if isinstance(homography, (str, os.PathLike)):
        from .homography import Homography

        homography = Homography.from_json(homography)
    periods = split is not None or range_a is not None or range_b is not None
    if b is not None and periods:
        raise ValueError("give either two state files, or one sliced state with --split / --a / --b")
    if b is None:
        if not isinstance(A, SlicedAccumulator):
            raise ValueError(f"{a} holds an unsliced {A.kind} heatmap: give a second state file to compare with")
        if split is not None:
            k = _split_key(A, split)
            ra, rb = slice(None, k), slice(k, None)
            la, lb = f"before {split}", f"from {split}"
        else:
            if range_a is None or range_b is None:
                raise ValueError("comparing two periods of one run needs --split TIME, or both --a and --b")
            ra, rb = parse_range(range_a), parse_range(range_b)
            la, lb = f"slices {range_a}", f"slices {range_b}"
        pa = footage(A, label_a or la, slices=ra, fps=fps)
        pb = footage(A, label_b or lb, slices=rb, fps=fps)
    else:
        pa = footage(A, label_a or Path(a).stem, fps=fps)
        pb = footage(load_heat(b, name), label_b or Path(b).stem, fps=fps)
    return compare(pa, pb, per=per, zones=zones, homography=homography)


def save_comparison(c: Comparison, out: str | os.PathLike[str]) -> list[Path]:
    """Write the figure ``out`` (.png), its numbers beside it (``.json``) and, with zones, the zone
    table (``<stem>_zones.csv``). Returns the paths written."""
    import csv
    import json

    png = Path(out)
    if png.suffix.lower() != ".png":
        raise ValueError(f"-o/--output must be a .png figure, got {png.name!r}")
    png.parent.mkdir(parents=True, exist_ok=True)
    comparison_figure(c).savefig(png, dpi=110)
    js = png.with_suffix(".json")
    js.write_text(json.dumps(c.summary(), indent=1, default=float))
    written = [png, js]
    if c.zones:
        csvp = png.with_name(png.stem + "_zones.csv")
        with open(csvp, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(c.zones[0]))
            w.writeheader()
            w.writerows(c.zones)
        written.append(csvp)
    return written
