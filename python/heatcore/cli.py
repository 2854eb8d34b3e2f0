"""The ``heatcore`` command: one sub-command per capability, plus ``demo``.

Each sub-command lives in ``heatcore/commands/<name>.py`` and exposes ``register(subparsers)``,
which adds its parser and sets ``func`` to a ``run(args) -> int`` callable. Errors the user can
fix (bad values, missing files) print one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, TypeError, FileNotFoundError, OSError, KeyError) as exc:
        msg = str(exc.args[0] if isinstance(exc, KeyError) and exc.args else exc)
        msg = " ".join(msg.split())  # one line
        if len(msg) > 2000:  # never a megabyte of quoted data (heatcore.limits)
            msg = msg[:1997] + "..."
        print(f"heatcore {args.command}: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("heatcore: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
