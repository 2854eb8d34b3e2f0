"""`heatcore motion`: motion heatmap of a video (MOG, MOG2 or frame differencing)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from . import _options as opt

_EPILOG = """\
examples:
  heatcore motion video.mp4 -o heat.png
  heatcore motion video.mp4 -o heat.png --overlay-video overlay.mp4 --decay-half-life 2
  heatcore motion cctv.mp4 -o heat.png --scale 0.5 --gray --stride 2 --checkpoint state.npz
  heatcore motion video.mp4 -o heat.png --method diff --threshold 15 --save-reference empty.png
  heatcore motion video.mp4 -o heat.png --method diff --reference empty.png
  heatcore motion frames/ -o heat.png --roi mask.png --start 1:00 --stop 2:30
  heatcore motion 'cams/*/*.mp4' --method diff --workers 2 -o out/      (per camera: out/<camera>.png, .npz)
  heatcore motion cams/ --scheduler tcp://10.0.0.5:8786 -o out/         (a folder of videos, on a Dask cluster)
  heatcore motion manifest.csv -o out/                                  (columns camera,path[,start])

--start/--stop take a frame number (120), seconds (12.5s) or minutes:seconds (1:30).
"""


def _position(text: str) -> tuple[str, float]:
    """--start/--stop: heatcore.motion.parse_position, its error as argparse's one line."""
    from ..motion import parse_position

    try:
        return parse_position(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "motion",
        help="motion heatmap of a video (MOG / MOG2 / frame difference)",
        description="Streams a video (file, URL, image folder) through a motion model and writes "
        "a heatmap PNG over the scene: where, and how often, things moved. MOG is OpenCV's "
        "bgsegm MOG model (same masks), fused in C++ with the counting.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("source", nargs="+", help="video file, stream URL, or a folder of images (natural order); or "
                   "many: a glob in quotes, a folder of videos, a list file (.txt), a manifest (.csv/.yaml)")
    p.add_argument("-o", "--output", "--out", dest="output", type=Path, required=True,
                   help="heatmap image to write (.png, .jpg)")
    p.add_argument("--overlay-video", type=Path, help="also write an overlay video (.mp4) of the heat building up")
    p.add_argument("--method", choices=("mog", "mog2", "diff"), default="mog",
                   help="mog: Gaussian mixture (cv2.bgsegm MOG); mog2: OpenCV MOG2 (shadows not "
                   "counted); diff: blurred gray difference to a reference (default: mog)")
    p.add_argument("--stride", type=int, default=1, help="process every k-th frame (others are skipped cheaply)")
    p.add_argument("--scale", type=float, default=1.0, help="process at this fraction of the resolution (e.g. 0.5)")
    p.add_argument("--gray", action="store_true", help="run MOG/MOG2 on gray frames (faster)")
    p.add_argument("--roi", type=Path, help="mask image: motion is counted only where it is non-zero")
    p.add_argument("--reference", default=None,
                   help="diff: 'median:K' = per-pixel median of K frames spread evenly over the video (or "
                   "the --start/--stop range), 'first' frame, or an image of the empty scene (default: median:25)")
    p.add_argument("--save-reference", type=Path,
                   help="diff: write the reference image here (e.g. reference.png) to reuse with --reference")
    p.add_argument("--threshold", type=int, help="diff: count frames whose blurred difference exceeds this gray level")
    p.add_argument("--blur", type=int, default=11, help="diff: odd box-blur size in pixels (default 11)")
    p.add_argument("--start", type=_position, help="first frame: frame number, 12.5s or m:ss")
    p.add_argument("--stop", type=_position, help="stop before this frame: frame number, 12.5s or m:ss")
    p.add_argument("--background", default="first",
                   help="picture under the heat: 'first' frame, 'median' of frames spread over the "
                   "video, 'none', or an image path (default: first)")
    p.add_argument("--cmap", default="hot", help="matplotlib colormap (default: hot)")
    p.add_argument("--alpha", type=float, default=0.6, help="opacity of the heat over the background (0..1)")
    p.add_argument("--vmin", type=float, default=0.0, help="value mapped to the bottom of the colormap (default 0)")
    p.add_argument("--vmax", type=float, help="value mapped to the top of the colormap (default: the maximum)")
    p.add_argument("--log", action="store_true", help="logarithmic colour scale")
    p.add_argument("--colorbar", action="store_true", help="draw a colorbar (fraction of frames in motion)")
    p.add_argument("--counts", action="store_true",
                   help="colour raw counts instead of the fraction of frames in motion")
    p.add_argument("--npy", type=Path, help="also save the raw heatmap array (.npy, processing resolution)")
    p.add_argument("--window", type=float, help="overlay video: heat of the last N seconds only")
    p.add_argument("--decay-half-life", type=float, help="overlay video: heat fades with this half-life (seconds)")
    opt.add_checkpoint(p, 500)
    p.add_argument("--decoder", choices=("auto", "opencv", "pyav"), default="auto",
                   help="frame decoder for gray frames (auto: PyAV luma plane when installed)")
    p.add_argument("--keyframes", action="store_true",
                   help="decode only key frames (one per group of pictures; PyAV): fast sampling of very long "
                   "footage")
    opt.add_threads(p)
    opt.add_quiet(p)
    g = p.add_argument_group("where and when (for heatcore report)")
    g.add_argument("--slice", default=None, metavar="PERIOD",
                   help="also count per time slice: a period (15min, 1h, 1d, ...), hour (of day), weekday or "
                        "weekhour; wall-clock time from a time stamp in the file name or the container's "
                        "creation_time, else seconds from the start")
    g.add_argument("--zones", type=Path, default=None,
                   help="zones file (JSON/YAML, image pixels): also count motion per zone (fraction of frames "
                        "with motion in the zone, seconds and pixel-seconds of motion)")
    g.add_argument("--zone-min-fraction", type=float, default=0.01,
                   help="a frame has motion in a zone when at least this fraction of its pixels moved (default 0.01)")
    g.add_argument("--tz", default=None, help="local time offset for --slice, hours or +HH:MM (default UTC)")
    g.add_argument("--report-dir", type=Path, default=None,
                   help="where the sliced/zone states and run.json go (default: <output stem>_report/ beside "
                        "the image)")
    p.set_defaults(func=run)
    from . import _many

    _many.add_arguments(p, "motion")  # many inputs (globs, folders, manifests; Dask): wraps func


