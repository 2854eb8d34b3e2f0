"""`heatcore kde`: a Gaussian KDE heatmap of points from a CSV / .npy file, as a PNG."""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

_EPILOG = """examples:
  heatcore kde coords.csv -o blog.png                       # fit the data, axes in data units (as seaborn)
  heatcore kde coords.csv -o blog.png --cmap mako --colorbar  # seaborn palettes work when seaborn is installed
  heatcore kde coords.csv -o heat.png --background plan.png # pixel coordinates over an image (y down)
  heatcore kde gaze.csv -o gaze.png --shape 1080x1920 --bandwidth 25 --weight-col duration --colorbar
  heatcore kde pts.csv -o heat.png --extent 0,20,0,10 --shape 500x1000 --bandwidth scott --npy heat.npy

Where the grid lies:
  --background IMG   points are pixels of IMG; the grid is the image (or --shape); y grows downwards.
  --extent x0,x1,y0,y1   the grid covers that data rectangle; a figure with axes, y upwards.
  --shape HxW alone  points are pixels of an HxW canvas (y down).
  none of these      the grid fits the points as seaborn's kdeplot does (3 kernel sigmas of margin,
                     200x200), drawn as a figure with axes in data units, y upwards.

Transparency: heat at or below --threshold (a fraction of the maximum, default 0.01 = 1 %) is
transparent and fades in over the next --ramp (default 0.1) of the colour scale, so an empty
floor plan stays as it is; --threshold-abs V cuts at V in data units instead.

The CSV needs a header; x/y columns are found as x_coords,y_coords (or x,y) unless named with
--x-col/--y-col."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "kde",
        help="Gaussian kernel-density heatmap of 2-D points (CSV/.npy) as a PNG",
        description="Reads points (people positions, gaze points, ...) and writes a Gaussian "
        "kernel-density heatmap: over a background image (floor plan, video frame), on a pixel "
        "canvas, or as a figure with axes in data units fitted to the points (as seaborn's kdeplot).",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("points", type=Path, help="CSV with a header row, or .npy (N, 2) / (N, 3 with weights)")
    p.add_argument("-o", "--output", "--out", dest="output", type=Path, required=True, help="output image (PNG)")
    p.add_argument("--background", type=Path, help="image to draw the heat over; also the default grid size")
    p.add_argument("--bandwidth", default="scott",
                   help="kernel sigma in point units: a number (15), sx,sy (15,20), 'scott' or 'silverman' (default: scott)")
    p.add_argument("--shape", help="grid size HxW in pixels, e.g. 1080x1920 (default: the background's size, "
                   "or 200x200 when fitting the data)")
    p.add_argument("--extent", help="xmin,xmax,ymin,ymax of the data rectangle the grid covers (data units)")
    p.add_argument("--cut", type=float, default=3.0,
                   help="fitting the data: margin around the points in kernel sigmas (default 3, as seaborn)")
    p.add_argument("--origin", choices=["auto", "upper", "lower"], default="auto",
                   help="where y = ymin is drawn: upper (images, y down), lower (plots, y up); default: "
                   "lower in data units, upper in pixels")
    p.add_argument("--x-col", help="name of the x column (default: x_coords or x)")
    p.add_argument("--y-col", help="name of the y column (default: y_coords or y)")
    p.add_argument("--weight-col", help="name of a weight column (default: no weights)")
    p.add_argument("--normalize", choices=["density", "count", "none"], default="density",
                   help="density (scipy's pdf), count (each point peaks at its weight) or none (default: density)")
    p.add_argument("--method", choices=["auto", "exact", "binned"], default="auto", help="KDE kernel (default: auto)")
    p.add_argument("--cmap", default="inferno",
                   help="any matplotlib colormap, or any seaborn palette (mako, rocket, ch:...) when seaborn is "
                   "installed (default: inferno)")
    p.add_argument("--alpha", type=float, default=0.6, help="heat opacity over the background, 0..1 (default: 0.6)")
    p.add_argument("--vmin", type=float, help="value mapped to the lowest colour (default: the grid's min)")
    p.add_argument("--vmax", type=float, help="value mapped to the highest colour (default: the grid's max)")
    p.add_argument("--scale", choices=["linear", "log", "gamma"], default="linear", help="colour scaling (default: linear)")
    p.add_argument("--threshold", type=float, default=None,
                   help="heat at or below this fraction of the colour range (0..1) is transparent (default 0.01)")
    p.add_argument("--threshold-abs", type=float, default=None,
                   help="heat at or below this value (data units, e.g. 1e-5 for a density) is transparent")
    p.add_argument("--ramp", type=float, default=None,
                   help="above the threshold the opacity rises to --alpha over this fraction of the colour "
                   "scale (default 0.1; 0 = hard edge)")
    p.add_argument("--colorbar", action="store_true", help="export a figure with a colorbar (matplotlib)")
    p.add_argument("--title", help="figure title (implies a figure)")
    p.add_argument("--npy", type=Path, help="also save the raw (H, W) float64 grid here")
    p.add_argument("--skip-bad-rows", action="store_true", help="skip malformed CSV rows (counted) instead of failing")
    p.add_argument("--threads", type=int, default=None, help="worker threads (default: all cores)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(func=run)


_PY_TO_CLI = [
    (re.compile(r"\bbandwidth=([0-9.]+)(?: \(pixels\))?"), r"--bandwidth \1"),
    (re.compile(r"\bbandwidth='(\w+)'"), r"--bandwidth \1"),
    (re.compile(r"pass an explicit bandwidth$"), "pass an explicit bandwidth, e.g. --bandwidth 15"),
    (re.compile(r"\bmethod='(\w+)'"), r"--method \1"),
    (re.compile(r"heatcore\.kde\(\.\.\., (--method \w+)\)"), r"\1"),
]


def cli_message(msg: str) -> str:
    """A library error message with Python keyword syntax (``bandwidth=15``) rewritten as the
    command's flags (``--bandwidth 15``)."""
    out = str(msg)
    for pat, rep in _PY_TO_CLI:
        out = pat.sub(rep, out)
    return out


def run(args: argparse.Namespace) -> int:
    from ..kde_picture import kde_picture
    from . import _options as opt

    t0 = time.perf_counter()
    opt.check_output(args.output, opt.IMAGE_SUFFIXES)
    opt.check_output(args.npy, (".npy",), "--npy")
    kw = {k: getattr(args, k) for k in ("background", "bandwidth", "shape", "extent", "cut", "origin", "x_col",
                                         "y_col", "weight_col", "normalize", "method", "cmap", "alpha", "vmin",
                                         "vmax", "scale", "threshold", "threshold_abs", "ramp", "colorbar", "title",
                                         "npy", "threads")}
    try:
        pic = kde_picture(args.points, args.output, skip_bad_rows=args.skip_bad_rows, **kw)
    except (ValueError, TypeError) as exc:
        raise type(exc)(cli_message(str(exc))) from None
    if not args.quiet:
        for n in pic.notes:
            print(f"heatcore kde: {n}")
        print(f"{pic.points} points -> {pic.shape[0]}x{pic.shape[1]} heatmap in {time.perf_counter() - t0:.2f} s: "
              f"{args.output}")
    return 0
