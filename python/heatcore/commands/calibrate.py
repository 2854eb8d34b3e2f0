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
        "reprojection error of every pair and overall (plan units), writes the homography as JSON and a "
        "preview image (the camera frame warped onto the plan, side by side) next to it.",
    )
    p.add_argument("--image", type=Path, required=True, help="a camera frame (PNG/JPEG) for the preview")
    p.add_argument("--src", type=Path, required=True, help="JSON list of image points [x, y] (pixels)")
    p.add_argument("--dst", type=Path, required=True, help="JSON list of the matching plan points [x, y]")
    p.add_argument("-o", "--out", type=Path, required=True, help="output homography JSON (e.g. H.json)")
    p.add_argument("--plan", type=Path, help="plan image for the preview (default: a blank plan around the points)")
    p.add_argument("--ransac", action="store_true", help="robust fit: ignore outlier pairs (RANSAC)")
    p.add_argument("--ransac-threshold", type=float, default=3.0, help="RANSAC inlier threshold, plan units (default 3)")
    p.add_argument("--preview", type=Path, help="preview image path (default: <out stem>_preview.png)")
    p.add_argument("--quiet", action="store_true", help="print less")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ..homography import Homography, load_points
    from ..render import read_image, save_image

    frame = read_image(args.image, order="bgr")
    src = load_points(args.src, "src")
    dst = load_points(args.dst, "dst")
    h = Homography.from_points(src, dst, ransac=args.ransac, ransac_threshold=args.ransac_threshold)
    h.save(args.out)
    print(h.report())
    if args.plan is not None:
        plan = read_image(args.plan, order="bgr")
        prev = h.warp_image(frame, plan)
    else:
        hi = np.ceil(dst.max(axis=0) * 1.1 + 10).astype(int)
        prev = h.warp_image(frame, plan_size=(int(max(hi[0], 32)), int(max(hi[1], 32))))
    pv = args.preview or args.out.with_name(args.out.stem + "_preview.png")
    save_image(pv, prev, order="bgr")
    print(f"wrote {args.out} and {pv}")
    return 0


def demo(outdir: Path, quiet: bool = True) -> list[Path]:
    """The calibration preview is part of the floorplan demo."""
    return []
