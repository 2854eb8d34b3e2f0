"""`heatcore grid`: detection grid-count heatmaps (AITRIOS human-heatmap compatible).

Two ways to call it:

* ``heatcore grid --config heat_map_app.yaml [--geometry aitrios]`` — the AITRIOS sample's own
  YAML files (app config + param file), its folder layout (``<output_dir>/detect/*.json`` and
  ``<output_dir>/video/<name>_heatmap.mp4``) and, with ``--geometry aitrios``, its exact numbers.
* ``heatcore grid detections.csv [--video v.mp4] --image-size 1920x1080 --grid 60x36 --spread 1
  --window 600 --mode point -o out/`` — the sample's CSV, a long CSV
  (``frame,left,top,right,bottom[,score,class_id]``) or an ``.npz`` of arrays.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from .._checks import parse_size

_EPILOG = """examples:
  heatcore grid --config config/heat_map_app.yaml --geometry aitrios
  heatcore grid sample.csv --video sample.mp4 --image-size 1920x1080 --grid 60x36 \\
      --spread 1 --window 600 --mode point -o out/
  heatcore grid boxes_long.csv --image-size 1280x720 --grid 32x18 --mode box --no-video -o out/

outputs: <out>/detect/00000000.json ... (one per frame, the sample's schema), <out>/grids.jsonl
(all frames, one line each), <out>/video/<name>_heatmap.mp4 (overlay video)."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "grid",
        help="detection grid-count heatmaps: per-frame JSON + overlay video (AITRIOS sample compatible)",
        description="Count detections per grid cell over a sliding window of frames and write the "
        "AITRIOS human-heatmap sample's per-frame JSON, one compact file with every frame's grid, and a "
        "heatmap overlay video. Coordinates are image pixels; grids are Nv rows x Nh columns.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("detections", nargs="?", type=Path,
                   help="detections: the sample's CSV, a long CSV frame,left,top,right,bottom[,score,class_id], "
                        "or an .npz with boxes (M,4) and offsets (T+1,) or frame (M,) [scores, class_ids]")
    p.add_argument("--config", type=Path, help="the sample's app YAML (heat_map_app.yaml); replaces the options below")
    p.add_argument("--video", type=Path, help="video (or image folder) paired with the detections by frame index")
    p.add_argument("--image-size", help="pixel space of the boxes, WxH (default: the video's size)")
    p.add_argument("--grid", default="60x36", help="cells across x down, NhxNv (default 60x36)")
    p.add_argument("--spread", type=int, default=1, help="neighbour spread in cells (default 1)")
    p.add_argument("--window", type=int, default=0, help="sliding window in frames, 0 = all frames (default 0)")
    p.add_argument("--mode", choices=["box", "point"], default="box",
                   help="box: count whole boxes; point: one point per box (default box)")
    p.add_argument("--anchor", type=float, default=1.0,
                   help="point mode: point on the box's vertical centre line, 0 = top, 1 = bottom/feet (default 1)")
    p.add_argument("--geometry", choices=["exact", "aitrios"], default=None,
                   help="exact (default): documented algorithm without the sample's bugs; aitrios: the sample's "
                        "numbers bit for bit, quirks included")
    p.add_argument("--classes", help="only these class ids, comma-separated (default: all)")
    p.add_argument("--min-score", type=float, help="only detections with score >= this (default: all)")
    p.add_argument("--format", choices=["auto", "aitrios", "long", "npz"], default="auto",
                   help="detections file format (default: by content)")
    p.add_argument("--skip-bad-rows", action="store_true",
                   help="skip malformed CSV rows (counted and reported) instead of stopping")
    p.add_argument("-o", "--out", type=Path, help="output folder (default: output_dir of --config, else ./grid-out)")
    p.add_argument("--no-video", action="store_true", help="do not write the overlay video")
    p.add_argument("--no-json", action="store_true", help="do not write per-frame JSON files")
    p.add_argument("--compact", default="grids.jsonl",
                   help="file (in the output folder) with every frame's grid: *.jsonl (streamed) or *.npz, "
                        "or 'none' (default grids.jsonl)")
    p.add_argument("--fps", type=float, default=None, help="video frame rate (default: the input video's, else 30)")
    p.add_argument("--video-size", help="overlay video size WxH (default: the image size)")
    p.add_argument("--cmap", default=None, help="matplotlib colormap name (default Reds)")
    p.add_argument("--vmin", type=float, default=None, help="count mapped to the lowest colour (default 0)")
    p.add_argument("--vmax", type=float, default=None,
                   help="count mapped to the highest colour; 0 = the window length (default 0)")
    p.add_argument("--alpha", type=float, default=None, help="heat opacity over the video frames, 0..1 (default 0.4)")
    p.add_argument("--colorbar", action="store_true", help="add a colour bar strip on the right of the video")
    p.add_argument("--threads", type=int, default=0, help="worker threads for counting (0 = all cores)")
    p.add_argument("--checkpoint", type=Path,
                   help="save the counter here every --checkpoint-every frames and resume from it (needs --no-video)")
    p.add_argument("--checkpoint-every", type=int, default=5000, help="frames between checkpoints (default 5000)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--max-frame-gap", type=int, default=None,
                   help="largest jump between consecutive frame numbers of a long CSV / .npz (the empty frames "
                        "between are written out; default 1000000, see heatcore.limits)")
    p.add_argument("--print-config", action="store_true",
                   help="print a commented template of the sample's YAML files (every key, type, default) and exit")
    p.set_defaults(func=run)


