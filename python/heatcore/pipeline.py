"""The one pipeline driver: source → stages → accumulators → sinks (see DESIGN.md).

A :class:`Job` names a source (records with their time: video frames, detection files, ...),
optional stages (detect, track, ...), the accumulators that count and the sinks that write.
:func:`run` alone owns what every long job needs:

* **batching and progress** — records flow in batches; one tqdm bar (``quiet`` turns it off);
* **checkpoint/resume** — with ``checkpoint=path`` the accumulators' state, every stage's state,
  every sink's position, the number of records done and a fingerprint of the input and of every
  parameter are saved atomically every ``checkpoint_every`` records. A rerun with the same path
  resumes: sinks are truncated to their saved position and the result is byte-identical to an
  uninterrupted run. Another input or other parameters: :class:`CheckpointMismatch` says what
  differs (``restart=True`` starts over). An accumulator or sink whose state cannot be saved
  exactly refuses ``checkpoint`` up front.
* **atomic outputs** — sinks write to temporary names and rename them when the run ends; a failed
  run removes what it started (a resumable run keeps its partial files for the resume).

The CLI commands, the Dask runner and the ingestion service build jobs and call :func:`run`.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np

from .accumulator import Accumulator, accumulator_from_state

__all__ = ["Job", "RunResult", "Source", "IterSource", "Stage", "Sink", "CheckpointMismatch", "run",
           "file_fingerprint", "batched"]

CHECKPOINT_VERSION = 2


class CheckpointMismatch(ValueError):
    """A checkpoint belongs to another input or other parameters (the message says what differs)."""


# ---------------------------------------------------------------------------------------------
# sources
# ---------------------------------------------------------------------------------------------

def file_fingerprint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Identity of an input file: resolved path, size, modification time (ns) and the SHA-256 of
    its first MiB. A folder: its sorted file names, sizes and times."""
    p = Path(path)
    if p.is_dir():
        h = hashlib.sha256()
        for f in sorted(p.iterdir()):
            if f.is_file():
                st = f.stat()
                h.update(f"{f.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        return {"path": str(p.resolve()), "listing": h.hexdigest()[:32]}
    st = p.stat()
    h = hashlib.sha256()
    with open(p, "rb") as fh:
        h.update(fh.read(1 << 20))
    return {"path": str(p.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns, "head": h.hexdigest()[:32]}


class Source:
    """Where records come from. Subclasses implement :meth:`batches` (records after the first
    ``skip``, in lists), :meth:`fingerprint` (input identity + the parameters that choose the
    records) and optionally :meth:`total` (for progress)."""

    name: str = "source"

    def batches(self, skip: int) -> Iterator[Sequence[Any]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def fingerprint(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def total(self) -> int | None:
        return None

    def close(self) -> None:
        """Release files (called when the run ends)."""


def batched(items: Iterable[Any], n: int) -> Iterator[list[Any]]:
    """Lists of up to ``n`` consecutive items."""
    batch: list[Any] = []
    for x in items:
        batch.append(x)
        if len(batch) >= n:
            yield batch
            batch = []
    if batch:
        yield batch


class IterSource(Source):
    """A source from a function ``records(skip) -> iterator`` (records after the first ``skip``)."""

    def __init__(self, records: Callable[[int], Iterable[Any]], *, fingerprint: dict[str, Any] | None = None,
                 total: int | None = None, batch: int = 64, name: str = "records") -> None:
        self._records = records
        self._fp = fingerprint if fingerprint is not None else {}
        self._total = total
        self._batch = int(batch)
        self.name = name

    def batches(self, skip: int) -> Iterator[Sequence[Any]]:
        return batched(self._records(skip), self._batch)

    def fingerprint(self) -> dict[str, Any]:
        return dict(self._fp)

    def total(self) -> int | None:
        return self._total


# ---------------------------------------------------------------------------------------------
# stages and sinks
# ---------------------------------------------------------------------------------------------

class Stage:
    """Turns a batch of records into another (detect, track, ...). Stateful stages return their
    state as JSON-able data so checkpoints resume exactly."""

    name: str = "stage"

    def config(self) -> dict[str, Any]:
        return {}

    def process(self, batch: Sequence[Any]) -> Sequence[Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def state(self) -> Any:
        return None

    def load_state(self, state: Any) -> None:
        pass


class Sink:
    """Writes outputs. ``write(batch, results)`` gets the batch of records and, per accumulator
    name, the list of what ``update`` returned for each record. ``position()`` is a JSON-able
    resume point (flushes first); ``open(position)`` starts fresh (None) or continues at a saved
    position (files truncated there); ``finish(accumulators)`` writes final outputs and moves
    temporary files to their names (returns the paths); ``abort()`` removes what the sink started.
    ``resumable = False`` makes the pipeline refuse checkpoints. ``detail = True`` asks the
    accumulators for per-record detail (e.g. motion masks)."""

    name: str = "sink"
    resumable: bool = True
    detail: bool = False

    def config(self) -> dict[str, Any]:
        return {}

    def open(self, position: Any | None) -> None:
        pass

    def write(self, batch: Sequence[Any], results: dict[str, Any]) -> None:
        pass

    def position(self) -> Any:
        return None

    def finish(self, accumulators: dict[str, Accumulator]) -> list[Path]:
        return []

    def abort(self) -> None:
        pass

    def release(self) -> None:
        """Close open files but keep them (the run stopped and may be resumed)."""


# ---------------------------------------------------------------------------------------------
# the job
# ---------------------------------------------------------------------------------------------

@dataclass
class Job:
    """What to run. ``accumulators``: name → accumulator (fresh, configured). ``params``: extra
    parameters that must match for a resume (anything that changes the result)."""

    source: Source
    accumulators: dict[str, Accumulator]
    stages: list[Stage] = field(default_factory=list)
    sinks: list[Sink] = field(default_factory=list)
    checkpoint: str | os.PathLike[str] | None = None
    checkpoint_every: int = 500
    restart: bool = False
    quiet: bool = True
    desc: str = "heatcore"
    unit: str = "frame"
    params: dict[str, Any] = field(default_factory=dict)
    on_batch: Callable[[int], None] | None = None
    stop_after: int | None = None  # for tests: stop (as if killed) after this many records


@dataclass
class RunResult:
    accumulators: dict[str, Accumulator]
    records: int  # records consumed in all (including those before a resume)
    resumed_at: int
    seconds: float
    outputs: list[Path]
    complete: bool = False  # True: a finished checkpoint was found; nothing ran again

    def __getitem__(self, name: str) -> Accumulator:
        return self.accumulators[name]

    def summary(self, what: str = "records") -> str:
        """One line: ``"9000 frames (resumed at frame 4000) in 1.20 s (4,167 frames/s)"``, or what a
        finished checkpoint means."""
        if self.complete:
            return (f"the checkpoint says this run finished already ({self.records} {what}); --restart runs it "
                    "again")
        rate = (self.records - self.resumed_at) / self.seconds if self.seconds > 0 else float("inf")
        resumed = f" (resumed at {what.rstrip('s')} {self.resumed_at})" if self.resumed_at else ""
        return f"{self.records} {what}{resumed} in {self.seconds:.2f} s ({rate:,.0f} {what}/s)"


def _jsonable(x: Any) -> Any:
    return json.loads(json.dumps(x, sort_keys=True, default=str))


def _fingerprint(job: Job) -> dict[str, Any]:
    return _jsonable({
        "source": job.source.fingerprint(),
        "stages": [{"stage": s.name, **s.config()} for s in job.stages],
        "accumulators": {k: {"kind": a.kind, **a.config()} for k, a in job.accumulators.items()},
        "sinks": [{"sink": sk.name, **sk.config()} for sk in job.sinks],
        "params": job.params,
    })


def _diff(old: Any, new: Any, path: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for k in sorted(set(old) | set(new)):
            out += _diff(old.get(k), new.get(k), f"{path}.{k}" if path else str(k))
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        out = []
        for i, (a, b) in enumerate(zip(old, new)):
            out += _diff(a, b, f"{path}[{i}]")
        return out
    if old != new:
        return [f"{path}: {old!r} -> {new!r}"]
    return []


def _save_checkpoint(path: Path, job: Job, fp: dict[str, Any], done: int, positions: list[Any],
                     complete: bool = False) -> None:
    payload: dict[str, np.ndarray] = {}
    for name, acc in job.accumulators.items():
        for k, v in acc.state().items():
            payload[f"acc/{name}/{k}"] = np.asarray(v)
        payload[f"acc/{name}/__kind__"] = np.array(acc.kind)
    meta = {"version": CHECKPOINT_VERSION, "fingerprint": fp, "done": done, "positions": positions,
            "stages": [s.state() for s in job.stages], "saved": time.time(), "complete": complete}
    payload["__meta__"] = np.array(json.dumps(meta, default=str))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp.npz", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **payload)  # type: ignore[arg-type]
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def read_checkpoint(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, dict[str, np.ndarray]]]:
    """``(meta, {accumulator name: state arrays})`` of a pipeline checkpoint."""
    p = Path(path)
    try:
        with open(p, "rb") as fh, np.load(fh, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError, KeyError, AttributeError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{p} is not a heatcore checkpoint ({type(exc).__name__}: {exc}); "
                         "remove it or use --restart") from None
    if "__meta__" not in arrays:
        raise ValueError(f"{p} is not a heatcore pipeline checkpoint (no metadata); remove it or use --restart")
    meta = json.loads(str(arrays.pop("__meta__")))
    if meta.get("version") != CHECKPOINT_VERSION:
        raise CheckpointMismatch(f"{p} was written by another heatcore version (format {meta.get('version')}); "
                                 "use --restart")
    states: dict[str, dict[str, np.ndarray]] = {}
    for k, v in arrays.items():
        _, name, key = k.split("/", 2)
        states.setdefault(name, {})[key] = v
    return meta, states


def _check_resumable(job: Job) -> None:
    for name, acc in job.accumulators.items():
        why = acc.checkpoint_refusal()
        if why:
            raise ValueError(f"cannot checkpoint: {why}")
    for sk in job.sinks:
        if not sk.resumable:
            raise ValueError(f"cannot checkpoint: the {sk.name} output cannot be resumed exactly; "
                             "drop it or run without a checkpoint")


def run(job: Job) -> RunResult:
    """Run ``job`` (see the module docstring) and return the accumulators and the outputs."""
    from .progress import progress_bar

    every = int(job.checkpoint_every)
    if every < 1:
        raise ValueError(f"checkpoint_every must be >= 1 record, got {job.checkpoint_every!r}")
    ck = Path(job.checkpoint) if job.checkpoint is not None else None
    fp = _fingerprint(job)
    done = 0
    positions: list[Any] = [None] * len(job.sinks)
    if ck is not None:
        _check_resumable(job)
        if ck.exists() and job.restart:
            ck.unlink()
        if ck.exists():
            meta, states = read_checkpoint(ck)
            diffs = _diff(meta.get("fingerprint"), fp)
            if diffs:
                shown = "; ".join(diffs[:4]) + (f"; and {len(diffs) - 4} more" if len(diffs) > 4 else "")
                raise CheckpointMismatch(f"checkpoint {ck} belongs to another run ({shown}); "
                                         "use --restart (restart=True) to start over")
            for name in job.accumulators:
                job.accumulators[name] = accumulator_from_state(states[name])
            for s, st in zip(job.stages, meta.get("stages", [])):
                s.load_state(st)
            done = int(meta["done"])
            positions = list(meta.get("positions") or positions)
            if meta.get("complete"):
                # finished before: the outputs are in place; return the saved result
                return RunResult(job.accumulators, done, done, 0.0, [], complete=True)
    resumed_at = done
    t0 = time.perf_counter()
    for sk, pos in zip(job.sinks, positions):
        sk.open(pos)
    detail = any(s.detail for s in job.sinks)
    bar = progress_bar(total=job.source.total(), initial=done, desc=job.desc, unit=job.unit, quiet=job.quiet)
    last_ck = done
    ok = False
    try:
        for batch in job.source.batches(done):
            for st in job.stages:
                batch = st.process(batch)
            results = {name: acc.update_batch(batch, detail=detail) for name, acc in job.accumulators.items()}
            for sk in job.sinks:
                sk.write(batch, results)
            for r in results.values():
                err = getattr(r, "error", None)
                if isinstance(err, BaseException):
                    raise err
            done += len(batch)
            bar.update(len(batch))
            if job.on_batch is not None:
                job.on_batch(done)
            if ck is not None and done - last_ck >= every:
                _save_checkpoint(ck, job, fp, done, [s.position() for s in job.sinks])
                last_ck = done
            if job.stop_after is not None and done >= job.stop_after:
                raise _Stopped()
        ok = True
    except _Stopped:
        # a simulated kill (tests): the partial files and the checkpoint stay, as after SIGKILL
        return RunResult(job.accumulators, done, resumed_at, time.perf_counter() - t0, [])
    finally:
        bar.close()
        job.source.close()
        if not ok:
            for sk in job.sinks:
                if ck is None:
                    sk.abort()
                else:
                    sk.release()
    outputs: list[Path] = []
    try:
        for sk in job.sinks:
            outputs += sk.finish(job.accumulators)
    except BaseException:
        for sk in job.sinks:
            sk.abort()
        raise
    if ck is not None:
        _save_checkpoint(ck, job, fp, done, [None] * len(job.sinks), complete=True)
    return RunResult(job.accumulators, done, resumed_at, time.perf_counter() - t0, outputs)


class _Stopped(Exception):
    pass
