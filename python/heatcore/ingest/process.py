"""Process one recording (a local file) into an accumulator with the existing functions:
:func:`heatcore.motion_heatmap`, or :func:`heatcore.jobs.detect_job` + :func:`heatcore.pipeline.run`
with a :class:`~heatcore.GridCounter` or a :class:`~heatcore.FloorplanAccumulator`."""

from __future__ import annotations

import os
import re
from pathlib import PurePosixPath
from typing import Any

from ..accumulator import Accumulator
from ..io.timestamps import start_time_from_name
from .job import JobConfig

__all__ = ["process_recording", "camera_from_key", "slice_of", "RecordingError"]

_KERBEROS = re.compile(r"^\d{10}_[^_]+_([^_]+)_")


class RecordingError(ValueError):
    """A recording that cannot be processed (corrupt, truncated, no frames)."""


def camera_from_key(key: str, metadata: dict[str, Any] | None = None) -> str:
    """The camera of a recording: the message's ``event-instancename``, else the Kerberos file
    name's third field (``1616678735_6-967003_cam1_...``), else the key's first folder, else
    ``"default"``."""
    if metadata:
        name = metadata.get("event-instancename")
        if isinstance(name, str) and name.strip():
            return name.strip()
    p = PurePosixPath(key)
    m = _KERBEROS.match(p.name)
    if m:
        return m.group(1)
    if len(p.parts) > 1:
        return p.parts[0]
    return "default"


def slice_of(key: str, seconds: float, metadata: dict[str, Any] | None = None) -> int:
    """Unix seconds of the start of the slice the recording belongs to (its start time from the
    file name, else the message's ``event-timestamp``). Raises RecordingError when unknown."""
    t = start_time_from_name(PurePosixPath(key).name)
    if t is None and metadata:
        try:
            t = float(metadata.get("event-timestamp"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            t = None
    if t is None:
        raise RecordingError(f"the start time of {key} is unknown (no Unix time at the start of its name, "
                             "no event-timestamp)")
    return int((t // seconds) * seconds)


def _without_model(acc: Any) -> Accumulator:
    """A finished recording's motion heatmap without its background model (MOG's is ~28 MB at
    480x360): the counts, frames and background pictures merge across recordings, a model of
    another recording's scene does not carry over, so the ledger does not keep it."""
    from ..slices import _is_motion_model

    st = {k: v for k, v in acc.state().items() if not _is_motion_model(k)}
    return type(acc).from_state(st)


def process_recording(path: str | os.PathLike[str], cfg: JobConfig, camera: str) -> Accumulator:
    """One recording file → a fresh accumulator (motion heatmap, grid counter or floor plan).
    Raises RecordingError when the file cannot be decoded or has no frames."""
    try:
        if cfg.job == "motion":
            from ..motion import motion_heatmap

            params = dict(cfg.motion)
            method = params.pop("method", "mog")
            acc = motion_heatmap(os.fspath(path), method, quiet=True, **params)
            if acc.frames == 0:
                raise RecordingError(f"no frames could be read from {path}")
            return _without_model(acc)
        from ..jobs import detect_job
        from ..pipeline import run

        if cfg.job == "grid":
            from ..grid import GridCounter

            counter = GridCounter(**cfg.grid)
            res = run(detect_job(path, cfg.detector, stride=cfg.stride, classes=cfg.classes,
                                 min_score=cfg.min_score, accumulators={"grid": counter}, quiet=True))
            return res["grid"]
        from ..floorplan import FloorplanAccumulator
        from ..homography import Homography
        from ..sources import video_time_base

        cam = cfg.camera(camera)
        if "homography" not in cam or "plan_size" not in cam:
            raise ValueError(f"camera {camera!r} has no homography / plan_size in the job configuration")
        h = cam["homography"]
        hpath = h if os.path.isabs(str(h)) else cfg.base_dir / str(h)
        fps = video_time_base(path).fps
        if not fps:
            raise RecordingError(f"the frame rate of {path} is unknown")
        plan = FloorplanAccumulator(cam["plan_size"], Homography.from_json(hpath), seconds_per_obs=cfg.stride / fps,
                                    **{k: v for k, v in cam.items() if k not in ("homography", "plan_size")})
        res = run(detect_job(path, cfg.detector, stride=cfg.stride, classes=cfg.classes, min_score=cfg.min_score,
                             track=True, accumulators={"plan": plan}, quiet=True))
        return res["plan"]
    except RecordingError:
        raise
    except (OSError, RuntimeError, EOFError) as exc:
        raise RecordingError(f"{path}: {exc}") from exc
    except ValueError as exc:
        msg = str(exc)
        if "job configuration" in msg:
            raise
        raise RecordingError(f"{path}: {msg}") from exc
