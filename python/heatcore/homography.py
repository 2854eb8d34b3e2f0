"""Image → floor-plan homographies: calibrate from point pairs, map points in C++, preview.

A :class:`Homography` maps camera-image pixels onto a 2-D plan (plan pixels or any plan unit).
It is computed from 4+ point pairs (``cv2.findHomography``, optionally with RANSAC), or given as a
3x3 matrix, and saved/loaded as JSON. :meth:`Homography.apply` runs in C++ (threads for large N).

Points that land at or behind the horizon of the plan (homogeneous ``w <= 0``) have no image on
the plan; they come out as NaN and are counted (``return_behind=True``), never mirrored to the
other side as a plain ``x/w`` division would do. The matrix's overall sign therefore matters:
:meth:`Homography.from_points` orients it so the calibration points have ``w > 0``.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Literal, overload

import cv2
import numpy as np

from . import limits
from ._checks import resolve_threads

__all__ = ["Homography", "calibrate", "load_points"]


def _as_pairs(values: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be numeric (N, 2) coordinates: {exc}") from None
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"{name} must have shape (N, 2), got {arr.shape}")
    if not np.isfinite(arr).all():
        bad = np.flatnonzero(~np.isfinite(arr).all(axis=1))
        raise ValueError(f"{name} holds NaN/inf values (rows {bad.tolist()})")
    return np.ascontiguousarray(arr)


def _check_spread(pts: np.ndarray, name: str) -> None:
    """Raise ValueError when the points cannot define a homography (duplicates, collinear)."""
    n = pts.shape[0]
    scale = float(np.ptp(pts, axis=0).max()) if n else 0.0
    if scale <= 0:
        raise ValueError(f"{name} points are all identical: {pts[0].tolist()}")
    d = pts[:, None, :] - pts[None, :, :]
    dist = np.sqrt((d ** 2).sum(-1)) + np.eye(n) * scale
    i, j = np.unravel_index(np.argmin(dist), dist.shape)
    if dist[i, j] <= 1e-9 * scale:
        raise ValueError(f"{name} points {i} and {j} coincide ({pts[i].tolist()})")
    centred = (pts - pts.mean(axis=0)) / scale
    s = np.linalg.svd(centred, compute_uv=False)
    if s[-1] <= 1e-9 * max(s[0], 1e-300) * math.sqrt(n):
        raise ValueError(f"{name} points are collinear: a homography needs 4+ points with no 3 on one line")
    if n == 4:
        for a, b, c in [(0, 1, 2), (0, 1, 3), (0, 2, 3), (1, 2, 3)]:
            u, v = pts[b] - pts[a], pts[c] - pts[a]
            area = abs(u[0] * v[1] - u[1] * v[0])
            if area <= 1e-6 * scale * scale:
                raise ValueError(f"{name} points {a}, {b}, {c} are collinear: with 4 pairs no 3 may lie on one line")


_TRIPLES_MAX_POINTS = 60  # orientation pre-check over all triples up to this many pairs


def _orientations(pts: np.ndarray, triples: np.ndarray) -> np.ndarray:
    """Signed doubled area of each triangle (a, b, c), divided by the square of the points' spread."""
    a, b, c = pts[triples[:, 0]], pts[triples[:, 1]], pts[triples[:, 2]]
    u, v = b - a, c - a
    scale = float(np.ptp(pts, axis=0).max()) or 1.0
    return (u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]) / (scale * scale)


def _flipped(s: np.ndarray, d: np.ndarray, triples: np.ndarray, tol: float) -> np.ndarray:
    """Triples whose turn direction differs between src and dst (from the majority), among the
    triangles that are not nearly flat in either set."""
    os_, od = _orientations(s, triples), _orientations(d, triples)
    clear = (np.abs(os_) > tol) & (np.abs(od) > tol)
    prod = np.sign(os_) * np.sign(od)
    if not clear.any():
        return np.zeros(len(triples), bool)
    major = 1.0 if np.sum(prod[clear] > 0) >= np.sum(prod[clear] < 0) else -1.0
    return clear & (prod != major)


