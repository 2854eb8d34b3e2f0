"""Zones: named polygons, their masks on any heatmap grid, and per-zone statistics.

A zones file (JSON or YAML) names polygons in image pixels or in plan units::

    units: image            # or "plan" (floor-plan pixels; a Homography maps between the two)
    zones:
      - name: entrance
        polygon: [[0, 300], [200, 300], [200, 480], [0, 480]]
      - name: shelves
        polygon: [[200, 0], [640, 0], [640, 480], [200, 480]]

(a mapping ``{name: polygon}`` works too). Polygons are in continuous coordinates: pixel ``(j, i)``
covers ``[j, j + 1) x [i, i + 1)`` and belongs to a zone when its centre does, by the half-open
crossing rule, so zones that share edges (a partition of the frame) never share a cell and their
activity shares add up to exactly 1. (``cv2.fillPoly`` fills the boundary pixels of both sides of a
shared edge, so it is used for drawing only.)

Per zone (and per time slice, with :class:`~heatcore.slices.SlicedAccumulator`):

* ``share`` — the zone's part of all activity: zone sum / total sum of a heatmap;
* ``mean_occupancy`` / ``peak_occupancy`` — people per frame inside the zone, from
  :class:`ZoneCounter` (an accumulator fed :class:`~heatcore.records.Detections`);
* ``dwell_s`` — person-seconds in the zone (a floor plan's dwell grid, or the counter's
  observations times ``seconds_per_obs``);
* ``visitors`` — distinct track ids seen in the zone (tracked detections only);
* ``motion_fraction`` — mean fraction of frames in motion inside the zone (a motion heatmap:
  the zone's mean of ``result(normalize=True)``);
* ``motion_frames`` — the fraction of frames with motion in the zone: at least 1 % of the zone's
  pixels (``zone_min_fraction``) moved in that frame (a motion heatmap counted with ``zones=``,
  :class:`MotionZoneStats`);
* ``motion_s`` — seconds with motion in the zone (those frames times the seconds one processed
  frame stands for, stride / fps);
* ``motion_px_s`` — moving pixel-seconds: moving pixels inside the zone summed over frames, times
  stride / fps, in full-resolution pixels (``scale`` < 1 counts each processed pixel as 1/scale²).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, NamedTuple, Sequence

import numpy as np

from .accumulator import Accumulator
from .records import as_detections, box_anchors, parse_anchor

__all__ = ["Zone", "Zones", "ZoneCounter", "ZoneCounts", "MotionZoneStats", "load_zones", "points_in_polygon",
           "zone_table", "write_table", "plot_zone_series", "METRICS"]

METRICS = {
    "share": "share of all activity (fraction)",
    "mean_occupancy": "mean occupancy (people per frame)",
    "peak_occupancy": "peak occupancy (people per frame)",
    "dwell_s": "dwell (person-seconds)",
    "visitors": "unique visitors (tracks)",
    "motion_fraction": "motion (fraction of frames in motion)",
    "motion_frames": "frames with motion in the zone (fraction)",
    "motion_s": "motion (seconds with motion in the zone)",
    "motion_px_s": "motion (moving pixel-seconds)",
}


def points_in_polygon(points: Any, polygon: Any) -> np.ndarray:
    """(N,) bool: which (N, 2) points lie inside ``polygon`` (M, 2), by the half-open crossing
    rule (points on an edge shared by two polygons belong to exactly one of them)."""
    p = np.asarray(points, np.float64).reshape(-1, 2)
    poly = np.asarray(polygon, np.float64).reshape(-1, 2)
    x, y = p[:, 0], p[:, 1]
    inside = np.zeros(len(p), bool)
    xj, yj = poly[-1]
    for xi, yi in poly:
        if yi != yj:
            crosses = (yi > y) != (yj > y)
            with np.errstate(divide="ignore", invalid="ignore"):
                xc = (xj - xi) * (y - yi) / (yj - yi) + xi
            inside ^= crosses & (x < xc)
        xj, yj = xi, yi
    return inside


@dataclass(frozen=True)
class Zone:
    """A named polygon: ``polygon`` (M, 2) as a tuple of (x, y) pairs in ``units`` (``"image"``
    pixels or ``"plan"`` units)."""

    name: str
    polygon: tuple[tuple[float, float], ...]
    units: str = "image"

    @property
    def array(self) -> np.ndarray:
        return np.asarray(self.polygon, np.float64)

    def contains(self, points: Any) -> np.ndarray:
        return points_in_polygon(points, self.polygon)

    def mask(self, shape: Any, size: Any | None = None) -> np.ndarray:
        """(H, W) bool mask of the cells of a grid of ``shape = (H, W)`` cells that covers
        ``size = (width, height)`` in this zone's units (default: one cell per unit)."""
        H, W = int(shape[0]), int(shape[1])
        sw, sh = (W, H) if size is None else (float(size[0]), float(size[1]))
        cx = (np.arange(W) + 0.5) * (sw / W)
        cy = (np.arange(H) + 0.5) * (sh / H)
        gx, gy = np.meshgrid(cx, cy)
        return self.contains(np.stack([gx.ravel(), gy.ravel()], 1)).reshape(H, W)


