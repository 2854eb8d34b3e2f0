"""Per-frame detections: the record every detection source yields (CSV, Console, detector),
and the readers that produce it.

Readers (all streamed, one frame at a time):

* :class:`AitriosCSV` — the AITRIOS sample's CSV (header line, then one row per frame: a frame
  number and the detection dict as a quoted string), optionally paired with a video by frame index.
* :func:`read_long_csv` — a plain long CSV ``frame,left,top,right,bottom[,score,class_id]``.
* :func:`frames_from_arrays` — NumPy arrays (all boxes + per-frame offsets or frame numbers).
* :func:`as_detection_arrays` — one frame from a DetectionFrame, an (N, 4..6) array or any object
  with an ``xyxy`` attribute (supervision ``Detections``; no dependency on that package).

Boxes are ``left, top, right, bottom`` in image pixels.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from .. import limits

__all__ = [
    "DetectionFrame",
    "AitriosCSV",
    "DetectionChunk",
    "parse_aitrios_detections",
    "read_long_csv",
    "frames_from_arrays",
    "as_detection_arrays",
]


@dataclass
class DetectionFrame:
    """One frame's detections.

    boxes: (N, 4) float64 ``left, top, right, bottom`` in image pixels; scores: (N,) float32;
    class_ids: (N,) int64; timestamp: ``yyyyMMddHHmmssfff`` text or None; image: BGR uint8 frame or
    None; index: frame number in the source (0-based).
    """

    index: int
    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float64))
    scores: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    class_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    timestamp: str | None = None
    image: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.boxes.shape[0])


_EMPTY4 = np.zeros((0, 4), np.float64)


def as_detection_arrays(batch: Any) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """``(boxes (N, 4) float64 C-contiguous, scores (N,) or None, class_ids (N,) or None)`` of one
    frame given as a DetectionFrame, None, an (N, 4) / (N, 5: + score) / (N, 6: + score, class_id)
    array, or an object with an ``xyxy`` attribute (and optional ``confidence`` / ``class_id``)."""
    if batch is None:
        return _EMPTY4, None, None
    if isinstance(batch, DetectionFrame):
        b = np.ascontiguousarray(np.asarray(batch.boxes, np.float64)).reshape(-1, 4)
        n = len(b)
        s = np.asarray(batch.scores).reshape(-1) if batch.scores is not None else None
        c = np.asarray(batch.class_ids).reshape(-1) if batch.class_ids is not None else None
        return b, (s if s is not None and len(s) == n else None), (c if c is not None and len(c) == n else None)
    if hasattr(batch, "xyxy") and not isinstance(batch, np.ndarray):
        try:
            b = np.ascontiguousarray(np.asarray(batch.xyxy, np.float64))
        except (TypeError, ValueError) as exc:
            raise TypeError(f"xyxy must be a numeric (N, 4) array: {exc}") from None
        if b.size == 0:
            b = b.reshape(0, 4)
        if b.ndim != 2 or b.shape[1] != 4:
            raise ValueError(f"xyxy must have shape (N, 4), got {b.shape}")
        s = getattr(batch, "confidence", None)
        c = getattr(batch, "class_id", None)
        s = None if s is None else np.asarray(s, np.float64).reshape(-1)
        c = None if c is None else np.asarray(c, np.int64).reshape(-1)
        return b, (s if s is not None and len(s) == len(b) else None), (c if c is not None and len(c) == len(b) else None)
    try:
        a = np.asarray(batch, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"detections must be a DetectionFrame, an (N, 4) array or an object with xyxy, "
                        f"got {type(batch).__name__}: {exc}") from None
    if a.size == 0:
        return _EMPTY4, None, None
    if a.ndim == 1 and a.shape[0] in (4, 5, 6):
        a = a.reshape(1, -1)
    if a.ndim != 2 or a.shape[1] not in (4, 5, 6):
        raise ValueError(f"detections must have shape (N, 4), (N, 5) or (N, 6) (l, t, r, b[, score, class_id]), got {a.shape}")
    b = np.ascontiguousarray(a[:, :4])
    s = a[:, 4] if a.shape[1] >= 5 else None
    c = a[:, 5].astype(np.int64) if a.shape[1] == 6 else None
    return b, s, c


# ---------------------------------------------------------------------------------------------
# The AITRIOS sample's CSV
# ---------------------------------------------------------------------------------------------

class _RowError(ValueError):
    pass


def _number(v: Any, what: str, integer: bool = False) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise _RowError(f"{what} must be a number, got {v!r}")
    if integer and not isinstance(v, int):
        raise _RowError(f"{what} must be an integer, got {v!r}")
    return v


_NUMBER_TYPES = {int, float}


def _extract_fast(objs: list) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Arrays from a well-formed object list in one pass; None when anything is unusual (the
    detailed checks then name the problem)."""
    try:
        rows = [(o["class_id"], b["left"], b["top"], b["right"], b["bottom"], o["score"])
                for o in objs for b in (o["bounding_box"],)]
    except (KeyError, TypeError):
        return None
    flat = [x for r in rows for x in r]
    if not set(map(type, flat)) <= _NUMBER_TYPES or not all(type(r[0]) is int for r in rows):
        return None
    try:
        a = np.array(rows, dtype=np.float64).reshape(-1, 6)
    except (OverflowError, ValueError):
        return None
    if not np.isfinite(a[:, 1:5]).all():
        return None
    return np.ascontiguousarray(a[:, 1:5]), a[:, 5].astype(np.float32), a[:, 0].astype(np.int64)


