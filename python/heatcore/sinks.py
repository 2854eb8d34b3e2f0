"""Pipeline sinks: the outputs a :class:`heatcore.pipeline.Job` writes while it runs.

Every sink writes to a temporary name (``<stem>.partial<suffix>`` for files, a hidden
``.<name>.partial/`` folder for folders) and moves it to its final name when the run ends, so a
failed run never leaves a half-written output under the real name. Streamed files keep their
byte position in checkpoints: a resumed run truncates them there and continues, so the final file
is byte-identical to an uninterrupted run. Outputs that cannot be resumed (videos, ``.npz``
kept in memory) say so (``resumable = False``) and the pipeline refuses a checkpoint with them.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from .io.detections import DETECTIONS_HEADER
from .pipeline import Sink

__all__ = ["CountSink", "PartialFile", "GridJsonSink", "GridCompactSink", "GridVideoSink", "DetectionsCSVSink",
           "AitriosCSVSink", "FinalSink", "partial_path"]


def partial_path(path: Path) -> Path:
    """``grids.jsonl`` → ``grids.partial.jsonl`` (the suffix is kept for writers that check it)."""
    return path.with_name(f"{path.stem}.partial{path.suffix}")


class PartialFile:
    """A file written under :func:`partial_path` and renamed to ``path`` by :meth:`commit`."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.tmp = partial_path(self.path)
        self.fh: Any = None

    def open(self, position: int | None) -> Any:
        """The open binary file (fresh, or truncated at ``position`` bytes to continue)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if position is None:
            fh: Any = open(self.tmp, "wb")
        else:
            if not self.tmp.exists() or self.tmp.stat().st_size < int(position):
                raise ValueError(f"cannot resume: the partial output {self.tmp} is missing or shorter than the "
                                 "checkpoint says; use --restart")
            fh = open(self.tmp, "r+b")
            fh.truncate(int(position))
            fh.seek(int(position))
        self.fh = fh
        return fh

    def position(self) -> int:
        assert self.fh is not None
        self.fh.flush()
        os.fsync(self.fh.fileno())
        return self.fh.tell()

    def commit(self) -> Path:
        if self.fh is not None:
            self.fh.close()
            self.fh = None
        os.replace(self.tmp, self.path)
        return self.path

    def abort(self) -> None:
        self.release()
        if self.tmp.exists():
            self.tmp.unlink()

    def release(self) -> None:
        if self.fh is not None:
            self.fh.close()
            self.fh = None


class _PartialDir:
    """A folder built as ``<parent>/.<name>.partial/<name>`` and moved to ``<parent>/<name>``."""

    def __init__(self, final: Path) -> None:
        self.final = final
        self.holder = final.parent / f".{final.name}.partial"
        self.tmp = self.holder / final.name

    def open(self, resume: bool) -> Path:
        if not resume and self.holder.exists():
            shutil.rmtree(self.holder)
        if resume and not self.tmp.is_dir():
            raise ValueError(f"cannot resume: the partial output {self.tmp} is missing; use --restart")
        self.tmp.mkdir(parents=True, exist_ok=True)
        return self.holder

    def commit(self) -> Path:
        if self.final.is_dir():
            shutil.rmtree(self.final)
        elif self.final.exists():
            self.final.unlink()
        os.replace(self.tmp, self.final)
        self.holder.rmdir()
        return self.final

    def abort(self) -> None:
        if self.holder.exists():
            shutil.rmtree(self.holder, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# grid outputs (the results of GridCounter.update_batch are GridBatch records)
# ---------------------------------------------------------------------------------------------

def _timestamps(batch: Sequence[Any]) -> list[str | None] | None:
    if not isinstance(batch, list):
        return None  # packed chunks from files carry no device time stamps
    ts = [getattr(r, "timestamp", None) for r in batch]
    return ts if any(t is not None for t in ts) else None


def _frames(batch: Sequence[Any]) -> np.ndarray:
    fn = getattr(batch, "frame_numbers", None)
    if fn is not None:
        return np.asarray(fn, np.int64)
    return np.array([getattr(r, "frame", i) for i, r in enumerate(batch)], np.int64)


class GridJsonSink(Sink):
    """One JSON file per frame in ``<outdir>/detect/`` (the AITRIOS sample's schema), named after
    the device time stamp or the frame index (``00000005.json``). Resumable: files are rewritten
    identically after a resume."""

    name = "per-frame JSON"

    def __init__(self, outdir: str | os.PathLike[str], *, accumulator: str = "grid", mode: str = "box",
                 reverse: bool = False) -> None:
        self.outdir = Path(outdir)
        self.acc = accumulator
        self.mode = mode
        self.reverse = bool(reverse)
        self._dir = _PartialDir(self.outdir / "detect")
        self._writer: Any = None
        self.written = 0

    def config(self) -> dict[str, Any]:
        return {"mode": self.mode, "reverse": self.reverse}

    def open(self, position: Any | None) -> None:
        from .grid_output import GridJsonWriter

        holder = self._dir.open(position is not None)
        self._writer = GridJsonWriter(holder, self.mode, reverse=self.reverse)
        self.written = int(position or 0)

    def write(self, batch: Sequence[Any], results: dict[str, Any]) -> None:
        from . import _core
        from .grid_output import frame_json

        gb = results[self.acc]
        jw = self._writer
        n = len(gb)
        frames = _frames(batch)[:n]
        ts = _timestamps(batch)
        kb, ko, pts = gb.boxes, gb.offsets, gb.points
        if ts is None:
            for i in range(0, n, 128):  # sub-chunks keep the formatted text in cache
                j = min(n, i + 128)
                text, ends = _core.format_frames_json(gb.grids[i:j], kb, ko[i:j + 1], pts, self.reverse)
                view = memoryview(text)
                pos = 0
                for t in range(i, j):
                    e = int(ends[t - i + 1])
                    jw.counter = int(frames[t])
                    if e >= 0:
                        jw.write_bytes(view[pos:e])
                        pos = e
                        continue
                    pos = -1 - e  # non-integer values: Python's number formatting
                    b = kb[ko[t]:ko[t + 1]]
                    p = None if pts is None else pts[ko[t]:ko[t + 1]]
                    if self.reverse:
                        b, p = b[::-1], (None if p is None else p[::-1])
                    jw.write_bytes(frame_json(gb.grids[t], b, mode=self.mode, points=p).encode("utf-8"))
        else:
            for t in range(n):
                b = kb[ko[t]:ko[t + 1]]
                p = None if pts is None else pts[ko[t]:ko[t + 1]]
                jw.counter = int(frames[t])
                jw.write(gb.grids[t], b, points=p, timestamp=ts[t])
        self.written += n

    def position(self) -> Any:
        self._writer.close()  # waits for pending writes
        from .grid_output import GridJsonWriter

        self._writer = GridJsonWriter(self._dir.holder, self.mode, reverse=self.reverse)
        return self.written

    def finish(self, accumulators: dict[str, Any]) -> list[Path]:
        self._writer.close()
        return [self._dir.commit()]

    def abort(self) -> None:
        self.release()
        self._dir.abort()

    def release(self) -> None:
        if self._writer is not None:
            try:
                self._writer.close()
            except OSError:
                pass


class GridCompactSink(Sink):
    """Every frame's grid in one file: ``.jsonl`` (streamed, resumable: one line per frame
    ``{"frame", "number_of_detects", "griddata"[, "timestamp"]}``) or ``.npz`` (kept in memory,
    not resumable)."""

    name = "compact grids"

    def __init__(self, path: str | os.PathLike[str], *, accumulator: str = "grid") -> None:
        self.path = Path(path)
        if self.path.suffix.lower() not in (".jsonl", ".npz"):
            raise ValueError(f"the compact grid file must end in .jsonl or .npz, got {self.path.name!r}")
        self.acc = accumulator
        self.resumable = self.path.suffix.lower() == ".jsonl"
        self._file = PartialFile(self.path)
        self._w: Any = None

    def open(self, position: Any | None) -> None:
        from .grid_output import GridCompactWriter

        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.resumable:
            w = GridCompactWriter.__new__(GridCompactWriter)
            w.path, w.kind, w.frames = self._file.tmp, ".jsonl", 0
            w._grids, w._n, w._ts = [], [], []
            w._fh = self._file.open(None if position is None else int(position))
            self._w = w
        else:
            self._w = GridCompactWriter(self._file.tmp)

    def write(self, batch: Sequence[Any], results: dict[str, Any]) -> None:
        gb = results[self.acc]
        n = len(gb)
        frames = _frames(batch)[:n]
        counts = np.diff(gb.offsets)
        ts = _timestamps(batch)
        if ts is None and n and np.all(np.diff(frames) == 1):
            self._w.frames = int(frames[0])
            self._w.write_many(gb.grids, counts)
            return
        for t in range(n):
            self._w.frames = int(frames[t])
            self._w.write(gb.grids[t], int(counts[t]), None if ts is None else ts[t])

    def position(self) -> Any:
        return self._file.position() if self.resumable else None

    def finish(self, accumulators: dict[str, Any]) -> list[Path]:
        if self.resumable:
            return [self._file.commit()]
        self._w.close()
        return [self._file.commit()]

    def abort(self) -> None:
        self._file.abort()

    def release(self) -> None:
        self._file.release()


class GridVideoSink(Sink):
    """The heatmap overlay video (see :class:`heatcore.grid_output.GridVideoWriter`); frames are
    the records' pictures when they have one. Not resumable."""

    name = "overlay video"
    resumable = False

    def __init__(self, outdir: str | os.PathLike[str], *, accumulator: str = "grid", **video: Any) -> None:
        self.outdir = Path(outdir)
        self.acc = accumulator
        self.video = video
        name = video.get("name")
        self._dir = _PartialDir(self.outdir / "video")
        self.file = f"{name}_heatmap.mp4" if isinstance(name, str) and name else "heatmap.mp4"
        self._w: Any = None

    def open(self, position: Any | None) -> None:
        from .grid_output import GridVideoWriter

        holder = self._dir.open(False)
        self._w = GridVideoWriter(holder, **self.video)

    def write(self, batch: Sequence[Any], results: dict[str, Any]) -> None:
        gb = results[self.acc]
        counts = np.diff(gb.offsets)
        images = [getattr(r, "image", None) for r in batch] if isinstance(batch, list) else [None] * len(gb)
        for t in range(len(gb)):
            self._w.write(gb.grids[t], int(counts[t]), images[t])

    def finish(self, accumulators: dict[str, Any]) -> list[Path]:
        self._w.close()
        final = self.outdir / "video"
        final.mkdir(parents=True, exist_ok=True)
        out = final / self.file
        os.replace(self._dir.tmp / self.file, out)
        self._dir.abort()
        return [out]

    def abort(self) -> None:
        if self._w is not None:
            try:
                self._w.close()
            except (OSError, ValueError, RuntimeError):
                pass
        self._dir.abort()


