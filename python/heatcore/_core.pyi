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
              sxx: float, sxy: float, syy: float, tol: float = 1e-7, threads: int = 0) -> npt.NDArray[np.float64]:
    """Exact truncated splatting onto a new (height, width) grid (any positive-definite covariance)."""

def kde_bin(points: npt.NDArray[np.float64], weights: npt.NDArray[np.float64] | None, grid: npt.NDArray[np.float64],
            mx: int, my: int, threads: int = 0) -> None:
    """Linear binning added in place into a C-contiguous float64 padded grid; grid pixel (0, 0) is at (my, mx)."""

def kde_blur(grid: npt.NDArray[np.float64], mx: int, my: int, height: int, width: int, sxx: float, sxy: float,
             syy: float, threads: int = 0) -> npt.NDArray[np.float64]:
    """Recursive Gaussian blur of a binned padded grid (binning variance 1/6 subtracted), cropped at (my, mx)."""

def kde_blur_plan(sxx: float, sxy: float, syy: float) -> dict[str, Any] | None:
    """{'A', 'B', 'C', 'dx', 'dy'}: pass variances along x, y and lattice direction (dx, dy); None if impossible."""

def kde_iir_coefficients(var: float) -> tuple[list[complex], list[complex]]:
    """Poles and gains of the calibrated recursive Gaussian of variance var (steps^2)."""

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


# ---------------------------------------------------------------------------------------------
# Homography (cpp/src/homography.cpp)
# ---------------------------------------------------------------------------------------------
# (homography section)