def _check_polygon(name: str, poly: Any) -> tuple[tuple[float, float], ...]:
    try:
        a = np.asarray(poly, np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"zone {name!r}: polygon must be a list of [x, y] pairs, got {poly!r}") from None
    if a.ndim != 2 or a.shape[1] != 2 or len(a) < 3:
        raise ValueError(f"zone {name!r}: polygon needs at least 3 [x, y] points, got {poly!r}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"zone {name!r}: polygon has non-finite coordinates")
    area = 0.5 * abs(np.dot(a[:, 0], np.roll(a[:, 1], -1)) - np.dot(a[:, 1], np.roll(a[:, 0], -1)))
    if area <= 0:
        raise ValueError(f"zone {name!r}: polygon has zero area")
    return tuple((float(x), float(y)) for x, y in a)


class Zones:
    """An ordered set of :class:`Zone` (unique names, one unit system)."""

    def __init__(self, zones: Iterable[Zone]) -> None:
        self.zones = list(zones)
        if not self.zones:
            raise ValueError("no zones given")
        names = [z.name for z in self.zones]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"zone names must be unique, repeated: {sorted(dup)}")
        units = {z.units for z in self.zones}
        if len(units) > 1:
            raise ValueError(f"all zones must use one unit system, got {sorted(units)}")
        self.units = units.pop()

    @classmethod
    def from_dict(cls, d: Any) -> "Zones":
        if isinstance(d, dict) and "zones" in d:
            units = str(d.get("units", "image"))
            items = d["zones"]
        else:
            units, items = "image", d
        if units not in ("image", "plan"):
            raise ValueError(f"zone units must be 'image' or 'plan', got {units!r}")
        if isinstance(items, dict):
            items = [{"name": k, "polygon": v} for k, v in items.items()]
        if not isinstance(items, list):
            raise ValueError("zones must be a list of {name, polygon} or a mapping name -> polygon")
        out = []
        for i, z in enumerate(items):
            if not isinstance(z, dict) or "polygon" not in z:
                raise ValueError(f"zone #{i + 1} needs a 'polygon' (list of [x, y]), got {z!r}")
            name = str(z.get("name", f"zone{i + 1}"))
            out.append(Zone(name, _check_polygon(name, z["polygon"]), units))
        return cls(out)

    def to_dict(self) -> dict[str, Any]:
        return {"units": self.units, "zones": [{"name": z.name, "polygon": [list(p) for p in z.polygon]}
                                               for z in self.zones]}

    @property
    def names(self) -> list[str]:
        return [z.name for z in self.zones]

    def __iter__(self):
        return iter(self.zones)

    def __len__(self) -> int:
        return len(self.zones)

    def to_units(self, units: str, homography: Any = None) -> "Zones":
        """The zones in ``units``: image → plan through ``homography`` (image → plan), plan →
        image through its inverse. Straight edges stay straight under a homography."""
        if units == self.units:
            return self
        if homography is None:
            raise ValueError(f"zones are in {self.units} units; mapping them to {units} units needs a homography")
        h = homography if units == "plan" else homography.inverse()
        out = []
        for z in self.zones:
            pts, behind = h.apply(z.array, return_behind=True)
            if behind or not np.all(np.isfinite(pts)):
                raise ValueError(f"zone {z.name!r} reaches behind the camera's horizon; it cannot be mapped to "
                                 f"{units} units")
            out.append(Zone(z.name, _check_polygon(z.name, pts), units))
        return Zones(out)

    def masks(self, shape: Any, size: Any | None = None) -> dict[str, np.ndarray]:
        """``{name: (H, W) bool mask}`` on a grid of ``shape`` covering ``size`` (see :meth:`Zone.mask`)."""
        return {z.name: z.mask(shape, size) for z in self.zones}

    def draw(self, image: np.ndarray, scale: tuple[float, float] = (1.0, 1.0), *, color: tuple[int, int, int] = (255, 255, 255),
             thickness: int = 2, labels: bool = True) -> np.ndarray:
        """A copy of ``image`` (RGB/BGR uint8) with the zone outlines and names drawn
        (``scale``: image pixels per zone unit, x and y)."""
        import cv2

        out = np.ascontiguousarray(image.copy())
        for z in self.zones:
            pts = np.round(z.array * np.asarray(scale) * 16).astype(np.int32)
            cv2.polylines(out, [pts], True, (20, 20, 20), thickness + 2, cv2.LINE_AA, shift=4)  # visible on light
            cv2.polylines(out, [pts], True, color, thickness, cv2.LINE_AA, shift=4)
            if labels:
                # the name inside the zone's top-left corner, on a dark box (readable on any heat)
                p0 = z.array.min(0) * np.asarray(scale)
                fs = max(0.4, out.shape[1] / 1400)
                (tw, th), base = cv2.getTextSize(z.name, cv2.FONT_HERSHEY_SIMPLEX, fs, 1)
                x, y = int(p0[0]) + thickness + 3, int(p0[1]) + thickness + 3
                cv2.rectangle(out, (x, y), (x + tw + 6, y + th + base + 4), (20, 20, 20), -1)
                cv2.putText(out, z.name, (x + 3, y + th + 2), cv2.FONT_HERSHEY_SIMPLEX, fs, color, 1, cv2.LINE_AA)
        return out


