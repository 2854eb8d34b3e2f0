"""Outputs of the grid counter: per-frame JSON in the AITRIOS sample's schema, one compact file
for long runs, and the heatmap overlay video.

Per-frame JSON (``<out>/detect/<name>.json``), byte-identical to the sample's
``json.dump(result, indent=4)``::

    {"number_of_detects": n, "bboxes": [{"left", "top", "right", "bottom"}, ...] | "positiones":
     [{"x", "y"}, ...], "griddata": [[Nh ints] x Nv], "timestamp": "yyyyMMddHHmmssfff" (only when
     the frame has one)}

``<name>`` is the timestamp, or an 8-digit counter (``00000000``, ...) that advances only on frames
without one. The compact file is JSON Lines (streamed; one compact object per frame with the
frame number) or ``.npz`` (all grids in memory; short runs).
"""

from __future__ import annotations

import functools
import json
import os
import queue
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import cast

import cv2
import numpy as np

from . import render
from ._checks import check_timestamp, resolve_threads

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)

__all__ = ["frame_json", "GridJsonWriter", "GridCompactWriter", "GridVideoWriter", "render_grid_frame",
           "grid_frame_size", "colorbar_width", "draw_label", "DEFAULT_LABEL"]


def _core():
    from . import _core as core

    return core


def _num(v: float) -> str:
    f = float(v)
    if f.is_integer() and abs(f) < 2**53:
        return str(int(f))
    return json.dumps(f)


def _grid_text(grid: np.ndarray, indent: int = 4, level: int = 1) -> str:
    g = np.ascontiguousarray(grid, dtype=np.int32)
    return _core().format_grid_json(g, indent, level, True).decode("ascii")


def frame_json(grid: np.ndarray, boxes: np.ndarray, *, mode: str, points: np.ndarray | None = None,
               timestamp: str | None = None, number_of_detects: int | None = None) -> str:
    """The sample's per-frame JSON text (``json.dump(..., indent=4)`` layout, key order
    number_of_detects, bboxes | positiones, griddata[, timestamp]). ``boxes`` (N, 4) pixels are
    listed in the given order; in point mode ``points`` (N, 2) gives the positions."""
    n = len(boxes) if number_of_detects is None else int(number_of_detects)
    parts = ['{\n    "number_of_detects": ', str(n), ",\n"]
    if mode == "box":
        parts.append('    "bboxes": ')
        items = [
            '\n        {\n            "left": %s,\n            "top": %s,\n            "right": %s,\n            "bottom": %s\n        }'
            % (_num(b[0]), _num(b[1]), _num(b[2]), _num(b[3]))
            for b in np.asarray(boxes).tolist()
        ]
    elif mode == "point":
        if points is None:
            raise ValueError("point mode needs points")
        parts.append('    "positiones": ')
        items = [
            '\n        {\n            "x": %s,\n            "y": %s\n        }' % (_num(p[0]), _num(p[1]))
            for p in np.asarray(points).tolist()
        ]
    else:
        raise ValueError(f"mode must be 'box' or 'point', got {mode!r}")
    parts.append("[" + ",".join(items) + "\n    ]" if items else "[]")
    parts.append(',\n    "griddata": ')
    parts.append(_grid_text(grid))
    if timestamp is not None:
        parts.append(',\n    "timestamp": ')
        parts.append(json.dumps(str(timestamp)))
    parts.append("\n}")
    return "".join(parts)


