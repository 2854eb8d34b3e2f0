"""CLI sub-commands, one module each (see ``heatcore.cli``)."""

from __future__ import annotations

from . import calibrate, demo, detect, floorplan, grid, kde, models, motion
from . import compare, report  # noqa: E402  (where and when)
from . import watch  # noqa: E402  (ingestion service)

# Order shown in ``heatcore --help``.
COMMANDS = [demo, kde, motion, grid, calibrate, detect, floorplan, models, compare, report, watch]