def load_zones(path: str | os.PathLike[str] | dict | list) -> Zones:
    """Read zones from a JSON or YAML file (or take a parsed dict/list); see the module docstring."""
    if isinstance(path, (dict, list)):
        return Zones.from_dict(path)
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such zones file: {p}")
    text = p.read_text()
    try:
        if p.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except Exception as exc:  # noqa: BLE001 - any parse error names the file
        raise ValueError(f"{p} is not a valid zones file: {exc}") from None
    return Zones.from_dict(data)


# -- people per frame ------------------------------------------------------------------------------

class ZoneCounts(NamedTuple):
    """What :meth:`ZoneCounter.update` counted for one frame: people inside each zone."""

    counts: np.ndarray


class ZoneCounter(Accumulator):
    """People per frame in each zone, from per-frame detections (kind ``"zones"``).

    Each detection's ``anchor`` point (``"bottom"`` = the feet) is tested against every zone
    (zones in image pixels; zones in plan units need ``homography`` image → plan). Per zone it
    keeps the number of observations (detections inside), the peak per frame, and the distinct
    track ids; ``seconds_per_obs`` (stride / fps) turns observations into dwell person-seconds.
    """

    kind = "zones"

    def __init__(self, zones: Zones | dict | list | str | os.PathLike[str], *, homography: Any = None,
                 anchor: str | Sequence[float] = "bottom", seconds_per_obs: float | None = None) -> None:
        self.zones = zones if isinstance(zones, Zones) else load_zones(zones)
        if self.zones.units == "plan" and homography is None:
            raise ValueError("zones in plan units need the homography image -> plan to count detections")
        self.homography = homography if self.zones.units == "plan" else None
        self.anchor = parse_anchor(anchor)
        if seconds_per_obs is not None and not (math.isfinite(seconds_per_obs) and seconds_per_obs > 0):
            raise ValueError(f"seconds_per_obs must be > 0 seconds, got {seconds_per_obs!r}")
        self.seconds_per_obs = seconds_per_obs
        n = len(self.zones)
        self.frames = 0
        self.observations = np.zeros(n, np.int64)
        self.peak = np.zeros(n, np.int64)
        self.untracked = np.zeros(n, np.int64)
        self._visitors: list[set[tuple[str, int]]] = [set() for _ in range(n)]

    def config(self) -> dict[str, Any]:
        h = None if self.homography is None else np.asarray(self.homography.matrix, np.float64).tolist()
        return {"zones": self.zones.to_dict(), "homography": h, "anchor": list(self.anchor),
                "seconds_per_obs": self.seconds_per_obs}

    def update(self, record: Any) -> ZoneCounts:
        d = as_detections(record)
        self.frames += 1
        n = len(self.zones)
        if len(d) == 0:
            return ZoneCounts(np.zeros(n, np.int64))
        pts = box_anchors(d.xyxy, self.anchor)
        if self.homography is not None:
            pts, _ = self.homography.apply(pts, return_behind=True)
        tr = d.track_ids
        counts = np.zeros(n, np.int64)
        for i, z in enumerate(self.zones):
            inside = z.contains(pts) & np.all(np.isfinite(pts), axis=1)
            c = int(inside.sum())
            counts[i] = c
            if c and tr is not None:
                ids = tr[inside]
                self._visitors[i].update((d.source or "", int(t)) for t in ids.tolist() if t >= 0)
                self.untracked[i] += int(np.sum(ids < 0))
            elif c:
                self.untracked[i] += c
        self.observations += counts
        np.maximum(self.peak, counts, out=self.peak)
        return ZoneCounts(counts)

    def result(self) -> np.ndarray:
        """Mean people per frame in each zone, (zones,) float64."""
        return self.observations / max(self.frames, 1)

    def mean_occupancy(self) -> np.ndarray:
        return self.result()

    def dwell(self) -> np.ndarray:
        """Person-seconds per zone (observations x ``seconds_per_obs``); NaN when unknown."""
        if self.seconds_per_obs is None:
            return np.full(len(self.zones), np.nan)
        return self.observations * self.seconds_per_obs

    def visitors(self) -> np.ndarray:
        """Distinct tracks per zone; -1 where detections without track ids were counted."""
        return np.array([-1 if u else len(v) for v, u in zip(self._visitors, self.untracked)], np.int64)

    def state(self) -> dict[str, np.ndarray]:
        vis = [(i, s, t) for i, v in enumerate(self._visitors) for s, t in sorted(v)]
        return {"config": np.array(json.dumps(self.config())), "frames": np.array(self.frames, np.int64),
                "observations": self.observations.copy(), "peak": self.peak.copy(),
                "untracked": self.untracked.copy(),
                "visits": np.array([[i, t] for i, _, t in vis], np.int64).reshape(-1, 2),
                "visit_src": np.array([s for _, s, _ in vis], dtype=np.str_) if vis else np.zeros(0, "U1")}

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> "ZoneCounter":
        from .homography import Homography

        cfg = json.loads(str(state["config"]))
        h = None if cfg["homography"] is None else Homography(np.asarray(cfg["homography"], np.float64))
        obj = cls(Zones.from_dict(cfg["zones"]), homography=h, anchor=tuple(cfg["anchor"]),
                  seconds_per_obs=cfg["seconds_per_obs"])
        obj.frames = int(state["frames"])
        obj.observations = np.asarray(state["observations"], np.int64).copy()
        obj.peak = np.asarray(state["peak"], np.int64).copy()
        obj.untracked = np.asarray(state["untracked"], np.int64).copy()
        for s, (i, t) in zip([str(x) for x in state["visit_src"]], np.asarray(state["visits"]).tolist()):
            obj._visitors[int(i)].add((s, int(t)))
        return obj

    def _merge(self, other: "ZoneCounter") -> None:
        self.frames += other.frames
        self.observations += other.observations
        np.maximum(self.peak, other.peak, out=self.peak)
        self.untracked += other.untracked
        for a, b in zip(self._visitors, other._visitors):
            a |= b


