"""The job configuration of ``heatcore watch`` (YAML): what to compute per recording.

.. code-block:: yaml

    job: motion                 # motion | grid | floorplan
    motion: {method: mog, stride: 2, scale: 0.5}   # keyword arguments of heatcore.motion_heatmap
    detector: hog               # grid / floorplan: detector spec (heatcore.detect.make_detector)
    stride: 5                   # grid / floorplan: every stride-th frame
    classes: [0]
    grid: {image_size: [480, 360], grid: [24, 18], mode: point}   # GridCounter arguments
    cameras:                    # floorplan: per camera (Kerberos instance name)
      cam1: {homography: H_cam1.json, plan_size: [400, 300]}
    slice: 1h                   # time slice of the accumulators, from each recording's start time
    output: out/                # outputs per camera and slice, the ledger and status.json
    write_every: {recordings: 10, minutes: 5}
    vault: {url: "http://vault:8081", max_bytes: 4294967296, retries: 5, timeout: 60}
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["JobConfig", "load_job"]

JOBS = ("motion", "grid", "floorplan")


@dataclass
class JobConfig:
    """A parsed job configuration (see the module docstring). Sizes in pixels, times in seconds."""

    job: str = "motion"
    motion: dict[str, Any] = field(default_factory=dict)
    detector: Any = "hog"
    stride: int = 5
    classes: list[int] | None = None
    min_score: float | None = None
    grid: dict[str, Any] = field(default_factory=dict)
    cameras: dict[str, dict[str, Any]] = field(default_factory=dict)
    slice_seconds: float = 3600.0
    output: Path | None = None
    write_every_recordings: int = 10
    write_every_seconds: float = 300.0
    vault: dict[str, Any] = field(default_factory=dict)
    base_dir: Path = Path(".")

    def camera(self, name: str) -> dict[str, Any]:
        """The camera's settings (``cameras.<name>``, else ``cameras.default``, else {})."""
        c = self.cameras.get(name)
        if c is None:
            c = self.cameras.get("default", {})
        return dict(c)

    def fingerprint(self) -> dict[str, Any]:
        return {"job": self.job, "motion": self.motion, "detector": str(self.detector), "stride": self.stride,
                "classes": self.classes, "grid": self.grid, "slice": self.slice_seconds}


def _seconds(text: Any, what: str) -> float:
    from ..slices import parse_slicing

    if isinstance(text, (int, float)) and not isinstance(text, bool):
        v = float(text)
    else:
        mode, v = parse_slicing(str(text))
        if mode != "period":
            raise ValueError(f"{what} must be a period such as '1h' or '15min', got {text!r}")
    if not v > 0:
        raise ValueError(f"{what} must be positive, got {text!r}")
    return float(v)


def load_job(source: str | os.PathLike[str] | dict[str, Any] | None = None) -> JobConfig:
    """Read a job configuration from a YAML file (or a dict; None = motion with defaults).
    Unknown keys and bad values raise ValueError naming them."""
    from ..limits import load_yaml

    base = Path(".")
    if source is None:
        data: Any = {}
    elif isinstance(source, dict):
        data = source
    else:
        p = Path(source)
        if not p.is_file():
            raise FileNotFoundError(f"no such job configuration: {p}")
        data = load_yaml(p.read_bytes(), what=str(p)) or {}
        base = p.parent
    if not isinstance(data, dict):
        raise ValueError(f"the job configuration must be a mapping, got {type(data).__name__}")
    known = {"job", "motion", "detector", "stride", "classes", "min_score", "grid", "cameras", "slice", "output",
             "write_every", "vault"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown key(s) in the job configuration: {', '.join(map(str, unknown))} "
                         f"(known: {', '.join(sorted(known))})")
    cfg = JobConfig(base_dir=base)
    cfg.job = str(data.get("job", "motion"))
    if cfg.job not in JOBS:
        raise ValueError(f"job must be one of {', '.join(JOBS)}, got {cfg.job!r}")
    for name in ("motion", "grid", "cameras", "vault"):
        v = data.get(name, {}) or {}
        if not isinstance(v, dict):
            raise ValueError(f"{name} must be a mapping, got {v!r}")
        setattr(cfg, name, dict(v))
    cfg.detector = data.get("detector", "hog")
    stride = data.get("stride", 5)
    if not isinstance(stride, int) or isinstance(stride, bool) or stride < 1:
        raise ValueError(f"stride must be a positive integer, got {stride!r}")
    cfg.stride = stride
    if data.get("classes") is not None:
        cfg.classes = [int(c) for c in data["classes"]]
    if data.get("min_score") is not None:
        cfg.min_score = float(data["min_score"])
    cfg.slice_seconds = _seconds(data.get("slice", "1h"), "slice")
    if data.get("output"):
        cfg.output = (base / str(data["output"])) if not Path(str(data["output"])).is_absolute() else Path(data["output"])
    we = data.get("write_every", {}) or {}
    if not isinstance(we, dict):
        raise ValueError(f"write_every must be a mapping with recordings/minutes, got {we!r}")
    n = we.get("recordings", 10)
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"write_every.recordings must be a positive integer, got {n!r}")
    cfg.write_every_recordings = n
    m = we.get("minutes", 5)
    if not isinstance(m, (int, float)) or isinstance(m, bool) or not m > 0:
        raise ValueError(f"write_every.minutes must be positive, got {m!r}")
    cfg.write_every_seconds = float(m) * 60.0
    if cfg.job == "grid" and not cfg.grid:
        raise ValueError("job grid needs a 'grid' mapping (GridCounter arguments: image_size, grid, mode)")
    if cfg.job == "floorplan" and not cfg.cameras:
        raise ValueError("job floorplan needs 'cameras' with a homography and plan_size per camera")
    return cfg
