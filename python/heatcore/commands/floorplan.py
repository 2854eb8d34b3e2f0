"""`heatcore floorplan`: detections → homography → heatmap over a floor-plan image."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "floorplan",
        help="map detections through a homography onto a floor plan and draw a heatmap",
        description="Reads detections (the CSV of `heatcore detect`, an AITRIOS CSV, or plan points "
        "frame,time_s,track,x,y,score), takes an anchor point of each box (bottom centre = feet by "
        "default), maps it through the homography (from `heatcore calibrate`) onto the plan and draws "
        "a KDE heatmap (default), a dwell-time grid (seconds per cell, --dwell) or a unique-visitor grid "
        "(--visitors) over the plan image, with a fixed colour range and a colorbar.",
    )
    p.add_argument("detections", type=Path, help="detections CSV (heatcore detect / AITRIOS) or plan points CSV")
    p.add_argument("--homography", type=Path, help="homography JSON (required unless the input holds plan points)")
    p.add_argument("--plan", type=Path, help="plan image (PNG/JPEG); or give --plan-size")
    p.add_argument("--plan-size", help="plan size WxH in plan pixels when there is no plan image")
    p.add_argument("-o", "--out", type=Path, required=True, help="output heatmap PNG")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--dwell", action="store_true", help="seconds spent per cell instead of a KDE")
    mode.add_argument("--visitors", action="store_true", help="unique track ids per cell instead of a KDE")
    p.add_argument("--bandwidth", type=float, default=15.0, help="KDE Gaussian sigma, plan pixels (default 15)")
    p.add_argument("--cell", type=float, default=25.0, help="grid cell size for --dwell/--visitors, plan pixels (default 25)")
    p.add_argument("--anchor", default="bottom", help="bottom | center | top | fx,fy box fractions (default bottom)")
    p.add_argument("--fps", type=float, default=None, help="frame rate for AITRIOS input (rows per second, default 30)")
    p.add_argument("--seconds-per-obs", type=float, default=None,
                   help="seconds one detection stands for (stride / fps); default: the smallest time step in the input")
    p.add_argument("--track", action="store_true", help="track boxes that have no track ids (IoU tracker)")
    p.add_argument("--stationary", default=None, metavar="PX,SECONDS",
                   help="suppress tracks that moved less than PX image pixels over SECONDS, e.g. 10,5")
    p.add_argument("--points-csv", type=Path, help="also write the plan points (frame,time_s,track,x,y,score)")
    p.add_argument("--cmap", default="inferno", help="matplotlib colormap (default inferno)")
    p.add_argument("--alpha", type=float, default=0.6, help="heat opacity over the plan (default 0.6)")
    p.add_argument("--vmax", type=float, default=None, help="top of the colour range (default: the maximum)")
    p.add_argument("--no-colorbar", dest="colorbar", action="store_false", help="no colorbar")
    p.add_argument("--colorbar", dest="colorbar", action="store_true", default=True, help="draw a colorbar (default)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=run)


def _stationary(text: str | None) -> tuple[float, float] | None:
    if not text:
        return None
    try:
        px, sec = (float(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"--stationary must be PX,SECONDS, e.g. 10,5; got {text!r}") from None
    return px, sec


def run(args: argparse.Namespace) -> int:
    from .._checks import parse_size
    from ..floorplan import (POINTS_HEADER, detections_to_plan, floorplan_heatmap, read_detections,
                             read_points_csv, write_points_csv, _guess_dt)
    from ..homography import Homography
    from ..render import read_image
    from ..track import Tracker

    if not args.detections.is_file():
        raise FileNotFoundError(f"no such detections CSV: {args.detections}")
    stationary = _stationary(args.stationary)
    if args.seconds_per_obs is not None and not args.seconds_per_obs > 0:
        raise ValueError(f"--seconds-per-obs must be > 0, got {args.seconds_per_obs}")
    h = Homography.load(args.homography) if args.homography is not None else None
    plan = read_image(args.plan) if args.plan is not None else None
    plan_size = parse_size(args.plan_size, "--plan-size") if args.plan_size else None
    if plan is None and plan_size is None:
        raise ValueError("give --plan image or --plan-size WxH")
    with open(args.detections, encoding="utf-8") as fh:
        header = fh.readline().strip().split(",")
    if header == POINTS_HEADER:
        if stationary is not None or args.track:
            raise ValueError("--stationary/--track need box detections, not a plan points CSV")
        pts = read_points_csv(args.detections)
        if args.seconds_per_obs:
            pts.seconds_per_obs = args.seconds_per_obs
        if h is not None:
            xy, pts.behind = h.apply(pts.xy, return_behind=True)
            pts.x, pts.y = xy[:, 0].copy(), xy[:, 1].copy()
    else:
        if h is None:
            raise ValueError("--homography is required to map image detections onto the plan")
        fps = args.fps or 30.0
        frames = list(read_detections(args.detections, fps=fps))
        times = np.array([t for _, t, _ in frames])
        dt = args.seconds_per_obs or _guess_dt(np.array([f for f, _, _ in frames]), times)
        pts = detections_to_plan(frames, h, anchor=args.anchor, seconds_per_obs=dt,
                                 stationary=stationary,
                                 tracker=Tracker() if args.track else None)
    if args.points_csv:
        write_points_csv(args.points_csv, pts)
    mode = "dwell" if args.dwell else "visitors" if args.visitors else "kde"
    grid = floorplan_heatmap(pts, plan, plan_size=plan_size, mode=mode, bandwidth=args.bandwidth, cell=args.cell,
                             vmax=args.vmax, out=args.out, cmap=args.cmap, alpha=args.alpha,
                             colorbar=args.colorbar, title=f"floor plan {mode}")
    n_act = int(np.sum(pts.active)) if pts.active is not None else len(pts)
    print(f"{len(pts)} points ({pts.behind} behind the horizon, {len(pts) - n_act} suppressed as stationary); "
          f"{mode} max {float(grid.max()) if grid.size else 0:.4g} -> {args.out}")
    return 0


# ------------------------------------------------------------------------------------------------ demo
def synthetic_scene(seed: int = 7, seconds: float = 40.0, fps: float = 5.0):
    """A synthetic shop: camera frame (BGR), plan (RGB), the homography image → plan, and
    per-frame detections of people walking (plus one parked object) as seen by the camera.
    Returns (frame, plan, homography, frames list of (index, time_s, Detections))."""
    import cv2

    from ..detect import Detections
    from ..homography import Homography

    pw, ph = 400, 300  # plan pixels (1 px = 2 cm)
    plan = np.full((ph, pw, 3), 245, np.uint8)
    cv2.rectangle(plan, (5, 5), (pw - 6, ph - 6), (40, 40, 40), 3)
    shelves = [(60, 60, 160, 90), (240, 60, 340, 90), (60, 190, 160, 220), (240, 190, 340, 220)]
    for x0, y0, x1, y1 in shelves:
        cv2.rectangle(plan, (x0, y0), (x1, y1), (150, 110, 70), -1)
    cv2.rectangle(plan, (170, ph - 12), (230, ph - 2), (0, 160, 0), -1)  # entrance
    cv2.putText(plan, "entrance", (168, ph - 16), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 120, 0), 1, cv2.LINE_AA)
    # Camera: a 640x480 view of the floor in perspective (far wall at the top).
    src = np.array([[40, 460], [600, 460], [470, 140], [170, 140]], np.float64)  # image corners of the floor
    dst = np.array([[0, ph], [pw, ph], [pw, 0], [0, 0]], np.float64)
    H = Homography.from_points(src, dst)
    inv = H.inverse()
    frame = np.full((480, 640, 3), 90, np.uint8)
    frame[:140] = (170, 150, 130)
    cv2.fillConvexPoly(frame, src.astype(np.int32), (200, 200, 200))
    for i in range(0, pw + 1, 40):  # floor tiles, projected
        a, b = inv.apply([[i, 0], [i, ph]])
        cv2.line(frame, tuple(int(v) for v in a), tuple(int(v) for v in b), (160, 160, 160), 1, cv2.LINE_AA)
    for j in range(0, ph + 1, 40):
        a, b = inv.apply([[0, j], [pw, j]])
        cv2.line(frame, tuple(int(v) for v in a), tuple(int(v) for v in b), (160, 160, 160), 1, cv2.LINE_AA)
    for x0, y0, x1, y1 in shelves:
        q = inv.apply([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]).astype(np.int32)
        cv2.fillConvexPoly(frame, q, (70, 110, 150))
    # People walk the aisles (x in {30, 200, 370}, y in {40, 150, 260}; the shelves lie between),
    # entering and leaving at the entrance, and stop to browse for a few seconds at some corners.
    rng = np.random.default_rng(seed)
    xs, ys = [30.0, 200.0, 370.0], [40.0, 150.0, 260.0]
    steps = int(seconds * fps)
    tracks = []
    for k in range(9):
        nodes = [np.array([200.0, 295.0]), np.array([200.0, 260.0])]
        for _ in range(int(rng.integers(2, 5))):
            nodes.append(np.array([xs[rng.integers(3)], ys[rng.integers(3)]]))
        nodes += [np.array([200.0, 260.0]), np.array([200.0, 295.0])]
        speed = rng.uniform(40, 70) / fps  # plan pixels per frame (0.8-1.4 m/s at 2 cm/px)
        pos: list[np.ndarray] = []
        for a, b in zip(nodes[:-1], nodes[1:]):
            for u, v in ((a, np.array([b[0], a[1]])), (np.array([b[0], a[1]]), b)):  # along y-aisle, then x-aisle
                n = int(np.linalg.norm(v - u) / speed)
                if n:
                    pos.extend(u + (v - u) * np.linspace(0, 1, n, endpoint=False)[:, None])
            if rng.random() < 0.6:  # browse
                pos.extend(b + rng.normal(0, 1.5, (int(rng.uniform(1, 4) * fps), 2)))
        walk = np.array(pos) + rng.normal(0, 2.0, (len(pos), 2))
        tracks.append((int(rng.integers(0, max(1, steps - len(walk) // 2))), walk))
    parked = np.array([330.0, 120.0])  # a parked trolley, seen all the time
    frames = []
    for t in range(steps):
        pts = [p[t - s] for s, p in tracks if 0 <= t - s < len(p)] + [parked]
        img = inv.apply(np.array(pts))
        # box height shrinks with distance: proportional to the local scale of the inverse map
        feet_up = inv.apply(np.array(pts) + [0, -8.0])
        hgt = np.clip(np.abs(img[:, 1] - feet_up[:, 1]) * 9, 20, 220)
        hgt[-1] *= 0.4
        wdt = hgt * 0.4
        xyxy = np.stack([img[:, 0] - wdt / 2, img[:, 1] - hgt, img[:, 0] + wdt / 2, img[:, 1]], axis=1)
        xyxy += rng.normal(0, 1.0, xyxy.shape)
        frames.append((t, t / fps, Detections(xyxy, rng.uniform(0.6, 0.99, len(xyxy)), np.zeros(len(xyxy), np.int64))))
    return frame, plan, H, frames


def demo(outdir: Path, quiet: bool = True) -> list[Path]:
    """Synthetic camera + plan + walking people: calibration preview, KDE heat, dwell and visitors."""
    import cv2

    from ..floorplan import AitriosCSVWriter, detections_to_plan, floorplan_heatmap, write_points_csv
    from ..render import save_image
    from ..track import Tracker

    outdir.mkdir(parents=True, exist_ok=True)
    fps = 5.0
    frame, plan, H, frames = synthetic_scene(fps=fps)
    files = []
    H.save(outdir / "H.json")
    files.append(outdir / "H.json")
    # draw the last frame's boxes on the camera view
    cam = frame.copy()
    for b in frames[len(frames) // 2][2].xyxy.astype(int):
        cv2.rectangle(cam, (b[0], b[1]), (b[2], b[3]), (0, 0, 255), 2)
    files.append(save_image(outdir / "camera.png", cam, order="bgr"))
    prev = H.warp_image(cam, cv2.cvtColor(plan, cv2.COLOR_RGB2BGR))
    files.append(save_image(outdir / "calibration_preview.png", prev, order="bgr"))
    with AitriosCSVWriter(outdir / "detections_aitrios.csv") as w:
        for _, _, d in frames:
            w.write(d)
    files.append(outdir / "detections_aitrios.csv")
    pts = detections_to_plan(frames, H, seconds_per_obs=1 / fps, tracker=Tracker(max_disappeared=3),
                             stationary=(6.0, 5.0))
    files.append(write_points_csv(outdir / "plan_points.csv", pts))
    floorplan_heatmap(pts, plan, mode="dwell", cell=20, out=outdir / "plan_dwell.png", title="dwell time per cell")
    files.append(outdir / "plan_dwell.png")
    floorplan_heatmap(pts, plan, mode="visitors", cell=20, out=outdir / "plan_visitors.png",
                      title="unique visitors per cell")
    files.append(outdir / "plan_visitors.png")
    floorplan_heatmap(pts, plan, mode="kde", bandwidth=10, out=outdir / "plan_heat.png",
                      title="time spent (KDE), parked trolley suppressed")
    files.append(outdir / "plan_heat.png")
    return files
