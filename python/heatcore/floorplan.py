"""Floor-plan heatmaps: video → detections → anchor point → homography → plan → heatmap.

The pipeline of the published padel-court / shop-floor example as functions:

* :func:`video_to_plan` — stream a video through a detector (every ``stride``-th frame), take an
  anchor point of each box (bottom centre = the feet by default), map it through a
  :class:`~heatcore.Homography` onto the plan and return a :class:`PlanPoints` table
  (optionally tracked, optionally with parked objects suppressed); it can write the detections
  as CSV on the way (:class:`DetectionCSVWriter`, :class:`AitriosCSVWriter`).
* :func:`floorplan_heatmap` — a KDE heatmap (``heatcore.kde``), a dwell-time grid (seconds per
  cell) or a unique-visitor grid over the plan, rendered with a fixed colour range and colorbar.

CSV formats: plan points ``frame,time_s,track,x,y,score`` (:func:`write_points_csv` /
:func:`read_points_csv`); image-space detections ``frame,time_s,track,left,top,right,bottom,
score,class_id`` (:class:`DetectionCSVWriter` / :func:`read_detections`); and the AITRIOS
sample's CSV (one row per processed frame) that ``heatcore grid`` reads.
"""

from __future__ import annotations

import csv
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from .detect import Detections, box_anchors, detect_video
from .homography import Homography
from .track import StationaryFilter, Tracker, dwell_grid, visitor_grid

__all__ = [
    "PlanPoints",
    "video_to_plan",
    "detections_to_plan",
    "floorplan_heatmap",
    "write_points_csv",
    "read_points_csv",
    "read_detections",
    "DetectionCSVWriter",
    "AitriosCSVWriter",
]

POINTS_HEADER = ["frame", "time_s", "track", "x", "y", "score"]
DETECTIONS_HEADER = ["frame", "time_s", "track", "left", "top", "right", "bottom", "score", "class_id"]


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


class DetectionCSVWriter:
    """Write image-space detections ``frame,time_s,track,left,top,right,bottom,score,class_id``."""

    def __init__(self, path: str | os.PathLike[str], *, append: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a" if append else "w", newline="")
        self._w = csv.writer(self._fh)
        if not append:
            self._w.writerow(DETECTIONS_HEADER)

    def flush(self) -> int:
        """Flush to disk; returns the file size in bytes (a resume point)."""
        self._fh.flush()
        os.fsync(self._fh.fileno())
        return self._fh.tell()

    def write(self, frame: int, time_s: float, det: Detections) -> None:
        tr = det.track_ids if det.track_ids is not None else np.full(len(det), -1)
        for b, s, c, t in zip(det.xyxy.tolist(), det.scores.tolist(), det.class_ids.tolist(), tr.tolist()):
            self._w.writerow([frame, f"{time_s:.6f}", t, *(f"{v:.2f}" for v in b), f"{s:.6g}", c])

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> "DetectionCSVWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AitriosCSVWriter:
    """Write the AITRIOS sample's CSV: header ``0,1,...,9``, then one row per processed frame:
    the row number and a quoted JSON dict ``{"perception": {"object_detection_list": [{"class_id",
    "bounding_box": {"left", "top", "right", "bottom"} (integer pixels), "score"}]}}``, CRLF line
    ends. ``heatcore grid`` (and :class:`heatcore.io.detections.AitriosCSV`) read it back."""

    def __init__(self, path: str | os.PathLike[str], *, append_rows: int | None = None) -> None:
        """``append_rows``: append to an existing file that already holds that many data rows."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "w" if append_rows is None else "a", newline="")
        self._w = csv.writer(self._fh, lineterminator="\r\n")
        if append_rows is None:
            self._w.writerow([str(i) for i in range(10)])
        self.rows = 0 if append_rows is None else int(append_rows)

    def flush(self) -> int:
        """Flush to disk; returns the file size in bytes (a resume point)."""
        self._fh.flush()
        os.fsync(self._fh.fileno())
        return self._fh.tell()

    def write(self, det: Detections) -> None:
        objs = [{"class_id": int(c),
                 "bounding_box": {"left": int(round(b[0])), "top": int(round(b[1])), "right": int(round(b[2])),
                                  "bottom": int(round(b[3]))},
                 "score": float(s)}
                for b, s, c in zip(det.xyxy.tolist(), det.scores.tolist(), det.class_ids.tolist())]
        text = json.dumps({"perception": {"object_detection_list": objs}})
        self._w.writerow([self.rows, text])
        self.rows += 1

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> "AitriosCSVWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_detections(path: str | os.PathLike[str], *, fps: float = 30.0) -> Iterator[tuple[int, float, Detections]]:
    """Stream ``(frame, time_s, Detections)`` from a detections CSV written by ``heatcore detect``
    (``frame,time_s,track,left,...``) or an AITRIOS CSV (header ``0,1,...,9``; row r is frame r at
    ``r / fps`` seconds, no track ids)."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such detections CSV: {p}")
    with open(p, newline="", encoding="utf-8") as fh:
        first = fh.readline().strip().split(",")
    if [f.strip() for f in first] == DETECTIONS_HEADER:
        rows = np.asarray(_read_table(p, DETECTIONS_HEADER), np.float64).reshape(-1, 9)
        if len(rows) and np.any(np.diff(rows[:, 0]) < 0):
            raise ValueError(f"{p.name}: frames must not decrease")
        frames, starts = np.unique(rows[:, 0], return_index=True)
        ends = list(starts[1:]) + [len(rows)]
        for f, a, z in zip(frames, starts, ends):
            r = rows[a:z]
            yield int(f), float(r[0, 1]), Detections(r[:, 3:7], r[:, 7], r[:, 8], r[:, 2])
        return
    if first and first[0].strip() == "0":
        from .io.detections import AitriosCSV

        if not fps > 0:
            raise ValueError(f"fps must be > 0, got {fps!r}")
        for fr in AitriosCSV(p):
            yield fr.index, fr.index / fps, Detections(fr.boxes, fr.scores, fr.class_ids)
        return
    raise ValueError(f"{p.name}: not a detections CSV (header {','.join(DETECTIONS_HEADER)}) "
                     f"nor an AITRIOS CSV (header 0,1,...,9); got {','.join(first)[:80]!r}")


