"""Streaming video frames: files/streams OpenCV or PyAV can open, or folders/lists of images.

Frames are yielded one at a time (memory stays flat however long the video). Frames are uint8
BGR (H, W, 3) as OpenCV gives them, or gray (H, W) with ``gray=True``, optionally resized
(``scale``/``size``) right after decoding, optionally on a background thread (``prefetch``), and
optionally only the key frames (``keyframes``). Each comes as a :class:`Frame` that unpacks as
``(index, image)`` and knows its time in seconds.
"""

from __future__ import annotations

import math
import os
import queue
import re
import threading
import warnings
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence, cast

import cv2
import numpy as np

__all__ = ["VideoInfo", "Frame", "open_video", "iter_frames", "decode_frames", "prefetch_iter", "output_size",
           "video_info", "natural_key", "seconds_to_frame", "have_pyav", "IMAGE_SUFFIXES"]

#: FFmpeg decoder threads per PyAV video (0 = FFmpeg's choice: every core). A Dask worker with one
#: thread sets 1 (heatcore.distributed pins workers to one core's worth of threads).
DECODER_THREADS = 0
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
        p = Path(cast("str | os.PathLike[str]", source))  # not a list/tuple: a path
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
    cap = open_video(cast("str | os.PathLike[str]", source))  # not an image folder/list: a video path
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


class Frame(tuple):
    """One decoded frame. Unpacks as ``(index, image)`` (so ``for i, img in iter_frames(...)``
    keeps working) and also carries:

    - ``index``: the frame's index in the source (0-based, counted in display order — also for
      key frames picked with ``keyframes=True``),
    - ``image``: the uint8 picture (BGR (H, W, 3) or gray (H, W), at the requested size),
    - ``time``: seconds from the start of the source — the presentation timestamp
      (``(pts - pts of frame 0) * time_base``) with PyAV, ``index / fps`` for OpenCV and for AVI
      files (whose timestamps are frame slots); None when unknown (image folders).
    """

    time: float | None

    def __new__(cls, index: int, image: np.ndarray, time: float | None = None) -> "Frame":
        self = super().__new__(cls, (index, image))
        self.time = time
        return self

    def __getnewargs__(self) -> tuple:  # pickling keeps the time
        return (self[0], self[1], self.time)

    @property
    def index(self) -> int:  # type: ignore[override]  # shadows tuple.index by design (public API)
        return self[0]

    @property
    def image(self) -> np.ndarray:
        return self[1]

    def __repr__(self) -> str:
        img = self[1]
        return f"Frame(index={self[0]}, time={self.time!r}, image={img.shape} {img.dtype})"


def output_size(width: int, height: int, scale: float = 1.0, size: tuple[int, int] | None = None) -> tuple[int, int]:
    """(width, height) in pixels of frames decoded at ``scale`` (each side rounded, at least 1)
    or at the explicit ``size = (W, H)``."""
    if size is not None:
        return int(size[0]), int(size[1])
    return max(1, int(round(width * scale))), max(1, int(round(height * scale)))


def _check_resize(scale: float, size: tuple[int, int] | None) -> None:
    if isinstance(scale, bool) or not isinstance(scale, (int, float, np.integer, np.floating)):
        raise TypeError(f"scale must be a number, got {scale!r}")
    if not (math.isfinite(float(scale)) and scale > 0):
        raise ValueError(f"scale must be a finite number > 0, got {scale!r}")
    if size is not None:
        if scale != 1.0:
            raise ValueError("give either scale or size, not both")
        try:
            w, h = size
        except (TypeError, ValueError):
            raise TypeError(f"size must be (width, height) in pixels, got {size!r}") from None
        for v in (w, h):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"size must be (width, height) with positive integers, got {size!r}")


def _resize(img: np.ndarray, out: tuple[int, int] | None) -> np.ndarray:
    """``img`` at ``out = (W, H)`` (area averaging, as ``motion.preprocess_frame``), as a
    contiguous array the caller owns."""
    if out is None or (img.shape[1], img.shape[0]) == out:
        return img if img.flags.c_contiguous and img.flags.owndata else np.array(img, order="C")
    return cv2.resize(img, out, interpolation=cv2.INTER_AREA)


