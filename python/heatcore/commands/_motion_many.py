"""`heatcore motion` over many files / cameras: kept for ``commands/motion.py``, which calls it;
the code is :mod:`heatcore.commands._many` (motion, grid, floorplan, detect)."""

from __future__ import annotations

import argparse

from . import _many


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The many-inputs options of ``heatcore motion`` (see :func:`_many.add_arguments`)."""
    _many.add_arguments(p, "motion")


def is_many(args: argparse.Namespace) -> bool:
    """Whether the command runs the many-files path (the single-file behaviour is unchanged)."""
    return _many.is_many(args, "motion")


def run_many(args: argparse.Namespace) -> int:
    """Run ``heatcore motion`` over many inputs (see :mod:`heatcore.commands._many`)."""
    return _many.run(args, "motion")