def detections_to_plan(frames: Iterable[tuple[int, float, Detections]], homography: Homography | None, *,
                       anchor: str | Sequence[float] = "bottom", seconds_per_obs: float = 1.0,
                       stationary: tuple[float, float] | None = None, tracker: Tracker | None = None) -> PlanPoints:
    """Map ``(frame, time_s, Detections)`` to plan points: anchor point of each box (see
    :func:`heatcore.detect.box_anchors`) → ``homography`` (None = anchors are already plan
    coordinates). ``tracker`` assigns track ids to frames that have none (or only -1). ``stationary = (min_motion
    pixels, seconds)``: detections of tracks that moved less than that in image pixels over that
    many seconds get ``active = False`` (they add no heat)."""
    filt = None if stationary is None else StationaryFilter(*stationary)
    cols: dict[str, list] = {k: [] for k in ("frame", "time", "track", "u", "v", "score", "active")}
    for f, t, det in frames:
        if tracker is not None and (det.track_ids is None or (len(det) and np.all(det.track_ids < 0))):
            det.track_ids = tracker.update(det.xyxy)
        tr = det.track_ids if det.track_ids is not None else np.full(len(det), -1, np.int64)
        uv = box_anchors(det.xyxy, anchor)
        act = np.ones(len(det), bool) if filt is None else filt.update(t, tr, uv)
        cols["frame"].append(np.full(len(det), f, np.int64))
        cols["time"].append(np.full(len(det), t))
        cols["track"].append(tr)
        cols["u"].append(uv[:, 0])
        cols["v"].append(uv[:, 1])
        cols["score"].append(det.scores)
        cols["active"].append(act)
    cat = {k: (np.concatenate(v) if v else np.zeros(0)) for k, v in cols.items()}
    uv = np.stack([cat["u"], cat["v"]], axis=1).astype(np.float64)
    behind = 0
    if homography is not None and len(uv):
        xy, behind = homography.apply(uv, return_behind=True)
    else:
        xy = uv
    return PlanPoints(cat["frame"].astype(np.int64), cat["time"].astype(np.float64), cat["track"].astype(np.int64),
                      xy[:, 0].copy(), xy[:, 1].copy(), cat["score"].astype(np.float64),
                      cat["active"].astype(bool), float(seconds_per_obs), int(behind))


