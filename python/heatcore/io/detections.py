"""Per-frame detections: the record every detection source yields (CSV, Console, detector).

(The grid work fills this module with the readers; the record below is the shared contract.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["DetectionFrame"]


@dataclass
class DetectionFrame:
    """One frame's detections.

    boxes: (N, 4) float64 ``left, top, right, bottom`` in image pixels; scores: (N,) float32;
    class_ids: (N,) int64; timestamp: ``yyyyMMddHHmmssfff`` text or None; image: BGR uint8 frame or
    None; index: frame number in the source (0-based).
    """

    index: int
    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float64))
    scores: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    class_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    timestamp: str | None = None
    image: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.boxes.shape[0])
