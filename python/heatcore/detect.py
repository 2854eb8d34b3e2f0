"""Person / object detectors for raw video: a tiny interface and the built-in detectors.

A *detector* is any callable ``frame (H, W, 3) BGR uint8 -> detections``. Its result may be a
:class:`~heatcore.records.Detections`, an (N, 4..6) array
(``left, top, right, bottom[, score, class_id]`` in pixels), a ``(boxes, scores, class_ids)``
tuple, or any object with an ``xyxy`` attribute (supervision ``Detections``) or a ``boxes.xyxy``
attribute (ultralytics ``Results``) — read by duck typing, with no dependency on those packages.
Detectors may also have ``detect_batch(frames) -> list[Detections]`` (one forward pass for
several frames); :func:`detect_batch` falls back to a loop for those that do not.

Built in:

* :class:`SSDPersonDetector` — the default: an SSDLite-MobileNetV2 person detector (MIT),
  downloaded into the user cache on first use (:mod:`heatcore.models`), run by ``cv2.dnn``.
* :class:`HOGDetector` — OpenCV's HOG + linear SVM people detector (ships with OpenCV, no
  download), with automatic upscaling so small people fill its 128-px window; its SVM margins
  are mapped to probabilities by a documented logistic (:func:`hog_probability`).
* :class:`DNNDetector` — any model ``cv2.dnn`` reads: Caffe MobileNet-SSD (prototxt + caffemodel,
  as in the published floor-plan pipeline; needs OpenCV 4.x, OpenCV 5 dropped Caffe), ONNX /
  TensorFlow models with SSD-style ``[image_id, class_id, score, x1, y1, x2, y2]`` rows or
  YOLO-style ``[cx, cy, w, h, (obj,) class scores...]`` rows, with configurable decoding; ONNX
  models can also run on onnxruntime (``engine="onnxruntime"``, extra ``heatcore[onnx]``).

Scores are probabilities (0..1) for every built-in detector. :func:`postprocess` applies a class
filter, a score threshold and non-maximum suppression (``cv2.dnn.NMSBoxes``, per class);
:func:`detect_video` streams a video through a detector (decoding on a worker thread, optional
batches).
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
    "detector_from_options",
    "detector_options",
    "HOGDetector",
    "DNNDetector",
    "SSDPersonDetector",
    "detect_batch",
    "hog_probability",
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
    scores = np.ones(len(det)) if det.scores is None else np.asarray(det.scores, np.float64)
    class_ids = np.zeros(len(det), np.int64) if det.class_ids is None else np.asarray(det.class_ids, np.int64)
    keep = np.isfinite(det.xyxy).all(axis=1) & np.isfinite(scores)
    if classes is not None:
        keep &= np.isin(class_ids, np.asarray(list(classes), np.int64))
    if min_score is not None:
        keep &= scores >= float(min_score)
    det, scores, class_ids = det.select(keep), scores[keep], class_ids[keep]
    if nms_threshold is None or len(det) < 2:
        return det
    out: list[np.ndarray] = []
    for c in np.unique(class_ids):
        idx = np.flatnonzero(class_ids == c)
        b = det.xyxy[idx]
        xywh = np.stack([b[:, 0], b[:, 1], b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]], axis=1)
        sc = scores[idx]
        sc = sc - sc.min() + 1.0  # NMSBoxes wants scores > 0; the order is what matters
        k = cv2.dnn.NMSBoxes(xywh.tolist(), sc.tolist(), 0.0, float(nms_threshold))
        out.append(idx[np.asarray(k, np.int64).reshape(-1)])
    sel = np.sort(np.concatenate(out))
    return det.select(sel)


#: HOG score -> probability: ``p = 1 / (1 + exp(-HOG_LOGISTIC_SLOPE * (margin - HOG_LOGISTIC_CENTER)))``.
#: An SVM margin of 0.5 maps to 0.5, 0 to 0.12, 0.3 to 0.31, 1.0 to 0.88, 1.5 to 0.98.
HOG_LOGISTIC_CENTER = 0.5
HOG_LOGISTIC_SLOPE = 4.0

#: Height (pixels) of a person inside HOG's 64x128 detection window (the window has margins).
HOG_PERSON_PX = 96.0


def hog_probability(margin: Any) -> np.ndarray:
    """Map HOG SVM margins to probabilities 0..1 with the documented logistic
    (:data:`HOG_LOGISTIC_CENTER`, :data:`HOG_LOGISTIC_SLOPE`)."""
    m = np.asarray(margin, np.float64)
    return 1.0 / (1.0 + np.exp(-HOG_LOGISTIC_SLOPE * (m - HOG_LOGISTIC_CENTER)))


def default_person_height(frame_size: tuple[int, int]) -> float:
    """The person height (pixels) HOG expects when not told: an eighth of the frame height
    (a person on a CCTV frame is rarely smaller; larger people are found by the pyramid)."""
    return max(8.0, frame_size[1] / 8.0)


class HOGDetector:
    """OpenCV's HOG people detector (``cv2.HOGDescriptor`` + the default people SVM), made to see
    small people.

    HOG only finds people at least as tall as its 128-px window (about :data:`HOG_PERSON_PX`
    of person inside it). The frame is therefore upscaled by ``HOG_PERSON_PX / person_height``
    (clipped to ``[1, max_upscale]``) before the search, so a person ``person_height`` pixels
    tall fills the window; the image pyramid (``scale``) then finds taller people too. Boxes
    are mapped back to frame pixels. ``person_height``: expected height of the smallest people
    (frame pixels); None = :func:`default_person_height` (frame height / 8). ``resize_width``
    (pixels) instead fixes the width searched (the old behaviour; None = automatic).

    ``tight``: shrink OpenCV's window box to the person inside it (1/8 of the height off the
    top and bottom, 3/16 of the width off each side), so the bottom edge sits at the feet.

    Scores: ``score="probability"`` (default) maps SVM margins through the logistic of
    :func:`hog_probability`; ``score="margin"`` keeps the raw margins. ``min_score`` is compared
    with the score in that unit (default 0.3 probability ~ margin 0.29). ``win_stride`` /
    ``padding`` / ``scale`` / ``hit_threshold``: ``detectMultiScale`` settings. All boxes get
    class 0 (person).
    """

    def __init__(self, *, win_stride: tuple[int, int] = (8, 8), padding: tuple[int, int] = (8, 8),
                 scale: float = 1.05, hit_threshold: float = 0.0, min_score: float | None = 0.3,
                 nms_threshold: float | None = 0.45, resize_width: int | None = None,
                 person_height: float | None = None, max_upscale: float = 4.0, tight: bool = True,
                 score: str = "probability") -> None:
        if not scale > 1.0:
            raise ValueError(f"scale must be > 1 (image pyramid factor), got {scale!r}")
        if resize_width is not None and int(resize_width) < 64:
            raise ValueError(f"resize_width must be >= 64 pixels, got {resize_width!r}")
        if person_height is not None and not float(person_height) > 0:
            raise ValueError(f"person_height must be > 0 pixels, got {person_height!r}")
        if not float(max_upscale) >= 1.0:
            raise ValueError(f"max_upscale must be >= 1, got {max_upscale!r}")
        if score not in ("probability", "margin"):
            raise ValueError(f"score must be 'probability' or 'margin', got {score!r}")
        self.hog = cv2.HOGDescriptor()
        self.hog.setSVMDetector(np.asarray(cv2.HOGDescriptor.getDefaultPeopleDetector(), np.float32))
        self.win_stride = tuple(int(v) for v in win_stride)
        self.padding = tuple(int(v) for v in padding)
        self.scale = float(scale)
        self.hit_threshold = float(hit_threshold)
        self.min_score = min_score
        self.nms_threshold = nms_threshold
        self.resize_width = resize_width
        self.person_height = None if person_height is None else float(person_height)
        self.max_upscale = float(max_upscale)
        self.tight = bool(tight)
        self.score = score

    def upscale_factor(self, frame_size: tuple[int, int]) -> float:
        """Factor the frame of ``frame_size = (width, height)`` pixels is resized by before the search."""
        if self.resize_width is not None:
            return float(self.resize_width) / frame_size[0]
        ph = self.person_height if self.person_height is not None else default_person_height(frame_size)
        return float(np.clip(HOG_PERSON_PX / ph, 1.0, self.max_upscale))

    def __call__(self, frame: np.ndarray) -> Detections:
        img = _check_frame(frame)
        h, w = img.shape[:2]
        f = self.upscale_factor((w, h))
        if abs(f - 1.0) > 1e-9:
            size = (max(1, int(round(w * f))), max(1, int(round(h * f))))
            img = cv2.resize(img, size, interpolation=cv2.INTER_LINEAR if f > 1 else cv2.INTER_AREA)
            fx, fy = w / size[0], h / size[1]
        else:
            fx = fy = 1.0
        rects, weights = self.hog.detectMultiScale(img, hitThreshold=self.hit_threshold, winStride=self.win_stride,
                                                   padding=self.padding, scale=self.scale)
        r = np.asarray(rects, np.float64).reshape(-1, 4)
        s = np.asarray(weights, np.float64).reshape(-1)
        # OpenCV's threads return the windows in a varying order; sort them so the same frame
        # always gives the same detections in the same order (tracks ids depend on it).
        order = np.lexsort((s, r[:, 3], r[:, 2], r[:, 1], r[:, 0]))
        r, s = r[order], s[order]
        x, y, bw, bh = r[:, 0], r[:, 1], r[:, 2], r[:, 3]
        if self.tight:
            x, y, bw, bh = x + bw * 3 / 16, y + bh / 8, bw * 10 / 16, bh * 6 / 8
        xyxy = np.stack([x * fx, y * fy, (x + bw) * fx, (y + bh) * fy], axis=1)
        if self.score == "probability":
            s = hog_probability(s)
        det = Detections(xyxy, s, np.zeros(len(s), np.int64))
        return postprocess(det, min_score=self.min_score, nms_threshold=self.nms_threshold)

    def detect_batch(self, frames: Sequence[np.ndarray]) -> list[Detections]:
        """One :class:`Detections` per frame (HOG has no batched search: a loop)."""
        return [self(f) for f in frames]

    def __repr__(self) -> str:
        return (f"HOGDetector(person_height={self.person_height}, resize_width={self.resize_width}, "
                f"scale={self.scale}, min_score={self.min_score}, score={self.score!r})")


def _check_frame(frame: Any) -> np.ndarray:
    img = np.asarray(frame)
    if img.dtype != np.uint8 or img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (1, 3, 4)):
        raise ValueError(f"frame must be an (H, W[, 3]) uint8 BGR image, got {img.shape} {img.dtype}")
    if img.ndim == 2 or img.shape[2] == 1:
        img = cv2.cvtColor(img.reshape(img.shape[:2]), cv2.COLOR_GRAY2BGR)
    elif img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    return img


class _OrtNet:
    """An onnxruntime session with the two calls DNNDetector makes of a ``cv2.dnn.Net``."""

    def __init__(self, path: Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        if threads is not None:
            opts.intra_op_num_threads = int(threads)
        self.session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name
        self._blob: np.ndarray | None = None

    def setInput(self, blob: np.ndarray) -> None:  # noqa: N802 - cv2.dnn.Net's name
        self._blob = np.ascontiguousarray(blob, np.float32)

    def forward(self) -> np.ndarray:
        return self.session.run(None, {self.input_name: self._blob})[0]


def have_onnxruntime() -> bool:
    """Whether the optional ``onnxruntime`` package (``pip install heatcore[onnx]``) imports."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