def video_to_plan(source: str | os.PathLike[str] | Sequence, homography: Homography | None, detector: Any = None,
                  *, stride: int = 5, fps: float | None = None, anchor: str | Sequence[float] = "bottom",
                  track: bool = True, max_disappeared: int = 5, stationary: tuple[float, float] | None = None,
                  classes: Iterable[int] | None = None, min_score: float | None = None,
                  detections_csv: str | os.PathLike[str] | None = None,
                  aitrios_csv: str | os.PathLike[str] | None = None, quiet: bool = True) -> PlanPoints:
    """The whole pipeline: video → detections (every ``stride``-th frame) → anchors → plan.

    ``fps``: frames per second (default: the video's, else 30). Each observation stands for
    ``stride / fps`` seconds. ``track``: IoU tracking with ``max_disappeared`` processed frames.
    ``detections_csv`` / ``aitrios_csv``: also write the image-space detections there.
    """
    from .io.video import video_info

    if fps is None:
        try:
            fps = video_info(source).fps or 30.0
        except (OSError, ValueError, TypeError):
            fps = 30.0
    if not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps!r}")
    tracker = Tracker(max_disappeared=max_disappeared) if track else None
    w1 = DetectionCSVWriter(detections_csv) if detections_csv is not None else None
    w2 = AitriosCSVWriter(aitrios_csv) if aitrios_csv is not None else None

    def frames() -> Iterator[tuple[int, float, Detections]]:
        for idx, det in detect_video(source, detector, stride=stride, classes=classes, min_score=min_score,
                                     tracker=tracker, quiet=quiet):
            t = idx / fps
            if w1 is not None:
                w1.write(idx, t, det)
            if w2 is not None:
                w2.write(det)
            yield idx, t, det

    try:
        return detections_to_plan(frames(), homography, anchor=anchor, seconds_per_obs=stride / fps,
                                  stationary=stationary)
    finally:
        for w in (w1, w2):
            if w is not None:
                w.close()


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
    label = {"kde": "seconds (one stop's peak)" if dt != 1.0 else "detections (one point's peak)", "dwell": "seconds",
             "visitors": "unique visitors"}[mode]
    if mode == "kde":
        from .kde import kde as _kde

        inside = ok & (x >= 0) & (x < W) & (y >= 0) & (y < H)
        pts = np.stack([x[inside], y[inside]], axis=1)
        if len(pts):
            grid = np.asarray(_kde(pts, shape=(H, W), bandwidth=float(bandwidth),
                                           weights=np.full(len(pts), float(dt)), normalize="count"), np.float64)
        else:
            grid = np.zeros((H, W))
        shown = grid
    else:
        rows, cols = _grid_shape((H, W), cell)
        size = (cols * cell, rows * cell)
        if mode == "dwell":
            grid = dwell_grid(x[ok], y[ok], (rows, cols), size, seconds_per_obs=dt)
        else:
            grid = visitor_grid(x[ok], y[ok], tr[ok], (rows, cols), size)
        # nearest-neighbour upsampling so cells stay crisp, cropped to the plan
        reps = int(math.ceil(cell))
        shown = np.repeat(np.repeat(grid.astype(np.float64), reps, axis=0), reps, axis=1)
        shown = np.asarray(_resize_nearest(shown, (W, H)))
    if out is not None:
        from .render import save_figure

        hi = vmax if vmax is not None else (float(np.max(shown)) if shown.size and np.max(shown) > 0 else 1.0)
        # hide the empty floor: KDE tails below 2% of the colour range, empty cells
        thr = vmin + (0.02 if mode == "kde" else 1e-9) * (hi - vmin)
        save_figure(out, shown, background=plan, cmap=cmap, alpha=alpha, vmin=vmin, vmax=hi,
                    colorbar=colorbar, title=title, label=label, threshold=thr)
    return grid


def _resize_nearest(a: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    import cv2

    return cv2.resize(a.astype(np.float32), size, interpolation=cv2.INTER_NEAREST)
