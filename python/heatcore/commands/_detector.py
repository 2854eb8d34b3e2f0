"""Detector options shared by the commands that detect (detect, floorplan, grid)."""

from __future__ import annotations

import argparse
from typing import Any


def add_detector_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("detector (video input)")
    g.add_argument("--detector", default="hog", help="hog | model.onnx | model.prototxt:model.caffemodel (default hog)")
    g.add_argument("--decode", choices=["auto", "ssd", "yolo"], default="auto", help="DNN output layout (default auto)")
    g.add_argument("--input-size", default=None, help="DNN input WxH (default 300x300)")
    g.add_argument("--min-score", type=float, default=None,
                   help="drop boxes scoring lower (HOG: SVM margin, default 0.3; DNN: probability, default 0.5)")
    g.add_argument("--classes", default=None, help="keep only these class ids, e.g. 15 or 0,2")
    g.add_argument("--hog-width", type=int, default=None, help="HOG: run on frames scaled to this width (pixels)")


def detector_from_args(args: argparse.Namespace) -> Any:
    from .._checks import parse_size
    from ..detect import make_detector

    if isinstance(getattr(args, "classes", None), str):
        from ._options import classes_arg

        args.classes = classes_arg(args.classes)
    if args.detector.lower() == "hog":
        kw: dict[str, Any] = {"resize_width": args.hog_width}
        if args.min_score is not None:
            kw["min_score"] = args.min_score
        return make_detector("hog", **kw)
    kw = {"decode": args.decode}
    if args.min_score is not None:
        kw["min_score"] = args.min_score
    if args.input_size:
        kw["input_size"] = parse_size(args.input_size, "--input-size")
    return make_detector(args.detector, **kw)
