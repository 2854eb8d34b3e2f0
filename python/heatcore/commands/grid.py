"""`heatcore grid`: detection grid-count heatmaps (AITRIOS human-heatmap compatible).

Two ways to call it:

* ``heatcore grid --config heat_map_app.yaml [--geometry aitrios]`` — the AITRIOS sample's own
  YAML files (app config + param file), its folder layout (``<output_dir>/detect/*.json`` and
  ``<output_dir>/video/<name>_heatmap.mp4``) and, with ``--geometry aitrios``, its exact numbers.
* ``heatcore grid detections.csv [--video v.mp4] --image-size 1920x1080 --grid 60x36 --spread 1
  --window 600 --mode point -o out/`` — the sample's CSV, a long CSV
  (``frame,left,top,right,bottom[,score,class_id]``) or an ``.npz`` of arrays.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from . import _options as opt

_EPILOG = """examples:
  heatcore grid --config config/heat_map_app.yaml --geometry aitrios
  heatcore grid sample.csv --video sample.mp4 --image-size 1920x1080 --grid 60x36 \\
      --spread 1 --window 600 --mode point -o out/
  heatcore grid boxes_long.csv --image-size 1280x720 --grid 32x18 --mode box --no-video -o out/

outputs: <out>/detect/00000000.json ... (one per frame, the sample's schema), <out>/grids.jsonl
(all frames, one line each), <out>/video/<name>_heatmap.mp4 (overlay video)."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "grid",
        help="detection grid-count heatmaps: per-frame JSON + overlay video (AITRIOS sample compatible)",
        description="Count detections per grid cell over a sliding window of frames and write the "
        "AITRIOS human-heatmap sample's per-frame JSON, one compact file with every frame's grid, and a "
        "heatmap overlay video. Coordinates are image pixels; grids are Nv rows x Nh columns.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("detections", nargs="?", type=Path,
                   help="detections: the sample's CSV, a long CSV frame,left,top,right,bottom[,score,class_id], "
                        "or an .npz with boxes (M,4) and offsets (T+1,) or frame (M,) [scores, class_ids]")
    p.add_argument("--config", type=Path, help="the sample's app YAML (heat_map_app.yaml); replaces the options below")
    p.add_argument("--video", type=Path, help="video (or image folder) paired with the detections by frame index "
                   "(the frame numbers written in the file: detect --stride 5 writes 0, 5, 10, ...)")
    p.add_argument("--image-size", help="pixel space of the boxes, WxH (default: the video's size)")
    p.add_argument("--grid", default="60x36", help="cells across x down, NhxNv (default 60x36)")
    p.add_argument("--spread", type=int, default=1, help="neighbour spread in cells (default 1)")
    p.add_argument("--window", type=int, default=0, help="sliding window in frames, 0 = all frames (default 0)")
    p.add_argument("--mode", choices=["box", "point"], default="box",
                   help="box: count whole boxes; point: one point per box (default box)")
    p.add_argument("--anchor", type=float, default=1.0,
                   help="point mode: point on the box's vertical centre line, 0 = top, 1 = bottom/feet (default 1)")
    p.add_argument("--geometry", choices=["exact", "aitrios"], default=None,
                   help="exact (default): documented algorithm without the sample's bugs; aitrios: the sample's "
                        "numbers bit for bit, quirks included")
    p.add_argument("--classes", help="only these class ids, comma-separated (default: all)")
    p.add_argument("--min-score", type=float, help="only detections with score >= this (default: all)")
    p.add_argument("--format", choices=["auto", "aitrios", "long", "npz"], default="auto",
                   help="detections file format (default: by content)")
    p.add_argument("--skip-bad-rows", action="store_true",
                   help="skip malformed CSV rows (counted and reported) instead of stopping")
    opt.add_output(p, "output folder (default: output_dir of --config, else ./grid-out)")
    p.add_argument("--frame-numbers", choices=["file", "rows"], default="file",
                   help="AITRIOS CSV: frame index from the row's own number (file, default) or 0, 1, ... by row "
                        "order (rows)")
    p.add_argument("--no-video", action="store_true", help="do not write the overlay video")
    p.add_argument("--no-json", action="store_true", help="do not write per-frame JSON files")
    p.add_argument("--compact", default="grids.jsonl",
                   help="file (in the output folder) with every frame's grid: *.jsonl (streamed) or *.npz, "
                        "or 'none' (default grids.jsonl)")
    p.add_argument("--fps", type=float, default=None,
                   help="frames per second of the detections' source (default: the input video's or the file's "
                        ".meta.json); the overlay video plays at fps / stride")
    p.add_argument("--video-size", help="overlay video size WxH (default: the image size)")
    p.add_argument("--cmap", default=None, help="matplotlib colormap name (default Reds)")
    p.add_argument("--vmin", type=float, default=None, help="count mapped to the lowest colour (default 0)")
    p.add_argument("--vmax", type=float, default=None,
                   help="count mapped to the highest colour; 0 = the window length (default 0)")
    p.add_argument("--alpha", type=float, default=None, help="heat opacity over the video frames, 0..1 (default 0.4)")
    p.add_argument("--colorbar", action="store_true", help="add a colour bar strip on the right of the video")
    opt.add_threads(p)
    opt.add_checkpoint(p, 5000)
    opt.add_quiet(p)
    from . import _where_when

    _where_when.add_options(p, "the output folder")  # --slice / --zones (heatcore report)
    p.set_defaults(func=run)



