"""Person / object detectors for raw video: a tiny interface and two built-in detectors.

A *detector* is any callable ``frame (H, W, 3) BGR uint8 -> detections``. Its result may be a
:class:`~heatcore.records.Detections`, an (N, 4..6) array
(``left, top, right, bottom[, score, class_id]`` in pixels), a ``(boxes, scores, class_ids)``
tuple, or any object with an ``xyxy`` attribute (supervision ``Detections``) or a ``boxes.xyxy``
attribute (ultralytics ``Results``) — read by duck typing, with no dependency on those packages.

Built in:

* :class:`HOGDetector` — OpenCV's HOG + linear SVM people detector (ships with OpenCV, no
  download). Its scores are SVM margins, not probabilities.
* :class:`DNNDetector` — any model ``cv2.dnn`` reads: Caffe MobileNet-SSD (prototxt + caffemodel,
  as in the published floor-plan pipeline; OpenCV 4.x only, OpenCV 5 dropped Caffe: convert to ONNX), ONNX / TensorFlow models with SSD-style
  ``[image_id, class_id, score, x1, y1, x2, y2]`` rows or YOLO-style ``[cx, cy, w, h, (obj,)
  class scores...]`` rows, with configurable decoding.

:func:`postprocess` applies a class filter, a score threshold and non-maximum suppression
(``cv2.dnn.NMSBoxes``, per class); :func:`detect_video` streams a video through a detector.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import cv2
import numpy as np

from .records import Detections, as_detections, box_anchors, parse_anchor

__all__ = [
    "Detections",
    "HOGDetector",
    "DNNDetector",
    "as_detections",
    "postprocess",
    "make_detector",
    "detect_video",
]


def postprocess(det: Detections, *, classes: Iterable[int] | None = None, min_score: float | None = None,
                nms_threshold: float | None = 0.45) -> Detections:
    """Class filter (keep ``classes``), score threshold (keep ``score >= min_score``) and per-class
    non-maximum suppression with ``cv2.dnn.NMSBoxes`` (drop boxes overlapping a better one with
    IoU > ``nms_threshold``; None = no NMS). Boxes with non-finite coordinates are dropped."""
    if nms_threshold is not None and not 0 <= nms_threshold <= 1:
        raise ValueError(f"nms_threshold must be in [0, 1] or None, got {nms_threshold!r}")
    keep = np.isfinite(det.xyxy).all(axis=1) & np.isfinite(det.scores)
    if classes is not None:
        keep &= np.isin(det.class_ids, np.asarray(list(classes), np.int64))
    if min_score is not None:
        keep &= det.scores >= float(min_score)
    det = det.select(keep)
    if nms_threshold is None or len(det) < 2:
        return det
    out: list[np.ndarray] = []
    for c in np.unique(det.class_ids):
        idx = np.flatnonzero(det.class_ids == c)
        b = det.xyxy[idx]
        xywh = np.stack([b[:, 0], b[:, 1], b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]], axis=1)
        sc = det.scores[idx]
        sc = sc - sc.min() + 1.0  # NMSBoxes wants scores > 0; the order is what matters
        k = cv2.dnn.NMSBoxes(xywh.tolist(), sc.tolist(), 0.0, float(nms_threshold))
        out.append(idx[np.asarray(k, np.int64).reshape(-1)])
    sel = np.sort(np.concatenate(out))
    return det.select(sel)


class HOGDetector:
    """OpenCV's HOG people detector (``cv2.HOGDescriptor`` + the default people SVM).

    ``win_stride``/``padding``/``scale``: ``detectMultiScale`` settings (pixels, pyramid factor);
    ``hit_threshold``: SVM margin a window needs; ``min_score``: drop boxes whose SVM score
    (margin) is lower; ``nms_threshold``: IoU for NMS; ``resize_width``: run on a copy scaled to
    this width (pixels; boxes are mapped back), None = native size. All boxes get class 0 (person).
    """

    def __init__(self, *, win_stride: tuple[int, int] = (8, 8), padding: tuple[int, int] = (8, 8),
                 scale: float = 1.05, hit_threshold: float = 0.0, min_score: float | None = 0.3,
                 nms_threshold: float | None = 0.45, resize_width: int | None = None) -> None:
        if not scale > 1.0:
            raise ValueError(f"scale must be > 1 (image pyramid factor), got {scale!r}")
        if resize_width is not None and int(resize_width) < 64:
            raise ValueError(f"resize_width must be >= 64 pixels, got {resize_width!r}")
        self.hog = cv2.HOGDescriptor()
        self.hog.setSVMDetector(cv2.HOGDescriptor.getDefaultPeopleDetector())
        self.win_stride = tuple(int(v) for v in win_stride)
        self.padding = tuple(int(v) for v in padding)
        self.scale = float(scale)
        self.hit_threshold = float(hit_threshold)
        self.min_score = min_score
        self.nms_threshold = nms_threshold
        self.resize_width = resize_width

    def __call__(self, frame: np.ndarray) -> Detections:
        img = _check_frame(frame)
        f = 1.0
        if self.resize_width is not None and img.shape[1] != self.resize_width:
            f = img.shape[1] / float(self.resize_width)
            img = cv2.resize(img, (int(self.resize_width), max(1, int(round(img.shape[0] / f)))),
                             interpolation=cv2.INTER_AREA)
        rects, weights = self.hog.detectMultiScale(img, hitThreshold=self.hit_threshold, winStride=self.win_stride,
                                                   padding=self.padding, scale=self.scale)
        r = np.asarray(rects, np.float64).reshape(-1, 4)
        s = np.asarray(weights, np.float64).reshape(-1)
        # OpenCV's threads return the windows in a varying order; sort them so the same frame
        # always gives the same detections in the same order (tracks ids depend on it).
        order = np.lexsort((s, r[:, 3], r[:, 2], r[:, 1], r[:, 0]))
        r, s = r[order] * f, s[order]
        xyxy = np.concatenate([r[:, :2], r[:, :2] + r[:, 2:]], axis=1)
        det = Detections(xyxy, s, np.zeros(len(s), np.int64))
        return postprocess(det, min_score=self.min_score, nms_threshold=self.nms_threshold)

    def __repr__(self) -> str:
        return f"HOGDetector(win_stride={self.win_stride}, scale={self.scale}, min_score={self.min_score})"


def _check_frame(frame: Any) -> np.ndarray:
    img = np.asarray(frame)
    if img.dtype != np.uint8 or img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (1, 3, 4)):
        raise ValueError(f"frame must be an (H, W[, 3]) uint8 BGR image, got {img.shape} {img.dtype}")
    if img.ndim == 2 or img.shape[2] == 1:
        img = cv2.cvtColor(img.reshape(img.shape[:2]), cv2.COLOR_GRAY2BGR)
    elif img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    return img


class DNNDetector:
    """A ``cv2.dnn`` model by path, with configurable output decoding.

    model: ``.onnx``, ``.caffemodel`` (then ``config`` = the ``.prototxt``), ``.pb`` ... anything
    ``cv2.dnn.readNet`` reads. Pre-processing: ``cv2.dnn.blobFromImage(frame, scale, input_size,
    mean, swap_rb)`` (plain resize, no letterbox). The defaults fit Caffe MobileNet-SSD
    (300x300, scale 1/127.5, mean 127.5; person is class 15 of its VOC labels).

    decode:
      * ``"ssd"``: output rows ``[image_id, class_id, score, x1, y1, x2, y2]`` (any shape whose
        last axis is 7); ``ssd_columns`` gives the column of class, score, x1, y1, x2, y2.
        Coordinates are fractions of the image when ``normalized`` (default), else input pixels.
      * ``"yolo"``: rows ``[cx, cy, w, h, obj, class scores...]`` (``objectness=True``, YOLOv5
        style) or ``[cx, cy, w, h, class scores...]`` (``objectness=False``, YOLOv8 style); a
        (1, D, N) output is transposed first when ``transpose`` (None = when D < N, which holds for
        real models with thousands of candidates). Score = obj * best class score.
        Coordinates are input pixels unless ``normalized``.
      * ``"auto"``: ``"ssd"`` when the last axis is 7, else ``"yolo"``.
    Then :func:`postprocess` (``classes``, ``min_score``, ``nms_threshold``).
    """

    def __init__(self, model: str | os.PathLike[str], config: str | os.PathLike[str] | None = None, *,
                 decode: str = "auto", input_size: tuple[int, int] = (300, 300), scale: float = 1 / 127.5,
                 mean: tuple[float, float, float] = (127.5, 127.5, 127.5), swap_rb: bool = False,
                 normalized: bool | None = None, objectness: bool = True, transpose: bool | None = None,
                 ssd_columns: tuple[int, int, int, int, int, int] = (1, 2, 3, 4, 5, 6),
                 classes: Iterable[int] | None = None, min_score: float | None = 0.5,
                 nms_threshold: float | None = 0.45) -> None:
        self.model = Path(model)
        if not self.model.is_file():
            raise FileNotFoundError(f"no such model file: {self.model}")
        self.config = None if config is None else Path(config)
        if self.config is not None and not self.config.is_file():
            raise FileNotFoundError(f"no such model config file: {self.config}")
        if decode not in ("auto", "ssd", "yolo"):
            raise ValueError(f"decode must be 'auto', 'ssd' or 'yolo', got {decode!r}")
        if len(tuple(input_size)) != 2 or min(int(v) for v in input_size) < 1:
            raise ValueError(f"input_size must be (width, height) > 0, got {input_size!r}")
        if len(tuple(ssd_columns)) != 6:
            raise ValueError(f"ssd_columns must give 6 columns (class, score, x1, y1, x2, y2), got {ssd_columns!r}")
        try:
            self.net = cv2.dnn.readNet(str(self.model), "" if self.config is None else str(self.config))
        except cv2.error as exc:
            msg = str(exc).strip().splitlines()[-1]
            if "Caffe importer has been removed" in msg:
                raise ValueError(f"cannot read Caffe model {self.model}: OpenCV {cv2.__version__} has no Caffe importer "
                                 "(removed in OpenCV 5); convert the model to ONNX, or install an OpenCV 4.x "
                                 "build (opencv-contrib-python-headless<5)") from None
            raise ValueError(f"cv2.dnn cannot read model {self.model}: {msg}") from None
        self.decode = decode
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.scale, self.mean, self.swap_rb = float(scale), tuple(float(v) for v in mean), bool(swap_rb)
        self.normalized = normalized
        self.objectness = bool(objectness)
        self.transpose = transpose
        self.ssd_columns = tuple(int(v) for v in ssd_columns)
        self.classes = None if classes is None else [int(c) for c in classes]
        self.min_score = min_score
        self.nms_threshold = nms_threshold

    def forward(self, frame: np.ndarray) -> np.ndarray:
        """The raw network output for one frame."""
        img = _check_frame(frame)
        blob = cv2.dnn.blobFromImage(img, self.scale, self.input_size, self.mean, self.swap_rb, False)
        self.net.setInput(blob)
        return np.asarray(self.net.forward(), np.float64)

    def __call__(self, frame: np.ndarray) -> Detections:
        img = _check_frame(frame)
        out = self.forward(img)
        h, w = img.shape[:2]
        det = self.decode_output(out, (w, h))
        return postprocess(det, classes=self.classes, min_score=self.min_score, nms_threshold=self.nms_threshold)

    def decode_output(self, out: np.ndarray, frame_size: tuple[int, int]) -> Detections:
        """Decode a raw output for a frame of ``frame_size = (width, height)`` pixels."""
        out = np.asarray(out, np.float64)
        kind = self.decode
        if kind == "auto":
            kind = "ssd" if out.shape[-1] == 7 else "yolo"
        fw, fh = frame_size
        iw, ih = self.input_size
        if kind == "ssd":
            if out.shape[-1] < max(self.ssd_columns) + 1:
                raise ValueError(f"SSD output's last axis has {out.shape[-1]} values, columns {self.ssd_columns} needed")
            rows = out.reshape(-1, out.shape[-1])
            ci, si, x1, y1, x2, y2 = self.ssd_columns
            norm = True if self.normalized is None else self.normalized
            sx, sy = (fw, fh) if norm else (fw / iw, fh / ih)
            xyxy = np.stack([rows[:, x1] * sx, rows[:, y1] * sy, rows[:, x2] * sx, rows[:, y2] * sy], axis=1)
            return Detections(xyxy, rows[:, si], rows[:, ci].round())
        a = out
        while a.ndim > 2 and a.shape[0] == 1:
            a = a[0]
        if a.ndim != 2:
            raise ValueError(f"YOLO output must be (1, N, D) or (1, D, N), got {out.shape}")
        if self.transpose or (self.transpose is None and a.shape[0] < a.shape[1]):
            a = a.T  # (D, N) YOLOv8 layout
        first = 5 if self.objectness else 4
        if a.shape[1] <= first:
            raise ValueError(f"YOLO rows need > {first} values (box{', objectness' if self.objectness else ''}, "
                             f"class scores), got {a.shape[1]}")
        cls_scores = a[:, first:]
        cls = np.argmax(cls_scores, axis=1)
        score = cls_scores[np.arange(len(a)), cls]
        if self.objectness:
            score = score * a[:, 4]
        norm = False if self.normalized is None else self.normalized
        sx, sy = (fw, fh) if norm else (fw / iw, fh / ih)
        cx, cy, bw, bh = a[:, 0] * sx, a[:, 1] * sy, a[:, 2] * sx, a[:, 3] * sy
        xyxy = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1)
        return Detections(xyxy, score, cls)

    def __repr__(self) -> str:
        return f"DNNDetector({str(self.model)!r}, decode={self.decode!r})"


class _CallableDetector:
    def __init__(self, fn: Callable[[np.ndarray], Any]) -> None:
        self.fn = fn

    def __call__(self, frame: np.ndarray) -> Detections:
        return as_detections(self.fn(frame))

    def __repr__(self) -> str:
        return f"detector {getattr(self.fn, '__name__', type(self.fn).__name__)}"


def make_detector(spec: Any = None, **kwargs: Any) -> Callable[[np.ndarray], Detections]:
    """A detector from ``None`` / ``"hog"`` (the default), a model path (``model.onnx``,
    ``net.prototxt:net.caffemodel``, ``net.caffemodel``), a detector object or any callable."""
    if spec is None or (isinstance(spec, str) and spec.lower() == "hog"):
        return HOGDetector(**kwargs)
    if isinstance(spec, (HOGDetector, DNNDetector)):
        return spec
    if isinstance(spec, (str, os.PathLike)):
        text = os.fspath(spec)
        if ":" in text and not Path(text).exists():
            a, b = text.rsplit(":", 1)
            config, model = (a, b) if a.lower().endswith((".prototxt", ".pbtxt", ".cfg")) else (b, a)
            return DNNDetector(model, config, **kwargs)
        p = Path(text)
        if p.suffix.lower() == ".caffemodel":
            proto = p.with_suffix(".prototxt")
            return DNNDetector(p, proto if proto.exists() else None, **kwargs)
        return DNNDetector(p, **kwargs)
    if callable(spec):
        return _CallableDetector(spec)
    raise TypeError(f"detector must be 'hog', a model path or a callable, got {type(spec).__name__}")


def detect_video(source: str | os.PathLike[str] | Sequence, detector: Any = None, *, stride: int = 1,
                 start: int = 0, stop: int | None = None, classes: Iterable[int] | None = None,
                 min_score: float | None = None, nms_threshold: float | None = None,
                 tracker: Any = None, quiet: bool = True) -> Iterator[tuple[int, Detections]]:
    """Stream ``(frame index, Detections)`` for every ``stride``-th frame of a video / image folder.

    ``detector``: see :func:`make_detector` (default: HOG). ``classes`` / ``min_score`` /
    ``nms_threshold`` filter further (on top of the detector's own settings). ``tracker``: an
    object with ``update(xyxy) -> track ids`` (e.g. :class:`heatcore.track.Tracker`) that fills
    ``track_ids``. Frames are read one at a time (nothing is held); a progress bar unless ``quiet``.
    """
    from .io.video import iter_frames, video_info
    from .progress import progress

    det_fn = make_detector(detector)
    total = None
    try:
        n = video_info(source).frame_count
        if n:
            end = n if stop is None else min(n, stop)
            total = max(0, (end - start + stride - 1) // stride)
    except (OSError, ValueError, TypeError):
        total = None
    for idx, frame in progress(iter_frames(source, stride=stride, start=start, stop=stop), total=total,
                               desc="detect", quiet=quiet):
        det = as_detections(det_fn(frame))
        if classes is not None or min_score is not None or nms_threshold is not None:
            det = postprocess(det, classes=classes, min_score=min_score, nms_threshold=nms_threshold)
        if tracker is not None:
            det.track_ids = np.asarray(tracker.update(det.xyxy), np.int64).reshape(-1)
        yield idx, det
