"""Type stubs for heatcore._core, the compiled kernels (private: use the heatcore package).

All arrays are C-contiguous of the stated dtype (the Python layer converts once); functions
release the GIL while they compute. ``threads <= 0`` means all cores.
"""

from typing import Any

import numpy as np
import numpy.typing as npt

# ---------------------------------------------------------------------------------------------
# KDE (cpp/src/kde.cpp)
# ---------------------------------------------------------------------------------------------
# (kde section)
# Grid units: point (u, v) = (column, row) with pixel (i, j) centred at (j, i); covariances in
# pixels^2. Results are sums of peak-1 Gaussians  sum_k w_k exp(-q_k / 2).

def kde_exact(points: npt.NDArray[np.float64], weights: npt.NDArray[np.float64] | None, height: int, width: int,
              sxx: float, sxy: float, syy: float, tol: float = 1e-7, threads: int = 0,
              affine: tuple[float, float, float, float] = (1.0, 0.0, 1.0, 0.0)) -> npt.NDArray[np.float64]:
    """Exact truncated splatting onto a new (height, width) grid (any positive-definite covariance).
    Points are mapped to grid units by affine = (ax, bx, ay, by): u = ax x + bx, v = ay y + by."""

def kde_bin(points: npt.NDArray[np.float64], weights: npt.NDArray[np.float64] | None, grid: npt.NDArray[np.float64],
            mx: int, my: int, threads: int = 0) -> None:
    """Linear binning added in place into a C-contiguous float64 padded grid; grid pixel (0, 0) is at (my, mx)."""

def kde_blur(grid: npt.NDArray[np.float64], mx: int, my: int, height: int, width: int, sxx: float, sxy: float,
             syy: float, threads: int = 0) -> npt.NDArray[np.float64]:
    """Recursive Gaussian blur of a binned padded grid (binning variance 1/6 subtracted), cropped at (my, mx)."""

def kde_binned(points: npt.NDArray[np.float64], weights: npt.NDArray[np.float64] | None, height: int, width: int,
               mx: int, my: int, sxx: float, sxy: float, syy: float, threads: int = 0,
               affine: tuple[float, float, float, float] = (1.0, 0.0, 1.0, 0.0)) -> npt.NDArray[np.float64]:
    """Binning into a float32 scratch grid (margins mx, my) + recursive blur, in one call (heatcore.kde's fast path)."""

def kde_blur_plan(sxx: float, sxy: float, syy: float) -> dict[str, Any] | None:
    """{'A', 'B', 'C', 'dx', 'dy'}: pass variances along x, y and lattice direction (dx, dy); None if impossible."""

def kde_iir_coefficients(var: float) -> tuple[list[complex], list[complex]]:
    """Poles and gains of the calibrated recursive Gaussian of variance var (steps^2)."""

def kde_stats(points: npt.NDArray[np.float64], weights: npt.NDArray[np.float64] | None,
              moments: bool = True) -> dict[str, float]:
    """One pass: 'finite' rows, box 'xmin'..'ymax', 'wmin', 'sw' and (moments) 'sw2', 'swx', 'swy', 'swxx',
    'swxy', 'swyy' about the first finite point ('x0', 'y0')."""

def kde_truncation_radius(tol: float) -> float:
    """Mahalanobis truncation radius sqrt(-2 ln tol)."""


# ---------------------------------------------------------------------------------------------
# Motion (cpp/src/motion.cpp)
# ---------------------------------------------------------------------------------------------
# (motion section)


# ---------------------------------------------------------------------------------------------
# Grid counting (cpp/src/grid.cpp)
# ---------------------------------------------------------------------------------------------
# (grid section)
def grid_apply(grid: npt.NDArray[np.int64], boxes: npt.ArrayLike, width: int, height: int, nh: int, nv: int,
               spread: int, mode: str, geometry: str, anchor: float, sign: int) -> tuple[int, int, int] | None:
    """Add sign (+1/-1) * one frame's boxes (N, 4) l, t, r, b pixels into grid (nv, nh) int64 in place.
    mode "box"|"point", geometry "exact"|"aitrios". Returns None, or (box, cell_h, cell_v) of the
    first box the AITRIOS sample would raise IndexError on (grid untouched then)."""

def grid_counts(boxes: npt.ArrayLike, offsets: npt.ArrayLike, width: int, height: int, nh: int, nv: int,
                spread: int, mode: str, geometry: str, anchor: float, window: int, threads: int = 0,
                initial: npt.ArrayLike | None = None, history: int = 0,
                frame_base: int = 0) -> npt.NDArray[np.int32]:
    """Grid after each frame: frame t = boxes[offsets[t]:offsets[t+1]] (offsets (T+1,) int64).
    Returns (T - history, nv, nh) int32; window <= 0 = unbounded. The first `history` frames are a
    ring buffer already counted in `initial` (nv, nh). ValueError naming frame (from frame_base) and
    box where the AITRIOS sample raises IndexError."""

def grid_points(boxes: npt.ArrayLike, width: int, height: int, nh: int, nv: int, spread: int,
                geometry: str, anchor: float) -> npt.NDArray[np.float64]:
    """(N, 2) point (x, y pixels) of each box in point mode (aitrios: truncated like int())."""

def format_grid_json(grid: npt.ArrayLike, indent: int = 4, level: int = 1, spaces: bool = True) -> bytes:
    """json.dumps(grid.tolist(), indent=indent) of a (nv, nh) int32 grid nested `level` deep
    (indent <= 0: compact)."""

def format_frames_json(grids: npt.ArrayLike, boxes: npt.ArrayLike, offsets: npt.ArrayLike,
                       points: npt.ArrayLike | None, reverse: bool) -> tuple[bytes, npt.NDArray[np.int64]]:
    """The sample's per-frame JSON documents (indent=4, no timestamp) for grids (K, nv, nh) int32 with
    frame t's boxes (M, 4) / points (M, 2) at offsets[t]:offsets[t+1]; returns (text, ends (K+1,)):
    frame t is text[|ends[t]|:ends[t+1]], a negative end marks a frame with non-integer values
    (format it in Python; its end is -1 - position)."""

def format_grids_jsonl(grids: npt.ArrayLike, counts: npt.ArrayLike, first: int) -> bytes:
    """JSON Lines ({"frame", "number_of_detects", "griddata"}) for frames first, first + 1, ..."""

def parse_aitrios_rows(data: bytes, final: bool, max_rows: int) -> dict[str, Any]:
    """Split CSV text (no header) into rows and decode those in the AITRIOS sample's exact layout:
    boxes (M, 4) float64, scores float32, class_ids int64, box_offsets (rows + 1), row_begin,
    row_end, row_lines, fast (uint8, 0 = left to the general parser), consumed (bytes), rows."""


# ---------------------------------------------------------------------------------------------
# Homography (cpp/src/homography.cpp)
# ---------------------------------------------------------------------------------------------
# (homography section)
