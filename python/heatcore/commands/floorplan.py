"""`heatcore floorplan` (placeholder)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("floorplan", help="(not built yet)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    raise ValueError("'heatcore floorplan' is not built yet")


def demo(outdir: Path, quiet: bool = True) -> list[Path]:
    """Write this capability's example outputs under outdir; return the files written."""
    return []
