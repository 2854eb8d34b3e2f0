"""Where and when for any counting job: the accumulators that slice a run by time and count it per
zone, and the folder (states + ``run.json``) that ``heatcore report FOLDER`` turns into HTML.

:func:`where_when_accumulators` adds ``"sliced"`` (the job's heatmap per time slice) and
``"zones"`` (a :class:`~heatcore.zones.ZoneCounter`, sliced too when a slicing is given) to a
job's accumulators; :func:`save_run_folder` writes them after the run.
"""

from __future__ import annotations

import json
import os
import shutil
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


def _copy(src: Path, dst: Path) -> None:
    if src.resolve() != dst.resolve():
        shutil.copyfile(src, dst)


def save_run_folder(folder: str | os.PathLike[str], res: Any, *, main: str, title: str, method: str,
                    inputs: list[str], command: str = "", slicing: str | None = None,
                    zones: str | os.PathLike[str] | None = None, background: str | os.PathLike[str] | None = None,
                    homography: str | os.PathLike[str] | None = None) -> Path:
    """Save a finished run (a :class:`~heatcore.pipeline.RunResult`) for ``heatcore report``:
    ``<main>.npz`` (the whole heatmap), ``sliced.npz`` / ``zones.npz`` when the run has them, copies
    of the zones file, background image and homography, and ``run.json`` naming them. Returns the
    folder."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    run: dict[str, Any] = {"title": title, "camera": Path(inputs[0]).stem if inputs else "", "method": method,
                           "meta": {"inputs": ", ".join(inputs), "records": res.records,
                                    "run time": f"{res.seconds:.2f} s", "command": command,
                                    "slicing": slicing or "none", "zones file": str(zones or "none")}}
    res[main].save(out / f"{main}.npz")
    run["heat"] = main
    if "sliced" in res.accumulators:
        res["sliced"].save(out / "sliced.npz")
        run["heat"] = "sliced"
    if "zones" in res.accumulators and zones is not None:
        res["zones"].save(out / "zones.npz")
        run["counter"] = "zones"
        z = out / ("zones" + Path(zones).suffix.lower())
        _copy(Path(zones), z)
        run["zones"] = z.name
    if background is not None:
        b = out / ("background" + Path(background).suffix.lower())
        _copy(Path(background), b)
        run["background"] = b.name
    if homography is not None:
        _copy(Path(homography), out / "homography.json")
        run["homography"] = "homography.json"
    (out / "run.json").write_text(json.dumps(run, indent=1))
    return out
