"""Many inputs: globs, folders, list files and manifests, expanded into per-camera segments.

A camera's footage is usually many segment files (1-10 minutes each) named with their start time,
e.g. Kerberos ``1616678735_6-967003_cam1_200-200-400-400_24_769.mp4`` or
``cam1/2026-11-30/10-00-00.mp4``. :func:`expand_inputs` turns what the user gives into
:class:`Segment` records (camera, path, wall-clock start in Unix seconds) sorted per camera by
start time:

- a glob (``'cams/*/*.mp4'``, quoted so the shell does not expand it), a folder (video files
  found recursively) or a path of a video file;
- a list file (``.txt``): one path per line (blank lines and ``#`` comments ignored), relative
  paths are relative to the list file;
- a manifest (``.csv`` with a header, or ``.yaml``/``.yml`` with a list of mappings): columns
  ``camera``, ``path`` and optional ``start`` (ISO 8601 date-time or Unix seconds).

Camera: the manifest's, else the Kerberos name field (``<unix>_<...>_<camera>_...``), else the
parent folder's name (skipping date-like folders such as ``2026-11-30``). Start time: the
manifest's, else the name (:func:`heatcore.io.timestamps.start_time_from_name`, ``pattern``
configurable), else the container's creation time, else the file order (with a warning).
"""

from __future__ import annotations

import csv
import datetime as _dt
import glob as _glob
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from .io.timestamps import _UNIX, container_start_time, start_time_from_name

__all__ = ["Segment", "VIDEO_SUFFIXES", "DETECTION_SUFFIXES", "expand_inputs", "by_camera", "parse_start", "is_manifest"]

#: file suffixes (lower case) taken as video files when a folder or glob is expanded
VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov", ".m4v", ".webm", ".ts", ".mpg", ".mpeg", ".h264", ".flv", ".wmv")
_DATE_DIR = re.compile(r"^(?:19|20)\d{2}[-_]?\d{2}[-_]?\d{2}$|^\d{2}$")


@dataclass(frozen=True)
class Segment:
    """One recording file of one camera. ``start_wall``: Unix seconds (UTC) of its first frame,
    or None when unknown (then ``order`` is the position in the camera's file order)."""

    camera: str
    path: Path
    start_wall: float | None = None
    order: int = 0


def parse_start(value: object) -> float | None:
    """A manifest start time: Unix seconds (number or numeric text) or ISO 8601 (UTC unless it has
    an offset); None/empty gives None. ValueError names a value that is neither."""
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        t = value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)
        return t.timestamp()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    from .io.timestamps import parse_iso_time

    iso = parse_iso_time(text)
    if iso is None:
        raise ValueError(f"start time {text!r} is neither Unix seconds nor an ISO 8601 date-time")
    return iso


def _kerberos_camera(name: str) -> str | None:
    """``1616678735_6-967003_cam1_200-200-400-400_24_769.mp4`` -> ``cam1``."""
    if not _UNIX.match(name):
        return None
    fields = Path(name).stem.split("_")
    return fields[2] if len(fields) >= 3 and fields[2] else None


def _camera_of(path: Path) -> str:
    cam = _kerberos_camera(path.name)
    if cam is not None:
        return cam
    for parent in path.resolve().parents:
        if parent.name and not _DATE_DIR.match(parent.name):
            return parent.name
    return path.stem


def _manifest_rows(path: Path) -> list[dict]:
    if path.suffix.lower() == ".csv":
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    else:
        import yaml

        data = yaml.safe_load(path.read_text())
        if isinstance(data, dict):
            data = data.get("segments", data.get("files"))
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise ValueError(f"{path}: a YAML manifest is a list of mappings with keys camera, path, start")
        rows = data
    for i, r in enumerate(rows):
        if not r.get("path"):
            raise ValueError(f"{path}: row {i + 1} has no 'path'")
    return rows


#: file suffixes of detections files (``heatcore grid|floorplan`` over many inputs)
DETECTION_SUFFIXES = (".csv", ".npz")


def _is_video(p: Path, suffixes: Sequence[str] = VIDEO_SUFFIXES) -> bool:
    return p.is_file() and p.suffix.lower() in suffixes


