"""`heatcore detect`: people (objects) in a video → detections CSV, and optionally grid counts."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from . import _options as opt
from ._detector import add_detector_arguments, detector_from_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "detect",
        help="detect people in a video and write frame,time_s,track,left,top,right,bottom,score,class_id CSV",
        description="Streams a video (or image folder) through a detector every --stride frames and writes "
        "the boxes (image pixels) with their frame index and time as CSV (plus a .meta.json with the video's "
        "fps and the stride, so `heatcore grid` and `heatcore floorplan` know the time of every frame); "
        "optionally tracks them (IoU tracker) and also writes the AITRIOS sample CSV format that `heatcore "
        "grid` reads (rows carry their frame index).",
    )
    p.add_argument("video", nargs="+", type=Path, help="video file or image folder; or many: a glob in quotes, a "
                   "folder of videos, a list file (.txt), a manifest (.csv/.yaml); -o is then a folder")
    opt.add_output(p, "output CSV", required=True)
    add_detector_arguments(p)
    p.add_argument("--stride", type=int, default=5, help="process every N-th frame (default 5)")
    p.add_argument("--start", type=int, default=0, help="first frame index (default 0)")
    p.add_argument("--stop", type=int, default=None, help="stop before this frame index")
    opt.add_fps(p, "the video")
    p.add_argument("--track", action="store_true", help="assign track ids (IoU tracker)")
    p.add_argument("--max-disappeared", type=int, default=5, help="tracker: processed frames a track may miss (default 5)")
    p.add_argument("--aitrios-csv", type=Path, help="also write the AITRIOS CSV format here")
    opt.add_checkpoint(p, 100)
    opt.add_quiet(p)
    p.set_defaults(func=run)
    from . import _many

    _many.add_arguments(p, "detect")  # many inputs (globs, folders, manifests; Dask): wraps func


def run(args: argparse.Namespace) -> int:
    from ..jobs import detect_job
    from ..pipeline import run as run_job
    from ..sinks import CountSink

    if args.stride < 1:
        raise ValueError(f"--stride must be >= 1, got {args.stride}")
    if args.max_disappeared < 0:
        raise ValueError(f"--max-disappeared must be >= 0, got {args.max_disappeared}")
    opt.check_output(args.out, (".csv",))
    opt.check_output(args.aitrios_csv, (".csv",), "--aitrios-csv")
    opt.check_output(args.checkpoint, (".npz",), "--checkpoint")
    if not args.video.exists():
        raise FileNotFoundError(f"no such video: {args.video}")
    det = detector_from_args(args)
    track: Any = False
    if args.track:
        from ..track import Tracker

        track = Tracker(max_disappeared=args.max_disappeared)
    job = detect_job(args.video, det, stride=args.stride, start=args.start, stop=args.stop, classes=args.classes,
                     min_score=args.min_score, track=track, detections_csv=args.out, aitrios_csv=args.aitrios_csv,
                     fps=args.fps, checkpoint=args.checkpoint, checkpoint_every=args.checkpoint_every,
                     restart=args.restart, quiet=args.quiet, detector_spec=args.detector)
    count = CountSink()
    job.sinks.append(count)
    res = run_job(job)
    resumed = f" (resumed at record {res.resumed_at})" if res.resumed_at else ""
    print(f"{count.boxes} detections in {res.records} frames{resumed} -> " + ", ".join(str(p) for p in res.outputs))
    return 0