# ---------------------------------------------------------------------------------------------
# detection files
# ---------------------------------------------------------------------------------------------


class _CSVSink(Sink):
    """A streamed CSV file (byte positions for resumes) plus its sidecar ``.meta.json``."""

    header: list[str] = []
    lineterminator = "\r\n"

    def __init__(self, path: str | os.PathLike[str], *, meta: dict[str, Any] | None = None) -> None:
        self.path = Path(path)
        self.meta = dict(meta or {})
        self._file = PartialFile(self.path)

    def open(self, position: Any | None) -> None:
        fh = self._file.open(None if position is None else int(position))
        self._text = io.TextIOWrapper(fh, encoding="utf-8", newline="", write_through=True)
        self._w = csv.writer(self._text, lineterminator=self.lineterminator)
        if position is None:
            self._w.writerow(self.header)

    def position(self) -> Any:
        self._text.flush()
        return self._file.position()

    def finish(self, accumulators: dict[str, Any]) -> list[Path]:
        from .io.detections import write_meta

        self._text.flush()
        self._text.detach()
        out = self._file.commit()
        return [out, write_meta(out, self.meta)]

    def abort(self) -> None:
        self._file.abort()

    def release(self) -> None:
        self._file.release()


class DetectionsCSVSink(_CSVSink):
    """``frame,time_s,track,left,top,right,bottom,score,class_id`` (one line per box; image
    pixels; track -1 = none), with the sidecar ``.meta.json`` (source, fps, stride) that readers
    use to know the time of frames without boxes."""

    name = "detections CSV"
    header = DETECTIONS_HEADER
    lineterminator = "\r\n"

    def write(self, batch: Sequence[Any], results: dict[str, Any]) -> None:
        from .io.detections import detections_csv_rows

        for d in batch:
            self._w.writerows(detections_csv_rows(d))


