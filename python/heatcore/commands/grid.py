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
    p.add_argument("detections", nargs="*", type=Path,
                   help="detections: the sample's CSV, a long CSV frame,left,top,right,bottom[,score,class_id] "
                        "(or `heatcore detect`'s CSV), an .npz with boxes (M,4) and offsets (T+1,) or frame (M,) "
                        "[scores, class_ids]; or a video: people are detected in the same pass; or many: a glob "
                        "in quotes, a folder, a list file (.txt), a manifest (.csv/.yaml)")
    p.add_argument("--stride", type=int, default=5, help="video input: detect every N-th frame (default 5)")
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
    opt.add_render(p, cmap="Reds", alpha=0.4, vmin=" (default 0)", vmax="; 0 = the window length (default 0)",
                   colorbar="add a colour bar beside the video (widening it)")
    p.add_argument("--label", default=None,
                   help="text drawn on every video frame; {n} = number of detects (default 'number of detects : {n}')")
    opt.add_threads(p)
    opt.add_checkpoint(p, 5000)
    opt.add_quiet(p)
    p.add_argument("--max-frame-gap", type=int, default=None,
                   help="largest jump between consecutive frame numbers of a long CSV / .npz (the empty frames "
                        "between are written out; default 1000000, see heatcore.limits)")
    p.add_argument("--print-config", action="store_true",
                   help="print a commented template of the sample's YAML files (every key, type, default) and exit")
    from ._detector import add_detector_arguments

    add_detector_arguments(p, filters=False)
    from . import _where_when

    _where_when.add_options(p, "the output folder")  # --slice / --zones (heatcore report)
    p.set_defaults(func=run)
    from . import _many

    _many.add_arguments(p, "grid")  # many inputs (globs, folders, manifests; Dask): wraps func



def run(args: argparse.Namespace) -> int:
    if args.print_config:
        from ..io.aitrios_config import config_template

        print(config_template(), end="")
        return 0
    if args.checkpoint_every < 1:
        raise ValueError(f"--checkpoint-every must be >= 1 frame, got {args.checkpoint_every}")
    opt.check_output(args.checkpoint, (".npz",), "--checkpoint")
    if args.out is not None:
        opt.check_folder(args.out)
    run_kw = dict(per_frame_json=not args.no_json, compact=args.compact, checkpoint=args.checkpoint,
                  checkpoint_every=args.checkpoint_every, restart=args.restart, quiet=args.quiet)
    look = dict(cmap=args.cmap, vmin=args.vmin, vmax=args.vmax, alpha=args.alpha, label=args.label)
    if args.config is not None:
        from ..jobs import aitrios_config_job

        if args.checkpoint is not None and not args.no_video:
            raise ValueError("--checkpoint resumes counting and JSON; add --no-video (a video cannot be resumed)")
        job, source = aitrios_config_job(args.config, geometry=args.geometry or "exact", out=args.out,
                                         skip_bad_rows=args.skip_bad_rows, video=not args.no_video,
                                         overrides={**look, "fps": args.fps, "colorbar": args.colorbar or None},
                                         **run_kw)
        _finish(args, run_job(job), source)
        return 0
    if args.detections is None:
        raise ValueError("give a detections file or --config heat_map_app.yaml")
    from ..grid import GridCounter
    from ..jobs import grid_file_job, is_video

    path: Path = args.detections
    detector = None
    if is_video(path):
        from ._detector import detector_from_args

        detector = detector_from_args(args)
    job = grid_file_job(path, args.out or Path("grid-out"), video=args.video, image_size=args.image_size,
                        grid=args.grid, spread=args.spread, window=args.window, mode=args.mode, anchor=args.anchor,
                        geometry=args.geometry or "exact", classes=opt.classes_arg(args.classes),
                        min_score=args.min_score, fmt=args.format, skip_bad_rows=args.skip_bad_rows,
                        frame_numbers=args.frame_numbers, max_frame_gap=args.max_frame_gap, fps=args.fps,
                        stride=args.stride, detector=detector, detector_spec=args.detector, overlay=not args.no_video,
                        video_size=args.video_size, colorbar=args.colorbar, threads=args.threads, **look, **run_kw)
    counter = job.accumulators["grid"]
    from . import _where_when

    _where_when.attach(args, job.accumulators, lambda: GridCounter(**{**counter.config(), "window": 0}),
                       seconds_per_obs=job.params["seconds_per_obs"], input=path)
    res = _finish(args, run_job(job), job.source)
    _where_when.finish(args, res, args.out or Path("grid-out"), main="grid", title=f"grid heatmap: {path.name}",
                       method=f"grid {args.mode}", inputs=[str(path)] + ([str(args.video)] if args.video else []))
    return 0


def run_job(job: Any) -> Any:
    from ..pipeline import run

    return run(job)


def _finish(args: argparse.Namespace, res: Any, source: Any) -> Any:
    print(f"heatcore grid: {res.summary('frames')}")
    if not res.complete:
        for p in res.outputs:
            print(f"  {p}")
    skipped = getattr(source, "skipped", [])
    if skipped:
        print(f"heatcore: warning: skipped {len(skipped)} malformed rows (first: row {skipped[0][0]}, line "
              f"{skipped[0][1]}: {skipped[0][2]})", file=sys.stderr)
    return res