# -- motion per zone -------------------------------------------------------------------------------

class MotionZoneStats:
    """Motion inside each zone, counted from the per-frame motion masks of a motion heatmap
    (:class:`~heatcore.motion.MotionHeatmap` with ``zones=``, which feeds it every frame).

    Zones are in image pixels of the full frame (``size`` = (W, H)); the masks are at the
    processing resolution (``shape`` = (h, w)); a mask pixel belongs to a zone when its centre
    does (:meth:`Zone.mask`) and it lies inside the ROI. Per zone it keeps, over the frames fed:

    * ``moving`` — moving pixels summed over frames (exactly the zone's sum of the heatmap's
      counts, so ``moving / (pixels * frames)`` is the heatmap's mean fraction of frames in motion
      over the zone);
    * ``active`` — frames with motion in the zone: frames in which at least ``min_pixels`` of the
      zone's pixels moved, ``min_pixels = max(1, ceil(min_fraction * pixels))`` (the default
      ``min_fraction = 0.01`` ignores speckles of background noise).

    :meth:`values` turns them into the zone-table metrics (``motion_fraction``,
    ``motion_frames``, ``motion_s``, ``motion_px_s``).
    """

    def __init__(self, zones: Zones, shape: tuple[int, int], size: tuple[int, int], *,
                 roi: np.ndarray | None = None, min_fraction: float = 0.01) -> None:
        if zones.units != "image":
            raise ValueError(f"motion zones must be in image pixels (units: image), got units {zones.units!r}")
        if not (isinstance(min_fraction, (int, float)) and not isinstance(min_fraction, bool)
                and 0 <= min_fraction <= 1):
            raise ValueError(f"min_fraction must be a fraction of a zone's pixels in 0..1, got {min_fraction!r}")
        self.zones = zones
        self.shape = (int(shape[0]), int(shape[1]))
        self.size = (int(size[0]), int(size[1]))
        self.min_fraction = float(min_fraction)
        inside = None if roi is None else np.asarray(roi) != 0
        self._boxes: list[tuple[slice, slice, np.ndarray]] = []
        pixels = []
        for m in zones.masks(self.shape, self.size).values():
            if inside is not None:
                m = m & inside
            rows, cols = np.flatnonzero(m.any(1)), np.flatnonzero(m.any(0))
            if len(rows) == 0:
                box = (slice(0, 0), slice(0, 0), np.zeros((0, 0), np.uint8))
            else:
                r, c = slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1)
                box = (r, c, np.ascontiguousarray(m[r, c]).view(np.uint8))  # 0/1 over the zone's bounding box
            self._boxes.append(box)
            pixels.append(int(m.sum()))
        #: pixels of each zone at the processing resolution (inside the ROI)
        self.pixels = np.array(pixels, np.int64)
        self.min_pixels = np.maximum(1, np.ceil(self.min_fraction * self.pixels)).astype(np.int64)
        n = len(zones)
        self.moving = np.zeros(n, np.int64)
        self.active = np.zeros(n, np.int64)

    def add(self, moving: np.ndarray) -> np.ndarray:
        """Count one frame: ``moving`` (h, w) bool or uint8, non-zero where the pixel is in motion
        (pixels outside the ROI may be anything: the zones leave them out). Returns the moving
        pixels per zone in this frame, (zones,) int64."""
        import cv2

        if moving.shape != self.shape:
            raise ValueError(f"motion mask is {moving.shape}, the zones were laid on {self.shape}")
        mv = moving.view(np.uint8) if moving.dtype == np.bool_ else moving
        if mv.dtype != np.uint8:
            raise TypeError(f"motion mask must be bool or uint8, got {moving.dtype}")
        # OpenCV's SIMD AND + count on each zone's bounding box (a few µs per zone)
        c = np.array([cv2.countNonZero(cv2.bitwise_and(mv[r, cc], m)) if m.size else 0
                      for r, cc, m in self._boxes], np.int64)
        self.moving += c
        self.active += c >= self.min_pixels
        return c

    def reset(self) -> None:
        self.moving[:] = 0
        self.active[:] = 0

    def values(self, frames: int, seconds_per_frame: float | None = None,
               full_pixels_per_pixel: float = 1.0) -> dict[str, np.ndarray]:
        """Per zone (arrays in zone order): ``motion_fraction`` — mean fraction of frames in motion
        over the zone's pixels; ``motion_frames`` — fraction of frames with motion in the zone;
        ``motion_s`` — seconds with motion in the zone (``active * seconds_per_frame``);
        ``motion_px_s`` — moving pixel-seconds in full-resolution pixels (``moving *
        seconds_per_frame * full_pixels_per_pixel``). NaN where undefined (no frames, an empty
        zone, unknown ``seconds_per_frame``)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            f = float(frames) if frames > 0 else np.nan
            frac = self.moving / (self.pixels * f)
            frac = np.where(self.pixels > 0, frac, np.nan)
            active = np.where(self.pixels > 0, self.active / f, np.nan)
        spf = np.nan if seconds_per_frame is None else float(seconds_per_frame)
        return {"motion_fraction": frac, "motion_frames": active, "motion_s": self.active * spf,
                "motion_px_s": self.moving * spf * float(full_pixels_per_pixel)}


# -- the table -------------------------------------------------------------------------------------

def _shares(heat: np.ndarray, masks: dict[str, np.ndarray]) -> dict[str, float]:
    h = np.asarray(heat, np.float64)
    total = float(h.sum())
    return {n: (float(h[m].sum()) / total if total > 0 else float("nan")) for n, m in masks.items()}


def _grid_size(acc: Any, units: str) -> tuple[tuple[int, int], tuple[float, float]]:
    """(result shape, size covered in zone units) of an accumulator's result."""
    kind = getattr(acc, "kind", "")
    if kind == "grid":
        return acc.grid_shape, (float(acc.image_size[0]), float(acc.image_size[1]))
    if kind == "motion":
        if acc.full_size is None:
            raise ValueError("the motion heatmap has no frames yet")
        return (acc.size[1], acc.size[0]), (float(acc.full_size[0]), float(acc.full_size[1]))
    if kind == "floorplan":
        W, H = acc.plan_size
        return (H, W), (float(W), float(H))
    if kind == "kde":
        H, W = acc.shape
        x0, x1, y0, y1 = acc.extent
        if x0 != 0 or y0 != 0:
            raise ValueError("zones on a KDE heatmap need an extent starting at 0 (zone units = data units)")
        return (H, W), (float(x1), float(y1))
    raise TypeError(f"cannot place zones on a {type(acc).__name__}")


