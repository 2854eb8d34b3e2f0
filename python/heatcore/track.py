"""Light multi-object tracking and per-cell dwell statistics.

* :class:`Tracker` — greedy IoU (or centroid-distance) association of boxes between processed
  frames; a track that finds no box for more than ``max_disappeared`` processed frames ends.
* :class:`StationaryFilter` — flags tracks that moved less than ``min_motion`` (pixels / plan
  units) over the last ``seconds``: parked objects stop adding heat.
* :func:`dwell_grid` — seconds spent per cell (each observation stands for ``stride / fps``
  seconds) and :func:`visitor_grid` — distinct track ids per cell.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from ._checks import as_shape

__all__ = ["Tracker", "StationaryFilter", "iou_matrix", "dwell_grid", "visitor_grid", "cell_index"]


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) intersection over union of ``left, top, right, bottom`` boxes ``a`` (N, 4), ``b`` (M, 4)."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    iw = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    ih = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = iw * ih
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    union = area_a[:, None] + area_b[None, :] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, inter / union, 0.0)


class Tracker:
    """Greedy box tracker giving persistent track ids (0, 1, 2, ...).

    method: ``"iou"`` (match pairs with IoU >= ``iou_threshold``, best first) or ``"centroid"``
    (match pairs whose box centres are at most ``max_distance`` pixels apart, nearest first).
    max_disappeared: a track survives this many consecutive processed frames without a match
    (with a stride, frames are the strided ones), then ends; its id is never reused.
    """

    def __init__(self, *, method: str = "iou", iou_threshold: float = 0.3, max_distance: float = 50.0,
                 max_disappeared: int = 10) -> None:
        if method not in ("iou", "centroid"):
            raise ValueError(f"method must be 'iou' or 'centroid', got {method!r}")
        if not 0 < iou_threshold <= 1:
            raise ValueError(f"iou_threshold must be in (0, 1], got {iou_threshold!r}")
        if not max_distance > 0:
            raise ValueError(f"max_distance must be > 0 pixels, got {max_distance!r}")
        if isinstance(max_disappeared, bool) or not isinstance(max_disappeared, (int, np.integer)) or max_disappeared < 0:
            raise ValueError(f"max_disappeared must be an integer >= 0 (frames), got {max_disappeared!r}")
        self.method = method
        self.iou_threshold = float(iou_threshold)
        self.max_distance = float(max_distance)
        self.max_disappeared = int(max_disappeared)
        self.next_id = 0
        self.boxes: dict[int, np.ndarray] = {}
        self.missed: dict[int, int] = {}

    def state(self) -> dict:
        """JSON-able state (live tracks, next id) for checkpoints."""
        return {"next_id": self.next_id, "boxes": {str(k): v.tolist() for k, v in self.boxes.items()},
                "missed": {str(k): v for k, v in self.missed.items()}}

    def load_state(self, state: dict) -> None:
        """Restore :meth:`state` (the settings stay those of this tracker)."""
        self.next_id = int(state["next_id"])
        self.boxes = {int(k): np.asarray(v, np.float64) for k, v in state["boxes"].items()}
        self.missed = {int(k): int(v) for k, v in state["missed"].items()}

    @property
    def active(self) -> list[int]:
        """Ids of the tracks alive now."""
        return sorted(self.boxes)

    def update(self, xyxy: Any) -> np.ndarray:
        """Associate this frame's (N, 4) boxes (pixels) with the live tracks; returns (N,) int64 ids."""
        b = np.asarray(xyxy, np.float64)
        if b.size == 0:
            b = b.reshape(0, 4)
        if b.ndim != 2 or b.shape[1] != 4:
            raise ValueError(f"boxes must have shape (N, 4), got {b.shape}")
        ids = np.full(len(b), -1, np.int64)
        tids = list(self.boxes)
        if tids and len(b):
            old = np.stack([self.boxes[t] for t in tids])
            if self.method == "iou":
                score = iou_matrix(old, b)
                ok = score >= self.iou_threshold
                order = np.argsort(-score, axis=None, kind="stable")
            else:
                co = (old[:, :2] + old[:, 2:]) / 2
                cb = (b[:, :2] + b[:, 2:]) / 2
                score = np.sqrt(((co[:, None, :] - cb[None, :, :]) ** 2).sum(-1))
                ok = score <= self.max_distance
                order = np.argsort(score, axis=None, kind="stable")
            used_t, used_b = set(), set()
            for flat in order:
                i, j = divmod(int(flat), len(b))
                if not ok[i, j]:
                    continue
                if i in used_t or j in used_b:
                    continue
                used_t.add(i)
                used_b.add(j)
                ids[j] = tids[i]
        matched = set(ids[ids >= 0].tolist())
        for t in tids:
            if t in matched:
                self.missed[t] = 0
            else:
                self.missed[t] += 1
                if self.missed[t] > self.max_disappeared:
                    del self.boxes[t], self.missed[t]
        for j in np.flatnonzero(ids < 0).tolist():
            ids[j] = int(self.next_id)
            self.missed[self.next_id] = 0
            self.next_id += 1
        for j, tid in enumerate(ids.tolist()):
            self.boxes[int(tid)] = b[j].copy()
        return ids


