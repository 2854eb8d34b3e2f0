"""The status file of ``heatcore watch`` (JSON, rewritten atomically after every recording):
recordings processed, duplicates skipped, failed (key → error), the retry list, the last error,
the lag (seconds between a recording's announcement and its processing; Kafka consumer lag in
messages when known)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from ..limits import clip
from .ledger import atomic_write_bytes

__all__ = ["Status", "read_status"]


class Status:
    """Counters of one watcher (kept across restarts: the file is read back when it exists)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.data: dict[str, Any] = {"processed": 0, "skipped_duplicates": 0, "failed": {}, "invalid_messages": 0,
                                     "retry": {}, "last_error": None, "lag_seconds": None, "lag_messages": None,
                                     "started": time.time(), "updated": None, "restarts": 0}
        if self.path.exists():
            try:
                old = json.loads(self.path.read_text())
                if isinstance(old, dict):
                    self.data.update({k: old[k] for k in self.data if k in old and k != "started"})
                    self.data["restarts"] = int(old.get("restarts", 0)) + 1
            except (OSError, ValueError):
                pass

    def processed(self, key: str, lag: float | None = None) -> None:
        self.data["processed"] += 1
        self.data["retry"].pop(key, None)
        if lag is not None:
            self.data["lag_seconds"] = round(float(lag), 3)

    def duplicate(self, key: str) -> None:
        self.data["skipped_duplicates"] += 1

    def failed(self, key: str, error: str) -> None:
        self.data["failed"][key] = clip(error, 500)
        self.data["retry"].pop(key, None)
        self.error(f"{key}: {error}")

    def parked(self, key: str, error: str) -> None:
        self.data["retry"][key] = clip(error, 500)
        self.error(f"{key}: {error}")

    def invalid(self, error: str) -> None:
        self.data["invalid_messages"] += 1
        self.error(error)

    def error(self, text: str) -> None:
        self.data["last_error"] = {"time": time.time(), "error": clip(text, 500)}

    def write(self) -> Path:
        self.data["updated"] = time.time()
        return atomic_write_bytes(self.path, json.dumps(self.data, indent=1, sort_keys=True).encode())


def read_status(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The status file as a dict (``heatcore watch --status`` prints it)."""
    return json.loads(Path(path).read_text())
