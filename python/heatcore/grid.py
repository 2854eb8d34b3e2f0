"""Detection grid-count heatmaps (AITRIOS "human heatmap" compatible).

The image (``W x H`` pixels) is cut into ``Nh x Nv`` cells. Every frame, each detection box adds 1
to the cells it covers (``mode="box"``) or to the cells around one point of it (``mode="point"``:
the point on the box's vertical centre line at ``anchor``, 1.0 = bottom edge = feet), spread by
``spread`` cells. A sliding window keeps the sum over the last ``window`` frames (0 = all frames).

Two geometries:

* ``"exact"`` (default): a box counts every cell it touches; the spread is symmetric (n cells on
  every side in box mode, every cell within Euclidean distance n in point mode); boxes and points
  outside the image are clipped or dropped, never wrapped; cell edges at ``i * W / Nh`` so the
  image size need not be divisible by the grid.
* ``"aitrios"``: bit for bit what the AITRIOS sample computes, quirks included (half-open cell
  ranges, last row and column never counted in box mode, lopsided spread, ``int()`` truncation,
  wrap-around of negative cells with spread <= 0, window <= 0 unbounded). Where the sample stops
  with ``IndexError``, heatcore raises ``ValueError`` naming the frame and the box.

Grids are ``(Nv, Nh)`` int32: row = vertical cell, column = horizontal cell.
"""

from __future__ import annotations

import json
import math
from collections import deque
from dataclasses import dataclass
from typing import Any, Iterable, Literal, Sequence

import numpy as np

from ._checks import resolve_threads
from .accumulator import Accumulator
from .io.detections import as_detection_arrays

__all__ = ["GridCounter", "grid_counts", "grid_points"]

Mode = Literal["box", "point"]
Geometry = Literal["exact", "aitrios"]

_INT32_MAX = np.iinfo(np.int32).max


def _core():
    from . import _core as core

    return core


def _int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    return int(value)


def _pair(name: str, value: Any, what: str) -> tuple[int, int]:
    if isinstance(value, str):
        from ._checks import parse_size

        return parse_size(value, name)
    try:
        a, b = value
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be {what}, got {value!r}") from None
    a, b = _int(f"{name}[0]", a), _int(f"{name}[1]", b)
    if a <= 0 or b <= 0:
        raise ValueError(f"{name} must be positive {what}, got {value!r}")
    return a, b


