"""Rendering: heat grids → colours, overlays on floor plans / frames, figures, videos.

Colour images are ``uint8`` arrays in **RGB** order unless a function takes ``order="bgr"``
(the order OpenCV frames come in). Values are mapped to colours through a 256-entry lookup table
built once per colormap, so colouring a 1920x1080 grid costs a few milliseconds.

Fixed, comparable colour ranges: pass the same ``vmin``/``vmax`` to every image (by default each
image spans its own min..max).

Transparency of overlays (what keeps an empty floor plan white): values at or below
``relative_threshold`` (default :data:`DEFAULT_RELATIVE_THRESHOLD` = 0.01, i.e. 1 % of the colour
range ``vmin..vmax`` above ``vmin``) are fully transparent, and the opacity then ramps linearly
up to ``alpha`` over the next ``ramp`` (default :data:`DEFAULT_RAMP` = 0.1 = 10 %) of the colour
scale, so the heat fades in instead of laying a dark veil over the whole picture. ``threshold``
adds an absolute cut in data units (e.g. ``threshold=0`` hides exact zeros only). Pass
``relative_threshold=None, ramp=0`` for the old uniform blending.

Colormaps: any matplotlib name; with seaborn installed also every seaborn palette ("mako",
"rocket", "flare", "crest", "vlag", "icefire", "ch:s=.25,rot=-.25", "light:b", "dark:salmon_r", ...).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Sequence

import cv2
import numpy as np

if TYPE_CHECKING:  # PyAV is imported lazily at run time
    import av.container
    import av.video.stream

__all__ = [
    "lut",
    "normalize",
    "colorize",
    "overlay",
    "resize",
    "save_image",
    "read_image",
    "save_figure",
    "colorbar_strip",
    "check_alpha",
    "resolve_cmap",
    "VideoWriter",
    "DEFAULT_RELATIVE_THRESHOLD",
    "DEFAULT_RAMP",
]


def __dir__() -> list[str]:
    # only the public names (no np, cv2, os, annotations) in dir() and tab completion
    return sorted(__all__)


#: values at or below this fraction of the colour range (above vmin) are transparent in overlays
DEFAULT_RELATIVE_THRESHOLD = 0.01
#: above the threshold the opacity ramps up to ``alpha`` over this fraction of the colour scale
DEFAULT_RAMP = 0.1

Scale = Literal["linear", "log", "gamma"]


_SEABORN_NAMES = ("rocket", "mako", "flare", "crest", "vlag", "icefire")


def check_alpha(alpha: Any, name: str = "alpha") -> float:
    """``alpha`` (opacity) as a float in [0, 1], else ValueError/TypeError naming ``name``."""
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number in [0, 1] (opacity), got {alpha!r}")
    a = float(alpha)
    if not 0.0 <= a <= 1.0:  # also rejects NaN
        raise ValueError(f"{name} must be in [0, 1] (opacity: 0 = invisible, 1 = opaque), got {alpha!r}")
    return a


def resolve_cmap(cmap: Any):
    """A matplotlib ``Colormap`` for ``cmap``: a Colormap object, any matplotlib colormap name, or
    (when seaborn is installed) any seaborn palette name or spec ("mako", "ch:...", "light:b")."""
    import matplotlib
    from matplotlib.colors import Colormap, ListedColormap

    if isinstance(cmap, Colormap):
        return cmap
    name = str(cmap)
    try:
        return matplotlib.colormaps[name]
    except KeyError:
        pass
    try:
        import seaborn
    except ImportError:
        base = name[:-2] if name.endswith("_r") else name
        if base in _SEABORN_NAMES or ":" in name:
            raise ValueError(f"colormap {name!r} is a seaborn palette: install seaborn (pip install seaborn) "
                             "or use a matplotlib colormap such as 'inferno'") from None
        raise ValueError(f"unknown colormap {name!r} (any matplotlib colormap name works, e.g. 'inferno')") from None
    try:
        return seaborn.color_palette(name, as_cmap=True)
    except (ValueError, TypeError, KeyError):
        pass
    try:  # qualitative palettes ("deep", "husl", ...) as a stepped colormap
        return ListedColormap(seaborn.color_palette(name), name=name)
    except (ValueError, TypeError, KeyError):
        raise ValueError(f"unknown colormap {name!r} (neither a matplotlib colormap nor a seaborn palette; "
                         "e.g. 'inferno', 'mako')") from None


@functools.lru_cache(maxsize=64)
def _lut_cached(cmap: str, order: str) -> np.ndarray:
    return _lut_table(resolve_cmap(cmap), order)


def _lut_table(cm: Any, order: str) -> np.ndarray:
    table = (cm(np.linspace(0.0, 1.0, 256)) * 255.0 + 0.5).astype(np.uint8)  # (256, 4) RGBA
    if order == "bgr":
        table = table[:, [2, 1, 0, 3]]
    table.setflags(write=False)
    return table


def lut(cmap: str = "inferno", order: str = "rgb") -> np.ndarray:
    """The (256, 4) uint8 RGBA (or BGRA with ``order="bgr"``) lookup table of a matplotlib colormap
    (or a seaborn palette, see :func:`resolve_cmap`)."""
    if order not in ("rgb", "bgr"):
        raise ValueError(f"order must be 'rgb' or 'bgr', got {order!r}")
    if not isinstance(cmap, str):
        from matplotlib.colors import Colormap

        if isinstance(cmap, Colormap):
            return _lut_table(cmap, order)
    return _lut_cached(str(cmap), order)


def _range(v: np.ndarray, vmin: float | None, vmax: float | None) -> tuple[float, float]:
    """The colour range (lo, hi): the finite data's min..max unless given."""
    finite = np.isfinite(v)
    lo = float(np.min(v, where=finite, initial=np.inf)) if vmin is None else float(vmin)
    hi = float(np.max(v, where=finite, initial=-np.inf)) if vmax is None else float(vmax)
    if not np.isfinite(lo):
        lo = 0.0
    if not np.isfinite(hi):
        hi = lo
    if hi < lo:
        raise ValueError(f"vmax ({hi}) must be >= vmin ({lo})")
    return lo, hi


