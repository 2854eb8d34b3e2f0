"""Ready-made pipeline jobs for the common workflows (the CLI, the demo and the benchmarks use
them; Python users can too):

* :func:`grid_job` — detections → :class:`~heatcore.GridCounter` → per-frame JSON, all grids in
  one file, overlay video;
* :func:`detect_job` — video → detector → tracker → detections CSV / AITRIOS CSV (and, with
  accumulators, grid counts or a floor plan in the same pass);

Each returns a :class:`heatcore.pipeline.Job`; :func:`heatcore.pipeline.run` runs it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Sequence

from .pipeline import Job, Source, Stage
from .records import Detections, as_detections
from .sources import RecordsSource

__all__ = ["grid_job", "grid_file_job", "floorplan_job", "aitrios_config_job", "detect_job", "floorplan_input", "observation_seconds", "DetectStage", "TrackStage", "as_source", "is_video"]

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".webm", ".mpg", ".mpeg", ".ts")


def as_source(records: Source | Iterable[Any], *, fingerprint: dict[str, Any] | None = None,
              total: int | None = None) -> Source:
    """A pipeline source from a :class:`~heatcore.pipeline.Source`, an :class:`AitriosCSV`
    reader, or any iterable of detection records."""
    if isinstance(records, Source):
        return records
    from .io.detections import AitriosCSV

    if isinstance(records, AitriosCSV):
        from .sources import DetectionFileSource

        return DetectionFileSource(records.path, fmt="aitrios", fps=records.time_base.fps, video=records.video,
                                   on_error=records.on_error, frame_numbers=records.frame_numbers)
    if total is None and isinstance(records, Sequence):
        total = len(records)
    return RecordsSource(records, fingerprint=fingerprint, total=total, batch=64)


def grid_job(records: Source | Iterable[Any], counter: Any, outdir: str | os.PathLike[str], *,
             per_frame_json: bool = True, compact: str | None = "grids.jsonl",
             video: dict[str, Any] | None = None, reverse: bool = False,
             checkpoint: str | os.PathLike[str] | None = None, checkpoint_every: int = 5000,
             restart: bool = False, quiet: bool = True) -> Job:
    """Count detection records with ``counter`` (a :class:`~heatcore.GridCounter`) and write
    ``<outdir>/detect/*.json`` (one per frame, the AITRIOS sample's schema; ``reverse`` lists boxes
    last-first as the sample does for its CSV), ``<outdir>/<compact>`` (``.jsonl`` or ``.npz``;
    None = none) and, with ``video`` (keyword arguments of
    :class:`~heatcore.grid_output.GridVideoWriter`), the overlay video."""
    from .sinks import GridCompactSink, GridJsonSink, GridVideoSink

    out = Path(outdir)
    sinks: list[Any] = []
    if per_frame_json:
        sinks.append(GridJsonSink(out, mode=counter.mode, reverse=reverse))
    if compact and compact != "none":
        sinks.append(GridCompactSink(out / compact))
    if video is not None:
        sinks.append(GridVideoSink(out, **video))
    return Job(source=as_source(records), accumulators={"grid": counter}, sinks=sinks, checkpoint=checkpoint,
               checkpoint_every=checkpoint_every, restart=restart, quiet=quiet, desc="grid")


def grid_file_job(path: str | os.PathLike[str], outdir: str | os.PathLike[str], *,
                  video: str | os.PathLike[str] | None = None, image_size: Any = None, grid: Any = (60, 36),
                  spread: int = 1, window: int = 0, mode: str = "box", anchor: float = 1.0, geometry: str = "exact",
                  classes: Iterable[int] | None = None, min_score: float | None = None, fmt: str = "auto",
                  skip_bad_rows: bool = False, frame_numbers: str = "file", max_frame_gap: int | None = None,
                  fps: float | None = None, stride: int = 5, detector: Any = None, detector_spec: Any = None,
                  per_frame_json: bool = True, compact: str | None = "grids.jsonl", overlay: bool = True,
                  video_size: Any = None, cmap: str | None = None, vmin: float | None = None,
                  vmax: float | None = None, alpha: float | None = None, colorbar: bool = False,
                  label: str | None = None, threads: int | None = None,
                  checkpoint: str | os.PathLike[str] | None = None, checkpoint_every: int = 5000,
                  restart: bool = False, quiet: bool = True) -> Job:
    """``heatcore grid FILE``: a detections file (the AITRIOS sample's CSV, a long CSV, ``heatcore
    detect``'s CSV, an ``.npz``) or a raw video (people detected every ``stride``-th frame in the
    same pass, with ``detector``) → a :class:`~heatcore.GridCounter` → ``<outdir>/detect/*.json``,
    ``<outdir>/<compact>`` and, with ``overlay``, the overlay video over ``video`` (paired with the
    rows by their frame index) at fps / stride frames per second.

    ``image_size`` (W, H) pixels of the boxes (default: the video's); ``grid`` (Nh, Nv) cells;
    ``window`` frames (0 = all); colour options default to the sample's (Reds, 0..window, alpha
    0.4). The frame rate comes from the video, the file's ``.meta.json`` or ``fps``; never guessed:
    an overlay without one raises ValueError. ``job.params["seconds_per_obs"]`` is stride / fps
    (None when unknown)."""
    from ._checks import parse_size, resolve_threads
    from .grid import GridCounter
    from .sources import DetectionFileSource, VideoSource, video_time_base

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such detections file or video: {path}")
    if fps is not None and not 0 < fps < float("inf"):
        raise ValueError(f"--fps must be a frame rate > 0, got {fps!r}")
    if compact and compact != "none":
        if Path(compact).name != compact or compact in (".", ".."):
            raise ValueError(f"--compact must be a file name inside the output folder, got {compact!r}")
        if Path(compact).suffix.lower() not in (".jsonl", ".npz"):
            raise ValueError(f"--compact must end in .jsonl or .npz (or be 'none'), got {compact!r}")
    if checkpoint is not None and overlay:
        raise ValueError("--checkpoint resumes counting and JSON; add --no-video (a video cannot be resumed)")
    if isinstance(video_size, str):
        video_size = parse_size(video_size, "--video-size")
    raw = is_video(path)
    pictures = path if raw else video
    tb = video_time_base(pictures, fps=fps) if pictures is not None else None
    if isinstance(image_size, str):
        image_size = parse_size(image_size, "--image-size")
    if image_size is None:
        if pictures is None:
            raise ValueError("--image-size WxH is needed (the pixel space of the boxes) when there is no --video")
        from .io.video import video_info

        info = video_info(pictures)
        image_size = (info.width, info.height)
    counter = GridCounter(image_size=image_size, grid=parse_size(grid, "--grid") if isinstance(grid, str) else grid,
                          spread=spread, window=window, mode=mode, anchor=anchor,  # type: ignore[arg-type]
                          classes=classes, min_score=min_score, geometry=geometry)  # type: ignore[arg-type]
    counter.threads = resolve_threads(threads)
    source: Source
    stages: list[Stage] = []
    if raw:
        source = VideoSource(path, stride=stride, time_base=tb, batch=4)
        stages.append(DetectStage(detector, keep_image=overlay, spec=detector_spec))
    else:
        src = DetectionFileSource(path, fmt=fmt, fps=fps if tb is None else tb.fps, video=video,
                                  on_error="skip" if skip_bad_rows else "raise", frame_numbers=frame_numbers,
                                  max_frame_gap=max_frame_gap)
        source, stride = src, int(src.reader.meta.get("stride") or 1) if src.reader is not None else 1
    rate = source.time_base.fps
    vid = None
    if overlay:
        if rate is None:
            raise ValueError("the overlay video needs the detections' frame rate: give --fps N (or --video, or "
                             "--no-video)")
        aitrios = geometry == "aitrios"
        vid = dict(name=None if pictures is None else Path(pictures).stem, fps=rate / stride,
                   size=video_size or image_size, cmap=cmap or "Reds", vmin=vmin or 0.0, vmax=vmax or 0.0,
                   window=counter.window, alpha=0.4 if alpha is None else alpha, overlay=True, colorbar=colorbar,
                   sticky_opaque=aitrios, text_color=(0, 225, 0) if aitrios else (0, 255, 0),
                   **({} if label is None else {"label": label}))
    reverse = geometry == "aitrios" and fmt in ("aitrios", "auto") and getattr(source, "reader", None) is not None
    job = grid_job(source, counter, outdir, per_frame_json=per_frame_json, compact=compact, video=vid,
                   reverse=reverse, checkpoint=checkpoint, checkpoint_every=checkpoint_every, restart=restart,
                   quiet=quiet)
    job.stages = stages
    job.params = {**(job.params or {}), "seconds_per_obs": stride / rate if rate else None}
    return job


class DetectStage(Stage):
    """Frames → :class:`~heatcore.records.Detections` with a detector (see
    :func:`heatcore.detect.make_detector`), then the class / score / NMS filters. ``keep_image``
    keeps the frame's pixels on the record (for overlays)."""

    name = "detect"

    def __init__(self, detector: Any = None, *, classes: Iterable[int] | None = None,
                 min_score: float | None = None, nms_threshold: float | None = None,
                 keep_image: bool = False, spec: Any = None) -> None:
        from .detect import make_detector

        self.detector = make_detector(detector)
        self.spec = repr(self.detector) if spec is None else spec
        self.classes = None if classes is None else [int(c) for c in classes]
        self.min_score = min_score
        self.nms_threshold = nms_threshold
        self.keep_image = keep_image

    def config(self) -> dict[str, Any]:
        return {"detector": str(self.spec), "classes": self.classes, "min_score": self.min_score,
                "nms_threshold": self.nms_threshold}

    def process(self, batch: Sequence[Any]) -> list[Detections]:
        from .detect import postprocess

        det_batch = getattr(self.detector, "detect_batch", None)
        images = [f.image for f in batch]
        raw = det_batch(images) if det_batch is not None else [self.detector(im) for im in images]
        out = []
        for f, r in zip(batch, raw):
            d = as_detections(r, frame=f.index, time=f.time, wall=f.wall, source=f.source,
                              image=f.image if self.keep_image else None)
            if self.classes is not None or self.min_score is not None or self.nms_threshold is not None:
                d = postprocess(d, classes=self.classes, min_score=self.min_score, nms_threshold=self.nms_threshold)
            out.append(d)
        return out


class TrackStage(Stage):
    """Assigns track ids with a :class:`~heatcore.track.Tracker` (its state is checkpointed)."""

    name = "track"

    def __init__(self, tracker: Any = None, **kw: Any) -> None:
        from .track import Tracker

        self.tracker = tracker if tracker is not None else Tracker(**kw)

    def config(self) -> dict[str, Any]:
        t = self.tracker
        return {"method": t.method, "iou_threshold": t.iou_threshold, "max_distance": t.max_distance,
                "max_disappeared": t.max_disappeared}

    def process(self, batch: Sequence[Any]) -> list[Any]:
        import numpy as np

        out = []
        for d in batch:
            if not d.tracked:
                d.track_ids = np.asarray(self.tracker.update(d.xyxy), np.int64).reshape(-1)
            out.append(d)
        return out

    def state(self) -> Any:
        return self.tracker.state()

    def load_state(self, state: Any) -> None:
        if state is not None:
            self.tracker.load_state(state)


def detect_job(video: str | os.PathLike[str], detector: Any = None, *, stride: int = 1, start: int = 0,
               stop: int | None = None, classes: Iterable[int] | None = None, min_score: float | None = None,
               track: bool | Any = False, detections_csv: str | os.PathLike[str] | None = None,
               aitrios_csv: str | os.PathLike[str] | None = None, accumulators: dict[str, Any] | None = None,
               sinks: Sequence[Any] = (), fps: float | None = None, keep_image: bool = False,
               checkpoint: str | os.PathLike[str] | None = None, checkpoint_every: int = 100,
               restart: bool = False, quiet: bool = True, detector_spec: Any = None,
               start_wall: float | None = None) -> Job:
    """Video → detections (every ``stride``-th frame, with their frame index and time) → optional
    tracking → CSV files (with a ``.meta.json`` sidecar: source, fps, stride, start) and any
    ``accumulators`` / ``sinks`` (a grid counter, a floor plan) in the same pass. ``start_wall``:
    wall-clock Unix seconds of frame 0 (e.g. a manifest's start time; default: from the file name,
    else the container's creation time)."""
    from .sinks import AitriosCSVSink, DetectionsCSVSink
    from .sources import VideoSource, video_time_base

    tb = video_time_base(video, fps=fps, start=start_wall)
    src = VideoSource(video, stride=stride, start=start, stop=stop, time_base=tb, batch=4)
    stages: list[Stage] = [DetectStage(detector, classes=classes, min_score=min_score, keep_image=keep_image,
                                       spec=detector_spec)]
    if track is not False and track is not None:
        stages.append(TrackStage(None if track is True else track))
    meta = {"format": "heatcore-detections", "source": str(video), "fps": tb.fps, "stride": src.stride,
            "start_frame": src.start, "start": tb.start, "frame_size": [src.info.width, src.info.height]}
    out_sinks: list[Any] = []
    if detections_csv is not None:
        out_sinks.append(DetectionsCSVSink(detections_csv, meta=meta))
    if aitrios_csv is not None:
        out_sinks.append(AitriosCSVSink(aitrios_csv, meta=meta))
    out_sinks += list(sinks)
    return Job(source=src, accumulators=dict(accumulators or {}), stages=stages, sinks=out_sinks,
               checkpoint=checkpoint, checkpoint_every=checkpoint_every, restart=restart, quiet=quiet,
               desc="detect")


def is_video(path: str | os.PathLike[str]) -> bool:
    """True for a video file (by extension) or a folder of images."""
    p = Path(path)
    return p.is_dir() or p.suffix.lower() in VIDEO_SUFFIXES


def observation_seconds(path: str | os.PathLike[str], *, fps: float | None = None, stride: int | None = None,
                        source: Source | None = None) -> float:
    """Seconds one observation of ``path`` stands for: stride / fps. A video: ``stride`` (default
    5) over ``fps`` or the container's rate; a detections file: the stride of its ``.meta.json``
    (else ``stride``, else 1) over its frame rate (``.meta.json`` or ``fps``). ``source``: that
    input's source when already open (nothing is read again). Raises ValueError when the frame
    rate is unknown (nothing is guessed)."""
    from .io.detections import read_meta
    from .sources import DetectionFileSource, VideoSource

    if is_video(path):
        if isinstance(source, VideoSource):
            rate = source.time_base.fps
        else:
            from .io.video import video_info

            rate = fps or video_info(path).fps
        step = stride or 5
    else:
        src = source if isinstance(source, DetectionFileSource) else DetectionFileSource(path, fps=fps)
        meta = src.reader.meta if src.reader is not None else read_meta(path)
        rate, step = src.time_base.fps, int(meta.get("stride") or stride or 1)
        if src is not source:
            src.close()
    if not rate:
        raise ValueError(f"the frame rate of {path} is unknown, so dwell seconds cannot be known: give --fps N "
                         "(and --stride N if rows are every N-th frame) or --seconds-per-obs S")
    return step / float(rate)


def floorplan_input(path: str | os.PathLike[str], *, fps: float | None = None, stride: int | None = None,
                    seconds_per_obs: float | None = None, detector: Any = None,
                    classes: Iterable[int] | None = None, detector_spec: Any = None
                    ) -> tuple[Source, list[Stage], float]:
    """The source (and detect stage) for a floor plan from a video or a detections file, and the
    seconds each observation stands for: ``seconds_per_obs``, else :func:`observation_seconds`
    (stride / fps; never guessed)."""
    from .sources import DetectionFileSource, VideoSource, video_time_base

    stages: list[Stage] = []
    source: Source
    if is_video(path):
        source = VideoSource(path, stride=stride or 5, time_base=video_time_base(path, fps=fps), batch=4)
        stages.append(DetectStage(detector, classes=classes, spec=detector_spec))
    else:
        source = DetectionFileSource(path, fps=fps)
    if seconds_per_obs is None:
        seconds_per_obs = observation_seconds(path, fps=fps, stride=stride, source=source)
    return source, stages, float(seconds_per_obs)


PLAN_TITLES = {"kde": "floor plan: time spent", "dwell": "floor plan: dwell seconds per cell",
               "visitors": "floor plan: unique visitors per cell"}


def floorplan_job(path: str | os.PathLike[str], homography: Any, output: str | os.PathLike[str], *,
                  plan: Any = None, plan_size: Any = None, mode: str = "kde", bandwidth: float = 15.0,
                  cell: float = 25.0, anchor: Any = "bottom", fps: float | None = None, stride: int | None = None,
                  seconds_per_obs: float | None = None, track: bool = False,
                  stationary: tuple[float, float] | None = None, detector: Any = None,
                  classes: Iterable[int] | None = None, detector_spec: Any = None,
                  state: str | os.PathLike[str] | None = None, cmap: str = "inferno", alpha: float = 0.6,
                  vmax: float | None = None, colorbar: bool = True, title: str | None = None,
                  checkpoint: str | os.PathLike[str] | None = None, checkpoint_every: int = 500,
                  restart: bool = False, quiet: bool = True) -> Job:
    """``heatcore floorplan FILE``: detections (a file, or people detected in a video in the same
    pass) → feet through ``homography`` (a :class:`~heatcore.Homography` or a JSON path) → a
    :class:`~heatcore.FloorplanAccumulator` (accumulator ``"plan"``) → ``output`` PNG of ``mode``
    (``"kde"``, ``"dwell"`` seconds per ``cell`` plan pixels, ``"visitors"`` per cell) over ``plan``
    (an RGB image or its path; else ``plan_size`` (W, H) plan pixels), and the state to ``state``
    (.npz) when given. Each observation stands for ``seconds_per_obs`` (default stride / fps, see
    :func:`floorplan_input`; never guessed). A run where every detection lands off the plan
    raises ValueError instead of writing a bare plan. ``job.params["seconds_per_obs"]`` holds the
    value used."""
    from .floorplan import FloorplanAccumulator
    from .homography import Homography
    from .render import read_image
    from .sinks import FinalSink

    if mode not in PLAN_TITLES:
        raise ValueError(f"mode must be one of {', '.join(PLAN_TITLES)}, got {mode!r}")
    if seconds_per_obs is not None and not seconds_per_obs > 0:
        raise ValueError(f"--seconds-per-obs must be > 0, got {seconds_per_obs}")
    if stride is not None and stride < 1:
        raise ValueError(f"--stride must be >= 1, got {stride}")
    if homography is None:
        raise ValueError("--homography is required to map image detections onto the plan")
    h = homography if isinstance(homography, Homography) else Homography.load(homography)
    if isinstance(plan, (str, os.PathLike)):
        plan = read_image(plan)
    if plan is not None:
        plan_size = (plan.shape[1], plan.shape[0])
    if plan_size is None:
        raise ValueError("give --plan image or --plan-size WxH")
    source, stages, dt = floorplan_input(path, fps=fps, stride=stride, seconds_per_obs=seconds_per_obs,
                                         detector=detector, classes=classes, detector_spec=detector_spec)
    acc = FloorplanAccumulator(plan_size, h, seconds_per_obs=dt, anchor=anchor, cell=cell, bandwidth=bandwidth,
                               track=track, stationary=stationary)

    def write_png(out: Path, accs: dict[str, Any]) -> None:
        a = accs["plan"]
        a.check_on_plan()
        a.render(out, mode, plan, cmap=cmap, alpha=alpha, vmax=vmax, colorbar=colorbar,
                 title=title or PLAN_TITLES[mode])

    sinks: list[Any] = [FinalSink(output, write_png, name="heatmap")]
    if state is not None:
        sinks.append(FinalSink(state, lambda p, accs: accs["plan"].save(p), name="state"))
    return Job(source=source, accumulators={"plan": acc}, stages=stages, sinks=sinks, checkpoint=checkpoint,
               checkpoint_every=checkpoint_every, restart=restart, quiet=quiet, desc="floorplan",
               params={"seconds_per_obs": dt})


def aitrios_config_job(config: str | os.PathLike[str], *, geometry: str = "exact",
                       out: str | os.PathLike[str] | None = None, skip_bad_rows: bool = False,
                       per_frame_json: bool = True, compact: str | None = "grids.jsonl", video: bool = True,
                       overrides: dict[str, Any] | None = None, checkpoint: str | os.PathLike[str] | None = None,
                       checkpoint_every: int = 5000, restart: bool = False, quiet: bool = True) -> tuple[Job, Source]:
    """The AITRIOS sample's own run from its ``heat_map_app.yaml`` (local CSV + video, or the
    Console): its grid settings, output folder and video settings (``overrides``: ``fps``,
    ``cmap``, ``vmin``, ``vmax``, ``alpha``, ``colorbar`` replace the YAML's when not None).
    Returns ``(job, source)``."""
    from .grid import GridCounter
    from .io.aitrios_config import load_app_config, resolve_path
    from .sources import DetectionFileSource

    ov = {k: v for k, v in (overrides or {}).items() if v is not None}
    cfg = load_app_config(config, geometry=geometry)
    params, o = cfg.params, cfg.output
    assert params is not None and o is not None
    counter = GridCounter(**params.counter_kwargs(geometry))
    source: Source
    if cfg.mode == "local":
        src = DetectionFileSource(cfg.local["meta_file"], fmt="aitrios", fps=ov.get("fps", o.fps),
                                  video=cfg.local["video_file"] or None,
                                  on_error="skip" if skip_bad_rows else "raise", frame_numbers="rows")
        image_name = src.reader.image_name if src.reader is not None else None
        source, reverse = src, geometry == "aitrios"
    else:
        from .io.console import load_console_frames

        settings = dict(cfg.console)
        sp = settings.get("setting_path")
        if isinstance(sp, str) and sp:
            # the sample's rule (current directory), then the config's folder and its parent
            settings["setting_path"] = str(resolve_path(sp, cfg.base_dir).resolve())
        frames, image_name = load_console_frames(settings, base_dir=cfg.base_dir)
        source, reverse = RecordsSource(frames, fingerprint={"console": str(config)}, batch=8), False
    vid = None
    if video:
        vid = dict(name=image_name, fps=ov.get("fps", o.fps), size=(o.width, o.height), cmap=ov.get("cmap", o.cmap),
                   vmin=ov.get("vmin", o.vmin), vmax=ov.get("vmax", o.vmax), window=params.last_valid_frame,
                   alpha=ov.get("alpha", o.transparency), overlay=o.overlay, colorbar=ov.get("colorbar", o.cbar),
                   sticky_opaque=geometry == "aitrios",
                   text_color=(0, 225, 0) if geometry == "aitrios" else (0, 255, 0))
        if "label" in ov:
            vid["label"] = ov["label"]
    job = grid_job(source, counter, Path(out) if out is not None else Path(o.output_dir),
                   per_frame_json=per_frame_json, compact=compact, video=vid, reverse=reverse, checkpoint=checkpoint,
                   checkpoint_every=checkpoint_every, restart=restart, quiet=quiet)
    return job, source
