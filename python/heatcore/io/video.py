"""Streaming video frames: files/streams OpenCV can open, or folders/lists of images.

Frames are yielded one at a time (memory stays flat however long the video). Frames are uint8
BGR (H, W, 3) as OpenCV gives them, or gray (H, W) with ``gray=True``.
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import cv2
import numpy as np

__all__ = ["VideoInfo", "open_video", "iter_frames", "natural_key", "IMAGE_SUFFIXES"]

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm"}


def natural_key(name: str) -> list:
    """Sort key putting frame2 before frame10."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", str(name))]


@dataclass
class VideoInfo:
    """What is known about a source before reading: size in pixels, fps, frame count (None when
    the container does not say)."""

    width: int
    height: int
    fps: float
    frame_count: int | None
    name: str


def _image_list(source: str | os.PathLike[str] | Sequence) -> list[Path] | None:
    if isinstance(source, (list, tuple)):
        paths = [Path(p) for p in source]
    else:
        p = Path(source)
        if not p.is_dir():
            return None
        paths = sorted((q for q in p.iterdir() if q.suffix.lower() in IMAGE_SUFFIXES), key=lambda q: natural_key(q.name))
        if not paths:
            raise ValueError(f"folder {p} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    for q in paths:
        if not q.exists():
            raise FileNotFoundError(f"no such image: {q}")
    return paths


def open_video(source: str | os.PathLike[str] | int) -> cv2.VideoCapture:
    """Open a file, URL or camera index with OpenCV; FileNotFoundError/ValueError when it fails."""
    if isinstance(source, (str, os.PathLike)) and "://" not in str(source):
        if not Path(source).exists():
            raise FileNotFoundError(f"no such video: {source}")
    cap = cv2.VideoCapture(source if isinstance(source, int) else str(source))
    if not cap.isOpened():
        raise ValueError(f"cannot open video {source!s} (unreadable or not a video)")
    return cap


def video_info(source: str | os.PathLike[str] | Sequence) -> VideoInfo:
    """Size, fps and frame count of a video file or image folder/list (reads one frame for images)."""
    images = _image_list(source)
    if images is not None:
        if not images:
            raise ValueError("the image list is empty")
        first = cv2.imread(str(images[0]), cv2.IMREAD_COLOR)
        if first is None:
            raise ValueError(f"cannot decode image {images[0]}")
        return VideoInfo(first.shape[1], first.shape[0], 0.0, len(images), str(source))
    cap = open_video(source)
    try:
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        return VideoInfo(int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
                         float(cap.get(cv2.CAP_PROP_FPS) or 0.0), n if n > 0 else None, Path(str(source)).stem)
    finally:
        cap.release()


def iter_frames(source: str | os.PathLike[str] | Sequence, *, stride: int = 1, start: int = 0,
                stop: int | None = None, gray: bool = False) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(frame_index, frame)`` for frames ``start, start+stride, ...`` below ``stop``.

    Skipped frames are grabbed, not decoded. A file that ends before its header's frame count
    warns with the number of frames actually read. Frames that change size raise ValueError.
    """
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    if start < 0:
        raise ValueError(f"start must be >= 0, got {start}")
    if stop is not None and stop < start:
        raise ValueError(f"stop ({stop}) must be >= start ({start})")
    images = _image_list(source)
    shape = None
    if images is not None:
        for i in range(start, len(images) if stop is None else min(stop, len(images)), stride):
            img = cv2.imread(str(images[i]), cv2.IMREAD_GRAYSCALE if gray else cv2.IMREAD_COLOR)
            if img is None:
                raise ValueError(f"cannot decode image {images[i]} (frame {i})")
            if shape is not None and img.shape != shape:
                raise ValueError(f"frame {i} ({images[i].name}) is {img.shape[1]}x{img.shape[0]}, earlier frames are {shape[1]}x{shape[0]}")
            shape = img.shape
            yield i, img
        return
    cap = open_video(source)
    try:
        expected = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        i = 0
        read = 0
        while stop is None or i < stop:
            want = i >= start and (i - start) % stride == 0
            if want:
                ok, frame = cap.read()
            else:
                ok, frame = cap.grab(), None
            if not ok:
                break
            read += 1
            if want:
                if gray:
                    frame = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
                if shape is not None and frame.shape != shape:
                    raise ValueError(f"frame {i} is {frame.shape[1]}x{frame.shape[0]}, earlier frames are {shape[1]}x{shape[0]}")
                shape = frame.shape
                yield i, frame
            i += 1
        if read == 0 and start == 0:
            raise ValueError(f"video {source!s} has no readable frames (empty or corrupt)")
        limit = expected if stop is None else min(stop, expected)
        if expected > 0 and i < limit:
            warnings.warn(f"video {source!s} ended early: read {i} of {limit} frames", RuntimeWarning, stacklevel=2)
    finally:
        cap.release()
