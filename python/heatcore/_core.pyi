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


# ---------------------------------------------------------------------------------------------
# Homography (cpp/src/homography.cpp)
# ---------------------------------------------------------------------------------------------
# (homography section)