# ---------------------------------------------------------------------------------------------
# the pipeline (shared by both forms, the demo and the benchmarks)
# ---------------------------------------------------------------------------------------------

def _chunks(it: Iterable[Any], n: int) -> Iterator[list[Any]]:
    it = iter(it)
    while True:
        batch = list(itertools.islice(it, n))
        if not batch:
            return
        yield batch


def run_pipeline(frames: Iterable[Any], counter: Any, outdir: Path, *, per_frame_json: bool = True,
                 compact: str | None = "grids.jsonl", video: dict[str, Any] | None = None,
                 reverse: bool = False, total: int | None = None, quiet: bool = True, chunk: int = 256,
                 threads: int | None = None, checkpoint: Path | None = None, checkpoint_every: int = 5000,
                 skip: int = 0) -> dict[str, Any]:
    """Count ``frames`` (DetectionFrames) with ``counter`` (a GridCounter) and write the outputs.

    ``video``: keyword arguments for :class:`~heatcore.grid_output.GridVideoWriter` (None: no video).
    Frames are counted ``chunk`` at a time in one C++ call each (8 at a time when frames carry
    images, to bound memory). ``skip``: frames already done (resume). Returns a summary dict.
    """
    from ..grid_output import GridCompactWriter, GridJsonWriter, GridVideoWriter
    from ..progress import progress

    outdir.mkdir(parents=True, exist_ok=True)
    jw = GridJsonWriter(outdir, counter.mode, reverse=reverse) if per_frame_json else None
    if jw is not None:
        jw.counter = skip  # local frames have no timestamps: names continue after a resume
    cw = None
    if compact and compact != "none":
        cpath = outdir / compact
        if skip and cpath.suffix == ".jsonl" and cpath.exists():
            cw = GridCompactWriter.__new__(GridCompactWriter)
            cw.path, cw.kind, cw.frames = cpath, ".jsonl", skip
            cw._fh = open(cpath, "ab")
            cw._grids, cw._n, cw._ts = [], [], []
        else:
            cw = GridCompactWriter(cpath)
    vw = GridVideoWriter(outdir, **video) if video is not None else None
    point = counter.mode == "point"
    t0 = time.perf_counter()
    done = skip
    last_ck = skip

    def emit(f: Any, grid: np.ndarray) -> None:
        boxes = counter.select(f)
        ts = getattr(f, "timestamp", None)
        if jw is not None:
            pts = counter.points(boxes) if point else None
            jw.write(grid, boxes, points=pts, timestamp=ts)
        if cw is not None:
            cw.write(grid, len(boxes), ts)
        if vw is not None:
            vw.write(grid, len(boxes), getattr(f, "image", None))

    from ..io.detections import AitriosCSV

    try:
        if isinstance(frames, AitriosCSV) and frames.video is None:
            done = _run_chunks(frames, counter, jw, cw, vw, reverse=reverse, total=total, quiet=quiet,
                               threads=threads, skip=skip, emit=emit, checkpoint=checkpoint,
                               checkpoint_every=checkpoint_every)
            frames = ()
        stream = progress(frames, total=total, desc="grid", unit="frame", quiet=quiet, initial=skip)
        size = chunk if video is None else min(chunk, 8)
        for batch in _chunks(stream, size):
            try:
                grids = counter.update_many(batch, threads=threads)
            except ValueError:
                # Write the frames before the bad one, like the sample, then stop with its message.
                for f in batch:
                    emit(f, counter.update(f))
                    done += 1
                raise
            for f, g in zip(batch, grids):
                emit(f, g)
            done += len(batch)
            if checkpoint is not None and done - last_ck >= checkpoint_every:
                _save_checkpoint(counter, checkpoint, done)
                last_ck = done
    finally:
        if jw is not None:
            jw.close()
        if cw is not None:
            cw.close()
        if vw is not None:
            vw.close()
    if checkpoint is not None:
        _save_checkpoint(counter, checkpoint, done)
    dt = time.perf_counter() - t0
    return {
        "frames": done,
        "seconds": dt,
        "json_dir": None if jw is None else jw.dir,
        "json_files": 0 if jw is None else jw.written,
        "compact": None if cw is None else cw.path,
        "video": None if vw is None else vw.path,
        "final_grid": counter.result(),
    }


