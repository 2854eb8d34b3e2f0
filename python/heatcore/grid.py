"""Detection grid-count heatmaps (placeholder until the grid work lands)."""

from __future__ import annotations

from .accumulator import Accumulator


class GridCounter(Accumulator):
    kind = "grid"


def grid_counts(*args, **kwargs):
    raise NotImplementedError("heatcore.grid_counts is not built yet")
