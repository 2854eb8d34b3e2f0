"""`heatcore floorplan`: detections (or a raw video) → homography → heat over a floor plan."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..jobs import is_video as _is_video
from . import _options as opt

def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "floorplan",
        help="map detections (or people detected in a video) through a homography onto a floor plan",
        description="Reads detections (the CSV of `heatcore detect`, an AITRIOS CSV, plan points "
        "frame,time_s,track,x,y,score) or detects people in a video in the same pass, takes an anchor point "
        "of each box (bottom centre = feet by default), maps it through the homography (from `heatcore "
        "calibrate`) onto the plan and draws a KDE heatmap (default), dwell seconds per cell (--dwell) or "
        "unique visitors per cell (--visitors, needs tracks) over the plan image. Dwell is in real seconds: "
        "each observation stands for stride / fps seconds, from the video or the detections' .meta.json "
        "(or --fps); nothing is guessed.",
    )
    p.add_argument("detections", nargs="+", type=Path, help="detections CSV (heatcore detect / AITRIOS), plan "
                   "points CSV, or a video / image folder (people are detected in the same pass); or many: a glob "
                   "in quotes, a folder, a list file (.txt), a manifest (.csv/.yaml, optional column homography)")
    p.add_argument("--homography", type=Path, help="homography JSON (required unless the input holds plan points)")
    p.add_argument("--plan", type=Path, help="plan image (PNG/JPEG); or give --plan-size")
    p.add_argument("--plan-size", help="plan size WxH in plan pixels when there is no plan image")
    opt.add_output(p, "output heatmap image (.png)", required=True)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--dwell", action="store_true", help="seconds spent per cell instead of a KDE")
    mode.add_argument("--visitors", action="store_true", help="unique tracks per cell instead of a KDE (needs tracks)")
    p.add_argument("--bandwidth", type=float, default=15.0, help="KDE Gaussian sigma, plan pixels (default 15)")
    p.add_argument("--cell", type=float, default=25.0, help="grid cell size for --dwell/--visitors, plan pixels (default 25)")
    p.add_argument("--anchor", default="bottom", help="bottom | center | top | fx,fy box fractions (default bottom)")
    opt.add_fps(p, "the detections' source")
    p.add_argument("--stride", type=int, default=None,
                   help="video input: detect every N-th frame (default 5); AITRIOS CSV without .meta.json: the "
                        "frame step between rows (default 1)")
    p.add_argument("--seconds-per-obs", type=float, default=None,
                   help="seconds one detection stands for (default: stride / fps)")
    p.add_argument("--track", action="store_true", help="track boxes that have no track ids (IoU tracker)")
    p.add_argument("--stationary", default=None, metavar="PX,SECONDS",
                   help="suppress tracks that moved less than PX image pixels over SECONDS, e.g. 10,5")
    p.add_argument("--state", type=Path, help="also save the accumulator (.npz) to merge with other runs")
    p.add_argument("--cmap", default="inferno", help="matplotlib colormap (default inferno)")
    p.add_argument("--alpha", type=float, default=0.6, help="heat opacity over the plan, 0..1 (default 0.6)")
    p.add_argument("--vmax", type=float, default=None, help="top of the colour range (default: the maximum)")
    p.add_argument("--no-colorbar", dest="colorbar", action="store_false", help="no colorbar")
    p.add_argument("--colorbar", dest="colorbar", action="store_true", default=True, help="draw a colorbar (default)")
    opt.add_checkpoint(p, 500)
    opt.add_quiet(p)
    from . import _where_when

    _where_when.add_options(p, "<output stem>_report/ beside the image")  # --slice / --zones (heatcore report)
    from ._detector import add_detector_arguments

    add_detector_arguments(p)
    p.set_defaults(func=run)
    from . import _many

    _many.add_arguments(p, "floorplan")  # many inputs (globs, folders, manifests; Dask): wraps func


def _stationary(text: str | None) -> tuple[float, float] | None:
    if not text:
        return None
    try:
        px, sec = (float(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"--stationary must be PX,SECONDS, e.g. 10,5; got {text!r}") from None
    if not (px > 0 and sec > 0):
        raise ValueError(f"--stationary values must be > 0, got {text!r}")
    return px, sec


def run(args: argparse.Namespace) -> int:
    from ..floorplan import FloorplanAccumulator, plan_points_heatmap
    from ..jobs import PLAN_TITLES, floorplan_job
    from ..pipeline import run as run_job

    opt.check_output(args.out, (".png", ".jpg", ".jpeg"))
    opt.check_output(args.state, (".npz",), "--state")
    if not args.detections.exists():
        raise FileNotFoundError(f"no such input: {args.detections}")
    mode = "dwell" if args.dwell else "visitors" if args.visitors else "kde"
    look = dict(mode=mode, bandwidth=args.bandwidth, cell=args.cell, cmap=args.cmap, alpha=args.alpha,
                vmax=args.vmax, colorbar=args.colorbar, plan=args.plan, plan_size=opt.size_arg(args.plan_size,
                                                                                             "--plan-size"))
    stationary = _stationary(args.stationary)
    n = plan_points_heatmap(args.detections, args.out, homography=args.homography, track=args.track,
                            stationary=stationary, seconds_per_obs=args.seconds_per_obs, **look)
    if n is not None:  # the input held plan points
        print(f"{n} plan points -> {args.out}")
        return 0
    detector = None
    if _is_video(args.detections):
        from ._detector import detector_from_args

        detector = detector_from_args(args)
    job = floorplan_job(args.detections, args.homography, args.out, anchor=args.anchor, fps=args.fps,
                        stride=args.stride, seconds_per_obs=args.seconds_per_obs, track=bool(args.track),
                        stationary=stationary, detector=detector, classes=getattr(args, "classes", None),
                        detector_spec=args.detector, state=args.state, checkpoint=args.checkpoint,
                        checkpoint_every=args.checkpoint_every, restart=args.restart, quiet=args.quiet, **look)
    from . import _where_when

    acc, dt = job.accumulators["plan"], job.params["seconds_per_obs"]
    _where_when.attach(args, job.accumulators, lambda: FloorplanAccumulator.from_state(acc.state()),
                       homography=getattr(acc, "homography", None), seconds_per_obs=dt, input=args.detections)
    res = run_job(job)
    _where_when.finish(args, res, args.out.with_name(args.out.stem + "_report"), main="plan",
                       title=f"floor plan: {args.detections.name}", method=f"floor plan {mode}",
                       inputs=[str(args.detections)], background=args.plan, homography=args.homography)
    c = res["plan"].counts  # type: ignore[attr-defined]
    print(f"{c['detections']} detections in {c['frames']} frames: {c['on_plan']} on the plan, {c['off_plan']} outside "
          f"it, {c['behind']} behind the horizon, {c['stationary']} suppressed as stationary "
          f"({dt:.3g} s each) -> {args.out}")
    return 0
