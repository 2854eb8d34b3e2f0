"""Motion heatmaps from video: where, and how often, things move.

Three ways to decide "motion" per pixel and frame, all accumulated without saturating:

- ``method="mog"``: the KaewTraKulPong-Bowden Gaussian-mixture background model exactly as
  OpenCV's ``cv2.bgsegm.createBackgroundSubtractorMOG`` computes it (same parameters, same masks),
  fused in C++ with the uint32 count of foreground frames per pixel.
- ``method="mog2"``: Zivkovic's adaptive mixture exactly as OpenCV's
  ``createBackgroundSubtractorMOG2`` computes it (same parameters, same masks), in heatcore's own
  C++ kernel fused with the count; shadow pixels (127) are not counted unless
  ``count_shadows=True``. Its model is part of the state, so a resumed MOG2 run is exact too.
- ``method="diff"``: gray + ``blur`` x ``blur`` box blur, ``|frame - reference|`` summed in float64
  (or, with ``threshold``, the count of frames whose difference exceeds it), fused in C++. The
  reference is a given image, the first sampled frame, or a per-pixel median of K frames:
  :func:`motion_heatmap` spreads them evenly over the whole input (``"median:K"``, default K = 25,
  read by seeking), so people standing or walking slowly at the start leave no ghost; a bare
  :class:`MotionHeatmap` (which sees frames one by one) takes the median of the first K it is given.

:class:`MotionHeatmap` is the accumulator (``update(frame)``, ``result()``, ``merge()``,
``state()``/``from_state()`` — the MOG model included, so a resumed run is identical);
:func:`motion_heatmap` streams a video through it, with stride/scale/ROI/time range, progress
bar, checkpoint/resume and an optional overlay video (cumulative, sliding window or decaying).

Where and when: ``motion_heatmap(..., slice="15min", zones="zones.json")`` also counts per time
slice (wall-clock time from the file name or the container; the background model is handed from
slice to slice, so the slices add up exactly) and per zone (``MotionHeatmap(zones=)``: moving
pixels and frames with motion in each zone, from every frame's mask); :func:`save_run` writes
the folder ``heatcore report`` reads. :func:`parse_position`, :func:`range_kwargs`,
:func:`split_background` and :func:`describe_reference` are the small parsers and descriptions
behind ``heatcore motion``'s options.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, NamedTuple, Sequence, cast

import cv2
import numpy as np

from . import render
from ._checks import positive_float, positive_int, resolve_threads
from .accumulator import Accumulator
from .io.video import decode_frames, prefetch_iter, video_info

__all__ = ["MotionHeatmap", "motion_heatmap", "METHODS", "preprocess_frame", "load_roi", "sample_reference",
           "reference_indices", "describe_reference", "parse_position", "range_kwargs", "split_background",
           "save_picture", "save_run", "TimedFrame"]

MAX_BLUR = 65535  # largest diff box-blur size (pixels); the frame's longer side bounds it too

METHODS = ("mog", "mog2", "diff")
_BG_SAMPLES = 15
# uint16 partial sums of at most 255 per frame cannot overflow before this many frames
_FOLD_EVERY = (2**16 - 1) // 255


def _core():
    from . import _core as core

    return core


def _check_frame(frame: Any) -> np.ndarray:
    if not isinstance(frame, np.ndarray):
        raise TypeError(f"frame must be a NumPy array, got {type(frame).__name__}")
    if frame.dtype != np.uint8:
        raise TypeError(f"frame must be uint8 (OpenCV's 8-bit images), got dtype {frame.dtype}")
    if frame.ndim == 3 and frame.shape[2] == 1:
        frame = frame[..., 0]
    if not (frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] == 3)):
        raise ValueError(f"frame must be (H, W) gray or (H, W, 3) BGR, got shape {frame.shape}")
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ValueError(f"frame is empty: shape {frame.shape}")
    return frame


def _processing_size(width: int, height: int, scale: float) -> tuple[int, int]:
    from .limits import check_array_bytes

    w, h = width * scale, height * scale
    if not (w < 2**62 and h < 2**62):
        raise ValueError(f"scale={scale!r} makes the {width}x{height} frames absurdly large")
    w, h = max(1, int(round(w))), max(1, int(round(h)))
    check_array_bytes((h, w, 3), 8, f"frames resized by scale={scale:g} (H, W, 3)")  # before resizing
    return w, h


def preprocess_frame(frame: np.ndarray, scale: float = 1.0, gray: bool = False) -> np.ndarray:
    """The frame as the kernels see it: gray (OpenCV BGR->gray) when ``gray`` and resized by
    ``scale`` with area averaging. Pure function (used by the decoding thread)."""
    frame = _check_frame(frame)
    if gray and frame.ndim == 3:
        frame = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    if scale != 1.0:
        h, w = frame.shape[:2]
        frame = cv2.resize(frame, _processing_size(w, h, scale), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(frame)


def load_roi(roi: str | os.PathLike[str] | np.ndarray) -> np.ndarray:
    """A region-of-interest mask as (H, W) bool (non-zero = inside) from an image file or array."""
    if isinstance(roi, (str, os.PathLike)):
        return render.read_image(roi, gray=True, what="ROI mask image") != 0
    arr = np.asarray(roi)
    if arr.ndim == 3:
        arr = arr.max(axis=2)
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError(f"roi must be a 2-D mask, got shape {arr.shape}")
    return arr != 0


def _parse_reference(reference: Any) -> tuple[str, int, np.ndarray | None]:
    """-> (kind, K, image): kind "first", "median" (K frames) or "image"."""
    if reference is None or (isinstance(reference, str) and reference == "first"):
        return "first", 1, None
    if isinstance(reference, str) and reference.startswith("median"):
        k = 25
        if ":" in reference:
            try:
                k = int(reference.split(":", 1)[1])
            except ValueError:
                raise ValueError(f"reference {reference!r}: write 'median:K' with K a number of frames") from None
        if k < 1:
            raise ValueError(f"reference {reference!r}: K must be >= 1")
        return "median", k, None
    if isinstance(reference, (str, os.PathLike)):
        return "image", 0, render.read_image(reference, order="bgr", what="reference image")
    if isinstance(reference, np.ndarray):
        return "image", 0, _check_frame(reference)
    raise TypeError(f"reference must be 'first', 'median:K', an image path or an array, got {reference!r}")


def _median_k(reference: Any) -> int | None:
    """K for a 'median' / 'median:K' reference spec, None for anything else."""
    if isinstance(reference, str) and reference.startswith("median"):
        return _parse_reference(reference)[1]
    return None


def reference_indices(k: int, start: int, stop: int) -> list[int]:
    """``k`` frame indices spread evenly over ``[start, stop)``: the centres of ``k`` equal parts
    (all frames when the range holds fewer than ``k``)."""
    k = positive_int("k", k)
    n = stop - start
    if n <= 0:
        raise ValueError(f"no frames to sample a reference from (start={start}, stop={stop})")
    if n <= k:
        return list(range(start, stop))
    return sorted({start + int((i + 0.5) * n / k) for i in range(k)})


# below this many frames between the first and the last sample one decoding pass is cheaper than
# K seeks (each decodes from the previous key frame, and key frames can be 250 frames apart)
_SEQUENTIAL_SPAN = 2000


def _median_image(frames: list[np.ndarray]) -> np.ndarray:
    """Per-pixel median (uint8, halves rounded up), computed in row blocks to bound memory."""
    stack = np.stack(frames)
    out = np.empty(stack.shape[1:], np.uint8)
    rows = max(1, (8 << 20) // max(1, stack[0].nbytes // stack.shape[1] * len(frames)))
    for r in range(0, stack.shape[1], rows):
        out[r:r + rows] = np.floor(np.median(stack[:, r:r + rows], axis=0) + 0.5).astype(np.uint8)
    return out


def _read_at_opencv(source: Any, indices: list[int], gray: bool) -> dict[int, np.ndarray]:
    cap = cv2.VideoCapture(str(source))
    got: dict[int, np.ndarray] = {}
    try:
        for i in indices:
            if not cap.set(cv2.CAP_PROP_POS_FRAMES, float(i)):
                break
            ok, frame = cap.read()
            if not ok or frame is None:
                break
            got[i] = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if gray else frame
    finally:
        cap.release()
    return got


def _read_at_pyav(source: Any, indices: list[int], gray: bool) -> dict[int, np.ndarray]:
    """Seek to each index (the key frame before it, then decode forward) with PyAV, extracting
    the frame exactly as ``io.video``'s PyAV reader does (luma plane for gray)."""
    import av

    from .io.video import _LUMA_FORMATS

    got: dict[int, np.ndarray] = {}
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        tb = stream.time_base
        if not rate or not tb:
            return got
        t0 = stream.start_time or 0
        for i in indices:
            target = int(t0 + round(float(i / rate / tb)))
            container.seek(target, stream=stream, backward=True, any_frame=False)
            for frame in container.decode(stream):
                if frame.pts is None:
                    return got
                idx = int(round(float((frame.pts - t0) * tb * rate)))
                if idx < i:
                    continue
                if idx > i:  # the seek landed after the frame: give up, the caller falls back
                    return got
                if gray:
                    if frame.format.name in _LUMA_FORMATS:
                        plane = frame.planes[0]
                        buf = np.frombuffer(plane, np.uint8)
                        img = buf.reshape(-1, plane.line_size)[: frame.height, : frame.width].copy()
                    else:
                        img = frame.to_ndarray(format="gray")
                else:
                    img = frame.to_ndarray(format="bgr24")
                got[i] = img
                break
    return got


