"""Spread one heatmap job over processes or machines, then merge exactly.

Heatmaps over disjoint frames (or disjoint videos, or disjoint point batches) are sums, so a
long job splits into parts that run anywhere and merge with ``Accumulator.merge``. This module
needs no scheduler of its own: ``executor`` is anything with ``submit(fn, *args, **kwargs)``
returning futures with ``.result()`` — ``concurrent.futures.ProcessPoolExecutor`` on one
machine, or a ``dask.distributed.Client`` for a cluster (its ``submit`` has the same shape).

    from dask.distributed import Client
    client = Client("scheduler:8786")
    heat = heatcore.distributed.map_merge(
        heatcore.motion_heatmap,
        [dict(source="cam1.mp4", start=a, stop=b, method="diff", reference="empty.png")
         for a, b in heatcore.distributed.split_range(180_000, 32)],
        executor=client)

With a stateful background model (MOG, MOG2) every part learns its own background first, so the
sum differs from one uninterrupted run in the first frames of each part (the model's warm-up,
~``history`` frames); the frame-difference method with a fixed reference is exact.

Many files and cameras: :func:`run_partitions` takes segments (:func:`heatcore.inputs.expand_inputs`),
splits them into file / frame-range partitions, warms MOG/MOG2 partitions up on the frames before
their start (in the same file) without counting them, merges per camera on the Dask workers as
partitions finish, and keeps a job manifest so a rerun after a crash skips finished partitions.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, NamedTuple, Sequence, TypeVar

from ._checks import nonneg_int, positive_int
from .accumulator import Accumulator

__all__ = ["split_range", "merge_all", "map_merge", "Partition", "PartitionTask", "MotionTask", "plan_partitions",
           "run_partition", "run_partitions", "run_tasks", "local_cluster"]

A = TypeVar("A", bound=Accumulator)


def split_range(n: int, parts: int, *, align: int = 1) -> list[tuple[int, int]]:
    """Split frames ``[0, n)`` into ``parts`` contiguous ``(start, stop)`` ranges of near-equal
    length. ``align`` (frames) makes every boundary a multiple of it, e.g. the ``stride`` so each
    part samples the same frames an uninterrupted strided run would. Empty parts are dropped."""
    n = nonneg_int("n", n)
    parts = positive_int("parts", parts)
    align = positive_int("align", align)
    bounds = [min(n, ((n * i // parts + align - 1) // align) * align) for i in range(parts)] + [n]
    return [(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def merge_all(accumulators: Iterable[A]) -> A:
    """Merge accumulators of one configuration into the first (returned). ValueError when empty."""
    it = iter(accumulators)
    try:
        total = next(it)
    except StopIteration:
        raise ValueError("merge_all needs at least one accumulator") from None
    if not isinstance(total, Accumulator):
        raise TypeError(f"merge_all takes heatcore accumulators, got {type(total).__name__}")
    for acc in it:
        total.merge(acc)
    return total


def map_merge(fn: Callable[..., A], tasks: Sequence[dict[str, Any]], *, executor: Any = None) -> A:
    """Run ``fn(**task)`` for every task (each returns an accumulator) and merge the results in
    task order. ``executor=None`` runs them here, one after another."""
    if not tasks:
        raise ValueError("map_merge needs at least one task")
    if executor is None:
        return merge_all(fn(**t) for t in tasks)
    if not callable(getattr(executor, "submit", None)):
        raise TypeError(f"executor must have a submit() method (concurrent.futures or dask.distributed), got {type(executor).__name__}")
    futures = [executor.submit(fn, **t) for t in tasks]
    return merge_all(f.result() for f in futures)


# -- many files, many cameras ------------------------------------------------------------------

import hashlib as _hashlib  # noqa: E402
import json as _json  # noqa: E402
import os as _os  # noqa: E402
import time as _time  # noqa: E402
import warnings as _warnings  # noqa: E402
from dataclasses import dataclass as _dataclass  # noqa: E402
from pathlib import Path as _Path  # noqa: E402


@_dataclass(frozen=True)
class Partition:
    """Frames ``[start, stop)`` of one segment file of one camera; ``warm_start`` (<= start) is
    where a stateful model (MOG/MOG2) starts learning without counting. ``start_wall``: Unix
    seconds (UTC) of the file's frame 0 (None = unknown), so records get wall-clock time.
    ``warm_files``: ``(path, first frame)`` of the camera's previous files when the footage is
    contiguous (each ends where the next starts) and the warm-up reaches back before frame 0:
    their frames from ``first frame`` to their end teach the model first, uncounted. A detections
    file (not a video) is one partition with ``start = stop = 0`` (its frame count unknown)."""

    camera: str
    path: str
    start: int
    stop: int
    warm_start: int
    start_wall: float | None = None
    warm_files: tuple[tuple[str, int], ...] = ()

    @property
    def key(self) -> str:
        """A stable file-name-safe id (camera, path, range, warm-up)."""
        text = f"{self.camera}\0{_os.path.abspath(self.path)}\0{self.start}\0{self.stop}\0{self.warm_start}"
        for path, first in self.warm_files:
            text += f"\0{_os.path.abspath(path)}\0{first}"
        h = _hashlib.sha1(text.encode()).hexdigest()[:16]
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in self.camera)[:40]
        return f"{safe}-{h}"

    @property
    def frames(self) -> int:
        """Frames counted (warm-up excluded), before any stride; 0 for a detections file."""
        return self.stop - self.start


def _is_video_path(path: str) -> bool:
    from .inputs import VIDEO_SUFFIXES

    return _Path(path).is_dir() or _Path(path).suffix.lower() in VIDEO_SUFFIXES


def plan_partitions(segments: Sequence[Any], *, split_frames: int | None = None, warmup: int = 0,
                    stride: int = 1, on_error: str = "fail", cross_warmup: bool | None = False
                    ) -> tuple[list[Partition], list[tuple[str, str]]]:
    """Partitions of segments (:class:`heatcore.inputs.Segment` or anything with ``camera`` and
    ``path``): one per file, or frame ranges of at most ``split_frames`` frames (boundaries aligned
    to ``stride``). Returns ``(partitions, errors)``; ``errors`` are ``(file, message)`` of files
    whose frame count cannot be read (``on_error="fail"`` raises ValueError instead).

    ``cross_warmup``: a camera's file that starts where its previous file ends (start times known
    and ``previous start + previous frames / fps`` within 2 frame intervals of this start) warms
    its partitions whose ``warmup`` (x ``stride``) frames reach back before frame 0 up on the end
    of the previous file(s) of that contiguous run; None = do so whenever the start times show
    contiguity (same as True), False = never.
    Detections files (not videos) are one partition each, never split."""
    from .io.video import video_info

    parts: list[Partition] = []
    errors: list[tuple[str, str]] = []
    chain: dict[str, list[tuple[str, float | None, int, float]]] = {}  # camera -> contiguous (path, start, n, fps)
    for seg in segments:
        path = _os.path.abspath(seg.path)  # workers may run in another folder
        start_wall = getattr(seg, "start_wall", None)
        if not _is_video_path(path):
            if not _os.path.isfile(path):
                if on_error == "fail":
                    raise ValueError(f"cannot read {path}: no such file")
                errors.append((path, "no such file"))
                continue
            parts.append(Partition(seg.camera, path, 0, 0, 0, start_wall))
            continue
        try:
            info = video_info(path)
            n = int(info.frame_count or 0)
            if n <= 0:
                raise ValueError("no frame count (empty or unreadable video)")
        except Exception as e:  # noqa: BLE001 - any decoder error marks the file bad
            if on_error == "fail":
                raise ValueError(f"cannot read {path}: {e}") from e
            errors.append((path, str(e)))
            continue
        fps = float(info.fps or 0.0)
        before = chain.get(seg.camera, [])
        if before:
            _, p_start, p_n, p_fps = before[-1]
            if not (p_start is not None and start_wall is not None and p_fps > 0 and fps > 0
                    and abs(p_start + p_n / p_fps - start_wall) <= 2.0 / fps):
                before = []  # a gap (or unknown times): the contiguous run starts again here
        if cross_warmup is False or warmup <= 0:
            before = []
        chain[seg.camera] = [*before, (path, start_wall, n, fps)]
        nparts = 1 if not split_frames else max(1, -(-n // positive_int("split_frames", split_frames)))
        for a, b in split_range(n, nparts, align=stride):
            w = max(0, a - warmup * stride)
            need = warmup * stride - a  # warm-up frames wanted before this file's frame 0
            files: list[tuple[str, int]] = []
            for p_path, _, p_n, _ in reversed(before):
                if need <= 0:
                    break
                take = min(need, p_n)
                files.insert(0, (p_path, p_n - take))
                need -= take
            parts.append(Partition(seg.camera, path, a, b, w, start_wall, tuple(files)))
    return parts, errors


class _Item(NamedTuple):
    """A decoded frame with its time, as the sliced motion heatmap takes it (a tuple: the motion
    heatmap reads ``(index, frame, processed)``; the slicer reads ``time``/``wall``/``source``)."""

    frame: int
    image: Any
    processed: Any
    time: float | None
    wall: float | None
    source: str


def run_partition(part: Partition, method: str = "diff", *, stride: int = 1, gray: bool | None = None,
                  decoder: str = "auto", save: str | None = None, throttle: float = 0.0,
                  slicing: str | None = None, tz: Any = None, **params: Any) -> Any:
    """Run one partition (on a worker): warm-up frames (the ends of the previous files in
    ``warm_files``, then ``[warm_start, start)``) teach the model uncounted, frames
    ``[start, stop)`` are counted. Frames are decoded exactly as
    :func:`heatcore.motion.motion_heatmap` decodes them, so a diff partition with a fixed reference
    image counts bit-identically. ``save``: also write the state here (.npz, the job manifest's
    part). ``throttle``: seconds of sleep per frame (tests of worker loss only). Returns the
    :class:`~heatcore.motion.MotionHeatmap`; with ``slicing`` (``"1h"``, ``"hour"``, ...; ``tz``
    hours east of UTC) a :class:`~heatcore.slices.SlicedAccumulator` of them, keyed by the
    frames' wall-clock time (``part.start_wall`` + frame index / fps; seconds from the file start
    when the start is unknown)."""
    import itertools

    from .motion import MotionHeatmap, _frame_source

    if gray is None:
        gray = method == "diff"
    kernel_gray = bool(gray) and method != "diff"
    acc = MotionHeatmap(method, gray=kernel_gray, **params)
    warm = -(-(part.start - part.warm_start) // stride)
    first_full = [True]

    def full(n: int) -> bool:
        return first_full[0] or acc.background == "median"

    def frames(path: str, a: int, b: int | None) -> Any:
        return _frame_source(path, stride=stride, start=a, stop=b, gray=bool(gray), decoder=decoder,
                             scale=acc.scale, kernel_gray=kernel_gray or method == "diff", full=full)

    src: Any = frames(part.path, part.warm_start, part.stop)
    before = 0
    if part.warm_files:
        from .io.video import video_info

        src = itertools.chain(*(frames(p, first, None) for p, first in part.warm_files), src)
        before = sum(len(range(first, int(video_info(p).frame_count or 0), stride)) for p, first in part.warm_files)
        warm += before
    sliced: Any = None
    queue: list[_Item] = []
    fps = 0.0
    if slicing is not None:
        from .io.video import video_info

        fps = float(video_info(part.path).fps or 0.0)
        if fps <= 0:
            raise ValueError(f"{part.path}: no frame rate, so its frames have no time for slicing {slicing!r}")
    n = 0
    for item in src:
        if n == warm and warm:
            acc.reset_counts()
        if slicing is not None and n >= warm:
            if sliced is None:
                from .slices import SlicedAccumulator

                sliced = SlicedAccumulator(acc, slicing, tz=tz)
            t = item[0] / fps
            queue.append(_Item(item[0], item[1], item[2], t, None if part.start_wall is None else part.start_wall + t,
                               part.camera))
            if len(queue) >= 16:
                sliced.update_batch(queue)
                queue = []
        else:
            acc.update(item[1], processed=item[2])
        first_full[0] = False
        n += 1
        if throttle:
            _time.sleep(throttle)
    if queue:
        sliced.update_batch(queue)
    if warm and n <= warm:
        raise ValueError(f"{part.path}: only {n - before} frames decoded, the partition starts at frame {part.start}")
    if n == 0:
        raise ValueError(f"{part.path}: no frames decoded in [{part.start}, {part.stop})")
    out = acc if sliced is None else sliced
    if save is not None:
        out.save(save)
    return out


def _load_part(path: str) -> Any:
    from .accumulator import load_state

    return load_state(path)


def _merge2(a: Any, b: Any) -> Any:
    return a.merge(b)


def _digest(blob: dict[str, Any]) -> str:
    """SHA-1 of a configuration (arrays by content, paths as text)."""
    def enc(v: Any) -> Any:
        import numpy as np

        if isinstance(v, np.ndarray):
            return _hashlib.sha1(np.ascontiguousarray(v).tobytes()).hexdigest() + str(v.shape)
        if isinstance(v, _os.PathLike):
            return _os.fspath(v)
        if isinstance(v, dict):
            return {str(k): enc(x) for k, x in sorted(v.items())}
        return v

    return _hashlib.sha1(_json.dumps(enc(blob), sort_keys=True, default=str).encode()).hexdigest()


def _config_digest(method: str, stride: int, gray: Any, decoder: str, warmup: int, params: dict) -> str:
    return _digest({"method": method, "stride": stride, "gray": gray, "decoder": decoder, "warmup": warmup,
                    "params": dict(params)})


def _as_completed(futures: list[Any], dask: bool) -> Any:
    if dask:
        from distributed import as_completed

        return as_completed(futures)
    import concurrent.futures as cf

    return None if not futures else cf.as_completed(futures)


class PartitionTask:
    """What a partition runs (the kind of job): picklable, sent to the workers with every
    partition. Subclasses set :attr:`desc` and implement :meth:`run` (on a worker: the result,
    an object with ``merge(other)``, optionally saved to ``save``), :meth:`config` (what makes
    results differ, for the job manifest); :meth:`kwargs` gives per-partition keyword arguments
    of :meth:`run` (NumPy arrays among them go to a Dask cluster once, by ``scatter``)."""

    desc: str = "partitions"
    suffix: str = ".npz"  # of the saved partition results (parts/<key><suffix>)
    splittable: bool = True  # False: one partition per file whatever split_frames says

    def run(self, part: Partition, save: str | None = None, **kw: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def config(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def kwargs(self, part: Partition) -> dict[str, Any]:
        return {}

    def load(self, path: str) -> Any:
        """A saved partition result (a rerun skips the partition)."""
        return _load_part(path)

    def units(self, part: Partition) -> int:
        """Progress units of a partition (frames counted; 0 = unknown)."""
        return part.frames

    def pinned(self, kw: dict[str, Any]) -> dict[str, Any]:
        """The keyword arguments of :meth:`run` on a worker pinned to one thread."""
        return kw


#: pin one-thread Dask workers to one core's worth of threads (see :func:`_pin_worker_threads`);
#: False leaves the thread pools alone (benchmarks of the difference)
PIN_THREADS = True


def _identity(obj: Any) -> Any:
    return obj


def _load_task_part(task: PartitionTask, path: str) -> Any:
    return task.load(path)


def _run_task(task: PartitionTask, part: Partition, save: str | None, **kw: Any) -> Any:
    """Worker entry point: pin the process to one thread's worth of work when the Dask worker has
    one thread, then run the task."""
    if _pin_worker_threads():
        kw = task.pinned(kw)
    return task.run(part, save, **kw)


def _pin_worker_threads() -> bool:
    """In a Dask worker with ``nthreads == 1`` (and :data:`PIN_THREADS`): OpenCV's thread pool and
    the FFmpeg decoder use one thread, so N workers keep N cores busy, not N x cores (PyAV's frame
    threading and OpenCV's pool otherwise take every core from inside each worker). Returns whether
    the worker is pinned; elsewhere nothing changes."""
    if not PIN_THREADS:
        return False
    try:
        from distributed import get_worker

        w = get_worker()
    except (ImportError, ValueError):
        return False
    n = int(getattr(getattr(w, "state", w), "nthreads", 0) or getattr(w, "nthreads", 0) or 0)
    if n != 1:
        return False
    if not getattr(w, "_heatcore_pinned", False):
        import cv2

        from .io import video as _video

        cv2.setNumThreads(1)
        _video.DECODER_THREADS = 1
        setattr(w, "_heatcore_pinned", True)
    return True


class MotionTask(PartitionTask):
    """Motion heatmaps (:func:`run_partition`) of one method and configuration."""

    def __init__(self, method: str, *, stride: int = 1, gray: bool | None = None, decoder: str = "auto",
                 warmup: int = 0, throttle: float = 0.0, references: dict[str, Any] | None = None,
                 slicing: str | None = None, tz: Any = None, **params: Any) -> None:
        self.method, self.stride, self.gray, self.decoder, self.warmup = method, stride, gray, decoder, warmup
        self.slicing, self.tz = slicing, tz
        self.throttle = throttle
        self.references = dict(references or {})
        self.params = params
        self.desc = f"motion ({method})"

    def config(self) -> dict[str, Any]:
        return {"digest": _config_digest(self.method, self.stride, self.gray, self.decoder, self.warmup,
                                         {**self.params, **{f"reference[{k}]": v for k, v in self.references.items()}}),
                **({} if self.slicing is None else {"slicing": self.slicing, "tz": self.tz})}

    def kwargs(self, part: Partition) -> dict[str, Any]:
        kw = dict(self.params)
        if part.camera in self.references:
            kw["reference"] = self.references[part.camera]
        return kw

    def pinned(self, kw: dict[str, Any]) -> dict[str, Any]:
        return kw if kw.get("threads") else {**kw, "threads": 1}  # the C++ kernels: one thread

    def run(self, part: Partition, save: str | None = None, **kw: Any) -> Any:
        return run_partition(part, self.method, stride=self.stride, gray=self.gray, decoder=self.decoder, save=save,
                             throttle=self.throttle, slicing=self.slicing, tz=self.tz, **kw)

    def units(self, part: Partition) -> int:
        return -(-part.frames // self.stride)


def run_partitions(segments: Sequence[Any], method: str | PartitionTask = "diff", *, executor: Any = None,
                   workers: int | None = None, scheduler: str | None = None, split_frames: int | None = None,
                   warmup: int | None = None, stride: int = 1, gray: bool | None = None, decoder: str = "auto",
                   manifest: str | _os.PathLike[str] | None = None, on_error: str = "fail", quiet: bool = True,
                   errors: list[tuple[str, str]] | None = None, throttle: float = 0.0,
                   references: dict[str, Any] | None = None, cross_warmup: bool | None = None,
                   slicing: str | None = None, tz: Any = None, **params: Any) -> dict[str, Any]:
    """Motion heatmaps of many segment files, one merged :class:`~heatcore.motion.MotionHeatmap`
    per camera (returned as ``{camera: heatmap}``); with a :class:`PartitionTask` instead of a
    method (e.g. :class:`heatcore.many.CountTask` for grid counts and floor plans,
    :class:`heatcore.many.DetectTask` for detections CSVs) that task's results, merged per camera.

    Partitions are files, long files split into frame ranges of at most ``split_frames`` frames.
    A MOG/MOG2 partition not starting at frame 0 first runs ``warmup`` frames (default: the model's
    history, e.g. 200 for MOG) before its start without counting them, so the merged result is
    close to one uninterrupted run. A file's first partition warms up on the end of the camera's
    previous file when that file ends where this one starts (``cross_warmup``: None = when the
    start times show contiguity, False = never: each file starts with a fresh model, as
    ``motion_heatmap`` on that file does); diff with a fixed ``reference`` image is exact.

    ``executor``: None runs here; ``"local"`` (or ``workers=N``) starts a Dask
    ``LocalCluster`` of N single-threaded processes on 127.0.0.1; ``scheduler="tcp://host:8786"``
    connects to a cluster; a ``distributed.Client`` uses it; anything else with ``submit`` (e.g.
    ``concurrent.futures.ProcessPoolExecutor``) works too. With Dask, partitions merge ON THE
    WORKERS as they finish (``client.submit(merge, a, b)`` on futures): the client holds only
    futures; with other executors results merge as they complete.

    ``manifest``: a job manifest (JSON; its folder gets a ``parts/`` folder of partition states):
    finished partitions are recorded, and a rerun after a crash loads them instead of running them
    (a manifest of another configuration is started over). ``on_error``: "fail" raises on a
    corrupt or unreadable file (naming it); "skip" leaves it out, reports ``(file, error)`` in
    ``errors`` (a list to append to) and warns. ``quiet``: no progress bar (frames of all partitions).
    ``references``: per-camera diff reference images ``{camera: image or path}`` (overrides
    ``reference`` for those cameras). ``slicing`` (``"1h"``, ``"hour"``, ...) and ``tz``: per
    camera a :class:`~heatcore.slices.SlicedAccumulator` of wall-clock time slices (from the
    segments' start times). Other keyword arguments go to :class:`~heatcore.motion.MotionHeatmap` (``reference``,
    ``threshold``, ``blur``, ``scale``, ``history``, ...)."""
    if on_error not in ("fail", "skip"):
        raise ValueError(f"on_error must be 'fail' or 'skip', got {on_error!r}")
    stride = positive_int("stride", stride)
    if not segments:
        raise ValueError("run_partitions needs at least one segment")
    if isinstance(method, PartitionTask):
        if params or references or slicing is not None:
            raise TypeError(f"with a task, give its parameters to the task, not run_partitions ({sorted(params)})")
        parts, bad = plan_partitions(segments, split_frames=split_frames if method.splittable else None,
                                     warmup=warmup or 0, stride=stride, on_error=on_error, cross_warmup=False)
        return run_tasks(parts, method, executor=executor, workers=workers, scheduler=scheduler, manifest=manifest,
                         on_error=on_error, quiet=quiet, errors=errors, bad=bad)
    from .motion import METHODS, MotionHeatmap

    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    probe = MotionHeatmap(method, **params)  # validates the parameters here, before any work
    if warmup is None:
        warmup = 0 if method == "diff" else probe.history
    warmup = nonneg_int("warmup", warmup)
    references = dict(references or {})
    if method == "diff" and probe.ref_kind != "image" and not {s.camera for s in segments} <= set(references):
        raise ValueError("method 'diff' over partitions needs a fixed reference image (reference=path or array) so "
                         "the partitions merge exactly")
    parts, bad = plan_partitions(segments, split_frames=split_frames, warmup=warmup, stride=stride,
                                 on_error=on_error, cross_warmup=cross_warmup)
    if slicing is not None:
        from .slices import SlicedAccumulator

        SlicedAccumulator(probe, slicing, tz=tz)  # validates the slicing here
    task = MotionTask(method, stride=stride, gray=gray, decoder=decoder, warmup=warmup, throttle=throttle,
                      references=references, slicing=slicing, tz=tz, **params)
    return run_tasks(parts, task, executor=executor, workers=workers, scheduler=scheduler, manifest=manifest,
                     on_error=on_error, quiet=quiet, errors=errors, bad=bad)


def run_tasks(parts: Sequence[Partition], task: PartitionTask, *, executor: Any = None, workers: int | None = None,
              scheduler: str | None = None, manifest: str | _os.PathLike[str] | None = None, on_error: str = "fail",
              quiet: bool = True, errors: list[tuple[str, str]] | None = None,
              bad: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
    """Run ``task`` over planned partitions (:func:`plan_partitions`) and merge the results per
    camera: the executor, the merges on the workers, the job manifest, ``on_error`` and the
    progress bar of :func:`run_partitions`. ``bad``: ``(file, error)`` found while planning."""
    from .progress import progress_bar

    if on_error not in ("fail", "skip"):
        raise ValueError(f"on_error must be 'fail' or 'skip', got {on_error!r}")
    parts = list(parts)
    errs: list[tuple[str, str]] = [] if errors is None else errors
    errs.extend(bad)

    # the job manifest: finished partitions and their saved results
    done: dict[str, str] = {}
    mpath = None if manifest is None else _Path(manifest).resolve()  # workers may run elsewhere
    digest = _digest({"task": type(task).__name__, **task.config()})
    if mpath is not None:
        (mpath.parent / "parts").mkdir(parents=True, exist_ok=True)
        if mpath.exists():
            try:
                old = _json.loads(mpath.read_text())
            except ValueError:
                old = {}
            if old.get("config") == digest:
                done = {k: v for k, v in old.get("done", {}).items() if _Path(v).exists()}

    def write_manifest() -> None:
        if mpath is None:
            return
        tmp = mpath.with_suffix(".tmp")
        tmp.write_text(_json.dumps({"config": digest, "done": done, "errors": errs,
                                    "partitions": [p.key for p in parts]}, indent=1))
        _os.replace(tmp, mpath)

    def save_path(p: Partition) -> str | None:
        return None if mpath is None else str(mpath.parent / "parts" / f"{p.key}{task.suffix}")

    write_manifest()
    client, cluster, own = _resolve_executor(executor, workers, scheduler)
    dask = client is not None and _is_dask_client(client)
    units = {p.key: task.units(p) for p in parts}
    by_frames = all(units.values()) and bool(parts)
    bar = progress_bar(total=sum(units.values()) if by_frames else len(parts), desc=f"{task.desc} x{len(parts)}",
                       unit="frame" if by_frames else "file", quiet=quiet)
    left: dict[str, int] = {}
    for p in parts:
        left[p.path] = left.get(p.path, 0) + 1
    nfiles = len(left)

    def tick(p: Partition) -> None:  # the bar counts frames; its postfix the files done
        left[p.path] -= 1
        bar.update(units[p.key] if by_frames else 1)
        post = getattr(bar, "set_postfix_str", None)
        if post is not None:
            post(f"{sum(v == 0 for v in left.values())}/{nfiles} files")

    scattered: dict[int, Any] = {}

    def kw_for(p: Partition) -> dict[str, Any]:
        kw = task.kwargs(p)
        if not dask:
            return kw
        import numpy as np  # arrays (reference images, masks) go to the cluster once, not into every task

        out = {}
        for k, v in kw.items():
            if isinstance(v, np.ndarray):
                if id(v) not in scattered:  # a task's result: recomputed if the worker holding it is lost
                    scattered[id(v)] = (v, client.submit(_identity, v, pure=False))
                v = scattered[id(v)][1]
            out[k] = v
        return out

    try:
        totals: dict[str, Any] = {}
        if client is None:
            for p in parts:
                acc = _run_or_load(p, task, done, save_path(p), kw_for(p), errs, on_error)
                if acc is not None:
                    totals[p.camera] = acc if p.camera not in totals else totals[p.camera].merge(acc)
                    _record(p, done, save_path(p), write_manifest)
                tick(p)
            return {cam: totals[cam] for cam in sorted(totals)}
        extra = {"pure": False} if dask else {}
        # the task (its reference images, masks, detector settings) goes to the cluster once: pickled
        # into every submit it would cost the client its size per partition
        # (as a task's result, not scattered data: a worker lost with it is recomputed by the scheduler)
        shipped: Any = client.submit(_identity, task, pure=False) if dask else task
        meta: dict[Any, tuple[str, Partition | None]] = {}
        futures = []
        for p in parts:
            if p.key in done:
                f = client.submit(_load_task_part, shipped, done[p.key], **extra)
            else:
                f = client.submit(_run_task, shipped, p, save_path(p), **kw_for(p), **extra)
            meta[f] = (p.camera, p)
            futures.append(f)
        pending: dict[str, Any] = {}  # camera -> a finished future (dask) or result waiting for a partner
        ac = _as_completed(futures, dask)
        for f in (ac if ac is not None else []):
            cam, q = meta.pop(f)
            exc = f.exception()
            if exc is not None:
                if q is None or on_error == "fail":
                    raise RuntimeError(f"partition of {q.path if q else cam} failed: {exc}") from exc
                errs.append((q.path, f"{type(exc).__name__}: {exc}"))
                write_manifest()
                tick(q)
                continue
            if q is not None:
                tick(q)
                if q.key not in done and mpath is not None:
                    _record(q, done, save_path(q), write_manifest)
            if dask:
                if cam in pending:
                    g = client.submit(_merge2, pending.pop(cam), f, pure=False)
                    meta[g] = (cam, None)
                    ac.add(g)
                else:
                    pending[cam] = f
            else:
                res = f.result()
                pending[cam] = res if cam not in pending else pending[cam].merge(res)
        for cam, v in pending.items():
            totals[cam] = v.result() if dask else v
        return {cam: totals[cam] for cam in sorted(totals)}
    finally:
        bar.close()
        if errs and on_error == "skip":
            _warnings.warn(f"{len(errs)} file(s) skipped: " + "; ".join(f"{a}: {b}" for a, b in errs[:5]),
                           UserWarning, stacklevel=3)
        if own:
            client.close()
            if cluster is not None:
                cluster.close()


def _record(p: Partition, done: dict[str, str], save: str | None, write: Callable[[], None]) -> None:
    if save is None:
        return
    done[p.key] = save
    write()


def _run_or_load(p: Partition, task: PartitionTask, done: dict[str, str], save: str | None, kw: dict,
                 errs: list, on_error: str) -> Any:
    if p.key in done:
        return task.load(done[p.key])
    try:
        return task.run(p, save, **kw)
    except Exception as e:  # noqa: BLE001 - reported per file
        if on_error == "fail":
            raise RuntimeError(f"partition of {p.path} failed: {e}") from e
        errs.append((p.path, f"{type(e).__name__}: {e}"))
        return None


def _is_dask_client(obj: Any) -> bool:
    try:
        from distributed import Client
    except ImportError:
        return False
    return isinstance(obj, Client)


def _resolve_executor(executor: Any, workers: int | None, scheduler: str | None) -> tuple[Any, Any, bool]:
    """(client or executor or None, cluster we started or None, whether we own them)."""
    if scheduler is not None or workers is not None or executor == "local":
        try:
            from distributed import Client
        except ImportError:
            raise ImportError("Dask execution needs the 'dask' extra: pip install 'heatcore[dask]'") from None
        if scheduler is not None:
            return Client(scheduler), None, True
        cluster = local_cluster(workers if workers is not None else 2)
        return Client(cluster), cluster, True
    if executor is None:
        return None, None, False
    if not callable(getattr(executor, "submit", None)):
        raise TypeError(f"executor must have a submit() method (concurrent.futures or dask.distributed), got "
                        f"{type(executor).__name__}")
    return executor, None, False


def local_cluster(workers: int = 2) -> Any:
    """A ``distributed.LocalCluster`` of ``workers`` single-threaded processes on 127.0.0.1 only,
    without a dashboard (its HTTP endpoint takes a free port, so several clusters coexist); each
    worker's OpenCV and FFmpeg decoder use one thread (see ``_pin_worker_threads``), so N workers
    keep N cores busy, not N x cores."""
    from distributed import LocalCluster

    n = positive_int("workers", workers)
    import logging

    return LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                        dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                        silence_logs=logging.ERROR)  # a failed partition is reported once, by heatcore
