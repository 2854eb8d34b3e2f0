"""Where and when for any counting job: the accumulators that slice a run by time and count it per
zone, and the folder (states + ``run.json``) that ``heatcore report FOLDER`` turns into HTML.

:func:`where_when_accumulators` adds ``"sliced"`` (the job's heatmap per time slice) and
``"zones"`` (a :class:`~heatcore.zones.ZoneCounter`, sliced too when a slicing is given) to a
job's accumulators; :func:`save_run_folder` writes them after the run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

__all__ = ["where_when_accumulators", "save_run_folder"]


def where_when_accumulators(accumulators: dict[str, Any], factory: Callable[[], Any], *, slicing: str | None = None,
                            zones: str | os.PathLike[str] | None = None, tz: Any = None, homography: Any = None,
                            seconds_per_obs: float | None = None,
                            input: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Add to ``accumulators`` (and return it): ``"sliced"`` — a
    :class:`~heatcore.slices.SlicedAccumulator` of ``factory()`` heatmaps per ``slicing`` (``"15min"``,
    ``"1h"``, ``"hour"``, ``"weekday"``, ...); ``"zones"`` — a zone counter of the ``zones`` file
    (per slice when sliced; ``homography`` maps image points to the zones' plan; each detection
    stands for ``seconds_per_obs`` seconds). Records without wall-clock time get it from the time
    stamp in ``input``'s file name, if any."""
    if slicing is None and zones is None:
        return accumulators
    from .io.timestamps import start_time_from_name
    from .slices import SlicedAccumulator
    from .zones import ZoneCounter, load_zones

    start = start_time_from_name(input) if input is not None else None
    if slicing is not None:
        accumulators["sliced"] = SlicedAccumulator(factory, slicing, tz=tz, start=start)
    if zones is not None:
        zs = load_zones(zones)

        def counter() -> Any:
            return ZoneCounter(zs, homography=homography, seconds_per_obs=seconds_per_obs)

        accumulators["zones"] = SlicedAccumulator(counter, slicing, tz=tz, start=start) if slicing else counter()
    return accumulators


def save_run_folder(folder: str | os.PathLike[str], res: Any, *, main: str, title: str, method: str,
                    inputs: list[str], command: str = "", slicing: str | None = None,
                    zones: str | os.PathLike[str] | None = None, background: str | os.PathLike[str] | None = None,
                    homography: str | os.PathLike[str] | None = None) -> Path:
    """Save a finished run (a :class:`~heatcore.pipeline.RunResult`) for ``heatcore report``
    (:func:`heatcore.report.write_run_folder`): ``<main>.npz`` (the whole heatmap), ``sliced.npz``
    / ``zones.npz`` when the run has them, copies of the zones file, background image and
    homography, and ``run.json`` naming them. Returns the folder."""
    from .report import write_run_folder

    states = {main: res[main]}
    for name in ("sliced", "zones"):
        if name in res.accumulators:
            states[name] = res[name]
    meta = {"inputs": ", ".join(inputs), "records": res.records, "run time": f"{res.seconds:.2f} s",
            "command": command, "slicing": slicing or "none", "zones file": str(zones or "none")}
    return write_run_folder(folder, states, heat="sliced" if "sliced" in states else main,
                            counter="zones" if "zones" in states else None, title=title,
                            camera=Path(inputs[0]).stem if inputs else "", method=method, meta=meta,
                            zones=zones if "zones" in states else None, background=background,
                            homography=homography)
