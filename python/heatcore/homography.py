"""Image → floor-plan homographies (placeholder until the floor-plan work lands)."""

from __future__ import annotations


class Homography:
    pass
