"""Many inputs for `heatcore motion|grid|floorplan|detect`: globs (in quotes), folders, list files
(.txt), manifests (.csv/.yaml: camera, path[, start][, homography]); optionally on a Dask cluster
(``--workers N`` / ``--scheduler tcp://host:port``). Outputs go per camera into the ``-o`` folder;
the work is one call of :mod:`heatcore.cameras` (``motion_cameras``, ``grid_cameras``,
``floorplan_cameras``, ``detect_cameras``), which documents the outputs.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

__all__ = ["add_arguments", "is_many", "run"]

_LIST_SUFFIXES = (".txt", ".yaml", ".yml")


class _Dispatch:
    """The command's ``func``: many inputs go to :func:`run`, one input to the command's own ``run``."""

    def __init__(self, kind: str, single: Any) -> None:
        self.kind, self.single = kind, single

    def __call__(self, args: argparse.Namespace) -> int:
        if is_many(args, self.kind):
            return run(args, self.kind)
        return int(self.single(args))


def add_arguments(p: argparse.ArgumentParser, kind: str) -> None:
    """The many-inputs options of command ``kind`` (motion, grid, floorplan, detect); call it after
    ``p.set_defaults(func=run)``: ``func`` then sends many inputs here (:func:`run`) and hands one
    input back to the command's ``run`` unchanged."""
    single = p.get_default("func")
    if single is not None:
        p.set_defaults(func=_Dispatch(kind, single))
    g = p.add_argument_group("many files / cameras (a glob in quotes, a folder, a list file .txt, a manifest "
                             ".csv/.yaml with columns camera,path[,start]); -o is then an output folder")
    g.add_argument("--workers", type=int, help="run on a Dask LocalCluster of N processes on this machine "
                   "(127.0.0.1, one thread each)")
    g.add_argument("--scheduler", help="run on an existing Dask cluster (tcp://host:8786)")
    if kind != "detect":
        g.add_argument("--split-frames", type=int, help="split videos longer than this into frame-range partitions")
    g.add_argument("--on-error", choices=("fail", "skip"), default="fail",
                   help="a corrupt or unreadable file fails the job (default) or is skipped and reported")
    g.add_argument("--time-pattern", help="regular expression for a segment's start time in its path, with a "
                   "named group 'unix' or groups y mo d h mi s (default: Kerberos prefix, ISO-like dates)")
    if kind == "motion":
        g.add_argument("--warmup", type=int, help="MOG/MOG2: frames before a partition's start that teach the "
                       "model uncounted (default: the model's history)")
        g.add_argument("--no-cross-warmup", action="store_true",
                       help="MOG/MOG2: do not warm a file's first partition up on the end of the camera's previous "
                       "file (default: do so when their start times show the footage is contiguous)")
        if "--slice" not in p._option_string_actions:  # the single-video --slice may exist already
            g.add_argument("--slice", default=None, metavar="PERIOD",
                           help="also save per camera a heatmap per wall-clock time slice (15min, 1h, 1d, hour, "
                           "weekday, weekhour) as a `heatcore report` folder <out>/<camera>/")
        if "--tz" not in p._option_string_actions:
            g.add_argument("--tz", default=None, help="local time offset for --slice, hours or +HH:MM (default UTC)")


_INPUT = {"motion": "source", "grid": "detections", "floorplan": "detections", "detect": "video"}  # dest


def _sources(args: argparse.Namespace, kind: str) -> list[Any]:
    v = getattr(args, _INPUT[kind])
    if v is None:
        return []
    return list(v) if isinstance(v, list) else [v]


def is_many(args: argparse.Namespace, kind: str = "motion") -> bool:
    """Whether the command runs the many-inputs path (the single-input behaviour is unchanged).
    The single-input path gets its one input back as a plain value (not a list)."""
    from ..inputs import DETECTION_SUFFIXES, VIDEO_SUFFIXES, is_manifest

    sources = _sources(args, kind)
    many = getattr(args, "workers", None) is not None or getattr(args, "scheduler", None) is not None \
        or len(sources) > 1
    if not many and sources:
        text = str(sources[0])
        p = Path(text)
        suffixes = VIDEO_SUFFIXES if kind in ("motion", "detect") else VIDEO_SUFFIXES + DETECTION_SUFFIXES
        if re.search(r"[*?\[]", text) and not p.exists():
            many = True
        elif p.is_file() and (p.suffix.lower() in _LIST_SUFFIXES or is_manifest(p)):
            many = True
        elif p.is_dir():
            many = any(f.suffix.lower() in suffixes for f in p.rglob("*") if f.is_file())
    if not many:  # hand the single input back to the command's own code
        setattr(args, _INPUT[kind], sources[0] if sources else None)
    return many


