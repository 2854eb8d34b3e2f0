"""Motion heatmaps, grid counts, floor plans and detections per camera over many inputs.

Inputs are globs, folders, list files (``.txt``), manifests (``.csv``/``.yaml``: camera, path[,
start][, homography]) or lists of them (:func:`heatcore.inputs.expand_inputs`); the work runs
here or on Dask (``workers=N`` / ``scheduler="tcp://host:8786"``, see
:func:`heatcore.distributed.run_partitions`). Outputs go per camera into the folder ``out``:

* :func:`motion_cameras` — ``<camera>.png`` + ``<camera>.npz`` (a MotionHeatmap);
* :func:`grid_cameras` — ``<camera>.npz`` (a GridCounter, window 0) + ``<camera>.png`` (over
  the camera's first frame when a video is at hand);
* :func:`floorplan_cameras` — ``<camera>.png`` over the plan + ``<camera>.npz``, and
  ``all.png`` / ``all.npz`` (every camera on the one plan, :func:`merge_plans`);
* :func:`detect_cameras` — ``<camera>/<file stem>.csv`` (+ ``.meta.json``) per input video.

With ``slicing`` (``"1h"``, ``"hour"``, ...) the per-camera state is also sliced by wall-clock
time and saved as a ``heatcore report`` folder ``<out>/<camera>/`` (``run.json`` +
``sliced.npz``). ``partitions.json`` + ``parts/`` in ``out`` record finished partitions:
rerunning the same call after a crash skips them. Nothing is printed; each function returns a
:class:`CamerasResult`.

    from heatcore.cameras import grid_cameras

    res = grid_cameras("dets/*/*.csv", "out/", image_size=(1920, 1080), grid=(60, 36), workers=2)
    res.cameras["cam1"].total.result()          # the camera's grid; res.paths(): files written
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Literal, Sequence

__all__ = ["CameraResult", "CamerasResult", "motion_cameras", "grid_cameras", "floorplan_cameras",
           "detect_cameras", "merge_plans", "safe_name"]

_OUTPUT_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".csv", ".npz", ".mp4", ".avi")


@dataclass
class CameraResult:
    """One camera's result: ``result`` (the accumulator, a
    :class:`~heatcore.slices.SlicedAccumulator` of them with slicing, or a
    :class:`~heatcore.many.DetectSummary`), ``total`` (slices merged; ``result`` otherwise),
    ``files`` (input files of the camera) and the paths written: ``picture`` (PNG), ``state``
    (``.npz``), ``folder`` (the report folder with slicing; detect: the CSV folder)."""

    result: Any
    total: Any
    files: int
    picture: Path | None = None
    state: Path | None = None
    folder: Path | None = None

    def paths(self) -> list[Path]:
        return [p for p in (self.state, self.picture, self.folder) if p is not None]


@dataclass
class CamerasResult:
    """``cameras``: camera -> :class:`CameraResult`; ``errors``: ``(file, error)`` of files skipped
    with ``on_error="skip"``; floor plans: ``combined`` (every camera on the one plan) and its
    ``combined_paths`` (``all.npz``, ``all.png``)."""

    cameras: dict[str, CameraResult]
    errors: list[tuple[str, str]] = field(default_factory=list)
    combined: Any = None
    combined_paths: list[Path] = field(default_factory=list)

    @property
    def results(self) -> dict[str, Any]:
        """camera -> accumulator (or summary)."""
        return {cam: c.result for cam, c in self.cameras.items()}

    def paths(self) -> list[Path]:
        """Every file and folder written."""
        return [p for c in self.cameras.values() for p in c.paths()] + list(self.combined_paths)


def safe_name(camera: str) -> str:
    """``camera`` as a file name (characters other than letters, digits, ``_.-`` become ``_``)."""
    return re.sub(r"[^\w.-]", "_", camera) or "camera"


# -- shared -------------------------------------------------------------------------------------------

def _prepare(inputs: Any, out: Any, suffixes: Sequence[str], *, workers: int | None, scheduler: str | None,
             split_frames: int | None, time_pattern: str | None) -> tuple[Path, list[Any]]:
    """The output folder (checked) and the input segments."""
    from .inputs import expand_inputs

    if out is None or Path(out) == Path("."):
        raise ValueError("many inputs need -o FOLDER (outputs go per camera into it)")
    out = Path(out)
    if out.suffix.lower() in _OUTPUT_SUFFIXES:
        raise ValueError(f"-o {out}: many inputs write one output per camera; give an output folder (e.g. out/)")
    if out.exists() and not out.is_dir():
        raise ValueError(f"-o {out} is a file; give an output folder")
    if workers is not None and scheduler is not None:
        raise ValueError("give --workers or --scheduler, not both")
    if workers is not None and workers < 1:
        raise ValueError(f"--workers must be >= 1, got {workers}")
    if split_frames is not None and split_frames < 1:
        raise ValueError(f"--split-frames must be >= 1 frame, got {split_frames}")
    items = [inputs] if isinstance(inputs, (str, os.PathLike)) else list(inputs)
    return out, expand_inputs([str(s) for s in items], pattern=time_pattern, suffixes=suffixes)


def _is_video(path: Any) -> bool:
    from .distributed import _is_video_path

    return _is_video_path(str(path))


def _first_frame(path: Any) -> Any:
    """Frame 0 of a video (BGR), or None when it cannot be read."""
    from .io.video import iter_frames

    if not _is_video(path):
        return None
    try:
        for _, img in iter_frames(path, stop=1):
            return img
    except (OSError, ValueError):
        return None
    return None


def _report_folder(folder: Path, sliced: Any, *, title: str, camera: str, method: str, files: int,
                   slicing: str, background: Any = None, homography: Any = None) -> Path:
    """A ``heatcore report`` folder (:func:`heatcore.report.write_run_folder`): ``sliced.npz`` +
    ``run.json`` (+ ``background.png`` from a BGR image, homography)."""
    from .report import write_run_folder

    bg = None
    if background is not None:
        from .render import save_image

        folder.mkdir(parents=True, exist_ok=True)
        bg = folder / "background.png"
        save_image(bg, background, order="bgr")
    return write_run_folder(folder, {"sliced": sliced}, heat="sliced", title=title, camera=camera, method=method,
                            meta={"inputs": f"{files} file(s)", "slicing": slicing, "command": "heatcore (many)"},
                            background=bg, homography=homography)


def _per_camera(res: dict[str, Any], cams: dict[str, list[Any]], out: Path, *, slicing: str | None, draw: Any,
                title: str, method: str, frame: bool = False,
                homography: dict[str, Path] | None = None) -> dict[str, CameraResult]:
    """Per camera: the total (slices merged) saved as ``<camera>.npz``, ``draw(camera, total,
    png, first_frame)`` writing ``<camera>.png`` (``first_frame``: BGR frame 0 of the camera's
    first video when ``frame``, else None) and with slicing the report folder ``<camera>/``."""
    cameras: dict[str, CameraResult] = {}
    for cam, acc in res.items():
        safe = safe_name(cam)
        total = acc.merged() if slicing is not None else acc
        png, npz = out / f"{safe}.png", out / f"{safe}.npz"
        c = cameras[cam] = CameraResult(acc, total, len(cams[cam]), png, npz)
        total.save(npz)
        first = _first_frame(cams[cam][0].path) if frame else None
        draw(cam, total, png, first)
        if slicing is not None:
            c.folder = _report_folder(out / safe, acc, title=f"{title}: {cam}", camera=cam, method=method,
                                      files=c.files, slicing=slicing, background=first,
                                      homography=None if homography is None else homography[cam])
    return cameras


def _size(value: Any, flag: str) -> tuple[int, int] | None:
    """(W, H) pixels from a pair or a ``"WxH"`` string (:func:`heatcore.floorplan.as_size`); None stays None."""
    from .floorplan import as_size

    return None if value is None else as_size(value, flag)


# -- motion -------------------------------------------------------------------------------------------

def motion_cameras(inputs: Any, out: str | os.PathLike[str] | None, method: str = "mog", *, stride: int = 1,
                   scale: float = 1.0, gray: bool = False, roi: Any = None, reference: Any = None,
                   threshold: int | None = None, blur: int = 11, background: Any = "first",
                   decoder: str = "auto", threads: int | None = None, warmup: int | None = None,
                   cross_warmup: bool | None = None, split_frames: int | None = None, slicing: str | None = None,
                   tz: Any = None, workers: int | None = None, scheduler: str | None = None,
                   on_error: str = "fail", time_pattern: str | None = None, quiet: bool = True,
                   cmap: str = "hot", alpha: float = 0.6, vmin: float = 0.0, vmax: float | None = None,
                   log: bool = False, colorbar: bool = False, counts: bool = False) -> CamerasResult:
    """Motion heatmaps (``method`` mog, mog2 or diff) per camera of the videos ``inputs`` into the
    folder ``out``: ``<camera>.npz`` + ``<camera>.png``.

    ``stride``: every k-th frame; ``scale``: fraction of the resolution; ``gray``: MOG/MOG2 on
    gray frames; ``roi``: mask image; diff: ``reference`` ("median:K" frames of each camera's first
    file, default median:25; "first"; or an image / path), ``threshold`` (gray level), ``blur``
    (odd box size, pixels). ``background``: picture under the heat, "first" frame, "median",
    "none", or an image (path or BGR array). ``warmup``: MOG/MOG2 frames before a partition's
    start that teach the model uncounted; ``cross_warmup``: None = warm a file up on the end of
    the camera's previous file when contiguous, False = never. ``split_frames``: videos longer
    than this many frames are split. ``slicing``/``tz``: also per wall-clock time slice (report
    folder ``<out>/<camera>/``). ``cmap``..``counts``: the picture (see
    :func:`heatcore.motion.save_picture`)."""
    import numpy as np

    from .distributed import run_partitions
    from .inputs import VIDEO_SUFFIXES, by_camera
    from .motion import sample_reference, save_picture
    from .render import read_image

    out, segs = _prepare(inputs, out, VIDEO_SUFFIXES, workers=workers, scheduler=scheduler,
                         split_frames=split_frames, time_pattern=time_pattern)
    cams = by_camera(segs)
    named = background if isinstance(background, str) and background in ("first", "median", "none") else None
    params: dict[str, Any] = dict(scale=scale, roi=roi, blur=blur, threshold=threshold, threads=threads or 1,
                                  background=None if named == "none" else "median" if named == "median" else "first")
    references: dict[str, Any] = {}
    if method == "diff":
        ref = reference if reference is not None else "median:25"
        if isinstance(ref, str) and (ref == "first" or ref.startswith("median")):
            k = 1 if ref == "first" else int(ref.split(":", 1)[1]) if ":" in ref else 25
            for cam, cs in cams.items():  # one reference per camera (its first segment) so partitions merge
                references[cam], _ = sample_reference(cs[0].path, k, gray=True, decoder=decoder)
        else:
            params["reference"] = Path(ref) if isinstance(ref, (str, os.PathLike)) else ref
    elif gray:
        params["gray"] = True
    out.mkdir(parents=True, exist_ok=True)
    errors: list[tuple[str, str]] = []
    heat = run_partitions(segs, method, workers=workers, scheduler=scheduler, split_frames=split_frames,
                          warmup=warmup, stride=stride, decoder=decoder, manifest=out / "partitions.json",
                          on_error=on_error, quiet=quiet, errors=errors, references=references,
                          cross_warmup=cross_warmup, slicing=slicing, tz=tz, **params)
    picture: Any = None if named == "none" else named
    if named is None:
        picture = background if isinstance(background, np.ndarray) else read_image(background, order="bgr")

    def draw(cam: str, acc: Any, png: Path, _: Any) -> None:
        save_picture(acc, png, background=picture, cmap=cmap, alpha=alpha, vmin=vmin, vmax=vmax, log=log,
                     colorbar=colorbar, counts=counts, title=f"{cam}: {acc.frames} frames ({method})")

    cameras = _per_camera(heat, cams, out, slicing=slicing, draw=draw, title="motion heatmap",
                          method=f"motion {method}", frame=slicing is not None)
    return CamerasResult(cameras, errors)


# -- grid ---------------------------------------------------------------------------------------------

def _image_size(segs: Sequence[Any]) -> tuple[int, int]:
    """(W, H) pixels of a camera's boxes: its first video's size, else a ``.meta.json`` frame_size."""
    from .io.detections import read_meta
    from .io.video import video_info

    for s in segs:
        if _is_video(s.path):
            info = video_info(s.path)
            return (info.width, info.height)
        fs = read_meta(s.path).get("frame_size")
        if fs:
            return (int(fs[0]), int(fs[1]))
    raise ValueError(f"--image-size WxH is needed (the pixel space of the boxes of camera {segs[0].camera}): no "
                     "video and no frame_size in a .meta.json")


def grid_cameras(inputs: Any, out: str | os.PathLike[str] | None, *, image_size: Any = None, grid: Any = (60, 36),
                 spread: int = 1, mode: Literal["box", "point"] = "box", anchor: float = 1.0,
                 classes: Iterable[int] | None = None, min_score: float | None = None,
                 geometry: Literal["exact", "aitrios"] | None = None, window: int = 0, stride: int = 5,
                 detector: Any = None, fmt: str = "auto", fps: float | None = None, frame_numbers: str = "file",
                 on_bad_rows: str = "raise", max_frame_gap: int | None = None, threads: int | None = None,
                 split_frames: int | None = None, slicing: str | None = None, tz: Any = None,
                 workers: int | None = None, scheduler: str | None = None, on_error: str = "fail",
                 time_pattern: str | None = None, quiet: bool = True, cmap: str | None = None,
                 alpha: float | None = None, vmin: float | None = None,
                 vmax: float | None = None) -> CamerasResult:
    """Grid counts (totals, :class:`~heatcore.GridCounter` with window 0) per camera of detections
    files or videos ``inputs`` into the folder ``out``: ``<camera>.npz`` + ``<camera>.png``.

    ``image_size``: (W, H) or ``"WxH"`` pixels of the boxes (default: each camera's first video,
    else the ``frame_size`` of a ``.meta.json``); ``grid``: (cells across, cells down) or
    ``"NhxNv"``; ``spread`` (cells), ``mode`` ("box"/"point"), ``anchor`` (0 top .. 1 feet),
    ``classes``, ``min_score``, ``geometry`` ("exact"/"aitrios"): as :class:`~heatcore.GridCounter`.
    ``window`` must be 0 frames (many inputs count totals). Videos: people detected every
    ``stride``-th frame with ``detector`` (a name, model path or ``(name, kwargs)`` spec of
    :func:`heatcore.detect.detector_options`). Detections files: ``fmt``, ``fps`` (frames per
    second, > 0), ``frame_numbers``, ``on_bad_rows`` ("raise"/"skip"), ``max_frame_gap`` (frames).
    ``cmap`` (default Reds), ``alpha`` (0.4), ``vmin`` (0), ``vmax`` (None/0: the maximum): the
    picture."""
    from .distributed import run_partitions
    from .grid import GridCounter
    from .grid_output import render_grid_frame
    from .inputs import DETECTION_SUFFIXES, VIDEO_SUFFIXES, by_camera
    from .many import CountTask
    from .render import save_image

    if window:
        raise ValueError(f"--window {window}: many inputs count totals (window 0); per-frame windows are "
                         "for a single input")
    if fps is not None and not 0 < fps < float("inf"):
        raise ValueError(f"--fps must be a frame rate > 0, got {fps!r}")
    out, segs = _prepare(inputs, out, VIDEO_SUFFIXES + DETECTION_SUFFIXES, workers=workers, scheduler=scheduler,
                         split_frames=split_frames, time_pattern=time_pattern)
    cams = by_camera(segs)
    cells = _size(grid, "--grid")
    size = _size(image_size, "--image-size")
    counters = {cam: GridCounter(image_size=size or _image_size(cs), grid=cells, spread=spread, window=0, mode=mode,
                                 anchor=anchor, classes=classes, min_score=min_score, geometry=geometry or "exact")
                for cam, cs in cams.items()}
    videos = any(_is_video(s.path) for s in segs)
    task = CountTask(next(iter(counters.values())), per_camera=counters, slicing=slicing, tz=tz, stride=stride,
                     detector=detector if videos else None, fmt=fmt, fps=fps, frame_numbers=frame_numbers,
                     on_bad_rows=on_bad_rows, max_frame_gap=max_frame_gap, threads=threads or 1)
    out.mkdir(parents=True, exist_ok=True)
    errors: list[tuple[str, str]] = []
    res = run_partitions(segs, task, workers=workers, scheduler=scheduler, split_frames=split_frames,
                         stride=stride if videos else 1, manifest=out / "partitions.json", on_error=on_error,
                         quiet=quiet, errors=errors)

    def draw(cam: str, total: Any, png: Path, frame: Any) -> None:
        g = total.result()
        top = float(vmax) if vmax else float(max(int(g.max()), 1))
        pic = render_grid_frame(g, size=total.image_size, image=frame, cmap=cmap or "Reds", vmin=vmin or 0.0,
                                vmax=top, alpha=0.4 if alpha is None else alpha, colorbar=True, label=None)
        save_image(png, pic, order="bgr")

    cameras = _per_camera(res, cams, out, slicing=slicing, draw=draw, title="grid heatmap", method=f"grid {mode}",
                          frame=True)
    return CamerasResult(cameras, errors)


# -- floor plan ---------------------------------------------------------------------------------------

def _manifest_homographies(inputs: Sequence[Any]) -> dict[str, Path]:
    """camera -> homography file, from the ``homography`` column of manifests among ``inputs``."""
    from .inputs import _camera_of, _manifest_rows, is_manifest

    found: dict[str, Path] = {}
    for s in inputs:
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


def floorplan_cameras(inputs: Any, out: str | os.PathLike[str] | None, *, plan: Any = None, plan_size: Any = None,
                      homography: str | os.PathLike[str] | None = None, mode: str = "kde",
                      anchor: Any = "bottom", cell: float = 25.0, bandwidth: float = 15.0, track: bool = False,
                      stationary: tuple[float, float] | None = None, seconds_per_obs: float | None = None,
                      fps: float | None = None, stride: int | None = None, detector: Any = None,
                      classes: Iterable[int] | None = None, split_frames: int | None = None,
                      slicing: str | None = None, tz: Any = None, workers: int | None = None,
                      scheduler: str | None = None, on_error: str = "fail", time_pattern: str | None = None,
                      quiet: bool = True, cmap: str = "inferno", alpha: float = 0.6, vmax: float | None = None,
                      colorbar: bool = True) -> CamerasResult:
    """Floor plans per camera (:class:`~heatcore.floorplan.FloorplanAccumulator`, each camera
    with its own homography onto the one plan) of detections files or videos ``inputs`` into the
    folder ``out``: ``<camera>.npz`` + ``<camera>.png``, and ``all.npz`` + ``all.png`` (every
    camera, :func:`merge_plans`; ``combined`` in the result).

    ``plan``: plan image (path or RGB array) or ``plan_size`` (W, H) / ``"WxH"`` plan pixels;
    ``homography``: one JSON for every camera, else a ``homography`` column in the manifest.
    ``mode``: picture of "kde", "dwell" (seconds per cell) or "visitors". ``anchor``, ``cell`` and
    ``bandwidth`` (plan pixels), ``track``, ``stationary`` (image pixels, seconds): as the
    accumulator. ``seconds_per_obs`` (> 0): seconds one detection stands for (default: stride / fps
    of each camera's first file; ``fps`` frames per second, ``stride`` frames, default 5 for
    videos). Videos: people detected every ``stride``-th frame with ``detector`` (see
    :func:`grid_cameras`), ``classes`` kept."""
    from .distributed import run_partitions
    from .floorplan import POINTS_HEADER, FloorplanAccumulator
    from .homography import Homography
    from .jobs import PLAN_TITLES, observation_seconds
    from .inputs import DETECTION_SUFFIXES, VIDEO_SUFFIXES, by_camera
    from .many import CountTask
    from .render import read_image

    if mode not in ("kde", "dwell", "visitors"):
        raise ValueError(f"mode must be 'kde', 'dwell' or 'visitors', got {mode!r}")
    if seconds_per_obs is not None and not seconds_per_obs > 0:
        raise ValueError(f"--seconds-per-obs must be > 0, got {seconds_per_obs}")
    if stride is not None and stride < 1:
        raise ValueError(f"--stride must be >= 1, got {stride}")
    image = None
    if plan is not None:
        image = read_image(plan) if isinstance(plan, (str, os.PathLike)) else plan
    size = (image.shape[1], image.shape[0]) if image is not None else _size(plan_size, "--plan-size")
    if size is None:
        raise ValueError("give --plan image or --plan-size WxH")
    items = [inputs] if isinstance(inputs, (str, os.PathLike)) else list(inputs)
    out, segs = _prepare(items, out, VIDEO_SUFFIXES + DETECTION_SUFFIXES, workers=workers, scheduler=scheduler,
                         split_frames=split_frames, time_pattern=time_pattern)
    for s in segs:
        if Path(s.path).suffix.lower() == ".csv":
            with open(s.path, encoding="utf-8", errors="replace") as fh:
                if fh.readline().strip().split(",") == POINTS_HEADER:
                    raise ValueError(f"{s.path} holds plan points: plan points CSVs take a single input")
    cams = by_camera(segs)
    hs = _manifest_homographies(items)
    if homography is not None and hs:
        raise ValueError("give one --homography for all cameras or a 'homography' column in the manifest, not both")
    missing = [c for c in cams if c not in hs and homography is None]
    if missing:
        raise ValueError(f"no homography for camera(s) {', '.join(missing)}: give --homography (one for all "
                         "cameras) or a 'homography' column in the manifest")
    hpath = {cam: hs[cam] if cam in hs else Path(str(homography)) for cam in cams}
    accs = {cam: FloorplanAccumulator(size, Homography.load(hpath[cam]), seconds_per_obs=seconds_per_obs or
                                      observation_seconds(cs[0].path, fps=fps, stride=stride), anchor=anchor,
                                      cell=cell, bandwidth=bandwidth, track=bool(track), stationary=stationary)
            for cam, cs in cams.items()}
    videos = any(_is_video(s.path) for s in segs)
    step = stride or 5
    task = CountTask(next(iter(accs.values())), per_camera=accs, slicing=slicing, tz=tz, stride=step,
                     detector=detector if videos else None, classes=classes, fps=fps)
    out.mkdir(parents=True, exist_ok=True)
    errors: list[tuple[str, str]] = []
    res = run_partitions(segs, task, workers=workers, scheduler=scheduler, split_frames=split_frames,
                         stride=step if videos else 1, manifest=out / "partitions.json", on_error=on_error,
                         quiet=quiet, errors=errors)
    what = PLAN_TITLES[mode].removeprefix("floor plan: ")

    def draw(cam: str, total: Any, png: Path, _: Any) -> None:
        total.render(png, mode, image, cmap=cmap, alpha=alpha, vmax=vmax, colorbar=colorbar, title=f"{cam}: {what}")

    cameras = _per_camera(res, cams, out, slicing=slicing, draw=draw, title="floor plan",
                          method=f"floor plan {mode}", homography=hpath)
    result = CamerasResult(cameras, errors)
    if cameras:
        every = result.combined = merge_plans([c.total for c in cameras.values()])
        every.save(out / "all.npz")
        every.render(out / "all.png", mode, image, cmap=cmap, alpha=alpha, vmax=vmax, colorbar=colorbar,
                     title=f"all cameras ({len(cameras)}): {what}")
        result.combined_paths = [out / "all.npz", out / "all.png"]
    return result


def merge_plans(plans: Sequence[Any]) -> Any:
    """One floor plan of several cameras' :class:`~heatcore.floorplan.FloorplanAccumulator` (each
    with its own homography onto the same plan): the sum, with ``homography=None`` (plan units).
    ValueError when they differ in anything but the homography."""
    import numpy as np

    from .floorplan import FloorplanAccumulator

    if not plans:
        raise ValueError("merge_plans needs at least one floor plan")
    base = {k: v for k, v in plans[0].config().items() if k != "homography"}
    for p in plans[1:]:
        mine = {k: v for k, v in p.config().items() if k != "homography"}
        if mine != base:
            diff = {k: (base.get(k), mine.get(k)) for k in set(base) | set(mine) if base.get(k) != mine.get(k)}
            raise ValueError(f"the cameras' floor plans differ in more than the homography: {diff}")
    st = dict(plans[0].state())
    cfg = json.loads(str(st["config"]))
    cfg["homography"] = None
    st["config"] = np.array(json.dumps(cfg))
    every = FloorplanAccumulator.from_state(st)
    for p in plans[1:]:
        every._merge(p)
    return every


# -- detect -------------------------------------------------------------------------------------------

def detect_cameras(inputs: Any, out: str | os.PathLike[str] | None, *, detector: Any = None, stride: int = 5,
                   classes: Iterable[int] | None = None, min_score: float | None = None, track: bool = False,
                   max_disappeared: int = 5, fps: float | None = None, workers: int | None = None,
                   scheduler: str | None = None, on_error: str = "fail", time_pattern: str | None = None,
                   quiet: bool = True) -> CamerasResult:
    """Detections of people in every input video, one CSV (+ ``.meta.json``) per file as
    ``heatcore detect`` writes it: ``<out>/<camera>/<file stem>.csv``
    (:class:`~heatcore.many.DetectTask`). ``detector``: see :func:`grid_cameras`; ``stride``
    (frames, >= 1); ``track``: IoU tracker keeping tracks ``max_disappeared`` processed frames
    (>= 0); ``fps`` overrides the video's frame rate. Results are
    :class:`~heatcore.many.DetectSummary` per camera (``folder``: its CSV folder)."""
    from .distributed import run_partitions
    from .inputs import VIDEO_SUFFIXES
    from .many import DetectTask

    if stride < 1:
        raise ValueError(f"--stride must be >= 1, got {stride}")
    if max_disappeared < 0:
        raise ValueError(f"--max-disappeared must be >= 0, got {max_disappeared}")
    out, segs = _prepare(inputs, out, VIDEO_SUFFIXES, workers=workers, scheduler=scheduler, split_frames=None,
                         time_pattern=time_pattern)
    task = DetectTask(out, detector=detector, stride=stride, classes=classes, min_score=min_score, track=track,
                      max_disappeared=max_disappeared, fps=fps)
    out.mkdir(parents=True, exist_ok=True)
    errors: list[tuple[str, str]] = []
    res = run_partitions(segs, task, workers=workers, scheduler=scheduler, manifest=out / "partitions.json",
                         on_error=on_error, quiet=quiet, errors=errors)
    cameras = {cam: CameraResult(s, s, s.files, folder=out / safe_name(cam)) for cam, s in res.items()}
    return CamerasResult(cameras, errors)
