"""The records that flow through a pipeline, and their time base.

Every record knows where and when it comes from (see DESIGN.md, "Records carry their time"):

* :class:`Frame` — one decoded video frame: source id, frame index in the source, seconds from
  the source start, wall-clock time when known, and the pixels.
* :class:`Detections` — the one detection type: boxes ``xyxy`` (N, 4) in image pixels, scores
  (probabilities 0..1), class ids, track ids (or None), plus the same frame index / time /
  wall-clock / source fields. Readers, detectors, the grid counter and the floor plan all use it.
* :class:`TimeBase` — how a source's frame indices map to seconds and wall-clock time. Nothing
  guesses a frame rate: where the time cannot be known, :meth:`TimeBase.seconds` raises an error
  that asks for it.

:func:`as_detections` turns anything detection-like into :class:`Detections`: arrays
``(N, 4|5|6)`` (``l, t, r, b[, score[, class_id]]``), supervision ``Detections`` (``xyxy``,
``confidence``, ``class_id``, ``tracker_id``), ultralytics ``Results`` (``boxes.xyxy``,
``boxes.conf``, ``boxes.cls``, ``boxes.id``), dicts with those keys, or None (no detections).
Duck typing only: heatcore depends on neither package.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Sequence

import numpy as np

__all__ = ["Detections", "Frame", "TimeBase", "as_detections", "box_anchors", "parse_anchor"]

_EMPTY4 = np.zeros((0, 4), np.float64)


@dataclass(frozen=True)
class TimeBase:
    """Maps a source's frame indices to time.

    ``fps``: frames per second of the source (None = unknown); ``start``: wall-clock time of
    frame 0 as Unix seconds (None = unknown); ``source``: the source (camera) id.
    """

    fps: float | None = None
    start: float | None = None
    source: str = ""

    def __post_init__(self) -> None:
        if self.fps is not None and not (math.isfinite(self.fps) and self.fps > 0):
            raise ValueError(f"fps must be a finite number > 0 (frames per second), got {self.fps!r}")
        if self.start is not None and not math.isfinite(self.start):
            raise ValueError(f"start time must be finite Unix seconds, got {self.start!r}")

    @property
    def known(self) -> bool:
        """True when frame indices can be turned into seconds."""
        return self.fps is not None

    def seconds(self, index: int) -> float:
        """Seconds from the source start of frame ``index``; raises when the fps is unknown."""
        if self.fps is None:
            raise ValueError(f"the frame rate of {self.source or 'the source'} is unknown, so frame {index} has no "
                             "time: give it (--fps N on the command line, fps= in Python)")
        return index / self.fps

    def wall(self, index: int) -> float | None:
        """Wall-clock Unix seconds of frame ``index``, or None when the start or fps is unknown."""
        if self.start is None or self.fps is None:
            return None
        return self.start + index / self.fps

    def to_json(self) -> dict[str, Any]:
        return {"fps": self.fps, "start": self.start, "source": self.source}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "TimeBase":
        return cls(fps=d.get("fps"), start=d.get("start"), source=str(d.get("source") or ""))


@dataclass(eq=False)
class Frame:
    """One video frame: ``image`` is BGR uint8 (H, W, 3) or gray (H, W); ``index`` its frame
    number in the source (0-based), ``time`` seconds from the source start (None = unknown),
    ``wall`` wall-clock Unix seconds (None = unknown)."""

    index: int
    image: np.ndarray
    time: float | None = None
    wall: float | None = None
    source: str = ""


def _vec(a: Any, n: int, dtype: Any, name: str, default: Any) -> np.ndarray:
    if a is None:
        return np.full(n, default, dtype)
    v = np.asarray(a)
    if v.size == 0 and n == 0:
        return np.zeros(0, dtype)
    v = v.reshape(-1)
    if len(v) != n:
        raise ValueError(f"{name} needs one entry per box ({n}), got {len(v)}")
    return np.ascontiguousarray(v.astype(dtype, copy=False))


@dataclass(eq=False)
class Detections:
    """One frame's detections (the one detection record of heatcore).

    Boxes ``xyxy`` (N, 4) float64 ``left, top, right, bottom`` in image pixels; ``scores`` (N,)
    float64 probabilities; ``class_ids`` (N,) int64; ``track_ids`` (N,) int64 or None (untracked;
    -1 = no track). ``frame``: frame index in the source; ``time``: seconds from the source start
    (None = unknown); ``wall``: wall-clock Unix seconds (None = unknown); ``source``: camera id;
    ``timestamp``: the device's own time stamp text (AITRIOS ``T``, ``yyyyMMddHHmmssfff``) if any;
    ``image``: the frame's pixels when paired with a video (BGR uint8), else None.
    """

    xyxy: np.ndarray = field(default_factory=lambda: _EMPTY4.copy())
    scores: np.ndarray | None = None
    class_ids: np.ndarray | None = None
    track_ids: np.ndarray | None = None
    frame: int = 0
    time: float | None = None
    wall: float | None = None
    source: str = ""
    timestamp: str | None = None
    image: np.ndarray | None = None

    def __post_init__(self) -> None:
        b = np.asarray(self.xyxy, np.float64)
        if b.size == 0:
            b = b.reshape(0, 4)
        if b.ndim != 2 or b.shape[1] != 4:
            raise ValueError(f"xyxy must have shape (N, 4) (left, top, right, bottom pixels), got {b.shape}")
        self.xyxy = np.ascontiguousarray(b)
        n = len(b)
        self.scores = _vec(self.scores, n, np.float64, "scores", 1.0)
        self.class_ids = _vec(self.class_ids, n, np.int64, "class_ids", 0)
        if self.track_ids is not None:
            self.track_ids = _vec(self.track_ids, n, np.int64, "track_ids", -1)
        if isinstance(self.frame, bool) or not isinstance(self.frame, (int, np.integer)) or self.frame < 0:
            raise ValueError(f"frame must be a frame index >= 0, got {self.frame!r}")
        self.frame = int(self.frame)

    def __len__(self) -> int:
        return int(self.xyxy.shape[0])

    @classmethod
    def empty(cls, **meta: Any) -> "Detections":
        return cls(**meta)

    @property
    def tracked(self) -> bool:
        """True when every box carries a track id (>= 0)."""
        return self.track_ids is not None and bool(np.all(self.track_ids >= 0))

    def select(self, keep: Any) -> "Detections":
        """The boxes picked by a boolean mask or index array (frame metadata kept)."""
        k = np.asarray(keep)
        return replace(self, xyxy=self.xyxy[k], scores=self.scores[k] if self.scores is not None else None,
                       class_ids=self.class_ids[k] if self.class_ids is not None else None,
                       track_ids=None if self.track_ids is None else self.track_ids[k])

    def anchors(self, anchor: str | Sequence[float] = "bottom") -> np.ndarray:
        """(N, 2) image points of the boxes (``"bottom"`` = feet, see :func:`box_anchors`)."""
        return box_anchors(self.xyxy, anchor)


def parse_anchor(anchor: str | Sequence[float]) -> tuple[float, float]:
    """``"bottom"`` (feet, default) | ``"center"`` | ``"top"`` | ``(fx, fy)`` fractions of the box
    width and height (0, 0 = top-left; 0.5, 1 = bottom centre)."""
    named = {"bottom": (0.5, 1.0), "center": (0.5, 0.5), "centre": (0.5, 0.5), "top": (0.5, 0.0)}
    if isinstance(anchor, str):
        if anchor.lower() in named:
            return named[anchor.lower()]
        parts: Sequence[Any] = anchor.split(",")
    else:
        parts = anchor
    try:
        fx, fy = (float(v) for v in parts)
    except (TypeError, ValueError):
        raise ValueError(f"anchor must be bottom, center, top or 'fx,fy' fractions, got {anchor!r}") from None
    if not (0 <= fx <= 1 and 0 <= fy <= 1):
        raise ValueError(f"anchor fractions must be in [0, 1], got {anchor!r}")
    return fx, fy


def box_anchors(xyxy: np.ndarray, anchor: str | Sequence[float] = "bottom") -> np.ndarray:
    """(N, 2) points ``left + fx * width, top + fy * height`` of (N, 4) boxes (pixels)."""
    fx, fy = parse_anchor(anchor)
    b = np.asarray(xyxy, np.float64).reshape(-1, 4)
    return np.stack([b[:, 0] + fx * (b[:, 2] - b[:, 0]), b[:, 1] + fy * (b[:, 3] - b[:, 1])], axis=1)


def _numpy(x: Any) -> Any:
    """A NumPy array from arrays, lists or tensors (``.cpu().numpy()`` duck typing)."""
    if x is None:
        return None
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        x = x.detach().cpu()
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        try:
            x = x.numpy()
        except TypeError:
            pass
    return np.asarray(x)


def as_detections(obj: Any, **meta: Any) -> Detections:
    """Normalise one frame's detections to :class:`Detections` (see the module docstring).

    ``meta`` (``frame``, ``time``, ``wall``, ``source``, ``timestamp``, ``image``) sets the frame
    fields; a :class:`Detections` passed in keeps its own fields unless ``meta`` overrides them.
    """
    if isinstance(obj, Detections):
        return replace(obj, **meta) if meta else obj
    if obj is None:
        return Detections(**meta)
    if isinstance(obj, tuple) and len(obj) in (2, 3) and not np.isscalar(obj[0]):
        return Detections(_numpy(obj[0]), _numpy(obj[1]), _numpy(obj[2]) if len(obj) == 3 else None, **meta)
    if isinstance(obj, dict):
        b = obj.get("xyxy", obj.get("boxes"))
        return Detections(_EMPTY4 if b is None else _numpy(b), _numpy(obj.get("scores", obj.get("confidence"))),
                          _numpy(obj.get("class_ids", obj.get("class_id"))),
                          _numpy(obj.get("track_ids", obj.get("tracker_id"))), **meta)
    # ultralytics: a Results object (or a one-element list of them) with .boxes
    if isinstance(obj, (list, tuple)) and len(obj) == 1 and hasattr(obj[0], "boxes"):
        obj = obj[0]
    if hasattr(obj, "boxes") and hasattr(getattr(obj, "boxes"), "xyxy"):
        bx = obj.boxes
        return Detections(_numpy(bx.xyxy), _numpy(getattr(bx, "conf", None)), _numpy(getattr(bx, "cls", None)),
                          _numpy(getattr(bx, "id", None)), **meta)
    # supervision: Detections with xyxy / confidence / class_id / tracker_id
    if hasattr(obj, "xyxy") and not isinstance(obj, np.ndarray):
        try:
            b = np.asarray(_numpy(obj.xyxy), np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"xyxy must be a numeric (N, 4) array: {exc}") from None
        return Detections(b, _numpy(getattr(obj, "confidence", None)), _numpy(getattr(obj, "class_id", None)),
                          _numpy(getattr(obj, "tracker_id", None)), **meta)
    try:
        a = np.asarray(_numpy(obj), dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"detections must be Detections, an (N, 4..6) array or an object with xyxy, "
                        f"got {type(obj).__name__}: {exc}") from None
    if a.size == 0:
        return Detections(**meta)
    if a.ndim == 1 and a.shape[0] in (4, 5, 6):
        a = a.reshape(1, -1)
    if a.ndim != 2 or a.shape[1] not in (4, 5, 6):
        raise ValueError(f"detections must have shape (N, 4), (N, 5) or (N, 6) (l, t, r, b[, score, class_id]), "
                         f"got {a.shape}")
    if a.shape[1] == 6 and not np.all(np.isfinite(a[:, 5]) & (a[:, 5] == np.round(a[:, 5]))):
        raise ValueError("class ids (column 6) must be integers")
    return Detections(a[:, :4], a[:, 4] if a.shape[1] >= 5 else None,
                      a[:, 5].astype(np.int64) if a.shape[1] == 6 else None, **meta)
