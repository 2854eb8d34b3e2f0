"""Pure-NumPy twins of the grid kernels (cpp/src/grid.cpp)."""

from __future__ import annotations

import numpy as np
