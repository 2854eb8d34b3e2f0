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


# ---------------------------------------------------------------------------------------------
# Homography (cpp/src/homography.cpp)
# ---------------------------------------------------------------------------------------------
# (homography section)
