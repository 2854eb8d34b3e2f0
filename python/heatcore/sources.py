"""Pipeline sources: videos and detection files, as records that carry their time.

* :class:`VideoSource` — a video file or image folder read every ``stride`` frames as
  :class:`~heatcore.records.Frame` records (frame index, seconds from the start, wall-clock time
  when the file name or the container says it).
* :class:`DetectionFileSource` — any detections file (AITRIOS CSV, long CSV, the detections CSV
  of ``heatcore detect``, ``.npz``) as :class:`~heatcore.records.Detections` records; the AITRIOS
  CSV without pictures comes in packed chunks (parsed in C++) for speed.
* :class:`RecordsSource` — records from any iterable (Console frames, lists, generators).
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from .pipeline import IterSource, Source, batched, file_fingerprint
from .records import Frame, TimeBase

__all__ = ["VideoSource", "DetectionFileSource", "RecordsSource", "video_time_base"]


def video_time_base(source: str | os.PathLike[str] | Sequence, fps: float | None = None,
                    start: float | None = None, name_pattern: str | None = None) -> TimeBase:
    """The time base of a video: ``fps`` (default: the container's; image folders have none),
    ``start`` wall-clock Unix seconds (default: from the file name, else the container's
    creation time, else unknown)."""
    from .io.timestamps import recording_start_time
    from .io.video import video_info

    info = video_info(source)
    if fps is None and info.fps and info.fps > 0:
        fps = float(info.fps)
    if start is None and isinstance(source, (str, os.PathLike)) and Path(source).is_file():
        start = recording_start_time(source, name_pattern)
    name = Path(str(source)).stem if isinstance(source, (str, os.PathLike)) else "images"
    return TimeBase(fps=fps, start=start, source=name)


class VideoSource(Source):
    """Frames ``start, start + stride, ...`` below ``stop`` of a video file or image folder as
    :class:`~heatcore.records.Frame` records (pixels BGR, or gray with ``gray=True``)."""

    name = "video"

    def __init__(self, source: str | os.PathLike[str] | Sequence, *, stride: int = 1, start: int = 0,
                 stop: int | None = None, gray: bool = False, decoder: str = "opencv", batch: int = 8,
                 time_base: TimeBase | None = None, prefetch: bool = True) -> None:
        from ._checks import nonneg_int, positive_int
        from .io.video import video_info

        self.source = source
        self.stride = positive_int("stride", stride)
        self.start = nonneg_int("start", start)
        if stop is not None and nonneg_int("stop", stop) < self.start:
            raise ValueError(f"stop must be a frame index >= start ({self.start}), got {stop!r}")
        self.stop = stop
        self.gray = bool(gray)
        self.decoder = decoder
        self.batch = positive_int("batch", batch)
        self.info = video_info(source)
        self.time_base = time_base if time_base is not None else video_time_base(source)
        self.prefetch = prefetch

    def fingerprint(self) -> dict[str, Any]:
        if isinstance(self.source, (list, tuple)):
            inp: Any = [str(p) for p in self.source]
        else:
            inp = file_fingerprint(self.source)  # type: ignore[arg-type]
        return {"input": inp, "stride": self.stride, "start": self.start, "stop": self.stop, "gray": self.gray,
                "decoder": self.decoder, "fps": self.time_base.fps}

    def total(self) -> int | None:
        n = self.info.frame_count
        if not n:
            return None
        end = n if self.stop is None else min(self.stop, n)
        return max(0, -(-(end - self.start) // self.stride))

    def _frames(self, skip: int) -> Iterator[Frame]:
        from .io.video import iter_frames

        first = self.start + skip * self.stride
        if self.stop is not None and first >= self.stop:
            return
        tb = self.time_base
        for i, img in iter_frames(self.source, stride=self.stride, start=first, stop=self.stop, gray=self.gray,
                                  backend=self.decoder):
            yield Frame(i, img, tb.seconds(i) if tb.known else None, tb.wall(i), tb.source)

    def batches(self, skip: int) -> Iterator[Sequence[Any]]:
        it: Iterable[Frame] = self._frames(skip)
        if self.prefetch:
            from .motion import _prefetch

            it = _prefetch(it)
        return batched(it, self.batch)


class DetectionFileSource(Source):
    """A detections file (see :func:`heatcore.io.detections.open_detections`) as records."""

    name = "detections"

    def __init__(self, path: str | os.PathLike[str], *, fmt: str = "auto", fps: float | None = None,
                 video: str | os.PathLike[str] | None = None, on_error: str = "raise", frame_numbers: str = "file",
                 batch: int = 4096, max_frame_gap: int | None = None) -> None:
        from .io.detections import AitriosCSV, open_detections, sniff_format

        self.path = Path(path)
        if fmt == "auto" and self.path.is_file():
            fmt = sniff_format(self.path)
        self.video = None if video is None else Path(video)
        self.fmt, self.fps, self.on_error, self.frame_numbers = fmt, fps, on_error, frame_numbers
        self.max_frame_gap = max_frame_gap
        self.records, self._total, self.time_base = open_detections(
            self.path, fmt=fmt, fps=fps, video=video, on_error=on_error, frame_numbers=frame_numbers,
            max_frame_gap=max_frame_gap)
        self.reader = self.records if isinstance(self.records, AitriosCSV) else None
        self._used = False
        self.batch = batch if (self.reader is not None and self.video is None) else min(batch, 8 if video else 256)

    @property
    def skipped(self) -> list[tuple[int, int, str]]:
        return [] if self.reader is None else self.reader.skipped

    def fingerprint(self) -> dict[str, Any]:
        fp: dict[str, Any] = {"input": file_fingerprint(self.path), "format": self.fmt, "fps": self.fps,
                              "on_error": self.on_error, "frame_numbers": self.frame_numbers}
        if self.video is not None:
            fp["video"] = file_fingerprint(self.video)
        return fp

    def total(self) -> int | None:
        return self._total

    def batches(self, skip: int) -> Iterator[Sequence[Any]]:
        if self.reader is not None and self.video is None:
            return self._chunks(skip)
        if self.reader is not None:
            it: Iterable[Any] = iter(self.reader)
        elif not self._used:  # the records opened in __init__ (an .npz is read once)
            it = self.records
        else:  # generators cannot be rewound: open the file again
            from .io.detections import open_detections

            it, _, _ = open_detections(self.path, fmt=self.fmt, fps=self.fps, on_error=self.on_error,
                                       frame_numbers=self.frame_numbers, max_frame_gap=self.max_frame_gap)
        self._used = True
        return batched(itertools.islice(it, skip, None), self.batch)

    def _chunks(self, skip: int) -> Iterator[Sequence[Any]]:
        assert self.reader is not None
        for chunk in self.reader.iter_chunks(rows=self.batch):
            if skip:
                if skip >= len(chunk):
                    skip -= len(chunk)
                    continue
                chunk = chunk.tail(skip)
                skip = 0
            yield chunk  # type: ignore[misc]


class RecordsSource(IterSource):
    """Records from an iterable (``fingerprint``: what identifies it, for checkpoints)."""

    def __init__(self, records: Iterable[Any], *, fingerprint: dict[str, Any] | None = None,
                 total: int | None = None, batch: int = 64) -> None:
        super().__init__(lambda skip: itertools.islice(iter(records), skip, None), fingerprint=fingerprint,
                         total=total, batch=batch, name="records")
        self.records = records
