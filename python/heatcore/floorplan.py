"""Floor-plan heatmaps: detections → anchor point → homography → plan → heat, dwell, visitors.

* :class:`FloorplanAccumulator` — the accumulator of this area: per-frame detections (from a
  detector in the pipeline, or a detections file) mapped onto a plan; plan KDE heat, dwell seconds
  and unique visitors per cell; tracker and stationary-filter state inside its state; mergeable.
* :func:`floorplan_heatmap` — heat over the plan from a table of plan points (:class:`PlanPoints`).

Dwell is in real seconds: every observation stands for ``seconds_per_obs`` = stride / fps of the
source, taken from the records' time base (never guessed).
"""

from __future__ import annotations

import csv
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Sequence

import numpy as np

from .accumulator import Accumulator
from .homography import Homography
from .kde import KDEAccumulator
from .records import as_detections, box_anchors, parse_anchor
from .track import StationaryFilter, Tracker, cell_index, dwell_grid, visitor_grid

__all__ = [
    "FloorplanAccumulator",
    "FloorplanUpdate",
    "PlanPoints",
    "floorplan_heatmap",
    "plan_points_heatmap",
    "write_points_csv",
    "read_points_csv",
]


def as_size(size: Any, name: str) -> tuple[int, int]:
    """(width, height) positive ints (pixels) from a pair or ``"WxH"``."""
    if isinstance(size, str):
        from ._checks import parse_size

        return parse_size(size, name)
    try:
        w, h = (int(v) for v in size)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be (width, height) pixels, got {size!r}") from None
    if w <= 0 or h <= 0:
        raise ValueError(f"{name} must be positive (width, height) pixels, got {size!r}")
    return w, h


POINTS_HEADER = ["frame", "time_s", "track", "x", "y", "score"]


@dataclass
class PlanPoints:
    """Plan positions, one row per detection: frame index, time (seconds), track id (-1 = none),
    x, y (plan units, usually plan-image pixels; NaN when the point fell behind the horizon),
    score, active (False = suppressed as stationary), seconds_per_obs (stride / fps)."""

    frame: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    time_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    track: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    y: np.ndarray = field(default_factory=lambda: np.zeros(0))
    score: np.ndarray = field(default_factory=lambda: np.zeros(0))
    active: np.ndarray | None = None
    seconds_per_obs: float = 1.0
    behind: int = 0

    def __len__(self) -> int:
        return int(len(self.frame))

    @property
    def xy(self) -> np.ndarray:
        return np.stack([self.x, self.y], axis=1)


def _fmt(v: float) -> str:
    return "" if not math.isfinite(v) else f"{v:.6g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.6e}"


def write_points_csv(path: str | os.PathLike[str], pts: PlanPoints) -> Path:
    """Write ``frame,time_s,track,x,y,score`` (plan coordinates; empty x/y = behind the horizon)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with open(p, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(POINTS_HEADER)
        for f, t, k, x, y, s in zip(pts.frame.tolist(), pts.time_s.tolist(), pts.track.tolist(), pts.x.tolist(),
                                    pts.y.tolist(), pts.score.tolist()):
            w.writerow([f, f"{t:.6f}", k, _fmt(x), _fmt(y), f"{s:.6g}"])
    return p


def read_points_csv(path: str | os.PathLike[str]) -> PlanPoints:
    """Read a ``frame,time_s,track,x,y,score`` CSV (empty x/y become NaN)."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such points CSV: {p}")
    rows = _read_table(p, POINTS_HEADER)
    a = np.asarray(rows, np.float64).reshape(-1, 6)
    return PlanPoints(a[:, 0].astype(np.int64), a[:, 1], a[:, 2].astype(np.int64), a[:, 3], a[:, 4], a[:, 5],
                      seconds_per_obs=_guess_dt(a[:, 0], a[:, 1]))


def _guess_dt(frame: np.ndarray, time_s: np.ndarray) -> float:
    """Seconds between processed frames: the smallest positive step between the distinct times
    (frames without detections leave gaps, so the median would overestimate it); 1.0 if unknown."""
    t = np.unique(np.asarray(time_s, np.float64)[np.isfinite(time_s)])
    d = np.diff(t)
    d = d[d > 1e-9]
    return float(d.min()) if len(d) else 1.0