class DNNDetector:
    """A ``cv2.dnn`` (or onnxruntime) model by path, with configurable output decoding.

    model: ``.onnx``, ``.caffemodel`` (then ``config`` = the ``.prototxt``), ``.pb`` (then
    ``config`` = the ``.pbtxt``) ... anything ``cv2.dnn.readNet`` reads. Pre-processing:
    ``cv2.dnn.blobFromImage(frame, scale, input_size, mean, swap_rb)`` (plain resize, no
    letterbox). The defaults fit Caffe MobileNet-SSD (300x300, scale 1/127.5, mean 127.5; person
    is class 15 of its VOC labels; reading Caffe needs OpenCV 4.x, OpenCV 5 removed the importer).

    engine: ``"opencv"`` (``cv2.dnn``, default), ``"onnxruntime"`` (ONNX models; needs the
    optional ``onnxruntime`` package, ``pip install heatcore[onnx]``), or ``"auto"``
    (onnxruntime for ``.onnx`` files when it is installed). The decoding is the same for both.
    ``threads``: onnxruntime's intra-op threads, or ``cv2.setNumThreads`` (process-wide) for
    OpenCV; None = the library's default.

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
    Then :func:`postprocess` (``classes``, ``min_score``, ``nms_threshold``), and ``class_map``
    renames class ids (e.g. ``{15: 0}``) on the kept boxes.
    """

    def __init__(self, model: str | os.PathLike[str], config: str | os.PathLike[str] | None = None, *,
                 decode: str = "auto", input_size: tuple[int, int] = (300, 300), scale: float = 1 / 127.5,
                 mean: tuple[float, float, float] = (127.5, 127.5, 127.5), swap_rb: bool = False,
                 normalized: bool | None = None, objectness: bool = True, transpose: bool | None = None,
                 ssd_columns: tuple[int, int, int, int, int, int] = (1, 2, 3, 4, 5, 6),
                 classes: Iterable[int] | None = None, min_score: float | None = 0.5,
                 nms_threshold: float | None = 0.45, class_map: dict[int, int] | None = None,
                 engine: str = "opencv", threads: int | None = None) -> None:
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
        if engine not in ("opencv", "onnxruntime", "auto"):
            raise ValueError(f"engine must be 'opencv', 'onnxruntime' or 'auto', got {engine!r}")
        is_onnx = self.model.suffix.lower() == ".onnx"
        if engine == "auto":
            engine = "onnxruntime" if is_onnx and have_onnxruntime() else "opencv"
        if engine == "onnxruntime":
            if not is_onnx:
                raise ValueError(f"engine='onnxruntime' runs .onnx models only, got {self.model}")
            if not have_onnxruntime():
                raise ValueError("engine='onnxruntime' needs the onnxruntime package: pip install 'heatcore[onnx]'")
            try:
                self.net: Any = _OrtNet(self.model, threads)
            except Exception as exc:  # onnxruntime raises its own exception types
                raise ValueError(f"onnxruntime cannot read model {self.model}: {exc}") from None
        else:
            self.net = self._read_opencv()
            if threads is not None:
                cv2.setNumThreads(int(threads))
        self.engine = engine
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
        self.class_map = None if class_map is None else {int(k): int(v) for k, v in class_map.items()}

    def _read_opencv(self) -> Any:
        try:
            net = cv2.dnn.readNet(str(self.model), "" if self.config is None else str(self.config))
            if net.empty():
                raise ValueError(f"cv2.dnn read no layers from model {self.model}"
                                 + ("" if self.config is None else f" with config {self.config}"))
            return net
        except cv2.error as exc:
            msg = str(exc).strip().splitlines()[-1]
            if "Caffe importer has been removed" in msg:
                raise ValueError(f"cannot read Caffe model {self.model}: OpenCV {cv2.__version__} has no Caffe importer "
                                 "(removed in OpenCV 5); convert the model to ONNX, or install an OpenCV 4.x "
                                 "build (opencv-contrib-python-headless<5)") from None
            raise ValueError(f"cv2.dnn cannot read model {self.model}: {msg}") from None

    def _blob(self, frames: Sequence[np.ndarray]) -> np.ndarray:
        if len(frames) == 1:
            return cv2.dnn.blobFromImage(frames[0], self.scale, self.input_size, self.mean, self.swap_rb, False)
        return cv2.dnn.blobFromImages(list(frames), self.scale, self.input_size, self.mean, self.swap_rb, False)

    def forward(self, frame: np.ndarray) -> np.ndarray:
        """The raw network output for one frame."""
        self.net.setInput(self._blob([_check_frame(frame)]))
        return np.asarray(self.net.forward(), np.float64)

    def forward_batch(self, frames: Sequence[np.ndarray]) -> np.ndarray:
        """The raw network output for several frames in one forward pass (batch = first axis,
        or for SSD rows the ``image_id`` column)."""
        imgs = [_check_frame(f) for f in frames]
        self.net.setInput(self._blob(imgs))
        return np.asarray(self.net.forward(), np.float64)

    def __call__(self, frame: np.ndarray) -> Detections:
        img = _check_frame(frame)
        out = self.forward(img)
        h, w = img.shape[:2]
        return self._finish(self.decode_output(out, (w, h)))

    def detect_batch(self, frames: Sequence[np.ndarray]) -> list[Detections]:
        """One :class:`Detections` per frame, from one forward pass over all of them
        (``cv2.dnn.blobFromImages``). Frames may differ in size; boxes are in each frame's pixels."""
        imgs = [_check_frame(f) for f in frames]
        if not imgs:
            return []
        if len(imgs) == 1:
            return [self(imgs[0])]
        self.net.setInput(self._blob(imgs))
        out = np.asarray(self.net.forward(), np.float64)
        return self.decode_batch(out, [(im.shape[1], im.shape[0]) for im in imgs])

    def decode_batch(self, out: np.ndarray, frame_sizes: Sequence[tuple[int, int]]) -> list[Detections]:
        """Final detections (decoded, filtered, NMS, class map) from the raw output of
        :meth:`forward_batch` for frames of ``frame_sizes`` = [(width, height), ...] pixels.
        Split from the forward pass so a pipeline can run the two on different threads."""
        return [self._finish(self.decode_output(o, size))
                for o, size in zip(self.split_batch(np.asarray(out, np.float64), len(frame_sizes)), frame_sizes)]

    def split_batch(self, out: np.ndarray, n: int) -> list[np.ndarray]:
        """Split a batched raw output into ``n`` per-image outputs."""
        kind = self.decode if self.decode != "auto" else ("ssd" if out.shape[-1] == 7 else "yolo")
        if kind == "ssd" and (out.ndim < 3 or out.shape[0] != n or n == 1):
            rows = out.reshape(-1, out.shape[-1])  # cv2.dnn's DetectionOutput: all images' rows, image_id first
            img = rows[:, 0].round().astype(np.int64)
            return [rows[img == i][None] for i in range(n)]
        if out.shape[0] != n:
            raise ValueError(f"batched output of shape {out.shape} does not hold {n} images")
        return [out[i:i + 1] for i in range(n)]

    def _finish(self, det: Detections) -> Detections:
        det = postprocess(det, classes=self.classes, min_score=self.min_score, nms_threshold=self.nms_threshold)
        if self.class_map and det.class_ids is not None:
            det.class_ids = np.array([self.class_map.get(int(c), int(c)) for c in det.class_ids], np.int64)
        return det

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
        return f"{type(self).__name__}({str(self.model)!r}, decode={self.decode!r}, engine={self.engine!r})"