def sample_reference(source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]], k: int = 25, *,
                     start: int = 0, stop: int | None = None, gray: bool = True,
                     decoder: str = "auto") -> tuple[np.ndarray, list[int]]:
    """The empty-scene reference of a video: the per-pixel median of ``k`` frames spread evenly
    over frames ``[start, stop)`` (the whole input by default). People who stand or walk slowly
    are in few of those frames, so they vanish from the median (a median of the first ``k``
    frames keeps whoever is there at the start: a ghost in every later difference).

    Frames are decoded as ``motion_heatmap`` decodes them (``gray``, ``decoder``) so reference and
    frames share their gray levels: image folders by index, inputs shorter than 2000 frames in one
    sequential pass, longer ones by seeking (PyAV or OpenCV, each seek decoding from the key frame
    before the sample; a sequential pass when seeking fails). Sources that cannot seek (streams,
    files without a frame count) use their first ``k`` frames. Returns
    ``(image, frame_indices)``: (H, W) gray (or (H, W, 3) BGR with ``gray=False``) uint8, and the
    indices actually used.
    """
    from .io.video import _image_list, have_pyav, iter_frames

    k = positive_int("k", k)
    fc = video_info(source).frame_count or None
    end = fc if stop is None else (stop if fc is None else min(stop, fc))
    frames: dict[int, np.ndarray] = {}
    if end is not None:
        wanted = reference_indices(k, start, end)
        images = _image_list(source)
        if images is not None:
            for i in wanted:
                for j, f in iter_frames(images, start=i, stop=i + 1, gray=gray):
                    frames[j] = f
        else:
            use_av = decoder == "pyav" or (decoder == "auto" and gray and have_pyav())
            if wanted[-1] - wanted[0] >= _SEQUENTIAL_SPAN:
                try:  # a seek decodes from the key frame before each sample: cheap for long inputs
                    frames = (_read_at_pyav if use_av else _read_at_opencv)(source, wanted, gray)
                except Exception:  # noqa: BLE001 - any seek failure: read sequentially instead
                    frames = {}
            if len(frames) < len(wanted):  # short input, or seeking failed: one sequential pass
                want = set(wanted)
                frames = {}
                for j, f in iter_frames(source, start=wanted[0], stop=wanted[-1] + 1, gray=gray, backend=decoder):
                    if j in want:
                        frames[j] = f
    if not frames:  # no frame count (a stream), or nothing readable at the sampled positions
        for j, f in iter_frames(source, start=start, stop=None if stop is None else stop, gray=gray,
                                backend=decoder):
            frames[j] = f
            if len(frames) >= k:
                break
    if not frames:
        raise ValueError(f"no frames to sample a reference from in {source!s} (start={start}, stop={stop})")
    used = sorted(frames)
    return _median_image([frames[i] for i in used]), used


def describe_reference_frames(frames: Sequence[int]) -> str:
    """'25 frames: 30, 90, 150, ..., 1470' (short form of a list of frame indices)."""
    f = list(frames)
    if len(f) <= 12:
        shown = ", ".join(map(str, f))
    else:
        shown = ", ".join(map(str, f[:8])) + ", ..., " + ", ".join(map(str, f[-3:]))
    return f"{len(f)} frame{'s' if len(f) != 1 else ''}: {shown}"


def describe_reference(acc: "MotionHeatmap", reference: Any = None,
                       saved: str | os.PathLike[str] | None = None) -> str:
    """One line saying what a diff run's reference was: ``"frame 120"``, ``"per-pixel median of
    25 frames: 30, 90, ..."`` (the frames :func:`motion_heatmap` sampled, in
    ``acc.reference_frames``), ``"image empty.png"`` (``reference`` as given) or ``"the first
    processed frame"``; ``saved``: where ``save_reference`` wrote it (appended)."""
    frames = acc.reference_frames
    if frames is None:
        is_image = isinstance(reference, (str, os.PathLike)) and not (
            isinstance(reference, str) and (reference == "first" or reference.startswith("median")))
        what = f"image {os.fspath(reference)}" if is_image else "the first processed frame"
    elif len(frames) == 1:
        what = f"frame {frames[0]}"
    else:
        what = f"per-pixel median of {describe_reference_frames(frames)}"
    if saved is not None:
        what += f" (saved to {os.fspath(saved)})"
    return what


_POSITION_FORMS = "a frame number (120), seconds (12.5s) or [h:]m:ss (1:30)"


def parse_position(text: str) -> tuple[str, int | float]:
    """A position in a video from text: ``"120"`` → ``("frame", 120)``; ``"12.5s"`` →
    ``("time", 12.5)`` seconds; ``"1:30"`` → ``("time", 90.0)``, ``"1:02:03.5"`` → ``("time",
    3723.5)``. Raises ValueError naming the text otherwise."""
    if not isinstance(text, str):
        raise TypeError(f"a position must be text ({_POSITION_FORMS}), got {text!r}")
    t = text.strip()
    if re.fullmatch(r"\d+", t):
        return "frame", int(t)
    m = re.fullmatch(r"(\d+(?:\.\d*)?)s", t)
    if m:
        return "time", float(m.group(1))
    m = re.fullmatch(r"(?:(\d+):)?(\d+):(\d+(?:\.\d*)?)", t)
    if m:
        h = int(m.group(1) or 0)
        return "time", h * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    raise ValueError(f"{text!r} is not a frame number, seconds (12.5s) or m:ss")


def range_kwargs(start: str | tuple[str, int | float] | None = None,
                 stop: str | tuple[str, int | float] | None = None) -> dict[str, Any]:
    """:func:`motion_heatmap` keyword arguments for a range given as positions (text for
    :func:`parse_position`, or its result): ``{"start": 120}`` for a frame number,
    ``{"start_time": 12.5}`` (seconds) for a time; the same for ``stop``."""
    kw: dict[str, Any] = {}
    for name, v in (("start", start), ("stop", stop)):
        if v is None:
            continue
        kind, value = parse_position(v) if isinstance(v, str) else v
        kw[name if kind == "frame" else f"{name}_time"] = value
    return kw


def split_background(spec: str | os.PathLike[str] | None) -> tuple[str | None, np.ndarray | None]:
    """A background choice as text → ``(what the accumulator keeps, picture)``: ``"first"`` /
    ``"median"`` → ``(spec, None)``; ``"none"`` or None → ``(None, None)``; anything else is an
    image file → ``("first", BGR image)`` (the accumulator keeps its first frame only for its
    size; the picture goes under the heat)."""
    if spec is None or (isinstance(spec, str) and spec == "none"):
        return None, None
    if isinstance(spec, str) and spec in ("first", "median"):
        return spec, None
    return "first", render.read_image(spec, order="bgr")


def _digest(a: np.ndarray | None) -> str | None:
    if a is None:
        return None
    return hashlib.sha1(np.ascontiguousarray(a).tobytes() + str(a.shape).encode()).hexdigest()[:16]