def _check_order(s: np.ndarray, d: np.ndarray, tol: float = 1e-2) -> None:
    """Raise ValueError when no homography can map the src points onto the dst points with every
    point in front of the horizon: a projective map keeps the turn direction (clockwise or not)
    of every triangle of points, up to one global flip, so src and dst listed in a different
    order (crossed, or a non-convex quadrilateral onto a convex one) cannot both hold."""
    import itertools

    n = len(s)
    if n > _TRIPLES_MAX_POINTS:
        return
    # (used for 4 pairs; with more, least squares may still fit with every point in front, and the
    # fit is checked for points behind the horizon and large errors instead)
    triples = np.array(list(itertools.combinations(range(n), 3)), dtype=np.int64)
    bad = _flipped(s, d, triples, tol)
    if not bad.any():
        return
    t = triples[np.flatnonzero(bad)[0]]
    msg = (f"the src and dst points are not in the same order: triangle of pairs {tuple(int(v) for v in t)} turns "
           f"the other way in dst than in src and the other triangles, so no homography maps one onto the "
           f"other (the fit would put points behind the horizon)")
    swaps = []
    for i, j in itertools.combinations(range(n), 2):
        dd = d.copy()
        dd[[i, j]] = dd[[j, i]]
        if not _flipped(s, dd, triples, tol).any():
            swaps.append(f"{i} and {j}")
    if swaps:
        raise ValueError(msg + f"; pairs {' or '.join(swaps)} look swapped (a crossed order): list the points in "
                         "the same order in both files")
    if n == 4:
        for k in range(4):
            others = [v for v in range(4) if v != k]
            ins, ind = _inside(s, k, others), _inside(d, k, others)
            if ins != ind:
                which, other = ("src", "dst") if ins else ("dst", "src")
                raise ValueError(msg + f"; pair {k}'s {which} point lies inside the triangle of the other three "
                                 f"{which} points but its {other} point does not (a non-convex quadrilateral "
                                 "cannot map onto a convex one): check pair " + str(k))
    counts = np.bincount(triples[bad].ravel(), minlength=n)
    worst = [int(k) for k in np.flatnonzero(counts == counts.max())]
    raise ValueError(msg + f"; check pair{'s' if len(worst) > 1 else ''} {', '.join(map(str, worst))} "
                     "(a mis-clicked or misordered point)")


def _inside(pts: np.ndarray, k: int, tri: list[int]) -> bool:
    """Whether point k lies strictly inside the triangle of the points ``tri``."""
    signs = []
    for a, b in ((tri[0], tri[1]), (tri[1], tri[2]), (tri[2], tri[0])):
        u, v = pts[b] - pts[a], pts[k] - pts[a]
        signs.append(np.sign(u[0] * v[1] - u[1] * v[0]))
    return bool(signs[0] != 0 and signs[0] == signs[1] == signs[2])


def _normalise(m: np.ndarray) -> np.ndarray:
    """Scale a homography by a positive factor so |H[2,2]| = 1 (or its norm is 1)."""
    s = abs(m[2, 2])
    mx = float(np.abs(m).max())
    if s < 1e-12 * mx:
        s = float(np.linalg.norm(m / mx)) * mx  # scaled first: no overflow for entries near 1e154
    return m / s