class SSDPersonDetector(DNNDetector):
    """heatcore's default person detector: SSDLite-MobileNetV2 trained on PASCAL VOC persons
    (MIT licence; see :mod:`heatcore.models` for its origin), run by ``cv2.dnn``.

    The model file is downloaded on first use into the user cache (``heatcore models fetch
    person`` does it ahead of time); ``model_dir`` (or ``$HEATCORE_MODEL_DIR``) points at a folder
    that already holds ``frozen_inference_graph.pb``; ``fetch=False`` never downloads (a missing
    file raises :class:`heatcore.models.ModelNotFoundError`, naming what to do).

    Input: the frame resized to ``input_size`` (default 300x300, the training size), RGB values
    0..255 (the graph scales them itself). Scores are the network's sigmoid probabilities;
    ``min_score`` (default 0.15) keeps the people of ordinary CCTV footage (30-70 px tall on a
    480x360 frame) at few false boxes. Boxes are in frame pixels, class 0 (person, as the AITRIOS
    format and :class:`HOGDetector` use).
    """

    def __init__(self, model_dir: str | os.PathLike[str] | None = None, *, input_size: tuple[int, int] = (300, 300),
                 min_score: float | None = 0.15, nms_threshold: float | None = 0.45, fetch: bool | None = None,
                 threads: int | None = None) -> None:
        from .models import model_paths

        pb, pbtxt = model_paths("person", directory=model_dir, fetch=fetch)
        super().__init__(pb, pbtxt, decode="ssd", input_size=input_size, scale=1.0, mean=(0.0, 0.0, 0.0),
                         swap_rb=True, normalized=True, classes=[1], min_score=min_score,
                         nms_threshold=nms_threshold, class_map={1: 0}, engine="opencv", threads=threads)


