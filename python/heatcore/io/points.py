"""Read 2-D points (and optional weights) from CSV, ``.npy`` or arrays.

CSV files need a header row. By default the x/y columns are found by name: ``x_coords`` /
``y_coords`` (the blog format), else ``x`` / ``y`` (case-insensitive); ``x_col=``/``y_col=`` pick
any two named columns and ``weight_col=`` a weight column. Malformed rows (wrong number of
fields, non-numeric values) raise ValueError naming the file and line number, or are skipped and
counted with ``skip_bad=True``. Empty cells and ``nan`` are read as NaN (``heatcore.kde`` drops
such rows with a warning).
"""

from __future__ import annotations

import csv
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["PointSet", "read_points"]


@dataclass
class PointSet:
    """Points (N, 2) float64 x/y, optional weights (N,), and how many bad rows were skipped."""

    points: np.ndarray
    weights: np.ndarray | None = None
    skipped: int = 0


_X_NAMES = ("x_coords", "x", "x_coord", "xs")
_Y_NAMES = ("y_coords", "y", "y_coord", "ys")


def _find(header: list[str], wanted: str | None, defaults: tuple[str, ...], what: str, path: Path) -> int:
    lower = [h.strip().lower() for h in header]
    if wanted is not None:
        key = wanted.strip().lower()
        if key in lower:
            return lower.index(key)
        raise ValueError(f"{path}: no column named {wanted!r} for {what} (columns: {', '.join(header)})")
    for name in defaults:
        if name in lower:
            return lower.index(name)
    raise ValueError(f"{path}: cannot find the {what} column (looked for {', '.join(defaults)}; columns: "
                     f"{', '.join(header)}); name it with --{what[0]}-col / {what[0]}_col=")


def _num(text: str) -> float:
    t = text.strip()
    if t == "" or t.lower() in ("nan", "na", "null", "none"):
        return float("nan")
    return float(t)


def _read_csv(path: Path, x_col: str | None, y_col: str | None, weight_col: str | None, skip_bad: bool) -> PointSet:
    with open(path, newline="", encoding="utf-8-sig") as f:
        sample = f.read(4096)
        f.seek(0)
        try:
            dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t ")
        except csv.Error:
            dialect = csv.excel
        reader = csv.reader(f, dialect)
        header = None
        for row in reader:
            if row and any(c.strip() for c in row):
                header = row
                break
        if header is None:
            raise ValueError(f"{path}: empty file (a header row such as x_coords,y_coords is needed)")
        ix = _find(header, x_col, _X_NAMES, "x", path)
        iy = _find(header, y_col, _Y_NAMES, "y", path)
        iw = _find(header, weight_col, (), "weight", path) if weight_col is not None else None
        need = max(ix, iy, iw if iw is not None else 0)
        xs: list[float] = []
        ys: list[float] = []
        ws: list[float] = []
        skipped = 0
        for row in reader:
            line = reader.line_num
            if not row or not any(c.strip() for c in row):
                continue
            try:
                if len(row) <= need:
                    raise ValueError(f"expected at least {need + 1} fields, got {len(row)}")
                x, y = _num(row[ix]), _num(row[iy])
                wv = _num(row[iw]) if iw is not None else 1.0
            except ValueError as exc:
                if skip_bad:
                    skipped += 1
                    continue
                raise ValueError(f"{path}, line {line}: malformed row {','.join(row)!r} ({exc}); "
                                 "fix it or skip bad rows (skip_bad=True / --skip-bad-rows)") from None
            xs.append(x)
            ys.append(y)
            ws.append(wv)
    pts = np.column_stack([np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)]) if xs else np.zeros((0, 2))
    if skipped:
        warnings.warn(f"{path}: skipped {skipped} malformed rows", RuntimeWarning, stacklevel=3)
    return PointSet(pts, np.asarray(ws, dtype=np.float64) if iw is not None else None, skipped)


def read_points(source: Any, *, x_col: str | None = None, y_col: str | None = None,
                weight_col: str | None = None, skip_bad: bool = False) -> PointSet:
    """Read points from a CSV path (header row), a ``.npy`` path ((N, 2) or (N, 3) with weights
    in the third column), or an (N, 2) array. Returns a :class:`PointSet`."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise FileNotFoundError(f"no such points file: {path}")
        if path.suffix.lower() == ".npy":
            try:
                arr = np.load(path, allow_pickle=False)
            except ValueError as exc:
                raise ValueError(f"{path}: not a readable .npy array ({exc})") from None
            return _from_array(arr, str(path))
        return _read_csv(path, x_col, y_col, weight_col, skip_bad)
    return _from_array(np.asarray(source), "points")


def _from_array(arr: np.ndarray, name: str) -> PointSet:
    if not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{name}: points must be numeric, got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.shape[1] not in (2, 3):
        raise ValueError(f"{name}: points must have shape (N, 2) or (N, 3) (x, y, weight), got {arr.shape}")
    arr = arr.astype(np.float64)
    if arr.shape[1] == 3:
        return PointSet(np.ascontiguousarray(arr[:, :2]), np.ascontiguousarray(arr[:, 2]))
    return PointSet(np.ascontiguousarray(arr))