def iter_frames(source: str | os.PathLike[str] | Sequence, *, stride: int = 1, start: int = 0,
                stop: int | None = None, gray: bool = False, backend: str = "opencv",
                start_time: float | None = None, stop_time: float | None = None, scale: float = 1.0,
                size: tuple[int, int] | None = None, keyframes: bool = False,
                prefetch: int = 0) -> Iterator[Frame]:
    """Yield a :class:`Frame` — unpacking as ``(frame_index, frame)`` — for frames ``start,
    start+stride, ...`` below ``stop``.

    ``start``/``stop`` are frame indices; ``start_time``/``stop_time`` (seconds, using the
    container's frame rate) override them when given. Skipped frames are not converted to
    pixels. A file that ends before its header's frame count warns with the number of frames
    actually read (the frames read are kept). Frames that change size raise ValueError.

    ``backend``: ``"opencv"`` (default), ``"pyav"`` or ``"auto"``. PyAV decodes with FFmpeg's
    frame threading (``thread_type="AUTO"``). With PyAV and ``gray=True`` the gray frame is the
    decoder's luma plane, with no colour conversion (faster; note luma is video-range Y, not
    OpenCV's BGR->gray of the decoded colour frame). ``"auto"`` uses PyAV for video files and
    URLs (faster than OpenCV's reader in bench/compare_video.py for colour too; the same BGR
    pixels on the test clips) and OpenCV for camera indices or when PyAV is missing.

    ``scale`` (factor, each side rounded) or ``size = (W, H)`` (pixels): frames are resized
    with area averaging right after decoding (``cv2.INTER_AREA``, the same pixels as
    ``cv2.resize`` of the full frame).

    ``keyframes=True`` decodes only the key frames (FFmpeg ``skip_frame="NONKEY"``; PyAV only):
    a sample every group of pictures (typically 1-10 s of video), for motion over days of
    footage. Each frame still carries its true index and time; ``stride`` then takes every
    stride-th key frame, ``start``/``stop`` bound the true frame index.

    ``prefetch``: decode (and convert/resize) up to this many frames ahead on a background
    thread, so decoding overlaps the caller's work (0 = decode in the caller's thread).
    """
    if backend not in ("opencv", "pyav", "auto"):
        raise ValueError(f"backend must be 'opencv', 'pyav' or 'auto', got {backend!r}")
    _check_resize(scale, size)
    if isinstance(prefetch, bool) or not isinstance(prefetch, (int, np.integer)) or prefetch < 0:
        raise ValueError(f"prefetch must be a number of frames >= 0, got {prefetch!r}")
    if start_time is not None or stop_time is not None:
        fps = video_info(source).fps
        if start_time is not None:
            start = seconds_to_frame(start_time, fps, "start_time")
        if stop_time is not None:
            stop = seconds_to_frame(stop_time, fps, "stop_time")
    _check_range(stride, start, stop)
    frames = decode_frames(source, stride=stride, start=start, stop=stop, gray=gray, backend=backend,
                           keyframes=keyframes)
    out: Iterator[Frame] = _resized(frames, scale, size)
    if prefetch:
        out = prefetch_iter(out, int(prefetch))
    yield from out


def _resized(frames: Iterator[tuple[int, float | None, np.ndarray]], scale: float,
             size: tuple[int, int] | None) -> Iterator[Frame]:
    target = None
    for i, t, img in frames:
        if target is None and (scale != 1.0 or size is not None):
            target = output_size(img.shape[1], img.shape[0], scale, size)
        yield Frame(i, _resize(img, target), t)


def decode_frames(source: str | os.PathLike[str] | Sequence, *, stride: int = 1, start: int = 0,
                  stop: int | None = None, gray: bool = False, backend: str = "opencv",
                  keyframes: bool = False) -> Iterator[tuple[int, float | None, np.ndarray]]:
    """The decoding loop behind :func:`iter_frames`: yields ``(index, time, image)`` where
    ``image`` may be a view into the decoder's buffer (not contiguous, valid while referenced):
    callers that convert or resize it anyway save one copy (``motion_heatmap``'s decode thread).
    Arguments as in :func:`iter_frames` (already checked there; checked again here)."""
    if backend not in ("opencv", "pyav", "auto"):
        raise ValueError(f"backend must be 'opencv', 'pyav' or 'auto', got {backend!r}")
    _check_range(stride, start, stop)
    images = _image_list(source)
    if images is not None:
        if keyframes:
            raise ValueError("keyframes=True needs a video file; image folders and lists have no key frames")
        return _iter_images(images, stride, start, stop, gray)
    is_path = isinstance(source, (str, os.PathLike))
    if keyframes:
        if backend == "opencv":
            raise ValueError("keyframes=True decodes with PyAV (skip_frame); use backend='pyav' or 'auto'")
        if not is_path:
            raise ValueError(f"keyframes=True needs a video file or URL, got {source!r}")
        return _iter_pyav(source, stride, start, stop, gray, keyframes=True)  # type: ignore[arg-type]
    use_av = backend == "pyav" or (backend == "auto" and have_pyav())
    if use_av and is_path:
        return _iter_pyav(source, stride, start, stop, gray)  # type: ignore[arg-type]
    return _iter_opencv(source, stride, start, stop, gray)


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


_END = object()


