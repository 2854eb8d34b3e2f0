"""Grid counts, floor plans and detections over many files (and cameras), on Dask or here.

The partition tasks of :func:`heatcore.distributed.run_partitions` for the counting commands:

* :class:`CountTask` — a :class:`~heatcore.GridCounter` (``window=0``: totals) or a
  :class:`~heatcore.floorplan.FloorplanAccumulator` per partition, over detections files
  (``heatcore detect`` CSV + its ``.meta.json``, AITRIOS CSV, long CSV, ``.npz``) or raw videos
  (people detected in the same pass: :class:`~heatcore.jobs.DetectStage`, every ``stride``-th
  frame). With ``slicing`` each partition counts into a
  :class:`~heatcore.slices.SlicedAccumulator` keyed by wall-clock time (records get it from the
  segment's start time), so per-camera results are per time slice too.
* :class:`DetectTask` — one detections CSV (+ ``.meta.json``) per input file, as
  ``heatcore detect`` writes it, into ``<out>/<camera>/<file stem>.csv``.

Results merge per camera (on the Dask workers); grid and floor-plan counts over partitions are
bit-identical to running each file alone and merging.

    from heatcore import GridCounter, distributed
    from heatcore.inputs import DETECTION_SUFFIXES, VIDEO_SUFFIXES, expand_inputs
    from heatcore.many import CountTask

    segs = expand_inputs("cams/*/*.csv", suffixes=DETECTION_SUFFIXES)
    grids = distributed.run_partitions(segs, CountTask(GridCounter((1920, 1080), (60, 36))), workers=2)
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

from .accumulator import Accumulator
from .distributed import Partition, PartitionTask
from .pipeline import Source

__all__ = ["CountTask", "DetectTask", "DetectSummary", "detector_spec"]

_DETECTORS: dict[str, Any] = {}  # per worker process: detectors built once (model files load once)


def _detector(spec: tuple[Any, dict[str, Any]] | None) -> Any:
    from .detect import make_detector

    if spec is None:
        return make_detector(None)
    name, kw = spec
    if not isinstance(name, (str, type(None))):  # a detector object or callable: used as given
        return make_detector(name, **kw)
    key = json.dumps([name, kw, threading.get_ident()], sort_keys=True, default=str)  # nets are not thread-safe
    if key not in _DETECTORS:
        _DETECTORS[key] = make_detector(name, **kw)
    return _DETECTORS[key]


def detector_spec(name: Any = None, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
    """A picklable detector description for the workers: ``(name or model path, keyword arguments
    of :func:`heatcore.detect.make_detector`)``; each worker builds the detector once.
    :func:`heatcore.detect.detector_options` makes one from the command-line detector options."""
    return (name, dict(kwargs))


class _Timed(Source):
    """Records of ``inner`` with wall-clock time (``start_wall`` + seconds from the file start) and
    a per-file source id; packed detection chunks become per-frame records when ``unpack``."""

    name = "timed"

    def __init__(self, inner: Source, start_wall: float | None, source: str, unpack: bool) -> None:
        self.inner, self.start_wall, self.source_id, self.unpack = inner, start_wall, source, unpack

    def fingerprint(self) -> dict[str, Any]:
        return {**self.inner.fingerprint(), "start_wall": self.start_wall}

    def total(self) -> int | None:
        return self.inner.total()

    def close(self) -> None:
        self.inner.close()

    def _fix(self, d: Any) -> Any:
        if getattr(d, "wall", None) is None and self.start_wall is not None and getattr(d, "time", None) is not None:
            d.wall = self.start_wall + float(d.time)
        if hasattr(d, "source"):
            d.source = self.source_id
        return d

    def batches(self, skip: int) -> Iterator[Sequence[Any]]:
        for batch in self.inner.batches(skip):
            if hasattr(batch, "offsets") and hasattr(batch, "frames"):
                if not self.unpack:
                    yield batch
                    continue
                batch = list(batch.frames())  # type: ignore[attr-defined]
            yield [self._fix(d) for d in batch]


def _make_accumulator(kind: str, config: dict[str, Any]) -> Accumulator:
    if kind == "grid":
        from .grid import GridCounter

        return GridCounter(**config)
    if kind == "floorplan":
        from .floorplan import FloorplanAccumulator
        from .homography import Homography

        c = dict(config)
        h = None if c.get("homography") is None else Homography(c["homography"])
        return FloorplanAccumulator(tuple(c["plan_size"]), h, seconds_per_obs=c["seconds_per_obs"],
                                    anchor=tuple(c["anchor"]), cell=c["cell"], bandwidth=c["bandwidth"],
                                    track=False if c.get("track") is None else c["track"],
                                    stationary=None if c.get("stationary") is None else tuple(c["stationary"]))
    raise ValueError(f"CountTask counts with a GridCounter or a FloorplanAccumulator, not {kind!r}")


class CountTask(PartitionTask):
    """Count detections per partition with a fresh copy of ``accumulator`` (a
    :class:`~heatcore.GridCounter` with ``window=0``, or a
    :class:`~heatcore.floorplan.FloorplanAccumulator`); ``per_camera``: other accumulators for
    some cameras (e.g. a floor plan with that camera's homography). Detections files are read
    with ``fmt`` / ``fps`` / ``frame_numbers`` / ``on_bad_rows`` (as ``heatcore grid``); videos
    are read every ``stride``-th frame and people detected with ``detector`` (see
    :func:`detector_spec`), ``classes`` / ``min_score`` filtering them.
    ``slicing`` (``"1h"``, ``"hour"``, ...; ``tz`` hours east of UTC): count per time slice
    (a :class:`~heatcore.slices.SlicedAccumulator` per camera, wall-clock time from the segment's
    start time). ``threads``: kernel threads per partition (1 on a one-thread worker).
    ``throttle``: seconds of sleep before each partition counts (tests of worker loss only)."""

    def __init__(self, accumulator: Accumulator, *, per_camera: Mapping[str, Accumulator] | None = None,
                 slicing: str | None = None, tz: Any = None, stride: int = 5, detector: Any = None,
                 classes: Iterable[int] | None = None, min_score: float | None = None, fmt: str = "auto",
                 fps: float | None = None, frame_numbers: str = "file", on_bad_rows: str = "raise",
                 max_frame_gap: int | None = None, threads: int | None = 1, throttle: float = 0.0) -> None:
        from ._checks import positive_int

        self.kind = accumulator.kind
        if self.kind == "grid" and int(getattr(accumulator, "window", 0) or 0) > 0:
            raise ValueError(f"a grid over partitions counts totals: window must be 0 frames, got "
                             f"{getattr(accumulator, 'window')}")
        self.config_ = {"default": accumulator.config(),
                        "cameras": {k: a.config() for k, a in (per_camera or {}).items()}}
        for a in [accumulator, *(per_camera or {}).values()]:
            if a.kind != self.kind:
                raise ValueError(f"per-camera accumulators must be {self.kind!r} too, got {a.kind!r}")
            _make_accumulator(a.kind, a.config())  # validates the configuration here
        if slicing is not None:
            from .slices import SlicedAccumulator

            SlicedAccumulator(_make_accumulator(self.kind, accumulator.config()), slicing, tz=tz)  # validates
        self.slicing, self.tz = slicing, tz
        self.stride = positive_int("stride", stride)
        self.detector = detector if isinstance(detector, tuple) else detector_spec(detector)
        self.classes = None if classes is None else [int(c) for c in classes]
        self.min_score = min_score
        self.fmt, self.fps, self.frame_numbers, self.on_bad_rows = fmt, fps, frame_numbers, on_bad_rows
        self.max_frame_gap = max_frame_gap
        self.threads = threads
        self.throttle = float(throttle)  # seconds of sleep before a partition counts (tests of worker loss only)
        self.desc = self.kind
        # a tracker or the stationary filter carries state from frame to frame: files are not split
        self.splittable = not any(c.get("track") is not None or c.get("stationary") is not None
                                  for c in [self.config_["default"], *self.config_["cameras"].values()])

    def config(self) -> dict[str, Any]:
        return {"kind": self.kind, "accumulators": self.config_, "slicing": self.slicing, "tz": self.tz,
                "stride": self.stride, "detector": repr(self.detector), "classes": self.classes,
                "min_score": self.min_score, "fmt": self.fmt, "fps": self.fps, "frame_numbers": self.frame_numbers,
                "on_bad_rows": self.on_bad_rows}

    def units(self, part: Partition) -> int:
        return -(-part.frames // self.stride)

    def accumulator(self, camera: str) -> Accumulator:
        """A fresh accumulator of ``camera`` (sliced when asked)."""
        cfg = self.config_["cameras"].get(camera, self.config_["default"])
        acc = _make_accumulator(self.kind, cfg)
        if self.kind == "grid" and self.threads is not None:
            acc.threads = self.threads  # type: ignore[attr-defined]
        if self.slicing is None:
            return acc
        from .slices import SlicedAccumulator

        return SlicedAccumulator(acc, self.slicing, tz=self.tz)

    def source(self, part: Partition) -> tuple[Source, list[Any]]:
        """The partition's records (with wall-clock time) and stages (detection for videos)."""
        from .distributed import _is_video_path
        from .jobs import DetectStage
        from .records import TimeBase

        sid = f"{part.camera}:{Path(part.path).stem}"
        if _is_video_path(part.path):
            from .io.video import video_info
            from .sources import VideoSource

            info = video_info(part.path)
            fps = self.fps or (float(info.fps) if info.fps and info.fps > 0 else None)
            tb = TimeBase(fps=fps, start=part.start_wall, source=sid)
            src: Source = VideoSource(part.path, stride=self.stride, start=part.start,
                                      stop=part.stop if part.stop > part.start else None, time_base=tb, batch=4)
            stage = DetectStage(_detector(self.detector), classes=self.classes, min_score=self.min_score,
                                spec=repr(self.detector))
            return src, [stage]
        from .sources import DetectionFileSource

        dsrc = DetectionFileSource(part.path, fmt=self.fmt, fps=self.fps, on_error=self.on_bad_rows,
                                   frame_numbers=self.frame_numbers, max_frame_gap=self.max_frame_gap)
        start = part.start_wall if part.start_wall is not None else dsrc.time_base.start
        return _Timed(dsrc, start, sid, unpack=self.slicing is not None or self.kind != "grid"), []

    def run(self, part: Partition, save: str | None = None, **kw: Any) -> Accumulator:
        from .pipeline import Job, run

        if self.throttle:
            import time

            time.sleep(self.throttle)
        acc = self.accumulator(part.camera)
        src, stages = self.source(part)
        res = run(Job(source=src, accumulators={"acc": acc}, stages=stages, quiet=True, desc=self.kind))
        out = res["acc"]
        if save is not None:
            out.save(save)
        return out


class DetectSummary:
    """What a :class:`DetectTask` did: ``files``, ``frames`` (records), ``boxes`` and the CSVs
    written (``outputs``); mergeable."""

    def __init__(self, files: int = 0, frames: int = 0, boxes: int = 0, outputs: list[str] | None = None) -> None:
        self.files, self.frames, self.boxes = files, frames, boxes
        self.outputs = list(outputs or [])

    def merge(self, other: "DetectSummary") -> "DetectSummary":
        self.files += other.files
        self.frames += other.frames
        self.boxes += other.boxes
        self.outputs += other.outputs
        return self

    def save(self, path: str | os.PathLike[str]) -> None:
        tmp = Path(str(path) + ".tmp")
        tmp.write_text(json.dumps(vars(self)))
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "DetectSummary":
        return cls(**json.loads(Path(path).read_text()))

    def __repr__(self) -> str:
        return f"DetectSummary(files={self.files}, frames={self.frames}, boxes={self.boxes})"


class DetectTask(PartitionTask):
    """Detect people in every input video (one partition per file, never split): writes
    ``<out>/<camera>/<file stem>.csv`` + ``.meta.json`` exactly as ``heatcore detect`` does
    (``aitrios``: also ``<file stem>.aitrios.csv``). ``detector``: see :func:`detector_spec`;
    ``track``: IoU tracker with ``max_disappeared`` (processed frames). Results are
    :class:`DetectSummary` per camera."""

    suffix = ".json"
    desc = "detect"
    splittable = False  # one CSV per file (and its tracks)

    def __init__(self, out: str | os.PathLike[str], *, detector: Any = None, stride: int = 5,
                 classes: Iterable[int] | None = None, min_score: float | None = None, track: bool = False,
                 max_disappeared: int = 5, fps: float | None = None, aitrios: bool = False) -> None:
        from ._checks import nonneg_int, positive_int

        self.out = str(Path(out).resolve())
        self.detector = detector if isinstance(detector, tuple) else detector_spec(detector)
        self.stride = positive_int("stride", stride)
        self.classes = None if classes is None else [int(c) for c in classes]
        self.min_score = min_score
        self.track = bool(track)
        self.max_disappeared = nonneg_int("max_disappeared", max_disappeared)
        self.fps = fps
        self.aitrios = bool(aitrios)

    def config(self) -> dict[str, Any]:
        return {"out": self.out, "detector": repr(self.detector), "stride": self.stride, "classes": self.classes,
                "min_score": self.min_score, "track": self.track, "max_disappeared": self.max_disappeared,
                "fps": self.fps, "aitrios": self.aitrios}

    def units(self, part: Partition) -> int:
        return -(-part.frames // self.stride)

    def output(self, part: Partition) -> Path:
        """``<out>/<camera>/<file stem>.csv``."""
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in part.camera) or "camera"
        return Path(self.out) / safe / f"{Path(part.path).stem}.csv"

    def run(self, part: Partition, save: str | None = None, **kw: Any) -> DetectSummary:
        from .jobs import detect_job
        from .pipeline import run
        from .sinks import CountSink

        csv_path = self.output(part)
        csv_path.parent.mkdir(parents=True, exist_ok=True)
        track: Any = False
        if self.track:
            from .track import Tracker

            track = Tracker(max_disappeared=self.max_disappeared)
        name = self.detector[0]
        job = detect_job(part.path, _detector(self.detector), stride=self.stride, classes=self.classes,
                         min_score=self.min_score, track=track, detections_csv=csv_path,
                         aitrios_csv=csv_path.with_suffix(".aitrios.csv") if self.aitrios else None, fps=self.fps,
                         quiet=True, detector_spec=name if isinstance(name, str) else None,
                         start_wall=part.start_wall)
        count = CountSink()
        job.sinks.append(count)
        res = run(job)
        out = DetectSummary(1, res.records, count.boxes, [str(p) for p in res.outputs])
        if save is not None:
            out.save(save)
        return out

    def load(self, path: str) -> DetectSummary:
        return DetectSummary.load(path)
