"""Pure-NumPy twins of the homography kernels (cpp/src/homography.cpp)."""

from __future__ import annotations

import numpy as np