class _CallableDetector:
    def __init__(self, fn: Callable[[np.ndarray], Any]) -> None:
        self.fn = fn

    def __call__(self, frame: np.ndarray) -> Detections:
        return as_detections(self.fn(frame))

    def detect_batch(self, frames: Sequence[np.ndarray]) -> list[Detections]:
        return [self(f) for f in frames]

    def __repr__(self) -> str:
        return f"detector {getattr(self.fn, '__name__', type(self.fn).__name__)}"


_DEFAULT_NAMES = ("person", "ssd", "ssdlite", "default")


def detector_options(detector: str | None = None, *, model_dir: Any = None, decode: str = "auto",
                     input_size: Any = None, engine: str = "opencv", hog_width: int | None = None,
                     person_height: float | None = None,
                     min_score: float | None = None) -> tuple[str, dict[str, Any]]:
    """The detector the command-line detector options describe, as a picklable spec
    ``(name, keyword arguments of make_detector)``; the name is ``"person"``, ``"hog"`` or the
    model path. ``hog_width`` (pixels) / ``person_height`` (frame pixels) without ``detector``
    select HOG; ``model_dir`` applies to the person detector; ``decode`` / ``engine`` to model
    files; ``input_size`` (W, H) or ``"WxH"`` pixels to DNNs; ``min_score`` is a probability in
    [0, 1]. ``make_detector(name, **kwargs)`` builds it (:func:`detector_from_options`)."""
    from ._checks import parse_size

    hog_opts = hog_width is not None or person_height is not None
    name = detector if detector is not None else ("hog" if hog_opts else "person")
    kind = name.lower()
    kw: dict[str, Any] = {}
    if kind == "hog":
        kw = {"resize_width": hog_width, "person_height": person_height}
    else:
        if hog_opts:
            raise ValueError(f"--hog-width/--person-height apply to --detector hog, not {name!r}")
        if kind in _DEFAULT_NAMES:
            if model_dir is not None:
                kw["model_dir"] = model_dir
        else:
            kw = {"decode": decode, "engine": engine}
        if input_size:
            kw["input_size"] = parse_size(input_size, "--input-size") if isinstance(input_size, str) else input_size
    if min_score is not None:
        if not 0.0 <= min_score <= 1.0:
            raise ValueError(f"--min-score is a probability in [0, 1], got {min_score}")
        kw["min_score"] = min_score
    return name, kw