class MotionHeatmap(Accumulator):
    """Accumulates motion over video frames (see the module docstring for the methods).

    Parameters (sizes in pixels, counts in frames):
        method: "mog" | "mog2" | "diff".
        scale: process frames resized by this factor (0 < scale <= 1 typical); ``result()`` is at
            the processing resolution, ``render()`` at full size.
        gray: run MOG/MOG2 on gray frames (faster; diff always works on gray).
        roi: mask (array or image path, any resolution with the frame's aspect) — pixels where it
            is zero are never counted.
        reference: diff only — "first", "median:K" or an image (path/array, full frame size).
        threshold: diff only — count frames where the blurred difference exceeds this (0..254)
            instead of summing the differences.
        blur: diff only — odd box-blur size in pixels (1 = none), at most the processed frame's
            longer side and at most ``MAX_BLUR`` (65535); larger sizes raise ValueError.
        history, nmixtures, background_ratio, noise_sigma: MOG parameters with OpenCV's defaults
            (history defaults to 200 for MOG and 500 for MOG2).
        var_threshold, detect_shadows, count_shadows: MOG2 parameters.
        background: "first" (default) keeps the first frame, "median" also keeps up to 15 evenly
            spread full-size frames for a median background, None keeps none.
        threads: worker threads of the C++ kernels (None/0 = all cores).
        backend: "cpp" (default) or "numpy" (the slow reference twins).
        batch: MOG/MOG2 (C++) only — apply the model to this many frames per pass over its state (the
            state then crosses the memory bus once per batch; results are identical). Frames given
            to ``update`` are kept until the batch is full, so with batch > 1 they must not be
            modified afterwards (``motion_heatmap`` passes fresh frames).
        zones: also count motion per zone (a :class:`~heatcore.zones.Zones`, a zones file or its
            dict; polygons in full-frame image pixels) from every frame's motion mask
            (:class:`~heatcore.zones.MotionZoneStats`): moving pixels per zone, and frames with
            motion in the zone — at least ``zone_min_fraction`` (default 0.01) of its pixels moved.
            :meth:`zone_values` gives the per-zone metrics. A yes/no mask is needed, so plain diff
            (no ``threshold``) refuses zones.
        seconds_per_frame: seconds one processed frame stands for (stride / fps), for the zone
            metrics in seconds; None = unknown.
    """

    kind = "motion"
    #: frame indices of the frames whose median is the diff reference (set by motion_heatmap), or None
    reference_frames: list[int] | None = None
    #: the run per time slice when motion_heatmap was given ``slice=`` (this object is their total)
    sliced: Any = None

    def __init__(self, method: str = "mog", *, scale: float = 1.0, gray: bool = False,
                 roi: str | os.PathLike[str] | np.ndarray | None = None, reference: Any = "first",
                 threshold: int | None = None, blur: int = 11, history: int | None = None, nmixtures: int = 5,
                 background_ratio: float = 0.7, noise_sigma: float = 0.0, var_threshold: float = 16.0,
                 detect_shadows: bool = True, count_shadows: bool = False, background: str | None = "first",
                 threads: int | None = None, backend: str = "cpp", batch: int = 1, zones: Any = None,
                 zone_min_fraction: float = 0.01, seconds_per_frame: float | None = None) -> None:
        if method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
        if backend not in ("cpp", "numpy"):
            raise ValueError(f"backend must be 'cpp' or 'numpy', got {backend!r}")
        self.method = method
        self.scale = positive_float("scale", scale)
        self.gray = bool(gray)
        self.blur = positive_int("blur", blur)
        if self.blur % 2 == 0:
            raise ValueError(f"blur must be odd, got {blur}")
        if self.blur > MAX_BLUR:  # also at most the processed frame's longer side (checked per frame)
            raise ValueError(f"blur must be at most {MAX_BLUR} pixels (and at most the frame's longer side), "
                             f"got {blur}")
        if threshold is not None:
            if isinstance(threshold, bool) or not isinstance(threshold, (int, np.integer)):
                raise TypeError(f"threshold must be an integer gray level, got {threshold!r}")
            if not 0 <= threshold <= 254:
                raise ValueError(f"threshold must be in 0..254, got {threshold}")
            threshold = int(threshold)
        self.threshold = threshold
        self.ref_kind, self.ref_k, ref_img = _parse_reference(reference)
        if method != "diff" and self.ref_kind != "first":
            raise ValueError("reference is only used by method='diff'")
        self.history = int(history) if history is not None else (500 if method == "mog2" else 200)
        self.nmixtures = int(nmixtures)
        self.background_ratio = float(background_ratio)
        self.noise_sigma = float(noise_sigma)
        self.var_threshold = float(var_threshold)
        self.detect_shadows = bool(detect_shadows)
        self.count_shadows = bool(count_shadows)
        if background not in (None, "first", "median"):
            raise ValueError(f"background must be 'first', 'median' or None, got {background!r}")
        self.background = background
        self.threads = resolve_threads(threads)
        self.backend = backend
        self.batch = positive_int("batch", batch)
        self.zones: Any = None
        if zones is not None:
            from .zones import Zones, load_zones

            self.zones = zones if isinstance(zones, Zones) else load_zones(zones)
            if self.zones.units != "image":
                raise ValueError(f"motion zones must be in image pixels (units: image), got units {self.zones.units!r}")
            if method == "diff" and threshold is None:
                raise ValueError("zones count the frames with motion in each zone, which needs a yes/no motion mask: "
                                 "give a threshold (--threshold N) for method 'diff'")
        if isinstance(zone_min_fraction, bool) or not isinstance(zone_min_fraction, (int, float)) \
                or not 0 <= zone_min_fraction <= 1:
            raise ValueError(f"zone_min_fraction must be a fraction of a zone's pixels in 0..1, got {zone_min_fraction!r}")
        self.zone_min_fraction = float(zone_min_fraction)
        self.seconds_per_frame = None if seconds_per_frame is None else positive_float("seconds_per_frame",
                                                                                        seconds_per_frame)
        self.zone_stats: Any = None  # MotionZoneStats, set on the first frame when zones are given
        self._released = False  # the background model was handed on (a finished time slice)
        self._queued: list[np.ndarray] = []  # MOG frames waiting for one pass over the model
        self._roi_full = load_roi(roi) if roi is not None else None
        self._ref_full = ref_img
        # set on the first frame
        self.frames = 0
        self.full_size: tuple[int, int] | None = None  # (width, height)
        self.size: tuple[int, int] | None = None  # processing (width, height)
        self.channels = 0
        self._grid: np.ndarray | None = None
        self._acc32: np.ndarray | None = None
        self._acc32_frames = 0
        self._roi: np.ndarray | None = None
        self._model: Any = None
        self._reference: np.ndarray | None = None
        self._pending: list[np.ndarray] = []
        self._first: np.ndarray | None = None
        self._bg: list[np.ndarray] = []
        self._bg_step = 1
        self._bg_seen = 0

    # -- configuration ------------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        c: dict[str, Any] = {"method": self.method, "scale": self.scale, "gray": self.gray,
                             "roi": _digest(self._roi_full), "backend": self.backend}
        if self.method == "diff":
            c.update(reference=self.ref_kind, reference_k=self.ref_k, reference_image=_digest(self._ref_full),
                     threshold=self.threshold, blur=self.blur)
        elif self.method == "mog":
            c.update(history=self.history, nmixtures=self.nmixtures, background_ratio=self.background_ratio,
                     noise_sigma=self.noise_sigma)
        else:
            c.update(history=self.history, var_threshold=self.var_threshold, detect_shadows=self.detect_shadows,
                     count_shadows=self.count_shadows)
        c.update(self._zone_params())
        return c

    def _zone_params(self) -> dict[str, Any]:
        """The zone parameters (only when set: configurations without zones stay as they were)."""
        out: dict[str, Any] = {}
        if self.zones is not None:
            out.update(zones=self.zones.to_dict(), zone_min_fraction=self.zone_min_fraction)
        if self.seconds_per_frame is not None:
            out["seconds_per_frame"] = self.seconds_per_frame
        return out

    def _init_params(self) -> dict[str, Any]:
        return dict(method=self.method, scale=self.scale, gray=self.gray, threshold=self.threshold, blur=self.blur,
                    history=self.history, nmixtures=self.nmixtures, background_ratio=self.background_ratio,
                    noise_sigma=self.noise_sigma, var_threshold=self.var_threshold,
                    detect_shadows=self.detect_shadows, count_shadows=self.count_shadows,
                    background=self.background, backend=self.backend, batch=self.batch, **self._zone_params())

    @property
    def counts_dtype(self) -> type:
        return np.float64 if (self.method == "diff" and self.threshold is None) else np.uint32

    # -- frames -------------------------------------------------------------------------------
    def preprocess(self, frame: np.ndarray) -> np.ndarray:
        """The frame at processing resolution: gray for gray MOG/MOG2 and always for diff (OpenCV's
        SIMD conversion, identical to the C++ kernel's own BGR->gray)."""
        return preprocess_frame(frame, self.scale, self.gray or self.method == "diff")

    def _setup(self, full: np.ndarray, proc: np.ndarray) -> None:
        H, W = full.shape[:2]
        h, w = proc.shape[:2]
        self.full_size, self.size = (W, H), (w, h)
        self.channels = 1 if proc.ndim == 2 else 3
        self._grid = np.zeros((h, w), self.counts_dtype)
        if self._roi_full is not None:
            r = self._roi_full
            if abs(r.shape[1] / r.shape[0] - W / H) > 0.02:
                raise ValueError(f"roi is {r.shape[1]}x{r.shape[0]}, which does not have the video's aspect ({W}x{H})")
            self._roi = cv2.resize(r.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
        if self.method == "diff" and self.ref_kind == "image":
            ref = self._ref_full
            assert ref is not None
            if ref.shape[:2] != (H, W):
                raise ValueError(f"reference image is {ref.shape[1]}x{ref.shape[0]}, the video is {W}x{H}")
            self._reference = self._blur(preprocess_frame(ref, self.scale, False))
        if self.method == "mog":
            cls = _core().MogModel if self.backend == "cpp" else _ref().MogReference
            self._model = cls(w, h, self.channels, history=self.history, nmixtures=self.nmixtures,
                              background_ratio=self.background_ratio, noise_sigma=self.noise_sigma)
        elif self.method == "mog2":
            cls = _core().Mog2Model if self.backend == "cpp" else _ref_mog2().Mog2Reference
            self._model = cls(w, h, self.channels, history=self.history, var_threshold=self.var_threshold,
                              detect_shadows=self.detect_shadows)
        if self.zones is not None:
            from .zones import MotionZoneStats

            self.zone_stats = MotionZoneStats(self.zones, (h, w), (W, H), roi=self._roi,
                                              min_fraction=self.zone_min_fraction)

    def _blur(self, proc: np.ndarray) -> np.ndarray:
        if self.backend == "numpy":
            return _ref().gray_blur(proc, self.blur)
        return _core().gray_blur(proc, self.blur, self.threads)

    def update(self, frame: np.ndarray, *, processed: np.ndarray | None = None,
               return_mask: bool = False) -> np.ndarray | int | None:
        """Consume one frame (uint8 BGR (H, W, 3) or gray (H, W), full size).

        ``processed``: the same frame already passed through :meth:`preprocess` (saves the work
        when a decoding thread did it). Returns the per-frame motion map at processing
        resolution when ``return_mask`` (uint8 0/255 for MOG/MOG2; for diff the per-frame
        contribution, float32), else None.
        """
        frame = _check_frame(frame)
        proc = self.preprocess(frame) if processed is None else _check_frame(processed)
        if self._grid is None:
            self._setup(frame, proc)
        assert self.full_size is not None and self.size is not None
        if (frame.shape[1], frame.shape[0]) != self.full_size:
            raise ValueError(f"frame {self.frames} is {frame.shape[1]}x{frame.shape[0]}, earlier frames are "
                             f"{self.full_size[0]}x{self.full_size[1]}")
        pch = 1 if proc.ndim == 2 else 3
        if (proc.shape[1], proc.shape[0]) != self.size or pch != self.channels:
            raise ValueError(f"frame {self.frames} has {pch} channel(s) at {proc.shape[1]}x{proc.shape[0]} after "
                             f"preprocessing, earlier frames had {self.channels} at {self.size[0]}x{self.size[1]}")
        if self._released and self.method != "diff":
            raise RuntimeError("this motion heatmap handed its background model on (a finished time slice): it can "
                               "be read and merged, not updated")
        if self._first is None and self.background is not None:
            self._first = frame.copy()
        if self.background == "median":
            self._sample_background(frame)
        self.frames += 1
        want = return_mask or self.zone_stats is not None  # zones count every frame's mask
        if self.method in ("mog", "mog2"):
            if self.backend == "cpp" and self.batch > 1 and not return_mask:
                self._queued.append(proc)
                if len(self._queued) >= self.batch:
                    self._run_queued()
                return None
            self._run_queued()
            kw: dict[str, Any] = {}
            if self.backend == "cpp" or self.method == "mog2":  # the NumPy MOG twin takes no threads
                kw["threads"] = self.threads
            if self.method == "mog2":
                kw["count_shadows"] = self.count_shadows
            mask = self._model.apply(proc, counts=self._grid, roi=self._roi, return_mask=want, **kw)
            self._count_zones(mask)
            return mask if return_mask else None
        return self._update_diff(proc, return_mask)

    def _moving(self, mask: np.ndarray) -> np.ndarray:
        """(h, w) uint8, non-zero where a frame's motion map counts as motion — exactly where the
        kernels add 1 to the counts inside the ROI (MOG: 255; MOG2: 255, and shadows (127) with
        count_shadows; thresholded diff: above the threshold). Pixels outside the ROI are left
        as they are: the zones' masks exclude them."""
        if self.method == "mog" or (self.method == "mog2" and self.count_shadows):
            return mask  # 0 / 255 (MOG2: 0 / 127 / 255, every non-zero counted)
        if self.method == "mog2":
            return cv2.compare(mask, 255, cv2.CMP_EQ)  # type: ignore[call-overload]  # shadows (127) are not motion
        return (mask != 0).view(np.uint8)  # diff: 0/1 float32 over the threshold

    def _count_zones(self, mask: np.ndarray | None) -> None:
        if self.zone_stats is not None:
            assert mask is not None
            self.zone_stats.add(self._moving(mask))

    def zone_values(self) -> dict[str, np.ndarray]:
        """Motion per zone (``zones=``): ``{metric: (zones,) float64}`` for ``motion_fraction``,
        ``motion_frames``, ``motion_s``, ``motion_px_s`` (see
        :meth:`heatcore.zones.MotionZoneStats.values`; seconds need ``seconds_per_frame``)."""
        if self.zones is None:
            raise ValueError("this motion heatmap counts no zones: give zones= (a zones file) when making it")
        if self.zone_stats is None:
            raise ValueError("no frames were added yet")
        self._flush_pending()
        self._run_queued()
        assert self.full_size is not None and self.size is not None
        full_px = (self.full_size[0] * self.full_size[1]) / (self.size[0] * self.size[1])
        return self.zone_stats.values(self.frames, self.seconds_per_frame, full_px)

    def update_batch(self, records: Sequence[Any], *, detail: bool = False) -> list[Any]:
        """Consume a batch of frames: arrays, :class:`~heatcore.records.Frame` records or
        ``(index, frame, processed)`` tuples; returns per frame the motion map when ``detail``
        (see :meth:`update`), else None."""
        out = []
        for r in records:
            if isinstance(r, tuple):
                out.append(self.update(r[1], processed=r[2], return_mask=detail))
            else:
                out.append(self.update(getattr(r, "image", r), return_mask=detail))
        return out

    def checkpoint_refusal(self) -> str | None:
        if self.method == "mog2" and not hasattr(_core(), "Mog2Model"):
            return ("method 'mog2' runs OpenCV's MOG2, whose background model cannot be saved, so a resumed "
                    "run would differ; use method 'mog' or 'diff', or run without a checkpoint")
        return None

    def _run_queued(self) -> None:
        """Apply the MOG model to the queued frames in one pass over its state."""
        if self._queued:
            queued, self._queued = self._queued, []
            if self.zone_stats is None:
                kw = {"count_shadows": self.count_shadows} if self.method == "mog2" else {}
                self._model.apply_frames(queued, counts=self._grid, roi=self._roi, threads=self.threads, **kw)
                return
            if self.method == "mog2":  # masks of the whole batch, for the zones
                masks = self._model.apply_frames(queued, counts=self._grid, roi=self._roi, threads=self.threads,
                                                 count_shadows=self.count_shadows, return_mask=True)
            else:
                masks = self._model.apply_batch(np.stack(queued), counts=self._grid, roi=self._roi,
                                                threads=self.threads, return_mask=True)
            for m in masks:
                self._count_zones(m)

    def _update_diff(self, proc: np.ndarray, return_mask: bool) -> np.ndarray | None:
        if self._reference is None:
            b = self._blur(proc)
            if self.ref_kind == "first":
                self._reference = b
            else:
                self._pending.append(b)
                if len(self._pending) < self.ref_k:
                    return np.zeros(b.shape, np.float32) if return_mask else None
                self._flush_pending()
                return np.zeros(b.shape, np.float32) if return_mask else None
        return self._diff(proc, self.blur, return_mask)

    def _diff(self, proc: np.ndarray, ksize: int, return_mask: bool) -> np.ndarray | None:
        thr = -1 if self.threshold is None else self.threshold
        assert self._reference is not None and self._grid is not None
        if self.threshold is None:
            # exact uint16 partial sums (2 bytes of memory traffic per pixel), folded into the
            # float64 grid every _FOLD_EVERY frames
            if self._acc32 is None:
                self._acc32 = np.zeros(self._grid.shape, np.uint16)
            acc = self._acc32
            self._acc32_frames += 1
        else:
            acc = self._grid  # a count of frames: uint32, +1 at most per frame
        want = return_mask or self.zone_stats is not None  # zones count every frame's mask
        if self.backend == "numpy":
            r = _ref()
            b = r.gray_blur(proc, ksize)
            r.diff_accumulate(b, self._reference, acc, 1, self._roi, thr)
        elif want:
            _, b = _core().diff_accumulate(proc, self._reference, acc, ksize, self._roi, thr, self.threads, True)
        else:
            _core().diff_accumulate(proc, self._reference, acc, ksize, self._roi, thr, self.threads)
            b = None
        if self._acc32_frames >= _FOLD_EVERY:
            self._fold()
        if not want:
            return None
        d = np.abs(b.astype(np.int16) - self._reference.astype(np.int16)).astype(np.float32)
        if self.threshold is not None:
            d = (d > self.threshold).astype(np.float32)
        if self._roi is not None:
            d[self._roi == 0] = 0
        self._count_zones(d)
        return d if return_mask else None

    def _fold(self) -> None:
        """Add the uint16 partial sums of the diff method into the float64 grid (exact)."""
        if self._acc32 is not None and self._acc32_frames:
            assert self._grid is not None
            self._grid += self._acc32
            self._acc32[:] = 0
        self._acc32_frames = 0

    def _flush_pending(self) -> None:
        """Fix the median reference from the frames buffered so far and count them."""
        if not self._pending:
            return
        stack = np.stack(self._pending)
        self._reference = np.floor(np.median(stack, axis=0) + 0.5).astype(np.uint8)
        pending, self._pending = self._pending, []
        for b in pending:
            self._diff(b, 1, False)

    def _sample_background(self, frame: np.ndarray) -> None:
        if self._bg_seen % self._bg_step == 0:
            self._bg.append(frame.copy())
            if len(self._bg) > _BG_SAMPLES:
                self._bg = self._bg[::2]
                self._bg_step *= 2
        self._bg_seen += 1

    def reset_counts(self) -> None:
        """Zero the counts and the frame count but keep the model (MOG/MOG2 background, diff
        reference): a partition's warm-up frames teach the model without being counted."""
        if self._grid is None:
            return
        self._flush_pending()
        self._run_queued()
        self._fold()
        self._grid[:] = 0
        self.frames = 0
        if self.zone_stats is not None:
            self.zone_stats.reset()

    def release_model(self) -> None:
        """Drop the MOG/MOG2 background model (its memory: tens of bytes per pixel) once it has
        been handed on, e.g. to the next time slice: the counts, zones and background pictures
        stay (read, merge and save them as before); :meth:`update` then raises. The diff
        reference is kept (a few bytes per pixel; the next slice carries its own copy)."""
        if self._grid is not None:
            self._run_queued()
        self._model = None
        self._released = True

    # -- results ------------------------------------------------------------------------------
    def result(self, normalize: bool = False) -> np.ndarray:
        """The heatmap at processing resolution (a copy the caller owns).

        Counts of frames in motion per pixel (uint32) for MOG/MOG2 and thresholded diff; summed
        absolute gray differences (float64) for plain diff. ``normalize=True`` divides by the
        number of frames (float64): the fraction of frames in motion (or mean difference), so
        videos of different lengths compare.
        """
        if self._grid is None:
            raise ValueError("no frames were added yet")
        self._flush_pending()
        self._run_queued()
        self._fold()
        out = self._grid.copy()
        if normalize:
            return out.astype(np.float64) / max(self.frames, 1)
        return out

    def background_image(self, which: str | np.ndarray | None = None) -> np.ndarray | None:
        """The full-size BGR background for rendering: "first" frame, "median" of the sampled
        frames, a given image (returned as is), or None."""
        which = self.background if which is None else which
        if isinstance(which, np.ndarray):
            return which
        if which == "median" and self._bg:
            return np.median(np.stack(self._bg), axis=0).round().astype(np.uint8)
        if which in ("first", "median"):
            return self._first
        if which is None:
            return None
        raise ValueError(f"background must be 'first', 'median', an image or None, got {which!r}")

    def render(self, background: str | np.ndarray | None = "first", *, cmap: str = "hot", alpha: float = 0.6,
               normalize: bool = True, scale: str = "linear", vmax: float | None = None,
               threshold: float | None = 0.0) -> np.ndarray:
        """The heatmap coloured over the background at full size, RGB (H, W, 3) uint8."""
        values = self.result(normalize=normalize).astype(np.float32)
        bg = self.background_image(background) if not isinstance(background, np.ndarray) else background
        if bg is not None:
            bg = cv2.cvtColor(bg, cv2.COLOR_BGR2RGB if bg.ndim == 3 else cv2.COLOR_GRAY2RGB)
            return render.overlay(values, bg, cmap, alpha=alpha, vmin=0.0, vmax=vmax, scale=scale,  # type: ignore[arg-type]
                                  threshold=threshold)
        assert self.full_size is not None
        return render.overlay(render.resize(values, self.full_size), None, cmap, vmin=0.0, vmax=vmax,
                              scale=scale)  # type: ignore[arg-type]

    # -- protocol -----------------------------------------------------------------------------
    def __reduce__(self) -> tuple:
        # pickles (for process pools / Dask) through state(): the C++ model is not picklable
        return (_restore, (self.state(),))

    def _merge(self, other: "MotionHeatmap") -> None:
        if other._grid is None:
            return
        if self._grid is None:
            st = other.state()
            fresh = MotionHeatmap.from_state(st)
            self.__dict__.update(fresh.__dict__)
            return
        self._flush_pending()
        other._flush_pending()
        self._fold()
        other._fold()
        self._run_queued()
        other._run_queued()
        if other._grid.shape != self._grid.shape or other.full_size != self.full_size:
            raise ValueError(f"cannot merge heatmaps of different sizes: {self.full_size} vs {other.full_size}")
        self._grid += other._grid
        self.frames += other.frames
        if self.zone_stats is not None and other.zone_stats is not None:
            self.zone_stats.moving += other.zone_stats.moving
            self.zone_stats.active += other.zone_stats.active
        if self.background == "median":
            self._bg = (self._bg + other._bg)[:: max(1, math.ceil((len(self._bg) + len(other._bg)) / _BG_SAMPLES))]

    def state(self) -> dict[str, np.ndarray]:
        """Everything needed to continue exactly: configuration, counts, MOG model, reference."""
        st: dict[str, np.ndarray] = {
            "params": np.array(json.dumps(self._init_params())),
            "frames": np.array(self.frames, np.int64),
            "threads": np.array(self.threads, np.int64),
            "ref_kind": np.array(self.ref_kind), "ref_k": np.array(self.ref_k, np.int64),
        }
        if self._roi_full is not None:
            st["roi_full"] = self._roi_full.astype(np.uint8)
        if self._ref_full is not None:
            st["ref_full"] = self._ref_full
        if self._grid is None:
            return st
        self._fold()
        self._run_queued()
        st["grid"] = self._grid.copy()
        st["full_size"] = np.array(self.full_size, np.int64)
        st["channels"] = np.array(self.channels, np.int64)
        if self._first is not None:
            st["first"] = self._first
        if self._bg:
            st["bg"] = np.stack(self._bg)
        st["bg_step"] = np.array(self._bg_step, np.int64)
        st["bg_seen"] = np.array(self._bg_seen, np.int64)
        if self._reference is not None:
            st["reference"] = self._reference
        if self._pending:
            st["pending"] = np.stack(self._pending)
        if self.reference_frames is not None:
            st["reference_frames"] = np.array(self.reference_frames, np.int64)
        if self.zone_stats is not None:
            st["zone_moving"] = self.zone_stats.moving.copy()
            st["zone_active"] = self.zone_stats.active.copy()
        if self._released:
            st["released"] = np.array(1, np.int64)
        if self.method == "mog" and self._model is not None:
            ms = self._model.get_state()
            st["mog_nframes"] = np.array(ms["nframes"], np.int64)
            for k in ("sort_key", "weight", "mean", "var"):
                st["mog_" + k] = ms[k]
        if self.method == "mog2" and self._model is not None:
            ms = self._model.get_state()
            st["mog2_nframes"] = np.array(ms["nframes"], np.int64)
            for k in ("weight", "var", "mean", "modes_used"):
                st["mog2_" + k] = ms[k]
        return st

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> "MotionHeatmap":
        try:
            params = json.loads(str(state["params"]))
        except (KeyError, ValueError):
            raise ValueError("not a MotionHeatmap state (no 'params')") from None
        ref_kind = str(state["ref_kind"])
        if ref_kind == "image":
            reference: Any = state["ref_full"]
        elif ref_kind == "median":
            reference = f"median:{int(state['ref_k'])}"
        else:
            reference = "first"
        obj = cls(roi=state["roi_full"] if "roi_full" in state else None, reference=reference,
                  threads=int(state["threads"]), **params)
        obj.frames = int(state["frames"])
        if "grid" not in state:
            return obj
        W, H = (int(v) for v in state["full_size"])
        obj.full_size = (W, H)
        ch = int(state["channels"])
        grid = state["grid"]
        h, w = grid.shape
        # rebuild the derived pieces (ROI, reference, model) from a fake frame of the right size
        full = np.zeros((H, W), np.uint8)
        proc = np.zeros((h, w) if ch == 1 else (h, w, 3), np.uint8)
        obj._setup(full, proc)
        obj._grid = grid.astype(obj.counts_dtype, copy=True)
        obj._first = state["first"].copy() if "first" in state else None
        obj._bg = list(state["bg"]) if "bg" in state else []
        obj._bg_step = int(state.get("bg_step", 1))
        obj._bg_seen = int(state.get("bg_seen", 0))
        if "reference" in state:
            obj._reference = state["reference"].copy()
        obj._pending = list(state["pending"]) if "pending" in state else []
        if "reference_frames" in state:
            obj.reference_frames = [int(v) for v in state["reference_frames"]]
        if obj.zone_stats is not None and "zone_moving" in state:
            obj.zone_stats.moving = np.asarray(state["zone_moving"], np.int64).copy()
            obj.zone_stats.active = np.asarray(state["zone_active"], np.int64).copy()
        if "released" in state:
            obj.release_model()
            return obj
        if obj.method == "mog" and "mog_weight" in state:
            obj._model.set_state(int(state["mog_nframes"]), state["mog_sort_key"], state["mog_weight"],
                                 state["mog_mean"], state["mog_var"])
        if obj.method == "mog2" and "mog2_weight" in state:
            obj._model.set_state(int(state["mog2_nframes"]), state["mog2_weight"], state["mog2_var"],
                                 state["mog2_mean"], state["mog2_modes_used"])
        return obj


def _restore(state: dict[str, np.ndarray]) -> MotionHeatmap:
    return MotionHeatmap.from_state(state)


def _ref():
    from .reference import motion as ref

    return ref


def _ref_mog2():
    from .reference import mog2 as ref

    return ref


# ----------------------------------------------------------------------------------------------
# streaming a video through the accumulator
# ----------------------------------------------------------------------------------------------
def _prefetch(items: Iterable[Any], depth: int = 6) -> Iterator[Any]:
    """Run ``items`` (decoding + preprocessing) in a background thread so decoding overlaps the
    kernels (OpenCV/PyAV and the kernels release the GIL). Exceptions are re-raised here."""
    return prefetch_iter(items, depth)


def _placeholder(shape: tuple[int, ...]) -> np.ndarray:
    """A zero-stride uint8 array of ``shape`` (no memory): stands for a full-size frame the
    accumulator only needs the size of (its first frame / background is already kept)."""
    return np.broadcast_to(np.zeros((), np.uint8), shape)


class TimedFrame(NamedTuple):
    """A frame of :func:`motion_heatmap`'s stream with its time: a ``(frame, image, processed)``
    tuple for :meth:`MotionHeatmap.update_batch` that also carries ``time`` (seconds from the
    start of the video) and ``wall`` (wall-clock Unix seconds, None = unknown; a
    :class:`~heatcore.slices.SlicedAccumulator` adds its ``start``) for the time slices."""

    frame: int
    image: np.ndarray
    processed: np.ndarray
    time: float | None = None
    wall: float | None = None


def _image_list_of(source: Any) -> bool:
    from .io.video import _image_list

    return _image_list(source) is not None


def _frame_source(source: Any, *, stride: int, start: int, stop: int | None, gray: bool, decoder: str,
                  scale: float, kernel_gray: bool, keyframes: bool = False, skip: int = 0,
                  full: Callable[[int], bool] | None = None, timed: bool = False,
                  fps: float | None = None) -> Iterator[Any]:
    """``(index, full frame, processed frame)`` with the processing (BGR->gray, resize) done
    here, i.e. on the decoding thread when wrapped in :func:`_prefetch`.

    ``full(n)`` tells whether the n-th item (0-based, of this run) needs the real full-size
    picture (the background's first frame, median samples, overlay video); otherwise the full
    frame is a zero-stride placeholder of the right shape and no full-size copy is made.
    ``skip``: drop this many items first (resuming a key-frame run). ``timed``: yield
    :class:`TimedFrame` records (time from the decoder, else ``index / fps``)."""
    n = 0
    for i, t, img in decode_frames(source, stride=stride, start=start, stop=stop, gray=gray, backend=decoder,
                                    keyframes=keyframes):
        if skip:
            skip -= 1
            continue
        proc = preprocess_frame(img, scale, kernel_gray)
        if full is None or full(n):
            if proc.shape == img.shape and proc.base is None and (img.ndim == 2 or not kernel_gray):
                frame = proc  # the same picture (a contiguous copy of the decoder's view)
            else:
                frame = img if img.flags.c_contiguous and img.flags.owndata else np.array(img, order="C")
        else:
            frame = _placeholder(img.shape)
        n += 1
        if timed:
            yield TimedFrame(i, frame, proc, t if t is not None else (i / fps if fps else None))
        else:
            yield i, frame, proc


class _MaskRing:
    """The sum of the last ``window`` per-frame motion maps, kept exactly with bounded memory:
    each map is stored compactly (bit-packed for 0/1 and 0/v masks, two bit planes for MOG2's
    0/127/255, uint8 for diff values) and an int32 running sum is updated by adding the newest
    map and subtracting the one leaving the window. Memory: about window x H x W / 8 bytes for
    masks, window x H x W bytes for diff values, plus 4 bytes per pixel for the sum (the old
    list of float32 maps took window x H x W x 4 bytes, and re-summed it every frame)."""

    def __init__(self, window: int) -> None:
        self.window = int(window)
        self.ring: list[tuple] = []
        self.total: np.ndarray | None = None

    @staticmethod
    def _pack(units: np.ndarray) -> tuple:
        nz = units != 0
        count = int(np.count_nonzero(nz))
        if count == 0:
            return ("zero",)
        hi = int(units.max())
        if count * hi == int(units.sum(dtype=np.int64)):  # every non-zero value equals the maximum
            return ("bits", np.packbits(nz, axis=None), hi)
        fg, sh = units == 255, units == 127
        if np.count_nonzero(fg) + np.count_nonzero(sh) == count:
            return ("bits2", np.packbits(fg, axis=None), np.packbits(sh, axis=None))
        return ("u8", units.copy())

    @staticmethod
    def _unpack(item: tuple, shape: tuple[int, ...]) -> np.ndarray | None:
        n = shape[0] * shape[1]
        kind = item[0]
        if kind == "zero":
            return None
        if kind == "bits":
            bits = np.unpackbits(item[1], count=n).reshape(shape)
            return bits if item[2] == 1 else bits.astype(np.int32) * item[2]
        if kind == "bits2":
            return (np.unpackbits(item[1], count=n).reshape(shape).astype(np.int32) * 255
                    + np.unpackbits(item[2], count=n).reshape(shape).astype(np.int32) * 127)
        return item[1]

    def add(self, units: np.ndarray) -> np.ndarray:
        """Push one (H, W) uint8 map; returns the int32 sum of the last ``window`` maps."""
        if self.total is None:
            self.total = np.zeros(units.shape, np.int32)
        self.total += units
        self.ring.append(self._pack(units))
        if len(self.ring) > self.window:
            old = self._unpack(self.ring.pop(0), units.shape)
            if old is not None:
                self.total -= old
        return self.total

    def nbytes(self) -> int:
        """Bytes held by the stored maps and the running sum."""
        n = 0 if self.total is None else self.total.nbytes
        for item in self.ring:
            n += sum(x.nbytes for x in item[1:] if isinstance(x, np.ndarray))
        return n


class _OverlayVideo:
    """Writes one overlay frame per processed frame: heat so far, over a sliding window of
    ``window`` processed frames, or with exponential decay (half-life in processed frames)."""

    def __init__(self, path: str | os.PathLike[str], fps: float, size: tuple[int, int], *, cmap: str,
                 alpha: float, window: int | None, half_life: float | None) -> None:
        render.lut(cmap)  # an unknown colormap fails here, before the file is opened
        self.writer = render.VideoWriter(path, fps, size, order="bgr")
        self.cmap, self.alpha, self.window = cmap, alpha, window
        self.decay = 0.5 ** (1.0 / half_life) if half_life else None
        self.heat: np.ndarray | None = None
        self.ring = _MaskRing(window) if window else None
        self.peak = 0.0
        self._lut: np.ndarray | None = None

    def add(self, frame: np.ndarray, motion: np.ndarray, acc: MotionHeatmap) -> None:
        unit = 1.0  # heat per value unit
        if self.ring is not None:
            # the per-frame map in exact integer units: MOG masks as 0/1, MOG2's as 0/127/255
            # (heat 1 per 255), diff as its integer gray difference (or 0/1 over the threshold)
            if acc.method == "mog":
                units = (motion != 0).view(np.uint8)
            elif acc.method == "mog2":
                units, unit = motion, 255.0
            else:
                units = np.clip(np.rint(motion), 0, 255).astype(np.uint8)
            values = self.ring.add(np.ascontiguousarray(units))  # int32 sum over the window
        else:
            m = motion.astype(np.float32)
            if m.max(initial=0) > 1.0 and acc.method != "diff":
                m /= 255.0
            if self.decay is not None:
                self.heat = m if self.heat is None else self.heat * np.float32(self.decay) + m
                values = self.heat
            else:
                assert acc._grid is not None  # noqa: SLF001 - set up by the frame just added
                values = acc._grid.astype(np.float32)  # noqa: SLF001 - cumulative heat so far
        self.peak = max(self.peak, float(values.max(initial=0)) / unit)
        bg = frame if frame.ndim == 3 else cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        self.writer.write(self._render(values, bg, (self.peak or 1.0) * unit))

    def _render(self, heat: np.ndarray, bg: np.ndarray, vmax: float) -> np.ndarray:
        """``render.overlay(heat, bg, cmap, alpha, vmin=0, vmax, threshold=5% of vmax)`` with
        OpenCV's SIMD primitives (a few ms at 1920x1080 instead of tens; ``heat`` float32 or
        int32, ``vmax`` in the same units): heat resized
        bilinearly to the frame, colour index round(255 * heat / vmax) through the colormap's
        table, blended with ``alpha`` where the heat is above 5 % of ``vmax`` (transparent
        elsewhere: faded heat and stray pixels). Colours match ``render.overlay`` within a gray
        level or two (rounding)."""
        h, w = bg.shape[:2]
        if self._lut is None:
            self._lut = np.ascontiguousarray(render.lut(self.cmap, "bgr")[:, :3].reshape(256, 1, 3))
        v = heat
        if heat.shape != (h, w):
            v = cv2.resize(heat.astype(np.float32, copy=False), (w, h), interpolation=cv2.INTER_LINEAR)
        idx = cv2.convertScaleAbs(v, alpha=255.0 / vmax)  # heat >= 0: rounds and saturates at 255
        out = cv2.addWeighted(bg, 1.0 - self.alpha, cv2.applyColorMap(idx, self._lut), self.alpha, 0.0)
        hidden = cv2.compare(v, 0.05 * vmax, cv2.CMP_LE)  # type: ignore[call-overload]  # stubs lack scalar src2
        cv2.copyTo(bg, hidden, out)
        return out

    def close(self) -> None:
        self.writer.close()


class _OverlaySink:
    """The overlay video as a pipeline sink (needs the per-frame motion maps; not resumable)."""

    name = "overlay video"
    resumable = False
    detail = True

    def __init__(self, video: "_OverlayVideo", accumulator: Callable[[], "MotionHeatmap"]) -> None:
        self.video = video
        self.accumulator = accumulator  # the job's accumulator (a resume replaces the object)

    def config(self) -> dict[str, Any]:
        return {}

    def open(self, position: Any) -> None:
        pass

    def position(self) -> Any:
        return None

    def write(self, batch: Sequence[Any], results: dict[str, Any]) -> None:
        for rec, m in zip(batch, results["motion"]):
            frame = rec[1] if isinstance(rec, tuple) else getattr(rec, "image", rec)
            self.video.add(frame, m, self.accumulator())

    def finish(self, accumulators: dict[str, Any]) -> list[Path]:
        self.video.close()
        return []

    def abort(self) -> None:
        self.video.close()


def motion_heatmap(source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]], method: str = "mog", *,
                   stride: int = 1, scale: float = 1.0, gray: bool | None = None,
                   roi: str | os.PathLike[str] | np.ndarray | None = None, start: int = 0, stop: int | None = None,
                   start_time: float | None = None, stop_time: float | None = None, reference: Any = None,
                   threshold: int | None = None, blur: int = 11, background: str | None = "first",
                   threads: int | None = None, checkpoint: str | os.PathLike[str] | None = None,
                   checkpoint_every: int = 500, restart: bool = False, video: str | os.PathLike[str] | None = None,
                   window: float | None = None, decay_half_life: float | None = None, cmap: str = "hot",
                   alpha: float = 0.6, decoder: str = "auto", quiet: bool = True, batch: int = 8,
                   on_frame: Callable[[MotionHeatmap, int], None] | None = None,
                   save_reference: str | os.PathLike[str] | None = None, keyframes: bool = False,
                   slice: str | None = None, tz: Any = None, zones: Any = None, zone_min_fraction: float = 0.01,
                   start_wall: float | None = None, **params: Any) -> MotionHeatmap:
    """Stream a video (file, URL, image folder or list of images in natural order) through a
    :class:`MotionHeatmap` and return it.

    Frames ``start, start+stride, ...`` below ``stop`` are processed (skipped frames are grabbed,
    not decoded into pixels); ``start_time``/``stop_time`` give the range in seconds instead.
    ``gray`` (default: True for diff, False for MOG/MOG2) decodes gray frames — straight from
    the luma plane with ``decoder="auto"`` (PyAV with frame threading for video files) or
    "pyav"; ``decoder="opencv"`` always uses OpenCV. Decoding — with the conversion to gray and the resizing by ``scale`` —
    runs in a background thread, overlapping the kernels; full-size frames are only kept where
    needed (the background's first frame, median samples, the overlay video).

    ``keyframes=True`` decodes only the key frames (PyAV ``skip_frame="NONKEY"``): one sample per
    group of pictures, for motion over very long footage; ``stride`` then takes every stride-th
    key frame. Not combinable with ``video`` (the key frames have no fixed rate).

    ``checkpoint``: an .npz path; the state (model included) is saved every ``checkpoint_every``
    processed frames and at the end, and a rerun with the same path resumes after the last saved
    frame, giving the same result as an uninterrupted run; a checkpoint of another input or other
    parameters is refused (``restart=True`` starts over). OpenCV's MOG2 cannot save its model:
    ``method="mog2"`` refuses a checkpoint. ``video``: write an overlay MP4 (one
    frame per processed frame, at the source's fps / stride) showing the heat so far, over the
    last ``window`` seconds, or decaying with half-life ``decay_half_life`` seconds. Other
    keyword arguments go to :class:`MotionHeatmap` (MOG/MOG2 parameters). ``batch``: MOG/MOG2 frames
    per pass over the model state (identical results, less memory traffic).

    ``reference`` (diff): an image of the empty scene (path or array), ``"first"`` (frame
    ``start``), or ``"median:K"`` = the per-pixel median of K frames spread evenly over
    ``[start, stop)`` (:func:`sample_reference`, read by seeking). The default (None) is
    ``"median:25"``: slow walkers and parked cars at the start leave no ghost. The frames used are
    in ``result.reference_frames``; ``save_reference="reference.png"`` writes the reference image so
    later runs (or parts of a split run, which must share one reference to merge) can pass it.

    Where and when (for ``heatcore report``):

    * ``slice``: also count per time slice — a period (``"15min"``, ``"1h"``, ``"1d"``, ...),
      ``"hour"`` (of day), ``"weekday"`` or ``"weekhour"`` (:class:`~heatcore.slices.SlicedAccumulator`).
      Each frame's time is its time in the video (seconds from the start); its wall-clock time is
      ``start_wall`` (Unix seconds of frame 0) plus that, where ``start_wall`` defaults to the time
      stamp in the file name, else the container's ``creation_time`` (``io.timestamps``); without
      one, periods count from the start of the video and calendar slicings are refused. ``tz``:
      local time offset (hours east of UTC or ``"+02:00"``). The background model is handed from
      slice to slice, so the slices add up exactly to the unsliced heatmap: the returned heatmap
      is their total, and ``result.sliced`` holds the slices. (The model runs once: the slices
      alone are counted, unless an overlay ``video`` or ``on_frame`` needs the running total too.)
    * ``zones``: a zones file (JSON/YAML), its dict or :class:`~heatcore.zones.Zones` in image
      pixels: motion is also counted per zone (:class:`MotionHeatmap` ``zones=``; per slice with
      ``slice``), with ``zone_min_fraction`` of a zone's pixels moving making a frame with motion
      in the zone, and seconds from stride / fps. Plain diff needs a ``threshold`` for zones.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    stride = positive_int("stride", stride)
    checkpoint_every = positive_int("checkpoint_every", checkpoint_every)
    if window is not None and decay_half_life is not None:
        raise ValueError("give either window or decay_half_life, not both")
    if gray is None:
        gray = method == "diff"
    kernel_gray = bool(gray) and method != "diff"
    if reference is None:
        reference = "median:25" if method == "diff" else "first"
    if save_reference is not None and method != "diff":
        raise ValueError("save_reference is for method='diff' (the reference frame of the difference)")
    keyframes = bool(keyframes)
    if keyframes and decoder == "opencv":
        raise ValueError("keyframes=True decodes with PyAV (skip_frame); use decoder='auto' or 'pyav'")
    if keyframes and video is not None:
        raise ValueError("keyframes=True samples one frame per group of pictures, which has no fixed rate for an "
                         "overlay video: drop keyframes or video")

    if zones is not None:
        from .zones import Zones, load_zones

        zones = zones if isinstance(zones, Zones) else load_zones(zones)
    spf: float | None = None

    def make() -> MotionHeatmap:
        return MotionHeatmap(method, scale=scale, gray=kernel_gray, roi=roi, reference=reference,
                             threshold=threshold, blur=blur, background=background, threads=threads,
                             batch=batch if video is None else 1, zones=zones, zone_min_fraction=zone_min_fraction,
                             seconds_per_frame=spf, **params)

    make()  # validate the parameters before touching the video
    sliced_proto: Any = None
    if slice is not None:
        from .slices import SlicedAccumulator

        sliced_proto = SlicedAccumulator(make, slice, tz=tz)  # a bad slicing or tz fails here
    info = video_info(source)
    fps_known = float(info.fps) if info.fps and info.fps > 0 else None
    if sliced_proto is not None:  # the frames' time, checked before any decoding
        from .slices import CALENDAR

        if fps_known is None and _image_list_of(source):
            raise ValueError(f"slice={slice!r} needs each frame's time, but {source!s} is a folder of images with no "
                             "frame rate: slice a video")
        if start_wall is None and isinstance(source, (str, os.PathLike)) and Path(source).is_file():
            from .io.timestamps import recording_start_time

            start_wall = recording_start_time(source)
        if start_wall is not None and (isinstance(start_wall, bool) or not isinstance(start_wall, (int, float))
                                       or not math.isfinite(start_wall)):
            raise ValueError(f"start_wall must be the wall-clock Unix seconds of frame 0, got {start_wall!r}")
        if start_wall is None and sliced_proto.mode in CALENDAR:
            raise ValueError(f"{Path(str(source)).name} has no wall-clock time (no time stamp in its file name, no "
                             f"creation_time in the container), so slice={slice!r} is unknown: name the file with its "
                             "start time (e.g. cam1_2026-11-30_09-00-00.mp4) or slice by a period such as '1h'")
    if zones is not None and not keyframes and info.fps and info.fps > 0:
        spf = stride / float(info.fps)  # zone seconds (key frames have no fixed spacing)
    fps = info.fps if info.fps and info.fps > 0 else 25.0
    if start_time is not None:
        from .io.video import seconds_to_frame

        start = seconds_to_frame(start_time, info.fps, "start_time")
    if stop_time is not None:
        from .io.video import seconds_to_frame

        stop = seconds_to_frame(stop_time, info.fps, "stop_time")
    if isinstance(start, bool) or not isinstance(start, (int, np.integer)) or start < 0:
        raise ValueError(f"start must be a frame index >= 0, got {start!r}")
    if stop is not None and (isinstance(stop, bool) or not isinstance(stop, (int, np.integer)) or stop < start):
        raise ValueError(f"stop must be a frame index >= start ({start}), got {stop!r}")
    ref_frames: list[int] | None = None
    if method == "diff" and (_median_k(reference) is not None
                             or (isinstance(reference, str) and reference == "first" and save_reference)):
        k = _median_k(reference) or 1
        ref_img, ref_frames = sample_reference(source, k, start=start, stop=stop if k > 1 else start + 1,
                                               gray=bool(gray), decoder=decoder)
        reference = ref_img  # make() sees the sampled image (the same on a resumed run)
    if save_reference is not None:
        ref_out = reference if isinstance(reference, np.ndarray) else _parse_reference(reference)[2]
        assert ref_out is not None  # method "diff": sampled above, or an image reference
        render.save_image(save_reference, ref_out, order="bgr")

    # full-size pictures are needed for the overlay video and median background samples; else
    # only the first frame of a run (the kept background), the rest are size-only placeholders
    keep_all = video is not None or background == "median"

    sliced: Any = None
    if sliced_proto is not None:
        from .slices import SlicedAccumulator

        sliced = SlicedAccumulator(make, slice, tz=tz, start=start_wall)  # type: ignore[arg-type]
    timed = sliced is not None

    def items(done: int) -> Iterator[Any]:
        first, skip = start + done * stride, 0
        if keyframes:
            first, skip = start, done  # key frames have no fixed spacing: skip the ones done
        if stop is not None and first >= stop:
            return iter(())
        need = None if keep_all else (lambda n: n == 0 and background is not None)
        frames = _frame_source(source, stride=stride, start=first, stop=stop, gray=bool(gray), decoder=decoder,
                               scale=scale, kernel_gray=kernel_gray or method == "diff", keyframes=keyframes,
                               skip=skip, full=need, timed=timed, fps=fps_known)
        return _prefetch(frames)

    out_video: _OverlayVideo | None = None
    out_fps = fps / stride
    if video is not None:
        win = None if window is None else max(1, int(round(positive_float("window", window) * out_fps)))
        hl = None if decay_half_life is None else positive_float("decay_half_life", decay_half_life) * out_fps
        out_video = _OverlayVideo(video, out_fps, (info.width, info.height), cmap=cmap, alpha=alpha, window=win,
                                  half_life=hl)

    total = None
    if info.frame_count and not keyframes:
        end = info.frame_count if stop is None else min(stop, info.frame_count)
        total = max(0, -(-(end - start) // stride))
    from .pipeline import IterSource, Job, file_fingerprint, run

    fp: dict[str, Any] = {"stride": stride, "start": start, "stop": stop, "gray": bool(gray), "decoder": decoder,
                          "keyframes": keyframes}
    try:
        fp["input"] = file_fingerprint(source)  # type: ignore[arg-type]
    except (OSError, TypeError):
        fp["input"] = [str(s) for s in source] if isinstance(source, (list, tuple)) else str(source)
    sinks: list[Any] = [] if out_video is None else [_OverlaySink(out_video, lambda: cast(MotionHeatmap, job.accumulators["motion"]))]
    # the whole-run heatmap is counted on its own unless the slices alone make it (their total)
    accumulators: dict[str, Any] = {}
    if sliced is None or out_video is not None or on_frame is not None:
        accumulators["motion"] = make()
    if sliced is not None:
        accumulators["sliced"] = sliced
    # a callback (on_frame) or an overlay video sees every frame; else frames flow 8 at a time
    job = Job(source=IterSource(items, fingerprint=fp, total=total,
                                batch=8 if out_video is None and on_frame is None else 1, name="video"),
              accumulators=accumulators, sinks=sinks, checkpoint=checkpoint,
              checkpoint_every=checkpoint_every, restart=restart, quiet=quiet, desc=f"motion ({method})",
              on_batch=None if on_frame is None else (lambda done: on_frame(job.accumulators["motion"], done)))  # type: ignore[arg-type]
    res = run(job)
    if "motion" in res.accumulators:
        acc = cast(MotionHeatmap, res.accumulators["motion"])
    else:
        acc = cast(MotionHeatmap, res.accumulators["sliced"].merged())  # type: ignore[attr-defined]
    if acc.frames == 0 and res.records == 0:
        raise ValueError(f"no frames to process in {source!s} (start={start}, stop={stop})")
    assert acc is not None
    if acc.frames == 0:
        raise ValueError(f"no frames were processed from {source!s}")
    acc.reference_frames = ref_frames
    if sliced is not None:
        acc.sliced = res.accumulators["sliced"]
    return acc


def save_run(acc: MotionHeatmap, folder: str | os.PathLike[str], *, source: str = "", zones: Any = None,
             command: str = "", title: str | None = None) -> Path:
    """Save a motion run for ``heatcore report FOLDER`` (:func:`heatcore.report.write_run_folder`):
    its time slices (``acc.sliced``, from ``motion_heatmap(slice=...)``) as ``sliced.npz``, else
    the heatmap as ``motion.npz`` — without the MOG/MOG2 model (the report needs the counts, the
    zone counts and the background frame) — plus ``run.json`` and the ``zones`` file."""
    from .report import write_run_folder

    if zones is None:
        zones = acc.zones
    name = "sliced" if acc.sliced is not None else "motion"
    if acc.sliced is not None:
        from .slices import SlicedAccumulator

        st = {k: v for k, v in acc.sliced.state().items()
              if not re.match(r"^s-?\d+/mog2?_", k)}  # the current slice's model: not needed
        for key in acc.sliced.keys():
            st[f"s{key}/released"] = np.array(1, np.int64)
        state: Any = SlicedAccumulator.from_state(st)
    else:
        st = {k: v for k, v in acc.state().items() if not k.startswith(("mog_", "mog2_"))}
        st["released"] = np.array(1, np.int64)
        state = MotionHeatmap.from_state(st)
    cfg = acc.config()
    meta: dict[str, Any] = {"inputs": source, "frames": acc.frames, "command": command,
                            "motion": json.dumps({k: v for k, v in cfg.items() if k != "zones"}, default=str),
                            "slicing": acc.sliced.slicing if acc.sliced is not None else "none",
                            "zones file": str(zones) if zones is not None else "none"}
    if acc.zones is not None:
        meta["motion in a zone"] = (f"a frame has motion in a zone when at least {100 * acc.zone_min_fraction:g} % "
                                    "of its pixels moved")
    if acc.seconds_per_frame is not None:
        meta["seconds per processed frame"] = f"{acc.seconds_per_frame:.6g} s (stride / fps)"
    what = {"mog": "MOG", "mog2": "MOG2", "diff": "frame difference"}[acc.method]
    camera = Path(source).stem if source else ""
    return write_run_folder(folder, {name: state}, heat=name, motion=name if acc.zones is not None else None,
                            title=title or f"motion heatmap: {Path(source).name if source else 'video'}",
                            camera=camera, method=f"motion ({what})", meta=meta, zones=zones)


def save_picture(acc: MotionHeatmap, path: str | os.PathLike[str], *, background: Any = "first",
                 cmap: str = "hot", alpha: float = 0.6, vmin: float = 0.0, vmax: float | None = None,
                 log: bool = False, colorbar: bool = False, counts: bool = False, title: str | None = None,
                 zones: Any = None) -> Path:
    """Write the heatmap over the scene as an image (PNG/JPEG), at full frame size.

    ``background``: ``"first"`` / ``"median"`` (frames kept by the accumulator), a BGR image, or
    None (heat alone). ``counts``: colour raw counts instead of the fraction of frames in motion.
    ``colorbar``: a figure with a labelled colour bar and ``title``. ``zones``
    (:class:`~heatcore.zones.Zones` in image pixels, e.g. ``acc.zones``): outlined with their
    names (with ``colorbar``: on the background, under the heat)."""
    assert acc.full_size is not None, "no frames were processed"
    values = acc.result(normalize=not counts).astype(np.float32)
    bg = background if isinstance(background, np.ndarray) else acc.background_image(background)
    rgb_bg = None
    if bg is not None:
        rgb_bg = cv2.cvtColor(bg, cv2.COLOR_BGR2RGB if bg.ndim == 3 else cv2.COLOR_GRAY2RGB)
        if rgb_bg.shape[:2] != (acc.full_size[1], acc.full_size[0]):
            rgb_bg = cv2.resize(rgb_bg, acc.full_size, interpolation=cv2.INTER_AREA)
    scale: Any = "log" if log else "linear"
    label = "frames in motion" if counts else "fraction of frames in motion"
    if acc.method == "diff" and acc.threshold is None:
        label = "summed |difference| (gray levels)" if counts else "mean |difference| (gray levels)"
    if colorbar:
        full = render.resize(values, acc.full_size)
        if zones is not None and rgb_bg is not None:
            rgb_bg = zones.draw(rgb_bg)
        return render.save_figure(path, full, background=rgb_bg, cmap=cmap, alpha=alpha, vmin=vmin, vmax=vmax,
                                  scale=scale, threshold=vmin, label=label, colorbar=True, title=title)
    img = render.overlay(values, rgb_bg, cmap, alpha=alpha, vmin=vmin, vmax=vmax, scale=scale,
                         threshold=vmin if rgb_bg is not None else None)
    if rgb_bg is None:
        img = render.resize(img, acc.full_size)
    if zones is not None:
        img = zones.draw(img)
    return render.save_image(path, img)

