"""Pure-NumPy twins of the kde kernels (cpp/src/kde.cpp)."""

from __future__ import annotations

import numpy as np
