"""Many inputs for `heatcore motion|grid|floorplan|detect`: globs (in quotes), folders, list files
(.txt), manifests (.csv/.yaml: camera, path[, start][, homography]); optionally on a Dask cluster
(``--workers N`` / ``--scheduler tcp://host:port``). Outputs go per camera into the ``-o`` folder:

* motion — ``<camera>.png`` + ``<camera>.npz``;
* grid — ``<camera>.npz`` (a GridCounter, window 0) + ``<camera>.png`` (over the camera's first
  frame when a video is at hand);
* floorplan — ``<camera>.png`` over the plan + ``<camera>.npz``, and ``all.png`` / ``all.npz``
  (every camera on the one plan);
* detect — ``<camera>/<file stem>.csv`` (+ ``.meta.json``) per input video.

With ``--slice PERIOD`` the per-camera state is also sliced by wall-clock time and saved as a
``heatcore report`` folder ``<out>/<camera>/`` (``run.json`` + ``sliced.npz``).
``partitions.json`` + ``parts/`` in ``-o`` record finished partitions: rerunning the same command
after a crash skips them.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from pathlib import Path
from typing import Any

__all__ = ["add_arguments", "is_many", "run"]

_LIST_SUFFIXES = (".txt", ".yaml", ".yml")
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


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


def _sources(args: argparse.Namespace, kind: str) -> list[Any]:
    name = "video" if kind == "detect" else "source" if kind == "motion" else "detections"
    v = getattr(args, name)
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
        name = "video" if kind == "detect" else "source" if kind == "motion" else "detections"
        setattr(args, name, sources[0] if sources else None)
    return many


def run(args: argparse.Namespace, kind: str) -> int:
    """Run command ``kind`` over many inputs (see the module docstring)."""
    out = Path(getattr(args, "output" if kind == "motion" else "out") or ("grid-out" if kind == "grid" else ""))
    if not str(out) or out == Path("."):
        raise ValueError("many inputs need -o FOLDER (outputs go per camera into it)")
    if out.suffix.lower() in _IMAGE_SUFFIXES + (".csv", ".npz", ".mp4", ".avi"):
        raise ValueError(f"-o {out}: many inputs write one output per camera; give an output folder (e.g. out/)")
    if out.exists() and not out.is_dir():
        raise ValueError(f"-o {out} is a file; give an output folder")
    if args.workers is not None and args.scheduler is not None:
        raise ValueError("give --workers or --scheduler, not both")
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    if getattr(args, "split_frames", None) is not None and args.split_frames < 1:
        raise ValueError(f"--split-frames must be >= 1 frame, got {args.split_frames}")
    refused = {"motion": ("overlay_video", "checkpoint", "npy", "save_reference", "zones", "report_dir"),
               "grid": ("config", "checkpoint", "video", "zones", "report_dir"),
               "floorplan": ("checkpoint", "state", "zones", "report_dir"),
               "detect": ("checkpoint", "aitrios_csv")}[kind]
    for flag in refused:
        if getattr(args, flag, None) is not None:
            raise ValueError(f"--{flag.replace('_', '-')} is for a single input; many inputs write per-camera "
                             f"outputs into -o {out}")
    fn = {"motion": _motion, "grid": _grid, "floorplan": _floorplan, "detect": _detect}[kind]
    return fn(args, out)


def _segments(args: argparse.Namespace, kind: str) -> list[Any]:
    from ..inputs import DETECTION_SUFFIXES, VIDEO_SUFFIXES, expand_inputs

    suffixes = VIDEO_SUFFIXES if kind in ("motion", "detect") else VIDEO_SUFFIXES + DETECTION_SUFFIXES
    return expand_inputs([str(s) for s in _sources(args, kind)], pattern=args.time_pattern, suffixes=suffixes)


def _safe(camera: str) -> str:
    return re.sub(r"[^\w.-]", "_", camera) or "camera"


def _report_errors(errors: list[tuple[str, str]]) -> None:
    for f, e in errors:
        print(f"skipped {f}: {e}")


def _detector_spec(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """The detector the options describe, as a picklable spec (see ``_detector.detector_from_args``,
    which builds the same detector in one process)."""
    from .._checks import parse_size
    from ..many import detector_spec

    name = args.detector
    hog_opts = args.hog_width is not None or args.person_height is not None
    if name is None:
        name = "hog" if hog_opts else "person"
    args.detector = name
    kind = name.lower()
    if kind == "hog":
        kw: dict[str, Any] = {"resize_width": args.hog_width, "person_height": args.person_height}
    else:
        if hog_opts:
            raise ValueError(f"--hog-width/--person-height apply to --detector hog, not {name!r}")
        kw = {}
        if kind in ("person", "ssd", "default"):
            if args.model_dir is not None:
                kw["model_dir"] = args.model_dir
        else:
            kw = {"decode": args.decode, "engine": args.engine}
        if args.input_size:
            kw["input_size"] = parse_size(args.input_size, "--input-size")
    min_score = getattr(args, "min_score", None)
    if min_score is not None:
        if not 0.0 <= min_score <= 1.0:
            raise ValueError(f"--min-score is a probability in [0, 1], got {min_score}")
        kw["min_score"] = min_score
    return detector_spec(name, **kw)


def _first_frame(path: Path) -> Any:
    """Frame 0 of a video (BGR), or None when it cannot be read."""
    from ..distributed import _is_video_path
    from ..io.video import iter_frames

    if not _is_video_path(str(path)):
        return None
    try:
        for _, img in iter_frames(path, stop=1):
            return img
    except (OSError, ValueError):
        return None
    return None


def _save_report_folder(folder: Path, sliced: Any, *, title: str, camera: str, method: str, files: int,
                        background: Any = None, homography: Path | None = None, slicing: str = "") -> Path:
    """A ``heatcore report`` folder: ``sliced.npz`` + ``run.json`` (+ background, homography)."""
    from .. import render

    folder.mkdir(parents=True, exist_ok=True)
    sliced.save(folder / "sliced.npz")
    run: dict[str, Any] = {"title": title, "camera": camera, "method": method, "heat": "sliced",
                           "meta": {"inputs": f"{files} file(s)", "slicing": slicing, "command": "heatcore (many)"}}
    if background is not None:
        render.save_image(folder / "background.png", background, order="bgr")
        run["background"] = "background.png"
    if homography is not None:
        shutil.copyfile(homography, folder / "homography.json")
        run["homography"] = "homography.json"
    (folder / "run.json").write_text(json.dumps(run, indent=1))
    return folder


# -- motion -------------------------------------------------------------------------------------------

def _motion(args: argparse.Namespace, out: Path) -> int:
    from .. import render
    from ..distributed import run_partitions
    from ..inputs import by_camera
    from ..motion import sample_reference, save_picture

    if args.start is not None or args.stop is not None:
        raise ValueError("--start/--stop are for a single video")
    segs = _segments(args, "motion")
    cams = by_camera(segs)
    params: dict[str, Any] = dict(scale=args.scale, roi=args.roi, blur=args.blur, threshold=args.threshold,
                                  threads=args.threads or 1, background=None if args.background == "none" else
                                  ("median" if args.background == "median" else "first"))
    references: dict[str, Any] = {}
    if args.method == "diff":
        ref = args.reference or "median:25"
        if ref == "first" or ref.startswith("median"):
            k = 1 if ref == "first" else int(ref.split(":", 1)[1]) if ":" in ref else 25
            for cam, cs in cams.items():  # one reference per camera (its first segment) so partitions merge
                references[cam], _ = sample_reference(cs[0].path, k, gray=True, decoder=args.decoder)
        else:
            params["reference"] = Path(ref)
    elif args.gray:
        params["gray"] = True
    out.mkdir(parents=True, exist_ok=True)
    errors: list[tuple[str, str]] = []
    heat = run_partitions(segs, args.method, workers=args.workers, scheduler=args.scheduler,
                          split_frames=args.split_frames, warmup=args.warmup, stride=args.stride,
                          decoder=args.decoder, manifest=out / "partitions.json", on_error=args.on_error,
                          quiet=args.quiet, errors=errors, references=references,
                          cross_warmup=False if args.no_cross_warmup else None, slicing=args.slice, tz=args.tz,
                          **params)
    bg_img = None
    bg = args.background
    if bg not in ("first", "median", "none"):
        bg_img = render.read_image(bg, order="bgr")
    for cam, res in heat.items():
        safe = _safe(cam)
        acc = res.merged() if args.slice is not None else res
        acc.save(out / f"{safe}.npz")
        save_picture(acc, out / f"{safe}.png", background=bg_img if bg_img is not None else
                     (None if bg == "none" else bg), cmap=args.cmap, alpha=args.alpha, vmin=args.vmin,
                     vmax=args.vmax, log=args.log, colorbar=args.colorbar, counts=args.counts,
                     title=f"{cam}: {acc.frames} frames ({args.method})")
        if args.slice is not None:
            _save_report_folder(out / safe, res, title=f"motion heatmap: {cam}", camera=cam,
                                method=f"motion {args.method}", files=len(cams[cam]),
                                background=_first_frame(cams[cam][0].path), slicing=args.slice)
        if not args.quiet:
            print(f"{cam}: {len(cams[cam])} file(s), {acc.frames} frames -> {out / (safe + '.png')}")
    _report_errors(errors)
    return 0


# -- grid ---------------------------------------------------------------------------------------------

def _image_size(args: argparse.Namespace, segs: list[Any]) -> tuple[int, int]:
    from . import _options as opt

    size = opt.size_arg(args.image_size, "--image-size")
    if size is not None:
        return size
    from ..distributed import _is_video_path
    from ..io.detections import read_meta
    from ..io.video import video_info

    for s in segs:
        if _is_video_path(str(s.path)):
            info = video_info(s.path)
            return (info.width, info.height)
        fs = read_meta(s.path).get("frame_size")
        if fs:
            return (int(fs[0]), int(fs[1]))
    raise ValueError(f"--image-size WxH is needed (the pixel space of the boxes of camera {segs[0].camera}): no "
                     "video and no frame_size in a .meta.json")


def _grid(args: argparse.Namespace, out: Path) -> int:
    from .. import render
    from ..distributed import _is_video_path, run_partitions
    from ..grid import GridCounter
    from ..grid_output import render_grid_frame
    from ..inputs import by_camera
    from ..many import CountTask
    from . import _options as opt

    if args.window:
        raise ValueError(f"--window {args.window}: many inputs count totals (window 0); per-frame windows are "
                         "for a single input")
    if args.fps is not None and not 0 < args.fps < float("inf"):
        raise ValueError(f"--fps must be a frame rate > 0, got {args.fps!r}")
    segs = _segments(args, "grid")
    cams = by_camera(segs)
    grid = opt.size_arg(args.grid, "--grid")
    counters = {cam: GridCounter(image_size=_image_size(args, cs), grid=grid, spread=args.spread, window=0,
                                 mode=args.mode, anchor=args.anchor, classes=opt.classes_arg(args.classes),
                                 min_score=args.min_score, geometry=args.geometry or "exact")  # type: ignore[arg-type]
                for cam, cs in cams.items()}
    videos = any(_is_video_path(str(s.path)) for s in segs)
    spec = _detector_spec(args) if videos else None
    first = next(iter(counters.values()))
    task = CountTask(first, per_camera=counters, slicing=args.slice, tz=args.tz, stride=args.stride, detector=spec,
                     fmt=args.format, fps=args.fps, frame_numbers=args.frame_numbers,
                     on_bad_rows="skip" if args.skip_bad_rows else "raise", max_frame_gap=args.max_frame_gap,
                     threads=args.threads or 1)
    out.mkdir(parents=True, exist_ok=True)
    errors: list[tuple[str, str]] = []
    res = run_partitions(segs, task, workers=args.workers, scheduler=args.scheduler, split_frames=args.split_frames,
                         stride=args.stride if videos else 1, manifest=out / "partitions.json",
                         on_error=args.on_error, quiet=args.quiet, errors=errors)
    for cam, acc in res.items():
        safe = _safe(cam)
        total = acc.merged() if args.slice is not None else acc
        total.save(out / f"{safe}.npz")
        frame = _first_frame(cams[cam][0].path)
        g = total.result()
        vmax = float(args.vmax) if args.vmax else float(max(int(g.max()), 1))
        size = total.image_size
        pic = render_grid_frame(g, size=size, image=frame, cmap=args.cmap or "Reds", vmin=args.vmin or 0.0,
                                vmax=vmax, alpha=0.4 if args.alpha is None else args.alpha, colorbar=True,
                                label=None)
        render.save_image(out / f"{safe}.png", pic, order="bgr")
        if args.slice is not None:
            _save_report_folder(out / safe, acc, title=f"grid heatmap: {cam}", camera=cam, method=f"grid {args.mode}",
                                files=len(cams[cam]), background=frame, slicing=args.slice)
        if not args.quiet:
            print(f"{cam}: {len(cams[cam])} file(s), {total.frames} frames, max count {int(g.max())} -> "
                  f"{out / (safe + '.png')}")
    _report_errors(errors)
    return 0


# -- floor plan ---------------------------------------------------------------------------------------

def _manifest_homographies(args: argparse.Namespace) -> dict[str, Path]:
    """camera -> homography file, from the ``homography`` column of manifests among the inputs."""
    from ..inputs import _camera_of, _manifest_rows, is_manifest

    found: dict[str, Path] = {}
    for s in _sources(args, "floorplan"):
        p = Path(str(s))
        if not is_manifest(p):
            continue
        for r in _manifest_rows(p):
            h = r.get("homography")
            if not h:
                continue
            q = Path(str(r["path"]))
            cam = str(r.get("camera") or _camera_of(q if q.is_absolute() else p.parent / q))
            hp = Path(str(h))
            hp = hp if hp.is_absolute() else p.parent / hp
            if cam in found and found[cam].resolve() != hp.resolve():
                raise ValueError(f"{p}: camera {cam!r} has two homographies ({found[cam]}, {hp})")
            found[cam] = hp
    return found


def _seconds_per_obs(args: argparse.Namespace, path: Path) -> float:
    """stride / fps of a camera's first file (as ``heatcore floorplan`` computes it for one input)."""
    if args.seconds_per_obs is not None:
        return float(args.seconds_per_obs)
    from ..distributed import _is_video_path

    if _is_video_path(str(path)):
        from ..io.video import video_info

        rate = args.fps or video_info(path).fps
        step = args.stride or 5
    else:
        from ..io.detections import read_meta
        from ..sources import DetectionFileSource

        src = DetectionFileSource(path, fps=args.fps)
        meta = src.reader.meta if src.reader is not None else read_meta(path)
        rate, step = src.time_base.fps, int(meta.get("stride") or args.stride or 1)
        src.close()
    if not rate:
        raise ValueError(f"the frame rate of {path} is unknown, so dwell seconds cannot be known: give --fps N "
                         "(and --stride N if rows are every N-th frame) or --seconds-per-obs S")
    return step / float(rate)


