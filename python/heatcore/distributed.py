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

from typing import Any, Callable, Iterable, Sequence, TypeVar

from ._checks import nonneg_int, positive_int
from .accumulator import Accumulator

__all__ = ["split_range", "merge_all", "map_merge", "Partition", "plan_partitions", "run_partition", "run_partitions", "local_cluster"]

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
    where a stateful model (MOG/MOG2) starts learning without counting."""

    camera: str
    path: str
    start: int
    stop: int
    warm_start: int

    @property
    def key(self) -> str:
        """A stable file-name-safe id (camera, path, range)."""
        h = _hashlib.sha1(f"{self.camera}\0{_os.path.abspath(self.path)}\0{self.start}\0{self.stop}\0"
                          f"{self.warm_start}".encode()).hexdigest()[:16]
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in self.camera)[:40]
        return f"{safe}-{h}"

    @property
    def frames(self) -> int:
        """Frames counted (warm-up excluded), before any stride."""
        return self.stop - self.start


def plan_partitions(segments: Sequence[Any], *, split_frames: int | None = None, warmup: int = 0,
                    stride: int = 1, on_error: str = "fail") -> tuple[list[Partition], list[tuple[str, str]]]:
    """Partitions of segments (:class:`heatcore.inputs.Segment` or anything with ``camera`` and
    ``path``): one per file, or frame ranges of at most ``split_frames`` frames (boundaries aligned
    to ``stride``). Returns ``(partitions, errors)``; ``errors`` are ``(file, message)`` of files
    whose frame count cannot be read (``on_error="fail"`` raises ValueError instead)."""
    from .io.video import video_info

    parts: list[Partition] = []
    errors: list[tuple[str, str]] = []
    for seg in segments:
        path = _os.path.abspath(seg.path)  # workers may run in another folder
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
        nparts = 1 if not split_frames else max(1, -(-n // positive_int("split_frames", split_frames)))
        for a, b in split_range(n, nparts, align=stride):
            w = max(0, a - warmup * stride)
            parts.append(Partition(seg.camera, path, a, b, w))
    return parts, errors


def run_partition(part: Partition, method: str = "diff", *, stride: int = 1, gray: bool | None = None,
                  decoder: str = "auto", save: str | None = None, throttle: float = 0.0,
                  **params: Any) -> Any:
    """Run one partition (on a worker): warm-up frames ``[warm_start, start)`` teach the model
    uncounted, frames ``[start, stop)`` are counted. Frames are decoded exactly as
    :func:`heatcore.motion.motion_heatmap` decodes them, so a diff partition with a fixed reference
    image counts bit-identically. ``save``: also write the state here (.npz, the job manifest's
    part). ``throttle``: seconds of sleep per frame (tests of worker loss only). Returns the
    :class:`~heatcore.motion.MotionHeatmap`."""
    from .motion import MotionHeatmap, _frame_source

    if gray is None:
        gray = method == "diff"
    kernel_gray = bool(gray) and method != "diff"
    acc = MotionHeatmap(method, gray=kernel_gray, **params)
    warm = -(-(part.start - part.warm_start) // stride)
    src = _frame_source(part.path, stride=stride, start=part.warm_start, stop=part.stop, gray=bool(gray),
                        decoder=decoder, scale=acc.scale, kernel_gray=kernel_gray or method == "diff",
                        full=lambda n: n == 0 or acc.background == "median")
    n = 0
    for item in src:
        if n == warm and warm:
            acc.reset_counts()
        acc.update(item[1], processed=item[2])
        n += 1
        if throttle:
            _time.sleep(throttle)
    if warm and n <= warm:
        raise ValueError(f"{part.path}: only {n} frames decoded, the partition starts at frame {part.start}")
    if n == 0:
        raise ValueError(f"{part.path}: no frames decoded in [{part.start}, {part.stop})")
    if save is not None:
        acc.save(save)
    return acc


def _load_part(path: str) -> Any:
    from .accumulator import load_state

    return load_state(path)


def _merge2(a: Any, b: Any) -> Any:
    return a.merge(b)


def _config_digest(method: str, stride: int, gray: Any, decoder: str, warmup: int, params: dict) -> str:
    def enc(v: Any) -> Any:
        import numpy as np

        if isinstance(v, np.ndarray):
            return _hashlib.sha1(np.ascontiguousarray(v).tobytes()).hexdigest() + str(v.shape)
        if isinstance(v, _os.PathLike):
            return _os.fspath(v)
        return v

    blob = _json.dumps({"method": method, "stride": stride, "gray": gray, "decoder": decoder, "warmup": warmup,
                        "params": {k: enc(v) for k, v in sorted(params.items())}}, sort_keys=True, default=str)
    return _hashlib.sha1(blob.encode()).hexdigest()


def _as_completed(futures: list[Any], dask: bool) -> Any:
    if dask:
        from distributed import as_completed

        return as_completed(futures)
    import concurrent.futures as cf

    return None if not futures else cf.as_completed(futures)


def run_partitions(segments: Sequence[Any], method: str = "diff", *, executor: Any = None, workers: int | None = None,
                   scheduler: str | None = None, split_frames: int | None = None, warmup: int | None = None,
                   stride: int = 1, gray: bool | None = None, decoder: str = "auto",
                   manifest: str | _os.PathLike[str] | None = None, on_error: str = "fail", quiet: bool = True,
                   errors: list[tuple[str, str]] | None = None, throttle: float = 0.0,
                   references: dict[str, Any] | None = None, **params: Any) -> dict[str, Any]:
    """Motion heatmaps of many segment files, one merged :class:`~heatcore.motion.MotionHeatmap`
    per camera (returned as ``{camera: heatmap}``).

    Partitions are files, long files split into frame ranges of at most ``split_frames`` frames.
    A MOG/MOG2 partition not starting at frame 0 first runs ``warmup`` frames (default: the model's
    history, e.g. 200 for MOG) before its start without counting them, so the merged result is
    close to one uninterrupted run per file (the warm-up stays inside the file: a file's first
    partition starts with a fresh model, as ``motion_heatmap`` on that file does); diff with a fixed ``reference`` image is exact.

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
    ``reference`` for those cameras). Other keyword arguments go to :class:`~heatcore.motion.MotionHeatmap` (``reference``,
    ``threshold``, ``blur``, ``scale``, ``history``, ...)."""
    from .motion import METHODS, MotionHeatmap
    from .progress import progress_bar

    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if on_error not in ("fail", "skip"):
        raise ValueError(f"on_error must be 'fail' or 'skip', got {on_error!r}")
    stride = positive_int("stride", stride)
    if not segments:
        raise ValueError("run_partitions needs at least one segment")
    probe = MotionHeatmap(method, **params)  # validates the parameters here, before any work
    if warmup is None:
        warmup = 0 if method == "diff" else probe.history
    warmup = nonneg_int("warmup", warmup)
    references = dict(references or {})
    if method == "diff" and probe.ref_kind != "image" and not {s.camera for s in segments} <= set(references):
        raise ValueError("method 'diff' over partitions needs a fixed reference image (reference=path or array) so "
                         "the partitions merge exactly")
    errs: list[tuple[str, str]] = [] if errors is None else errors
    parts, bad = plan_partitions(segments, split_frames=split_frames, warmup=warmup, stride=stride,
                                 on_error=on_error)
    errs.extend(bad)

    # the job manifest: finished partitions and their saved states
    done: dict[str, str] = {}
    mpath = None if manifest is None else _Path(manifest).resolve()  # workers may run elsewhere
    digest = _config_digest(method, stride, gray, decoder, warmup,
                            {**params, **{f"reference[{k}]": v for k, v in references.items()}})
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

    write_manifest()
    client, cluster, own = _resolve_executor(executor, workers, scheduler)
    dask = client is not None and _is_dask_client(client)
    bar = progress_bar(total=sum(-(-p.frames // stride) for p in parts), desc=f"motion ({method}) x{len(parts)}",
                       quiet=quiet)
    left: dict[str, int] = {}
    for p in parts:
        left[p.path] = left.get(p.path, 0) + 1
    nfiles = len(left)

    def tick(p: Partition) -> None:  # the bar counts frames; its postfix the files done
        left[p.path] -= 1
        bar.update(-(-p.frames // stride))
        post = getattr(bar, "set_postfix_str", None)
        if post is not None:
            post(f"{sum(v == 0 for v in left.values())}/{nfiles} files")

    task_kw = dict(stride=stride, gray=gray, decoder=decoder, throttle=throttle, **params)
    if dask:  # arrays (reference images, masks) go to the cluster once, not pickled into every task
        import numpy as np

        task_kw = {k: client.scatter(v, broadcast=True) if isinstance(v, np.ndarray) else v
                   for k, v in task_kw.items()}
        references = {k: client.scatter(v, broadcast=True) if isinstance(v, np.ndarray) else v
                      for k, v in references.items()}

    def kw_for(p: Partition) -> dict[str, Any]:
        return task_kw if p.camera not in references else {**task_kw, "reference": references[p.camera]}

    try:
        totals: dict[str, Any] = {}
        if client is None:
            for p in parts:
                acc = _run_or_load(p, done, mpath, kw_for(p), method, errs, on_error)
                if acc is not None:
                    totals[p.camera] = acc if p.camera not in totals else totals[p.camera].merge(acc)
                    _record(p, done, mpath, write_manifest)
                tick(p)
            return totals
        meta: dict[Any, tuple[str, Partition | None]] = {}
        futures = []
        for p in parts:
            if p.key in done:
                f = client.submit(_load_part, done[p.key], **({"pure": False} if dask else {}))
            else:
                save = None if mpath is None else str(mpath.parent / "parts" / f"{p.key}.npz")
                f = client.submit(run_partition, p, method, save=save, **kw_for(p), **({"pure": False} if dask else {}))
            meta[f] = (p.camera, p)
            futures.append(f)
        pending: dict[str, Any] = {}  # camera -> a finished future (dask) or accumulator waiting for a partner
        running: dict[str, int] = {}
        for f in futures:
            running[meta[f][0]] = running.get(meta[f][0], 0) + 1
        ac = _as_completed(futures, dask)
        for f in ac:
            cam, q = meta.pop(f)
            exc = f.exception()
            running[cam] -= 1
            if exc is not None:
                if q is None or on_error == "fail":
                    raise RuntimeError(f"partition of {q.path if q else cam} failed: {exc}") from exc
                errs.append((q.path, f"{type(exc).__name__}: {exc}"))
                write_manifest()
                continue
            if q is not None:
                tick(q)
                if q.key not in done and mpath is not None:
                    _record(q, done, mpath, write_manifest)
            if dask:
                if cam in pending:
                    g = client.submit(_merge2, pending.pop(cam), f, pure=False)
                    meta[g] = (cam, None)
                    running[cam] += 1
                    ac.add(g)
                else:
                    pending[cam] = f
            else:
                acc = f.result()
                pending[cam] = acc if cam not in pending else pending[cam].merge(acc)
        for cam, v in pending.items():
            totals[cam] = v.result() if dask else v
        return {cam: totals[cam] for cam in sorted(totals)}
    finally:
        bar.close()
        if errs and on_error == "skip":
            _warnings.warn(f"{len(errs)} file(s) skipped: " + "; ".join(f"{a}: {b}" for a, b in errs[:5]),
                           UserWarning, stacklevel=2)
        if own:
            client.close()
            if cluster is not None:
                cluster.close()


def _record(p: Partition, done: dict[str, str], mpath: _Path | None, write: Callable[[], None]) -> None:
    if mpath is None:
        return
    done[p.key] = str(mpath.parent / "parts" / f"{p.key}.npz")
    write()


def _run_or_load(p: Partition, done: dict[str, str], mpath: _Path | None, kw: dict, method: str,
                 errs: list, on_error: str) -> Any:
    if p.key in done:
        return _load_part(done[p.key])
    save = None if mpath is None else str(mpath.parent / "parts" / f"{p.key}.npz")
    try:
        return run_partition(p, method, save=save, **kw)
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
    without a dashboard (its HTTP endpoint takes a free port, so several clusters coexist)."""
    from distributed import LocalCluster

    n = positive_int("workers", workers)
    return LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                        dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