def normalize(values: np.ndarray, vmin: float | None = None, vmax: float | None = None,
              scale: Scale = "linear", gamma: float = 0.5) -> np.ndarray:
    """Map ``values`` to [0, 1] float32: clip to [vmin, vmax] (default: the data's range), then
    apply ``scale`` ("linear", "log" = log1p of the values above vmin, "gamma" = power ``gamma``)."""
    v = np.asarray(values)
    if v.ndim != 2:
        raise ValueError(f"values must be a 2-D grid, got shape {v.shape}")
    if not np.issubdtype(v.dtype, np.number):
        raise TypeError(f"values must be numeric, got dtype {v.dtype}")
    v = v.astype(np.float32, copy=False)
    lo, hi = _range(v, vmin, vmax)
    if scale not in ("linear", "log", "gamma"):
        raise ValueError(f"scale must be 'linear', 'log' or 'gamma', got {scale!r}")
    span = hi - lo
    if span <= 0:
        return np.zeros(v.shape, np.float32)
    t = np.clip((np.nan_to_num(v, nan=lo) - lo) / span, 0.0, 1.0, dtype=np.float32)
    if scale == "log":
        # log1p over the range, with the range in units of its own 1/1000 so small values show.
        t = np.log1p(t * 1000.0) / np.float32(np.log1p(1000.0))
    elif scale == "gamma":
        if not gamma > 0:
            raise ValueError(f"gamma must be > 0, got {gamma!r}")
        t = np.power(t, np.float32(gamma))
    return t.astype(np.float32, copy=False)


def _check_fade(relative_threshold: float | None, ramp: float) -> tuple[float | None, float]:
    if relative_threshold is not None:
        if isinstance(relative_threshold, bool) or not isinstance(relative_threshold, (int, float, np.integer, np.floating)):
            raise TypeError(f"relative_threshold must be a fraction in [0, 1) of the colour range, got {relative_threshold!r}")
        if not 0.0 <= float(relative_threshold) < 1.0:
            raise ValueError(f"relative_threshold must be a fraction in [0, 1) of the colour range (e.g. 0.02 = 2 %), "
                             f"got {relative_threshold!r}")
        relative_threshold = float(relative_threshold)
    if isinstance(ramp, bool) or not isinstance(ramp, (int, float, np.integer, np.floating)) or not 0.0 <= float(ramp) <= 1.0:
        raise ValueError(f"ramp must be a fraction in [0, 1] of the colour scale, got {ramp!r}")
    return relative_threshold, float(ramp)