def _floorplan(args: argparse.Namespace, out: Path) -> int:
    from ..distributed import _is_video_path, run_partitions
    from ..floorplan import FloorplanAccumulator
    from ..homography import Homography
    from ..inputs import by_camera
    from ..many import CountTask
    from ..render import read_image
    from . import _options as opt
    from .floorplan import _stationary

    stationary = _stationary(args.stationary)
    if args.seconds_per_obs is not None and not args.seconds_per_obs > 0:
        raise ValueError(f"--seconds-per-obs must be > 0, got {args.seconds_per_obs}")
    if args.stride is not None and args.stride < 1:
        raise ValueError(f"--stride must be >= 1, got {args.stride}")
    plan = read_image(args.plan) if args.plan is not None else None
    plan_size = opt.size_arg(args.plan_size, "--plan-size")
    if plan is not None:
        plan_size = (plan.shape[1], plan.shape[0])
    if plan_size is None:
        raise ValueError("give --plan image or --plan-size WxH")
    segs = _segments(args, "floorplan")
    from ..floorplan import POINTS_HEADER

    for s in segs:
        if Path(s.path).suffix.lower() == ".csv":
            with open(s.path, encoding="utf-8", errors="replace") as fh:
                if fh.readline().strip().split(",") == POINTS_HEADER:
                    raise ValueError(f"{s.path} holds plan points: plan points CSVs take a single input")
    cams = by_camera(segs)
    hs = _manifest_homographies(args)
    if args.homography is not None and hs:
        raise ValueError("give one --homography for all cameras or a 'homography' column in the manifest, not both")
    missing = [c for c in cams if c not in hs and args.homography is None]
    if missing:
        raise ValueError(f"no homography for camera(s) {', '.join(missing)}: give --homography (one for all "
                         "cameras) or a 'homography' column in the manifest")
    hpath = {cam: hs.get(cam, args.homography) for cam in cams}
    mode = "dwell" if args.dwell else "visitors" if args.visitors else "kde"
    accs = {cam: FloorplanAccumulator(plan_size, Homography.load(hpath[cam]),
                                      seconds_per_obs=_seconds_per_obs(args, cs[0].path), anchor=args.anchor,
                                      cell=args.cell, bandwidth=args.bandwidth, track=bool(args.track),
                                      stationary=stationary)
            for cam, cs in cams.items()}
    videos = any(_is_video_path(str(s.path)) for s in segs)
    spec = _detector_spec(args) if videos else None
    stride = args.stride or 5
    task = CountTask(next(iter(accs.values())), per_camera=accs, slicing=args.slice, tz=args.tz, stride=stride,
                     detector=spec, classes=args.classes, fps=args.fps)
    out.mkdir(parents=True, exist_ok=True)
    errors: list[tuple[str, str]] = []
    res = run_partitions(segs, task, workers=args.workers, scheduler=args.scheduler, split_frames=args.split_frames,
                         stride=stride if videos else 1, manifest=out / "partitions.json", on_error=args.on_error,
                         quiet=args.quiet, errors=errors)
    what = {"dwell": "dwell seconds per cell", "visitors": "unique visitors per cell", "kde": "time spent"}[mode]
    totals = {}
    for cam, acc in res.items():
        safe = _safe(cam)
        total = acc.merged() if args.slice is not None else acc
        totals[cam] = total
        total.save(out / f"{safe}.npz")
        total.render(out / f"{safe}.png", mode, plan, cmap=args.cmap, alpha=args.alpha, vmax=args.vmax,
                     colorbar=args.colorbar, title=f"{cam}: {what}")
        if args.slice is not None:
            _save_report_folder(out / safe, acc, title=f"floor plan: {cam}", camera=cam, method=f"floor plan {mode}",
                                files=len(cams[cam]), homography=hpath[cam], slicing=args.slice)
        if not args.quiet:
            c = total.counts
            print(f"{cam}: {len(cams[cam])} file(s), {c['detections']} detections in {c['frames']} frames, "
                  f"{c['on_plan']} on the plan -> {out / (safe + '.png')}")
    if totals:
        every = merge_plans(list(totals.values()))
        every.save(out / "all.npz")
        every.render(out / "all.png", mode, plan, cmap=args.cmap, alpha=args.alpha, vmax=args.vmax,
                     colorbar=args.colorbar, title=f"all cameras ({len(totals)}): {what}")
    _report_errors(errors)
    return 0


