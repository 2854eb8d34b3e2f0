"""Exactly-once accounting for continuous ingestion.

A :class:`Ledger` holds, per camera and time slice, one accumulator, plus the set of recording
keys already counted (and those that failed for good). Everything is saved together in ONE
checkpoint file (``.npz``: every accumulator's ``state()`` arrays under ``<camera>/<slice>/``
prefixes, and a JSON document with the keys), written to a temporary file, fsynced and renamed
over the old one: after a crash the file holds either the state before a recording or the state
after it, never half. A Kafka offset is committed only after :meth:`Ledger.save` returned.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ..accumulator import Accumulator, accumulator_from_state

__all__ = ["Ledger", "atomic_write_bytes"]

log = logging.getLogger("heatcore.ingest")

FORMAT = "heatcore-ingest-ledger"
VERSION = 1


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
    """Write ``data`` to ``path`` atomically and durably (temporary file, fsync, rename)."""
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


class Ledger:
    """Per camera and slice (Unix seconds of the slice start) an accumulator, and the keys counted.

    ``path``: the checkpoint file (``.npz``); loaded when it exists."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.cameras: dict[str, dict[int, Accumulator]] = {}
        self.counted: dict[str, dict[str, Any]] = {}   # key -> {"camera", "slice"}
        self.failed: dict[str, str] = {}               # key -> error (corrupt recording: never retried)
        self.retry: dict[str, dict[str, Any]] = {}     # key -> {"error", "message"} (download failed)
        if self.path.exists():
            self._load()

    # -- queries ------------------------------------------------------------------------------
    def seen(self, key: str) -> bool:
        """True when ``key`` was counted or failed for good (a redelivery is then skipped)."""
        return key in self.counted or key in self.failed

    def accumulator(self, camera: str, slice_start: int) -> Accumulator | None:
        return self.cameras.get(camera, {}).get(int(slice_start))

    # -- changes (in memory until save) ---------------------------------------------------------
    def add(self, key: str, camera: str, slice_start: int, acc: Accumulator) -> bool:
        """Merge ``acc`` (one recording's accumulator) into the camera's slice; False (and
        nothing changes) when ``key`` was already counted."""
        if self.seen(key):
            log.info("recording %s already counted: skipped", key)
            return False
        slices = self.cameras.setdefault(camera, {})
        s = int(slice_start)
        if s in slices:
            slices[s].merge(acc)
        else:
            slices[s] = acc
        self.counted[key] = {"camera": camera, "slice": s}
        self.retry.pop(key, None)
        return True

    def fail(self, key: str, error: str) -> None:
        self.failed[key] = error
        self.retry.pop(key, None)

    def park(self, key: str, error: str, message: Any = None) -> None:
        self.retry[key] = {"error": error, "message": message}

    # -- persistence -----------------------------------------------------------------------------
    def save(self) -> Path:
        """Write everything atomically and durably (returns once the file is on disk)."""
        arrays: dict[str, np.ndarray] = {}
        index: list[list[Any]] = []
        for ci, (cam, slices) in enumerate(sorted(self.cameras.items())):
            for s, acc in sorted(slices.items()):
                prefix = f"c{ci}_s{s}__"
                st = acc.state()
                for k, v in st.items():
                    arrays[prefix + k] = np.asarray(v)
                arrays[prefix + "__kind__"] = np.array(acc.kind)
                index.append([cam, s, prefix])
        meta = {"format": FORMAT, "version": VERSION, "index": index, "counted": self.counted,
                "failed": self.failed, "retry": self.retry}
        arrays["__ledger__"] = np.array(json.dumps(meta, sort_keys=True))
        import io

        buf = io.BytesIO()
        np.savez(buf, **arrays)  # type: ignore[arg-type]
        return atomic_write_bytes(self.path, buf.getvalue())

    def _load(self) -> None:
        try:
            with np.load(self.path, allow_pickle=False) as z:
                data = {k: z[k] for k in z.files}
            meta = json.loads(str(data.pop("__ledger__")))
        except (OSError, ValueError, KeyError) as exc:
            raise ValueError(f"{self.path} is not a heatcore ingest ledger: {exc}") from None
        if meta.get("format") != FORMAT:
            raise ValueError(f"{self.path} is not a heatcore ingest ledger")
        for cam, s, prefix in meta["index"]:
            st = {k[len(prefix):]: v for k, v in data.items() if k.startswith(prefix)}
            self.cameras.setdefault(str(cam), {})[int(s)] = accumulator_from_state(st)
        self.counted = dict(meta.get("counted", {}))
        self.failed = dict(meta.get("failed", {}))
        self.retry = dict(meta.get("retry", {}))