def _run_chunks(reader: Any, counter: Any, jw: Any, cw: Any, vw: Any, *, reverse: bool, total: int | None,
                quiet: bool, threads: int | None, skip: int, emit: Any, checkpoint: Path | None,
                checkpoint_every: int) -> int:
    """The fast path for the sample's CSV without pictures: chunks of frames are parsed, counted and
    formatted in C++; Python only hands documents to the file writers."""
    from .. import _core
    from ..grid import grid_points
    from ..grid_output import frame_json

    bar = None
    if not quiet:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, initial=skip, desc="grid", unit="frame", dynamic_ncols=True, leave=False)
    done = skip
    last_ck = skip
    to_skip = skip
    point = counter.mode == "point"
    try:
        for chunk in reader.iter_chunks(rows=4096):
            if to_skip:
                if to_skip >= len(chunk):
                    to_skip -= len(chunk)
                    continue
                a = int(chunk.offsets[to_skip])
                chunk = type(chunk)(first=chunk.first + to_skip, boxes=chunk.boxes[a:], scores=chunk.scores[a:],
                                    class_ids=chunk.class_ids[a:], offsets=chunk.offsets[to_skip:] - a)
                to_skip = 0
            try:
                grids, kb, ko = counter.update_packed(chunk.boxes, chunk.offsets, chunk.scores, chunk.class_ids,
                                                      threads=threads)
            except ValueError:
                for f in chunk.frames():  # write the frames before the bad one, then stop like the sample
                    emit(f, counter.update(f))
                    done += 1
                raise
            counts = np.diff(ko)
            if jw is not None:
                pts = grid_points(kb, geometry=counter.geometry, anchor=counter.anchor) if point else None
                for i in range(0, len(grids), 128):  # sub-chunks keep the text buffer in cache
                    j = min(len(grids), i + 128)
                    text, ends = _core.format_frames_json(grids[i:j], kb, ko[i:j + 1], pts, reverse)
                    view = memoryview(text)
                    pos = 0
                    for t in range(j - i):
                        e = int(ends[t + 1])
                        if e >= 0:
                            jw.write_bytes(view[pos:e])
                            pos = e
                            continue
                        pos = -1 - e  # non-integer values: Python's number formatting
                        b = kb[ko[i + t]:ko[i + t + 1]]
                        p = None if pts is None else pts[ko[i + t]:ko[i + t + 1]]
                        if reverse:
                            b, p = b[::-1], (None if p is None else p[::-1])
                        jw.write_bytes(frame_json(grids[i + t], b, mode=counter.mode, points=p).encode("utf-8"))
            if cw is not None:
                cw.write_many(grids, counts)
            if vw is not None:
                for t in range(len(grids)):
                    vw.write(grids[t], int(counts[t]), None)
            done += len(grids)
            if bar is not None:
                bar.update(len(grids))
            if checkpoint is not None and done - last_ck >= checkpoint_every:
                _save_checkpoint(counter, checkpoint, done)
                last_ck = done
    finally:
        if bar is not None:
            bar.close()
    return done


def _save_checkpoint(counter: Any, path: Path, done: int) -> None:
    from ..accumulator import _write_state

    _write_state(path, counter, done=done)


def _load_checkpoint(path: Path, fresh: Any) -> tuple[Any, int]:
    from ..accumulator import load_state

    if not path.exists():
        return fresh, 0
    loaded = load_state(path)
    if type(loaded) is not type(fresh) or loaded.config() != fresh.config():
        raise ValueError(f"checkpoint {path} was written with a different configuration; delete it or pick another path")
    with np.load(path, allow_pickle=False) as data:
        done = int(data["__done__"]) if "__done__" in data.files else 0
    return loaded, done


