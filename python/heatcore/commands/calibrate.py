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
    import numpy as np

    from ..homography import Homography, load_points
    from ..render import read_image, save_image

    from . import _options as opt

    opt.check_output(args.out, (".json",))
    frame = read_image(args.image, order="bgr")
    src = load_points(args.src, "src")
    dst = load_points(args.dst, "dst")
    if args.max_error is not None and not (np.isfinite(args.max_error) and args.max_error > 0):
        raise ValueError(f"--max-error must be > 0 (plan units), got {args.max_error!r}")
    h = Homography.from_points(src, dst, ransac=args.ransac, ransac_threshold=args.ransac_threshold)
    h.save(args.out)
    print(h.report())
    limit = h.default_max_error() if args.max_error is None else args.max_error
    for i, e in h.large_errors(limit):
        print(f"heatcore calibrate: warning: pair {i} reprojects {e:.3g} plan units from its plan point "
              f"(more than --max-error {limit:.3g}): a mis-clicked or misordered pair? (--ransac ignores outliers)")
    if args.plan is not None:
        plan = read_image(args.plan, order="bgr")
        prev = h.warp_image(frame, plan, max_error=limit)
    else:
        hi = np.ceil(dst.max(axis=0) * 1.1 + 10).astype(int)
        prev = h.warp_image(frame, plan_size=(int(max(hi[0], 32)), int(max(hi[1], 32))), max_error=limit)
    pv = args.preview or args.out.with_name(args.out.stem + "_preview.png")
    save_image(pv, prev, order="bgr")
    print(f"wrote {args.out} and {pv}")
    return 0


def demo(outdir: Path, quiet: bool = True) -> list[Path]:
    """The calibration preview is part of the floorplan demo."""
    return []
