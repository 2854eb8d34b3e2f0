"""Person detectors (placeholder until the floor-plan work lands)."""

from __future__ import annotations


class Detections:
    pass


class HOGDetector:
    pass


class DNNDetector:
    pass


def detect_video(*args, **kwargs):
    raise NotImplementedError