# ---------------------------------------------------------------------------------------------
# sources
# ---------------------------------------------------------------------------------------------

def _sniff_format(path: Path) -> str:
    if path.suffix.lower() == ".npz":
        return "npz"
    with open(path, encoding="utf-8", errors="replace") as fh:
        fh.readline()
        second = fh.readline()
    return "aitrios" if "{" in second else "long"


def _npz_frames(path: Path, max_frame_gap: int | None = None) -> tuple[Iterator[Any], int]:
    from ..io.detections import frames_from_arrays
    from ..limits import check_frame_numbers

    from ..limits import check_npz

    check_npz(path, str(path))  # no zip bombs
    try:
        with np.load(path, allow_pickle=False) as d:
            if "boxes" not in d.files:
                raise ValueError(f"{path}: an .npz of detections needs 'boxes' (M, 4) and 'offsets' or 'frame'")
            arrays = {k: d[k] for k in d.files}
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001 - NumPy and zipfile raise many kinds on damaged archives
        raise ValueError(f"{path} is a damaged .npz file ({exc})") from None
    kw = {k: arrays[k] for k in ("offsets", "frame", "scores", "class_ids") if k in arrays}
    if "frame" in kw:
        check_frame_numbers(kw["frame"], f"{path.name}: frame", max_frame_gap)  # before any output
    it = frames_from_arrays(arrays["boxes"], max_frame_gap=max_frame_gap, **kw)
    total = len(arrays["offsets"]) - 1 if "offsets" in arrays else (int(arrays["frame"].max()) + 1 if len(arrays["frame"]) else 0)
    return it, total