def _read_table(p: Path, header: list[str]) -> list[list[float]]:
    rows: list[list[float]] = []
    with open(p, newline="", encoding="utf-8") as fh:
        for lineno, fields in enumerate(csv.reader(fh), start=1):
            if not fields:
                continue
            if lineno == 1:
                if [f.strip() for f in fields] != header:
                    raise ValueError(f"{p.name}: header must be {','.join(header)}, got {','.join(fields)}")
                continue
            if len(fields) != len(header):
                raise ValueError(f"{p.name}: line {lineno}: expected {len(header)} fields, got {len(fields)}")
            try:
                rows.append([float(f) if f.strip() else math.nan for f in fields])
            except ValueError:
                raise ValueError(f"{p.name}: line {lineno}: non-numeric field in {fields!r}") from None
    return rows


class FloorplanUpdate(NamedTuple):
    """What :meth:`FloorplanAccumulator.update` counted for one frame: detections seen, mapped
    onto the plan (and counted), behind the horizon, outside the plan, suppressed as stationary."""

    detections: int
    on_plan: int
    behind: int
    off_plan: int
    stationary: int


class FloorplanAccumulator(Accumulator):
    """People on a floor plan: plan KDE heat, dwell seconds per cell and unique visitors per cell,
    from per-frame :class:`~heatcore.records.Detections` (the accumulator protocol, kind
    ``"floorplan"``).

    Each detection's ``anchor`` point (``"bottom"`` = the feet) is mapped through ``homography``
    (None: the boxes are already in plan units) onto a plan of ``plan_size = (width, height)``
    plan pixels. Every observation stands for ``seconds_per_obs`` seconds (= stride / fps of the
    source: required, never guessed). ``cell``: dwell/visitor cell size in plan pixels;
    ``bandwidth``: KDE sigma in plan pixels. ``track``: give untracked records track ids with an
    IoU :class:`~heatcore.track.Tracker` (its state is part of this accumulator's state; pass a
    dict of Tracker keyword arguments or True). ``stationary = (min_motion pixels, seconds)``:
    detections of tracks that moved less than that in the image over that many seconds add
    nothing (parked trolleys). Visitors need track ids: :meth:`visitors` refuses when any counted
    detection had none.
    """

    kind = "floorplan"

    def __init__(self, plan_size: Any, homography: Homography | None = None, *, seconds_per_obs: float,
                 anchor: str | Sequence[float] = "bottom", cell: float = 25.0, bandwidth: float = 15.0,
                 track: bool | dict[str, Any] = False, stationary: tuple[float, float] | None = None,
                 threads: int | None = None) -> None:
        from ._checks import positive_float

        W, H = as_size(plan_size, "plan_size")
        self.plan_size = (W, H)
        self.homography = homography
        self.seconds_per_obs = positive_float("seconds_per_obs", seconds_per_obs)
        self.anchor = parse_anchor(anchor)
        self.cell = positive_float("cell", cell)
        self.bandwidth = positive_float("bandwidth", bandwidth)
        self.track = None if track is False or track is None else ({} if track is True else dict(track))
        self.stationary = None if stationary is None else (float(stationary[0]), float(stationary[1]))
        self._tracker = None if self.track is None else Tracker(**self.track)
        self._filter = None if self.stationary is None else StationaryFilter(*self.stationary)
        self.grid_shape = _grid_shape((H, W), self.cell)
        self._kde = KDEAccumulator((H, W), self.bandwidth, normalize="count", threads=threads)
        self._dwell = np.zeros(self.grid_shape)
        self._visits: set[tuple[str, int, int]] = set()
        self.counts = {"frames": 0, "detections": 0, "on_plan": 0, "behind": 0, "off_plan": 0, "stationary": 0,
                       "untracked": 0}

    def config(self) -> dict[str, Any]:
        h = None if self.homography is None else np.asarray(self.homography.matrix, np.float64).tolist()
        return {"plan_size": list(self.plan_size), "homography": h, "seconds_per_obs": self.seconds_per_obs,
                "anchor": list(self.anchor), "cell": self.cell, "bandwidth": self.bandwidth, "track": self.track,
                "stationary": None if self.stationary is None else list(self.stationary)}

    # -- counting ---------------------------------------------------------------------------------
    def update(self, record: Any) -> FloorplanUpdate:
        """Count one frame's detections (:class:`~heatcore.records.Detections` or anything
        :func:`~heatcore.records.as_detections` takes)."""
        d = as_detections(record)
        n = len(d)
        self.counts["frames"] += 1
        if n == 0:
            return FloorplanUpdate(0, 0, 0, 0, 0)
        if self._tracker is not None and not d.tracked:
            d.track_ids = np.asarray(self._tracker.update(d.xyxy), np.int64).reshape(-1)
        tr = d.track_ids if d.track_ids is not None else np.full(n, -1, np.int64)
        uv = box_anchors(d.xyxy, self.anchor)
        active = np.ones(n, bool)
        if self._filter is not None:
            if d.time is None:
                raise ValueError(f"frame {d.frame}: the stationary filter needs the time of each frame")
            active = self._filter.update(d.time, tr, uv)
        if self.homography is not None:
            xy, behind = self.homography.apply(uv, return_behind=True)
        else:
            xy, behind = uv, 0
        W, H = self.plan_size
        x, y = xy[:, 0], xy[:, 1]
        finite = np.isfinite(x) & np.isfinite(y)
        with np.errstate(invalid="ignore"):
            inside = finite & (x >= 0) & (x < W) & (y >= 0) & (y < H)
        off = int(np.sum(finite & ~inside))
        use = inside & active
        stat = int(np.sum(inside & ~active))
        k = int(np.sum(use))
        if k:
            pts = np.ascontiguousarray(xy[use])
            self._kde.update(pts, np.full(k, self.seconds_per_obs))
            self._dwell += dwell_grid(pts[:, 0], pts[:, 1], self.grid_shape, self._cells_size(),
                                      seconds_per_obs=self.seconds_per_obs)
            cells = cell_index(pts[:, 0], pts[:, 1], self.grid_shape, self._cells_size())
            tu = tr[use]
            src = d.source or ""
            self._visits.update((src, int(t), int(c)) for t, c in zip(tu.tolist(), cells.tolist()) if t >= 0)
            self.counts["untracked"] += int(np.sum(tu < 0))
        c = self.counts
        c["detections"] += n
        c["on_plan"] += k
        c["behind"] += int(behind)
        c["off_plan"] += off
        c["stationary"] += stat
        return FloorplanUpdate(n, k, int(behind), off, stat)

    def _cells_size(self) -> tuple[float, float]:
        rows, cols = self.grid_shape
        return (cols * self.cell, rows * self.cell)

    # -- results ----------------------------------------------------------------------------------
    def result(self) -> np.ndarray:
        """Plan KDE heat, (H, W) float64: each observation adds a Gaussian of sigma ``bandwidth``
        plan pixels whose peak is ``seconds_per_obs`` seconds (a person standing still for 10 s
        peaks near 10)."""
        return self._kde.result()

    def dwell(self) -> np.ndarray:
        """Seconds spent per ``cell`` x ``cell`` cell, (rows, cols) float64."""
        return self._dwell.copy()

    def visitors(self) -> np.ndarray:
        """Distinct tracks seen per cell, (rows, cols) int64. Raises ValueError when detections
        without track ids were counted (track them: ``track=True`` / ``--track``)."""
        if self.counts["untracked"]:
            raise ValueError(f"{self.counts['untracked']} detections on the plan have no track id, so visitors "
                             "cannot be counted: track them (--track, track=True)")
        g = np.zeros(self.grid_shape[0] * self.grid_shape[1], np.int64)
        if self._visits:
            cells = np.fromiter((c for _, _, c in self._visits), np.int64, len(self._visits))
            g += np.bincount(cells, minlength=len(g))
        return g.reshape(self.grid_shape)

    def check_on_plan(self) -> None:
        """Raise ValueError when detections were counted but none landed on the plan."""
        c = self.counts
        if c["detections"] and not c["on_plan"] and not c["stationary"]:
            raise ValueError(f"none of the {c['detections']} detections landed on the {self.plan_size[0]}x"
                             f"{self.plan_size[1]} plan ({c['off_plan']} outside it, {c['behind']} behind the "
                             "horizon): was the homography fitted for another image or plan size?")

    # -- protocol ---------------------------------------------------------------------------------
    def state(self) -> dict[str, np.ndarray]:
        vis = sorted(self._visits)
        st = {f"kde_{k}": v for k, v in self._kde.state().items()}
        st.update({
            "config": np.array(json.dumps(self.config())),
            "dwell": self._dwell.copy(),
            "visit_sources": np.array(json.dumps(sorted({s for s, _, _ in vis}))),
            "visits": np.array([[t, c] for _, t, c in vis], np.int64).reshape(-1, 2),
            "visit_src": np.array([s for s, _, _ in vis], dtype=np.str_) if vis else np.zeros(0, "U1"),
            "counts": np.array(json.dumps(self.counts)),
            "tracker": np.array(json.dumps(None if self._tracker is None else self._tracker.state())),
            "filter": np.array(json.dumps(None if self._filter is None else self._filter.state())),
        })
        return st

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> "FloorplanAccumulator":
        cfg = json.loads(str(state["config"]))
        h = None if cfg["homography"] is None else Homography(np.asarray(cfg["homography"], np.float64))
        obj = cls(tuple(cfg["plan_size"]), h, seconds_per_obs=cfg["seconds_per_obs"], anchor=tuple(cfg["anchor"]),
                  cell=cfg["cell"], bandwidth=cfg["bandwidth"], track=False if cfg["track"] is None else cfg["track"],
                  stationary=None if cfg["stationary"] is None else tuple(cfg["stationary"]))
        obj._kde = KDEAccumulator.from_state({k[4:]: v for k, v in state.items() if k.startswith("kde_")})
        obj._dwell = np.asarray(state["dwell"], np.float64).reshape(obj.grid_shape).copy()
        srcs = [str(s) for s in state["visit_src"]]
        obj._visits = {(s, int(t), int(c)) for s, (t, c) in zip(srcs, np.asarray(state["visits"]).tolist())}
        obj.counts = json.loads(str(state["counts"]))
        tst = json.loads(str(state["tracker"]))
        if obj._tracker is not None and tst is not None:
            obj._tracker.load_state(tst)
        fst = json.loads(str(state["filter"]))
        if obj._filter is not None and fst is not None:
            obj._filter.load_state(fst)
        return obj

    def _merge(self, other: "FloorplanAccumulator") -> None:
        self._kde.merge(other._kde)
        self._dwell += other._dwell
        self._visits |= other._visits
        for k, v in other.counts.items():
            self.counts[k] = self.counts.get(k, 0) + v

    def render(self, out: str | os.PathLike[str], mode: str = "kde", plan: np.ndarray | None = None, *,
               cmap: str = "inferno", alpha: float = 0.6, vmin: float = 0.0, vmax: float | None = None,
               colorbar: bool = True, title: str | None = None) -> np.ndarray:
        """Write a PNG of ``mode`` (``"kde"``, ``"dwell"`` or ``"visitors"``) over ``plan`` (RGB
        uint8 image of the plan size, or None) and return the grid."""
        grid = {"kde": self.result, "dwell": self.dwell, "visitors": self.visitors}[_mode(mode)]()
        _render_grid(grid, mode, plan, self.plan_size, self.cell, out=out, cmap=cmap, alpha=alpha, vmin=vmin,
                     vmax=vmax, colorbar=colorbar, title=title)
        return grid


