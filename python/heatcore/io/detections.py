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
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from .. import limits
from ..records import Detections, TimeBase

__all__ = [
    "DetectionFrame",
    "AitriosCSV",
    "DetectionChunk",
    "parse_aitrios_detections",
    "read_long_csv",
    "frames_from_arrays",
    "as_detection_arrays",
]


# The one detection record lives in heatcore.records; DetectionFrame is its old name.
DetectionFrame = Detections


_EMPTY4 = np.zeros((0, 4), np.float64)


def as_detection_arrays(batch: Any) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """``(boxes (N, 4) float64 C-contiguous, scores (N,) or None, class_ids (N,) or None)`` of one
    frame given as a DetectionFrame, None, an (N, 4) / (N, 5: + score) / (N, 6: + score, class_id)
    array, or an object with an ``xyxy`` attribute (and optional ``confidence`` / ``class_id``)."""
    if batch is None:
        return _EMPTY4, None, None
    if isinstance(batch, Detections):
        return batch.xyxy, batch.scores, batch.class_ids
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


def read_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The sidecar ``<detections file>.meta.json`` that ``heatcore detect`` writes beside its
    outputs (source fps, stride, source name, wall-clock start); {} when there is none."""
    m = Path(str(path) + ".meta.json")
    if not m.is_file():
        return {}
    try:
        d = json.loads(m.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{m}: not a heatcore metadata file ({exc})") from None
    if not isinstance(d, dict):
        raise ValueError(f"{m}: not a heatcore metadata file (expected a JSON object)")
    return d


def write_meta(path: str | os.PathLike[str], meta: dict[str, Any]) -> Path:
    """Write the sidecar ``<path>.meta.json`` atomically."""
    m = Path(str(path) + ".meta.json")
    tmp = m.with_name(m.name + ".tmp")
    tmp.write_text(json.dumps(meta, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, m)
    return m


def _time_base(path: Path, fps: float | None, meta: dict[str, Any]) -> TimeBase:
    if fps is None:
        fps = meta.get("fps")
    return TimeBase(fps=None if fps is None else float(fps), start=meta.get("start"),
                    source=str(meta.get("source") or path.stem))


class AitriosCSV:
    """Stream the AITRIOS sample's detection CSV as :class:`~heatcore.records.Detections`.

    The first line is a header; each following row is ``<frame number>,"<detection dict>"`` (the
    dict is JSON or Python-literal text, see :func:`parse_aitrios_detections`). The row's own
    number is the frame index in the video (the sample's files number rows 0, 1, ...; ``heatcore
    detect --stride 5`` writes 0, 5, 10, ...); with ``frame_numbers="rows"`` rows are numbered
    0, 1, ... whatever the file says, as the sample does. Numbers must increase. Boxes keep the
    file's order (the sample's JSON lists them reversed; the writer does that when asked).

    ``fps``: frames per second of the source (default: the sidecar ``.meta.json`` written by
    ``heatcore detect``, else unknown: records then have ``time=None``).
    ``on_error="raise"`` (default) stops at the first malformed row with a ValueError naming the row
    and line; ``"skip"`` drops it and records ``(row, line, message)`` in :attr:`skipped`.
    ``video``: a video file or image folder paired by frame index (streamed); frames without a
    picture get ``image=None``, pictures beyond the CSV are ignored.
    """

    def __init__(self, path: str | os.PathLike[str], *, on_error: str = "raise",
                 video: str | os.PathLike[str] | None = None, fps: float | None = None,
                 frame_numbers: str = "file") -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"no such detection CSV: {self.path}")
        if on_error not in ("raise", "skip"):
            raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
        if frame_numbers not in ("file", "rows"):
            raise ValueError(f"frame_numbers must be 'file' or 'rows', got {frame_numbers!r}")
        self.on_error = on_error
        self.frame_numbers = frame_numbers
        self.video = None if video in (None, "") else Path(video)  # type: ignore[arg-type]
        if self.video is not None and not self.video.exists():
            raise FileNotFoundError(f"no such video: {self.video}")
        self.meta = read_meta(self.path)
        self.time_base = _time_base(self.path, fps, self.meta)
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

    def _frame_number(self, text: bytes, row: int, line: int, prev: int, seq: int) -> int:
        """The row's own frame number (first field), checked to increase; ``seq`` in "rows" mode."""
        if self.frame_numbers == "rows":
            return seq
        cut = text.find(b",")
        field0 = (text if cut < 0 else text[:cut]).strip().strip(b'"')
        try:
            n = int(field0)
        except ValueError:
            raise _RowError(f"the frame number must be an integer, got {field0[:40].decode(errors='replace')!r} "
                            "(--frame-numbers rows / frame_numbers='rows' numbers rows 0, 1, ... instead)") from None
        if n <= prev:
            raise _RowError(f"frame number {n} does not increase (previous {prev}); sort the file, or number rows "
                            "0, 1, ... with --frame-numbers rows (frame_numbers='rows')")
        try:
            limits.check_frame_index(n, "frame number")
            limits.check_frame_gap(None if prev < 0 else prev, n, "frame number")
        except ValueError as exc:
            raise _RowError(str(exc)) from None
        return n

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
        prev = -1
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
                rb, re_ = r["row_begin"], r["row_end"]
                nums = None
                if fast.all():
                    lines = line + np.cumsum(1 + r["row_lines"])
                    if self.frame_numbers == "rows":
                        nums = np.arange(frame, frame + n, dtype=np.int64)
                    else:
                        numl = []
                        p0 = prev
                        try:
                            for i in range(n):
                                p0 = self._frame_number(buf[int(rb[i]):int(re_[i])], row + i, int(lines[i]), p0, 0)
                                numl.append(p0)
                            nums = np.array(numl, np.int64)
                            prev = p0
                        except _RowError:
                            nums = None  # the general path below names (or skips) the bad row
                if nums is not None:
                    line = int(lines[-1])
                    chunk = DetectionChunk(boxes=r["boxes"], scores=r["scores"], class_ids=r["class_ids"],
                                           offsets=r["box_offsets"], frame_numbers=nums, fps=self.time_base.fps)
                    row += n
                else:
                    pieces: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
                    numl = []
                    bo = r["box_offsets"]
                    for i in range(n):
                        first_line = line + 1
                        line += 1 + int(r["row_lines"][i])
                        if fast[i]:
                            a, z = int(bo[i]), int(bo[i + 1])
                            try:
                                prev = self._frame_number(buf[int(rb[i]):int(re_[i])], row, line, prev,
                                                          frame + len(pieces))
                            except _RowError as exc:
                                msg = f"{self.path.name}: row {row} (line {line}): {exc}"
                                if self.on_error == "raise":
                                    raise ValueError(msg) from None
                                self.skipped.append((row, line, str(exc)))
                                row += 1
                                continue
                            numl.append(prev)
                            pieces.append((r["boxes"][a:z], r["scores"][a:z], r["class_ids"][a:z]))
                            row += 1
                            continue
                        text = buf[int(r["row_begin"][i]):int(r["row_end"][i])]
                        err: str | None = None
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
                                piece = self._parse_cell_fields(fields)
                                where = line if len(sub_rows) == 1 else first_line + k
                                num = self._frame_number(fields[0].encode(), row, where, prev, frame + len(pieces))
                                pieces.append(piece)
                                numl.append(num)
                                prev = num
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
                        boxes=np.ascontiguousarray(np.concatenate([p[0] for p in pieces]).reshape(-1, 4)),
                        scores=np.concatenate([p[1] for p in pieces]).astype(np.float32),
                        class_ids=np.concatenate([p[2] for p in pieces]).astype(np.int64),
                        offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
                        frame_numbers=np.array(numl, np.int64), fps=self.time_base.fps)
                buf = buf[r["consumed"]:]
                self.rows = row
                frame += len(chunk)
                yield chunk

    def __iter__(self) -> Iterator[Detections]:
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
                                next_image = next(images)  # type: ignore[arg-type]
                            except StopIteration:
                                images_done = True
                                break
                        if next_image[0] < f.frame:
                            next_image = None
                            continue
                        if next_image[0] == f.frame:
                            image = next_image[1]
                            next_image = None
                        break
                    f.image = image
                    yield f
        finally:
            if images is not None:
                images.close()  # type: ignore[attr-defined]