def _cut(lo: float, hi: float, threshold: float | None, relative_threshold: float | None) -> float | None:
    """The data value at or below which pixels are transparent (None: no cut)."""
    cuts = []
    if relative_threshold is not None:
        cuts.append(lo + relative_threshold * (hi - lo))
    if threshold is not None:
        t = float(threshold)
        if np.isnan(t):
            raise ValueError("threshold must be a number (data units), got nan")
        cuts.append(t)
    return max(cuts) if cuts else None


def _opacity(v: np.ndarray, t: np.ndarray, lo: float, hi: float, alpha: float, threshold: float | None,
             relative_threshold: float | None, ramp: float, scale: Scale, gamma: float) -> np.ndarray:
    """uint8 opacity per pixel: 0 at or below the cut (and for NaN), ramping linearly in colour-scale
    units from the cut up to ``alpha`` over ``ramp``."""
    a255 = np.float32(255.0 * alpha)
    cut = _cut(lo, hi, threshold, relative_threshold)
    if cut is None:
        return np.full(v.shape, np.uint8(round(255 * alpha)), np.uint8)
    if ramp > 0:
        t_cut = float(normalize(np.array([[cut]], np.float32), lo, hi, scale, gamma)[0, 0]) if hi > lo else 0.0
        op = np.clip((t - np.float32(t_cut)) * np.float32(1.0 / ramp), 0.0, 1.0) * a255 + np.float32(0.5)
        out = op.astype(np.uint8)
    else:
        out = np.full(v.shape, np.uint8(round(255 * alpha)), np.uint8)
    out[~(v > cut)] = 0  # at or below the cut, and NaN
    return out


def colorize(values: np.ndarray, cmap: str = "inferno", *, vmin: float | None = None,
             vmax: float | None = None, scale: Scale = "linear", gamma: float = 0.5,
             threshold: float | None = None, alpha: float = 1.0, order: str = "rgb",
             relative_threshold: float | None = None, ramp: float = 0.0) -> np.ndarray:
    """Colour a 2-D grid: returns (H, W, 4) uint8 RGBA (BGRA with ``order="bgr"``).

    Opacity: ``alpha`` (0..1) everywhere, except that values at or below ``threshold`` (data
    units) or at or below ``vmin + relative_threshold * (vmax - vmin)`` are fully transparent;
    with ``ramp > 0`` the opacity above that cut rises linearly to ``alpha`` over ``ramp`` of the
    colour scale (0..1 after ``scale``). Defaults here: no cut, no ramp (:func:`overlay` and
    :func:`save_figure` default to a cut at 1 % and a 10 % ramp).
    """
    alpha = check_alpha(alpha)
    relative_threshold, ramp = _check_fade(relative_threshold, ramp)
    v = np.asarray(values)
    t = normalize(v, vmin, vmax, scale, gamma)
    idx = (t * 255.0 + 0.5).astype(np.uint8)
    out = lut(cmap, order)[idx]  # fancy indexing copies: the caller owns the result
    lo, hi = _range(v.astype(np.float32, copy=False), vmin, vmax)
    out[..., 3] = _opacity(v, t, lo, hi, alpha, threshold, relative_threshold, ramp, scale, gamma)
    return out


def resize(grid: np.ndarray, size: tuple[int, int], *, interpolation: str = "linear") -> np.ndarray:
    """Resize a 2-D grid (or image) to ``size = (width, height)`` pixels.

    ``interpolation``: "nearest" (cells stay blocks), "linear" or "cubic"."""
    flags = {"nearest": cv2.INTER_NEAREST, "linear": cv2.INTER_LINEAR, "cubic": cv2.INTER_CUBIC}
    if interpolation not in flags:
        raise ValueError(f"interpolation must be one of {sorted(flags)}, got {interpolation!r}")
    w, h = int(size[0]), int(size[1])
    if w <= 0 or h <= 0:
        raise ValueError(f"size must be positive (width, height), got {size!r}")
    arr = np.asarray(grid)
    if arr.shape[1] == w and arr.shape[0] == h:
        return arr
    if arr.dtype not in (np.uint8, np.uint16, np.int16, np.float32, np.float64):
        arr = arr.astype(np.float32)
    return cv2.resize(arr, (w, h), interpolation=flags[interpolation])