class _Spec:
    """Validated counting parameters (shared by GridCounter and grid_counts)."""

    def __init__(self, image_size: Any, grid: Any, spread: Any, window: Any, mode: Any, anchor: Any,
                 geometry: Any, classes: Any, min_score: Any) -> None:
        self.width, self.height = _pair("image_size", image_size, "(width, height) in pixels")
        self.nh, self.nv = _pair("grid", grid, "(cells across Nh, cells down Nv)")
        from .limits import check_array_bytes

        check_array_bytes((self.nv, self.nh), 8, "grid (Nv, Nh)")  # before any grid is allocated
        if geometry not in ("exact", "aitrios"):
            raise ValueError(f"geometry must be 'exact' or 'aitrios', got {geometry!r}")
        if mode not in ("box", "point"):
            raise ValueError(f"mode must be 'box' or 'point', got {mode!r}")
        self.geometry: str = geometry
        self.mode: str = mode
        self.spread = _int("spread", spread)
        self.window = _int("window", window)
        if abs(self.spread) > 1_000_000:
            raise ValueError(f"spread must be within +-1000000 cells, got {spread!r}")
        if isinstance(anchor, bool) or not isinstance(anchor, (int, float, np.integer, np.floating)):
            raise TypeError(f"anchor must be a number, got {anchor!r}")
        self.anchor = float(anchor)
        if not math.isfinite(self.anchor):
            raise ValueError(f"anchor must be finite, got {anchor!r}")
        if geometry == "exact":
            if self.spread < 0:
                raise ValueError(f"spread must be >= 0, got {spread!r} (negative spreads exist only in geometry='aitrios')")
            if self.window < 0:
                raise ValueError(f"window must be >= 0 frames (0 = unbounded), got {window!r}")
            if not 0.0 <= self.anchor <= 1.0:
                raise ValueError(f"anchor must be in [0, 1] (0 = top edge, 1 = bottom edge), got {anchor!r}")
        else:
            # The sample's checks, in its order and with its words.
            if self.width % self.nh != 0:
                raise ValueError(f"error, image_size_h is not divisible by grid_num_h ({self.width} % {self.nh} != 0)")
            if self.height % self.nv != 0:
                raise ValueError(f"error, image_size_v is not divisible by grid_num_v ({self.height} % {self.nv} != 0)")
            if self.window < 0:
                self.window = 0  # Queue(maxsize <= 0) is unbounded
        if classes is None:
            self.classes = None
        else:
            if isinstance(classes, (int, np.integer)) and not isinstance(classes, bool):
                classes = [classes]
            try:
                self.classes = sorted({_int("classes item", c) for c in classes})
            except TypeError as exc:
                raise TypeError(f"classes must be None or integers, got {classes!r} ({exc})") from None
        if min_score is None:
            self.min_score = None
        else:
            if isinstance(min_score, bool) or not isinstance(min_score, (int, float, np.integer, np.floating)):
                raise TypeError(f"min_score must be a number or None, got {min_score!r}")
            self.min_score = float(min_score)
            if not math.isfinite(self.min_score):
                raise ValueError(f"min_score must be finite, got {min_score!r}")

    def args(self) -> tuple:
        return (self.width, self.height, self.nh, self.nv, self.spread, self.mode, self.geometry, self.anchor)

    def config(self) -> dict[str, Any]:
        return {
            "image_size": [self.width, self.height],
            "grid": [self.nh, self.nv],
            "spread": self.spread,
            "window": self.window,
            "mode": self.mode,
            "anchor": self.anchor,
            "geometry": self.geometry,
            "classes": self.classes,
            "min_score": self.min_score,
        }

    def select(self, boxes: np.ndarray, scores: np.ndarray | None, class_ids: np.ndarray | None) -> np.ndarray:
        """Boxes that pass the class and score filters."""
        keep = None
        if self.classes is not None:
            if class_ids is None:
                raise ValueError("classes= filters by class id, but these detections carry none "
                                 "(pass Detections or an (N, 6) array l, t, r, b, score, class_id)")
            keep = np.isin(class_ids, self.classes)
        if self.min_score is not None:
            if scores is None:
                raise ValueError("min_score= filters by score, but these detections carry none "
                                 "(pass Detections or an (N, 5+) array l, t, r, b, score[, class_id])")
            k = scores >= self.min_score
            keep = k if keep is None else keep & k
        if keep is None:
            return boxes
        return np.ascontiguousarray(boxes[keep])


def _check_finite(boxes: np.ndarray, where: str) -> None:
    if boxes.size and not np.isfinite(boxes).all():
        row = int(np.flatnonzero(~np.isfinite(boxes).all(axis=1))[0])
        raise ValueError(f"{where}, box {row}: coordinates must be finite, got {boxes[row].tolist()}")


@dataclass
class GridBatch:
    """What :meth:`GridCounter.update_batch` counted: ``grids`` (K, Nv, Nh) int32 after each
    frame; the boxes that passed the filters packed (frame t = ``boxes[offsets[t]:offsets[t+1]]``,
    pixels); their ``points`` (M, 2) in point mode, else None; ``error``: the exception that
    stopped the batch early (the frames before it are here), else None."""

    grids: np.ndarray
    boxes: np.ndarray
    offsets: np.ndarray
    points: np.ndarray | None = None
    error: BaseException | None = None

    def __len__(self) -> int:
        return int(len(self.offsets) - 1)


