"""A pure-Python re-implementation of the AITRIOS sample's counting loop, written from the fact
sheet (../shared/specs/aitrios_grid_algorithm.md §4-6), not from its code.

Plain lists, ``range`` loops and a ``queue.Queue(maxsize=L)`` like the sample. It is an
independent oracle for the aitrios geometry (tests) and the baseline of the benchmarks. It raises
``IndexError`` exactly where the sample does (and, like the sample, leaves its state half-updated).
"""

from __future__ import annotations

import math
import queue
from typing import Sequence

__all__ = ["SampleHeatMap"]


class SampleHeatMap:
    """The sample's HeatMap counter. ``boxes`` are (left, top, right, bottom) int tuples."""

    def __init__(self, n: int, last_valid_frame: int, image_size_h: int, image_size_v: int,
                 grid_num_h: int, grid_num_v: int, bbox2pix: bool) -> None:
        self.n = n
        self.q: queue.Queue = queue.Queue(maxsize=last_valid_frame)
        self.nh, self.nv = grid_num_h, grid_num_v
        self.griddata = [[0] * grid_num_h for _ in range(grid_num_v)]
        if image_size_h % grid_num_h != 0:
            raise RuntimeError("error, image_size_h is not divisible by grid_num_h")
        if image_size_v % grid_num_v != 0:
            raise RuntimeError("error, image_size_v is not divisible by grid_num_v")
        self.gsh = image_size_h // grid_num_h
        self.gsv = image_size_v // grid_num_v
        self.bbox2pix = bbox2pix
        self.ratio = 1.0

    def _to_points(self, boxes):
        return [(int((l + r) / 2.0), int(t * (1.0 - self.ratio) + b * self.ratio)) for l, t, r, b in boxes]

    def _boxes(self, boxes, sign):
        n, g = self.n, self.griddata
        for l, t, r, b in boxes:
            gl, gt, gr, gb = l // self.gsh, t // self.gsv, r // self.gsh, b // self.gsv
            h0 = min(max(gl - n, 0), self.nh - 1)
            v0 = min(max(gt - n, 0), self.nv - 1)
            h1 = min(gr + n, self.nh - 1)
            v1 = min(gb + n, self.nv - 1)
            for v in range(v0, v1):
                row = g[v]
                for h in range(h0, h1):
                    row[h] += sign

    def _points(self, points, sign):
        n, g = self.n, self.griddata
        for x, y in points:
            gh, gv = x // self.gsh, y // self.gsv
            if n > 0:
                for v in range(gv - n, gv + n):
                    for h in range(gh - n, gh + n):
                        if 0 <= h < self.nh and 0 <= v < self.nv and math.sqrt((h - gh) ** 2 + (v - gv) ** 2) <= n:
                            g[v][h] += sign
            else:
                g[gv][gh] += sign  # list indexing: negative wraps, too large raises IndexError

    def __call__(self, boxes: Sequence[Sequence[int]]) -> dict:
        items = self._to_points(boxes) if self.bbox2pix else [tuple(b) for b in boxes]
        add = self._points if self.bbox2pix else self._boxes
        if self.q.full():
            add(self.q.get(), -1)
        self.q.put(items)
        add(items, +1)
        key = "positiones" if self.bbox2pix else "bboxes"
        listed = ([{"x": x, "y": y} for x, y in items] if self.bbox2pix
                  else [{"left": l, "top": t, "right": r, "bottom": b} for l, t, r, b in items])
        return {"number_of_detects": len(boxes), key: listed, "griddata": self.griddata}