class GridJsonWriter:
    """Write one JSON file per frame under ``<outdir>/detect/`` (the sample's names and layout).

    ``reverse=True`` lists boxes/positions last-first, as the sample does for its local CSV
    (its flatbuffer encoder prepends objects).
    """

    def __init__(self, outdir: str | os.PathLike[str], mode: str, *, reverse: bool = False, threads: int = 4) -> None:
        if mode not in ("box", "point"):
            raise ValueError(f"mode must be 'box' or 'point', got {mode!r}")
        self.dir = Path(outdir) / "detect"
        self.dir.mkdir(parents=True, exist_ok=True)
        # Files are created relative to this descriptor, so a file name can never leave the folder;
        # the folder itself must not be a symbolic link (someone else's folder).
        try:
            self._dir_fd: int | None = os.open(self.dir, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _NOFOLLOW)
        except OSError as exc:
            raise ValueError(f"cannot use {self.dir} as the per-frame JSON folder "
                             f"(a symbolic link or not a folder: {exc.strerror})") from None
        self.mode = mode
        self.reverse = reverse
        self.counter = 0
        self.written = 0
        # File creation dominates (tens of microseconds each); a few threads overlap it.
        threads = resolve_threads(threads)  # 0/None = all cores; bounded (heatcore.limits)
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="heatcore-json") if threads > 1 else None
        self._pending: deque = deque()

    def _write_file(self, path: Path, data: bytes) -> None:
        # O_NOFOLLOW: a symbolic link planted under this name is refused, never written through.
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _NOFOLLOW
        try:
            if os.open in os.supports_dir_fd:
                fd = os.open(path.name, flags, 0o644, dir_fd=self._dir_fd)
            else:  # no openat (Windows): the validated name has no separators either way
                fd = os.open(path, flags, 0o644)
        except OSError as exc:
            if os.path.islink(path):
                raise ValueError(f"refusing to write {path}: it is a symbolic link") from None
            raise
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)

    def close(self) -> None:
        """Wait for pending writes (raises the first write error)."""
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None
            if self._dir_fd is not None:
                os.close(self._dir_fd)
                self._dir_fd = None

    def __enter__(self) -> "GridJsonWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self, grid: np.ndarray, boxes: np.ndarray, *, points: np.ndarray | None = None,
              timestamp: str | None = None) -> Path:
        """Write one frame: its (Nv, Nh) grid, (N, 4) boxes (pixels) and, in point mode, (N, 2) points."""
        if self.reverse:
            boxes = boxes[::-1]
            points = None if points is None else points[::-1]
        text = frame_json(grid, boxes, mode=self.mode, points=points, timestamp=timestamp)
        return self.write_bytes(text.encode("utf-8"), timestamp)

    def write_bytes(self, data: bytes, timestamp: str | None = None) -> Path:
        """Write one already formatted document under the next name: ``<timestamp>.json`` for a
        valid 17-digit ``yyyyMMddHHmmssfff`` time stamp, else ``<8-digit counter>.json``. A time
        stamp that is anything else (``"../x"``, an absolute path, a bad date) is a ValueError
        naming it: names from data never become paths."""
        if self._dir_fd is None:
            raise ValueError("this GridJsonWriter is closed")
        if timestamp is not None:
            name = check_timestamp(timestamp, "frame time stamp (names the per-frame JSON file)")
        else:
            name = f"{self.counter:08d}"
            self.counter += 1
        path = self.dir / f"{name}.json"
        if self._pool is None:
            self._write_file(path, data)
        else:
            self._pending.append(self._pool.submit(self._write_file, path, data))
            while len(self._pending) > 256 or (self._pending and self._pending[0].done()):
                self._pending.popleft().result()
        self.written += 1
        return path