def run(args: argparse.Namespace) -> int:
    from ..motion import (describe_reference, motion_heatmap, range_kwargs, save_picture, save_run,
                          split_background)

    args.source = args.source[0] if isinstance(args.source, list) else args.source
    opt.check_output(args.output, opt.IMAGE_SUFFIXES)
    opt.check_output(args.overlay_video, opt.VIDEO_SUFFIXES, "--overlay-video")
    opt.check_output(args.npy, (".npy",), "--npy")
    opt.check_output(args.checkpoint, (".npz",), "--checkpoint")
    where_when = args.slice is not None or args.zones is not None
    report_dir = args.report_dir or args.output.with_name(args.output.stem + "_report")
    if where_when:
        opt.check_folder(report_dir, "--report-dir")
    if args.checkpoint is not None and args.overlay_video is not None:
        raise ValueError("--checkpoint cannot resume an overlay video exactly: drop --overlay-video or --checkpoint")
    keep, picture = split_background(args.background)
    if args.method != "diff" and (args.reference is not None or args.save_reference is not None):
        raise ValueError("--reference and --save-reference are for --method diff")
    acc = motion_heatmap(
        str(args.source), args.method, stride=args.stride, scale=args.scale, gray=True if args.gray else None,
        roi=args.roi, reference=args.reference if args.method == "diff" else "first", threshold=args.threshold,
        save_reference=args.save_reference, blur=args.blur, background=keep, threads=args.threads,
        checkpoint=args.checkpoint, checkpoint_every=args.checkpoint_every, restart=args.restart,
        video=args.overlay_video, window=args.window, decay_half_life=args.decay_half_life, cmap=args.cmap,
        alpha=args.alpha, decoder=args.decoder, quiet=args.quiet, keyframes=args.keyframes,
        slice=args.slice, tz=args.tz, zones=args.zones, zone_min_fraction=args.zone_min_fraction,
        **range_kwargs(args.start, args.stop))
    if args.npy is not None:
        args.npy.parent.mkdir(parents=True, exist_ok=True)
        np.save(args.npy, acc.result())
    save_picture(acc, args.output, background=picture if picture is not None else keep, cmap=args.cmap,
                 alpha=args.alpha, vmin=args.vmin, vmax=args.vmax, log=args.log, colorbar=args.colorbar,
                 counts=args.counts, title=f"{Path(str(args.source)).name}: {acc.frames} frames ({args.method})",
                 zones=acc.zones)
    folder = None
    if where_when:
        folder = save_run(acc, report_dir, source=str(args.source), zones=args.zones,
                          command=f"heatcore {args.command}")
    if not args.quiet:
        if args.method == "diff":
            print(f"reference: {describe_reference(acc, args.reference, args.save_reference)}")
        print(f"{acc.frames} frames -> {args.output}" + (f", {args.overlay_video}" if args.overlay_video else ""))
        if acc.zones is not None:
            v = acc.zone_values()
            for i, name in enumerate(acc.zones.names):
                secs = "" if np.isnan(v["motion_s"][i]) else f" ({v['motion_s'][i]:.1f} s)"
                print(f"  zone {name}: motion in {100 * v['motion_frames'][i]:.1f} % of the frames{secs}")
    if folder is not None:
        print(f"  states and run.json for `heatcore report {folder}` are in {folder}")
    return 0
