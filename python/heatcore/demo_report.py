"""The demo's report: a synthetic shop camera over a morning, sliced by time, with two zones and
a layout change halfway (``heatcore demo`` writes it to ``<out>/report/report.html``).

Eight time-stamped segments of 15 minutes (one every 30 minutes from 08:00 to 11:45 UTC, as a
camera that records on motion would leave them) show people walking in from the door at the
bottom and browsing a display. At 10:00 the display moves from the left of the shop to the right:
the comparison "before vs after" shows where the people went.
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any

import numpy as np

from .records import Detections

__all__ = ["synthetic_day", "demo", "DEMO_ZONES", "CHANGE"]

SIZE = (640, 480)  # camera image (W, H) pixels
DAY = _dt.datetime(2026, 11, 30, tzinfo=_dt.timezone.utc)
CHANGE = (DAY + _dt.timedelta(hours=10)).timestamp()  # the layout change
DISPLAY_BEFORE = np.array([170.0, 250.0])  # where people browse (feet, image pixels)
DISPLAY_AFTER = np.array([480.0, 250.0])
DOOR = np.array([320.0, 470.0])
DEMO_ZONES = {"units": "image", "zones": [
    {"name": "left display", "polygon": [[40, 170], [300, 170], [300, 340], [40, 340]]},
    {"name": "right display", "polygon": [[340, 170], [600, 170], [600, 340], [340, 340]]},
]}


def _segment(start: float, seconds: float, fps: float, rate: float, display: np.ndarray, rng: np.random.Generator,
             source: str) -> list[Detections]:
    """People arriving (``rate`` per minute) walk from the door to ``display``, browse 20-90 s,
    and walk back; one Detections record per frame with track ids, time and wall-clock time."""
    n = int(seconds * fps)
    people = []
    t = rng.exponential(60.0 / rate)
    tid = 0
    while t < seconds:
        walk = rng.uniform(8, 14)
        stay = rng.uniform(20, 90)
        target = display + rng.normal(0, 28, 2)
        people.append((tid, t, walk, stay, target, rng.normal(0, 10, 2)))
        tid += 1
        t += rng.exponential(60.0 / rate)
    out = []
    for i in range(n):
        ts = i / fps
        feet = []
        ids = []
        for pid, t0, walk, stay, target, off in people:
            u = ts - t0
            if u < 0 or u > 2 * walk + stay:
                continue
            if u < walk:
                p = DOOR + off + (target - DOOR - off) * (u / walk)
            elif u < walk + stay:
                p = target + rng.normal(0, 3, 2)
            else:
                p = target + (DOOR + off - target) * ((u - walk - stay) / walk)
            feet.append(p)
            ids.append(pid)
        f = np.array(feet, np.float64).reshape(-1, 2)
        h = 60 + 0.25 * f[:, 1]  # nearer (lower) people look taller
        xyxy = np.stack([f[:, 0] - 0.2 * h, f[:, 1] - h, f[:, 0] + 0.2 * h, f[:, 1]], 1)
        out.append(Detections(xyxy, np.full(len(f), 0.9), np.zeros(len(f), np.int64), np.array(ids, np.int64),
                              frame=i, time=ts, wall=start + ts, source=source))
    return out


def synthetic_day(seed: int = 5, fps: float = 0.5, segment_s: float = 900.0) -> list[tuple[str, list[Detections]]]:
    """``[(segment name, records)]``: 8 segments (08:00, 08:30, ... 11:30 UTC) of ``segment_s``
    seconds at ``fps``; visitors per minute rise towards noon; the display moves at 10:00."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(8):
        start = (DAY + _dt.timedelta(hours=8, minutes=30 * k)).timestamp()
        name = "cam1_" + _dt.datetime.fromtimestamp(start, _dt.timezone.utc).strftime("%Y-%m-%d_%H-%M-%S")
        display = DISPLAY_BEFORE if start < CHANGE else DISPLAY_AFTER
        out.append((name, _segment(start, segment_s, fps, 1.0 + 0.5 * k, display, rng, name)))
    return out


def _background() -> np.ndarray:
    """The shop as the camera sees it (RGB): floor, back wall, door."""
    import cv2

    W, H = SIZE
    img = np.full((H, W, 3), (206, 200, 190), np.uint8)
    img[:150] = (150, 160, 172)
    for x in range(0, W, 40):
        cv2.line(img, (x, 150), (int(W / 2 + (x - W / 2) * 1.8), H), (188, 182, 172), 1, cv2.LINE_AA)
    cv2.rectangle(img, (285, 440), (355, 479), (110, 90, 70), -1)
    cv2.putText(img, "door", (300, 435), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (60, 50, 40), 1, cv2.LINE_AA)
    return img


def demo(outdir: str | Path, quiet: bool = True) -> list[Path]:
    """Run the synthetic morning through the pipeline (sliced grid heatmap + zone counter, both
    checkpointable), save the states, zones, background and ``run.json`` into ``outdir`` and
    build ``report.html`` there (with the before/after comparison). Returns the files written."""
    import cv2

    from .grid import GridCounter
    from .pipeline import Job, run
    from .report import report_from_folder
    from .slices import SlicedAccumulator
    from .sources import RecordsSource
    from .zones import Zones, ZoneCounter, write_table

    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    zones = Zones.from_dict(DEMO_ZONES)
    fps = 0.5
    segments = synthetic_day(fps=fps)
    records = [r for _, recs in segments for r in recs]
    grid = SlicedAccumulator(lambda: GridCounter(image_size=SIZE, grid=(64, 48), mode="point", spread=1), "30min")
    counter = SlicedAccumulator(lambda: ZoneCounter(zones, seconds_per_obs=1.0 / fps), "30min")
    res = run(Job(RecordsSource(records, fingerprint={"demo": "synthetic morning", "records": len(records)}, batch=256),
                  {"grid": grid, "zones": counter}, quiet=quiet, desc="report demo"))
    files = [res["grid"].save(out / "grid.npz"), res["zones"].save(out / "zones.npz")]
    (out / "zones.json").write_text(json.dumps(DEMO_ZONES, indent=1))
    cv2.imwrite(str(out / "background.png"), cv2.cvtColor(_background(), cv2.COLOR_RGB2BGR))
    split = grid.key_at(CHANGE, "wall")
    run_json: dict[str, Any] = {
        "title": "Shop floor, morning of 30 Nov 2026",
        "camera": "cam1 (synthetic)",
        "method": "grid counts of feet, 64x48 cells",
        "heat": "grid", "counter": "zones", "zones": "zones.json", "background": "background.png",
        "compare": {"a": f":{split}", "b": f"{split}:", "per": "hour",
                    "label_a": "before the layout change (08:00-10:00)",
                    "label_b": "after the layout change (10:00-12:00)"},
        "meta": {"inputs": ", ".join(n + ".mp4" for n, _ in segments), "segments": len(segments),
                 "records (frames)": len(records), "frame rate": f"{fps} fps (one detection record every 2 s)",
                 "run time": f"{res.seconds:.2f} s", "layout change": "2026-11-30 10:00 UTC (display moved right)"},
    }
    (out / "run.json").write_text(json.dumps(run_json, indent=1))
    rep = report_from_folder(out)
    from .zones import zone_table

    rows = zone_table(zones, heat=res["grid"], counter=res["zones"])
    files += [write_table(rows, out / "zone_table.csv"), write_table(rows, out / "zone_table.json")]
    rep.figures["comparison"].savefig(out / "comparison.png", dpi=100)
    files += [out / "comparison.png", out / "run.json", out / "report.html"]
    return files