def detector_from_options(detector: str | None = None, *, model_dir: Any = None, decode: str = "auto",
                          input_size: Any = None, engine: str = "opencv", hog_width: int | None = None,
                          person_height: float | None = None,
                          min_score: float | None = None) -> tuple[Callable[[np.ndarray], Detections], str]:
    """The detector the command-line detector options describe (see :func:`detector_options`),
    built, and its name (``"person"``, ``"hog"`` or the model path)."""
    name, kw = detector_options(detector, model_dir=model_dir, decode=decode, input_size=input_size,
                                engine=engine, hog_width=hog_width, person_height=person_height,
                                min_score=min_score)
    return make_detector(name, **kw), name


def make_detector(spec: Any = None, **kwargs: Any) -> Callable[[np.ndarray], Detections]:
    """A detector from a name, a model path, a detector object or any callable.

    * ``None`` / ``"person"`` (also ``"ssd"``, ``"default"``): :class:`SSDPersonDetector`, the
      default (downloaded on first use);
    * ``"hog"``: :class:`HOGDetector` (no download);
    * a model path: ``model.onnx``, ``net.prototxt:net.caffemodel``, ``net.caffemodel`` (with
      ``net.prototxt`` beside it), ``graph.pb:graph.pbtxt`` -> :class:`DNNDetector`;
    * a detector object or any callable ``frame -> detections`` (see :func:`as_detections`).

    ``kwargs`` go to the detector's constructor.
    """
    if spec is None or (isinstance(spec, str) and spec.lower() in _DEFAULT_NAMES):
        return SSDPersonDetector(**kwargs)
    if isinstance(spec, str) and spec.lower() == "hog":
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
        if not p.exists() and p.suffix == "":
            raise ValueError(f"unknown detector {text!r}: use 'person' (default), 'hog' or a model file path")
        return DNNDetector(p, **kwargs)
    if callable(spec):
        return _CallableDetector(spec)
    raise TypeError(f"detector must be 'person', 'hog', a model path or a callable, got {type(spec).__name__}")


