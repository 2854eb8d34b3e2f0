"""Pure-NumPy twins of every C++ kernel (tests, benchmarks and ``backend="numpy"``).

Each submodule mirrors one C++ area; the names here are the public set.
"""

from . import grid, homography, kde, motion

__all__ = ["grid", "homography", "kde", "motion"]