class AitriosCSVSink(_CSVSink):
    """The AITRIOS sample's CSV (header ``0,...,9``; one row per processed frame: its frame
    index and a quoted JSON dict; CRLF), which ``heatcore grid`` reads; plus the sidecar
    ``.meta.json``."""

    name = "AITRIOS CSV"
    header = [str(i) for i in range(10)]

    def write(self, batch: Sequence[Any], results: dict[str, Any]) -> None:
        from .io.detections import aitrios_csv_row

        for d in batch:
            self._w.writerow(aitrios_csv_row(d))


class FinalSink(Sink):
    """Writes outputs from the final accumulators when the run ends: ``write(path, accumulators)``
    is called with a temporary path (same suffix) that is then renamed to ``path``."""

    def __init__(self, path: str | os.PathLike[str], write: Callable[[Path, dict[str, Any]], Any], *,
                 name: str = "output") -> None:
        self.path = Path(path)
        self.fn = write
        self.name = name

    def finish(self, accumulators: dict[str, Any]) -> list[Path]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.stem}.partial{self.path.suffix}")
        try:
            self.fn(tmp, accumulators)
            os.replace(tmp, self.path)
        finally:
            if tmp.exists():
                tmp.unlink()
        return [self.path]


class CountSink(Sink):
    """Counts records and boxes (for summaries); writes nothing, resumes exactly."""

    name = "counter"

    def __init__(self) -> None:
        self.records = 0
        self.boxes = 0

    def open(self, position: Any | None) -> None:
        self.records, self.boxes = (0, 0) if position is None else (int(position[0]), int(position[1]))

    def write(self, batch: Sequence[Any], results: dict[str, Any]) -> None:
        self.records += len(batch)
        self.boxes += sum(len(d) for d in batch)

    def position(self) -> Any:
        return [self.records, self.boxes]
