"""`heatcore motion` over many files / cameras (globs, folders of videos, list files, manifests),
optionally on a Dask cluster (--workers N, --scheduler tcp://host:port): per-camera PNG + .npz."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

_MANY_SUFFIXES = (".txt", ".csv", ".yaml", ".yml")


def add_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("many files / cameras (a glob in quotes, a folder of videos, a list file, a manifest)")
    g.add_argument("--workers", type=int, help="run on a Dask LocalCluster of N processes on this machine "
                   "(127.0.0.1, one thread each); -o is then an output folder")
    g.add_argument("--scheduler", help="run on an existing Dask cluster (tcp://host:8786)")
    g.add_argument("--split-frames", type=int, help="split files longer than this into frame-range partitions")
    g.add_argument("--warmup", type=int, help="MOG/MOG2: frames before a partition's start that teach the model "
                   "uncounted (default: the model's history)")
    g.add_argument("--on-error", choices=("fail", "skip"), default="fail",
                   help="a corrupt or unreadable file fails the job (default) or is skipped and reported")
    g.add_argument("--time-pattern", help="regular expression for a segment's start time in its path, with a "
                   "named group 'unix' or groups y mo d h mi s (default: Kerberos prefix, ISO-like dates)")


def is_many(args: argparse.Namespace) -> bool:
    """Whether the command runs the many-files path (the single-file behaviour is unchanged)."""
    if getattr(args, "workers", None) is not None or getattr(args, "scheduler", None) is not None:
        return True
    sources = args.source if isinstance(args.source, list) else [args.source]
    if len(sources) > 1:
        return True
    text = str(sources[0])
    p = Path(text)
    if re.search(r"[*?\[]", text) and not p.exists():
        return True
    if p.is_file() and p.suffix.lower() in _MANY_SUFFIXES:
        return True
    if p.is_dir():
        from ..inputs import VIDEO_SUFFIXES

        return any(f.suffix.lower() in VIDEO_SUFFIXES for f in p.rglob("*") if f.is_file())
    return False


def run_many(args: argparse.Namespace) -> int:
    from .. import render
    from ..distributed import run_partitions
    from ..inputs import by_camera, expand_inputs
    from ..motion import sample_reference, save_picture

    out: Path = args.output
    if out.suffix and out.suffix.lower() in (".png", ".jpg", ".jpeg"):
        raise ValueError(f"-o {out}: many inputs write one heatmap per camera; give an output folder (e.g. out/)")
    if out.exists() and not out.is_dir():
        raise ValueError(f"-o {out} is a file; give an output folder")
    for flag in ("overlay_video", "checkpoint", "npy", "save_reference"):
        if getattr(args, flag, None) is not None:
            raise ValueError(f"--{flag.replace('_', '-')} is for a single video; many inputs write <camera>.png "
                             "and <camera>.npz per camera into -o")
    if args.start is not None or args.stop is not None:
        raise ValueError("--start/--stop are for a single video")
    if args.workers is not None and args.scheduler is not None:
        raise ValueError("give --workers or --scheduler, not both")
    sources = args.source if isinstance(args.source, list) else [args.source]
    segs = expand_inputs(sources, pattern=args.time_pattern)
    cams = by_camera(segs)
    params: dict[str, Any] = dict(scale=args.scale, roi=args.roi, blur=args.blur, threshold=args.threshold,
                                  threads=args.threads or 1, background=None if args.background == "none" else
                                  ("median" if args.background == "median" else "first"))
    references: dict[str, Any] = {}
    if args.method == "diff":
        ref = args.reference or "median:25"
        if ref == "first" or ref.startswith("median"):
            k = 1 if ref == "first" else int(ref.split(":", 1)[1]) if ":" in ref else 25
            for cam, cs in cams.items():  # one reference per camera (its first segment) so partitions merge
                references[cam], _ = sample_reference(cs[0].path, k, gray=True, decoder=args.decoder)
        else:
            params["reference"] = Path(ref)
    elif args.gray:
        params["gray"] = True
    out.mkdir(parents=True, exist_ok=True)
    errors: list[tuple[str, str]] = []
    heat = run_partitions(segs, args.method, workers=args.workers, scheduler=args.scheduler,
                          split_frames=args.split_frames, warmup=args.warmup, stride=args.stride,
                          decoder=args.decoder, manifest=out / "partitions.json", on_error=args.on_error,
                          quiet=args.quiet, errors=errors, references=references, **params)
    bg_img = None
    bg = args.background
    if bg not in ("first", "median", "none"):
        bg_img = render.read_image(bg, order="bgr")
    for cam, acc in heat.items():
        safe = re.sub(r"[^\w.-]", "_", cam)
        acc.save(out / f"{safe}.npz")
        save_picture(acc, out / f"{safe}.png", background=bg_img if bg_img is not None else
                     (None if bg == "none" else bg), cmap=args.cmap, alpha=args.alpha, vmin=args.vmin,
                     vmax=args.vmax, log=args.log, colorbar=args.colorbar, counts=args.counts,
                     title=f"{cam}: {acc.frames} frames ({args.method})")
        if not args.quiet:
            print(f"{cam}: {len(cams[cam])} file(s), {acc.frames} frames -> {out / (safe + '.png')}")
    for f, e in errors:
        print(f"skipped {f}: {e}")
    return 0