@dataclass
class DetectionChunk:
    """Consecutive records packed as arrays: record ``t`` holds ``boxes[offsets[t]:offsets[t+1]]``
    (pixels), with ``scores`` and ``class_ids`` per box; ``frame_numbers[t]`` is its frame index
    and ``fps`` (None = unknown) turns it into seconds."""

    boxes: np.ndarray
    scores: np.ndarray
    class_ids: np.ndarray
    offsets: np.ndarray
    frame_numbers: np.ndarray
    fps: float | None = None

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def _time(self, t: int) -> float | None:
        return None if self.fps is None else float(self.frame_numbers[t]) / self.fps

    def tail(self, skip: int) -> "DetectionChunk":
        """The records after the first ``skip``."""
        a = int(self.offsets[skip])
        return DetectionChunk(self.boxes[a:], self.scores[a:], self.class_ids[a:], self.offsets[skip:] - a,
                              self.frame_numbers[skip:], self.fps)

    def __iter__(self) -> Iterator[Detections]:
        return self.frames()

    def frames(self) -> Iterator[Detections]:
        off = self.offsets.tolist()
        for t in range(len(off) - 1):
            a, z = off[t], off[t + 1]
            yield Detections(self.boxes[a:z], self.scores[a:z], self.class_ids[a:z], frame=int(self.frame_numbers[t]),
                             time=self._time(t))


