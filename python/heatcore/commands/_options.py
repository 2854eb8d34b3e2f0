"""Option builders shared by the sub-commands: one vocabulary on every command.

* ``-o/--output`` names the main output (``--out`` is accepted too);
* an input video is ``--video``, an output video ``--overlay-video``;
* every size is ``WxH`` on the command line (``shape=(H, W)`` / ``size=(W, H)`` in Python);
* ``--quiet`` turns off progress bars; ``--checkpoint/--checkpoint-every/--restart`` resume
  long jobs exactly;
* output paths and their extensions are checked before any work starts.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any, Iterable

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
VIDEO_SUFFIXES = (".mp4",)

__all__ = ["add_output", "add_quiet", "add_checkpoint", "add_render", "add_threads", "add_fps",
           "check_output", "size_arg", "classes_arg", "IMAGE_SUFFIXES", "VIDEO_SUFFIXES"]


def add_output(p: argparse.ArgumentParser, help: str, *, required: bool = False, default: Any = None) -> None:
    p.add_argument("-o", "--output", "--out", dest="out", type=Path, required=required, default=default, help=help)


def add_quiet(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def add_threads(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threads", type=int, default=0, help="worker threads of the C++ kernels (0 = all cores)")


def add_fps(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--fps", type=float, default=None,
                   help=f"frames per second of {what} (default: from the video or the file's .meta.json; "
                        "never guessed)")


def add_checkpoint(p: argparse.ArgumentParser, every: int) -> None:
    p.add_argument("--checkpoint", type=Path,
                   help="save the state here (.npz) every --checkpoint-every frames; rerunning the same command "
                        "resumes exactly where it stopped")
    p.add_argument("--checkpoint-every", type=int, default=every,
                   help=f"frames between checkpoints (default {every})")
    p.add_argument("--restart", action="store_true", help="ignore an existing checkpoint and start over")


def add_render(p: argparse.ArgumentParser, *, cmap: str, alpha: float | None = 0.6, vmin: str = "",
               vmax: str = "", colorbar: str = "draw a colour bar") -> None:
    """``--cmap --alpha --vmin --vmax --colorbar`` (defaults None: the command's own defaults,
    named in the help; ``vmin``/``vmax`` add to their help)."""
    p.add_argument("--cmap", default=None, help=f"matplotlib colormap name (default {cmap})")
    p.add_argument("--alpha", type=float, default=None,
                   help=f"opacity of the heat over the picture, 0..1 (default {alpha})")
    p.add_argument("--vmin", type=float, default=None, help=f"value mapped to the lowest colour{vmin}")
    p.add_argument("--vmax", type=float, default=None, help=f"value mapped to the highest colour{vmax}")
    p.add_argument("--colorbar", action="store_true", help=colorbar)


def check_output(path: Path | None, suffixes: Iterable[str], flag: str = "-o/--output") -> None:
    """Refuse an output whose extension heatcore cannot write, or whose folder is a file, before
    any work starts."""
    if path is None:
        return
    suffixes = tuple(suffixes)
    if path.suffix.lower() not in suffixes:
        raise ValueError(f"{flag} {path}: the extension must be one of {', '.join(suffixes)}")
    if path.exists() and path.is_dir():
        raise ValueError(f"{flag} {path} is a folder, not a file")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if parent.exists() and not parent.is_dir():
        raise ValueError(f"{flag} {path}: {parent} is a file, not a folder")
    if parent.exists() and not os.access(parent, os.W_OK):
        raise ValueError(f"{flag} {path}: cannot write into {parent}")


def check_folder(path: Path, flag: str = "-o/--output") -> None:
    if path.exists() and not path.is_dir():
        raise ValueError(f"{flag} {path} is a file; give a folder")


def size_arg(text: str | None, flag: str) -> tuple[int, int] | None:
    """``WxH`` → (W, H) pixels, or None."""
    if text is None:
        return None
    from .._checks import parse_size

    return parse_size(text, flag)


def classes_arg(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise ValueError(f"--classes must be comma-separated integers, got {text!r}") from None
