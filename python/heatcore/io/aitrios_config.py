"""The AITRIOS human-heatmap sample's YAML configuration, read unchanged.

* App config (``heat_map_app.yaml``): ``data_source_settings`` (``mode: local|console``,
  ``local_data_settings: {video_file, meta_file}``, ``console_data_settings: {...}``),
  ``heat_map_settings: {param_file}``, ``output_settings: {output_dir, output_video_fps,
  output_video_width, output_video_height, cmap, cbar, min, max, overlay, transparency}``.
* Param file: ``number_of_add_grid, last_valid_frame, image_size_h, image_size_v, grid_num_h,
  grid_num_v, bbox2pix``.

Errors carry the sample's messages (``cannot open <path>``, ``data source settings is not found``,
``<mode> is not supported``, ``error, image_size_h is not divisible by grid_num_h``, ...) as
ValueError, plus a clear message where the sample would crash later (missing keys, bbox2pix not a
bool). Relative paths are tried against the current directory first (the sample's rule), then
against the config file's folder and that folder's parent (the sample keeps its YAMLs in config/).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["GridParams", "OutputSettings", "AppConfig", "load_app_config", "load_param_file", "resolve_path"]

PARAM_KEYS = ("number_of_add_grid", "last_valid_frame", "image_size_h", "image_size_v", "grid_num_h",
              "grid_num_v", "bbox2pix")


def resolve_path(value: str | os.PathLike[str], base: Path | None) -> Path:
    """``value`` as the sample would open it (relative to the current directory), falling back to
    ``base`` and ``base.parent`` when that does not exist."""
    p = Path(value)
    if p.is_absolute() or p.exists() or base is None:
        return p
    for root in (base, base.parent):
        q = root / p
        if q.exists():
            return q
    return p


def _read_yaml(path: Path) -> Any:
    if not path.is_file():
        raise ValueError(f"cannot open {path}")
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        raise ValueError(f"{path} is not valid YAML: {exc}") from None


def _int(path: Path, key: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError(f"{path}: {key} must be an integer, got {v!r}")
    return v


@dataclass
class GridParams:
    """The param file: spread n, window L, image size (pixels), grid (cells), point mode."""

    number_of_add_grid: int
    last_valid_frame: int
    image_size_h: int
    image_size_v: int
    grid_num_h: int
    grid_num_v: int
    bbox2pix: bool

    @property
    def mode(self) -> str:
        return "point" if self.bbox2pix else "box"

    def counter_kwargs(self, geometry: str) -> dict[str, Any]:
        """Keyword arguments for :class:`heatcore.GridCounter`."""
        window = self.last_valid_frame
        if geometry == "exact" and window < 0:
            window = 0  # the sample treats L <= 0 as unbounded; exact mode spells that 0
        return dict(image_size=(self.image_size_h, self.image_size_v), grid=(self.grid_num_h, self.grid_num_v),
                    spread=self.number_of_add_grid, window=window, mode=self.mode, geometry=geometry)


def load_param_file(path: str | os.PathLike[str], *, geometry: str = "aitrios") -> GridParams:
    """Read and check a param YAML. ``geometry="aitrios"`` adds the sample's divisibility checks
    (the exact geometry takes any image size)."""
    p = Path(path)
    d = _read_yaml(p)
    if not isinstance(d, dict):
        raise ValueError(f"{p}: expected a mapping with {', '.join(PARAM_KEYS)}")
    for k in PARAM_KEYS:
        if k not in d:
            raise ValueError(f"{p}: {k} is not found")
    vals = {k: _int(p, k, d[k]) for k in PARAM_KEYS if k != "bbox2pix"}
    if not isinstance(d["bbox2pix"], bool):
        # The sample tests `is True` / `is False`; anything else crashes it on frame 0.
        raise ValueError(f"{p}: bbox2pix must be true or false, got {d['bbox2pix']!r}")
    for k in ("grid_num_h", "grid_num_v"):
        if vals[k] <= 0:
            raise ValueError(f"{p}: {k} must be > 0, got {vals[k]}")
    for k in ("image_size_h", "image_size_v"):
        if vals[k] <= 0:
            raise ValueError(f"{p}: {k} must be > 0, got {vals[k]}")
    if geometry == "aitrios":
        if vals["image_size_h"] % vals["grid_num_h"] != 0:
            raise ValueError("error, image_size_h is not divisible by grid_num_h")
        if vals["image_size_v"] % vals["grid_num_v"] != 0:
            raise ValueError("error, image_size_v is not divisible by grid_num_v")
    elif vals["number_of_add_grid"] < 0:
        raise ValueError(f"{p}: number_of_add_grid must be >= 0, got {vals['number_of_add_grid']} "
                         "(negative spreads exist only with --geometry aitrios)")
    return GridParams(bbox2pix=d["bbox2pix"], **vals)


@dataclass
class OutputSettings:
    output_dir: Path
    fps: float
    width: int
    height: int
    cmap: str = "Reds"
    cbar: bool = False
    vmin: float = 0.0
    vmax: float = 0.0
    overlay: bool = True
    transparency: float = 0.4


def _output_settings(path: Path, d: Any) -> OutputSettings:
    if not isinstance(d, dict):
        raise ValueError("output settings is not found")
    need = ("output_dir", "output_video_fps", "output_video_width", "output_video_height", "cmap", "cbar", "min",
            "max", "overlay", "transparency")
    for k in need:
        if k not in d:
            raise ValueError(f"{path}: output_settings.{k} is not found")

    def num(k: str) -> float:
        v = d[k]
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ValueError(f"{path}: output_settings.{k} must be a number, got {v!r}")
        return float(v)

    fps = num("output_video_fps")
    if not fps > 0:
        raise ValueError(f"{path}: output_settings.output_video_fps must be > 0, got {d['output_video_fps']!r}")
    w, h = _int(path, "output_settings.output_video_width", d["output_video_width"]), \
        _int(path, "output_settings.output_video_height", d["output_video_height"])
    if w <= 0 or h <= 0:
        raise ValueError(f"{path}: output video size must be positive, got {w}x{h}")
    tr = num("transparency")
    if not 0.0 <= tr <= 1.0:
        raise ValueError(f"{path}: output_settings.transparency must be in [0, 1], got {d['transparency']!r}")
    for k in ("cbar", "overlay"):
        if not isinstance(d[k], bool):
            raise ValueError(f"{path}: output_settings.{k} must be true or false, got {d[k]!r}")
    if not isinstance(d["cmap"], str):
        raise ValueError(f"{path}: output_settings.cmap must be a colormap name, got {d['cmap']!r}")
    return OutputSettings(output_dir=Path(str(d["output_dir"])), fps=fps, width=w, height=h, cmap=d["cmap"],
                          cbar=d["cbar"], vmin=num("min"), vmax=num("max"), overlay=d["overlay"], transparency=tr)


@dataclass
class AppConfig:
    path: Path
    mode: str  # "local" | "console"
    local: dict[str, Any] = field(default_factory=dict)
    console: dict[str, Any] = field(default_factory=dict)
    param_file: Path = Path()
    params: GridParams | None = None
    output: OutputSettings | None = None

    @property
    def base_dir(self) -> Path:
        return self.path.resolve().parent


def load_app_config(path: str | os.PathLike[str], *, geometry: str = "aitrios") -> AppConfig:
    """Read ``heat_map_app.yaml`` and its param file, with the sample's checks in its order."""
    p = Path(path)
    d = _read_yaml(p)
    if not isinstance(d, dict):
        d = {}
    if not isinstance(d.get("data_source_settings"), dict):
        raise ValueError("data source settings is not found")
    if not isinstance(d.get("heat_map_settings"), dict):
        raise ValueError("heat_map settings is not found")
    if "output_settings" not in d or d["output_settings"] is None:
        raise ValueError("output settings is not found")
    ds = d["data_source_settings"]
    mode = ds.get("mode")
    if mode not in ("local", "console"):
        raise ValueError(f"{mode} is not supported")
    base = p.resolve().parent
    cfg = AppConfig(path=p, mode=mode)
    if mode == "local":
        local = ds.get("local_data_settings")
        if not isinstance(local, dict):
            raise ValueError(f"{p}: data_source_settings.local_data_settings is not found")
        if "meta_file" not in local:
            raise ValueError(f"{p}: local_data_settings.meta_file is not found")
        meta = resolve_path(str(local["meta_file"]), base)
        if not meta.is_file():
            raise ValueError(f"cannot open {local['meta_file']}")
        video = local.get("video_file") or ""
        if not isinstance(video, str):
            raise ValueError(f"{p}: local_data_settings.video_file must be a path or \"\", got {video!r}")
        vpath = resolve_path(video, base) if video else None
        if vpath is not None and not vpath.exists():
            raise ValueError(f"cannot open {video}")
        cfg.local = {"meta_file": meta, "video_file": vpath}
    else:
        cs = ds.get("console_data_settings")
        if not isinstance(cs, dict):
            raise ValueError(f"{p}: data_source_settings.console_data_settings is not found")
        if "setting_path" not in cs:
            raise ValueError("Console Access Library setting file is not found")
        cfg.console = dict(cs)
    hm = d["heat_map_settings"]
    if "param_file" not in hm:
        raise ValueError(f"{p}: heat_map_settings.param_file is not found")
    cfg.param_file = resolve_path(str(hm["param_file"]), base)
    cfg.params = load_param_file(cfg.param_file, geometry=geometry)
    cfg.output = _output_settings(p, d["output_settings"])
    return cfg
