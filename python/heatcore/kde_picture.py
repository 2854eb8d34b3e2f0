"""Points file → Gaussian KDE heatmap picture: what ``heatcore kde`` does, as one library call.

:func:`kde_picture` reads points (CSV / ``.npy``), decides where the grid lies, computes the KDE
(:func:`heatcore.kde.kde`) and writes a PNG: over a background image (pixels, y down), on a pixel
canvas (``shape`` alone), or as a figure with axes in data units (``extent``, or fitted to the
points as seaborn's ``kdeplot`` does: 3 kernel sigmas of margin, 200 x 200).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Sequence

import numpy as np

__all__ = ["KDEPicture", "kde_picture", "parse_bandwidth", "parse_floats"]


@dataclass
class KDEPicture:
    """What :func:`kde_picture` made: the ``grid`` (H, W) float64, its ``extent`` (data units, or
    None on a pixel grid), the number of ``points``, and ``notes`` (one line each: what was fitted)."""

    grid: np.ndarray
    extent: list[float] | None
    points: int
    output: Path
    notes: list[str] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, int]:
        """(H, W) cells."""
        return (int(self.grid.shape[0]), int(self.grid.shape[1]))


def parse_floats(text: str, n: int, name: str) -> list[float]:
    """``"0,20,0,10"`` → ``[0.0, 20.0, 0.0, 10.0]``; ValueError names ``name`` and the text unless
    it is exactly ``n`` numbers."""
    parts = [t for t in str(text).replace(" ", "").split(",") if t != ""]
    try:
        vals = [float(t) for t in parts]
    except ValueError:
        raise ValueError(f"--{name} must be {n} comma-separated numbers, got {text!r}") from None
    if len(vals) != n:
        raise ValueError(f"--{name} must be {n} comma-separated numbers, got {text!r}")
    return vals


def parse_bandwidth(text: Any) -> Any:
    """``'15'`` → 15.0, ``'15,20'`` → (15.0, 20.0) (sigma x, y in point units), ``'scott'`` /
    ``'silverman'`` as they are; numbers and tuples pass through."""
    if not isinstance(text, str):
        return text
    t = text.strip().lower()
    if t in ("scott", "silverman"):
        return t
    if "," in t:
        return tuple(parse_floats(t, 2, "bandwidth"))
    try:
        return float(t)
    except ValueError:
        raise ValueError(f"--bandwidth must be a number, sx,sy, 'scott' or 'silverman', got {text!r}") from None


def _fraction(value: float | None, name: str, default: float, upper_open: bool, hint: str = "") -> float:
    if value is None:
        return default
    ok = 0.0 <= value < 1.0 if upper_open else 0.0 <= value <= 1.0
    if not ok:
        raise ValueError(f"{name} must be a fraction of the colour range in [0, 1{')' if upper_open else ']'}, "
                         f"got {value!r}{hint}")
    return float(value)


def kde_picture(points: Any, output: str | os.PathLike[str], *, background: str | os.PathLike[str] | None = None,
                bandwidth: Any = "scott", shape: Any = None, extent: Sequence[float] | str | None = None,
                cut: float = 3.0, origin: str = "auto", x_col: str | None = None, y_col: str | None = None,
                weight_col: str | None = None, normalize: Literal["density", "count", "none"] = "density",
                method: Literal["auto", "exact", "binned"] = "auto",
                cmap: str = "inferno", alpha: float = 0.6, vmin: float | None = None, vmax: float | None = None,
                scale: Literal["linear", "log", "gamma"] = "linear", threshold: float | None = None, threshold_abs: float | None = None,
                ramp: float | None = None, colorbar: bool = False, title: str | None = None,
                npy: str | os.PathLike[str] | None = None, skip_bad_rows: bool = False,
                threads: int | None = None) -> KDEPicture:
    """Read ``points`` (a CSV with a header or ``.npy`` (N, 2) / (N, 3) with weights, or an array),
    compute the KDE and write ``output`` (an image). Returns a :class:`KDEPicture`.

    Where the grid lies: ``background`` — points are pixels of that image (its size, or ``shape``);
    ``extent`` (x0, x1, y0, y1 data units) — a figure with axes, y upwards; ``shape`` alone (H, W
    or ``"HxW"``) — a pixel canvas (y down); none — fitted to the points as seaborn's ``kdeplot``
    (``cut`` kernel sigmas of margin, 200 x 200 cells), a figure in data units.

    ``bandwidth``: kernel sigma in point units (number, (sx, sy), ``"15,20"``, ``"scott"``,
    ``"silverman"``). Heat at or below ``threshold`` (fraction of the colour range, default 0.01)
    or ``threshold_abs`` (data units) is transparent and fades in over ``ramp`` (default 0.1).
    ``npy`` also saves the raw grid. Warnings (e.g. points filling a speck of a pixel canvas) are
    issued with :func:`warnings.warn`."""
    from . import render
    from ._checks import as_shape
    from .io.points import read_points
    from .kde import fit_extent, kde

    output = Path(output)
    render.resolve_cmap(cmap)  # an unknown colormap fails before any work
    rel: float | None = _fraction(threshold, "--threshold", render.DEFAULT_RELATIVE_THRESHOLD, True,
                                  " (for a value in data units use --threshold-abs)")
    ramp_f = _fraction(ramp, "--ramp", render.DEFAULT_RAMP, False)
    if threshold is None and threshold_abs is not None:
        rel = None  # only the absolute cut
    bg = render.read_image(background, what="background image") if background is not None else None
    ext: list[float] | None = (parse_floats(extent, 4, "extent") if isinstance(extent, str)
                               else None if extent is None else [float(v) for v in extent])
    fit = bg is None and ext is None and shape is None
    if shape is not None:
        hw = as_shape(shape, "--shape")
    elif bg is not None:
        hw = bg.shape[:2]
    else:
        hw = (200, 200)  # seaborn's gridsize
    bw = parse_bandwidth(bandwidth)
    notes: list[str] = []
    ps = read_points(points, x_col=x_col, y_col=y_col, weight_col=weight_col, skip_bad=skip_bad_rows)
    if fit:
        ext = list(fit_extent(ps.points, bw, ps.weights, cut=cut, shape=hw))
        notes.append(f"grid fitted to the points: x {ext[0]:.4g}..{ext[1]:.4g}, y {ext[2]:.4g}..{ext[3]:.4g} "
                     f"(data units, {cut:g} kernel sigmas of margin)")
    grid = kde(ps.points, hw, bw, weights=ps.weights, extent=ext, normalize=normalize, method=method,
               threads=threads)
    if ext is None and bg is None and len(ps.points):
        H, W = hw  # a pixel canvas: say so when the points fill a speck of it (data in other units?)
        span = np.ptp(ps.points, axis=0)
        if span[0] * span[1] < 1e-3 * H * W:
            warnings.warn(f"the points span only {span[0]:.3g} x {span[1]:.3g} of the {W}x{H} pixel grid; drop "
                          "--shape to fit the grid to the data, or give --extent", UserWarning, stacklevel=2)
    if npy is not None:
        Path(npy).parent.mkdir(parents=True, exist_ok=True)
        np.save(npy, grid)
    data_units = ext is not None and bg is None
    org = origin if origin != "auto" else ("lower" if data_units else "upper")
    unit = "data unit" if ext is not None else "pixel"
    label = {"density": f"probability density (per square {unit})",
             "count": "points nearby (kernels summed; one point peaks at 1"
                      + (" x its weight)" if ps.weights is not None else ")"),
             "none": f"kernel sum (per square {unit})"}[normalize]
    fade: dict[str, Any] = dict(threshold=threshold_abs, relative_threshold=rel, ramp=ramp_f)
    if colorbar or title or data_units:
        render.save_figure(output, grid, background=bg, cmap=cmap, alpha=alpha, vmin=vmin, vmax=vmax, scale=scale,
                           title=title, colorbar=colorbar, label=label, extent=ext if bg is None else None,
                           origin=org, aspect="auto" if data_units else "equal",  # type: ignore[arg-type]
                           figsize=(6.4, 4.8) if data_units else None,
                           xlabel=(x_col or "x") if data_units else None,
                           ylabel=(y_col or "y") if data_units else None, **fade)
    else:
        img = render.overlay(grid, bg, cmap, alpha=alpha, vmin=vmin, vmax=vmax, scale=scale, **fade)
        render.save_image(output, img[::-1].copy() if org == "lower" else img)
    return KDEPicture(grid=grid, extent=ext, points=len(ps.points), output=output, notes=notes)