def zone_shares(acc: Any, zones: Zones, homography: Any = None, **result_kw: Any) -> dict[str, float]:
    """``{zone: share of all activity}`` of an accumulator's heatmap (grid, motion, floor plan,
    KDE). Zones in the other unit system are mapped through ``homography`` (image → plan)."""
    units = "plan" if getattr(acc, "kind", "") == "floorplan" else "image"
    z = zones.to_units(units, homography)
    shape, size = _grid_size(acc, units)
    return _shares(acc.result(**result_kw), z.masks(shape, size))


def _slices_of(x: Any) -> dict[Any, Any]:
    """{key: accumulator} of a SlicedAccumulator, or {"all": x} for a plain one."""
    from .slices import SlicedAccumulator

    if isinstance(x, SlicedAccumulator):
        return {k: x[k] for k in x.keys()}
    return {"all": x}


def zone_table(zones: Zones, *, heat: Any = None, counter: Any = None, motion: Any = None, floorplan: Any = None,
               homography: Any = None, per_slice: bool = True) -> list[dict[str, Any]]:
    """Rows ``{zone, slice, share, mean_occupancy, peak_occupancy, dwell_s, visitors,
    motion_fraction, motion_frames, motion_s, motion_px_s}`` — per zone for the whole run (slice ``"all"``) and, when the inputs are
    :class:`~heatcore.slices.SlicedAccumulator`, per time slice (labelled). ``heat``: the heatmap
    whose activity shares are reported (grid, KDE, floor plan or motion); ``counter``: a
    :class:`ZoneCounter` (occupancy, visitors, dwell); ``motion``: a motion heatmap (counted with
    ``zones=`` these zones: every motion column, else the fraction from its heatmap);
    ``floorplan``: a floor plan accumulator (dwell seconds from its dwell grid). Missing inputs
    leave their columns empty (None)."""
    from .slices import SlicedAccumulator

    inputs = {"heat": heat, "counter": counter, "motion": motion, "floorplan": floorplan}
    sliced = {k: v for k, v in inputs.items() if isinstance(v, SlicedAccumulator)}
    labeller = next(iter(sliced.values()), None)
    periods: list[tuple[Any, str, dict[str, Any]]] = []
    whole = {k: (v.merged() if isinstance(v, SlicedAccumulator) else v) for k, v in inputs.items()}
    periods.append(("all", "all", whole))
    if per_slice and labeller is not None:
        keys = sorted(set().union(*[set(s.keys()) for s in sliced.values()]))
        for key in keys:
            per = {k: (v.slices.get(key) if isinstance(v, SlicedAccumulator) else None) for k, v in inputs.items()}
            periods.append((key, labeller.label(key), per))
    rows = []
    for key, label, accs in periods:
        stats: dict[str, dict[str, Any]] = {n: {} for n in zones.names}
        if accs["heat"] is not None:
            for n, v in zone_shares(accs["heat"], zones, homography).items():
                stats[n]["share"] = v
        if accs["motion"] is not None:
            m = accs["motion"]
            zs = getattr(m, "zone_stats", None)
            if zs is not None and zs.zones.names == zones.names:  # counted per frame (zones=)
                for metric, vals in m.zone_values().items():
                    for n, v in zip(zones.names, vals.tolist()):
                        stats[n][metric] = None if (metric != "motion_fraction" and math.isnan(v)) else v
            else:
                z = zones.to_units("image", homography)
                shape, size = _grid_size(m, "image")
                frac = m.result(normalize=True)
                for n, mk in z.masks(shape, size).items():
                    stats[n]["motion_fraction"] = float(frac[mk].mean()) if mk.any() else float("nan")
        if accs["counter"] is not None:
            c = accs["counter"]
            if c.zones.names != zones.names:
                raise ValueError(f"the zone counter counts zones {c.zones.names}, the table wants {zones.names}")
            mean, dw, vis = c.mean_occupancy(), c.dwell(), c.visitors()
            for i, n in enumerate(zones.names):
                stats[n]["mean_occupancy"] = float(mean[i])
                stats[n]["peak_occupancy"] = int(c.peak[i])
                stats[n]["visitors"] = None if vis[i] < 0 else int(vis[i])
                if not math.isnan(dw[i]):
                    stats[n]["dwell_s"] = float(dw[i])
        if accs["floorplan"] is not None:
            fp = accs["floorplan"]
            z = zones.to_units("plan", homography)
            rows_, cols_ = fp.grid_shape
            dwell = fp.dwell()
            for n, mk in z.masks((rows_, cols_), (cols_ * fp.cell, rows_ * fp.cell)).items():
                stats[n]["dwell_s"] = float(dwell[mk].sum())
        for n in zones.names:
            s = stats[n]
            rows.append({"zone": n, "slice": label, "key": key if key != "all" else None,
                         **{m: s.get(m) for m in METRICS}})
    return rows


