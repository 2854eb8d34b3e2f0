"""Floor-plan heatmaps (placeholder until the floor-plan work lands)."""

from __future__ import annotations


def floorplan_heatmap(*args, **kwargs):
    raise NotImplementedError
