"""Every limit heatcore puts on its input, in one place.

heatcore reads files and replies it does not control (camera exports, CSV, YAML configs, the
AITRIOS Console). Each value below bounds the work or memory one input can cause; each is checked
*before* anything is allocated or looped over, and a breach raises ``ValueError`` naming the value
and the limit (the CLI prints it on one line and exits 2).

=============================  ======================  ============================================
limit                          value                   where it is checked
=============================  ======================  ============================================
``MAX_FRAME_INDEX``            10**9 frames            frame numbers in detection files (long CSV,
                                                       ``.npz`` ``frame`` / ``offsets``): about a
                                                       year of video at 30 fps
``DEFAULT_MAX_FRAME_GAP``      10**6 frames            gap between consecutive frame numbers in a
                                                       detection file (also from 0 to the first);
                                                       the empty frames in between are written as
                                                       outputs. Configurable: ``max_frame_gap=`` of
                                                       the readers, ``heatcore grid
                                                       --max-frame-gap``
``MAX_ARRAY_BYTES``            4 GiB                   memory one grid, image or video frame would
                                                       need (``shape`` / ``WxH`` sizes, at 8 bytes
                                                       a cell)
``MAX_SIDE``                   1,000,000 pixels/cells  one side of any grid or image
``.npz`` unpacked size          ``MAX_ARRAY_BYTES``     checkpoints and detection ``.npz`` files,
                                                       read from the zip directory before
                                                       decompressing (no zip bombs); <= 1000 arrays
``MAX_JSON_DEPTH``             64 levels               JSON (and Python-literal) nesting: CSV
                                                       cells, homography / point files, Console
                                                       replies; pre-scanned before parsing
``MAX_YAML_BYTES``             1 MiB                   a YAML config file
YAML aliases                   refused                 ``*alias`` in any YAML (no alias bombs);
                                                       ``&anchors`` alone are harmless
``MAX_YAML_DEPTH``             64 levels               YAML nesting
``max_threads()``              min(1024, 4 x cores)    ``threads=`` of every public function and
                                                       ``--threads``; 0 / None = all cores; the C++
                                                       kernels refuse more than 1024 and never run
                                                       more than 4 x cores
``MAX_MESSAGE_CHARS``          300 characters          data quoted in one error message
=============================  ======================  ============================================
"""

from __future__ import annotations

import math
import os
import re
from typing import Any

import numpy as np

__all__ = [
    "MAX_FRAME_INDEX",
    "DEFAULT_MAX_FRAME_GAP",
    "MAX_ARRAY_BYTES",
    "MAX_SIDE",
    "MAX_JSON_DEPTH",
    "MAX_YAML_BYTES",
    "MAX_YAML_DEPTH",
    "MAX_THREADS",
    "MAX_MESSAGE_CHARS",
    "max_threads",
    "clip",
    "check_frame_index",
    "check_frame_gap",
    "check_frame_numbers",
    "check_offsets",
    "check_array_bytes",
    "check_npz",
    "check_json_depth",
    "json_depth",
    "too_deep",
    "json_loads",
    "load_yaml",
]

MAX_FRAME_INDEX = 10**9
DEFAULT_MAX_FRAME_GAP = 10**6
MAX_ARRAY_BYTES = 4 * 1024**3
MAX_SIDE = 1_000_000
MAX_JSON_DEPTH = 64
MAX_YAML_BYTES = 1024**2
MAX_YAML_DEPTH = 64
MAX_THREADS = 1024
MAX_MESSAGE_CHARS = 300


def max_threads() -> int:
    """The largest ``threads=`` accepted: 4 x the machine's cores, at most :data:`MAX_THREADS`."""
    return max(1, min(MAX_THREADS, 4 * (os.cpu_count() or 1)))