def _parse_classes(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise ValueError(f"--classes must be comma-separated integers, got {text!r}") from None


def _report(summary: dict[str, Any], skipped: list | None, quiet: bool) -> None:
    n, dt = summary["frames"], summary["seconds"]
    rate = n / dt if dt > 0 else float("inf")
    print(f"heatcore grid: {n} frames in {dt:.2f} s ({rate:,.0f} frames/s)")
    if summary["json_dir"] is not None:
        print(f"  per-frame JSON: {summary['json_dir']} ({summary['json_files']} files)")
    if summary["compact"] is not None:
        print(f"  all grids: {summary['compact']}")
    if summary["video"] is not None:
        print(f"  video: {summary['video']}")
    if skipped:
        print(f"  skipped {len(skipped)} malformed rows (first: row {skipped[0][0]}, line {skipped[0][1]}: {skipped[0][2]})",
              file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    if getattr(args, "print_config", False):
        from ..io.aitrios_config import config_template

        print(config_template(), end="")
        return 0
    if args.fps is not None and not 0 < args.fps < float("inf"):
        raise ValueError(f"--fps must be a frame rate > 0, got {args.fps!r}")
    if args.compact and args.compact != "none" and (Path(args.compact).name != args.compact or args.compact in (".", "..")):
        raise ValueError(f"--compact must be a file name inside the output folder, got {args.compact!r}")
    if args.config is not None:
        return _run_config(args)
    if args.detections is None:
        raise ValueError("give a detections file or --config heat_map_app.yaml")
    return _run_file(args)


def _video_kwargs(args: argparse.Namespace, size: tuple[int, int], window: int, name: str | None,
                  fps: float, geometry: str) -> dict[str, Any]:
    return dict(name=name, fps=fps, size=size, cmap=args.cmap or "Reds",
                vmin=0.0 if args.vmin is None else args.vmin, vmax=0.0 if args.vmax is None else args.vmax,
                window=window, alpha=0.4 if args.alpha is None else args.alpha, overlay=True,
                colorbar=args.colorbar, sticky_opaque=geometry == "aitrios",
                text_color=(0, 225, 0) if geometry == "aitrios" else (0, 255, 0))


def _run_file(args: argparse.Namespace) -> int:
    from ..grid import GridCounter
    from ..io.detections import AitriosCSV, read_long_csv

    path: Path = args.detections
    if not path.exists():
        raise FileNotFoundError(f"no such detections file: {path}")
    geometry = args.geometry or "exact"
    fmt = _sniff_format(path) if args.format == "auto" else args.format
    vinfo = None
    if args.video is not None:
        from ..io.video import video_info

        if not args.video.exists():
            raise FileNotFoundError(f"no such video: {args.video}")
        vinfo = video_info(args.video)
    if args.image_size:
        image_size = parse_size(args.image_size, "--image-size")
    elif vinfo is not None:
        image_size = (vinfo.width, vinfo.height)
    else:
        raise ValueError("--image-size WxH is needed (the pixel space of the boxes) when there is no --video")
    grid = parse_size(args.grid, "--grid")
    counter = GridCounter(image_size=image_size, grid=grid, spread=args.spread, window=args.window, mode=args.mode,
                          anchor=args.anchor, classes=_parse_classes(args.classes), min_score=args.min_score,
                          geometry=geometry)
    skipped = None
    reader = None
    if fmt == "aitrios":
        reader = AitriosCSV(path, on_error="skip" if args.skip_bad_rows else "raise", video=args.video)
        frames: Iterable[Any] = reader
        total = reader.count_rows()
    elif fmt == "long":
        if args.video is not None:
            raise ValueError("--video pairs with the sample's CSV only; long CSVs carry no frame pictures here")
        frames, total = read_long_csv(path, max_frame_gap=args.max_frame_gap), None
    else:
        frames, total = _npz_frames(path, args.max_frame_gap)
    out = args.out or Path("grid-out")
    name = None if args.video is None else args.video.stem
    video = None
    if not args.no_video:
        if args.checkpoint is not None:
            raise ValueError("--checkpoint resumes counting and JSON; add --no-video (a video cannot be resumed)")
        vsize = parse_size(args.video_size, "--video-size") if args.video_size else image_size
        fps = args.fps or (vinfo.fps if vinfo is not None and vinfo.fps > 0 else 30.0)
        video = _video_kwargs(args, vsize, counter.window, name, fps, geometry)
    skip = 0
    if args.checkpoint is not None:
        counter, skip = _load_checkpoint(args.checkpoint, counter)
        if skip:
            frames = itertools.islice(frames, skip, None)
    summary = run_pipeline(frames, counter, out, per_frame_json=not args.no_json, compact=args.compact,
                           video=video, reverse=geometry == "aitrios" and fmt == "aitrios", total=total,
                           quiet=args.quiet, threads=args.threads, checkpoint=args.checkpoint,
                           checkpoint_every=args.checkpoint_every, skip=skip)
    if reader is not None:
        skipped = reader.skipped
    _report(summary, skipped, args.quiet)
    return 0


def _run_config(args: argparse.Namespace) -> int:
    from ..grid import GridCounter
    from ..io.aitrios_config import load_app_config
    from ..io.detections import AitriosCSV

    geometry = args.geometry or "exact"
    cfg = load_app_config(args.config, geometry=geometry)
    params, o = cfg.params, cfg.output
    counter = GridCounter(**params.counter_kwargs(geometry))
    total = None
    reader = None
    if cfg.mode == "local":
        reader = AitriosCSV(cfg.local["meta_file"], on_error="skip" if args.skip_bad_rows else "raise",
                            video=cfg.local["video_file"])
        frames: Iterable[Any] = reader
        total = reader.count_rows()
        image_name = reader.image_name
        reverse = geometry == "aitrios"
    else:
        try:
            from ..io.console import load_console_frames
        except ImportError as exc:
            raise ValueError(f"console mode needs heatcore.io.console ({exc})") from None
        from ..io.aitrios_config import resolve_path

        settings = dict(cfg.console)
        sp = settings.get("setting_path")
        if isinstance(sp, str) and sp:
            # the sample's rule (current directory), then the config's folder and its parent
            settings["setting_path"] = str(resolve_path(sp, cfg.base_dir).resolve())
        frames, image_name = load_console_frames(settings, base_dir=cfg.base_dir)
        reverse = False
    out = args.out or o.output_dir
    video = None
    if not args.no_video:
        video = dict(name=image_name, fps=args.fps or o.fps, size=(o.width, o.height),
                     cmap=args.cmap or o.cmap, vmin=o.vmin if args.vmin is None else args.vmin,
                     vmax=o.vmax if args.vmax is None else args.vmax, window=params.last_valid_frame,
                     alpha=o.transparency if args.alpha is None else args.alpha, overlay=o.overlay,
                     colorbar=o.cbar or args.colorbar, sticky_opaque=geometry == "aitrios",
                     text_color=(0, 225, 0) if geometry == "aitrios" else (0, 255, 0))
    summary = run_pipeline(frames, counter, Path(out), per_frame_json=not args.no_json, compact=args.compact,
                           video=video, reverse=reverse, total=total, quiet=args.quiet, threads=args.threads)
    _report(summary, None if reader is None else reader.skipped, args.quiet)
    return 0


# ---------------------------------------------------------------------------------------------
# demo
# ---------------------------------------------------------------------------------------------

def synthetic_people(frames: int = 90, size: tuple[int, int] = (1920, 1080), people: int = 14,
                     seed: int = 7) -> list[Any]:
    """Synthetic detections of people walking across a plaza: each walks a straight path between
    two points on the image border at their own speed (boxes about 70x190 px, feet on the path)."""
    from ..io.detections import DetectionFrame

    rng = np.random.default_rng(seed)
    w, h = size
    # Most people cross along two "corridors" so the heatmap has structure.
    starts = np.stack([rng.uniform(0, w, people), rng.uniform(0.35 * h, h, people)], 1)
    ends = np.stack([w - starts[:, 0] + rng.normal(0, 80, people), rng.uniform(0.35 * h, h, people)], 1)
    corridor = rng.random(people) < 0.6
    starts[corridor, 1] = 0.75 * h + rng.normal(0, 25, corridor.sum())
    ends[corridor, 1] = 0.55 * h + rng.normal(0, 25, corridor.sum())
    starts[corridor, 0] = rng.uniform(0, 0.1 * w, corridor.sum())
    ends[corridor, 0] = rng.uniform(0.9 * w, w, corridor.sum())
    phase = rng.uniform(0, 1, people)
    speed = rng.uniform(0.6, 1.4, people) / frames
    out = []
    for t in range(frames):
        s = (phase + speed * t * 1.5) % 1.0
        feet = starts + (ends - starts) * s[:, None]
        scale = 0.6 + 0.6 * feet[:, 1] / h  # nearer (lower) people look bigger
        bw, bh = 70 * scale, 190 * scale
        boxes = np.stack([feet[:, 0] - bw / 2, feet[:, 1] - bh, feet[:, 0] + bw / 2, feet[:, 1]], 1)
        boxes = np.round(boxes)
        scores = rng.uniform(0.5, 1.0, people).astype(np.float32)
        keep = scores > 0.55  # a detector misses some people some frames
        out.append(DetectionFrame(index=t, boxes=boxes[keep], scores=scores[keep],
                                  class_ids=np.zeros(int(keep.sum()), np.int64)))
    return out


def _demo_background(size: tuple[int, int]) -> np.ndarray:
    import cv2

    w, h = size
    bg = np.zeros((h, w, 3), np.uint8)
    bg[:] = (70, 78, 84)
    for y in range(0, h, max(1, h // 12)):
        cv2.line(bg, (0, y), (w, y), (92, 100, 106), 2)
    for x in range(0, w, max(1, w // 16)):
        cv2.line(bg, (x, int(0.3 * h)), (x, h), (92, 100, 106), 2)
    bg[: int(0.3 * h)] = (150, 120, 90)
    return bg


def demo(outdir: Path, quiet: bool = True) -> list[Path]:
    """Synthetic people walking: per-frame JSON, grids.jsonl, a short overlay video and a PNG of
    the final grid."""
    import cv2

    from .. import render
    from ..grid import GridCounter
    from ..grid_output import render_grid_frame

    outdir = Path(outdir)
    size = (1920, 1080)
    frames = synthetic_people(90, size)
    bg = _demo_background(size)
    for f in frames:  # draw the people so the overlay has something under it
        img = bg.copy()
        for l, t, r, b in f.boxes.astype(int):
            cv2.rectangle(img, (l, t), (r, b), (40, 40, 200), -1)
        f.image = cv2.resize(img, (960, 540), interpolation=cv2.INTER_AREA)
    counter = GridCounter(image_size=size, grid=(60, 36), spread=1, window=60, mode="point")
    video = dict(name="demo", fps=15.0, size=(960, 540), cmap="inferno", vmin=0.0, vmax=20.0, window=60,
                 alpha=0.6, overlay=True, colorbar=True, clear_below=0)
    summary = run_pipeline(frames, counter, outdir, video=video, quiet=quiet)
    final = summary["final_grid"]
    png = outdir / "final_grid.png"
    pic = render_grid_frame(final, size=(960, 540), image=frames[-1].image, cmap="inferno", vmin=0, vmax=20,
                            alpha=0.6, number_of_detects=len(frames[-1]), colorbar=True, clear_below=0)
    render.save_image(png, pic, order="bgr")
    files = sorted(summary["json_dir"].glob("*.json"))
    return [png, summary["video"], summary["compact"], files[0], files[-1]]