def parse_aitrios_detections(text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse one detection dict (the CSV cell): JSON, or Python-literal text (``ast.literal_eval``).

    ``{"perception": {"object_detection_list": [{"class_id": c, "bounding_box": {"left": l, "top": t,
    "right": r, "bottom": b}, "score": s}, ...]}}`` → ``(boxes (N, 4) float64, scores (N,) float32,
    class_ids (N,) int64)`` in file order. Raises ValueError naming what is wrong.
    """
    if limits.too_deep(text):  # the parsers recurse: refuse bombs first
        raise _RowError(f"the detection dict nests deeper than {limits.MAX_JSON_DEPTH} levels")
    try:
        d = json.loads(text)
    except ValueError:
        try:
            d = ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as exc:
            snippet = text if len(text) <= 60 else text[:57] + "..."
            raise _RowError(f"not a JSON or Python-literal dict ({type(exc).__name__}: {exc}): {snippet!r}") from None
    if not isinstance(d, dict):
        raise _RowError(f"expected a dict, got {type(d).__name__}")
    try:
        perception = d["perception"]
    except KeyError:
        raise _RowError("missing key 'perception'") from None
    if not isinstance(perception, dict):
        raise _RowError(f"'perception' must be a dict, got {type(perception).__name__}")
    try:
        objs = perception["object_detection_list"]
    except KeyError:
        raise _RowError("missing key 'perception.object_detection_list'") from None
    if not isinstance(objs, list):
        raise _RowError(f"'object_detection_list' must be a list, got {type(objs).__name__}")
    fast = _extract_fast(objs)
    if fast is not None:
        return fast
    n = len(objs)
    boxes = np.empty((n, 4), np.float64)
    scores = np.empty(n, np.float32)
    cls = np.empty(n, np.int64)
    for i, o in enumerate(objs):
        if not isinstance(o, dict):
            raise _RowError(f"object {i} must be a dict, got {type(o).__name__}")
        try:
            bb = o["bounding_box"]
            cls[i] = _number(o["class_id"], f"object {i} class_id", integer=True)
            scores[i] = _number(o["score"], f"object {i} score")
            if not isinstance(bb, dict):
                raise _RowError(f"object {i} bounding_box must be a dict, got {type(bb).__name__}")
            boxes[i, 0] = _number(bb["left"], f"object {i} left")
            boxes[i, 1] = _number(bb["top"], f"object {i} top")
            boxes[i, 2] = _number(bb["right"], f"object {i} right")
            boxes[i, 3] = _number(bb["bottom"], f"object {i} bottom")
        except KeyError as exc:
            raise _RowError(f"object {i} lacks key {exc.args[0]!r}") from None
        except OverflowError:
            raise _RowError(f"object {i} has a number out of range") from None
    if n and not np.isfinite(boxes).all():
        raise _RowError("box coordinates must be finite")
    return boxes, scores, cls


class AitriosCSV:
    """Stream the AITRIOS sample's detection CSV as :class:`DetectionFrame` s.

    The first line is a header; each following row is ``<frame number>,"<detection dict>"`` (the
    dict is JSON or Python-literal text, see :func:`parse_aitrios_detections`). Frames come in row
    order numbered 0, 1, ... like the sample (the row's own number is ignored). Boxes keep the
    file's order (the sample's JSON lists them reversed; the writer does that when asked).

    ``on_error="raise"`` (default) stops at the first malformed row with a ValueError naming the row
    and line; ``"skip"`` drops it and records ``(row, line, message)`` in :attr:`skipped`.
    ``video``: a video file or image folder paired by frame index (streamed); frames without a
    picture get ``image=None``, pictures beyond the CSV are ignored.
    """

    def __init__(self, path: str | os.PathLike[str], *, on_error: str = "raise",
                 video: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"no such detection CSV: {self.path}")
        if on_error not in ("raise", "skip"):
            raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
        self.on_error = on_error
        self.video = None if video in (None, "") else Path(video)
        if self.video is not None and not self.video.exists():
            raise FileNotFoundError(f"no such video: {self.video}")
        self.skipped: list[tuple[int, int, str]] = []
        self.rows = 0  # data rows read so far

    @property
    def image_name(self) -> str | None:
        """The video's base name without extension (names the overlay video), or None."""
        return None if self.video is None else self.video.stem

    def count_rows(self) -> int:
        """Number of data rows (a quick line count for progress bars; quoted newlines aside)."""
        n, last = 0, b""
        with open(self.path, "rb") as fh:
            for buf in iter(lambda: fh.read(1 << 20), b""):
                n += buf.count(b"\n")
                last = buf[-1:]
        if last and last != b"\n":
            n += 1
        return max(0, n - 1)

    def _parse_cell_fields(self, fields: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cell = next((f for f in fields[1:] if f.strip()), None)
        if cell is None:
            raise _RowError(f"no detection dict after the frame number (fields: {fields[:2]!r})")
        return parse_aitrios_detections(cell)

    def iter_chunks(self, rows: int = 4096, block: int = 1 << 22) -> Iterator["DetectionChunk"]:
        """Stream the file as :class:`DetectionChunk` s of up to ``rows`` frames (no images).

        Rows in the sample's exact layout are decoded in C++; any other row goes through the
        general parser (JSON or Python literal). Malformed rows raise or are skipped and recorded
        in :attr:`skipped` per ``on_error``.
        """
        from .. import _core

        csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # rows of thousands of boxes
        self.skipped = []
        self.rows = 0
        frame = 0
        row = 0
        line = 0
        header_done = False
        buf = b""
        eof = False
        with open(self.path, "rb") as fh:
            while True:
                if not eof:
                    data = fh.read(block)
                    if data:
                        buf += data
                    else:
                        eof = True
                if not header_done:
                    r = _core.parse_aitrios_rows(buf, eof, 1)
                    if r["rows"] == 0:
                        if eof:
                            return
                        continue
                    line += 1 + int(r["row_lines"][0])
                    buf = buf[r["consumed"]:]
                    header_done = True
                r = _core.parse_aitrios_rows(buf, eof, rows)
                n = r["rows"]
                if n == 0:
                    if eof:
                        return
                    continue
                fast = r["fast"]
                if fast.all():
                    lines = line + np.cumsum(1 + r["row_lines"])
                    line = int(lines[-1])
                    chunk = DetectionChunk(first=frame, boxes=r["boxes"], scores=r["scores"], class_ids=r["class_ids"],
                                           offsets=r["box_offsets"])
                    row += n
                else:
                    pieces: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
                    bo = r["box_offsets"]
                    for i in range(n):
                        first_line = line + 1
                        line += 1 + int(r["row_lines"][i])
                        if fast[i]:
                            a, z = int(bo[i]), int(bo[i + 1])
                            pieces.append((r["boxes"][a:z], r["scores"][a:z], r["class_ids"][a:z]))
                            row += 1
                            continue
                        text = buf[int(r["row_begin"][i]):int(r["row_end"][i])]
                        try:
                            decoded = text.decode("utf-8")
                        except UnicodeDecodeError as exc:
                            decoded = None
                            err = f"not UTF-8 text ({exc})"
                        sub_rows: list = []
                        if decoded is not None:
                            try:
                                sub_rows = [f for f in csv.reader(io.StringIO(decoded)) if f and any(x.strip() for x in f)]
                                err = None
                            except csv.Error as exc:
                                err = f"CSV error: {exc}"
                        if err is not None:
                            sub_rows = [None]
                        for k, fields in enumerate(sub_rows):
                            try:
                                if fields is None:
                                    raise _RowError(err)
                                pieces.append(self._parse_cell_fields(fields))
                            except _RowError as exc:
                                where = line if len(sub_rows) == 1 else first_line + k
                                msg = f"{self.path.name}: row {row} (line {where}): {exc}"
                                if self.on_error == "raise":
                                    raise ValueError(msg) from None
                                self.skipped.append((row, where, str(exc)))
                            row += 1
                    if not pieces:
                        buf = buf[r["consumed"]:]
                        self.rows = row
                        continue
                    counts = np.array([len(p[0]) for p in pieces], np.int64)
                    chunk = DetectionChunk(
                        first=frame,
                        boxes=np.ascontiguousarray(np.concatenate([p[0] for p in pieces]).reshape(-1, 4)),
                        scores=np.concatenate([p[1] for p in pieces]).astype(np.float32),
                        class_ids=np.concatenate([p[2] for p in pieces]).astype(np.int64),
                        offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))
                buf = buf[r["consumed"]:]
                self.rows = row
                frame += len(chunk)
                yield chunk

    def __iter__(self) -> Iterator[DetectionFrame]:
        images = None
        if self.video is not None:
            from .video import iter_frames

            images = iter_frames(self.video)
        next_image: tuple[int, np.ndarray] | None = None
        images_done = images is None
        try:
            for chunk in self.iter_chunks():
                for f in chunk.frames():
                    image = None
                    while not images_done:
                        if next_image is None:
                            try:
                                next_image = next(images)
                            except StopIteration:
                                images_done = True
                                break
                        if next_image[0] < f.index:
                            next_image = None
                            continue
                        if next_image[0] == f.index:
                            image = next_image[1]
                            next_image = None
                        break
                    f.image = image
                    yield f
        finally:
            if images is not None:
                images.close()


@dataclass
class DetectionChunk:
    """Consecutive frames packed as arrays: frame ``first + t`` holds ``boxes[offsets[t]:offsets[t+1]]``
    (pixels), with ``scores`` and ``class_ids`` per box."""

    first: int
    boxes: np.ndarray
    scores: np.ndarray
    class_ids: np.ndarray
    offsets: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def frames(self) -> Iterator[DetectionFrame]:
        off = self.offsets.tolist()
        for t in range(len(off) - 1):
            a, z = off[t], off[t + 1]
            yield DetectionFrame(index=self.first + t, boxes=self.boxes[a:z], scores=self.scores[a:z],
                                 class_ids=self.class_ids[a:z])


# ---------------------------------------------------------------------------------------------
# Plain long CSV and arrays
# ---------------------------------------------------------------------------------------------

def read_long_csv(path: str | os.PathLike[str], *, fill_gaps: bool = True,
                  max_frame_gap: int | None = None) -> Iterator[DetectionFrame]:
    """Stream a long CSV with one box per line: ``frame,left,top,right,bottom[,score,class_id]``.

    A header line (any non-numeric first field) is skipped. Frame numbers must not decrease (sort
    the file first otherwise); frames with no lines in between become empty frames when
    ``fill_gaps`` (so windows count real frames). Frame numbers above
    ``heatcore.limits.MAX_FRAME_INDEX`` or jumps of more than ``max_frame_gap`` frames (None:
    ``heatcore.limits.DEFAULT_MAX_FRAME_GAP``) are refused. Raises ValueError naming the bad line.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such detection CSV: {p}")
    cur: int | None = None
    rows: list[list[float]] = []
    ncols: int | None = None

    def emit(idx: int, rows: list[list[float]]) -> DetectionFrame:
        a = np.asarray(rows, np.float64).reshape(-1, ncols - 1 if ncols else 4)
        n = len(a)
        scores = a[:, 4].astype(np.float32) if a.shape[1] >= 5 else np.ones(n, np.float32)
        cls = a[:, 5].astype(np.int64) if a.shape[1] >= 6 else np.zeros(n, np.int64)
        return DetectionFrame(index=idx, boxes=np.ascontiguousarray(a[:, :4]), scores=scores, class_ids=cls)

    with open(p, newline="", encoding="utf-8") as fh:
        for lineno, fields in enumerate(csv.reader(fh), start=1):
            if not fields or all(not f.strip() for f in fields):
                continue
            if lineno == 1:
                try:
                    float(fields[0])
                except ValueError:
                    continue  # header
            if len(fields) not in (5, 6, 7):
                raise ValueError(f"{p.name}: line {lineno}: expected frame,left,top,right,bottom[,score,class_id] "
                                 f"(5 to 7 fields), got {len(fields)}")
            if ncols is None:
                ncols = len(fields)
            elif len(fields) != ncols:
                raise ValueError(f"{p.name}: line {lineno}: {len(fields)} fields, earlier lines have {ncols}")
            try:
                frame_f = float(fields[0])
                vals = [float(f) for f in fields[1:]]
            except ValueError:
                raise ValueError(f"{p.name}: line {lineno}: non-numeric field in {fields!r}") from None
            if not frame_f.is_integer() or frame_f < 0:
                raise ValueError(f"{p.name}: line {lineno}: frame must be an integer >= 0, got {fields[0]!r}")
            if not all(np.isfinite(vals)):
                raise ValueError(f"{p.name}: line {lineno}: values must be finite, got {fields!r}")
            if len(vals) == 6 and not float(vals[5]).is_integer():
                raise ValueError(f"{p.name}: line {lineno}: class_id must be an integer, got {fields[6]!r}")
            if len(vals) >= 5 and abs(vals[4]) > 3.4e38:  # scores are float32
                raise ValueError(f"{p.name}: line {lineno}: score {fields[5]!r} is out of range")
            if len(vals) == 6 and abs(vals[5]) >= 2.0**63:
                raise ValueError(f"{p.name}: line {lineno}: class_id {fields[6]!r} is out of range")
            f = limits.check_frame_index(frame_f, f"{p.name}: line {lineno}: frame", fields[0])
            limits.check_frame_gap(cur, f, f"{p.name}: line {lineno}: frame", max_frame_gap)
            if cur is None:
                if fill_gaps:
                    for g in range(0, f):
                        yield DetectionFrame(index=g)
                cur = f
            elif f < cur:
                raise ValueError(f"{p.name}: line {lineno}: frame {f} comes after frame {cur}; sort the file by frame")
            elif f > cur:
                yield emit(cur, rows)
                rows = []
                if fill_gaps:
                    for g in range(cur + 1, f):
                        yield DetectionFrame(index=g)
                cur = f
            rows.append(vals)
    if cur is not None:
        yield emit(cur, rows)


def frames_from_arrays(boxes: Any, *, offsets: Any = None, frame: Any = None, scores: Any = None,
                       class_ids: Any = None, max_frame_gap: int | None = None) -> Iterator[DetectionFrame]:
    """DetectionFrames from NumPy arrays: ``boxes`` (M, 4) pixels and either ``offsets`` (T + 1,)
    (frame t = rows offsets[t]:offsets[t+1]) or ``frame`` (M,) non-decreasing frame numbers
    (limited as in :func:`read_long_csv`: see :mod:`heatcore.limits`)."""
    b = np.asarray(boxes, np.float64)
    if b.size == 0:
        b = b.reshape(0, 4)
    if b.ndim != 2 or b.shape[1] != 4:
        raise ValueError(f"boxes must have shape (M, 4), got {b.shape}")
    m = len(b)
    s = np.ones(m, np.float32) if scores is None else np.asarray(scores, np.float32).reshape(-1)
    c = np.zeros(m, np.int64) if class_ids is None else np.asarray(class_ids, np.int64).reshape(-1)
    if len(s) != m or len(c) != m:
        raise ValueError(f"scores and class_ids need one entry per box ({m})")
    if (offsets is None) == (frame is None):
        raise TypeError("give exactly one of offsets= or frame=")
    if frame is not None:
        limits.check_frame_numbers(frame, "frame", max_frame_gap)  # before allocating per frame
        fr = np.asarray(frame, np.int64).reshape(-1)
        if len(fr) != m:
            raise ValueError(f"frame needs one entry per box ({m}), got {len(fr)}")
        if m and (np.any(np.diff(fr) < 0) or fr[0] < 0):
            raise ValueError("frame numbers must be >= 0 and non-decreasing")
        nframes = int(fr[-1]) + 1 if m else 0
        off = np.searchsorted(fr, np.arange(nframes + 1), side="left")
    else:
        limits.check_offsets(offsets)
        off = np.asarray(offsets, np.int64).reshape(-1)
        if len(off) < 1 or off[0] != 0 or off[-1] != m or np.any(np.diff(off) < 0):
            raise ValueError("offsets must start at 0, not decrease and end at the number of boxes")
    for t in range(len(off) - 1):
        a, z = int(off[t]), int(off[t + 1])
        yield DetectionFrame(index=t, boxes=np.ascontiguousarray(b[a:z]), scores=s[a:z], class_ids=c[a:z])