def run(args: argparse.Namespace, kind: str) -> int:
    """Run command ``kind`` over many inputs: one call of :mod:`heatcore.cameras`, then the summary."""
    from .. import cameras
    from ._detector import detector_spec_from_args as _detector  # picklable (name, kwargs) for the workers

    out = getattr(args, "output" if kind == "motion" else "out") or ("grid-out" if kind == "grid" else None)
    refused = {"motion": ("overlay_video", "checkpoint", "npy", "save_reference", "zones", "report_dir"),
               "grid": ("config", "checkpoint", "video", "zones", "report_dir"),
               "floorplan": ("checkpoint", "state", "zones", "report_dir"),
               "detect": ("checkpoint", "aitrios_csv")}[kind]
    for flag in refused:
        if getattr(args, flag, None) is not None:
            raise ValueError(f"--{flag.replace('_', '-')} is for a single input; many inputs write per-camera "
                             f"outputs into -o {out}")
    if kind in ("motion", "detect") and (args.start not in (None, 0) or args.stop is not None):
        raise ValueError("--start/--stop are for a single video")
    common = dict(workers=args.workers, scheduler=args.scheduler, on_error=args.on_error,
                  time_pattern=args.time_pattern, quiet=args.quiet)
    if kind != "detect":
        common.update(split_frames=args.split_frames, slicing=args.slice, tz=args.tz)
    inputs = [str(s) for s in _sources(args, kind)]
    if kind == "motion":
        res = cameras.motion_cameras(
            inputs, out, args.method, stride=args.stride, scale=args.scale, gray=args.gray, roi=args.roi,
            reference=args.reference, threshold=args.threshold, blur=args.blur, background=args.background,
            decoder=args.decoder, threads=args.threads, warmup=args.warmup,
            cross_warmup=False if args.no_cross_warmup else None, cmap=args.cmap, alpha=args.alpha, vmin=args.vmin,
            vmax=args.vmax, log=args.log, colorbar=args.colorbar, counts=args.counts, **common)
        lines = [f"{c.total.frames} frames -> {c.picture}" for c in res.cameras.values()]
    elif kind == "grid":
        from . import _options as opt

        res = cameras.grid_cameras(
            inputs, out, image_size=args.image_size, grid=args.grid, spread=args.spread, mode=args.mode,
            anchor=args.anchor, classes=opt.classes_arg(args.classes), min_score=args.min_score,
            geometry=args.geometry, window=args.window, stride=args.stride, detector=_detector(args),
            fmt=args.format, fps=args.fps, frame_numbers=args.frame_numbers,
            on_bad_rows="skip" if args.skip_bad_rows else "raise", max_frame_gap=args.max_frame_gap,
            threads=args.threads, cmap=args.cmap, alpha=args.alpha, vmin=args.vmin, vmax=args.vmax, **common)
        lines = [f"{c.total.frames} frames, max count {int(c.total.result().max())} -> {c.picture}"
                 for c in res.cameras.values()]
    elif kind == "floorplan":
        from .floorplan import _stationary

        stationary = _stationary(args.stationary)
        res = cameras.floorplan_cameras(
            inputs, out, plan=args.plan, plan_size=args.plan_size, homography=args.homography,
            mode="dwell" if args.dwell else "visitors" if args.visitors else "kde", anchor=args.anchor,
            cell=args.cell, bandwidth=args.bandwidth, track=args.track, stationary=stationary,
            seconds_per_obs=args.seconds_per_obs, fps=args.fps, stride=args.stride, detector=_detector(args),
            classes=args.classes, cmap=args.cmap, alpha=args.alpha, vmax=args.vmax, colorbar=args.colorbar,
            **common)
        lines = [f"{c.total.counts['detections']} detections in {c.total.counts['frames']} frames, "
                 f"{c.total.counts['on_plan']} on the plan -> {c.picture}" for c in res.cameras.values()]
    else:
        res = cameras.detect_cameras(
            inputs, out, detector=_detector(args), stride=args.stride, classes=args.classes,
            min_score=args.min_score, track=args.track, max_disappeared=args.max_disappeared, fps=args.fps,
            **common)
        lines = [f"{c.result.boxes} detections in {c.result.frames} frames -> {c.folder}/"
                 for c in res.cameras.values()]
    if not args.quiet:
        for (cam, c), line in zip(res.cameras.items(), lines):
            print(f"{cam}: {c.files} file(s), {line}")
    for f, e in res.errors:
        print(f"skipped {f}: {e}")
    return 0