class Homography:
    """A 3x3 projective map from image pixels to plan coordinates.

    Attributes
    ----------
    matrix : (3, 3) float64, maps homogeneous image points ``(x, y, 1)`` to plan points.
    src, dst : (N, 2) float64 calibration pairs (image pixels, plan units) or None.
    inliers : (N,) bool mask of the pairs used (all True without RANSAC) or None.
    errors : (N,) float64 reprojection error of each pair in plan units (distance between
        ``apply(src[i])`` and ``dst[i]``), or None without pairs.
    last_behind : number of points at/behind the horizon in the last :meth:`apply` call.
    """

    def __init__(self, matrix: Any, *, src: Any = None, dst: Any = None, inliers: Any = None,
                 method: str = "matrix") -> None:
        try:
            m = np.array(matrix, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"matrix must be a numeric 3x3 array: {exc}") from None
        if m.shape != (3, 3):
            raise ValueError(f"matrix must have shape (3, 3), got {m.shape}")
        if not np.isfinite(m).all():
            raise ValueError(f"matrix holds NaN/inf values: {m.tolist()}")
        if not np.any(m):
            raise ValueError("matrix is all zeros")
        m = _normalise(m)
        # Singular matrices squash the plane onto a line: no inverse, no meaningful mapping.
        if abs(np.linalg.det(m)) <= 1e-12 * float(np.abs(m).max()) ** 3:
            raise ValueError(f"matrix is singular (determinant ~ 0): {m.tolist()}")
        self.matrix: np.ndarray = np.ascontiguousarray(m)
        self.src: np.ndarray | None = None if src is None else _as_pairs(src, "src")
        self.dst: np.ndarray | None = None if dst is None else _as_pairs(dst, "dst")
        if (self.src is None) != (self.dst is None):
            raise ValueError("src and dst must be given together")
        if self.src is not None and self.dst is not None and self.src.shape != self.dst.shape:
            raise ValueError(f"src and dst must have the same shape, got {self.src.shape} and {self.dst.shape}")
        self.inliers: np.ndarray | None = None
        if inliers is not None:
            self.inliers = np.asarray(inliers, dtype=bool).reshape(-1)
            if self.src is None or self.inliers.shape[0] != self.src.shape[0]:
                raise ValueError("inliers must have one entry per pair")
        elif self.src is not None:
            self.inliers = np.ones(self.src.shape[0], dtype=bool)
        self.method = method
        self.last_behind = 0
        self.errors: np.ndarray | None = None if self.src is None else self.reprojection_errors(self.src, self.dst)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_points(cls, src: Any, dst: Any, *, ransac: bool = False,
                    ransac_threshold: float = 3.0) -> "Homography":
        """Fit from 4+ pairs: ``src`` (N, 2) image pixels → ``dst`` (N, 2) plan coordinates.

        Without ``ransac`` every pair is used (least squares, ``cv2.findHomography`` method 0).
        With ``ransac=True`` pairs whose reprojection error exceeds ``ransac_threshold`` (plan units)
        are treated as outliers (see :attr:`inliers`). Raises ValueError for fewer than 4 pairs,
        NaN, duplicate or collinear points, and for degenerate fits: src and dst listed in a
        different order (crossed, or a non-convex quadrilateral onto a convex one; the error names
        the pairs, e.g. "pairs 2 and 3 look swapped"), or inlier pairs behind the horizon.
        """
        s = _as_pairs(src, "src")
        d = _as_pairs(dst, "dst")
        if s.shape[0] != d.shape[0]:
            raise ValueError(f"src and dst must hold the same number of points, got {s.shape[0]} and {d.shape[0]}")
        if s.shape[0] < 4:
            raise ValueError(f"a homography needs at least 4 point pairs, got {s.shape[0]}")
        _check_spread(s, "src")
        _check_spread(d, "dst")
        if s.shape[0] == 4:  # 4 pairs fix H exactly: a flipped triangle means a crossed order
            _check_order(s, d)
        if ransac:
            if not (isinstance(ransac_threshold, (int, float)) and ransac_threshold > 0):
                raise ValueError(f"ransac_threshold must be > 0, got {ransac_threshold!r}")
            m, mask = cv2.findHomography(s, d, cv2.RANSAC, float(ransac_threshold))
        else:
            m, mask = cv2.findHomography(s, d, 0)
        if m is None:
            raise ValueError("cv2.findHomography found no homography for these pairs (degenerate configuration)")
        inl = np.ones(s.shape[0], bool) if (mask is None or not ransac) else mask.reshape(-1).astype(bool)
        m = _normalise(np.asarray(m, np.float64))
        w = s @ m[2, :2] + m[2, 2]
        if np.sum(w[inl] > 0) < np.sum(w[inl] < 0):
            m = -m  # orient so the calibration points lie in front of the horizon
            w = -w
        behind = np.flatnonzero(inl & ~(w > 0))
        if behind.size:
            raise ValueError(f"degenerate fit: pair{'s' if behind.size > 1 else ''} {', '.join(map(str, behind.tolist()))} "
                             "would lie behind the horizon (the points are not in the same order in src and dst, "
                             "or a pair is wrong)")
        h = cls(m, src=s, dst=d, inliers=inl, method="ransac" if ransac else "least-squares")
        assert h.errors is not None  # pairs were given
        bad = np.flatnonzero(inl & ~np.isfinite(h.errors))
        if bad.size:
            raise ValueError(f"degenerate fit: pairs {bad.tolist()} have no finite reprojection error")
        return h

    @classmethod
    def from_matrix(cls, matrix: Any) -> "Homography":
        """Wrap a 3x3 matrix (image → plan). Its sign decides which side is "in front": points
        with ``w = m[2] . (x, y, 1) <= 0`` map to NaN."""
        return cls(matrix)

    # ------------------------------------------------------------------ mapping
    @overload
    def apply(self, points: Any, *, threads: int | None = ..., backend: str = ...,
              return_behind: Literal[False] = ...) -> np.ndarray: ...

    @overload
    def apply(self, points: Any, *, threads: int | None = ..., backend: str = ...,
              return_behind: Literal[True]) -> tuple[np.ndarray, int]: ...

    @overload
    def apply(self, points: Any, *, threads: int | None = ..., backend: str = ...,
              return_behind: bool = ...) -> np.ndarray | tuple[np.ndarray, int]: ...

    def apply(self, points: Any, *, threads: int | None = None, backend: str = "cpp",
              return_behind: bool = False) -> np.ndarray | tuple[np.ndarray, int]:
        """Map (N, 2) image points (pixels) to plan coordinates, (N, 2) float64.

        Points at or behind the horizon (``w <= 0``) become NaN; their number is stored in
        :attr:`last_behind` and returned too with ``return_behind=True``. NaN inputs give NaN
        outputs (not counted). ``backend="numpy"`` runs the pure-NumPy twin. ``threads``: worker
        threads (None/0 = all cores; threads only start above ~65k points).
        """
        try:
            p = np.asarray(points, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"points must be numeric (N, 2) coordinates: {exc}") from None
        single = p.ndim == 1 and p.shape[0] == 2
        if single:
            p = p.reshape(1, 2)
        if p.ndim == 1 and p.size == 0:
            p = p.reshape(0, 2)
        if p.ndim != 2 or p.shape[1] != 2:
            raise ValueError(f"points must have shape (N, 2), got {p.shape}")
        nthreads = resolve_threads(threads)  # validated for either backend
        if backend == "cpp":
            from . import _core

            out, behind = _core.apply_homography(self.matrix, np.ascontiguousarray(p), nthreads)
        elif backend == "numpy":
            from .reference.homography import apply_homography

            out, behind = apply_homography(self.matrix, p)
        else:
            raise ValueError(f"backend must be 'cpp' or 'numpy', got {backend!r}")
        self.last_behind = int(behind)
        if single:
            out = out[0]
        return (out, int(behind)) if return_behind else out

    __call__ = apply

    def inverse(self) -> "Homography":
        """The plan → image homography (pairs swapped). Keeps the orientation: points in front
        of the horizon map back with ``w > 0``."""
        inv = np.linalg.inv(self.matrix)
        return Homography(inv, src=self.dst, dst=self.src, inliers=self.inliers, method=self.method)

    def reprojection_errors(self, src: Any, dst: Any) -> np.ndarray:
        """Distance (plan units) between ``apply(src[i])`` and ``dst[i]`` for each pair (inf when
        the point falls behind the horizon)."""
        s = _as_pairs(src, "src")
        d = _as_pairs(dst, "dst")
        if s.shape != d.shape:
            raise ValueError(f"src and dst must have the same shape, got {s.shape} and {d.shape}")
        mapped = self.apply(s, threads=1)
        err = np.sqrt(((mapped - d) ** 2).sum(axis=1))
        return np.where(np.isnan(err), np.inf, err)

    @property
    def rms_error(self) -> float | None:
        """Root-mean-square reprojection error over the inlier pairs (plan units), or None."""
        if self.errors is None:
            return None
        e = self.errors[self.inliers] if self.inliers is not None else self.errors
        return float(np.sqrt(np.mean(e ** 2))) if e.size else None

    def large_errors(self, max_error: float | None = None) -> list[tuple[int, float]]:
        """Inlier pairs whose reprojection error exceeds ``max_error`` (plan units; default 1 % of
        the diagonal of the plan points' bounding box), as ``[(pair, error), ...]``."""
        if self.errors is None:
            return []
        limit = self.default_max_error() if max_error is None else float(max_error)
        inl = self.inliers if self.inliers is not None else np.ones(len(self.errors), bool)
        return [(int(i), float(self.errors[i])) for i in np.flatnonzero(inl & ~(self.errors <= limit))]

    def default_max_error(self) -> float:
        """1 % of the diagonal of the plan points' bounding box (plan units), at least 1e-9."""
        if self.dst is None:
            return float("inf")
        return max(1e-9, 0.01 * float(np.hypot(*np.ptp(self.dst, axis=0))))

    @property
    def max_error(self) -> float | None:
        """Largest reprojection error over the inlier pairs (plan units), or None."""
        if self.errors is None:
            return None
        e = self.errors[self.inliers] if self.inliers is not None else self.errors
        return float(e.max()) if e.size else None

    def report(self) -> str:
        """A human-readable table of the per-pair reprojection errors."""
        lines = [f"homography ({self.method})"]
        for row in self.matrix:
            lines.append("  [" + "  ".join(f"{v: .6g}" for v in row) + "]")
        if self.errors is not None:
            lines.append("pair  image (x, y)          plan (x, y)           error")
            assert self.src is not None and self.dst is not None  # errors imply pairs
            for i, (s, d, e) in enumerate(zip(self.src, self.dst, self.errors)):
                flag = "" if self.inliers is None or self.inliers[i] else "  (outlier)"
                lines.append(f"{i:4d}  ({s[0]:8.2f}, {s[1]:8.2f})  ({d[0]:8.2f}, {d[1]:8.2f})  {e:8.4f}{flag}")
            lines.append(f"RMS error {self.rms_error:.4f}, max {self.max_error:.4f} (plan units, inliers)")
        return "\n".join(lines)

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict:
        """A JSON-able dict (matrix, and the pairs / inliers / errors when known)."""
        d: dict[str, Any] = {"type": "heatcore.Homography", "version": 1, "method": self.method,
                             "matrix": self.matrix.tolist()}
        if self.src is not None:
            assert self.dst is not None and self.inliers is not None and self.errors is not None
            d["src"] = self.src.tolist()
            d["dst"] = self.dst.tolist()
            d["inliers"] = self.inliers.tolist()
            d["errors"] = [float(e) if np.isfinite(e) else None for e in self.errors]
            rms = self.rms_error
            d["rms_error"] = rms if rms is not None and math.isfinite(rms) else None
        return d

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """Strict JSON text of :meth:`to_dict` (no NaN/Infinity, which most parsers reject); also
        written to ``path`` when given."""
        try:
            text = json.dumps(self.to_dict(), indent=2, allow_nan=False)
        except ValueError:
            raise ValueError(f"homography has non-finite values and cannot be written as JSON: {self.matrix.tolist()}") from None
        if path is not None:
            p = Path(path)
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text + "\n")
        return text

    save = to_json

    @classmethod
    def from_dict(cls, d: dict) -> "Homography":
        """Inverse of :meth:`to_dict`; a bare ``{"matrix": ...}`` or a 3x3 list also works."""
        if isinstance(d, list):
            return cls(d)
        if not isinstance(d, dict) or "matrix" not in d:
            raise ValueError("homography JSON must be an object with a 'matrix' (3x3) entry")
        return cls(d["matrix"], src=d.get("src"), dst=d.get("dst"), inliers=d.get("inliers"),
                   method=str(d.get("method", "matrix")))

    @classmethod
    def from_json(cls, source: str | os.PathLike[str]) -> "Homography":
        """Load from a JSON file path, or from JSON text."""
        text = str(source)
        if not text.lstrip().startswith(("{", "[")):
            p = Path(source)
            if not p.exists():
                raise FileNotFoundError(f"no such homography file: {p}")
            text = p.read_text()
        try:
            d = limits.json_loads(text, "homography JSON")
        except json.JSONDecodeError as exc:
            raise ValueError(f"homography file is not valid JSON: {exc}") from None
        return cls.from_dict(d)

    load = from_json

    # ------------------------------------------------------------------ preview
    def warp_image(self, frame: np.ndarray, plan: np.ndarray | None = None, *,
                   plan_size: tuple[int, int] | None = None, alpha: float = 0.5,
                   side_by_side: bool = True, draw_points: bool = True,
                   threads: int | None = None, max_error: float | None = None) -> np.ndarray:
        """Preview the calibration: the camera ``frame`` warped onto the plan.

        ``frame``: (H, W, 3) uint8 camera image; ``plan``: (h, w, 3) uint8 plan image (or
        ``plan_size = (w, h)`` in plan pixels for a blank plan). The warped frame is blended over the
        plan with opacity ``alpha``; plan pixels that see no part of the frame (or lie beyond the
        horizon) keep the plan. With ``side_by_side`` the camera frame (scaled to the plan's height)
        is put left of the result; calibration points are drawn (circles = measured, crosses =
        where the homography puts them) with each pair's number and reprojection error in plan
        units (green up to ``max_error``, default :meth:`default_max_error`; orange above; red =
        RANSAC outlier), explained in a strip below the picture with the RMS. Colour order is whatever the inputs use
        (the colours named assume BGR).
        """
        img = np.asarray(frame)
        if img.dtype != np.uint8 or img.ndim not in (2, 3):
            raise ValueError(f"frame must be a uint8 image, got {img.shape} {img.dtype}")
        if img.ndim == 2:
            img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
        img = img[..., :3]
        if plan is None:
            if plan_size is None:
                raise ValueError("give a plan image or plan_size=(width, height)")
            pw, ph = int(plan_size[0]), int(plan_size[1])
            if pw <= 0 or ph <= 0:
                raise ValueError(f"plan_size must be positive, got {plan_size!r}")
            base: np.ndarray = np.full((ph, pw, 3), 255, np.uint8)
        else:
            base = np.asarray(plan)
            if base.dtype != np.uint8 or base.ndim not in (2, 3):
                raise ValueError(f"plan must be a uint8 image, got {base.shape} {base.dtype}")
            if base.ndim == 2:
                base = cv2.cvtColor(base, cv2.COLOR_GRAY2BGR)
            base = np.ascontiguousarray(base[..., :3])
            ph, pw = base.shape[:2]
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
        # Inverse map through our own kernel so plan pixels beyond the horizon stay empty
        # (cv2.warpPerspective would fold them back in mirrored).
        ys, xs = np.mgrid[0:ph, 0:pw]
        grid = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float64)
        src_xy = self.inverse().apply(grid, threads=threads)
        valid = np.isfinite(src_xy).all(axis=1)
        src_xy[~valid] = -1e6
        mapx = src_xy[:, 0].reshape(ph, pw).astype(np.float32)
        mapy = src_xy[:, 1].reshape(ph, pw).astype(np.float32)
        warped = cv2.remap(img, mapx, mapy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        inside = (valid.reshape(ph, pw) & (mapx >= 0) & (mapy >= 0) & (mapx <= img.shape[1] - 1)
                  & (mapy <= img.shape[0] - 1))
        out = base.copy()
        blend = (base.astype(np.float32) * (1 - alpha) + warped.astype(np.float32) * alpha + 0.5).astype(np.uint8)
        out[inside] = blend[inside]
        cam = img.copy()
        legend = None
        if draw_points and self.src is not None:
            assert self.dst is not None  # given together with src
            mapped = self.apply(self.src, threads=1)
            limit = self.default_max_error() if max_error is None else float(max_error)
            r = max(3, int(round(max(pw, ph) / 150)))
            fs = max(0.4, min(0.8, max(pw, ph) / 1600))
            for i, (s, d, m) in enumerate(zip(self.src, self.dst, mapped)):
                err = float(self.errors[i]) if self.errors is not None else float("nan")
                if self.inliers is not None and not self.inliers[i]:
                    col = (0, 0, 255)  # outlier
                elif err <= limit:
                    col = (0, 170, 0)
                else:
                    col = (0, 140, 255)
                cv2.circle(cam, (int(round(s[0])), int(round(s[1]))), r + 2, col, 2, cv2.LINE_AA)
                _outlined_text(cam, str(i), _label_org(cam, str(i), s, r, 0.5), 0.5, col)
                cv2.circle(out, (int(round(d[0])), int(round(d[1]))), r + 2, col, 2, cv2.LINE_AA)
                if np.isfinite(m).all():
                    cv2.drawMarker(out, (int(round(m[0])), int(round(m[1]))), (255, 0, 255),
                                   cv2.MARKER_CROSS, 2 * r + 4, 2)
                label = f"{i}: {err:.2f}" + ("" if self.inliers is None or self.inliers[i] else " (outlier)")
                _outlined_text(out, label, _label_org(out, label, d, r, fs), fs, col)
            rms = self.rms_error
            legend = ("circles: measured points, crosses: where the homography maps them, numbers: pair: "
                      "reprojection error (plan units)" + (f"; RMS {rms:.3g}" if rms is not None else ""))
        if side_by_side:
            scale = ph / cam.shape[0]
            cam = cv2.resize(cam, (max(1, int(round(cam.shape[1] * scale))), ph), interpolation=cv2.INTER_AREA)
            gap = np.full((ph, 8, 3), 255, np.uint8)
            out = np.concatenate([cam, gap, out], axis=1)
        if legend is not None:  # a strip below the picture, so it never hides a point
            fs = max(0.35, min(0.6, out.shape[1] / 1800))
            (tw, th), _ = cv2.getTextSize(legend, cv2.FONT_HERSHEY_SIMPLEX, fs, 1)
            if tw > out.shape[1] - 12:
                fs *= (out.shape[1] - 12) / tw
                (tw, th), _ = cv2.getTextSize(legend, cv2.FONT_HERSHEY_SIMPLEX, fs, 1)
            strip = np.full((th + 14, out.shape[1], 3), 255, np.uint8)
            cv2.putText(strip, legend, (6, th + 6), cv2.FONT_HERSHEY_SIMPLEX, fs, (40, 40, 40), 1, cv2.LINE_AA)
            out = np.concatenate([out, strip], axis=0)
        return out

    # ------------------------------------------------------------------ misc
    def __repr__(self) -> str:
        err = "" if self.rms_error is None else f", rms_error={self.rms_error:.3g}"
        return f"Homography({self.matrix.tolist()}{err})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Homography) and np.array_equal(self.matrix, other.matrix)

    __hash__ = None  # type: ignore[assignment]


def _label_org(img: np.ndarray, text: str, pt: np.ndarray, r: int, scale: float) -> tuple[int, int]:
    """Where to write a point's label: up-right of it, flipped left/down where it would leave the image."""
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    x, y = int(round(pt[0])) + r + 3, int(round(pt[1])) - r
    if x + tw > img.shape[1] - 2:
        x = int(round(pt[0])) - r - 3 - tw
    if y - th < 2:
        y = int(round(pt[1])) + r + th + 3
    return max(2, x), min(img.shape[0] - 3, y)


def _outlined_text(img: np.ndarray, text: str, org: tuple[int, int], scale: float,
                   colour: tuple[int, int, int]) -> None:
    """Text with a white outline, readable on any plan or frame."""
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 4, cv2.LINE_AA)
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv2.LINE_AA)