class StationaryFilter:
    """Suppress heat from tracks that stopped moving.

    ``update(time_s, track_ids, points) -> active mask``: a detection is inactive (adds no heat)
    when its track has been observed for at least ``seconds`` and every position it had during the
    last ``seconds`` lies within ``min_motion`` (same unit as the points: pixels or plan units) of
    the current one. It becomes active again as soon as it moves farther. Detections without a
    track (id < 0) are always active.
    """

    def __init__(self, min_motion: float, seconds: float) -> None:
        if not min_motion > 0:
            raise ValueError(f"min_motion must be > 0 (pixels or plan units), got {min_motion!r}")
        if not seconds > 0:
            raise ValueError(f"seconds must be > 0, got {seconds!r}")
        self.min_motion = float(min_motion)
        self.seconds = float(seconds)
        self.history: dict[int, deque] = {}

    def state(self) -> dict:
        """JSON-able state (each live track's recent positions) for checkpoints."""
        return {str(k): [list(x) for x in h] for k, h in self.history.items()}

    def load_state(self, state: dict) -> None:
        self.history = {int(k): deque(tuple(x) for x in v) for k, v in state.items()}

    def update(self, time_s: float, track_ids: Any, points: Any) -> np.ndarray:
        tids = np.asarray(track_ids, np.int64).reshape(-1)
        pts = np.asarray(points, np.float64).reshape(-1, 2)
        if len(tids) != len(pts):
            raise ValueError(f"track_ids ({len(tids)}) and points ({len(pts)}) differ in length")
        active = np.ones(len(tids), bool)
        t = float(time_s)
        for k, (tid, p) in enumerate(zip(tids.tolist(), pts)):
            if tid < 0 or not np.isfinite(p).all():
                continue
            h = self.history.setdefault(tid, deque())
            h.append((t, p[0], p[1]))
            # keep the newest sample at or before t - seconds (the window's start) and all later ones
            while len(h) >= 2 and h[1][0] <= t - self.seconds:
                h.popleft()
            if h[0][0] <= t - self.seconds + 1e-9:
                d = max(np.hypot(x - p[0], y - p[1]) for _, x, y in h)
                active[k] = d >= self.min_motion
        return active


def cell_index(x: Any, y: Any, shape: tuple[int, int], size: tuple[float, float]) -> np.ndarray:
    """Flat cell index of points (x, y) on a ``shape = (rows, cols)`` grid covering a plan of
    ``size = (width, height)`` (plan units); -1 for points outside or NaN."""
    rows, cols = as_shape(shape)
    w, h = float(size[0]), float(size[1])
    if not (w > 0 and h > 0):
        raise ValueError(f"plan size must be positive, got {size!r}")
    x = np.asarray(x, np.float64).reshape(-1)
    y = np.asarray(y, np.float64).reshape(-1)
    with np.errstate(invalid="ignore"):
        inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
    c = np.zeros(len(x), np.int64)
    r = np.zeros(len(x), np.int64)
    c[inside] = np.minimum((x[inside] / w * cols).astype(np.int64), cols - 1)
    r[inside] = np.minimum((y[inside] / h * rows).astype(np.int64), rows - 1)
    return np.where(inside, r * cols + c, -1)


def dwell_grid(x: Any, y: Any, shape: tuple[int, int], size: tuple[float, float], *, seconds_per_obs: float,
               weights: Any = None) -> np.ndarray:
    """Seconds spent per cell: every observation (one person in one processed frame) adds
    ``seconds_per_obs`` (= stride / fps) seconds, times its weight (0 = suppressed). float64 (rows, cols)."""
    rows, cols = as_shape(shape)
    if not seconds_per_obs > 0:
        raise ValueError(f"seconds_per_obs must be > 0, got {seconds_per_obs!r}")
    idx = cell_index(x, y, (rows, cols), size)
    w = np.ones(len(idx)) if weights is None else np.asarray(weights, np.float64).reshape(-1)
    if len(w) != len(idx):
        raise ValueError(f"weights ({len(w)}) need one entry per point ({len(idx)})")
    ok = idx >= 0
    g = np.bincount(idx[ok], weights=w[ok] * float(seconds_per_obs), minlength=rows * cols)
    return g.reshape(rows, cols)


def visitor_grid(x: Any, y: Any, track_ids: Any, shape: tuple[int, int], size: tuple[float, float]) -> np.ndarray:
    """Distinct track ids seen in each cell (a person standing still counts once). Points without a
    track (id < 0) count one visitor each. int64 (rows, cols)."""
    rows, cols = as_shape(shape)
    idx = cell_index(x, y, (rows, cols), size)
    t = np.asarray(track_ids, np.int64).reshape(-1)
    if len(t) != len(idx):
        raise ValueError(f"track_ids ({len(t)}) need one entry per point ({len(idx)})")
    ok = idx >= 0
    idx, t = idx[ok], t[ok]
    untracked = np.bincount(idx[t < 0], minlength=rows * cols)
    pairs = np.unique(np.stack([idx[t >= 0], t[t >= 0]], axis=1), axis=0) if np.any(t >= 0) else np.zeros((0, 2), np.int64)
    g = np.bincount(pairs[:, 0], minlength=rows * cols) + untracked
    return g.reshape(rows, cols).astype(np.int64)
