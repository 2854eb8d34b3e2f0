"""The ``heatcore`` command: one sub-command per capability, plus ``demo``.

Each sub-command lives in ``heatcore/commands/<name>.py`` and exposes ``register(subparsers)``,
which adds its parser and sets ``func`` to a ``run(args) -> int`` callable that builds a job and
calls the library. Errors the user can fix (bad values, missing or corrupt files, not enough
memory) print one line and exit with status 2; warnings print as one line
``heatcore: warning: ...``. ``HEATCORE_DEBUG=1`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
import zipfile
from typing import Any, Sequence

from .commands import COMMANDS


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="heatcore",
        description="Fast heatmaps from points, video motion, detections and floor plans.",
    )
    parser.add_argument("--version", action="version", version=f"heatcore {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in COMMANDS:
        module.register(sub)
    return parser


def _check_common(args: argparse.Namespace) -> None:
    """Checks shared by every sub-command's flags (one place): --alpha is an opacity in [0, 1]."""
    if getattr(args, "alpha", None) is not None:
        from .render import check_alpha

        check_alpha(args.alpha, "--alpha")


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    text = str(message).strip().replace("\n", " ")
    print(f"heatcore: warning: {text}", file=sys.stderr)


def _expected_errors() -> tuple[type[BaseException], ...]:
    errs: list[type[BaseException]] = [ValueError, TypeError, FileNotFoundError, OSError, KeyError, MemoryError,
                                       zipfile.BadZipFile, EOFError, RecursionError, OverflowError, RuntimeError]
    try:
        import cv2

        errs.append(cv2.error)
    except ImportError:  # pragma: no cover
        pass
    return tuple(errs)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():  # restores the filters and showwarning on the way out
            warnings.simplefilter("default")  # a warning is one printed line, never an exception
            warnings.showwarning = _show_warning  # type: ignore[assignment]
            _check_common(args)
            return int(args.func(args) or 0)
    except _expected_errors() as exc:
        if os.environ.get("HEATCORE_DEBUG"):
            raise
        if isinstance(exc, KeyError) and exc.args:
            msg: Any = str(exc.args[0])
        elif isinstance(exc, MemoryError):
            msg = f"not enough memory{': ' + str(exc) if str(exc) else ''} (try a smaller size, --scale or --stride)"
        else:
            msg = str(exc).strip() or type(exc).__name__
            if type(exc).__module__ == "cv2" or type(exc).__name__ == "error":
                msg = f"OpenCV: {msg.splitlines()[-1]}"
        msg = " ".join(str(msg).split())  # one line
        if len(msg) > 2000:  # never a megabyte of quoted data (heatcore.limits)
            msg = msg[:1997] + "..."
        print(f"heatcore {args.command}: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("heatcore: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