def write_table(rows: list[dict[str, Any]], path: str | os.PathLike[str]) -> Path:
    """Write zone-table rows as CSV (``.csv``) or JSON (``.json``)."""
    p = Path(path)
    cols = ["zone", "slice", *METRICS]
    if p.suffix.lower() == ".json":
        p.write_text(json.dumps({"columns": {m: METRICS[m] for m in METRICS},
                                 "rows": [{c: r.get(c) for c in cols} for r in rows]}, indent=1, default=float))
    elif p.suffix.lower() == ".csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(cols)
        for r in rows:
            w.writerow(["" if r.get(c) is None else (f"{r[c]:.6g}" if isinstance(r[c], float) else r[c])
                        for c in cols])
        p.write_text(buf.getvalue())
    else:
        raise ValueError(f"zone table must be written as .csv or .json, got {p.name!r}")
    return p


def plot_zone_series(rows: list[dict[str, Any]], metric: str = "share", *, title: str | None = None) -> Any:
    """A matplotlib figure: one small time-series axes per zone of ``metric`` over the time
    slices of a :func:`zone_table` (rows with slice ``"all"`` are left out)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
    names = list(dict.fromkeys(r["zone"] for r in rows))
    fig = Figure(figsize=(7.5, 1.6 + 1.5 * len(names)), layout="constrained")
    axes = fig.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0]
    for ax, n in zip(axes, names):
        rs = [r for r in rows if r["zone"] == n and r["slice"] != "all"]
        xs = [r["slice"] for r in rs]
        ys = [np.nan if r.get(metric) is None else r[metric] for r in rs]
        ax.plot(range(len(xs)), ys, marker="o", ms=3, lw=1.5)
        ax.set_ylabel(n)
        ax.grid(alpha=0.3)
        if xs:
            step = max(1, len(xs) // 8)
            ax.set_xticks(range(0, len(xs), step), xs[::step], rotation=30, ha="right", fontsize=8)
    axes[0].set_title(title or f"{METRICS[metric]} per zone", fontsize=9)
    axes[-1].set_xlabel("time slice")
    return fig
