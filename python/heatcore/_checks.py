"""Argument checks shared by the public modules. Every failure names the offending value."""

from __future__ import annotations

import math
import os
import re
import warnings
from datetime import datetime
from typing import Any

import numpy as np

from . import limits

_TIMESTAMP_RE = re.compile(r"[0-9]{17}")

__all__ = [
    "as_points",
    "as_shape",
    "positive_int",
    "nonneg_int",
    "positive_float",
    "resolve_threads",
    "parse_size",
    "check_timestamp",
]


def positive_int(name: str, value: Any) -> int:
    """Return ``value`` as an int > 0 or raise TypeError/ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return int(value)


def nonneg_int(name: str, value: Any) -> int:
    """Return ``value`` as an int >= 0 or raise TypeError/ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return int(value)


def positive_float(name: str, value: Any) -> float:
    """Return ``value`` as a finite float > 0 or raise TypeError/ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return v


def resolve_threads(threads: int | None) -> int:
    """Worker threads for a ``threads=`` argument, validated in this one place.

    ``None`` or 0 → all cores; 1 .. :func:`heatcore.limits.max_threads` (4 x cores, at most
    1024) → that many; anything else (negative, too many, not an integer) → ValueError/TypeError
    naming the value. Checked before anything is allocated per thread.
    """
    if threads is None:
        return os.cpu_count() or 1
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)):
        raise TypeError(f"threads must be an integer (0 or None = all cores), got {limits.clip(threads)}")
    if threads == 0:
        return os.cpu_count() or 1
    if threads < 0:
        raise ValueError(f"threads must be >= 0 (0 = all cores), got {threads!r}")
    top = limits.max_threads()
    if threads > top:
        raise ValueError(
            f"threads={int(threads)} is more than heatcore runs ({top} = 4 x {os.cpu_count() or 1} cores, "
            f"at most {limits.MAX_THREADS}); use 0 for all cores"
        )
    return int(threads)


def parse_size(text: str, name: str = "size", *, itemsize: int = 8) -> tuple[int, int]:
    """Parse ``"WxH"`` (e.g. ``"1920x1080"``) into ``(first, second)`` positive ints.

    Zero, negative or absurd sizes (more than :data:`heatcore.limits.MAX_SIDE` on a side, or an
    array of ``itemsize`` bytes per cell above :data:`heatcore.limits.MAX_ARRAY_BYTES`) raise
    ValueError naming the text.
    """
    if not isinstance(text, str):
        raise TypeError(f"{name} must be text like 1920x1080, got {limits.clip(text)}")
    m = re.fullmatch(r"\s*([+-]?\d+)\s*[xX,]\s*([+-]?\d+)\s*", text)
    if not m:
        raise ValueError(f"{name} must look like 1920x1080, got {limits.clip(text)}")
    a, b = int(m.group(1)), int(m.group(2))
    if a <= 0 or b <= 0:
        raise ValueError(f"{name} must be positive on both sides, got {limits.clip(text)}")
    limits.check_array_bytes((b, a), itemsize, name)
    return a, b


def check_timestamp(value: Any, name: str = "timestamp") -> str:
    """A ``yyyyMMddHHmmssfff`` time stamp: exactly 17 ASCII digits forming a real date and time
    (ints from unquoted YAML accepted). Anything else is ValueError/TypeError naming the value.
    Used wherever a time stamp from data names a file."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"{name} must be a yyyyMMddHHmmssfff string, got {limits.clip(value)}")
    text = str(value)
    if not _TIMESTAMP_RE.fullmatch(text):
        raise ValueError(f"{name} must be 17 digits yyyyMMddHHmmssfff, got {limits.clip(value)}")
    try:
        datetime.strptime(text[:14], "%Y%m%d%H%M%S")
    except ValueError:
        raise ValueError(f"{name} {value!r} is not a valid date and time (yyyyMMddHHmmssfff)") from None
    return text


def as_shape(shape: Any, name: str = "shape", *, itemsize: int = 8) -> tuple[int, int]:
    """A grid shape ``(H, W)`` in pixels from a tuple or ``"HxW"`` text; both > 0 and within
    the memory limit of :mod:`heatcore.limits` (``itemsize`` bytes per cell)."""
    if isinstance(shape, str):
        return parse_size(shape, name, itemsize=itemsize)
    try:
        h, w = shape
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be (height, width), got {limits.clip(shape)}") from None
    h, w = positive_int(f"{name}[0] (height)", h), positive_int(f"{name}[1] (width)", w)
    limits.check_array_bytes((h, w), itemsize, name)
    return h, w


def as_points(points: Any, name: str = "points", *, weights: Any = None):
    """Convert to a C-contiguous (N, 2) float64 array, dropping rows with NaN/inf.

    Returns ``(points, weights)``; ``weights`` is None or a float64 (N,) array aligned with the
    kept rows. Dropped rows are reported in one ``RuntimeWarning`` with their count.
    """
    try:
        arr = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be numeric (N, 2) coordinates: {exc}") from None
    if arr.ndim == 1 and arr.size == 0:
        arr = arr.reshape(0, 2)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"{name} must have shape (N, 2), got {arr.shape}")
    w = None
    if weights is not None:
        try:
            w = np.asarray(weights, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"weights must be numeric: {exc}") from None
        if w.shape != (arr.shape[0],):
            raise ValueError(f"weights must have shape ({arr.shape[0]},), got {w.shape}")
    ok = np.isfinite(arr).all(axis=1)
    if w is not None:
        ok &= np.isfinite(w)
    if not ok.all():
        bad = int((~ok).sum())
        warnings.warn(f"dropped {bad} of {arr.shape[0]} {name} rows with NaN/inf values", RuntimeWarning, stacklevel=3)
        arr = arr[ok]
        if w is not None:
            w = w[ok]
    if w is not None:
        if (w < 0).any():
            raise ValueError(f"weights must be >= 0, got min {w.min()!r}")
        w = np.ascontiguousarray(w)
    return np.ascontiguousarray(arr), w