def _mode(mode: str) -> str:
    if mode not in ("kde", "dwell", "visitors"):
        raise ValueError(f"mode must be 'kde', 'dwell' or 'visitors', got {mode!r}")
    return mode


_LABELS = {"kde": "seconds spent (peak of one observation = its duration)", "dwell": "seconds spent in the cell",
           "visitors": "unique visitors (tracks)"}


def _render_grid(grid: np.ndarray, mode: str, plan: np.ndarray | None, plan_size: tuple[int, int], cell: float, *,
                 out: str | os.PathLike[str], cmap: str, alpha: float, vmin: float, vmax: float | None,
                 colorbar: bool, title: str | None) -> None:
    from .render import save_figure

    W, H = plan_size
    if mode == "kde":
        shown = grid
    else:
        reps = int(math.ceil(cell))
        shown = np.repeat(np.repeat(grid.astype(np.float64), reps, axis=0), reps, axis=1)
        shown = np.asarray(_resize_nearest(shown, (W, H)))
    hi = vmax if vmax is not None else (float(np.max(shown)) if shown.size and np.max(shown) > 0 else 1.0)
    # hide the empty floor: KDE tails below 2% of the colour range, empty cells
    thr = vmin + (0.02 if mode == "kde" else 1e-9) * (hi - vmin)
    save_figure(out, shown, background=plan, cmap=cmap, alpha=alpha, vmin=vmin, vmax=hi, colorbar=colorbar,
                title=title, label=_LABELS[mode], threshold=thr)


