"""`heatcore motion`: motion heatmap of a video (MOG, MOG2 or frame differencing)."""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

import numpy as np

_EPILOG = """\
examples:
  heatcore motion video.mp4 -o heat.png
  heatcore motion video.mp4 -o heat.png --video overlay.mp4 --decay-half-life 2
  heatcore motion cctv.mp4 -o heat.png --scale 0.5 --gray --stride 2 --checkpoint state.npz
  heatcore motion video.mp4 -o heat.png --method diff --reference median:25 --threshold 15
  heatcore motion frames/ -o heat.png --roi mask.png --start 1:00 --stop 2:30

--start/--stop take a frame number (120), seconds (12.5s) or minutes:seconds (1:30).
"""


def _position(text: str) -> tuple[str, float]:
    """'120' -> ('frame', 120); '12.5s' -> ('time', 12.5); '1:30' -> ('time', 90)."""
    t = text.strip()
    if re.fullmatch(r"\d+", t):
        return "frame", int(t)
    m = re.fullmatch(r"(\d+(?:\.\d*)?)s", t)
    if m:
        return "time", float(m.group(1))
    m = re.fullmatch(r"(?:(\d+):)?(\d+):(\d+(?:\.\d*)?)", t)
    if m:
        h = int(m.group(1) or 0)
        return "time", h * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    raise argparse.ArgumentTypeError(f"{text!r} is not a frame number, seconds (12.5s) or m:ss")


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
    p.add_argument("source", help="video file, stream URL, or a folder of images (natural order)")
    p.add_argument("-o", "--output", type=Path, required=True, help="heatmap image to write (.png, .jpg)")
    p.add_argument("--video", type=Path, help="also write an overlay video (.mp4) of the heat building up")
    p.add_argument("--method", choices=("mog", "mog2", "diff"), default="mog",
                   help="mog: Gaussian mixture (cv2.bgsegm MOG); mog2: OpenCV MOG2 (shadows not "
                   "counted); diff: blurred gray difference to a reference (default: mog)")
    p.add_argument("--stride", type=int, default=1, help="process every k-th frame (others are skipped cheaply)")
    p.add_argument("--scale", type=float, default=1.0, help="process at this fraction of the resolution (e.g. 0.5)")
    p.add_argument("--gray", action="store_true", help="run MOG/MOG2 on gray frames (faster)")
    p.add_argument("--roi", type=Path, help="mask image: motion is counted only where it is non-zero")
    p.add_argument("--reference", default="first",
                   help="diff: 'first' frame, 'median:K' (median of the first K frames) or an "
                   "image of the empty scene (default: first)")
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
    p.add_argument("--checkpoint", type=Path,
                   help="save the state here every --checkpoint-every frames; rerun to resume")
    p.add_argument("--checkpoint-every", type=int, default=500, help="frames between checkpoints (default 500)")
    p.add_argument("--decoder", choices=("auto", "opencv", "pyav"), default="auto",
                   help="frame decoder for gray frames (auto: PyAV luma plane when installed)")
    p.add_argument("--keyframes", action="store_true",
                   help="decode only key frames (one per group of pictures; PyAV): fast sampling of very long "
                   "footage")
    p.add_argument("--threads", type=int, default=0, help="kernel threads (0 = all cores)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .. import render
    from ..motion import motion_heatmap

    kw: dict = {}
    for name in ("start", "stop"):
        v = getattr(args, name)
        if v is not None:
            kind, value = v
            kw[name if kind == "frame" else f"{name}_time"] = value
    bg_arg = args.background
    background_img = None
    if bg_arg not in ("first", "median", "none"):
        background_img = render.read_image(bg_arg, order="bgr")
        bg_arg = "first"
    reference = args.reference
    if reference not in ("first",) and not reference.startswith("median"):
        reference = Path(reference)
    acc = motion_heatmap(
        str(args.source), args.method, stride=args.stride, scale=args.scale, gray=True if args.gray else None,
        roi=args.roi, reference=reference if args.method == "diff" else "first", threshold=args.threshold,
        blur=args.blur, background=None if bg_arg == "none" else bg_arg, threads=args.threads,
        checkpoint=args.checkpoint, checkpoint_every=args.checkpoint_every, video=args.video, window=args.window,
        decay_half_life=args.decay_half_life, cmap=args.cmap, alpha=args.alpha, decoder=args.decoder,
        quiet=args.quiet, keyframes=args.keyframes, **kw)
    normalize = not args.counts
    values = acc.result(normalize=normalize)
    if args.npy is not None:
        args.npy.parent.mkdir(parents=True, exist_ok=True)
        np.save(args.npy, acc.result())
    bg = background_img if background_img is not None else acc.background_image(None if bg_arg == "none" else bg_arg)
    if bg_arg == "none" and background_img is None:
        bg = None
    scale = "log" if args.log else "linear"
    rgb_bg = None
    if bg is not None:
        import cv2

        rgb_bg = cv2.cvtColor(bg, cv2.COLOR_BGR2RGB if bg.ndim == 3 else cv2.COLOR_GRAY2RGB)
        if rgb_bg.shape[:2] != (acc.full_size[1], acc.full_size[0]):
            rgb_bg = cv2.resize(rgb_bg, acc.full_size, interpolation=cv2.INTER_AREA)
    label = "fraction of frames in motion" if normalize else "frames in motion"
    if args.method == "diff" and args.threshold is None:
        label = "mean |difference| (gray levels)" if normalize else "summed |difference| (gray levels)"
    if args.colorbar:
        full = render.resize(values.astype(np.float32), acc.full_size)
        render.save_figure(args.output, full, background=rgb_bg, cmap=args.cmap, alpha=args.alpha, vmin=args.vmin,
                           vmax=args.vmax, scale=scale, threshold=args.vmin, label=label, colorbar=True,
                           title=f"{Path(str(args.source)).name}: {acc.frames} frames ({args.method})")
    else:
        img = render.overlay(values.astype(np.float32), rgb_bg, args.cmap, alpha=args.alpha, vmin=args.vmin,
                             vmax=args.vmax, scale=scale, threshold=args.vmin if rgb_bg is not None else None)
        if rgb_bg is None:
            img = render.resize(img, acc.full_size)
        render.save_image(args.output, img)
    if not args.quiet:
        print(f"{acc.frames} frames -> {args.output}" + (f", {args.video}" if args.video else ""))
    return 0


def demo(outdir: Path, quiet: bool = True) -> list[Path]:
    """Synthetic scene with moving blobs -> heatmap PNG (+ colorbar figure) and overlay MP4."""
    from .. import render
    from ..motion import motion_heatmap, write_synthetic_video

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        clip = write_synthetic_video(Path(tmp) / "scene.avi", 320, 240, 150, fps=25.0, seed=7)
        heat_video = outdir / "motion_overlay.mp4"
        acc = motion_heatmap(clip, "mog", video=heat_video, decay_half_life=1.0, quiet=quiet)
    png = render.save_image(outdir / "motion_heatmap.png", acc.render("first", cmap="hot", alpha=0.6))
    npy = outdir / "motion_counts.npy"
    np.save(npy, acc.result())
    fig = render.save_figure(outdir / "motion_heatmap_colorbar.png",
                             render.resize(acc.result(normalize=True).astype(np.float32), acc.full_size),
                             background=acc.background_image("first")[..., ::-1].copy(), cmap="hot", vmin=0.0,
                             threshold=0.0, label="fraction of frames in motion",
                             title="synthetic scene: MOG motion")
    return [png, fig, heat_video, npy]
