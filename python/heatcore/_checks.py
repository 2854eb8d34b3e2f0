"""Argument checks shared by the public modules. Every failure names the offending value."""

from __future__ import annotations

import math
import os
import re
import warnings
from typing import Any

import numpy as np

__all__ = [
    "as_points",
    "as_shape",
    "positive_int",
    "nonneg_int",
    "positive_float",
    "resolve_threads",
    "parse_size",
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
    """``None`` or 0 → all cores; otherwise a positive int (worker threads)."""
    if threads is None or (isinstance(threads, (int, np.integer)) and threads == 0):
        return os.cpu_count() or 1
    return positive_int("threads", threads)


def parse_size(text: str, name: str = "size") -> tuple[int, int]:
    """Parse ``"WxH"`` (e.g. ``"1920x1080"``) into ``(first, second)`` positive ints."""
    m = re.fullmatch(r"\s*(\d+)\s*[xX,]\s*(\d+)\s*", str(text))
    if not m:
        raise ValueError(f"{name} must look like 1920x1080, got {text!r}")
    a, b = int(m.group(1)), int(m.group(2))
    if a <= 0 or b <= 0:
        raise ValueError(f"{name} must be positive, got {text!r}")
    return a, b


def as_shape(shape: Any, name: str = "shape") -> tuple[int, int]:
    """A grid shape ``(H, W)`` in pixels from a tuple or ``"HxW"`` text."""
    if isinstance(shape, str):
        return parse_size(shape, name)
    try:
        h, w = shape
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be (height, width), got {shape!r}") from None
    return positive_int(f"{name}[0] (height)", h), positive_int(f"{name}[1] (width)", w)


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