# ---------------------------------------------------------------------------------------------
# Plain long CSVs (one box per line): frame,left,top,right,bottom[,score,class_id], and the
# detections CSV that `heatcore detect` writes: frame,time_s,track,left,top,right,bottom,score,class_id
# ---------------------------------------------------------------------------------------------

DETECTIONS_HEADER = ["frame", "time_s", "track", "left", "top", "right", "bottom", "score", "class_id"]


def detections_csv_rows(d: Detections) -> list[list[Any]]:
    """The rows of one record in the detections CSV of ``heatcore detect``
    (``frame,time_s,track,left,top,right,bottom,score,class_id``; pixels; track -1 = none)."""
    t = "" if d.time is None else f"{d.time:.6f}"
    tr = d.track_ids if d.track_ids is not None else np.full(len(d), -1)
    return [[d.frame, t, k, *(f"{v:.2f}" for v in b), f"{s:.6g}", c]
            for b, s, c, k in zip(d.xyxy.tolist(), np.asarray(d.scores).tolist(), np.asarray(d.class_ids).tolist(),
                                  tr.tolist())]


def aitrios_csv_row(d: Detections) -> list[Any]:
    """One record as a row of the AITRIOS sample's CSV: its frame index and the quoted JSON dict
    (integer pixel boxes)."""
    objs = [{"class_id": int(c),
             "bounding_box": {"left": int(round(b[0])), "top": int(round(b[1])), "right": int(round(b[2])),
                              "bottom": int(round(b[3]))},
             "score": float(s)}
            for b, s, c in zip(d.xyxy.tolist(), np.asarray(d.scores).tolist(), np.asarray(d.class_ids).tolist())]
    return [d.frame, json.dumps({"perception": {"object_detection_list": objs}})]


