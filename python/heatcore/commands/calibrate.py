"""`heatcore calibrate`: fit an image → plan homography from point pairs, report, preview."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "calibrate",
        help="fit an image -> floor-plan homography from 4+ point pairs",
        description="Fits the homography mapping camera-image pixels (--src) onto floor-plan coordinates "
        "(--dst) from 4+ pairs of points (JSON: [[x, y], ...] or {\"points\": [[x, y], ...]}), prints the "
        "reprojection error of every pair and overall (plan units), writes the homography as strict JSON and a "
        "preview image (the camera frame warped onto the plan, side by side, each pair's error written "
        "next to it) next to it. Pairs listed in a different order in --src and --dst (a crossed or "
        "non-convex order) are an error naming the pairs; pairs whose error exceeds --max-error are "
        "warned about.",
    )
    p.add_argument("--image", type=Path, required=True, help="a camera frame (PNG/JPEG) for the preview")
    p.add_argument("--src", type=Path, required=True, help="JSON list of image points [x, y] (pixels)")
    p.add_argument("--dst", type=Path, required=True, help="JSON list of the matching plan points [x, y]")
    p.add_argument("-o", "--output", "--out", dest="out", type=Path, required=True,
                   help="output homography JSON (e.g. H.json)")
    p.add_argument("--plan", type=Path, help="plan image for the preview (default: a blank plan around the points)")
    p.add_argument("--ransac", action="store_true", help="robust fit: ignore outlier pairs (RANSAC)")
    p.add_argument("--ransac-threshold", type=float, default=3.0, help="RANSAC inlier threshold, plan units (default 3)")
    p.add_argument("--preview", type=Path, help="preview image path (default: <out stem>_preview.png)")
    p.add_argument("--max-error", type=float, default=None,
                   help="warn about pairs whose reprojection error exceeds this (plan units; default: 1%% of "
                   "the diagonal of the plan points' bounding box)")
    p.add_argument("--quiet", action="store_true", help="print less")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..homography import calibrate
    from . import _options as opt

    opt.check_output(args.out, (".json",))
    h, preview, large, limit = calibrate(args.image, args.src, args.dst, args.out, plan=args.plan,
                                         ransac=args.ransac, ransac_threshold=args.ransac_threshold,
                                         preview=args.preview, max_error=args.max_error)
    print(h.report())
    for i, e in large:
        print(f"heatcore calibrate: warning: pair {i} reprojects {e:.3g} plan units from its plan point "
              f"(more than --max-error {limit:.3g}): a mis-clicked or misordered pair? (--ransac ignores outliers)")
    print(f"wrote {args.out} and {preview}")
    return 0
