"""Pure-NumPy twins of the grid kernels (cpp/src/grid.cpp).

Written independently of the C++ loops: rectangles are summed with a 2-D difference array
(prefix sums), point stamps with ``np.add.at``, and the sliding window as a difference of
cumulative sums over frames (the C++ code uses a ring of per-frame contributions instead).
All coordinates are pixels; cells are ``(row v, column h)``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["first_bad_box", "stamp_offsets", "frame_grid", "grid_apply", "grid_counts", "grid_points"]

_BIG = 2.0 ** 52


def _clip(x: np.ndarray) -> np.ndarray:
    return np.clip(np.nan_to_num(x, nan=0.0), -_BIG, _BIG)


def _boxes(boxes) -> np.ndarray:
    b = np.asarray(boxes, dtype=np.float64)
    if b.size == 0:
        return b.reshape(0, 4)
    if b.ndim != 2 or b.shape[1] != 4:
        raise ValueError(f"boxes must have shape (N, 4), got {b.shape}")
    return b


def stamp_offsets(spread: int, geometry: str) -> tuple[np.ndarray, np.ndarray]:
    """(dv, dh) offsets of the cells a point adds to, from a brute-force distance test.

    exact: every cell with dh² + dv² <= n²; aitrios: the same test over the sample's
    ``range(p - n, p + n)`` loops (so the +n row and column are missing); n <= 0: the cell only.
    """
    n = int(spread)
    if n <= 0:
        return np.zeros(1, np.int64), np.zeros(1, np.int64)
    hi = n if geometry == "exact" else n - 1
    d = np.arange(-n, hi + 1, dtype=np.int64)
    dv, dh = np.meshgrid(d, d, indexing="ij")
    keep = dv * dv + dh * dh <= n * n
    return dv[keep], dh[keep]


def _aitrios_point_cells(b: np.ndarray, width: int, height: int, nh: int, nv: int, anchor: float):
    gsh, gsv = width // nh, height // nv
    x = np.trunc(_clip((b[:, 0] + b[:, 2]) / 2.0)).astype(np.int64)
    y = np.trunc(_clip(b[:, 1] * (1.0 - anchor) + b[:, 3] * anchor)).astype(np.int64)
    return x // gsh, y // gsv


def first_bad_box(boxes, width: int, height: int, nh: int, nv: int, spread: int, mode: str,
                  geometry: str, anchor: float = 1.0) -> int:
    """Index of the first box the AITRIOS sample raises IndexError on, or -1."""
    b = _boxes(boxes)
    if not (geometry == "aitrios" and mode == "point" and spread <= 0) or len(b) == 0:
        return -1
    gh, gv = _aitrios_point_cells(b, width, height, nh, nv, anchor)
    bad = np.isfinite(b).all(axis=1) & ((gh < -nh) | (gh >= nh) | (gv < -nv) | (gv >= nv))
    idx = np.flatnonzero(bad)
    return int(idx[0]) if idx.size else -1


def _rects(b, width, height, nh, nv, n, geometry):
    """Half-open cell rectangles (h0, h1, v0, v1) and a validity mask, box mode."""
    fin = np.isfinite(b).all(axis=1)
    if geometry == "aitrios":
        gsh, gsv = width // nh, height // nv
        f = np.floor(_clip(b)).astype(np.int64)
        gl, gt, gr, gb = f[:, 0] // gsh, f[:, 1] // gsv, f[:, 2] // gsh, f[:, 3] // gsv
        h0 = np.minimum(np.maximum(gl - n, 0), nh - 1)
        v0 = np.minimum(np.maximum(gt - n, 0), nv - 1)
        h1 = np.minimum(gr + n, nh - 1)
        v1 = np.minimum(gb + n, nv - 1)
        ok = fin & (h1 > h0) & (v1 > v0)
        return h0, h1, v0, v1, ok
    l, t, r, bb = (b[:, i] for i in range(4))
    ok = fin & (r >= l) & (bb >= t) & (r >= 0) & (l <= width) & (bb >= 0) & (t <= height)
    l, t = np.maximum(l, 0.0), np.maximum(t, 0.0)
    r, bb = np.minimum(r, float(width)), np.minimum(bb, float(height))

    def first(x, ncell, size):
        return np.clip(np.floor(_clip(x * ncell / size)).astype(np.int64), 0, ncell - 1)

    def last(x, ncell, size, f):
        c = np.ceil(_clip(x * ncell / size)).astype(np.int64) - 1
        return np.maximum(np.minimum(c, ncell - 1), f)

    fh, fv = first(l, nh, width), first(t, nv, height)
    lh, lv = last(r, nh, width, fh), last(bb, nv, height, fv)
    h0, v0 = np.maximum(fh - n, 0), np.maximum(fv - n, 0)
    h1, v1 = np.minimum(lh + n, nh - 1) + 1, np.minimum(lv + n, nv - 1) + 1
    return h0, h1, v0, v1, ok


def _points(b, width, height, nh, nv, n, geometry, anchor):
    """Point cells (gh, gv) and validity, point mode (aitrios n <= 0: wrapped)."""
    fin = np.isfinite(b).all(axis=1)
    if geometry == "aitrios":
        gh, gv = _aitrios_point_cells(b, width, height, nh, nv, anchor)
        ok = fin
        if n <= 0:
            ok = ok & (gh >= -nh) & (gh < nh) & (gv >= -nv) & (gv < nv)
            gh = np.where(gh < 0, gh + nh, gh)
            gv = np.where(gv < 0, gv + nv, gv)
        return gh, gv, ok
    x = (b[:, 0] + b[:, 2]) * 0.5
    y = b[:, 1] + anchor * (b[:, 3] - b[:, 1])
    ok = fin & (x >= 0) & (x <= width) & (y >= 0) & (y <= height)
    gh = np.clip(np.floor(_clip(x * nh / width)).astype(np.int64), 0, nh - 1)
    gv = np.clip(np.floor(_clip(y * nv / height)).astype(np.int64), 0, nv - 1)
    return gh, gv, ok


def _contributions(b, frame_of_box, frames, width, height, nh, nv, spread, mode, geometry, anchor):
    """(frames, nv, nh) int64: what each frame adds."""
    n = int(spread)
    out = np.zeros((frames, nv, nh), np.int64)
    if len(b) == 0:
        return out
    if mode == "box":
        h0, h1, v0, v1, ok = _rects(b, width, height, nh, nv, n, geometry)
        f = frame_of_box[ok]
        h0, h1, v0, v1 = h0[ok], h1[ok], v0[ok], v1[ok]
        d = np.zeros((frames, nv + 1, nh + 1), np.int64)
        np.add.at(d, (f, v0, h0), 1)
        np.add.at(d, (f, v0, h1), -1)
        np.add.at(d, (f, v1, h0), -1)
        np.add.at(d, (f, v1, h1), 1)
        return np.cumsum(np.cumsum(d, axis=1), axis=2)[:, :nv, :nh]
    gh, gv, ok = _points(b, width, height, nh, nv, n, geometry, anchor)
    f, gh, gv = frame_of_box[ok], gh[ok], gv[ok]
    dv, dh = stamp_offsets(n, geometry)
    for a, c in zip(dv.tolist(), dh.tolist()):
        v, h = gv + a, gh + c
        m = (v >= 0) & (v < nv) & (h >= 0) & (h < nh)
        np.add.at(out, (f[m], v[m], h[m]), 1)
    return out


def frame_grid(boxes, width: int, height: int, nh: int, nv: int, spread: int, mode: str,
               geometry: str, anchor: float = 1.0) -> np.ndarray:
    """(nv, nh) int64: what one frame of boxes adds (boxes the sample crashes on add nothing)."""
    b = _boxes(boxes)
    return _contributions(b, np.zeros(len(b), np.int64), 1, width, height, nh, nv, spread, mode,
                          geometry, anchor)[0]


def grid_apply(grid: np.ndarray, boxes, width: int, height: int, nh: int, nv: int, spread: int,
               mode: str, geometry: str, anchor: float, sign: int):
    """Twin of ``_core.grid_apply``: returns None or (box, cell_h, cell_v) without touching grid."""
    b = _boxes(boxes)
    bad = first_bad_box(b, width, height, nh, nv, spread, mode, geometry, anchor)
    if bad >= 0:
        gh, gv = _aitrios_point_cells(b[bad:bad + 1], width, height, nh, nv, anchor)
        return bad, int(gh[0]), int(gv[0])
    grid += sign * frame_grid(b, width, height, nh, nv, spread, mode, geometry, anchor)
    return None


def grid_counts(boxes, offsets, width: int, height: int, nh: int, nv: int, spread: int, mode: str,
                geometry: str, anchor: float, window: int, threads: int = 0, initial=None, history: int = 0,
                frame_base: int = 0) -> np.ndarray:
    """Twin of ``_core.grid_counts``: (frames - history, nv, nh) int32, window <= 0 unbounded.

    Grid after frame t = initial + S(t) - S(history - 1) - S(t - window), with S(k) the sum of the
    contributions of frames 0..k (S(k < 0) = 0)."""
    del threads
    b = _boxes(boxes)
    off = np.asarray(offsets, dtype=np.int64)
    frames = len(off) - 1
    if frames < 0 or off[0] != 0 or off[-1] != len(b) or np.any(np.diff(off) < 0):
        raise ValueError("offsets must start at 0, not decrease and end at the number of boxes")
    if not 0 <= history <= frames:
        raise ValueError(f"history must be in [0, frames], got {history}")
    first = int(off[history])
    bad = first_bad_box(b[first:], width, height, nh, nv, spread, mode, geometry, anchor)
    if bad >= 0:
        bad += first
        f = int(np.searchsorted(off, bad, side="right") - 1)
        gh, gv = _aitrios_point_cells(b[bad:bad + 1], width, height, nh, nv, anchor)
        raise ValueError(f"frame {f - history + frame_base}, box {bad - int(off[f])}: point cell (h={int(gh[0])}, "
                         f"v={int(gv[0])}) is outside the {nh}x{nv} grid; the AITRIOS sample raises IndexError here")
    frame_of_box = np.repeat(np.arange(frames, dtype=np.int64), np.diff(off))
    c = _contributions(b, frame_of_box, frames, width, height, nh, nv, spread, mode, geometry, anchor)
    s = np.concatenate([np.zeros((1, nv, nh), np.int64), np.cumsum(c, axis=0)])  # s[k + 1] = S(k)
    t = np.arange(history, frames)
    out = s[t + 1] - s[history]
    if window > 0:
        out -= s[np.maximum(t - window + 1, 0)]
    if initial is not None:
        out += np.asarray(initial, np.int64)[None]
    return out.astype(np.int32)


def grid_points(boxes, width: int, height: int, nh: int, nv: int, spread: int, geometry: str,
                anchor: float) -> np.ndarray:
    """(N, 2) float64 point of each box: aitrios truncates like the sample, exact does not."""
    b = _boxes(boxes)
    if geometry == "aitrios":
        x = np.trunc(_clip((b[:, 0] + b[:, 2]) / 2.0))
        y = np.trunc(_clip(b[:, 1] * (1.0 - anchor) + b[:, 3] * anchor))
    else:
        x = (b[:, 0] + b[:, 2]) * 0.5
        y = b[:, 1] + anchor * (b[:, 3] - b[:, 1])
    return np.stack([x, y], axis=1)
