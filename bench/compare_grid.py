"""Grid counting, CSV → per-frame JSON and overlay video: heatcore vs its NumPy twin vs the
AITRIOS sample's way of doing it, in one run, on the sample's real CSV
(../shared/data/aitrios_sample_detections.csv, 600 frames) with its settings: 1920x1080 image,
60x36 grid, point mode, spread 1, window 600.

    python bench/compare_grid.py [--quick] [--csv PATH]

Contenders:
* heatcore C++ (`grid_counts`, one call; `GridCounter.update` per frame), the NumPy twin
  (`heatcore.reference.grid`), and a pure-Python re-implementation of the sample's loop written
  from the fact sheet (`heatcore.reference.aitrios_sample`: lists, range loops, queue.Queue).
  The sample itself counts ~3000 frames/s including flatbuffer decoding (fact sheet §13).
* CSV → per-frame JSON: heatcore's pipeline (parse, count, one JSON file per frame in the
  sample's format + grids.jsonl) vs the sample's path (csv + ast.literal_eval + its loop +
  json.dump(indent=4) per frame). File creation is measured on the working disk and on tmpfs.
* Overlay video 1920x1080 (render + mp4v encode): heatcore (LUT colours, nearest upsampling,
  OpenCV blend, encoder thread) vs a matplotlib figure per frame like the sample (~1-1.6 s/frame).

Accuracy: "same as sample" compares every frame's grid with the pure-Python sample loop.
Machine noise: medians of several runs; the 2 cores may be shared with other jobs.
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))

import heatcore as hc  # noqa: E402
from heatcore import _core  # noqa: E402
from heatcore.jobs import grid_job  # noqa: E402
from heatcore.pipeline import run as _run  # noqa: E402
from heatcore.grid_output import GridVideoWriter  # noqa: E402
from heatcore.io.detections import AitriosCSV  # noqa: E402
from heatcore.reference import grid as ref  # noqa: E402
from heatcore.reference.aitrios_sample import SampleHeatMap  # noqa: E402

DEFAULT_CSV = ROOT.parent / "shared" / "data" / "aitrios_sample_detections.csv"
VIDEO = ROOT.parent / "shared" / "data" / "campus_480x360.avi"
SETTINGS = dict(image_size=(1920, 1080), grid=(60, 36), spread=1, window=600, mode="point", geometry="aitrios")
DEFAULT_CSV_USED: list[Path] = [DEFAULT_CSV]
SAMPLE_FPS = 3000.0  # fact sheet §13: the sample's counting, flatbuffer decoding included


def run_pipeline(records, counter, out, **kw):
    """CSV/records → grid outputs through the pipeline (heatcore.jobs.grid_job)."""
    return _run(grid_job(records, counter, out, **kw))


def median_time(fn, repeat: int, number: int = 1) -> float:
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(number):
            fn()
        ts.append((time.perf_counter() - t) / number)
    return statistics.median(ts)


def sample_grids(frames) -> np.ndarray:
    s = SampleHeatMap(1, 600, 1920, 1080, 60, 36, True)
    out = []
    for f in frames:
        d = s([tuple(int(v) for v in b) for b in f.xyxy[::-1]])
        out.append(np.array(d["griddata"], np.int32))
    return np.stack(out)


def table(title: str, rows: list[dict], cols: list[str]) -> None:
    print(f"### {title}\n")
    print("| " + " | ".join(cols) + " |")
    print("|" + "|".join("---" for _ in cols) + "|")
    for r in rows:
        print("| " + " | ".join(str(r.get(c, "")) for c in cols) + " |")
    print()


def fmt_rate(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:.2f}"


def bench_counting(frames, repeat: int) -> list[dict]:
    boxes = np.ascontiguousarray(np.concatenate([f.xyxy for f in frames]))
    off = np.concatenate([[0], np.cumsum([len(f) for f in frames])]).astype(np.int64)
    t_frames = len(frames)
    truth = sample_grids(frames)
    args = (1920, 1080, 60, 36, 1, "point", "aitrios", 1.0, 600)
    rows = []

    def add(name, fn, grids_fn, rep):
        dt = median_time(fn, rep)
        g = grids_fn()
        same = "yes" if np.array_equal(g, truth) else f"NO (max diff {int(np.abs(g - truth).max())})"
        rows.append({"contender": name, "median ms / 600 frames": f"{dt * 1e3:.3f}", "frames/s": fmt_rate(t_frames / dt),
                     "_fps": t_frames / dt, "same as sample": same})

    add("heatcore grid_counts (C++, 1 thread)", lambda: _core.grid_counts(boxes, off, *args, 1),
        lambda: _core.grid_counts(boxes, off, *args, 1), repeat * 10)
    add("heatcore grid_counts (C++, all threads)", lambda: _core.grid_counts(boxes, off, *args, 0),
        lambda: _core.grid_counts(boxes, off, *args, 0), repeat * 10)
    add("heatcore.grid_counts (Python API)", lambda: hc.grid_counts(boxes, off, **SETTINGS, threads=1),
        lambda: hc.grid_counts(boxes, off, **SETTINGS, threads=1), repeat * 10)

    def streaming():
        c = hc.GridCounter(**SETTINGS)
        return np.stack([c.update(f) for f in frames])

    add("heatcore GridCounter.update per frame", streaming, streaming, repeat)
    add("NumPy twin (reference.grid)", lambda: ref.grid_counts(boxes, off, *args),
        lambda: ref.grid_counts(boxes, off, *args), max(1, repeat // 2))
    add("pure-Python sample loop (from the fact sheet)", lambda: sample_grids(frames), lambda: truth,
        max(1, repeat // 2))
    # long run: the real CSV tiled 100x (60,000 frames; the (T, 36, 60) output is 518 MB)
    reps = 100 if repeat > 2 else 20
    big_b = np.tile(boxes, (reps, 1))
    big_o = np.concatenate([[0], np.cumsum(np.tile(np.diff(off), reps))]).astype(np.int64)
    dt = median_time(lambda: _core.grid_counts(big_b, big_o, *args, 0), 3)
    rows.append({"contender": f"heatcore grid_counts, CSV tiled {reps}x ({reps * 600} frames, all threads)",
                 "median ms / 600 frames": f"{dt * 1e3 / reps:.3f}", "frames/s": fmt_rate(reps * 600 / dt),
                 "_fps": reps * 600 / dt, "same as sample": "(memory-bound output)"})
    base = next(r["_fps"] for r in rows if r["contender"].startswith("pure-Python"))
    for r in rows:
        r["vs pure-Python loop"] = f"{r['_fps'] / base:,.1f}x"
        r["vs sample ~3000 f/s"] = f"{r['_fps'] / SAMPLE_FPS:,.1f}x"
    return rows


def sample_json_path(csv_path: Path, out: Path) -> None:
    """The sample's way: csv + ast.literal_eval per row, its loop, json.dump(indent=4) per frame."""
    (out / "detect").mkdir(parents=True, exist_ok=True)
    s = SampleHeatMap(1, 600, 1920, 1080, 60, 36, True)
    with open(csv_path, newline="") as fh:
        rows = csv.reader(fh)
        next(rows)
        for i, row in enumerate(rows):
            d = ast.literal_eval(row[1])
            boxes = [(o["bounding_box"]["left"], o["bounding_box"]["top"], o["bounding_box"]["right"],
                      o["bounding_box"]["bottom"]) for o in d["perception"]["object_detection_list"]][::-1]
            res = s(boxes)
            with open(out / "detect" / f"{i:08d}.json", "w", encoding="utf-8") as f:
                json.dump(res, f, indent=4)


