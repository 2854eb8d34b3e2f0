"""Exactly-once accounting for continuous ingestion.

A :class:`Ledger` is a folder: per camera and time slice ONE file
``<camera>/<slice start>.npz`` holding that slice's accumulator (its ``state()`` arrays) together
with the keys of the recordings counted in it, written to a temporary file, fsynced and renamed
over the old one. A recording changes exactly one slice, so after a crash the slice holds either
the state before the recording (key absent) or after it (key present), never half; a Kafka
offset is committed only after :meth:`Ledger.save` returned. Each save rewrites only the slices
that changed (months of slices do not make a checkpoint slower). Recordings that failed for good
and the retry list (downloads that kept failing) are in ``failures.json``, written the same way.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from ..accumulator import Accumulator, accumulator_from_state

__all__ = ["Ledger", "atomic_write_bytes"]

log = logging.getLogger("heatcore.ingest")

FORMAT = "heatcore-ingest-slice"
VERSION = 1
CACHE = 64  # accumulators kept in memory (least recently used slices are reloaded from disk)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically and durably (temporary file, fsync, rename, fsync
    of the folder)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + p.name, suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
        _fsync_dir(p.parent)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return p


def safe_name(name: str) -> str:
    """A camera name as a folder name."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".") or "_"


class Ledger:
    """Per camera and slice (Unix seconds of the slice start) an accumulator, and the keys counted.

    ``root``: the ledger folder (created; an existing one is read: keys only, accumulators are
    loaded when needed)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        if self.root.exists() and not self.root.is_dir():
            raise ValueError(f"{self.root} is not a heatcore ingest ledger folder")
        self.root.mkdir(parents=True, exist_ok=True)
        self.counted: dict[str, tuple[str, int]] = {}      # key -> (camera, slice)
        self.slice_keys: dict[tuple[str, int], list[str]] = {}
        self.failed: dict[str, str] = {}                    # key -> error (corrupt recording: never retried)
        self.retry: dict[str, dict[str, Any]] = {}          # key -> {"error", "message"} (download failed)
        self._cache: dict[tuple[str, int], Accumulator] = {}
        self._dirty: set[tuple[str, int]] = set()
        self._failures_dirty = False
        self._load()

    # -- queries ------------------------------------------------------------------------------
    def seen(self, key: str) -> bool:
        """True when ``key`` was counted or failed for good (a redelivery is then skipped)."""
        return key in self.counted or key in self.failed

    def slices(self) -> list[tuple[str, int]]:
        """(camera, slice start) of every slice, sorted."""
        return sorted(self.slice_keys)

    def path_of(self, camera: str, slice_start: int) -> Path:
        return self.root / safe_name(camera) / f"{int(slice_start)}.npz"

    def accumulator(self, camera: str, slice_start: int) -> Accumulator | None:
        """The slice's accumulator (loaded from disk when not in memory), or None."""
        k = (camera, int(slice_start))
        if k in self._cache:
            acc = self._cache.pop(k)
            self._cache[k] = acc  # most recently used last
            return acc
        if k not in self.slice_keys:
            return None
        acc, _ = self._read(self.path_of(*k))
        self._remember(k, acc)
        return acc

    @property
    def cameras(self) -> dict[str, dict[int, Accumulator]]:
        """Every accumulator, ``{camera: {slice start: accumulator}}`` (loads them all)."""
        out: dict[str, dict[int, Accumulator]] = {}
        for cam, s in self.slices():
            acc = self.accumulator(cam, s)
            assert acc is not None
            out.setdefault(cam, {})[s] = acc
        return out

    def items(self) -> Iterator[tuple[str, int, Accumulator]]:
        for cam, s in self.slices():
            acc = self.accumulator(cam, s)
            assert acc is not None
            yield cam, s, acc

    # -- changes (in memory until save) ---------------------------------------------------------
    def add(self, key: str, camera: str, slice_start: int, acc: Accumulator) -> bool:
        """Merge ``acc`` (one recording's accumulator) into the camera's slice; False (and
        nothing changes) when ``key`` was already counted."""
        if self.seen(key):
            log.info("recording %s already counted: skipped", key)
            return False
        k = (camera, int(slice_start))
        cur = self.accumulator(*k)
        if cur is not None:
            cur.merge(acc)
        else:
            cur = acc
        self._remember(k, cur)
        self.counted[key] = k
        self.slice_keys.setdefault(k, []).append(key)
        self._dirty.add(k)
        if self.retry.pop(key, None) is not None:
            self._failures_dirty = True
        return True

    def fail(self, key: str, error: str) -> None:
        self.failed[key] = error
        self.retry.pop(key, None)
        self._failures_dirty = True

    def park(self, key: str, error: str, message: Any = None) -> None:
        self.retry[key] = {"error": error, "message": message}
        self._failures_dirty = True

    # -- persistence -----------------------------------------------------------------------------
    def save(self) -> None:
        """Write the changed slices (each atomically) and the failures; returns once on disk.
        Slices are written before the failures file, so a key is never lost from both."""
        for k in sorted(self._dirty):
            acc = self._cache[k]
            arrays = {name: np.asarray(v) for name, v in acc.state().items()}
            arrays["__kind__"] = np.array(acc.kind)
            meta = {"format": FORMAT, "version": VERSION, "camera": k[0], "slice": k[1], "keys": self.slice_keys[k]}
            arrays["__ledger__"] = np.array(json.dumps(meta))
            buf = io.BytesIO()
            np.savez(buf, **arrays)  # type: ignore[arg-type]
            atomic_write_bytes(self.path_of(*k), buf.getvalue())
        self._dirty.clear()
        if self._failures_dirty:
            doc = {"failed": self.failed, "retry": self.retry}
            atomic_write_bytes(self.root / "failures.json", json.dumps(doc, indent=1, sort_keys=True).encode())
            self._failures_dirty = False
        self._evict()

    def _remember(self, k: tuple[str, int], acc: Accumulator) -> None:
        self._cache.pop(k, None)
        self._cache[k] = acc
        self._evict()

    def _evict(self) -> None:
        for k in list(self._cache):
            if len(self._cache) <= CACHE:
                break
            if k not in self._dirty:
                del self._cache[k]

    @staticmethod
    def _meta(z: Any, path: Path) -> dict[str, Any]:
        try:
            meta = json.loads(str(z["__ledger__"]))
        except (KeyError, ValueError):
            raise ValueError(f"{path} is not a heatcore ingest ledger slice") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ValueError(f"{path} is not a heatcore ingest ledger slice")
        return meta

    def _read(self, path: Path) -> tuple[Accumulator, dict[str, Any]]:
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = self._meta(z, path)
                st = {k: z[k] for k in z.files if k != "__ledger__"}
        except (OSError, EOFError) as exc:
            raise ValueError(f"{path} is not a heatcore ingest ledger slice: {exc}") from None
        return accumulator_from_state(st), meta

    def _load(self) -> None:
        import zipfile

        for p in sorted(self.root.glob("*/*.npz")):
            try:
                with np.load(p, allow_pickle=False) as z:  # reads only the keys member
                    meta = self._meta(z, p)
            except (OSError, EOFError, ValueError, zipfile.BadZipFile) as exc:
                if str(exc).startswith(f"{p} is not"):
                    raise
                raise ValueError(f"{p} is not a heatcore ingest ledger slice: {exc}") from None
            k = (str(meta["camera"]), int(meta["slice"]))
            keys = [str(x) for x in meta["keys"]]
            self.slice_keys[k] = keys
            for key in keys:
                self.counted[key] = k
        f = self.root / "failures.json"
        if f.exists():
            try:
                doc = json.loads(f.read_text())
            except ValueError as exc:
                raise ValueError(f"{f} is not valid JSON: {exc}") from None
            self.failed = dict(doc.get("failed", {}))
            self.retry = dict(doc.get("retry", {}))
