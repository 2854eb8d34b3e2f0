"""Wall-clock start times of recordings: from the file name, or the container's metadata.

File names: Kerberos recordings start with their Unix start time
(``1616678735_6-967003_cam1_200-200-400-400_24_769.mp4``); ISO-like dates and times anywhere in
the path (``cam1/2026-11-30/10-00-00.mp4``, ``2026-11-30T10:00:00``, ``20261130_100000``) are read
as UTC unless they carry an offset. Containers: PyAV's ``creation_time`` metadata.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from pathlib import Path

__all__ = ["start_time_from_name", "container_start_time", "recording_start_time", "parse_aitrios_time",
           "parse_iso_time"]

_UNIX = re.compile(r"^(\d{10})(?:\.\d+)?(?=[_\-.])")
_DATE = r"(?P<y>(?:19|20)\d{2})[-_/]?(?P<mo>\d{2})[-_/]?(?P<d>\d{2})"
_TIME = r"(?P<h>\d{2})[-_:]?(?P<mi>\d{2})[-_:]?(?P<s>\d{2})"
_DATETIME = re.compile(_DATE + r"(?:[T_ /\-]|/)" + _TIME)


def _utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> float | None:
    try:
        return _dt.datetime(y, mo, d, h, mi, s, tzinfo=_dt.timezone.utc).timestamp()
    except ValueError:
        return None


def start_time_from_name(path: str | os.PathLike[str], pattern: str | None = None) -> float | None:
    """Unix seconds (UTC) of a recording's start read from its path, or None.

    ``pattern``: a regular expression with a named group ``unix`` (seconds) or groups ``y mo d
    h mi s``; default: the Kerberos prefix, then an ISO-like date + time anywhere in the path."""
    p = Path(path)
    text = p.as_posix()
    if pattern is not None:
        m = re.search(pattern, text)
        if not m:
            return None
        g = m.groupdict()
        if g.get("unix"):
            return float(g["unix"])
        return _utc(*(int(g.get(k) or 0) for k in ("y", "mo", "d", "h", "mi", "s")))
    m = _UNIX.match(p.name)
    if m:
        return float(m.group(1))
    m = None
    for m in _DATETIME.finditer(text):
        pass
    if m is not None:
        return _utc(*(int(m.group(k)) for k in ("y", "mo", "d", "h", "mi", "s")))
    return None


def parse_iso_time(text: str) -> float | None:
    """Unix seconds of an ISO 8601 date-time (``Z`` or an offset; none = UTC), or None."""
    try:
        t = _dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=_dt.timezone.utc)
    return t.timestamp()


def container_start_time(path: str | os.PathLike[str]) -> float | None:
    """Unix seconds of the container's ``creation_time`` tag (PyAV), or None."""
    try:
        import av  # type: ignore[import-not-found]
    except ImportError:
        return None
    try:
        with av.open(os.fspath(path)) as c:
            tag = c.metadata.get("creation_time")
    except (OSError, ValueError, av.error.FFmpegError):  # type: ignore[attr-defined]
        return None
    return parse_iso_time(tag) if tag else None


def recording_start_time(path: str | os.PathLike[str], pattern: str | None = None) -> float | None:
    """The file name's time stamp, else the container's creation time, else None."""
    t = start_time_from_name(path, pattern)
    return t if t is not None else container_start_time(path)


def parse_aitrios_time(text: str) -> float | None:
    """Unix seconds (UTC) of an AITRIOS time stamp ``yyyyMMddHHmmssfff`` (17 digits), or None."""
    if not (isinstance(text, str) and len(text) == 17 and text.isdigit()):
        return None
    t = _utc(int(text[:4]), int(text[4:6]), int(text[6:8]), int(text[8:10]), int(text[10:12]), int(text[12:14]))
    return None if t is None else t + int(text[14:]) / 1000.0
