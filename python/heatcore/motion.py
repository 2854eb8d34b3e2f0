"""Motion heatmaps from video (placeholder until the motion work lands)."""

from __future__ import annotations

from .accumulator import Accumulator


class MotionHeatmap(Accumulator):
    kind = "motion"


def motion_heatmap(*args, **kwargs):
    raise NotImplementedError("heatcore.motion_heatmap is not built yet")