def _grid_shape(plan_hw: tuple[int, int], cell: float) -> tuple[int, int]:
    h, w = plan_hw
    return max(1, int(math.ceil(h / cell))), max(1, int(math.ceil(w / cell)))


def floorplan_heatmap(points: PlanPoints | Any, plan: np.ndarray | None = None, *,
                      plan_size: tuple[int, int] | None = None, mode: str = "kde", bandwidth: float = 15.0,
                      cell: float = 25.0, seconds_per_obs: float | None = None, vmin: float = 0.0,
                      vmax: float | None = None, out: str | os.PathLike[str] | None = None, cmap: str = "inferno",
                      alpha: float = 0.6, colorbar: bool = True, title: str | None = None) -> np.ndarray:
    """Heat over the plan from plan points; returns the grid and writes a PNG to ``out`` if given.

    points: :class:`PlanPoints` or (N, 2) plan coordinates (plan-image pixels). plan: (H, W, 3)
    uint8 RGB plan image, or ``plan_size = (width, height)`` pixels for none.
    mode:
      * ``"kde"`` — ``heatcore.kde(normalize="count")`` with Gaussian sigma ``bandwidth`` plan
        pixels, (H, W) grid; each active observation adds a Gaussian whose peak is
        ``seconds_per_obs`` seconds (so a person standing still for 10 s peaks at ~10).
      * ``"dwell"`` — seconds spent per ``cell`` x ``cell``-pixel cell (float64 grid).
      * ``"visitors"`` — distinct track ids per cell (int64 grid).
    Points behind the horizon (NaN), outside the plan or suppressed as stationary add nothing.
    ``vmin``/``vmax`` fix the colour range (default: 0 .. the grid's maximum).
    """
    if mode not in ("kde", "dwell", "visitors"):
        raise ValueError(f"mode must be 'kde', 'dwell' or 'visitors', got {mode!r}")
    if plan is not None:
        plan = np.asarray(plan)
        if plan.dtype != np.uint8 or plan.ndim not in (2, 3):
            raise ValueError(f"plan must be a uint8 image, got {plan.shape} {plan.dtype}")
        if plan.ndim == 2:
            plan = np.repeat(plan[..., None], 3, axis=2)
        plan = np.ascontiguousarray(plan[..., :3])
        H, W = plan.shape[:2]
    elif plan_size is not None:
        W, H = int(plan_size[0]), int(plan_size[1])
        if W <= 0 or H <= 0:
            raise ValueError(f"plan_size must be positive (width, height), got {plan_size!r}")
    else:
        raise ValueError("give a plan image or plan_size=(width, height)")
    if isinstance(points, PlanPoints):
        x, y, tr = points.x, points.y, points.track
        act = points.active if points.active is not None else np.ones(len(points), bool)
        dt = points.seconds_per_obs if seconds_per_obs is None else seconds_per_obs
    else:
        xy = np.asarray(points, np.float64)
        if xy.size == 0:
            xy = xy.reshape(0, 2)
        if xy.ndim != 2 or xy.shape[1] != 2:
            raise ValueError(f"points must be PlanPoints or an (N, 2) array, got shape {xy.shape}")
        x, y = xy[:, 0], xy[:, 1]
        tr = np.full(len(xy), -1, np.int64)
        act = np.ones(len(xy), bool)
        dt = 1.0 if seconds_per_obs is None else seconds_per_obs
    if not dt > 0:
        raise ValueError(f"seconds_per_obs must be > 0, got {dt!r}")
    if not cell > 0:
        raise ValueError(f"cell must be > 0 plan pixels, got {cell!r}")
    ok = np.isfinite(x) & np.isfinite(y) & act
    with np.errstate(invalid="ignore"):
        inside = ok & (x >= 0) & (x < W) & (y >= 0) & (y < H)
    if len(x) and not inside.any() and act.any():
        raise ValueError(f"none of the {len(x)} points lies on the {W}x{H} plan: was the homography fitted "
                         "for another image or plan size?")
    if mode == "kde":
        from .kde import kde as _kde

        pts = np.stack([x[inside], y[inside]], axis=1)
        if len(pts):
            grid = np.asarray(_kde(pts, shape=(H, W), bandwidth=float(bandwidth),
                                   weights=np.full(len(pts), float(dt)), normalize="count"), np.float64)
        else:
            grid = np.zeros((H, W))
    else:
        rows, cols = _grid_shape((H, W), cell)
        size = (cols * cell, rows * cell)
        if mode == "dwell":
            grid = dwell_grid(x[ok], y[ok], (rows, cols), size, seconds_per_obs=dt)
        else:
            if np.any(tr[inside] < 0):
                raise ValueError(f"{int(np.sum(tr[inside] < 0))} points have no track id, so visitors cannot be "
                                 "counted: track the detections (--track)")
            grid = visitor_grid(x[ok], y[ok], tr[ok], (rows, cols), size)
    if out is not None:
        _render_grid(grid, mode, plan, (W, H), cell, out=out, cmap=cmap, alpha=alpha, vmin=vmin, vmax=vmax,
                     colorbar=colorbar, title=title)
    return grid