def clip(value: Any, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``repr(value)`` cut to ``limit`` characters (for error messages quoting data)."""
    if isinstance(value, (list, dict, tuple, set)) and len(value) > limit:
        return f"<{type(value).__name__} of {len(value)} items>"
    if isinstance(value, (str, bytes)) and len(value) > limit:
        value = value[:limit]
    try:
        text = repr(value)
    except RecursionError:
        return f"<deeply nested {type(value).__name__}>"
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


# ----------------------------------------------------------------------------------------------
# frame numbers
# ----------------------------------------------------------------------------------------------


def check_frame_index(value: Any, what: str = "frame", text: str | None = None) -> int:
    """``value`` as an int in ``0..MAX_FRAME_INDEX`` or ValueError naming it (floats must be whole;
    ``text``: how the value was written in the file, quoted in the message instead of ``value``)."""
    shown = clip(value) if text is None else clip(text, 60)
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a frame number, got {shown}")
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value) or not float(value).is_integer():
            raise ValueError(f"{what} must be a whole frame number, got {shown}")
    try:
        v = int(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{what} must be a frame number, got {shown}") from None
    if v < 0:
        raise ValueError(f"{what} must be >= 0, got {shown}")
    if v > MAX_FRAME_INDEX:
        raise ValueError(
            f"{what} {shown} is above the largest frame number heatcore accepts ({MAX_FRAME_INDEX:,}; "
            "see heatcore.limits)"
        )
    return v


def _gap_limit(max_frame_gap: Any) -> int:
    if max_frame_gap is None:
        return DEFAULT_MAX_FRAME_GAP
    if isinstance(max_frame_gap, bool) or not isinstance(max_frame_gap, (int, np.integer)):
        raise TypeError(f"max_frame_gap must be an integer, got {max_frame_gap!r}")
    if max_frame_gap < 1:
        raise ValueError(f"max_frame_gap must be >= 1, got {max_frame_gap!r}")
    return int(max_frame_gap)


def check_frame_gap(previous: int | None, frame: int, what: str = "frame", max_frame_gap: int | None = None) -> None:
    """Raise ValueError when ``frame`` jumps more than ``max_frame_gap`` frames past ``previous``
    (or past frame 0 when ``previous`` is None): every frame in between would become an output."""
    limit = _gap_limit(max_frame_gap)
    start = -1 if previous is None else int(previous)
    if frame - start > limit:
        since = "the start (frame 0)" if previous is None else f"frame {previous}"
        raise ValueError(
            f"{what} {frame} is {frame - start - (1 if previous is None else 0):,} frames after {since}: more than "
            f"the largest gap allowed ({limit:,}; raise it with max_frame_gap= / --max-frame-gap if the gap is real)"
        )


def check_frame_numbers(frame: np.ndarray, what: str = "frame", max_frame_gap: int | None = None) -> None:
    """Check an array of non-decreasing frame numbers: each <= ``MAX_FRAME_INDEX``, no jump larger
    than ``max_frame_gap`` (from 0 to the first, and between neighbours)."""
    fr = np.asarray(frame).reshape(-1)
    if fr.size == 0:
        return
    if fr.dtype.kind not in "iuf":
        raise ValueError(f"{what} must be numeric frame numbers, got dtype {fr.dtype}")
    if fr.dtype.kind == "f":
        bad = ~np.isfinite(fr)
        bad[~bad] = fr[~bad] != np.floor(fr[~bad])
        if bad.any():
            check_frame_index(float(fr[np.argmax(bad)]), what)
    hi = fr.max()
    if hi > MAX_FRAME_INDEX:
        check_frame_index(hi.item(), what)
    lo = fr.min()
    if lo < 0:
        check_frame_index(lo.item(), what)
    fr = fr.astype(np.int64)
    limit = _gap_limit(max_frame_gap)
    check_frame_gap(None, int(fr[0]), what, limit)
    if fr.size > 1:
        d = np.diff(fr)
        k = int(np.argmax(d))
        if d[k] > limit:
            check_frame_gap(int(fr[k]), int(fr[k + 1]), what, limit)


def check_offsets(offsets: np.ndarray, what: str = "offsets") -> None:
    """Per-frame offsets (T + 1,): at most ``MAX_FRAME_INDEX + 1`` frames."""
    n = int(np.asarray(offsets).reshape(-1).shape[0]) - 1
    if n > MAX_FRAME_INDEX + 1:
        raise ValueError(f"{what} describe {n:,} frames, more than heatcore accepts ({MAX_FRAME_INDEX + 1:,})")


# ----------------------------------------------------------------------------------------------
# memory
# ----------------------------------------------------------------------------------------------


def check_array_bytes(shape: tuple[int, ...], itemsize: int = 8, what: str = "array") -> None:
    """Raise ValueError when an array of ``shape`` x ``itemsize`` bytes would exceed
    ``MAX_ARRAY_BYTES`` or a side exceeds ``MAX_SIDE`` (checked with Python ints: no overflow)."""
    dims = [int(s) for s in shape]
    for s in dims:
        if s > MAX_SIDE:
            raise ValueError(f"{what} {tuple(dims)} has a side above {MAX_SIDE:,} (see heatcore.limits)")
    need = itemsize
    for s in dims:
        need *= max(s, 0)
    if need > MAX_ARRAY_BYTES:
        raise ValueError(
            f"{what} {tuple(dims)} would need {need / 1024**3:,.1f} GiB, more than the "
            f"{MAX_ARRAY_BYTES / 1024**3:g} GiB heatcore allows for one array (see heatcore.limits)"
        )


def check_npz(source: Any, what: str = ".npz file") -> None:
    """Raise ValueError when the arrays of an ``.npz`` (a path or binary file object, rewound
    afterwards) would unpack to more than ``MAX_ARRAY_BYTES`` (a zip bomb) or it holds more than
    1000 arrays; read from the zip directory, before decompressing anything."""
    import zipfile

    pos = source.tell() if hasattr(source, "tell") else None
    try:
        with zipfile.ZipFile(source) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise ValueError(f"{what} is not a readable .npz archive ({clip(str(exc), 120)})") from None
    finally:
        if pos is not None:
            source.seek(pos)
    if len(infos) > 1000:
        raise ValueError(f"{what} holds {len(infos):,} arrays, more than the 1,000 heatcore reads")
    total = sum(i.file_size for i in infos)
    if total > MAX_ARRAY_BYTES:
        raise ValueError(
            f"{what} would unpack to {total / 1024**3:,.1f} GiB, more than the {MAX_ARRAY_BYTES / 1024**3:g} GiB "
            "heatcore allows (see heatcore.limits)"
        )


# ----------------------------------------------------------------------------------------------
# JSON
# ----------------------------------------------------------------------------------------------

# strings (double or single quoted, with escapes), "unrolled" so the regex engine runs in long strides
_STRINGS_RE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|\'[^\'\\]*(?:\\.[^\'\\]*)*\'', re.S)
_NOT_BRACKET_RE = re.compile(r"[^\[\]{}()]+")
_OPEN = np.zeros(256, np.int8)
_OPEN[[ord("["), ord("{"), ord("(")]] = 1
_OPEN[[ord("]"), ord("}"), ord(")")]] = -1


def json_depth(text: str | bytes) -> int:
    """Largest bracket nesting of JSON or Python-literal text (strings skipped); an upper bound
    when the text is malformed. Linear time, no recursion."""
    if isinstance(text, (bytes, bytearray, memoryview)):
        text = bytes(text).decode("utf-8", "replace")
    s = _NOT_BRACKET_RE.sub("", _STRINGS_RE.sub("", text))
    if not s:
        return 0
    steps = _OPEN[np.frombuffer(s.encode("ascii"), np.uint8)].astype(np.int64)
    return int(max(0, np.cumsum(steps).max()))


def too_deep(text: str | bytes) -> bool:
    """True when ``text`` nests deeper than ``MAX_JSON_DEPTH`` (cheap: a count of openers first)."""
    if isinstance(text, (bytes, bytearray, memoryview)):
        text = bytes(text).decode("utf-8", "replace")
    if text.count("[") + text.count("{") + text.count("(") <= MAX_JSON_DEPTH:
        return False  # cannot nest deeper than the number of openers
    return json_depth(text) > MAX_JSON_DEPTH


def check_json_depth(text: str | bytes, what: str = "JSON") -> None:
    """Raise ValueError when ``text`` nests deeper than ``MAX_JSON_DEPTH`` (before parsing it:
    Python's parsers recurse and would raise RecursionError or worse)."""
    if too_deep(text):
        depth = json_depth(text)
        raise ValueError(f"{what} nests {depth} levels deep, more than the {MAX_JSON_DEPTH} heatcore accepts")


def json_loads(text: str | bytes, what: str = "JSON") -> Any:
    """``json.loads`` after :func:`check_json_depth` (``json.JSONDecodeError`` as usual for bad JSON)."""
    import json

    check_json_depth(text, what)
    return json.loads(text)


# ----------------------------------------------------------------------------------------------
# YAML
# ----------------------------------------------------------------------------------------------

_LOADER: Any = None


def _loader() -> Any:
    global _LOADER
    if _LOADER is None:
        import yaml

        class NoAliasLoader(yaml.SafeLoader):
            """A SafeLoader that refuses ``*alias`` references (no alias bombs) and deep nesting."""

            def compose_node(self, parent: Any, index: Any) -> Any:  # noqa: ANN401
                if self.check_event(yaml.AliasEvent):
                    ev = self.peek_event()
                    raise yaml.composer.ComposerError(
                        None, None, f"YAML aliases (*{clip(ev.anchor, 40)}) are not allowed in heatcore files",
                        ev.start_mark)
                self._hc_depth = getattr(self, "_hc_depth", 0) + 1
                try:
                    if self._hc_depth > MAX_YAML_DEPTH:
                        raise yaml.composer.ComposerError(
                            None, None, f"YAML nests more than {MAX_YAML_DEPTH} levels deep",
                            self.peek_event().start_mark)
                    return super().compose_node(parent, index)
                finally:
                    self._hc_depth -= 1

        _LOADER = NoAliasLoader
    return _LOADER


def load_yaml(text: str | bytes, what: str = "YAML", *, quote_problem: bool = True) -> Any:
    """Parse YAML safely: the safe loader (no Python objects), no aliases, at most
    ``MAX_YAML_DEPTH`` levels and ``MAX_YAML_BYTES`` bytes. Errors are ValueError naming ``what``
    and the place (line, column), with the parser's problem (clipped) unless ``quote_problem`` is
    False (for files holding secrets)."""
    import yaml

    size = len(text.encode("utf-8") if isinstance(text, str) else text)
    if size > MAX_YAML_BYTES:
        raise ValueError(f"{what} is {size:,} bytes, more than the {MAX_YAML_BYTES:,} heatcore reads as a config")
    try:
        if getattr(yaml, "__with_libyaml__", False):
            # libyaml: scan the events first (aliases, depth), then build with the C safe loader
            depth = 0
            for ev in yaml.parse(text, Loader=yaml.CSafeLoader):
                if isinstance(ev, yaml.AliasEvent):
                    raise yaml.composer.ComposerError(
                        None, None, f"YAML aliases (*{clip(ev.anchor, 40)}) are not allowed in heatcore files",
                        ev.start_mark)
                if isinstance(ev, yaml.CollectionStartEvent):
                    depth += 1
                    if depth > MAX_YAML_DEPTH:
                        raise yaml.composer.ComposerError(
                            None, None, f"YAML nests more than {MAX_YAML_DEPTH} levels deep", ev.start_mark)
                elif isinstance(ev, yaml.CollectionEndEvent):
                    depth -= 1
            return yaml.load(text, Loader=yaml.CSafeLoader)  # noqa: S506 - the C safe loader
        return yaml.load(text, Loader=_loader())  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) if quote_problem else None
        detail = f": {clip(str(problem), 200)}" if problem else ""
        raise ValueError(f"{what} is not valid YAML{at}{detail}") from None
    except RecursionError:
        raise ValueError(f"{what} nests too deeply") from None
