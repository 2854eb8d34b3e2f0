"""Synthetic scenes for the demo, the tests and the benchmarks (one private module)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from ._checks import positive_int as _positive_int
from .records import Detections

__all__ = ["synthetic_frames", "write_synthetic_video", "synthetic_people", "synthetic_scene", "demo_background", "synthetic_floor_plan", "synthetic_crowd_points",
           "synthetic_gaze"]


def synthetic_people(frames: int = 90, size: tuple[int, int] = (1920, 1080), people: int = 14,
                     seed: int = 7) -> list[Any]:
    """Synthetic detections of people walking across a plaza: each walks a straight path between
    two points on the image border at their own speed (boxes about 70x190 px, feet on the path)."""
    rng = np.random.default_rng(seed)
    w, h = size
    # Most people cross along two "corridors" so the heatmap has structure.
    starts = np.stack([rng.uniform(0, w, people), rng.uniform(0.35 * h, h, people)], 1)
    ends = np.stack([w - starts[:, 0] + rng.normal(0, 80, people), rng.uniform(0.35 * h, h, people)], 1)
    corridor = rng.random(people) < 0.6
    starts[corridor, 1] = 0.75 * h + rng.normal(0, 25, corridor.sum())
    ends[corridor, 1] = 0.55 * h + rng.normal(0, 25, corridor.sum())
    starts[corridor, 0] = rng.uniform(0, 0.1 * w, corridor.sum())
    ends[corridor, 0] = rng.uniform(0.9 * w, w, corridor.sum())
    phase = rng.uniform(0, 1, people)
    speed = rng.uniform(0.6, 1.4, people) / frames
    out = []
    for t in range(frames):
        s = (phase + speed * t * 1.5) % 1.0
        feet = starts + (ends - starts) * s[:, None]
        scale = 0.6 + 0.6 * feet[:, 1] / h  # nearer (lower) people look bigger
        bw, bh = 70 * scale, 190 * scale
        boxes = np.stack([feet[:, 0] - bw / 2, feet[:, 1] - bh, feet[:, 0] + bw / 2, feet[:, 1]], 1)
        boxes = np.round(boxes)
        scores = rng.uniform(0.5, 1.0, people).astype(np.float32)
        keep = scores > 0.55  # a detector misses some people some frames
        out.append(Detections(boxes[keep], scores[keep], np.zeros(int(keep.sum()), np.int64), frame=t))
    return out


def synthetic_scene(seed: int = 7, seconds: float = 40.0, fps: float = 5.0):
    """A synthetic shop: camera frame (BGR), plan (RGB), the homography image → plan, and
    per-frame detections of people walking (plus one parked object) as seen by the camera.
    Returns (frame, plan, homography, list of Detections records with frame index and time)."""
    import cv2

    from .homography import Homography

    pw, ph = 400, 300  # plan pixels (1 px = 2 cm)
    plan = np.full((ph, pw, 3), 245, np.uint8)
    cv2.rectangle(plan, (5, 5), (pw - 6, ph - 6), (40, 40, 40), 3)
    shelves = [(60, 60, 160, 90), (240, 60, 340, 90), (60, 190, 160, 220), (240, 190, 340, 220)]
    for x0, y0, x1, y1 in shelves:
        cv2.rectangle(plan, (x0, y0), (x1, y1), (150, 110, 70), -1)
    cv2.rectangle(plan, (170, ph - 12), (230, ph - 2), (0, 160, 0), -1)  # entrance
    cv2.putText(plan, "entrance", (168, ph - 16), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 120, 0), 1, cv2.LINE_AA)
    # Camera: a 640x480 view of the floor in perspective (far wall at the top).
    src = np.array([[40, 460], [600, 460], [470, 140], [170, 140]], np.float64)  # image corners of the floor
    dst = np.array([[0, ph], [pw, ph], [pw, 0], [0, 0]], np.float64)
    H = Homography.from_points(src, dst)
    inv_h = H.inverse()

    class _Inv:  # apply() without the (points, behind) variant, for the type checker
        @staticmethod
        def apply(p: Any) -> np.ndarray:
            return np.asarray(inv_h.apply(p))

    inv = _Inv()
    frame = np.full((480, 640, 3), 90, np.uint8)
    frame[:140] = (170, 150, 130)
    cv2.fillConvexPoly(frame, src.astype(np.int32), (200, 200, 200))
    for i in range(0, pw + 1, 40):  # floor tiles, projected
        a, b = inv.apply([[i, 0], [i, ph]])
        cv2.line(frame, tuple(int(v) for v in a), tuple(int(v) for v in b), (160, 160, 160), 1, cv2.LINE_AA)
    for j in range(0, ph + 1, 40):
        a, b = inv.apply([[0, j], [pw, j]])
        cv2.line(frame, tuple(int(v) for v in a), tuple(int(v) for v in b), (160, 160, 160), 1, cv2.LINE_AA)
    for x0, y0, x1, y1 in shelves:
        q = inv.apply([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]).astype(np.int32)
        cv2.fillConvexPoly(frame, q, (70, 110, 150))
    # People walk the aisles (x in {30, 200, 370}, y in {40, 150, 260}; the shelves lie between),
    # entering and leaving at the entrance, and stop to browse for a few seconds at some corners.
    rng = np.random.default_rng(seed)
    xs, ys = [30.0, 200.0, 370.0], [40.0, 150.0, 260.0]
    steps = int(seconds * fps)
    tracks = []
    for k in range(9):
        nodes = [np.array([200.0, 295.0]), np.array([200.0, 260.0])]
        for _ in range(int(rng.integers(2, 5))):
            nodes.append(np.array([xs[rng.integers(3)], ys[rng.integers(3)]]))
        nodes += [np.array([200.0, 260.0]), np.array([200.0, 295.0])]
        speed = rng.uniform(40, 70) / fps  # plan pixels per frame (0.8-1.4 m/s at 2 cm/px)
        pos: list[np.ndarray] = []
        for a, b in zip(nodes[:-1], nodes[1:]):
            for u, v in ((a, np.array([b[0], a[1]])), (np.array([b[0], a[1]]), b)):  # along y-aisle, then x-aisle
                n = int(np.linalg.norm(v - u) / speed)
                if n:
                    pos.extend(u + (v - u) * np.linspace(0, 1, n, endpoint=False)[:, None])
            if rng.random() < 0.6:  # browse
                pos.extend(b + rng.normal(0, 1.5, (int(rng.uniform(1, 4) * fps), 2)))
        walk = np.array(pos) + rng.normal(0, 2.0, (len(pos), 2))
        tracks.append((int(rng.integers(0, max(1, steps - len(walk) // 2))), walk))
    parked = np.array([330.0, 120.0])  # a parked trolley, seen all the time
    frames = []
    for t in range(steps):
        pts = [p[t - s] for s, p in tracks if 0 <= t - s < len(p)] + [parked]
        img = inv.apply(np.array(pts))
        # box height shrinks with distance: proportional to the local scale of the inverse map
        feet_up = inv.apply(np.array(pts) + [0, -8.0])
        hgt = np.clip(np.abs(img[:, 1] - feet_up[:, 1]) * 9, 20, 220)
        hgt[-1] *= 0.4
        wdt = hgt * 0.4
        xyxy = np.stack([img[:, 0] - wdt / 2, img[:, 1] - hgt, img[:, 0] + wdt / 2, img[:, 1]], axis=1)
        xyxy += rng.normal(0, 1.0, xyxy.shape)
        frames.append(Detections(xyxy, rng.uniform(0.6, 0.99, len(xyxy)), np.zeros(len(xyxy), np.int64), frame=t,
                                 time=t / fps, source="demo"))
    return frame, plan, H, frames



def demo_background(size: tuple[int, int]) -> np.ndarray:
    import cv2

    w, h = size
    bg = np.zeros((h, w, 3), np.uint8)
    bg[:] = (70, 78, 84)
    for y in range(0, h, max(1, h // 12)):
        cv2.line(bg, (0, y), (w, y), (92, 100, 106), 2)
    for x in range(0, w, max(1, w // 16)):
        cv2.line(bg, (x, int(0.3 * h)), (x, h), (92, 100, 106), 2)
    bg[: int(0.3 * h)] = (150, 120, 90)
    return bg


def synthetic_floor_plan(width: int = 960, height: int = 540) -> np.ndarray:
    """An RGB floor plan drawn with OpenCV: outer walls, rooms with doors, desks, a corridor."""
    import cv2

    img = np.full((height, width, 3), 245, np.uint8)
    dark, wall = (60, 60, 60), 6
    cv2.rectangle(img, (20, 20), (width - 20, height - 20), dark, wall)
    # corridor walls with door gaps
    cy0, cy1 = int(height * 0.45), int(height * 0.58)
    for y in (cy0, cy1):
        x = 20
        for door in range(4):
            x_door = 60 + door * (width - 120) // 4 + 90
            cv2.line(img, (x, y), (x_door, y), dark, wall)
            x = x_door + 50
        cv2.line(img, (x, y), (width - 20, y), dark, wall)
    # room dividers
    for k in range(1, 4):
        x = 20 + k * (width - 40) // 4
        cv2.line(img, (x, 20), (x, cy0), dark, wall)
        cv2.line(img, (x, cy1), (x, height - 20), dark, wall)
    # desks
    rng = np.random.default_rng(3)
    for k in range(4):
        x0 = 20 + k * (width - 40) // 4
        for (ya, yb) in ((40, cy0 - 20), (cy1 + 20, height - 40)):
            for j in range(2):
                dx = x0 + 30 + j * 95
                dy = ya + 30 + int(rng.integers(0, 40))
                cv2.rectangle(img, (dx, dy), (dx + 70, dy + 40), (170, 140, 100), -1)
                cv2.rectangle(img, (dx, dy), (dx + 70, dy + 40), (110, 90, 60), 2)
    cv2.putText(img, "synthetic office", (30, height - 30), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (80, 80, 80), 1, cv2.LINE_AA)
    return img


def synthetic_crowd_points(width: int = 960, height: int = 540, n: int = 20000, seed: int = 0) -> np.ndarray:
    """People positions (pixels) on :func:`synthetic_floor_plan`: a busy corridor, desks, a door."""
    rng = np.random.default_rng(seed)
    cy = height * 0.515
    parts = [
        np.column_stack([rng.uniform(40, width - 40, n // 2), rng.normal(cy, 12, n // 2)]),  # corridor
        rng.normal([width * 0.2, height * 0.25], [40, 25], (n // 6, 2)),  # meeting in room 1
        rng.normal([width * 0.62, height * 0.78], [30, 30], (n // 6, 2)),  # desks room 7
        rng.multivariate_normal([width * 0.85, height * 0.3], [[900, 500], [500, 700]], n // 6),  # correlated
    ]
    return np.vstack(parts)


def synthetic_gaze(width: int = 1280, height: int = 720, n: int = 3000, seed: int = 1):
    """Gaze fixations (pixels) and durations (ms) on a synthetic web page, plus the page image."""
    import cv2

    rng = np.random.default_rng(seed)
    page = np.full((height, width, 3), 255, np.uint8)
    cv2.rectangle(page, (0, 0), (width, 70), (40, 70, 140), -1)
    cv2.putText(page, "Heatcore News", (30, 48), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (255, 255, 255), 2, cv2.LINE_AA)
    cv2.rectangle(page, (60, 110), (760, 420), (200, 200, 200), -1)  # hero picture
    cv2.putText(page, "picture", (330, 275), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (120, 120, 120), 2, cv2.LINE_AA)
    for k in range(8):  # text lines
        cv2.line(page, (60, 460 + 28 * k), (740 - 40 * (k % 3), 460 + 28 * k), (90, 90, 90), 6)
    cv2.rectangle(page, (880, 120), (1200, 180), (60, 160, 60), -1)  # button
    cv2.putText(page, "Subscribe", (960, 160), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (255, 255, 255), 2, cv2.LINE_AA)
    # F-pattern reading: headline, first text lines left-heavy, the button
    pts = [
        rng.normal([250, 40], [120, 12], (n // 6, 2)),
        rng.normal([400, 260], [150, 70], (n // 4, 2)),
        np.column_stack([60 + rng.exponential(180, n // 3), 460 + 28 * rng.integers(0, 8, n // 3) + rng.normal(0, 5, n // 3)]),
        rng.normal([1040, 150], [50, 18], (n // 6, 2)),
    ]
    p = np.vstack(pts)
    dur = rng.gamma(2.0, 110.0, len(p))
    return p, dur, page


def synthetic_frames(width: int = 320, height: int = 240, frames: int = 120, *, blobs: int = 4, seed: int = 0,
                     noise: float = 3.0) -> Iterator[np.ndarray]:
    """A synthetic scene for demos, tests and benchmarks: a static textured background (a floor
    with a path), sensor noise and ``blobs`` coloured discs walking along straight paths that
    bounce at the borders. Yields BGR uint8 (height, width, 3) frames."""
    import cv2

    _positive_int("width", width)
    _positive_int("height", height)
    _positive_int("frames", frames)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    bg: np.ndarray = np.empty((height, width, 3), np.float32)
    bg[..., 0] = 90 + 30 * np.sin(xx / 23.0) * np.cos(yy / 31.0)
    bg[..., 1] = 120 + 25 * np.cos(xx / 41.0 + yy / 17.0)
    bg[..., 2] = 110 + 20 * np.sin((xx + yy) / 29.0)
    path = np.abs(yy - height * (0.5 + 0.2 * np.sin(xx / max(width, 1) * 2 * np.pi))) < height * 0.12
    bg[path] = (150, 160, 170)
    bg = cv2.GaussianBlur(bg, (0, 0), 1.5)
    r = max(3.0, min(width, height) / 14)
    pos = rng.uniform([r, r], [width - r, height - r], size=(blobs, 2)).astype(np.float32)
    vel = rng.uniform(-1, 1, size=(blobs, 2)).astype(np.float32)
    vel *= (min(width, height) / 60) / np.maximum(np.linalg.norm(vel, axis=1, keepdims=True), 1e-3)
    colours = rng.uniform(20, 240, size=(blobs, 3)).astype(np.float32)
    for _ in range(frames):
        img = bg.copy()
        for b in range(blobs):
            d2 = (xx - pos[b, 0]) ** 2 + (yy - pos[b, 1]) ** 2
            inside = d2 < r * r
            img[inside] = colours[b]
        img += rng.normal(0, noise, size=img.shape).astype(np.float32)
        yield np.clip(img, 0, 255).astype(np.uint8)
        pos += vel
        for a, lim in ((0, width), (1, height)):
            low, high = pos[:, a] < r, pos[:, a] > lim - r
            vel[low | high, a] *= -1
            pos[:, a] = np.clip(pos[:, a], r, lim - r)


def write_synthetic_video(path: str | os.PathLike[str], width: int = 320, height: int = 240, frames: int = 120, *,
                          fps: float = 25.0, seed: int = 0, fourcc: str = "MJPG", **kw: Any) -> Path:
    """Write :func:`synthetic_frames` to a video file (MJPG .avi by default); returns the path."""
    from . import render

    p = Path(path)
    with render.VideoWriter(p, fps, (width, height), fourcc=fourcc, order="bgr") as w:
        for f in synthetic_frames(width, height, frames, seed=seed, **kw):
            w.write(f)
    return p