def overlay(values: np.ndarray, background: np.ndarray | None = None, cmap: str = "inferno", *,
            alpha: float = 0.6, vmin: float | None = None, vmax: float | None = None,
            scale: Scale = "linear", gamma: float = 0.5, threshold: float | None = None,
            interpolation: str = "linear", order: str = "rgb",
            relative_threshold: float | None = DEFAULT_RELATIVE_THRESHOLD, ramp: float = DEFAULT_RAMP) -> np.ndarray:
    """Blend the coloured heat over ``background`` (H, W, 3) uint8 (or gray (H, W)).

    The grid is resized to the background's size. Each pixel becomes
    ``(1 - a) * background + a * colour``: ``a = 0`` where the heat is at or below
    ``vmin + relative_threshold * (vmax - vmin)`` (default 1 % of the colour range, so zero density
    leaves the background untouched) or at or below ``threshold`` (data units, optional); above
    that cut ``a`` ramps linearly up to ``alpha`` over ``ramp`` (default 10 %) of the colour scale.
    ``relative_threshold=None, ramp=0`` blends every pixel with ``alpha``.

    Without a background the opaque colour image is returned (only ``threshold`` applies: pixels
    at or below it are black). Returns (H, W, 3) uint8 in ``order``.
    """
    alpha = check_alpha(alpha)
    relative_threshold, ramp = _check_fade(relative_threshold, ramp)
    if background is None:
        rgba = colorize(values, cmap, vmin=vmin, vmax=vmax, scale=scale, gamma=gamma,
                        threshold=threshold, alpha=1.0, order=order)
        rgb = rgba[..., :3].copy()
        if threshold is not None:
            rgb[rgba[..., 3] == 0] = 0
        return rgb
    bg = np.asarray(background)
    if bg.dtype != np.uint8:
        raise TypeError(f"background must be uint8, got {bg.dtype}")
    if bg.ndim == 2:
        bg = np.repeat(bg[..., None], 3, axis=2)
    if bg.ndim != 3 or bg.shape[2] not in (3, 4):
        raise ValueError(f"background must be (H, W, 3), got {bg.shape}")
    bg = bg[..., :3]
    h, w = bg.shape[:2]
    v = np.asarray(values, dtype=np.float32)
    if vmin is None or vmax is None:  # the colour range of the grid, not of its resized copy
        lo, hi = _range(v, vmin, vmax)
        vmin, vmax = lo, hi
    v = resize(v, (w, h), interpolation=interpolation)
    rgba = colorize(v, cmap, vmin=vmin, vmax=vmax, scale=scale, gamma=gamma, threshold=threshold,
                    alpha=alpha, order=order, relative_threshold=relative_threshold, ramp=ramp)
    a = rgba[..., 3:4].astype(np.uint16)
    out = (bg.astype(np.uint16) * (255 - a) + rgba[..., :3].astype(np.uint16) * a + 127) // 255
    return out.astype(np.uint8)


