"""Pure-NumPy twins of the motion kernels (cpp/src/motion.cpp)."""

from __future__ import annotations

import numpy as np
