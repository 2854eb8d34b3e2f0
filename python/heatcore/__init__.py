"""heatcore: fast heatmaps from points, video motion, detections and floor plans.

The hot loops are C++ (``heatcore._core``); this package validates, documents and does I/O.

Main entry points
-----------------
- :func:`kde` — Gaussian kernel density of 2-D points on a pixel grid.
- :class:`MotionHeatmap`, :func:`motion_heatmap` — motion heatmaps from video (MOG, MOG2, diff).
- :class:`GridCounter`, :func:`grid_counts` — AITRIOS-compatible detection grid counts.
- :class:`Homography`, :class:`FloorplanAccumulator`, :func:`floorplan_heatmap` — floor-plan mapping.
- :mod:`heatcore.pipeline`, :mod:`heatcore.jobs` — the one pipeline driver and ready-made jobs.
- :mod:`heatcore.render` — colormaps, overlays, figures, videos.
"""

from . import distributed, render, reference
from .accumulator import Accumulator, load_state
from .kde import KDEAccumulator, kde, scott_factor, silverman_factor
from .motion import MotionHeatmap, motion_heatmap
from .grid import GridCounter, grid_counts
from .homography import Homography
from .detect import HOGDetector, DNNDetector, Detections, detect_video
from .floorplan import FloorplanAccumulator, floorplan_heatmap
from .records import Frame, TimeBase, as_detections
from . import jobs, pipeline
from . import slices, zones  # register the 'sliced' and 'zones' accumulator kinds (load_state)

__version__ = "0.1.0"

__all__ = [
    "Accumulator",
    "DNNDetector",
    "Detections",
    "GridCounter",
    "HOGDetector",
    "Homography",
    "KDEAccumulator",
    "MotionHeatmap",
    "detect_video",
    "distributed",
    "floorplan_heatmap",
    "FloorplanAccumulator",
    "Frame",
    "TimeBase",
    "as_detections",
    "jobs",
    "pipeline",
    "grid_counts",
    "kde",
    "load_state",
    "motion_heatmap",
    "reference",
    "render",
    "scott_factor",
    "silverman_factor",
    "__version__",
]