def merge_plans(plans: list[Any]) -> Any:
    """One floor plan of several cameras' :class:`~heatcore.floorplan.FloorplanAccumulator` (each
    with its own homography onto the same plan): the sum, with ``homography=None`` (plan units).
    ValueError when they differ in anything but the homography."""
    from ..floorplan import FloorplanAccumulator

    base = {k: v for k, v in plans[0].config().items() if k != "homography"}
    for p in plans[1:]:
        mine = {k: v for k, v in p.config().items() if k != "homography"}
        if mine != base:
            diff = {k: (base.get(k), mine.get(k)) for k in set(base) | set(mine) if base.get(k) != mine.get(k)}
            raise ValueError(f"the cameras' floor plans differ in more than the homography: {diff}")
    st = dict(plans[0].state())
    cfg = json.loads(str(st["config"]))
    cfg["homography"] = None
    st["config"] = __import__("numpy").array(json.dumps(cfg))
    every = FloorplanAccumulator.from_state(st)
    for p in plans[1:]:
        every._merge(p)
    return every


# -- detect -------------------------------------------------------------------------------------------

def _detect(args: argparse.Namespace, out: Path) -> int:
    from ..distributed import run_partitions
    from ..many import DetectTask

    if args.stride < 1:
        raise ValueError(f"--stride must be >= 1, got {args.stride}")
    if args.max_disappeared < 0:
        raise ValueError(f"--max-disappeared must be >= 0, got {args.max_disappeared}")
    if args.start != 0 or args.stop is not None:
        raise ValueError("--start/--stop are for a single video")
    segs = _segments(args, "detect")
    task = DetectTask(out, detector=_detector_spec(args), stride=args.stride, classes=args.classes,
                      min_score=args.min_score, track=args.track, max_disappeared=args.max_disappeared, fps=args.fps)
    out.mkdir(parents=True, exist_ok=True)
    errors: list[tuple[str, str]] = []
    res = run_partitions(segs, task, workers=args.workers, scheduler=args.scheduler, manifest=out / "partitions.json",
                         on_error=args.on_error, quiet=args.quiet, errors=errors)
    for cam, s in res.items():
        print(f"{cam}: {s.files} file(s), {s.boxes} detections in {s.frames} frames -> {out / _safe(cam)}/")
    _report_errors(errors)
    return 0