class GridCompactWriter:
    """All frames' grids in one file: ``.jsonl`` (streamed, one line per frame:
    ``{"frame", "number_of_detects", "griddata"[, "timestamp"]}``) or ``.npz`` (kept in memory,
    written on close: ``grids`` (T, Nv, Nh) int32, ``number_of_detects`` (T,), ``timestamps``)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.kind = self.path.suffix.lower()
        if self.kind not in (".jsonl", ".npz"):
            raise ValueError(f"compact output must end in .jsonl or .npz, got {self.path.name!r}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.frames = 0
        self._fh = open(self.path, "wb") if self.kind == ".jsonl" else None
        self._grids: list[np.ndarray] | None = []  # None once an .npz is closed
        self._n: list[int] = []
        self._ts: list[str] = []

    def write(self, grid: np.ndarray, number_of_detects: int, timestamp: str | None = None) -> None:
        if self._fh is not None:
            g = np.ascontiguousarray(grid, dtype=np.int32)
            line = ['{"frame": ', str(self.frames), ', "number_of_detects": ', str(int(number_of_detects)),
                    ', "griddata": ', _core().format_grid_json(g, 0, 0, True).decode("ascii")]
            if timestamp is not None:
                line += [', "timestamp": ', json.dumps(str(timestamp))]
            line.append("}\n")
            self._fh.write("".join(line).encode("utf-8"))
        else:
            cast("list[np.ndarray]", self._grids).append(np.array(grid, dtype=np.int32))
            self._n.append(int(number_of_detects))
            self._ts.append("" if timestamp is None else str(timestamp))
        self.frames += 1

    def write_many(self, grids: np.ndarray, number_of_detects: np.ndarray, timestamps: list | None = None) -> None:
        """Several frames at once ((K, Nv, Nh) grids, (K,) counts); formatted in one C++ call when
        there are no timestamps."""
        if self._fh is not None and timestamps is None:
            n = np.ascontiguousarray(number_of_detects, dtype=np.int64)
            self._fh.write(_core().format_grids_jsonl(np.ascontiguousarray(grids, dtype=np.int32), n, self.frames))
            self.frames += len(n)
            return
        for i in range(len(grids)):
            self.write(grids[i], int(number_of_detects[i]), None if timestamps is None else timestamps[i])

    def close(self) -> Path:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        elif self.kind == ".npz" and self._grids is not None:
            grids = np.stack(self._grids) if self._grids else np.zeros((0, 0, 0), np.int32)
            np.savez_compressed(self.path, grids=grids, number_of_detects=np.array(self._n, np.int64),
                                timestamps=np.array(self._ts))
            self._grids = None
        return self.path

    def __enter__(self) -> "GridCompactWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@functools.lru_cache(maxsize=8)
def _colorbar(h: int, cmap: str, vmin: float, vmax: float, width: int) -> np.ndarray:
    bar = render.colorbar_strip(h, cmap, vmin=vmin, vmax=vmax, width=width, order="bgr")
    bar.setflags(write=False)
    return bar


#: the default text drawn on each frame ({n} = the frame's number of detections)
DEFAULT_LABEL = "number of detects : {n}"


def colorbar_width(size: tuple[int, int]) -> int:
    """Width in pixels of the colour bar strip put beside a frame of ``size = (W, H)``."""
    return max(60, min(140, int(size[0]) // 12))


def grid_frame_size(size: tuple[int, int], colorbar: bool) -> tuple[int, int]:
    """``(width, height)`` of the frames :func:`render_grid_frame` returns: ``size``, widened by
    the colour bar strip when ``colorbar`` (the bar goes beside the scene, never over it)."""
    w, h = int(size[0]), int(size[1])
    return (w + colorbar_width((w, h)), h) if colorbar else (w, h)


def _outline_colour(colour: tuple[int, int, int]) -> tuple[int, int, int]:
    """Black around light text, white around dark text (BGR luma)."""
    b, g, r = (int(c) for c in colour)
    return (0, 0, 0) if 0.114 * b + 0.587 * g + 0.299 * r >= 110 else (255, 255, 255)


def draw_label(frame: np.ndarray, text: str, *, color: tuple[int, int, int] = (0, 255, 0)) -> None:
    """Write ``text`` at the top left of ``frame`` (in place), sized to the frame (about 3.5 % of
    its height) with a contrasting outline, so it reads on grass, snow or asphalt alike. The
    outline is the text's mask dilated (the same with OpenCV 4's Hershey and OpenCV 5's fonts)."""
    h, w = frame.shape[:2]
    scale = max(0.4, min(w, h) / 1080 * 1.3)
    thick = max(1, int(round(scale * 2)))
    r = max(1, int(round(scale * 2)))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    x, y = max(2, int(8 * scale)) + r, int(8 * scale) + th + r
    x0, y0 = max(0, x - r - 2), max(0, y - th - r - 4)
    x1, y1 = min(w, x + tw + r + 4), min(h, y + base + r + 4)
    if x1 <= x0 or y1 <= y0:
        return
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.putText(mask, text, (x - x0, y - y0), cv2.FONT_HERSHEY_SIMPLEX, scale, 255, thick, cv2.LINE_AA)
    ring = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    roi = frame[y0:y1, x0:x1].astype(np.float32)
    for m, c in ((ring, _outline_colour(color)), (mask, tuple(int(v) for v in color))):
        a = (m.astype(np.float32) / 255.0)[..., None]
        roi = roi * (1.0 - a) + np.array(c, np.float32) * a
    frame[y0:y1, x0:x1] = (roi + 0.5).astype(np.uint8)


