"""The demo: synthetic scenes → example outputs of every capability (``heatcore demo``)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["kde_demo", "grid_demo", "floorplan_demo", "motion_demo"]


def grid_demo(outdir: Path, quiet: bool = True) -> list[Path]:
    """Synthetic people walking: per-frame JSON, grids.jsonl, a short overlay video and a PNG of
    the final grid."""
    import cv2

    from . import render
    from ._synthetic import demo_background, synthetic_people
    from .grid import GridCounter
    from .grid_output import render_grid_frame
    from .jobs import grid_job
    from .pipeline import run as run_job

    outdir = Path(outdir)
    size = (1920, 1080)
    frames = synthetic_people(90, size)
    bg = demo_background(size)
    for f in frames:  # draw the people so the overlay has something under it
        img = bg.copy()
        for l, t, r, b in f.xyxy.astype(int):
            cv2.rectangle(img, (l, t), (r, b), (40, 40, 200), -1)
        f.image = cv2.resize(img, (960, 540), interpolation=cv2.INTER_AREA)
    counter = GridCounter(image_size=size, grid=(60, 36), spread=1, window=60, mode="point")
    video = dict(name="demo", fps=15.0, size=(960, 540), cmap="inferno", vmin=0.0, vmax=20.0, window=60,
                 alpha=0.6, overlay=True, colorbar=True, clear_below=0)
    res = run_job(grid_job(frames, counter, outdir, video=video, quiet=quiet))
    final = res["grid"].result()
    png = outdir / "final_grid.png"
    pic = render_grid_frame(final, size=(960, 540), image=frames[-1].image, cmap="inferno", vmin=0, vmax=20,
                            alpha=0.6, number_of_detects=len(frames[-1]), colorbar=True, clear_below=0)
    render.save_image(png, pic, order="bgr")
    files = sorted((outdir / "detect").glob("*.json"))
    return [png, outdir / "video" / "demo_heatmap.mp4", outdir / "grids.jsonl", files[0], files[-1]]


def _renderer(mode: str, title: str, plan: Any) -> Any:
    return lambda path, accs: accs["plan"].render(path, mode, plan, title=title)


def floorplan_demo(outdir: Path, quiet: bool = True) -> list[Path]:
    """Synthetic camera + plan + walking people: calibration preview, KDE heat, dwell and visitors."""
    import cv2

    from ._synthetic import synthetic_scene
    from .floorplan import FloorplanAccumulator
    from .pipeline import Job, run as run_job
    from .render import save_image
    from .sinks import AitriosCSVSink, FinalSink
    from .sources import RecordsSource

    outdir.mkdir(parents=True, exist_ok=True)
    fps = 5.0
    frame, plan, H, frames = synthetic_scene(fps=fps)
    files = []
    H.save(outdir / "H.json")
    files.append(outdir / "H.json")
    cam = frame.copy()
    for b in frames[len(frames) // 2].xyxy.astype(int):
        cv2.rectangle(cam, (b[0], b[1]), (b[2], b[3]), (0, 0, 255), 2)
    files.append(save_image(outdir / "camera.png", cam, order="bgr"))
    prev = H.warp_image(cam, cv2.cvtColor(plan, cv2.COLOR_RGB2BGR))
    files.append(save_image(outdir / "calibration_preview.png", prev, order="bgr"))
    acc = FloorplanAccumulator((plan.shape[1], plan.shape[0]), H, seconds_per_obs=1 / fps, cell=20, bandwidth=10,
                               track={"max_disappeared": 3}, stationary=(6.0, 5.0))
    outs = {"plan_dwell.png": ("dwell", "dwell seconds per cell"),
            "plan_visitors.png": ("visitors", "unique visitors per cell"),
            "plan_heat.png": ("kde", "time spent (KDE), parked trolley suppressed")}
    sinks: list[Any] = [AitriosCSVSink(outdir / "detections_aitrios.csv", meta={"fps": fps, "stride": 1})]
    for name, (mode, title) in outs.items():
        sinks.append(FinalSink(outdir / name, _renderer(mode, title, plan)))
    res = run_job(Job(source=RecordsSource(frames, total=len(frames)), accumulators={"plan": acc}, sinks=sinks,
                      quiet=quiet, desc="floorplan"))
    files += res.outputs
    return files


def motion_demo(outdir: Path, quiet: bool = True) -> list[Path]:
    """Synthetic scene with moving blobs -> heatmap PNG (+ colorbar figure) and overlay MP4."""
    from . import render
    from ._synthetic import write_synthetic_video
    from .motion import motion_heatmap

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        clip = write_synthetic_video(Path(tmp) / "scene.avi", 320, 240, 150, fps=25.0, seed=7)
        heat_video = outdir / "motion_overlay.mp4"
        acc = motion_heatmap(clip, "mog", video=heat_video, decay_half_life=1.0, quiet=quiet)
    png = render.save_image(outdir / "motion_heatmap.png", acc.render("first", cmap="hot", alpha=0.6))
    npy = outdir / "motion_counts.npy"
    np.save(npy, acc.result())
    assert acc.full_size is not None
    first = acc.background_image("first")
    assert first is not None
    fig = render.save_figure(outdir / "motion_heatmap_colorbar.png",
                             render.resize(acc.result(normalize=True).astype(np.float32), acc.full_size),
                             background=first[..., ::-1].copy(), cmap="hot", vmin=0.0,
                             threshold=0.0, label="fraction of frames in motion",
                             title="synthetic scene: MOG motion")
    return [png, fig, heat_video, npy]


def kde_demo(outdir: Path, quiet: bool = True) -> list[Path]:
    """People on a synthetic floor plan and gaze points on a synthetic page -> KDE pictures."""
    from . import render
    from .kde import kde

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    from ._synthetic import synthetic_crowd_points, synthetic_floor_plan, synthetic_gaze

    plan = synthetic_floor_plan()
    h, w = plan.shape[:2]
    people = synthetic_crowd_points(w, h)
    csv_path = outdir / "people.csv"
    np.savetxt(csv_path, people, delimiter=",", header="x_coords,y_coords", comments="", fmt="%.2f")
    files.append(csv_path)
    files.append(render.save_image(outdir / "floor_plan.png", plan))
    heat = kde(people, (h, w), bandwidth=12.0, normalize="count")
    files.append(render.save_image(outdir / "people_kde_overlay.png",
                                   render.overlay(heat, plan, "inferno", alpha=0.65, relative_threshold=0.02)))
    heat_s = kde(people, (h, w), bandwidth="scott")
    files.append(render.save_figure(outdir / "people_kde_scott_figure.png", heat_s, background=plan, cmap="turbo",
                                    alpha=0.6, relative_threshold=0.02, title="People density (scott bandwidth)",
                                    label="probability density (per square pixel)"))
    gaze, dur, page = synthetic_gaze()
    gh, gw = page.shape[:2]
    g = kde(gaze, (gh, gw), bandwidth=30.0, weights=dur, normalize="count")
    files.append(render.save_image(outdir / "gaze_page.png", page))
    files.append(render.save_image(outdir / "gaze_kde_overlay.png",
                                   render.overlay(g, page, "jet", alpha=0.55, relative_threshold=0.03)))
    files.append(render.save_figure(outdir / "gaze_kde_figure.png", g, background=page, cmap="jet", alpha=0.55,
                                    relative_threshold=0.03, title="Gaze attention (duration-weighted)",
                                    label="gaze time nearby (ms; one fixation peaks at its duration)"))
    return files