def prefetch_iter(items: Iterable[Any], depth: int = 6) -> Iterator[Any]:
    """Run the iterator ``items`` on a background thread, at most ``depth`` items ahead of the
    consumer (a bounded queue: memory stays flat). Decoding, colour conversion and resizing
    release the GIL, so they overlap the consumer's work on another core. Exceptions raised by
    ``items`` are re-raised in the consumer; closing the generator early stops the thread."""
    q: queue.Queue = queue.Queue(maxsize=max(1, int(depth)))
    stop = threading.Event()

    def put(x: Any) -> bool:
        while not stop.is_set():
            try:
                q.put(x, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for x in items:
                if not put(x):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            put(_Failure(exc))
            return
        finally:
            close = getattr(items, "close", None)
            if close is not None and stop.is_set():
                close()
        put(_END)

    t = threading.Thread(target=work, name="heatcore-decode", daemon=True)
    t.start()
    try:
        while True:
            x = q.get()
            if x is _END:
                break
            if isinstance(x, _Failure):
                raise x.exc
            yield x
    finally:
        stop.set()
        t.join(timeout=5)


def _iter_images(images: list[Path], stride: int, start: int, stop: int | None,
                 gray: bool) -> Iterator[tuple[int, float | None, np.ndarray]]:
    shape = None
    for i in range(start, len(images) if stop is None else min(stop, len(images)), stride):
        img = cv2.imread(str(images[i]), cv2.IMREAD_GRAYSCALE if gray else cv2.IMREAD_COLOR)
        if img is None:
            raise ValueError(f"cannot decode image {images[i]} (frame {i})")
        if shape is not None and img.shape != shape:
            raise ValueError(f"frame {i} ({images[i].name}) is {img.shape[1]}x{img.shape[0]}, earlier frames are {shape[1]}x{shape[0]}")
        shape = img.shape
        yield i, None, img


def _ended_early(source: object, i: int, read: int, start: int, stop: int | None, expected: int) -> None:
    if read == 0:
        raise ValueError(f"video {source!s} has no readable frames (empty or corrupt)")
    limit = expected if stop is None else min(stop, expected)
    if expected > 0 and i < limit:
        warnings.warn(f"video {source!s} ended early: read {i} of {limit} frames (keeping what was read)",
                      RuntimeWarning, stacklevel=3)


def _iter_opencv(source: object, stride: int, start: int, stop: int | None,
                 gray: bool) -> Iterator[tuple[int, float | None, np.ndarray]]:
    cap = open_video(source)  # type: ignore[arg-type]
    shape = None
    try:
        expected = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
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
                assert frame is not None  # cap.read() succeeded
                if gray:
                    frame = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
                shape = _same_size(i, frame, shape)
                yield i, (i / fps if fps > 0 else None), frame
            i += 1
        _ended_early(source, i, read, start, stop, expected)
    finally:
        cap.release()


_LUMA_FORMATS = {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "nv21", "gray",
                 "yuv411p", "yuv410p", "yuv440p"}
# containers whose timestamps are frame slots in decoding order (wrong for reordered B-frames):
# there a frame's time is its index / fps
_SLOT_TIMESTAMPS = {"avi"}


def _luma(frame: Any) -> np.ndarray:
    """The gray picture of a decoded PyAV frame: a view of its luma plane (no copy, rows padded
    to the plane's line size) when the format has one, else a converted copy."""
    if frame.format.name in _LUMA_FORMATS:
        plane = frame.planes[0]
        buf = np.frombuffer(plane, np.uint8)
        return buf.reshape(-1, plane.line_size)[: frame.height, : frame.width]
    return frame.to_ndarray(format="gray")


def _iter_pyav(source: str | os.PathLike[str], stride: int, start: int, stop: int | None,
               gray: bool, *, keyframes: bool = False) -> Iterator[tuple[int, float | None, np.ndarray]]:
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
        stream.thread_type = "AUTO"  # frame + slice threading: decoding uses every core
        if DECODER_THREADS > 0:
            stream.thread_count = int(DECODER_THREADS)
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 0.0
        use_pts = (container.format.name or "") not in _SLOT_TIMESTAMPS
        if keyframes:
            stream.codec_context.skip_frame = "NONKEY"
            if not fps:
                raise ValueError(f"video {source!s} has no frame rate: keyframes=True cannot tell the key frames' "
                                 "indices")
        expected = int(stream.frames or 0)
        pts0: int | None = None
        i = 0  # index of the next frame (counted; from timestamps for key frames)
        k = 0  # key frames decoded (keyframes=True)
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
            pts = frame.pts
            if pts0 is None:
                pts0 = pts
            if keyframes:
                if pts is None or pts0 is None:
                    raise ValueError(f"video {source!s} has no timestamps: keyframes=True cannot tell the key "
                                     "frames' indices")
                i = int(round(float((pts - pts0) * cast(Fraction, frame.time_base)) * fps))
                if stop is not None and i >= stop:
                    break
                want = False
                if i >= start:
                    want = k % stride == 0
                    k += 1
            else:
                want = i >= start and (i - start) % stride == 0
            if want:
                if use_pts and pts is not None and pts0 is not None and frame.time_base is not None:
                    t: float | None = float((pts - pts0) * frame.time_base)
                else:
                    t = i / fps if fps else None
                img = _luma(frame) if gray else frame.to_ndarray(format="bgr24")
                shape = _same_size(i, img, shape)
                yield i, t, img
            i += 1
        if not keyframes:
            _ended_early(source, i, read, start, stop, expected)
        elif read == 0:
            raise ValueError(f"video {source!s} has no readable key frames (empty or corrupt)")
    finally:
        container.close()