def render_grid_frame(grid: np.ndarray, *, size: tuple[int, int], image: np.ndarray | None = None,
                      cmap: str = "Reds", vmin: float = 0.0, vmax: float = 1.0, alpha: float = 0.4,
                      number_of_detects: int | None = None, colorbar: bool = False,
                      text_color: tuple[int, int, int] = (0, 255, 0), clear_below: float | None = None,
                      label: str | None = DEFAULT_LABEL) -> np.ndarray:
    """One (H, W', 3) uint8 BGR video frame: the grid's cells upsampled (nearest) to ``size =
    (W, H)`` pixels, coloured through the colormap's lookup table with fixed ``vmin``/``vmax``
    (values outside saturate), blended with opacity ``alpha`` over ``image`` (BGR, resized to the
    frame) or drawn alone (opaque) without one. With ``colorbar`` a colour bar strip (ticks from
    vmin to vmax) is put beside the scene on the right, so ``W' = W + colorbar_width(size)`` (see
    :func:`grid_frame_size`); without it ``W' = W``. ``label`` (default ``"number of detects :
    {n}"``; ``{n}`` is ``number_of_detects``; None or "" = no text) is written at the top left in
    ``text_color`` (BGR) with a contrasting outline, when ``number_of_detects`` is given.
    ``clear_below``: cells with a count <= this show the picture unblended (None: every cell is
    blended, as the sample does)."""
    w, h = int(size[0]), int(size[1])
    if w <= 0 or h <= 0:
        raise ValueError(f"video size must be positive, got {size!r}")
    g = np.asarray(grid, dtype=np.float32)
    span = float(vmax) - float(vmin)
    if span > 0:
        idx = np.clip((g - float(vmin)) * (255.0 / span) + 0.5, 0, 255).astype(np.uint8)
    else:
        idx = np.zeros(g.shape, np.uint8)  # matplotlib maps a zero range to the lowest colour
    table = render.lut(cmap, "bgr")[:, :3]
    cells = table[idx]  # (Nv, Nh, 3) BGR
    heat = cv2.resize(cells, (w, h), interpolation=cv2.INTER_NEAREST)
    if image is not None:
        bg = np.asarray(image)
        if bg.ndim == 2:
            bg = cv2.cvtColor(bg, cv2.COLOR_GRAY2BGR)
        if bg.shape[1] != w or bg.shape[0] != h:
            bg = cv2.resize(bg, (w, h), interpolation=cv2.INTER_LINEAR)
        a = float(alpha)
        bg = np.ascontiguousarray(bg[..., :3])
        heat = cv2.addWeighted(bg, 1.0 - a, heat, a, 0.0)
        if clear_below is not None:
            clear = (g <= float(clear_below)).astype(np.uint8)
            if clear.any():
                mask = cv2.resize(clear, (w, h), interpolation=cv2.INTER_NEAREST)
                cv2.copyTo(bg, mask, heat)
    if number_of_detects is not None and label:
        try:
            text = label.format(n=int(number_of_detects))
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"label {label!r} must be text with an optional {{n}} (the number of detects): {exc}") from None
        draw_label(heat, text, color=text_color)
    if colorbar:
        bar = _colorbar(h, cmap, float(vmin), float(vmax), colorbar_width((w, h)))
        return np.concatenate([heat, bar], axis=1)
    return heat


