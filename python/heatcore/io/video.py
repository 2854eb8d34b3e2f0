"""Streaming video frames: files/streams OpenCV can open, or folders/lists of images.

Frames are yielded one at a time (memory stays flat however long the video). Frames are uint8
BGR (H, W, 3) as OpenCV gives them, or gray (H, W) with ``gray=True``.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import cv2
import numpy as np

__all__ = ["VideoInfo", "open_video", "iter_frames", "video_info", "natural_key", "seconds_to_frame", "have_pyav",
           "IMAGE_SUFFIXES"]

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


def have_pyav() -> bool:
    """True when PyAV (``av``) is importable: gray frames can then come straight from the luma plane."""
    try:
        import av  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the environment
        return False
    return True


def seconds_to_frame(seconds: float, fps: float, name: str = "time") -> int:
    """Index of the first frame at or after ``seconds`` (frame i is shown at i / fps seconds)."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number of seconds, got {seconds!r}")
    if not math.isfinite(float(seconds)) or seconds < 0:
        raise ValueError(f"{name} must be a finite number of seconds >= 0, got {seconds!r}")
    if not fps or fps <= 0:
        raise ValueError(f"{name} given in seconds but the source has no frame rate; give frames instead")
    return int(math.ceil(float(seconds) * fps - 1e-9))


def _check_range(stride: int, start: int, stop: int | None) -> None:
    for name, v in (("stride", stride), ("start", start)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"{name} must be an integer number of frames, got {v!r}")
    if stop is not None and (isinstance(stop, bool) or not isinstance(stop, (int, np.integer))):
        raise TypeError(f"stop must be an integer number of frames, got {stop!r}")
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    if start < 0:
        raise ValueError(f"start must be >= 0, got {start}")
    if stop is not None and stop < start:
        raise ValueError(f"stop ({stop}) must be >= start ({start})")


def _same_size(i: int, img: np.ndarray, shape: tuple | None) -> tuple:
    """The frame's shape, after checking it matches the earlier frames' (ValueError otherwise)."""
    if shape is not None and img.shape != shape:
        raise ValueError(f"frame {i} is {img.shape[1]}x{img.shape[0]}, earlier frames are {shape[1]}x{shape[0]}")
    return img.shape


def iter_frames(source: str | os.PathLike[str] | Sequence, *, stride: int = 1, start: int = 0,
                stop: int | None = None, gray: bool = False, backend: str = "opencv",
                start_time: float | None = None, stop_time: float | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(frame_index, frame)`` for frames ``start, start+stride, ...`` below ``stop``.

    ``start``/``stop`` are frame indices; ``start_time``/``stop_time`` (seconds, using the
    container's frame rate) override them when given. Skipped frames are grabbed, not decoded
    into pixels. A file that ends before its header's frame count warns with the number of frames
    actually read (the frames read are kept). Frames that change size raise ValueError.

    ``backend``: ``"opencv"`` (default, always available), ``"pyav"`` or ``"auto"``. With PyAV and
    ``gray=True`` the gray frame is the decoder's luma plane, with no colour conversion (faster;
    note luma is video-range Y, not OpenCV's BGR->gray of the decoded colour frame). ``"auto"`` uses
    PyAV for gray frames of video files when it is installed, OpenCV otherwise.
    """
    if backend not in ("opencv", "pyav", "auto"):
        raise ValueError(f"backend must be 'opencv', 'pyav' or 'auto', got {backend!r}")
    if start_time is not None or stop_time is not None:
        fps = video_info(source).fps
        if start_time is not None:
            start = seconds_to_frame(start_time, fps, "start_time")
        if stop_time is not None:
            stop = seconds_to_frame(stop_time, fps, "stop_time")
    _check_range(stride, start, stop)
    images = _image_list(source)
    if images is not None:
        yield from _iter_images(images, stride, start, stop, gray)
        return
    use_av = backend == "pyav" or (backend == "auto" and gray and have_pyav())
    if use_av and isinstance(source, (str, os.PathLike)):
        yield from _iter_pyav(source, stride, start, stop, gray)
    else:
        yield from _iter_opencv(source, stride, start, stop, gray)


def _iter_images(images: list[Path], stride: int, start: int, stop: int | None,
                 gray: bool) -> Iterator[tuple[int, np.ndarray]]:
    shape = None
    for i in range(start, len(images) if stop is None else min(stop, len(images)), stride):
        img = cv2.imread(str(images[i]), cv2.IMREAD_GRAYSCALE if gray else cv2.IMREAD_COLOR)
        if img is None:
            raise ValueError(f"cannot decode image {images[i]} (frame {i})")
        if shape is not None and img.shape != shape:
            raise ValueError(f"frame {i} ({images[i].name}) is {img.shape[1]}x{img.shape[0]}, earlier frames are {shape[1]}x{shape[0]}")
        shape = img.shape
        yield i, img


def _ended_early(source: object, i: int, read: int, start: int, stop: int | None, expected: int) -> None:
    if read == 0:
        raise ValueError(f"video {source!s} has no readable frames (empty or corrupt)")
    limit = expected if stop is None else min(stop, expected)
    if expected > 0 and i < limit:
        warnings.warn(f"video {source!s} ended early: read {i} of {limit} frames (keeping what was read)",
                      RuntimeWarning, stacklevel=3)


def _iter_opencv(source: object, stride: int, start: int, stop: int | None,
                 gray: bool) -> Iterator[tuple[int, np.ndarray]]:
    cap = open_video(source)  # type: ignore[arg-type]
    shape = None
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
                shape = _same_size(i, frame, shape)
                yield i, frame
            i += 1
        _ended_early(source, i, read, start, stop, expected)
    finally:
        cap.release()


_LUMA_FORMATS = {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "nv21", "gray",
                 "yuv411p", "yuv410p", "yuv440p"}


def _iter_pyav(source: str | os.PathLike[str], stride: int, start: int, stop: int | None,
               gray: bool) -> Iterator[tuple[int, np.ndarray]]:
    import av

    if "://" not in str(source) and not Path(source).exists():
        raise FileNotFoundError(f"no such video: {source}")
    try:
        container = av.open(str(source))
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise ValueError(f"cannot open video {source!s} (unreadable or not a video): {exc}") from None
    shape = None
    try:
        if not container.streams.video:
            raise ValueError(f"{source!s} holds no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        expected = int(stream.frames or 0)
        i = 0
        read = 0
        decoder = container.decode(stream)
        while stop is None or i < stop:
            try:
                frame = next(decoder)
            except StopIteration:
                break
            except av.error.FFmpegError as exc:
                warnings.warn(f"video {source!s}: decoding stopped at frame {i}: {exc}", RuntimeWarning, stacklevel=2)
                break
            read += 1
            if i >= start and (i - start) % stride == 0:
                if gray:
                    if frame.format.name in _LUMA_FORMATS:
                        plane = frame.planes[0]
                        buf = np.frombuffer(plane, np.uint8)
                        img = buf.reshape(-1, plane.line_size)[: frame.height, : frame.width].copy()
                    else:
                        img = frame.to_ndarray(format="gray")
                else:
                    img = frame.to_ndarray(format="bgr24")
                shape = _same_size(i, img, shape)
                yield i, img
            i += 1
        _ended_early(source, i, read, start, stop, expected)
    finally:
        container.close()
