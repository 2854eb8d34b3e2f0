"""``heatcore watch --folder DIR``: new video files that stopped growing (same size and
modification time over two polls) are processed once; their keys are their paths relative to
the folder (POSIX separators)."""

from __future__ import annotations

import functools
import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ..jobs import VIDEO_SUFFIXES
from .process import camera_from_key

if TYPE_CHECKING:
    from . import Watcher

__all__ = ["scan", "watch_folder"]

log = logging.getLogger("heatcore.ingest")


def _local(path: Path) -> tuple[Path, bool]:
    return path, False  # a local file: processed in place, never removed


def scan(root: Path) -> dict[str, tuple[int, int]]:
    """Video files under ``root`` (hidden and temporary files skipped): key → (size, mtime ns)."""
    found: dict[str, tuple[int, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if name.startswith(".") or name.endswith((".tmp", ".part")):
                continue
            if Path(name).suffix.lower() not in VIDEO_SUFFIXES:
                continue
            p = Path(dirpath) / name
            try:
                st = p.stat()
            except OSError:
                continue
            found[p.relative_to(root).as_posix()] = (st.st_size, st.st_mtime_ns)
    return found


def watch_folder(watcher: "Watcher", folder: str | os.PathLike[str], *, poll: float = 1.0,
                 idle_exit: float | None = None) -> None:
    """Poll ``folder`` every ``poll`` seconds until ``watcher.stop`` is set (or, with
    ``idle_exit``, until nothing new arrived for that many seconds)."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"no such folder: {root}")
    last: dict[str, tuple[int, int]] = {}
    idle_since = time.monotonic()
    while not watcher.stop:
        now_files = scan(root)
        ready = sorted(k for k, v in now_files.items()
                       if not watcher.ledger.seen(k) and v[0] > 0 and last.get(k) == v)
        pending = any(not watcher.ledger.seen(k) for k in now_files)
        last = now_files
        for key in ready:
            if watcher.stop:
                break
            watcher.handle(key, camera_from_key(key), fetch=functools.partial(_local, root / key))
        watcher.tick()
        if ready or pending:
            idle_since = time.monotonic()
        elif idle_exit is not None and time.monotonic() - idle_since >= idle_exit:
            log.info("no new recordings for %.1f s: exiting", idle_exit)
            break
        watcher.wait(poll)