def read_image(path: str | os.PathLike[str], *, order: str = "rgb", gray: bool = False,
               what: str = "image") -> np.ndarray:
    """Read an image file as uint8 RGB (or BGR, or gray). Raises FileNotFoundError/ValueError
    whose message calls the file ``what`` (e.g. "ROI mask image") and names its path."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no such {what}: {p}")
    data = np.fromfile(str(p), dtype=np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE if gray else cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f"cannot decode {what} {p} (not an image, or corrupt)")
    if not gray and order == "rgb":
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    return img


def save_image(path: str | os.PathLike[str], image: np.ndarray, *, order: str = "rgb") -> Path:
    """Write an RGB/RGBA/gray uint8 image (PNG, JPEG, ... by extension). Returns the path."""
    p = Path(path)
    img = np.asarray(image)
    if img.dtype != np.uint8:
        raise TypeError(f"image must be uint8, got {img.dtype}")
    if order == "rgb" and img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_RGBA2BGRA if img.shape[2] == 4 else cv2.COLOR_RGB2BGR)
    p.parent.mkdir(parents=True, exist_ok=True)
    ok, buf = cv2.imencode(p.suffix or ".png", img)
    if not ok:
        raise ValueError(f"cannot encode an image as {p.suffix!r}")
    buf.tofile(str(p))
    return p


def save_figure(path: str | os.PathLike[str], values: np.ndarray, *, background: np.ndarray | None = None,
                cmap: str = "inferno", alpha: float = 0.6, vmin: float | None = None,
                vmax: float | None = None, scale: Scale = "linear", gamma: float = 0.5,
                threshold: float | None = None, title: str | None = None, label: str | None = None,
                colorbar: bool = True, extent: Sequence[float] | None = None, dpi: int = 100,
                relative_threshold: float | None = DEFAULT_RELATIVE_THRESHOLD, ramp: float = DEFAULT_RAMP,
                origin: Literal["upper", "lower"] = "upper", aspect: Literal["equal", "auto"] = "equal",
                xlabel: str | None = None, ylabel: str | None = None,
                figsize: tuple[float, float] | None = None) -> Path:
    """Export a matplotlib figure: heat (over ``background``, RGB) with title and colorbar.

    The colorbar uses the same vmin/vmax/scale as the picture. ``extent`` = (xmin, xmax, ymin, ymax)
    labels the axes in data units. ``origin="upper"`` (default) draws row 0 (y = ymin) at the top,
    as in images (y grows downwards); ``origin="lower"`` draws y upwards, as seaborn and most data
    plots do. Transparency follows :func:`overlay` (``relative_threshold``, ``ramp``,
    ``threshold``); without a background the transparent parts show the white figure, as in a
    seaborn ``kdeplot``. ``aspect="auto"`` lets data units of x and y differ in length on screen;
    ``figsize`` in inches (default: from the grid's size). The saved figure is cropped to its
    content (no blank margins however wide the picture).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib import colors as mcolors

    alpha = check_alpha(alpha)
    relative_threshold, ramp = _check_fade(relative_threshold, ramp)
    if origin not in ("upper", "lower"):
        raise ValueError(f"origin must be 'upper' (y down, as images) or 'lower' (y up), got {origin!r}")
    if aspect not in ("equal", "auto"):
        raise ValueError(f"aspect must be 'equal' or 'auto', got {aspect!r}")
    cm = resolve_cmap(cmap)
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 2:
        raise ValueError(f"values must be a 2-D grid, got shape {v.shape}")
    lo, hi = _range(v, vmin, vmax)
    if hi <= lo:
        hi = lo + 1.0
    norm: mcolors.Normalize
    if scale == "log":
        norm = mcolors.FuncNorm((lambda x: np.log1p(np.clip((x - lo) / (hi - lo), 0, 1) * 1000) / np.log1p(1000),
                                 lambda y: lo + (np.expm1(y * np.log1p(1000)) / 1000) * (hi - lo)), vmin=lo, vmax=hi)
    elif scale == "gamma":
        norm = mcolors.PowerNorm(gamma, vmin=lo, vmax=hi)
    else:
        norm = mcolors.Normalize(vmin=lo, vmax=hi)
    h, w = (background.shape[:2] if background is not None else v.shape)
    if figsize is None:
        fig_w = max(4.0, min(16.0, w / dpi + (1.2 if colorbar else 0.2)))
        fig_h = max(3.0, fig_w * h / w * (0.85 if colorbar else 1.0))
    else:
        fig_w, fig_h = (float(f) for f in figsize)
    fig, ax = plt.subplots(figsize=(fig_w, fig_h), dpi=dpi)
    try:
        # imshow's extent is (left, right, bottom, top): row 0 (y = ymin) at the top for
        # origin="upper" (image coordinates), at the bottom for origin="lower" (y upwards).
        x0, x1, y0, y1 = (0, w, 0, h) if extent is None else tuple(float(e) for e in extent)
        ext = (x0, x1, y1, y0) if origin == "upper" else (x0, x1, y0, y1)
        fade = threshold is not None or relative_threshold is not None
        if background is not None:
            ax.imshow(background, extent=ext, origin=origin, interpolation="bilinear", aspect=aspect)
            rgba = colorize(resize(v.astype(np.float32), (w, h)), cm, vmin=lo, vmax=hi, scale=scale,
                            gamma=gamma, threshold=threshold, alpha=alpha, relative_threshold=relative_threshold,
                            ramp=ramp)
            ax.imshow(rgba, extent=ext, origin=origin, interpolation="bilinear", aspect=aspect)
            mappable = plt.cm.ScalarMappable(norm=norm, cmap=cm)
        elif fade:
            # fully opaque where the heat is (alpha is for backgrounds), fading into the white figure
            rgba = colorize(v.astype(np.float32), cm, vmin=lo, vmax=hi, scale=scale, gamma=gamma,
                            threshold=threshold, alpha=1.0, relative_threshold=relative_threshold, ramp=ramp)
            ax.imshow(rgba, extent=ext, origin=origin, interpolation="bilinear", aspect=aspect)
            mappable = plt.cm.ScalarMappable(norm=norm, cmap=cm)
        else:
            mappable = ax.imshow(v, cmap=cm, norm=norm, extent=ext, origin=origin, interpolation="bilinear",
                                 aspect=aspect)
        if title:
            ax.set_title(title)
        if extent is None:
            ax.set_axis_off()
        else:
            if xlabel:
                ax.set_xlabel(xlabel)
            if ylabel:
                ax.set_ylabel(ylabel)
        if colorbar:
            fig.colorbar(mappable, ax=ax, label=label or "", fraction=0.046, pad=0.02)
        fig.tight_layout()
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        # crop to the drawn content: a wide picture in a figure of limited height otherwise
        # leaves wide blank margins
        fig.savefig(p, dpi=dpi, bbox_inches="tight", pad_inches=0.08)
    finally:
        plt.close(fig)
    return p


def colorbar_strip(height: int, cmap: str = "inferno", *, vmin: float = 0.0, vmax: float = 1.0,
                   width: int = 60, order: str = "rgb", ticks: int = 5) -> np.ndarray:
    """A (height, width, 3) uint8 vertical colour bar with tick labels, drawn with OpenCV
    (cheap enough to append to every video frame)."""
    if height <= 0 or width <= 0:
        raise ValueError(f"colorbar size must be positive, got {width}x{height}")
    strip = np.full((height, width, 3), 255, np.uint8)
    bar_w = max(8, width // 4)
    table = lut(cmap, order)[:, :3]
    rows = np.linspace(255, 0, height).round().astype(np.int64)
    strip[:, 2:2 + bar_w] = table[rows][:, None, :]
    texts = [f"{vmin + (i / (ticks - 1) if ticks > 1 else 0.0) * (vmax - vmin):.3g}" for i in range(ticks)]
    # tick labels as large as the strip allows: the longest fits the space right of the bar, and
    # the text stays below ~1/25 of the height
    room = max(1, width - bar_w - 12)
    widest = max(cv2.getTextSize(t, cv2.FONT_HERSHEY_SIMPLEX, 1.0, 1)[0][0] for t in texts)
    font_scale = max(0.3, min(1.0, room / max(widest, 1), height / 900))
    thick = 2 if font_scale >= 0.8 else 1
    th = cv2.getTextSize("0", cv2.FONT_HERSHEY_SIMPLEX, font_scale, thick)[0][1]
    for i, text in enumerate(texts):
        frac = i / (ticks - 1) if ticks > 1 else 0.0
        y = int(round((1.0 - frac) * (height - 1)))
        cv2.line(strip, (2 + bar_w, y), (6 + bar_w, y), (0, 0, 0), 1)
        ty = min(max(y + th // 2, th + 2), height - 2)
        cv2.putText(strip, text, (8 + bar_w, ty), cv2.FONT_HERSHEY_SIMPLEX, font_scale, (0, 0, 0), thick, cv2.LINE_AA)
    return strip


# H.264 settings of every video heatcore writes. At 1920x1080 (bench/compare_video.py) x264 costs
# about 9 ms of CPU per frame at "ultrafast", 15 ms at "superfast", 19 ms at "veryfast";
# rendering an overlay 5-16 ms more. Only "ultrafast" measured >= 50 overlay frames/s on this
# 2-core machine while other jobs loaded it (superfast/veryfast: 25-33 fps there, 65-85 fps
# estimated from CPU time on idle cores); its files are about 1.5x those of "superfast" (about
# 15 KiB per 1080p frame, 3.6 Mbit/s at 30 fps).
H264_PRESET = "ultrafast"
H264_CRF = 23
_FASTSTART_SUFFIXES = {".mp4", ".m4v", ".mov"}


def h264_available() -> str | None:
    """None when PyAV and its bundled libx264 encoder are usable, else the reason why not."""
    try:
        import av
    except ImportError as exc:  # pragma: no cover - PyAV is a dependency
        return f"PyAV is not importable ({exc})"
    try:
        av.codec.Codec("libx264", "w")
    except Exception as exc:  # noqa: BLE001 - any failure means: no H.264 encoder
        return f"this PyAV/FFmpeg build has no libx264 encoder ({exc})"
    return None


def _even_size(w: int, h: int) -> tuple[int, int]:
    return w + (w & 1), h + (h & 1)


class VideoWriter:
    """Write frames to a video file; a context manager.

    By default the video is H.264 (PyAV's bundled libx264; ``preset``/``crf`` default to the
    module's ``H264_PRESET``/``H264_CRF``) in yuv420p, with
    the MP4 index (moov atom) at the front (``+faststart``) for .mp4/.m4v/.mov, so it plays in
    browsers and presentation tools. The container follows the suffix (.mp4 recommended; .mkv,
    .mov and .avi also work). H.264 in yuv420p needs even sizes: an odd width or height is padded
    by repeating the last column/row (the file is then one pixel wider/taller; ``encoded_size``).
    Frames are converted to YUV in ``write`` and encoded on a background thread (bounded queue),
    so the caller renders the next frame meanwhile; errors surface on the next ``write``/``close``.

    Without PyAV or libx264 the writer falls back to OpenCV's ``mp4v`` with a RuntimeWarning.
    ``fourcc`` (e.g. "MJPG", "mp4v") asks for OpenCV's writer with that codec explicitly (no
    warning). ``backend`` tells which one is in use: "pyav" or "opencv".

    ``size = (width, height)`` in pixels; frames must be (height, width, 3) uint8 in ``order``
    ("rgb" or "bgr"). ``fps``: frames per second of the output.
    """

    def __init__(self, path: str | os.PathLike[str], fps: float, size: tuple[int, int], *,
                 fourcc: str | None = None, order: str = "rgb", preset: str | None = None,
                 crf: float | None = None, queue_size: int = 4) -> None:
        import queue
        import threading

        if isinstance(fps, bool) or not isinstance(fps, (int, float, np.integer, np.floating)) \
                or not np.isfinite(fps) or fps <= 0:
            raise ValueError(f"fps must be > 0, got {fps!r}")
        try:
            w, h = int(size[0]), int(size[1])
        except (TypeError, ValueError, IndexError):
            raise TypeError(f"video size must be (width, height) in pixels, got {size!r}") from None
        if w <= 0 or h <= 0:
            raise ValueError(f"video size must be positive, got {size!r}")
        if order not in ("rgb", "bgr"):
            raise ValueError(f"order must be 'rgb' or 'bgr', got {order!r}")
        preset = H264_PRESET if preset is None else preset
        crf = H264_CRF if crf is None else crf
        if not 0 <= float(crf) <= 51:
            raise ValueError(f"crf must be in 0..51 (lower = better quality, larger file), got {crf!r}")
        self.path = Path(path)
        self.size = (w, h)
        self.order = order
        self.fps = float(fps)
        self.frames = 0
        self._error: BaseException | None = None
        self._cv: cv2.VideoWriter | None = None
        self._container: av.container.OutputContainer | None = None
        self._stream: av.video.stream.VideoStream | None = None
        self._thread = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        reason = None
        if fourcc is None:
            reason = h264_available()
            if reason is not None:
                import warnings

                warnings.warn(f"cannot write H.264 ({reason}); writing {self.path.name} as MPEG-4 part 2 "
                              "(mp4v) with OpenCV instead, which most browsers do not play", RuntimeWarning,
                              stacklevel=2)
                fourcc = "mp4v"
        if fourcc is not None:
            self.backend = "opencv"
            self.encoded_size = (w, h)
            self._cv = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*fourcc), float(fps), (w, h))  # type: ignore[attr-defined]  # missing from cv2 stubs
            if not self._cv.isOpened():
                raise ValueError(f"cannot open a {fourcc} video writer for {self.path}")
            return
        self.backend = "pyav"
        self.encoded_size = _even_size(w, h)
        self._open_pyav(preset, crf)
        self._q: queue.Queue = queue.Queue(maxsize=max(1, int(queue_size)))
        self._thread = threading.Thread(target=self._encode_loop, name="heatcore-video-writer", daemon=True)
        self._thread.start()

    def _open_pyav(self, preset: str, crf: float) -> None:
        import av
        from fractions import Fraction

        options = {"movflags": "+faststart"} if self.path.suffix.lower() in _FASTSTART_SUFFIXES else {}
        try:
            self._container = av.open(str(self.path), mode="w", options=options)
        except (av.error.FFmpegError, ValueError) as exc:
            raise ValueError(f"cannot write a video to {self.path} ({exc}); use a .mp4 name") from None
        try:
            rate = Fraction(self.fps).limit_denominator(1001000)
            stream = self._container.add_stream("libx264", rate=rate)
            stream.width, stream.height = self.encoded_size
            stream.pix_fmt = "yuv420p"
            # BT.601 limited range, as the RGB->YUV conversion below; tagged so players agree
            stream.options = {"preset": str(preset), "crf": f"{float(crf):g}",
                              "x264-params": "colorprim=smpte170m:transfer=smpte170m:colormatrix=smpte170m"}
            self._stream = stream
        except BaseException:
            self._container.close()
            raise

    def _to_yuv(self, f: np.ndarray) -> np.ndarray:
        """(H, W, 3) RGB/BGR -> I420 planes (3H/2, W) with OpenCV's BT.601 conversion (padded to even)."""
        w, h = self.size
        ew, eh = self.encoded_size
        if (ew, eh) != (w, h):
            f = cv2.copyMakeBorder(f, 0, eh - h, 0, ew - w, cv2.BORDER_REPLICATE)
        return cv2.cvtColor(f, cv2.COLOR_RGB2YUV_I420 if self.order == "rgb" else cv2.COLOR_BGR2YUV_I420)

    def _encode_loop(self) -> None:
        import av

        assert self._stream is not None and self._container is not None
        n = 0
        while True:
            item = self._q.get()
            if item is None:
                break
            if self._error is not None:
                continue
            try:
                frame = av.VideoFrame.from_ndarray(item, format="yuv420p")
                frame.pts = n
                n += 1
                for packet in self._stream.encode(frame):
                    self._container.mux(packet)
            except BaseException as exc:  # noqa: BLE001 - reported on the next write/close
                self._error = exc

    def write(self, frame: np.ndarray) -> None:
        """Append one (H, W, 3) uint8 frame (in the writer's ``order``)."""
        if self._error is not None:
            err, self._error = self._error, None
            raise ValueError(f"encoding {self.path} failed: {err}") from err
        f = np.asarray(frame)
        if f.dtype != np.uint8 or f.ndim != 3 or f.shape[2] != 3:
            raise ValueError(f"video frames must be (H, W, 3) uint8, got {f.shape} {f.dtype}")
        if (f.shape[1], f.shape[0]) != self.size:
            raise ValueError(f"frame size {f.shape[1]}x{f.shape[0]} does not match the video's {self.size[0]}x{self.size[1]}")
        if self._cv is not None:
            if self.order == "rgb":
                f = cv2.cvtColor(f, cv2.COLOR_RGB2BGR)
            self._cv.write(np.ascontiguousarray(f))
        elif self._thread is not None:
            # converted here (a fresh array: the caller may reuse its buffer), encoded on the thread
            self._q.put(self._to_yuv(np.ascontiguousarray(f)))
        else:
            raise ValueError(f"video writer for {self.path} is closed")
        self.frames += 1

    def close(self) -> None:
        """Flush the encoder and finish the file (the MP4 index is written here)."""
        if self._cv is not None:
            self._cv.release()
            self._cv = None
        if self._thread is not None:
            self._q.put(None)
            self._thread.join()
            self._thread = None
            try:
                if self._error is None and self._stream is not None and self._container is not None:
                    for packet in self._stream.encode(None):
                        self._container.mux(packet)
            except BaseException as exc:  # noqa: BLE001
                self._error = exc
            finally:
                if self._container is not None:
                    self._container.close()
                    self._container = None
            if self._error is not None:
                err, self._error = self._error, None
                raise ValueError(f"encoding {self.path} failed: {err}") from err

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # pragma: no cover - best effort
        try:
            self.close()
        except Exception:
            pass