def _report(res: Any, outputs: list[Path], skipped: list, quiet: bool) -> None:
    n, dt = res.records, res.seconds
    rate = (n - res.resumed_at) / dt if dt > 0 else float("inf")
    if res.complete:
        print(f"heatcore grid: the checkpoint says this run finished already ({n} frames); --restart runs it again")
        return
    resumed = f" (resumed at frame {res.resumed_at})" if res.resumed_at else ""
    print(f"heatcore grid: {n} frames{resumed} in {dt:.2f} s ({rate:,.0f} frames/s)")
    for p in outputs:
        print(f"  {p}")
    if skipped:
        print(f"heatcore: warning: skipped {len(skipped)} malformed rows (first: row {skipped[0][0]}, line "
              f"{skipped[0][1]}: {skipped[0][2]})", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    opt.check_alpha(args.alpha)
    if args.checkpoint_every < 1:
        raise ValueError(f"--checkpoint-every must be >= 1 frame, got {args.checkpoint_every}")
    if args.checkpoint is not None:
        opt.check_output(args.checkpoint, (".npz",), "--checkpoint")
        if not args.no_video:
            raise ValueError("--checkpoint resumes counting and JSON; add --no-video (a video cannot be resumed)")
    if args.out is not None:
        opt.check_folder(args.out)
    if args.compact not in (None, "none") and Path(args.compact).suffix.lower() not in (".jsonl", ".npz"):
        raise ValueError(f"--compact must end in .jsonl or .npz (or be 'none'), got {args.compact!r}")
    if args.config is not None:
        return _run_config(args)
    if args.detections is None:
        raise ValueError("give a detections file or --config heat_map_app.yaml")
    return _run_file(args)


def _video_kwargs(args: argparse.Namespace, size: tuple[int, int], window: int, name: str | None,
                  fps: float, geometry: str) -> dict[str, Any]:
    return dict(name=name, fps=fps, size=size, cmap=args.cmap or "Reds",
                vmin=0.0 if args.vmin is None else args.vmin, vmax=0.0 if args.vmax is None else args.vmax,
                window=window, alpha=0.4 if args.alpha is None else args.alpha, overlay=True,
                colorbar=args.colorbar, sticky_opaque=geometry == "aitrios",
                text_color=(0, 225, 0) if geometry == "aitrios" else (0, 255, 0))


def _run_file(args: argparse.Namespace) -> int:
    from ..grid import GridCounter
    from ..io.detections import sniff_format
    from ..jobs import grid_job
    from ..pipeline import run as run_job
    from ..sources import DetectionFileSource

    path: Path = args.detections
    if not path.is_file():
        raise FileNotFoundError(f"no such detections file: {path}")
    geometry = args.geometry or "exact"
    fmt = sniff_format(path) if args.format == "auto" else args.format
    vinfo = None
    if args.video is not None:
        from ..io.video import video_info

        if not args.video.exists():
            raise FileNotFoundError(f"no such video: {args.video}")
        vinfo = video_info(args.video)
    image_size = opt.size_arg(args.image_size, "--image-size")
    if image_size is None:
        if vinfo is None:
            raise ValueError("--image-size WxH is needed (the pixel space of the boxes) when there is no --video")
        image_size = (vinfo.width, vinfo.height)
    counter = GridCounter(image_size=image_size, grid=opt.size_arg(args.grid, "--grid"), spread=args.spread,
                          window=args.window, mode=args.mode, anchor=args.anchor,
                          classes=opt.classes_arg(args.classes), min_score=args.min_score, geometry=geometry)
    fps = args.fps if args.fps is not None else (vinfo.fps if vinfo is not None and vinfo.fps > 0 else None)
    source = DetectionFileSource(path, fmt=fmt, fps=fps, video=args.video,
                                 on_error="skip" if args.skip_bad_rows else "raise",
                                 frame_numbers=args.frame_numbers)
    out = args.out or Path("grid-out")
    video = None
    if not args.no_video:
        vsize = opt.size_arg(args.video_size, "--video-size") or image_size
        src_fps = source.time_base.fps
        if src_fps is None:
            raise ValueError("the overlay video needs the detections' frame rate: give --fps N (or --video, or "
                             "--no-video)")
        stride = int(source.reader.meta.get("stride") or 1) if source.reader is not None else 1
        video = _video_kwargs(args, vsize, counter.window, None if args.video is None else args.video.stem,
                              src_fps / stride, geometry)
    job = grid_job(source, counter, out, per_frame_json=not args.no_json, compact=args.compact, video=video,
                   reverse=geometry == "aitrios" and fmt == "aitrios", checkpoint=args.checkpoint,
                   checkpoint_every=args.checkpoint_every, restart=args.restart, quiet=args.quiet)
    from . import _where_when

    _where_when.attach(args, job.accumulators, lambda: GridCounter(**{**counter.config(), "window": 0}),
                       seconds_per_obs=_where_when.seconds_per_obs(source), input=path)
    res = run_job(job)
    _report(res, res.outputs, source.skipped, args.quiet)
    _where_when.finish(args, res, out, main="grid", title=f"grid heatmap: {path.name}", method=f"grid {args.mode}",
                       inputs=[str(path)] + ([str(args.video)] if args.video else []))
    return 0


def _run_config(args: argparse.Namespace) -> int:
    from ..grid import GridCounter
    from ..io.aitrios_config import load_app_config
    from ..jobs import grid_job
    from ..pipeline import run as run_job
    from ..sources import DetectionFileSource, RecordsSource

    geometry = args.geometry or "exact"
    cfg = load_app_config(args.config, geometry=geometry)
    params, o = cfg.params, cfg.output
    counter = GridCounter(**params.counter_kwargs(geometry))
    source: Any
    skipped: list = []
    if cfg.mode == "local":
        source = DetectionFileSource(cfg.local["meta_file"], fmt="aitrios", fps=args.fps or o.fps,
                                     video=cfg.local["video_file"] or None,
                                     on_error="skip" if args.skip_bad_rows else "raise", frame_numbers="rows")
        image_name = source.reader.image_name if source.reader is not None else None
        reverse = geometry == "aitrios"
    else:
        from ..io.aitrios_config import resolve_path
        from ..io.console import load_console_frames

        settings = dict(cfg.console)
        sp = settings.get("setting_path")
        if isinstance(sp, str) and sp:
            # the sample's rule (current directory), then the config's folder and its parent
            settings["setting_path"] = str(resolve_path(sp, cfg.base_dir).resolve())
        frames, image_name = load_console_frames(settings, base_dir=cfg.base_dir)
        source = RecordsSource(frames, fingerprint={"console": str(args.config)}, batch=8)
        reverse = False
    out = args.out or Path(o.output_dir)
    video = None
    if not args.no_video:
        video = dict(name=image_name, fps=args.fps or o.fps, size=(o.width, o.height),
                     cmap=args.cmap or o.cmap, vmin=o.vmin if args.vmin is None else args.vmin,
                     vmax=o.vmax if args.vmax is None else args.vmax, window=params.last_valid_frame,
                     alpha=o.transparency if args.alpha is None else args.alpha, overlay=o.overlay,
                     colorbar=o.cbar or args.colorbar, sticky_opaque=geometry == "aitrios",
                     text_color=(0, 225, 0) if geometry == "aitrios" else (0, 255, 0))
    job = grid_job(source, counter, Path(out), per_frame_json=not args.no_json, compact=args.compact,
                   video=video, reverse=reverse, checkpoint=args.checkpoint, checkpoint_every=args.checkpoint_every,
                   restart=args.restart, quiet=args.quiet)
    res = run_job(job)
    skipped = getattr(source, "skipped", [])
    _report(res, res.outputs, skipped, args.quiet)
    return 0


def demo(outdir: Path, quiet: bool = True) -> list[Path]:
    """Synthetic people walking: per-frame JSON, grids.jsonl, a short overlay video and a PNG of
    the final grid."""
    import cv2

    from .. import render
    from .._synthetic import demo_background, synthetic_people
    from ..grid import GridCounter
    from ..grid_output import render_grid_frame
    from ..jobs import grid_job
    from ..pipeline import run as run_job

    outdir = Path(outdir)
    size = (1920, 1080)
    frames = synthetic_people(90, size)
    bg = demo_background(size)
    for f in frames:  # draw the people so the overlay has something under it
        img = bg.copy()
        for l, t, r, b in f.xyxy.astype(int):
            cv2.rectangle(img, (l, t), (r, b), (40, 40, 200), -1)
        f.image = cv2.resize(img, (960, 540), interpolation=cv2.INTER_AREA)
    counter = GridCounter(image_size=size, grid=(60, 36), spread=1, window=60, mode="point")
    video = dict(name="demo", fps=15.0, size=(960, 540), cmap="inferno", vmin=0.0, vmax=20.0, window=60,
                 alpha=0.6, overlay=True, colorbar=True, clear_below=0)
    res = run_job(grid_job(frames, counter, outdir, video=video, quiet=quiet))
    final = res["grid"].result()
    png = outdir / "final_grid.png"
    pic = render_grid_frame(final, size=(960, 540), image=frames[-1].image, cmap="inferno", vmin=0, vmax=20,
                            alpha=0.6, number_of_detects=len(frames[-1]), colorbar=True, clear_below=0)
    render.save_image(png, pic, order="bgr")
    files = sorted((outdir / "detect").glob("*.json"))
    return [png, outdir / "video" / "demo_heatmap.mp4", outdir / "grids.jsonl", files[0], files[-1]]