class GridVideoWriter:
    """The heatmap overlay video ``<outdir>/video/<name>_heatmap.mp4`` (``heatmap.mp4`` without a
    name), H.264 at ``fps`` through :class:`heatcore.render.VideoWriter` (browser-playable MP4;
    OpenCV ``mp4v`` only as a fallback, with a warning); frames are rendered with
    :func:`render_grid_frame` in the caller's thread, converted to YUV on a background thread
    and encoded by x264's own threads, so rendering and encoding overlap.

    ``max == 0`` is replaced by ``window`` (the sample's rule); if that leaves no range (window 0)
    and not ``sticky_opaque``, each frame is scaled to its own largest count. ``sticky_opaque`` (the sample's
    behaviour, used with geometry="aitrios"): after one frame without an image every later frame
    is drawn opaque.
    """

    def __init__(self, outdir: str | os.PathLike[str], *, name: str | None = None, fps: float = 30.0,
                 size: tuple[int, int] = (1920, 1080), cmap: str = "Reds", vmin: float = 0.0,
                 vmax: float = 0.0, window: int = 0, alpha: float = 0.4, overlay: bool = True,
                 colorbar: bool = False, sticky_opaque: bool = False,
                 text_color: tuple[int, int, int] = (0, 255, 0), clear_below: float | None = None,
                 label: str | None = DEFAULT_LABEL) -> None:
        render.lut(cmap)  # unknown colormap → ValueError now, not on frame 1
        if not 0.0 <= float(alpha) <= 1.0:
            raise ValueError(f"transparency must be in [0, 1], got {alpha!r}")
        self.path = Path(outdir) / "video" / (f"{name}_heatmap.mp4" if isinstance(name, str) and name else "heatmap.mp4")
        self.size = (int(size[0]), int(size[1]))
        self.cmap = cmap
        self.vmin = float(vmin)
        self.vmax = float(window) if float(vmax) == 0 else float(vmax)
        # exact geometry with an unbounded window and max 0: no fixed top exists, follow each
        # frame's largest count (the sample, sticky_opaque, keeps its degenerate 0..0 range)
        self.auto_max = self.vmax <= self.vmin and not sticky_opaque
        self.alpha = float(alpha)
        self.overlay = bool(overlay)
        self.colorbar = bool(colorbar)
        self.sticky_opaque = sticky_opaque
        self.text_color = text_color
        self.clear_below = clear_below
        self._opaque = False
        self.label = label
        # with a colour bar the video is wider than the scene: the bar sits beside it
        self._writer = render.VideoWriter(self.path, fps, grid_frame_size(self.size, self.colorbar), order="bgr")
        self._q: queue.Queue = queue.Queue(maxsize=8)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._encode, name="heatcore-grid-video", daemon=True)
        self._thread.start()
        self.frames = 0

    def _encode(self) -> None:
        while True:
            f = self._q.get()
            if f is None:
                return
            try:
                if self._error is None:
                    self._writer.write(f)
            except BaseException as exc:  # reported on the next write/close
                self._error = exc

    def write(self, grid: np.ndarray, number_of_detects: int, image: np.ndarray | None = None) -> None:
        if self._error is not None:
            raise self._error
        use_image = image if (self.overlay and image is not None) else None
        if use_image is None and self.sticky_opaque:
            self._opaque = True
        alpha = 1.0 if (use_image is None or self._opaque) else self.alpha
        vmax = max(float(np.max(grid)), self.vmin + 1.0) if self.auto_max else self.vmax
        frame = render_grid_frame(grid, size=self.size, image=use_image, cmap=self.cmap, vmin=self.vmin,
                                  vmax=vmax, alpha=alpha, number_of_detects=number_of_detects,
                                  colorbar=self.colorbar, text_color=self.text_color,
                                  clear_below=self.clear_below, label=self.label)
        self._q.put(frame)
        self.frames += 1

    def close(self) -> Path:
        if self._thread.is_alive():
            self._q.put(None)
            self._thread.join()
        self._writer.close()
        if self._error is not None:
            err, self._error = self._error, None
            raise err
        return self.path

    def __enter__(self) -> "GridVideoWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