def _load_pairs(path: str | os.PathLike[str], name: str) -> np.ndarray:
    """Read calibration points from JSON: ``[[x, y], ...]`` or ``{"points": [[x, y], ...]}``."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no such {name} points file: {p}")
    try:
        d = limits.json_loads(p.read_text(), f"{name} points file {p}")
    except json.JSONDecodeError as exc:
        raise ValueError(f"{name} points file {p} is not valid JSON: {exc}") from None
    if isinstance(d, dict):
        if "points" not in d:
            raise ValueError(f"{name} points file {p} must be a list of [x, y] or an object with 'points'")
        d = d["points"]
    return _as_pairs(d, name)


def load_points(path: str | os.PathLike[str], name: str = "points") -> np.ndarray:
    """Public alias of the JSON point-list reader used by ``heatcore calibrate``."""
    return _load_pairs(path, name)



def calibrate(image: str | os.PathLike[str], src: Any, dst: Any, output: str | os.PathLike[str], *,
              plan: str | os.PathLike[str] | None = None, ransac: bool = False, ransac_threshold: float = 3.0,
              preview: str | os.PathLike[str] | None = None,
              max_error: float | None = None) -> tuple[Homography, Path, list[tuple[int, float]], float]:
    """``heatcore calibrate``: fit the homography from image points ``src`` (pixels) to plan points
    ``dst`` (JSON files or (N, 2) arrays), save it to ``output`` (JSON) and a preview (the camera
    ``image`` warped onto ``plan``, or a blank plan around the points) to ``preview`` (default
    ``<output stem>_preview.png``). Returns ``(homography, preview path, [(pair, error)] of pairs
    whose reprojection error exceeds the limit, limit)`` (plan units; the limit is ``max_error``
    or 1 % of the plan points' bounding-box diagonal)."""
    from .render import read_image, save_image

    if max_error is not None and not (np.isfinite(max_error) and max_error > 0):
        raise ValueError(f"--max-error must be > 0 (plan units), got {max_error!r}")
    frame = read_image(image, order="bgr")
    s = load_points(src, "src") if isinstance(src, (str, os.PathLike)) else np.asarray(src, np.float64)
    d = load_points(dst, "dst") if isinstance(dst, (str, os.PathLike)) else np.asarray(dst, np.float64)
    h = Homography.from_points(s, d, ransac=ransac, ransac_threshold=ransac_threshold)
    h.save(output)
    limit = h.default_max_error() if max_error is None else float(max_error)
    if plan is not None:
        prev = h.warp_image(frame, read_image(plan, order="bgr"), max_error=limit)
    else:
        hi = np.ceil(d.max(axis=0) * 1.1 + 10).astype(int)
        prev = h.warp_image(frame, plan_size=(int(max(hi[0], 32)), int(max(hi[1], 32))), max_error=limit)
    out = Path(output)
    pv = Path(preview) if preview is not None else out.with_name(out.stem + "_preview.png")
    save_image(pv, prev, order="bgr")
    return h, pv, list(h.large_errors(limit)), limit