class GridCounter(Accumulator):
    """Streaming grid counter with a sliding window (the accumulator protocol, kind ``"grid"``).

    Parameters
    ----------
    image_size : (W, H) pixels the boxes are in (or ``"1920x1080"``).
    grid : (Nh, Nv) cells across and down (or ``"60x36"``).
    spread : neighbour spread n in cells.
    window : sliding window length in frames; 0 = every frame so far (aitrios: any value <= 0).
    mode : ``"box"`` (whole boxes) or ``"point"`` (one point per box).
    anchor : point mode: where on the box's vertical centre line (0 = top, 1 = bottom = feet).
    classes, min_score : keep only these class ids / scores >= min_score (None = all).
    geometry : ``"exact"`` or ``"aitrios"`` (see the module docstring).
    backend : ``"cpp"`` (default) or ``"numpy"`` (the reference twin, slow).

    ``update(frame)`` takes a :class:`~heatcore.records.Detections`, an (N, 4) array of
    ``left, top, right, bottom`` pixels ((N, 5) adds score, (N, 6) score and class id), an object
    with an ``xyxy`` attribute (supervision ``Detections``) or None (no detections), and returns the
    current (Nv, Nh) int32 grid as a new array.
    """

    kind = "grid"

    def __init__(self, image_size: Any = (1920, 1080), grid: Any = (60, 36), spread: int = 1, window: int = 0,
                 mode: Mode = "box", anchor: float = 1.0, classes: Iterable[int] | None = None,
                 min_score: float | None = None, geometry: Geometry = "exact", backend: str = "cpp") -> None:
        self._spec = _Spec(image_size, grid, spread, window, mode, anchor, geometry, classes, min_score)
        if backend not in ("cpp", "numpy"):
            raise ValueError(f"backend must be 'cpp' or 'numpy', got {backend!r}")
        self.backend = backend
        self._grid = np.zeros((self._spec.nv, self._spec.nh), np.int64)
        self._ring: deque[np.ndarray] = deque()
        self.frames = 0  # frames consumed
        self.threads: int | None = None  # worker threads of update_batch (None = all cores)
        self.last_boxes = np.zeros((0, 4), np.float64)  # the last frame's boxes after filtering

    # -- properties -----------------------------------------------------------------------------
    image_size = property(lambda self: (self._spec.width, self._spec.height))
    grid_shape = property(lambda self: (self._spec.nv, self._spec.nh), doc="(Nv, Nh) of the result")
    spread = property(lambda self: self._spec.spread)
    window = property(lambda self: self._spec.window)
    mode = property(lambda self: self._spec.mode)
    geometry = property(lambda self: self._spec.geometry)
    anchor = property(lambda self: self._spec.anchor)

    def _apply(self, boxes: np.ndarray, sign: int):
        fn = _core().grid_apply if self.backend == "cpp" else _ref().grid_apply
        return fn(self._grid, boxes, *self._spec.args(), sign)

    def select(self, batch: Any) -> np.ndarray:
        """The (N, 4) float64 boxes of ``batch`` that pass the class/score filters."""
        boxes, scores, class_ids = as_detection_arrays(batch)
        return self._spec.select(boxes, scores, class_ids)

    def update(self, batch: Any) -> np.ndarray:
        """Count one frame; returns the current (Nv, Nh) int32 grid (a new array the caller owns)."""
        boxes = self.select(batch)
        where = f"frame {self.frames}"
        _check_finite(boxes, where)
        bad = self._apply(boxes, +1)
        if bad is not None:
            box, gh, gv = bad
            raise ValueError(f"{where}, box {box} {boxes[box].tolist()}: point cell (h={gh}, v={gv}) is outside "
                             f"the {self._spec.nh}x{self._spec.nv} grid; the AITRIOS sample raises IndexError here "
                             f"(spread <= 0 in point mode); the frame was not counted")
        w = self._spec.window
        if w > 0:
            self._ring.append(boxes)
            if len(self._ring) > w:
                self._apply(self._ring.popleft(), -1)
        self.frames += 1
        self.last_boxes = boxes
        return self.result()

    def update_many(self, frames: Iterable[Any], *, threads: int | None = None) -> np.ndarray:
        """Count several frames in one C++ call; returns their (K, Nv, Nh) int32 grids (the same as
        K calls of :meth:`update`). The ring buffer carries over, so chunks of any size give the
        same answer. On a frame the AITRIOS sample crashes on, raises ValueError and counts none
        of the K frames."""
        bs = [self.select(f) for f in frames]
        s = self._spec
        if not bs:
            return np.zeros((0, s.nv, s.nh), np.int32)
        counts = np.fromiter((len(b) for b in bs), np.int64, len(bs))
        off = np.zeros(len(bs) + 1, np.int64)
        np.cumsum(counts, out=off[1:])
        boxes = np.concatenate(bs, axis=0) if int(off[-1]) else np.zeros((0, 4), np.float64)
        return self._count_packed(np.ascontiguousarray(boxes, dtype=np.float64).reshape(-1, 4), off, bs, threads)

    def update_packed(self, boxes: np.ndarray, offsets: np.ndarray, scores: np.ndarray | None = None,
                      class_ids: np.ndarray | None = None, *, threads: int | None = None
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Count frames given as packed arrays (frame t = ``boxes[offsets[t]:offsets[t+1]]``, pixels).
        Returns ``(grids (K, Nv, Nh) int32, kept boxes, kept offsets)`` after the class/score filters."""
        s = self._spec
        b = np.ascontiguousarray(np.asarray(boxes, np.float64)).reshape(-1, 4)
        off = np.ascontiguousarray(np.asarray(offsets, np.int64)).reshape(-1)
        if len(off) < 1 or off[0] != 0 or off[-1] != len(b) or np.any(np.diff(off) < 0):
            raise ValueError("offsets must start at 0, not decrease and end at the number of boxes")
        if s.classes is not None or s.min_score is not None:
            idx = np.arange(len(b))
            kept = s.select(np.column_stack([b, idx]), None if scores is None else np.asarray(scores).reshape(-1),
                            None if class_ids is None else np.asarray(class_ids).reshape(-1))
            ki = kept[:, 4].astype(np.int64)
            frame_of = np.repeat(np.arange(len(off) - 1), np.diff(off))
            counts = np.bincount(frame_of[ki], minlength=len(off) - 1)
            b = np.ascontiguousarray(b[ki])
            off = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        if len(off) == 1:
            return np.zeros((0, s.nv, s.nh), np.int32), b, off
        grids = self._count_packed(b, off, None, threads)
        return grids, b, off

    def _count_packed(self, boxes: np.ndarray, off: np.ndarray, per_frame: list[np.ndarray] | None,
                      threads: int | None) -> np.ndarray:
        s = self._spec
        k = len(off) - 1
        if boxes.size and not np.isfinite(boxes).all():
            i = int(np.flatnonzero(~np.isfinite(boxes).all(axis=1))[0])
            f = int(np.searchsorted(off, i, side="right") - 1)
            raise ValueError(f"frame {self.frames + f}, box {i - int(off[f])}: coordinates must be finite, "
                             f"got {boxes[i].tolist()}")
        w = s.window
        ring = list(self._ring) if w > 0 else []
        total_new = int(off[-1])
        if (self._grid.size and int(self._grid.max()) + total_new > _INT32_MAX) or total_new > _INT32_MAX:
            frames = per_frame if per_frame is not None else [boxes[off[t]:off[t + 1]] for t in range(k)]
            return np.stack([self.update(b) for b in frames])  # int32 could overflow: go frame by frame
        if ring:
            rb = np.concatenate(ring, axis=0).reshape(-1, 4)
            rc = np.fromiter((len(x) for x in ring), np.int64, len(ring))
            seq_boxes = np.ascontiguousarray(np.concatenate([rb, boxes], axis=0))
            seq_off = np.concatenate([[0], np.cumsum(rc), int(rc.sum()) + off[1:]]).astype(np.int64)
        else:
            seq_boxes, seq_off = boxes, off
        fn = _core().grid_counts if self.backend == "cpp" else _ref().grid_counts
        out = fn(seq_boxes, seq_off, *s.args(), w, resolve_threads(threads), initial=self._grid.astype(np.int32),
                 history=len(ring), frame_base=self.frames)
        self._grid[:] = out[-1]
        if w > 0:
            new = per_frame if per_frame is not None else [boxes[off[t]:off[t + 1]] for t in range(max(0, k - w), k)]
            ring.extend(new)
            self._ring = deque(ring[-w:])
        self.frames += k
        self.last_boxes = boxes[off[-2]:off[-1]]
        return out

    def update_batch(self, records: Sequence[Any], *, detail: bool = False) -> "GridBatch":
        """Count a batch of records (a list of :class:`~heatcore.records.Detections` or anything
        :meth:`update` takes, or a packed :class:`~heatcore.io.detections.DetectionChunk`) in one
        C++ call. Returns a :class:`GridBatch`: each frame's grid and the boxes (and points) that
        passed the filters — what the sinks write. If a frame cannot be counted (the AITRIOS
        sample's crash case), the frames before it are counted and returned with ``error`` set."""
        s = self._spec
        if hasattr(records, "offsets") and hasattr(records, "boxes"):
            boxes, off = records.boxes, records.offsets  # type: ignore[attr-defined]
            scores, cls = records.scores, records.class_ids  # type: ignore[attr-defined]
        else:
            arrs = [as_detection_arrays(r) for r in records]
            counts = np.fromiter((len(a[0]) for a in arrs), np.int64, len(arrs))
            off = np.zeros(len(arrs) + 1, np.int64)
            np.cumsum(counts, out=off[1:])
            boxes = np.concatenate([a[0] for a in arrs]) if int(off[-1]) else np.zeros((0, 4))
            need = s.classes is not None or s.min_score is not None
            scores = cls = None
            if need and int(off[-1]):
                if all(a[1] is not None for a in arrs):
                    scores = np.concatenate([a[1] for a in arrs])
                if all(a[2] is not None for a in arrs):
                    cls = np.concatenate([a[2] for a in arrs])
        try:
            grids, kb, ko = self.update_packed(boxes, off, scores, cls, threads=self.threads)
            error = None
        except ValueError as exc:
            # count frame by frame up to the bad one (the sample writes those, then stops)
            error = exc
            gl, bl = [], []
            b_all = np.ascontiguousarray(np.asarray(boxes, np.float64)).reshape(-1, 4)
            for t in range(len(off) - 1):
                a, z = int(off[t]), int(off[t + 1])
                sc = None if scores is None else np.asarray(scores)[a:z]
                cc = None if cls is None else np.asarray(cls)[a:z]
                try:
                    g, kbt, _ = self.update_packed(b_all[a:z], np.array([0, z - a]), sc, cc)
                except ValueError as exc2:
                    error = exc2
                    break
                gl.append(g[0])
                bl.append(kbt)
            grids = np.stack(gl) if gl else np.zeros((0, s.nv, s.nh), np.int32)
            kb = np.concatenate(bl) if bl else np.zeros((0, 4))
            ko = np.concatenate([[0], np.cumsum([len(b) for b in bl])]).astype(np.int64)
        pts = grid_points(kb, geometry=s.geometry, anchor=s.anchor) if s.mode == "point" else None  # type: ignore[arg-type]
        return GridBatch(grids, kb, ko, pts, error)

    def result(self) -> np.ndarray:
        """The current (Nv, Nh) int32 grid (a copy)."""
        g = self._grid
        if g.size and g.max() > _INT32_MAX:
            raise OverflowError(f"a cell count exceeds int32 ({int(g.max())}); use result64()")
        return g.astype(np.int32)

    def result64(self) -> np.ndarray:
        """The current grid as int64 (never overflows)."""
        return self._grid.copy()

    def points(self, batch: Any) -> np.ndarray:
        """The (N, 2) point (x, y in pixels) each box of ``batch`` turns into in point mode
        (aitrios geometry: the sample's truncated integers)."""
        boxes = self.select(batch)
        s = self._spec
        return grid_points(boxes, geometry=s.geometry, anchor=s.anchor)  # type: ignore[arg-type]

    def reset(self) -> None:
        self._grid[:] = 0
        self._ring.clear()
        self.frames = 0

    # -- protocol -------------------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        return self._spec.config()

    def state(self) -> dict[str, np.ndarray]:
        ring = list(self._ring)
        return {
            "config_json": np.array(json.dumps(self.config())),
            "grid": self._grid.copy(),
            "ring_boxes": np.concatenate(ring, axis=0) if ring else np.zeros((0, 4), np.float64),
            "ring_counts": np.array([len(r) for r in ring], np.int64),
            "frames": np.array(self.frames, np.int64),
        }

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> "GridCounter":
        try:
            cfg = json.loads(str(state["config_json"]))
            grid = np.asarray(state["grid"], np.int64)
            ring_boxes = np.asarray(state["ring_boxes"], np.float64).reshape(-1, 4)
            ring_counts = np.asarray(state["ring_counts"], np.int64).reshape(-1)
            frames = int(state["frames"])
        except KeyError as exc:
            raise ValueError(f"grid state lacks {exc.args[0]!r}") from None
        obj = cls(image_size=tuple(cfg["image_size"]), grid=tuple(cfg["grid"]), spread=cfg["spread"],
                  window=cfg["window"], mode=cfg["mode"], anchor=cfg["anchor"], classes=cfg["classes"],
                  min_score=cfg["min_score"], geometry=cfg["geometry"])
        if grid.shape != obj._grid.shape:
            raise ValueError(f"grid state has shape {grid.shape}, the configuration says {obj._grid.shape}")
        if ring_counts.sum() != len(ring_boxes) or (ring_counts < 0).any():
            raise ValueError("grid state: ring_counts do not add up to the ring's boxes")
        if obj.window > 0 and len(ring_counts) > obj.window:
            raise ValueError(f"grid state holds {len(ring_counts)} frames in a window of {obj.window}")
        obj._grid[:] = grid
        splits = np.cumsum(ring_counts)[:-1]
        obj._ring = deque(np.split(ring_boxes, splits) if len(ring_counts) else [])
        obj.frames = frames
        return obj

    def _merge(self, other: "GridCounter") -> None:
        """Add ``other``'s counts. With a sliding window the two rings are aligned at their newest
        frames (as if both streams were watched at the same time, e.g. two cameras)."""
        self._grid += other._grid
        if self.window > 0:
            a, b = list(self._ring), list(other._ring)
            n = max(len(a), len(b))
            empty = np.zeros((0, 4), np.float64)
            a = [empty] * (n - len(a)) + a
            b = [empty] * (n - len(b)) + b
            self._ring = deque(np.concatenate([x, y], axis=0) for x, y in zip(a, b))
        self.frames += other.frames

    def __repr__(self) -> str:
        s = self._spec
        return (f"GridCounter(image_size=({s.width}, {s.height}), grid=({s.nh}, {s.nv}), spread={s.spread}, "
                f"window={s.window}, mode={s.mode!r}, geometry={s.geometry!r}, frames={self.frames})")


def _ref():
    from .reference import grid as ref

    return ref


def grid_points(boxes: Any, *, geometry: Geometry = "exact", anchor: float = 1.0) -> np.ndarray:
    """(N, 2) float64 point (x, y pixels) of each box in point mode: x = centre, y = top + anchor *
    height; the aitrios geometry truncates like the sample's ``int()``."""
    b, _, _ = as_detection_arrays(boxes)
    return _core().grid_points(b, 1, 1, 1, 1, 0, geometry, float(anchor))


def _flatten(frames: Iterable[Any]) -> tuple[list[np.ndarray], list[np.ndarray | None], list[np.ndarray | None]]:
    bs, ss, cs = [], [], []
    for f in frames:
        b, s, c = as_detection_arrays(f)
        bs.append(b)
        ss.append(s)
        cs.append(c)
    return bs, ss, cs


def grid_counts(frames: Any = None, offsets: Any = None, *, image_size: Any = (1920, 1080), grid: Any = (60, 36),
                spread: int = 1, window: int = 0, mode: Mode = "box", anchor: float = 1.0,
                classes: Iterable[int] | None = None, min_score: float | None = None,
                scores: Any = None, class_ids: Any = None, geometry: Geometry = "exact",
                threads: int | None = None, backend: str = "cpp") -> np.ndarray:
    """The grid after every frame of a whole sequence in one C++ call: (T, Nv, Nh) int32.

    Either ``frames`` is an iterable of per-frame detections (Detections, (N, 4+) arrays,
    ``xyxy`` objects, None), or ``frames`` is one (M, 4) float array of all boxes (pixels) and
    ``offsets`` the (T + 1,) int array with frame t's boxes at ``frames[offsets[t]:offsets[t+1]]``
    (then ``scores`` / ``class_ids`` (M,) feed the filters). The parameters are GridCounter's;
    the result equals calling ``GridCounter.update`` on each frame. ``threads``: worker threads
    (None/0 = all cores).
    """
    spec = _Spec(image_size, grid, spread, window, mode, anchor, geometry, classes, min_score)
    if backend not in ("cpp", "numpy"):
        raise ValueError(f"backend must be 'cpp' or 'numpy', got {backend!r}")
    if offsets is None:
        if frames is None:
            raise TypeError("grid_counts needs frames (an iterable of per-frame detections, or all boxes + offsets)")
        bs, ss, cs = _flatten(frames)
        kept = [spec.select(b, s, c) for b, s, c in zip(bs, ss, cs)]
        counts = np.array([len(k) for k in kept], np.int64)
        boxes = np.concatenate(kept, axis=0) if kept else np.zeros((0, 4), np.float64)
        off = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    else:
        try:
            boxes = np.ascontiguousarray(np.asarray(frames, dtype=np.float64))
            off = np.ascontiguousarray(np.asarray(offsets, dtype=np.int64))
        except (TypeError, ValueError) as exc:
            raise TypeError(f"boxes and offsets must be numeric arrays: {exc}") from None
        if boxes.size == 0:
            boxes = boxes.reshape(0, 4)
        if boxes.ndim != 2 or boxes.shape[1] != 4:
            raise ValueError(f"boxes must have shape (M, 4), got {boxes.shape}")
        if off.ndim != 1 or len(off) < 1 or off[0] != 0 or off[-1] != len(boxes) or np.any(np.diff(off) < 0):
            raise ValueError(f"offsets must be a (T + 1,) array starting at 0, non-decreasing, ending at the "
                             f"number of boxes ({len(boxes)}), got {off[:3].tolist()}...{off[-2:].tolist()}")
        if spec.classes is not None or spec.min_score is not None:
            sc = None if scores is None else np.asarray(scores, np.float64).reshape(-1)
            ci = None if class_ids is None else np.asarray(class_ids, np.int64).reshape(-1)
            for name, arr in (("scores", sc), ("class_ids", ci)):
                if arr is not None and len(arr) != len(boxes):
                    raise ValueError(f"{name} must have one entry per box ({len(boxes)}), got {len(arr)}")
            keep_idx = np.arange(len(boxes))
            sel = spec.select(np.column_stack([boxes, keep_idx]), sc, ci)
            kept_idx = sel[:, 4].astype(np.int64)
            frame_of = np.repeat(np.arange(len(off) - 1), np.diff(off))
            counts = np.bincount(frame_of[kept_idx], minlength=len(off) - 1)
            boxes = np.ascontiguousarray(boxes[kept_idx])
            off = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    if boxes.size and not np.isfinite(boxes).all():
        i = int(np.flatnonzero(~np.isfinite(boxes).all(axis=1))[0])
        f = int(np.searchsorted(off, i, side="right") - 1)
        raise ValueError(f"frame {f}, box {i - int(off[f])}: coordinates must be finite, got {boxes[i].tolist()}")
    fn = _core().grid_counts if backend == "cpp" else _ref().grid_counts
    return fn(boxes, off, *spec.args(), spec.window, resolve_threads(threads))
