"""Detector options shared by every command that detects people (detect, floorplan, grid).

``add_detector_arguments(parser)`` adds them; ``detector_from_args(args)`` builds the detector,
``detector_spec_from_args(args)`` describes it (picklable, for workers).
"""

from __future__ import annotations

import argparse
from typing import Any

DETECTOR_HELP = ("person (default: SSDLite-MobileNetV2 person detector, downloaded on first use, see "
                 "`heatcore models`) | hog (OpenCV HOG, no download) | model.onnx (SSD- or YOLO-style output) | "
                 "net.prototxt:net.caffemodel (Caffe MobileNet-SSD, persons are class 15) | graph.pb:graph.pbtxt")


def _classes(text: str) -> list[int]:
    """``--classes`` as an argparse type (:func:`._options.classes_arg`, its error as a usage error)."""
    from ._options import classes_arg

    try:
        return classes_arg(text) or []
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def add_detector_arguments(parser: argparse.ArgumentParser, *, filters: bool = True) -> None:
    """Add the detector options: ``--detector --model-dir --decode --input-size --engine
    --hog-width --person-height`` and, when ``filters``, ``--min-score --classes``."""
    g = parser.add_argument_group("detector")
    g.add_argument("--detector", default=None, help=DETECTOR_HELP)
    g.add_argument("--model-dir", default=None,
                   help="person detector: folder holding frozen_inference_graph.pb (default: $HEATCORE_MODEL_DIR, "
                        "else the heatcore cache; see `heatcore models path`)")
    g.add_argument("--decode", choices=["auto", "ssd", "yolo"], default="auto",
                   help="model file: output layout (default auto)")
    g.add_argument("--input-size", default=None, help="DNN input WxH pixels (default 300x300)")
    g.add_argument("--engine", choices=["opencv", "onnxruntime", "auto"], default="opencv",
                   help="model.onnx: run it with cv2.dnn (default) or onnxruntime (pip install 'heatcore[onnx]')")
    g.add_argument("--hog-width", type=int, default=None,
                   help="HOG: search frames scaled to this width, pixels (implies --detector hog)")
    g.add_argument("--person-height", type=float, default=None,
                   help="HOG: height of the smallest people, frame pixels; frames are upscaled so they fill HOG's "
                        "window (default: frame height / 8; implies --detector hog)")
    if filters:
        g.add_argument("--min-score", type=float, default=None,
                       help="drop boxes scoring lower, probability 0..1 (default: person 0.15, hog 0.3, model 0.5)")
        g.add_argument("--classes", type=_classes, default=None, help="keep only these class ids, e.g. 15 or 0,2")


def detector_spec_from_args(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """The detector the options in ``args`` describe as a picklable spec ``(name, kwargs)``
    (:func:`heatcore.detect.detector_options`); ``args.detector`` is set to the name used."""
    from ..detect import detector_options

    name, kw = detector_options(args.detector, model_dir=args.model_dir, decode=args.decode,
                                input_size=args.input_size, engine=args.engine, hog_width=args.hog_width,
                                person_height=args.person_height, min_score=getattr(args, "min_score", None))
    args.detector = name
    return name, kw


def detector_from_args(args: argparse.Namespace) -> Any:
    """The detector the options in ``args`` describe (:func:`detector_spec_from_args`, built);
    ``args.detector`` is set to the name used ("person", "hog" or the model path)."""
    from ..detect import make_detector

    name, kw = detector_spec_from_args(args)
    return make_detector(name, **kw)