def plan_points_heatmap(path: str | os.PathLike[str], output: str | os.PathLike[str], *, homography: Any = None,
                        plan: Any = None, plan_size: Any = None, mode: str = "kde", track: bool = False,
                        stationary: Any = None, seconds_per_obs: float | None = None, **render: Any) -> int | None:
    """When ``path`` is a plan points CSV (header ``frame,time_s,track,x,y,score``): write the heat
    of ``mode`` over the plan to ``output`` (``render``: ``bandwidth``, ``cell``, ``vmax``, ``cmap``,
    ``alpha``, ``colorbar``, ``title``; ``homography`` maps the points first when given) and return
    the number of points; for any other file return None (nothing written)."""
    from .homography import Homography
    from .render import read_image

    if seconds_per_obs is not None and not seconds_per_obs > 0:
        raise ValueError(f"--seconds-per-obs must be > 0, got {seconds_per_obs}")
    p = Path(path)
    if p.is_dir() or not p.is_file():
        return None
    with open(p, encoding="utf-8", errors="replace") as fh:
        header = fh.readline().strip().split(",")
    if header != POINTS_HEADER:
        return None
    if stationary is not None or track:
        raise ValueError("--stationary/--track need box detections, not a plan points CSV")
    pts = read_points_csv(p)
    if seconds_per_obs:
        pts.seconds_per_obs = seconds_per_obs
    if homography is not None:
        h = homography if isinstance(homography, Homography) else Homography.load(homography)
        xy, pts.behind = h.apply(pts.xy, return_behind=True)
        pts.x, pts.y = xy[:, 0].copy(), xy[:, 1].copy()
    if isinstance(plan, (str, os.PathLike)):
        plan = read_image(plan)
    if plan is None and plan_size is None:
        raise ValueError("give --plan image or --plan-size WxH")
    from .jobs import PLAN_TITLES

    render.setdefault("title", PLAN_TITLES.get(mode))
    floorplan_heatmap(pts, plan, plan_size=plan_size, mode=mode, out=output, **render)
    return len(pts)


def _resize_nearest(a: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    import cv2

    return cv2.resize(a.astype(np.float32), size, interpolation=cv2.INTER_NEAREST)
