"""`heatcore detect`: run a person detector over a video and write the detections as CSV."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._detector import add_detector_arguments, detector_from_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "detect",
        help="detect people in a video and write frame,time_s,track,left,top,right,bottom,score,class_id CSV",
        description="Streams a video (or image folder) through a detector every --stride frames and writes "
        "the boxes (image pixels) as CSV; optionally tracks them (IoU tracker, track ids) and also writes "
        "the AITRIOS sample CSV format that `heatcore grid` reads. Detector: 'person' (default: an "
        "SSDLite-MobileNetV2 person detector, downloaded once into the user cache), 'hog' (OpenCV's HOG people "
        "detector, no download), model.onnx (SSD- or YOLO-style output), or net.prototxt:net.caffemodel "
        "(Caffe MobileNet-SSD; persons are class 15). Scores are probabilities 0..1.",
    )
    p.add_argument("video", type=Path, help="video file or image folder")
    p.add_argument("-o", "--out", type=Path, required=True, help="output CSV")
    add_detector_arguments(p)
    p.add_argument("--stride", type=int, default=5, help="process every N-th frame (default 5)")
    p.add_argument("--track", action="store_true", help="assign track ids (IoU tracker)")
    p.add_argument("--max-disappeared", type=int, default=5, help="tracker: processed frames a track may miss (default 5)")
    p.add_argument("--aitrios-csv", type=Path, help="also write the AITRIOS CSV format here")
    p.add_argument("--checkpoint-every", type=int, default=100,
                   help="save a resume point (<out>.progress.json) every N processed frames (default 100)")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run from its last resume point (same video and options)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json
    import os

    from ..detect import detect_video
    from ..floorplan import AitriosCSVWriter, DetectionCSVWriter
    from ..io.video import video_info
    from ..track import Tracker

    if args.stride < 1:
        raise ValueError(f"--stride must be >= 1, got {args.stride}")
    if args.checkpoint_every < 1:
        raise ValueError(f"--checkpoint-every must be >= 1, got {args.checkpoint_every}")
    if not args.video.exists():
        raise FileNotFoundError(f"no such video: {args.video}")
    det = detector_from_args(args)
    fps = video_info(args.video).fps or 30.0
    tracker = Tracker(max_disappeared=args.max_disappeared) if args.track else None
    ckpt = args.out.with_name(args.out.name + ".progress.json")
    key = {"video": str(args.video.resolve()), "stride": args.stride, "detector": args.detector,
           "track": bool(args.track), "aitrios_csv": str(args.aitrios_csv) if args.aitrios_csv else None}
    start, rows, resumed = 0, None, False
    if args.resume and ckpt.exists():
        st = json.loads(ckpt.read_text())
        if st.get("key") != key:
            raise ValueError(f"{ckpt} belongs to another run ({st.get('key')}); remove it or drop --resume")
        if st.get("done"):
            print(f"{args.out} is complete already ({ckpt})")
            return 0
        os.truncate(args.out, st["out_bytes"])  # drop rows written after the last checkpoint
        if args.aitrios_csv:
            os.truncate(args.aitrios_csv, st["aitrios_bytes"])
            rows = st["aitrios_rows"]
        if tracker is not None:
            tracker.load_state(st["tracker"])
        start, resumed = st["next_frame"], True
    n_frames = n_boxes = 0
    w = DetectionCSVWriter(args.out, append=resumed)
    w2 = AitriosCSVWriter(args.aitrios_csv, append_rows=rows) if args.aitrios_csv else None

    def checkpoint(next_frame: int, done: bool = False) -> None:
        st = {"key": key, "next_frame": next_frame, "done": done, "out_bytes": w.flush(),
              "aitrios_bytes": w2.flush() if w2 else None, "aitrios_rows": w2.rows if w2 else None,
              "tracker": tracker.state() if tracker else None}
        tmp = ckpt.with_name(ckpt.name + ".tmp")
        tmp.write_text(json.dumps(st))
        os.replace(tmp, ckpt)

    try:
        idx = start - args.stride
        for idx, d in detect_video(args.video, det, stride=args.stride, start=start, classes=args.classes,
                                   min_score=args.min_score, tracker=tracker, quiet=args.quiet):
            w.write(idx, idx / fps, d)
            if w2 is not None:
                w2.write(d)
            n_frames += 1
            n_boxes += len(d)
            if n_frames % args.checkpoint_every == 0:
                checkpoint(idx + args.stride)
        checkpoint(idx + args.stride, done=True)
    finally:
        w.close()
        if w2 is not None:
            w2.close()
    print(f"{n_boxes} detections in {n_frames} frames{' (resumed at frame %d)' % start if resumed else ''} "
          f"-> {args.out}" + (f" and {args.aitrios_csv}" if w2 else ""))
    return 0


def demo(outdir: Path, quiet: bool = True) -> list[Path]:
    """Detection is part of the floorplan demo."""
    return []