def read_long_csv(path: str | os.PathLike[str], *, fill_gaps: bool = True, fps: float | None = None,
                  max_frame_gap: int | None = None) -> Iterator[Detections]:
    """Stream a long CSV with one box per line: ``frame,left,top,right,bottom[,score,class_id]``
    or the detections CSV of ``heatcore detect`` (header ``frame,time_s,track,left,top,right,
    bottom,score,class_id``: times and track ids are kept).

    A header line (any non-numeric first field) is skipped. Frame numbers must not decrease (sort
    the file first otherwise). ``fill_gaps``: frames missing between two listed frames become
    empty records (so windows count real frames); with the detections CSV of ``heatcore detect``
    the gaps follow its stride (from the sidecar ``.meta.json``). ``fps``: turns frame numbers
    into seconds when the file has no time column (default: the sidecar, else unknown). Frame
    numbers above ``heatcore.limits.MAX_FRAME_INDEX`` or jumps of more than ``max_frame_gap``
    frames (None: ``heatcore.limits.DEFAULT_MAX_FRAME_GAP``) are refused. Raises ValueError naming
    the bad line.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such detection CSV: {p}")
    meta = read_meta(p)
    tb = _time_base(p, fps, meta)
    step = int(meta.get("stride") or 1)
    first_frame = int(meta.get("start_frame") or 0)
    cur: int | None = None
    cur_time: float | None = None
    rows: list[list[float]] = []
    heatcore_format = False
    ncols: int | None = None

    def time_of(idx: int) -> float | None:
        return tb.seconds(idx) if tb.known else None

    def emit(idx: int, rows: list[list[float]]) -> Detections:
        if heatcore_format:
            a = np.asarray(rows, np.float64).reshape(-1, 7)
            tr = a[:, 0].astype(np.int64)
            return Detections(a[:, 1:5], a[:, 5], a[:, 6].astype(np.int64), None if np.all(tr < 0) else tr,
                              frame=idx, time=cur_time, wall=tb.wall(idx) if tb.known else None)
        a = np.asarray(rows, np.float64).reshape(-1, (ncols or 5) - 1)
        scores = a[:, 4] if a.shape[1] >= 5 else None
        cls = a[:, 5].astype(np.int64) if a.shape[1] >= 6 else None
        return Detections(a[:, :4], scores, cls, frame=idx, time=time_of(idx))

    def empty(idx: int) -> Detections:
        return Detections(frame=idx, time=time_of(idx) if not heatcore_format or tb.known else None)

    def gaps(a: int, b: int) -> Iterator[Detections]:
        if fill_gaps:
            g = a
            while g < b:
                yield empty(g)
                g += step if heatcore_format else 1

    with open(p, newline="", encoding="utf-8") as fh:
        for lineno, fields in enumerate(csv.reader(fh), start=1):
            if not fields or all(not f.strip() for f in fields):
                continue
            if lineno == 1:
                if [f.strip() for f in fields] == DETECTIONS_HEADER:
                    heatcore_format = True
                    continue
                try:
                    float(fields[0])
                except ValueError:
                    continue  # header
            want = (9,) if heatcore_format else (5, 6, 7)
            if len(fields) not in want:
                what = ",".join(DETECTIONS_HEADER) if heatcore_format else "frame,left,top,right,bottom[,score,class_id]"
                raise ValueError(f"{p.name}: line {lineno}: expected {what} ({' or '.join(map(str, want))} fields), "
                                 f"got {len(fields)}")
            if ncols is None:
                ncols = len(fields)
            elif len(fields) != ncols:
                raise ValueError(f"{p.name}: line {lineno}: {len(fields)} fields, earlier lines have {ncols}")
            no_time = heatcore_format and not fields[1].strip()  # detect leaves time_s empty without an fps
            try:
                frame_f = float(fields[0])
                vals = [float(f) for f in (fields[2:] if no_time else fields[1:])]
            except ValueError:
                raise ValueError(f"{p.name}: line {lineno}: non-numeric field in {fields!r}") from None
            if not frame_f.is_integer() or frame_f < 0:
                raise ValueError(f"{p.name}: line {lineno}: frame must be an integer >= 0, got {fields[0]!r}")
            if not all(np.isfinite(vals)):
                raise ValueError(f"{p.name}: line {lineno}: values must be finite, got {fields!r}")
            shift = 1 if no_time else 0  # vals lacks the time column then
            cls_col = (7 if heatcore_format else 5) - shift
            score_col = (6 if heatcore_format else 4) - shift
            if len(vals) > cls_col and not float(vals[cls_col]).is_integer():
                raise ValueError(f"{p.name}: line {lineno}: class_id must be an integer, got {fields[cls_col + 1 + shift]!r}")
            if len(vals) > score_col and abs(vals[score_col]) > 3.4e38:  # scores are float32 in files
                raise ValueError(f"{p.name}: line {lineno}: score {fields[score_col + 1 + shift]!r} is out of range")
            if len(vals) > cls_col and abs(vals[cls_col]) >= 2.0**63:
                raise ValueError(f"{p.name}: line {lineno}: class_id {fields[cls_col + 1 + shift]!r} is out of range")
            f = limits.check_frame_index(frame_f, f"{p.name}: line {lineno}: frame", fields[0])
            limits.check_frame_gap(cur, f, f"{p.name}: line {lineno}: frame", max_frame_gap)
            if cur is None:
                yield from gaps(first_frame if heatcore_format else 0, f)
                cur = f
            elif f < cur:
                raise ValueError(f"{p.name}: line {lineno}: frame {f} comes after frame {cur}; sort the file by frame")
            elif f > cur:
                yield emit(cur, rows)
                rows = []
                yield from gaps(cur + (step if heatcore_format else 1), f)
                cur = f
            if heatcore_format:
                if no_time:
                    cur_time = time_of(f) if tb.known else None
                    rows.append(vals)
                else:
                    cur_time = vals[0]
                    rows.append(vals[1:])
            else:
                rows.append(vals)
    if cur is not None:
        yield emit(cur, rows)


def frames_from_arrays(boxes: Any, *, offsets: Any = None, frame: Any = None, scores: Any = None,
                       class_ids: Any = None, fps: float | None = None,
                       max_frame_gap: int | None = None) -> Iterator[Detections]:
    """Records from NumPy arrays: ``boxes`` (M, 4) pixels and either ``offsets`` (T + 1,)
    (frame t = rows offsets[t]:offsets[t+1]) or ``frame`` (M,) non-decreasing frame numbers
    (frames without boxes in between become empty records; limited as in :func:`read_long_csv`,
    see :mod:`heatcore.limits`)."""
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
    tb = TimeBase(fps=fps)
    for t in range(len(off) - 1):
        a, z = int(off[t]), int(off[t + 1])
        yield Detections(b[a:z], s[a:z], c[a:z], frame=t, time=tb.seconds(t) if tb.known else None)


def read_npz(path: str | os.PathLike[str], *, fps: float | None = None,
             max_frame_gap: int | None = None) -> tuple[Iterator[Detections], int]:
    """Records from an ``.npz`` with ``boxes`` (M, 4) and ``offsets`` (T + 1,) or ``frame`` (M,)
    [+ ``scores``, ``class_ids``]; returns ``(records, count)``."""
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            limits.check_npz(fh, str(p))  # a zip bomb is refused before anything is unpacked
            fh.seek(0)
            with np.load(fh, allow_pickle=False) as d:
                if "boxes" not in d.files:
                    raise ValueError(f"{p}: an .npz of detections needs 'boxes' (M, 4) and 'offsets' or 'frame'")
                arrays = {k: d[k] for k in d.files}
    except (OSError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise ValueError(f"{p}: not a readable .npz archive ({limits.clip(str(exc), 200)})") from None
    kw = {k: arrays[k] for k in ("offsets", "frame", "scores", "class_ids") if k in arrays}
    if "frame" in arrays:  # before anything is sized from them
        limits.check_frame_numbers(arrays["frame"], f"{p.name}: frame", max_frame_gap)
    if "offsets" in arrays:
        total = len(arrays["offsets"]) - 1
    elif "frame" in arrays and len(arrays["frame"]):
        total = int(np.max(arrays["frame"])) + 1
    else:
        total = 0
    return frames_from_arrays(arrays["boxes"], fps=fps, max_frame_gap=max_frame_gap, **kw), total


def sniff_format(path: str | os.PathLike[str]) -> str:
    """``"npz"``, ``"aitrios"`` (the sample's CSV: header ``0,...,9`` and a dict per row) or
    ``"long"`` (one box per line, including the detections CSV of ``heatcore detect``)."""
    p = Path(path)
    if p.suffix.lower() == ".npz":
        return "npz"
    with open(p, encoding="utf-8", errors="replace") as fh:
        fh.readline()
        second = fh.readline()
    return "aitrios" if "{" in second else "long"


def open_detections(path: str | os.PathLike[str], *, fmt: str = "auto", fps: float | None = None,
                    video: str | os.PathLike[str] | None = None, on_error: str = "raise",
                    frame_numbers: str = "file", max_frame_gap: int | None = None
                    ) -> tuple[Iterable[Detections], int | None, TimeBase]:
    """Open any detections file: ``(records, count or None, time base)``. ``fmt``: ``"auto"``,
    ``"aitrios"``, ``"long"`` or ``"npz"``."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such detections file: {p}")
    f = sniff_format(p) if fmt == "auto" else fmt
    if f not in ("aitrios", "long", "npz"):
        raise ValueError(f"format must be auto, aitrios, long or npz, got {fmt!r}")
    if video is not None and f != "aitrios":
        raise ValueError("--video pairs pictures with the AITRIOS sample's CSV only")
    if f == "aitrios":
        r = AitriosCSV(p, on_error=on_error, video=video, fps=fps, frame_numbers=frame_numbers)
        return r, r.count_rows(), r.time_base
    if f == "npz":
        it, n = read_npz(p, fps=fps, max_frame_gap=max_frame_gap)
        return it, n, TimeBase(fps=fps, source=p.stem)
    meta = read_meta(p)
    return read_long_csv(p, fps=fps, max_frame_gap=max_frame_gap), None, _time_base(p, fps, meta)