def detect_batch(detector: Any, frames: Sequence[np.ndarray]) -> list[Detections]:
    """Run ``detector`` (anything :func:`make_detector` accepts) on several frames: one batched
    forward pass when the detector has ``detect_batch``, else one call per frame."""
    fn = detector if callable(detector) and not isinstance(detector, (str, os.PathLike)) else make_detector(detector)
    if hasattr(fn, "detect_batch"):
        return [as_detections(d) for d in fn.detect_batch(list(frames))]
    return [as_detections(fn(f)) for f in frames]


def _prefetch(it: Iterator[Any], depth: int) -> Iterator[Any]:
    """Iterate ``it`` on a worker thread, ``depth`` items ahead (decoding overlaps detection;
    OpenCV releases the GIL in both). Exceptions are re-raised in the consumer."""
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()
    end = object()

    def work() -> None:
        try:
            for item in it:
                while not stop.is_set():
                    try:
                        q.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put((end, None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            q.put((end, exc))
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()  # release the video file now, from the thread that ran the generator

    t = threading.Thread(target=work, name="heatcore-decode", daemon=True)
    t.start()
    try:
        while True:
            item, exc = q.get()
            if item is end:
                if exc is not None:
                    raise exc
                return
            yield item
    finally:
        stop.set()
        while t.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                t.join(0.05)


def detect_video(source: str | os.PathLike[str] | Sequence, detector: Any = None, *, stride: int = 1,
                 start: int = 0, stop: int | None = None, classes: Iterable[int] | None = None,
                 min_score: float | None = None, nms_threshold: float | None = None,
                 tracker: Any = None, quiet: bool = True, batch: int = 1,
                 prefetch: bool = True) -> Iterator[tuple[int, Detections]]:
    """Stream ``(frame index, Detections)`` for every ``stride``-th frame of a video / image folder.

    ``detector``: see :func:`make_detector` (default: the SSDLite person detector). ``classes`` /
    ``min_score`` / ``nms_threshold`` filter further (on top of the detector's own settings).
    ``tracker``: an object with ``update(xyxy) -> track ids`` (e.g.
    :class:`heatcore.track.Tracker`) that fills ``track_ids``. ``batch``: frames per forward pass
    (:func:`detect_batch`; results are identical, long footage runs faster on DNN detectors).
    ``prefetch``: decode frames on a worker thread while the detector runs. At most
    ``2 * batch`` frames are held; a progress bar unless ``quiet``.
    """
    from .io.video import iter_frames, video_info
    from .progress import progress

    if int(batch) < 1:
        raise ValueError(f"batch must be >= 1 frames, got {batch!r}")
    batch = int(batch)
    det_fn = make_detector(detector)
    total = None
    try:
        n = video_info(source).frame_count
        if n:
            end = n if stop is None else min(n, stop)
            total = max(0, (end - start + stride - 1) // stride)
    except (OSError, ValueError, TypeError):
        total = None
    frames: Iterator[tuple[int, np.ndarray]] = iter_frames(source, stride=stride, start=start, stop=stop)
    if prefetch:
        frames = _prefetch(frames, 2 * batch)

    def finish(idx: int, det: Any) -> tuple[int, Detections]:
        det = as_detections(det)
        if classes is not None or min_score is not None or nms_threshold is not None:
            det = postprocess(det, classes=classes, min_score=min_score, nms_threshold=nms_threshold)
        if tracker is not None:
            det.track_ids = np.asarray(tracker.update(det.xyxy), np.int64).reshape(-1)
        return idx, det

    bar = progress(frames, total=total, desc="detect", quiet=quiet)
    if batch == 1:
        for idx, frame in bar:
            yield finish(idx, det_fn(frame))
        return
    pending: list[tuple[int, np.ndarray]] = []

    def flush() -> list[tuple[int, Detections]]:
        dets = detect_batch(det_fn, [f for _, f in pending])
        out = [finish(i, d) for (i, _), d in zip(pending, dets)]
        pending.clear()
        return out

    for item in bar:
        pending.append(item)
        if len(pending) == batch:
            yield from flush()
    if pending:
        yield from flush()