def bench_json(csv_path: Path, repeat: int) -> list[dict]:
    rows = []
    roots = [("disk", Path(tempfile.gettempdir()))]
    if Path("/dev/shm").is_dir():
        roots.append(("tmpfs", Path("/dev/shm")))
    n = AitriosCSV(csv_path).count_rows()

    def run(fn, root: Path, rep: int) -> tuple[float, Path]:
        ts = []
        keep = None
        for _ in range(rep):
            d = Path(tempfile.mkdtemp(prefix="hc-grid-bench-", dir=root))  # fresh folder: new files
            t = time.perf_counter()
            fn(d)
            ts.append(time.perf_counter() - t)
            if keep is not None:
                shutil.rmtree(keep)
            keep = d
        return statistics.median(ts), keep

    def heatcore_json(d: Path) -> None:
        run_pipeline(AitriosCSV(csv_path), hc.GridCounter(**SETTINGS), d, reverse=True)

    def heatcore_jsonl(d: Path) -> None:
        run_pipeline(AitriosCSV(csv_path), hc.GridCounter(**SETTINGS), d, per_frame_json=False)

    def bare_files(d: Path) -> None:
        """The floor: just create 600 files of the JSON's size (no parsing, counting or formatting)."""
        data = b"x" * 31000
        for i in range(n):
            fd = os.open(d / f"{i:08d}.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.write(fd, data)
            os.close(fd)

    for where, root in roots:
        dt_f, d_f = run(bare_files, root, repeat)
        shutil.rmtree(d_f, ignore_errors=True)
        dt_s, d_s = run(lambda d: sample_json_path(csv_path, d), root, max(1, repeat // 2))
        dt_h, d_h = run(heatcore_json, root, repeat)
        # byte-identical files?
        same = all((d_h / "detect" / f"{i:08d}.json").read_bytes() == (d_s / "detect" / f"{i:08d}.json").read_bytes()
                   for i in range(0, n, 7))
        dt_l, d_l = run(heatcore_jsonl, root, repeat)
        for name, dt, note in [
            (f"heatcore: CSV → 600 per-frame JSON + grids.jsonl ({where})", dt_h,
             "byte-identical" if same else "DIFFERENT"),
            (f"heatcore: CSV → grids.jsonl only ({where})", dt_l, "same grids"),
            (f"sample's path: literal_eval + loop + json.dump(indent=4) ({where})", dt_s, "reference"),
            (f"floor: create 600 files of 31 KB, nothing else ({where})", dt_f, "-"),
        ]:
            rows.append({"contender": name, "median s": f"{dt:.3f}", "frames/s": fmt_rate(n / dt), "_fps": n / dt,
                         "files": note})
        for d in (d_s, d_h, d_l):
            shutil.rmtree(d, ignore_errors=True)
    for r in rows:
        r["vs sample ~3000 f/s"] = f"{r['_fps'] / SAMPLE_FPS:,.1f}x"
    return rows


def bench_video(frames, quick: bool) -> list[dict]:
    import cv2

    from heatcore.io.video import iter_frames

    n = 60 if quick else 200
    pics = []
    if VIDEO.exists():
        for _, f in iter_frames(VIDEO, stop=100):
            pics.append(cv2.resize(f, (1920, 1080), interpolation=cv2.INTER_LINEAR))
    else:
        rng = np.random.default_rng(0)
        base = cv2.GaussianBlur(rng.integers(0, 255, (1080, 1920, 3), dtype=np.uint8), (31, 31), 0)
        pics = [np.roll(base, 8 * i, axis=1) for i in range(50)]
    grids = hc.grid_counts(frames, **SETTINGS)
    rows = []
    for name, use_pics, cbar in [("overlay on 1920x1080 frames", True, False), ("heat alone", False, False),
                                 ("overlay + colour bar", True, True)]:
        d = Path(tempfile.mkdtemp(prefix="hc-grid-video-"))
        vw = GridVideoWriter(d, name="bench", fps=30, size=(1920, 1080), cmap="Reds", vmin=0, vmax=0, window=600,
                             alpha=0.4, colorbar=cbar)
        t = time.perf_counter()
        for i in range(n):
            vw.write(grids[i % len(grids)], len(frames[i % len(frames)]), pics[i % len(pics)] if use_pics else None)
        vw.close()
        dt = time.perf_counter() - t
        cap = cv2.VideoCapture(str(vw.path))
        ok = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == n
        cap.release()
        rows.append({"contender": f"heatcore GridVideoWriter: {name} (render + mp4v encode)",
                     "frames": n, "frames/s": fmt_rate(n / dt), "_fps": n / dt, "check": "ok" if ok else "BAD"})
        shutil.rmtree(d)
    # the whole pipeline: CSV rows + a 1920x1080 input video (decoded) -> JSON + overlay video
    d = Path(tempfile.mkdtemp(prefix="hc-grid-pipe-"))
    src = d / "in1080.mp4"
    w = cv2.VideoWriter(str(src), cv2.VideoWriter_fourcc(*"mp4v"), 30, (1920, 1080))
    for i in range(n):
        w.write(pics[i % len(pics)])
    w.release()
    csv_n = d / "rows.csv"
    with open(DEFAULT_CSV_USED[0], newline="") as fh:
        lines = fh.read().split("\n")
    csv_n.write_text("\n".join(lines[: n + 1]) + "\n", newline="")
    t = time.perf_counter()
    run_pipeline(AitriosCSV(csv_n, video=src), hc.GridCounter(**SETTINGS), d / "out", reverse=True,
                 video=dict(name="in1080", fps=30, size=(1920, 1080), cmap="Reds", vmax=0, window=600, alpha=0.4))
    dt = time.perf_counter() - t
    rows.append({"contender": "heatcore pipeline: CSV + 1920x1080 input video (decode) → JSON + overlay video",
                 "frames": n, "frames/s": fmt_rate(n / dt), "_fps": n / dt, "check": "ok"})
    shutil.rmtree(d)
    # the sample's way: a matplotlib figure per frame, saved to JPEG, read back, resized
    k = 2 if quick else 4
    dt = matplotlib_frames(grids, pics, k)
    rows.append({"contender": "matplotlib figure per frame (the sample's method)", "frames": k,
                 "frames/s": fmt_rate(k / dt), "_fps": k / dt, "check": "reference"})
    base = rows[-1]["_fps"]
    for r in rows:
        r["vs matplotlib"] = f"{r['_fps'] / base:,.0f}x"
    return rows


def matplotlib_frames(grids, pics, k: int) -> float:
    import cv2
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = Path(tempfile.mkdtemp(prefix="hc-grid-mpl-"))
    w = cv2.VideoWriter(str(d / "m.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 30, (1920, 1080))
    t = time.perf_counter()
    for i in range(k):
        g = grids[i]
        plt.clf()
        plt.close()
        fig = plt.figure(figsize=(19.2, 10.8), dpi=100)
        ax = fig.add_subplot(111)
        ax.imshow(cv2.cvtColor(pics[i % len(pics)], cv2.COLOR_BGR2RGB))
        big = [[int(g[v // 30][h // 32]) for h in range(1920)] for v in range(1080)]  # the sample's Python blow-up
        ax.imshow(big, vmin=0, vmax=600, cmap="Reds", alpha=0.4)
        ax.axis("off")
        fig.savefig(d / "o.jpg", bbox_inches="tight", pad_inches=0)
        img = cv2.resize(cv2.imread(str(d / "o.jpg")), (1920, 1080))
        w.write(img)
    dt = time.perf_counter() - t
    w.release()
    plt.close("all")
    shutil.rmtree(d)
    return dt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    ap.add_argument("--csv", type=Path, default=DEFAULT_CSV, help="the sample's detection CSV")
    args = ap.parse_args()
    if not args.csv.exists():
        print(f"no CSV at {args.csv}; nothing to compare")
        return 0
    repeat = 3 if args.quick else 7
    DEFAULT_CSV_USED[0] = args.csv
    frames = list(AitriosCSV(args.csv))
    print(f"{len(frames)} frames, {sum(len(f) for f in frames)} boxes; settings {SETTINGS}; "
          f"{os.cpu_count()} cores (possibly shared)\n")
    rows = bench_counting(frames, repeat)
    table("Counting (target: >= 1,000,000 frames/s)", rows,
          ["contender", "median ms / 600 frames", "frames/s", "vs pure-Python loop", "vs sample ~3000 f/s",
           "same as sample"])
    rows = bench_json(args.csv, repeat)
    table("CSV → outputs end to end (target: >= 20x the sample's ~3000 frames/s)", rows,
          ["contender", "median s", "frames/s", "vs sample ~3000 f/s", "files"])
    rows = bench_video(frames, args.quick)
    table("Overlay video 1920x1080 (target: >= 50 frames/s; the sample ~0.6)", rows,
          ["contender", "frames", "frames/s", "vs matplotlib", "check"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
