"""The AITRIOS human-heatmap sample's YAML configuration, read unchanged.

* App config (``heat_map_app.yaml``): ``data_source_settings`` (``mode: local|console``,
  ``local_data_settings: {video_file, meta_file}``, ``console_data_settings: {...}``),
  ``heat_map_settings: {param_file}``, ``output_settings: {output_dir, output_video_fps,
  output_video_width, output_video_height, cmap, cbar, min, max, overlay, transparency}``.
* Param file: ``number_of_add_grid, last_valid_frame, image_size_h, image_size_v, grid_num_h,
  grid_num_v, bbox2pix``.

Every key, its type, default and meaning is in :data:`APP_SCHEMA` / :data:`PARAM_SCHEMA`;
:func:`config_template` (``heatcore grid --print-config``) prints them as a commented template.

Every missing, unknown or mistyped key of a file is reported at once, each with its full path
(``output_settings.cbar``), in one ValueError. Other errors carry the sample's messages
(``cannot open <path>``, ``<mode> is not supported``, ``error, image_size_h is not divisible by
grid_num_h``, ...). YAML is read with a safe loader that refuses aliases (see
:mod:`heatcore.limits`). Relative paths are tried against the current directory first (the
sample's rule), then against the config file's folder and that folder's parent (the sample keeps
its YAMLs in config/).
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from .. import limits

__all__ = ["GridParams", "OutputSettings", "AppConfig", "load_app_config", "load_param_file", "resolve_path",
           "APP_SCHEMA", "PARAM_SCHEMA", "config_template"]


class Key(NamedTuple):
    """One YAML key: its type name, whether it must be there, its default and meaning."""

    type: str  # "str", "int", "number", "bool", "timestamp"
    required: bool | str  # True, False, or the condition under which it is required
    default: Any
    meaning: str


#: The app config: section -> key -> Key (nested sections are dicts).
APP_SCHEMA: dict[str, Any] = {
    "data_source_settings": {
        "mode": Key("str", True, "local", '"local": a detections CSV (+ optional video) on disk; '
                                          '"console": the AITRIOS Console REST API'),
        "local_data_settings": {
            "video_file": Key("str", False, "", 'video or image folder paired with the CSV rows by frame index '
                                                '("" = no pictures: the video shows the heat alone)'),
            "meta_file": Key("str", "mode local", "./input/sample.csv",
                             'detections CSV: a header line, then rows <frame>,"<detection dict>"'),
        },
        "console_data_settings": {
            "setting_path": Key("str", "mode console", "./config/console_access_settings.yaml",
                                "Console access settings YAML (console_access_settings: console_endpoint, "
                                "portal_authorization_endpoint, client_id, client_secret)"),
            "device_id": Key("str", "mode console", "__device_id__", "the camera's device id on the Console"),
            "sub_directory_name": Key("str", False, "", 'the image folder on the Console; "" = metadata only '
                                                         '(no pictures)'),
            "number_of_images": Key("int", "with a sub_directory_name", 20,
                                    "images to fetch (oldest first; more than 256 are paged)"),
            "number_of_inference_results": Key("int", "without a sub_directory_name", 20,
                                               "inference results to fetch in metadata-only mode"),
            "first_timestamp": Key("timestamp", False, "", "metadata mode: earliest time stamp, yyyyMMddHHmmssfff "
                                                           '("" = unbounded)'),
            "last_timestamp": Key("timestamp", False, "", "metadata mode: latest time stamp, yyyyMMddHHmmssfff "
                                                          '("" = unbounded)'),
        },
    },
    "heat_map_settings": {
        "param_file": Key("str", True, "./config/local_default_param.yaml",
                          "the grid parameter YAML (keys below, in its own file)"),
    },
    "output_settings": {
        "output_dir": Key("str", True, "output", "folder for detect/<name>.json and video/<name>_heatmap.mp4"),
        "output_video_fps": Key("number", True, 30, "frame rate of the overlay video (frames per second, > 0)"),
        "output_video_width": Key("int", True, 1920, "overlay video width in pixels (> 0)"),
        "output_video_height": Key("int", True, 1080, "overlay video height in pixels (> 0)"),
        "cmap": Key("str", True, "Reds", "matplotlib colormap name"),
        "cbar": Key("bool", True, False, "draw a colour bar"),
        "min": Key("number", True, 0, "count mapped to the lowest colour"),
        "max": Key("number", True, 0, "count mapped to the highest colour; 0 = last_valid_frame"),
        "overlay": Key("bool", True, True, "draw the heat over the pictures (false: heat alone)"),
        "transparency": Key("number", True, 0.4, "heat opacity over the pictures, 0..1"),
    },
}

#: The param file (``heat_map_settings.param_file``).
PARAM_SCHEMA: dict[str, Key] = {
    "number_of_add_grid": Key("int", True, 1, "spread n: cells added around each detection on every side "
                                              "(>= 0; negative only with --geometry aitrios)"),
    "last_valid_frame": Key("int", True, 600, "sliding window L in frames (<= 0 = all frames)"),
    "image_size_h": Key("int", True, 1920, "width of the pixel space the boxes are in (pixels, > 0)"),
    "image_size_v": Key("int", True, 1080, "height of the pixel space the boxes are in (pixels, > 0)"),
    "grid_num_h": Key("int", True, 60, "cells across Nh (> 0; must divide image_size_h with --geometry aitrios)"),
    "grid_num_v": Key("int", True, 36, "cells down Nv (> 0; must divide image_size_v with --geometry aitrios)"),
    "bbox2pix": Key("bool", True, True, "true: count one point per box (its bottom centre); false: whole boxes"),
}

PARAM_KEYS = tuple(PARAM_SCHEMA)

_TYPE_WORDS = {"str": "a string", "int": "an integer", "number": "a number", "bool": "true or false",
               "timestamp": 'a yyyyMMddHHmmssfff time stamp or ""'}


def _type_ok(kind: str, v: Any) -> bool:
    if kind == "str":
        return isinstance(v, str) or (isinstance(v, (int, float)) and not isinstance(v, bool))
    if kind == "int":
        return isinstance(v, int) and not isinstance(v, bool)
    if kind == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if kind == "bool":
        return isinstance(v, bool)
    if kind == "timestamp":
        return v is None or (isinstance(v, (str, int)) and not isinstance(v, bool))
    return True


def _is_required(req: bool | str, ctx: dict[str, Any]) -> bool:
    if req is True or req is False:
        return req
    if req == "mode local":
        return ctx.get("mode") == "local"
    if req == "mode console":
        return ctx.get("mode") == "console"
    if req == "with a sub_directory_name":
        return ctx.get("mode") == "console" and bool(ctx.get("sub"))
    if req == "without a sub_directory_name":
        return ctx.get("mode") == "console" and not ctx.get("sub")
    return False


def _suggest(key: Any, known: list[str]) -> str:
    close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def _check_keys(d: Any, schema: dict[str, Any], prefix: str, ctx: dict[str, Any], problems: list[str],
                section_required: dict[str, bool] | None = None) -> None:
    """Add every missing / unknown / mistyped key of mapping ``d`` under ``schema`` to ``problems``."""
    known = list(schema)
    for k in d:
        if k not in schema:
            problems.append(f"unknown key {prefix}{limits.clip(k, 80) if not isinstance(k, str) else k[:80]}"
                            f"{_suggest(k, known)}")
    for k, spec in schema.items():
        path = f"{prefix}{k}"
        if isinstance(spec, dict):
            need = (section_required or {}).get(k, True)
            if k not in d:
                if need:
                    problems.append(f"missing section {path}")
                continue
            if d[k] is None:  # "section:" with nothing under it
                if need:
                    _check_keys({}, spec, path + ".", ctx, problems)
                continue
            if not isinstance(d[k], dict):
                problems.append(f"{path} must be a mapping of keys, got {limits.clip(d[k], 80)}")
                continue
            _check_keys(d[k], spec, path + ".", ctx, problems)
            continue
        if k not in d:
            if _is_required(spec.required, ctx):
                problems.append(f"missing key {path}")
            continue
        v = d[k]
        if spec.type == "str" and not spec.required and v is None:
            continue
        if not _type_ok(spec.type, v):
            problems.append(f"{path} must be {_TYPE_WORDS[spec.type]}, got {limits.clip(v, 80)}")


def _raise_problems(path: Path, problems: list[str]) -> None:
    if problems:
        n = len(problems)
        raise ValueError(f"{path}: {n} problem{'s' if n > 1 else ''}: " + "; ".join(problems))


def _template_lines(schema: dict[str, Any], indent: int) -> list[str]:
    pad = "  " * indent
    out: list[str] = []
    for k, spec in schema.items():
        if isinstance(spec, dict):
            out.append(f"{pad}{k}:")
            out += _template_lines(spec, indent + 1)
            continue
        if spec.type == "bool":
            val = "true" if spec.default else "false"
        elif spec.type in ("str", "timestamp"):
            val = f'"{spec.default}"'
        else:
            val = str(spec.default)
        req = ("required (the value below is an example)" if spec.required is True
               else f"optional, default {val}" if spec.required is False
               else f"required {spec.required}")
        out.append(f"{pad}# {spec.meaning}")
        out.append(f"{pad}# type: {spec.type}; {req}")
        out.append(f"{pad}{k}: {val}")
    return out


def config_template() -> str:
    """A commented template of both YAML files (every key with its type, whether it is required,
    its default and meaning): what ``heatcore grid --print-config`` prints. Each part loads as is."""
    lines = ["# ===== heat_map_app.yaml (heatcore grid --config heat_map_app.yaml) =====",
             "# Relative paths: current folder first, then this file's folder and its parent.",
             "# Unknown or missing keys are errors (all reported at once). No YAML aliases (*name)."]
    lines += _template_lines(APP_SCHEMA, 0)
    lines += ["", "# ===== local_default_param.yaml (named by heat_map_settings.param_file) ====="]
    lines += _template_lines(PARAM_SCHEMA, 0)
    return "\n".join(lines) + "\n"


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
    return limits.load_yaml(path.read_bytes(), str(path))


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
    """Read and check a param YAML (:data:`PARAM_SCHEMA`; every missing, unknown or mistyped key
    reported at once). ``geometry="aitrios"`` adds the sample's divisibility checks (the exact
    geometry takes any image size)."""
    p = Path(path)
    d = _read_yaml(p)
    if not isinstance(d, dict):
        raise ValueError(f"{p}: expected a mapping with {', '.join(PARAM_KEYS)}")
    problems: list[str] = []
    _check_keys(d, PARAM_SCHEMA, "", {}, problems)
    if "bbox2pix" in d and not isinstance(d["bbox2pix"], bool):
        # The sample tests `is True` / `is False`; anything else crashes it on frame 0.
        problems = [x for x in problems if not x.startswith("bbox2pix ")]
        problems.append(f"bbox2pix must be true or false, got {limits.clip(d['bbox2pix'], 80)}")
    _raise_problems(p, problems)
    vals = {k: d[k] for k in PARAM_KEYS if k != "bbox2pix"}
    for k in ("grid_num_h", "grid_num_v"):
        if vals[k] <= 0:
            raise ValueError(f"{p}: {k} must be > 0, got {vals[k]}")
    for k in ("image_size_h", "image_size_v"):
        if vals[k] <= 0:
            raise ValueError(f"{p}: {k} must be > 0, got {vals[k]}")
    limits.check_array_bytes((vals["grid_num_v"], vals["grid_num_h"]), 8, f"{p}: grid_num_v x grid_num_h")
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


def _output_settings(path: Path, d: dict[str, Any]) -> OutputSettings:
    """Values of a structurally checked ``output_settings`` mapping."""
    fps = float(d["output_video_fps"])
    if not fps > 0 or fps == float("inf"):
        raise ValueError(f"{path}: output_settings.output_video_fps must be > 0, got {d['output_video_fps']!r}")
    w, h = d["output_video_width"], d["output_video_height"]
    if w <= 0 or h <= 0:
        raise ValueError(f"{path}: output_settings.output_video_width x output_video_height must be positive, "
                         f"got {w}x{h}")
    limits.check_array_bytes((h, w, 3), 1, f"{path}: output video size")
    tr = float(d["transparency"])
    if not 0.0 <= tr <= 1.0:
        raise ValueError(f"{path}: output_settings.transparency must be in [0, 1], got {d['transparency']!r}")
    return OutputSettings(output_dir=Path(str(d["output_dir"])), fps=fps, width=w, height=h, cmap=str(d["cmap"]),
                          cbar=d["cbar"], vmin=float(d["min"]), vmax=float(d["max"]), overlay=d["overlay"],
                          transparency=tr)


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
    """Read ``heat_map_app.yaml`` (:data:`APP_SCHEMA`) and its param file. Every missing, unknown
    or mistyped key of the app config is reported at once with its path; then the sample's checks
    (mode, files that must exist) in its order."""
    p = Path(path)
    d = _read_yaml(p)
    if d is None:
        d = {}
    if not isinstance(d, dict):
        raise ValueError(f"{p}: expected a mapping with data_source_settings, heat_map_settings and "
                         f"output_settings, got {limits.clip(d, 80)}")
    ds = d.get("data_source_settings")
    mode = ds.get("mode") if isinstance(ds, dict) else None
    sub = None
    if isinstance(ds, dict) and isinstance(ds.get("console_data_settings"), dict):
        sub = ds["console_data_settings"].get("sub_directory_name")
    problems: list[str] = []
    _check_keys(d, APP_SCHEMA, "", {"mode": mode, "sub": sub}, problems)
    # only the section the mode uses must be there
    problems = [x for x in problems
                if not (x == "missing section data_source_settings.local_data_settings" and mode != "local")
                and not (x == "missing section data_source_settings.console_data_settings" and mode != "console")]
    if isinstance(mode, str) and mode not in ("local", "console"):
        problems.append(f"{mode[:80]} is not supported (data_source_settings.mode must be "
                        '"local" or "console")')
    _raise_problems(p, problems)
    assert isinstance(ds, dict) and isinstance(mode, str)  # the schema check above requires both
    base = p.resolve().parent
    cfg = AppConfig(path=p, mode=mode)
    if mode == "local":
        local = ds["local_data_settings"]
        meta = resolve_path(str(local["meta_file"]), base)
        if not meta.is_file():
            raise ValueError(f"cannot open {local['meta_file']}")
        video = local.get("video_file") or ""
        vpath = resolve_path(str(video), base) if video else None
        if vpath is not None and not vpath.exists():
            raise ValueError(f"cannot open {video}")
        cfg.local = {"meta_file": meta, "video_file": vpath}
    else:
        cfg.console = dict(ds["console_data_settings"])
    hm = d["heat_map_settings"]
    cfg.param_file = resolve_path(str(hm["param_file"]), base)
    cfg.params = load_param_file(cfg.param_file, geometry=geometry)
    cfg.output = _output_settings(p, d["output_settings"])
    return cfg