def is_manifest(path: str | os.PathLike[str]) -> bool:
    """True for a manifest: a ``.yaml``/``.yml`` file, or a ``.csv`` whose header has a ``path`` column
    (a detections CSV has none)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return p.is_file()
    if suffix != ".csv" or not p.is_file():
        return False
    with open(p, newline="", encoding="utf-8", errors="replace") as f:
        header = next(csv.reader(f), [])
    return "path" in [h.strip() for h in header]


def _expand_one(item: str | os.PathLike[str], suffixes: Sequence[str] = VIDEO_SUFFIXES) -> list[tuple[Path, dict]]:
    """Paths (with manifest fields) of one input."""
    text = os.fspath(item)
    p = Path(text)
    if any(c in text for c in "*?[") and not p.exists():
        found = sorted(Path(x) for x in _glob.glob(text, recursive=True))
        files = [f for f in found if _is_video(f, suffixes)]
        if not files:
            raise FileNotFoundError(f"no {'video' if suffixes == VIDEO_SUFFIXES else 'input'} files match {text!r}")
        return [(f, {}) for f in files]
    if not p.exists():
        raise FileNotFoundError(f"input {text!r} does not exist")
    if p.is_dir():
        files = sorted(f for f in p.rglob("*") if _is_video(f, suffixes))
        if not files:
            raise FileNotFoundError(f"no video files ({', '.join(suffixes[:4])}, ...) under folder {text!r}")
        return [(f, {}) for f in files]
    suffix = p.suffix.lower()
    if suffix == ".txt":
        out: list[tuple[Path, dict]] = []
        for line in p.read_text().splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            q = Path(line)
            out.append(((q if q.is_absolute() else p.parent / q), {}))
        if not out:
            raise ValueError(f"list file {text!r} names no files")
        return out
    if suffix in (".csv", ".yaml", ".yml") and (suffix not in suffixes or is_manifest(p)):
        out = []
        for r in _manifest_rows(p):
            q = Path(str(r["path"]))
            fields = {"camera": r.get("camera") or None, "start": parse_start(r.get("start"))}
            out.append(((q if q.is_absolute() else p.parent / q), fields))
        return out
    return [(p, {})]


def expand_inputs(inputs: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], *,
                  pattern: str | None = None, container_time: bool = True,
                  suffixes: Sequence[str] = VIDEO_SUFFIXES) -> list[Segment]:
    """Expand globs, folders, list files (.txt) and manifests (.csv/.yaml) into segments sorted by
    camera, then start time (file order where unknown). ``pattern``: a regular expression for the
    start time in the path (see :func:`~heatcore.io.timestamps.start_time_from_name`).
    ``container_time``: fall back to the container's creation time (opens each file). Segments
    whose start is still unknown keep the file order and a ``UserWarning`` says so.
    ``suffixes``: the files a glob or folder yields (default videos; add
    :data:`DETECTION_SUFFIXES` for detections files, whose start may also come from the
    ``.meta.json`` that ``heatcore detect`` writes). FileNotFoundError names a missing input or file."""
    items: Sequence = [inputs] if isinstance(inputs, (str, os.PathLike)) else list(inputs)
    if not items:
        raise ValueError("no inputs given")
    found: list[tuple[Path, dict]] = []
    for it in items:
        found.extend(_expand_one(it, suffixes))
    seen: set[Path] = set()
    segs: list[Segment] = []
    unknown: list[Path] = []
    for order, (path, fields) in enumerate(found):
        if path in seen:
            continue
        seen.add(path)
        if not path.is_file():
            raise FileNotFoundError(f"video file {str(path)!r} does not exist")
        cam = str(fields["camera"]) if fields.get("camera") else _camera_of(path)
        t = fields.get("start")
        if t is None:
            t = start_time_from_name(path, pattern)
        video = path.suffix.lower() in VIDEO_SUFFIXES or path.is_dir()
        if t is None and not video:
            from .io.detections import read_meta

            t = parse_start(read_meta(path).get("start"))
        if t is None and container_time and video:
            t = container_start_time(path)
        if t is None:
            unknown.append(path)
        segs.append(Segment(cam, path, t, order))
    if unknown:
        warnings.warn(f"{len(unknown)} file(s) have no start time in the name, manifest or container "
                      f"(e.g. {unknown[0]}); they are ordered by file order", UserWarning, stacklevel=2)
    segs.sort(key=lambda s: (s.camera, s.start_wall is None, s.start_wall or 0.0, s.order))
    return segs


def by_camera(segments: Iterable[Segment]) -> dict[str, list[Segment]]:
    """Segments grouped per camera (order kept)."""
    out: dict[str, list[Segment]] = {}
    for s in segments:
        out.setdefault(s.camera, []).append(s)
    return out
