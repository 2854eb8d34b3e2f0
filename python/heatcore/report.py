"""One self-contained HTML report of a run: where and when (see DESIGN.md).

:func:`build_report` turns accumulators (plain or :class:`~heatcore.slices.SlicedAccumulator`),
zones, a comparison and the run's metadata into a :class:`Report`: the matplotlib figures
(``report.figures``) and one HTML file (``report.html``) that opens from disk with no network:
images are inlined as base64 PNG, data as inline JSON, the only script is a few lines of inline
JavaScript for the time-slice slider, and a Content-Security-Policy forbids every request. It
prints to PDF cleanly (``@media print``: the slider's slices become small multiples).

Every slice is drawn on ONE colour scale (so colours compare across slices), normalised per hour
of footage when the slices know their footage, else per frame; every colour bar says its unit.

:func:`load_run` reads a run's output folder (``run.json`` + accumulator states / pipeline
checkpoints) for ``heatcore report OUTDIR``.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .accumulator import Accumulator

__all__ = ["Report", "build_report", "load_run", "report_from_folder", "write_run_folder"]

_CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
        "connect-src 'none'; font-src 'none'; form-action 'none'; base-uri 'none'")

_CSS = """
:root { --fg:#1d232a; --muted:#5b6570; --line:#d9dee3; --accent:#b3412f; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: var(--fg);
       margin: 0 auto; max-width: 1100px; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; border-bottom: 1px solid var(--line); padding-bottom: 4px;
     margin-top: 28px; }
.sub { color: var(--muted); margin: 0 0 12px; }
figure { margin: 8px 0; } figcaption { color: var(--muted); font-size: 12px; }
img { max-width: 100%; height: auto; image-rendering: auto; }
table { border-collapse: collapse; font-size: 12.5px; margin: 8px 0; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: right; }
th { background: #f3f5f7; } td.l, th.l { text-align: left; }
.controls { display: flex; gap: 12px; align-items: center; margin: 8px 0; }
.controls input[type=range] { flex: 1; max-width: 600px; }
#slice-label { font-weight: 600; min-width: 16em; }
.slices .slice { display: none; } .slices .slice.shown { display: block; }
.multiples { display: none; }
.up { color: #b3412f; } .down { color: #2f62b3; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; font-size: 12.5px; }
dl.meta dt { color: var(--muted); } dl.meta dd { margin: 0; word-break: break-all; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  .controls, .screen-only { display: none; }
  .slices .slice { display: inline-block !important; width: 32%; vertical-align: top; margin: 0 0.5% 6px 0; }
  section { break-inside: avoid-page; } h2 { break-after: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""

_JS = """
(function () {
  var slider = document.getElementById('slider');
  if (!slider) return;
  var frames = document.querySelectorAll('#slice-frames .slice');
  var label = document.getElementById('slice-label');
  function show(i) {
    i = Math.max(0, Math.min(frames.length - 1, i | 0));
    for (var k = 0; k < frames.length; k++) frames[k].classList.toggle('shown', k === i);
    label.textContent = frames[i].getAttribute('data-label');
    document.body.setAttribute('data-shown-slice', frames[i].getAttribute('data-label'));
  }
  slider.addEventListener('input', function () { show(parseInt(slider.value, 10)); });
  slider.addEventListener('change', function () { show(parseInt(slider.value, 10)); });
  show(parseInt(slider.value, 10));
})();
"""


def _png(image: np.ndarray) -> str:
    """base64 PNG of an RGB uint8 image."""
    import cv2

    ok, buf = cv2.imencode(".png", cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2BGR))
    if not ok:  # pragma: no cover - OpenCV always encodes uint8 RGB
        raise RuntimeError("PNG encoding failed")
    return base64.b64encode(buf.tobytes()).decode("ascii")


def _fig_png(fig: Any, dpi: int = 110) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _img(b64: str, alt: str, cls: str = "") -> str:
    c = f' class="{cls}"' if cls else ""
    return f'<img{c} alt="{html.escape(alt)}" src="data:image/png;base64,{b64}">'


def _colorize(values: np.ndarray, vmax: float, cmap: str, size: tuple[int, int], background: np.ndarray | None,
              alpha: float = 0.65) -> np.ndarray:
    """RGB uint8 (H, W, 3) of ``values`` on the scale 0..vmax, resized to ``size`` = (W, H)
    (nearest for small grids), blended over ``background`` where values > 0."""
    import cv2
    from matplotlib import colormaps

    v = np.clip(np.nan_to_num(np.asarray(values, np.float64)) / (vmax if vmax > 0 else 1.0), 0, 1)
    W, H = size
    interp = cv2.INTER_NEAREST if v.shape[0] * 4 <= H else cv2.INTER_LINEAR
    v32 = cv2.resize(v.astype(np.float32), (W, H), interpolation=interp)
    v = np.asarray(v32, np.float64)
    rgb = (colormaps[cmap](v)[..., :3] * 255).astype(np.float32)
    if background is None:
        return rgb.astype(np.uint8)
    bg = background
    if bg.ndim == 2:
        bg = np.dstack([bg] * 3)
    bg = cv2.resize(bg, (W, H), interpolation=cv2.INTER_AREA).astype(np.float32)
    # opacity ramps up over the lowest 10 % of the scale: empty cells show the background, faint
    # KDE tails fade in instead of covering the whole picture
    a = (alpha * np.clip(v * 10.0, 0.0, 1.0))[..., None].astype(np.float32)
    return (bg * (1 - a) + rgb * a).clip(0, 255).astype(np.uint8)


def _colorbar(vmax: float, cmap: str, unit: str) -> Any:
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.5, 0.85), layout="constrained")
    ax = fig.add_subplot()
    cb = fig.colorbar(ScalarMappable(Normalize(0, vmax), cmap), cax=ax, orientation="horizontal")
    cb.set_label(unit, fontsize=9)
    cb.ax.tick_params(labelsize=8)
    return fig


@dataclass
class Report:
    """A built report: ``html`` (the whole self-contained page), ``figures`` (name →
    matplotlib Figure), ``data`` (what is inlined as JSON) and ``path`` once written."""

    html: str
    figures: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def write(self, path: str | os.PathLike[str]) -> Path:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(p.name + ".tmp")
        tmp.write_text(self.html, encoding="utf-8")
        os.replace(tmp, p)
        self.path = p
        return p


def _unit_of(acc: Any) -> str:
    from .comparison import UNITS

    return UNITS.get(getattr(acc, "kind", ""), "value")


def _heat_values(acc: Any) -> np.ndarray:
    if acc.kind == "grid":
        return acc.result64().astype(np.float64)
    return np.asarray(acc.result(), np.float64)


def _display_size(acc: Any, background: np.ndarray | None, width: int = 720) -> tuple[int, int]:
    if background is not None:
        h, w = background.shape[:2]
    elif acc.kind == "grid":
        w, h = acc.image_size
    elif acc.kind == "motion" and acc.full_size is not None:
        w, h = acc.full_size
    elif acc.kind == "floorplan":
        w, h = acc.plan_size
    else:
        h, w = _heat_values(acc).shape
    s = width / w
    return width, max(1, int(round(h * s)))


def _fmt(v: Any, digits: int = 4) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        if math.isnan(v):
            return "–"
        return f"{v:.{digits}g}"
    return html.escape(str(v))


def _table(rows: list[dict[str, Any]], cols: list[tuple[str, str]], left: int = 1) -> str:
    head = "".join(f'<th class="{"l" if i < left else ""}">{html.escape(t)}</th>' for i, (_, t) in enumerate(cols))
    body = []
    for r in rows:
        cells = []
        for i, (k, _) in enumerate(cols):
            v = r.get(k)
            cls = "l" if i < left else ""
            if k.endswith("change_pct") and isinstance(v, float):
                cls = "up" if v > 0 else "down" if v < 0 else ""
                cells.append(f'<td class="{cls}">{v:+.1f} %</td>')
            else:
                cells.append(f'<td class="{cls}">{_fmt(v)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _zone_outlines(img: np.ndarray, zones: Any, acc: Any, homography: Any) -> np.ndarray:
    units = "plan" if acc.kind == "floorplan" else "image"
    z = zones.to_units(units, homography)
    if acc.kind == "grid":
        W, H = acc.image_size
    elif acc.kind == "motion":
        W, H = acc.full_size
    elif acc.kind == "floorplan":
        W, H = acc.plan_size
    else:
        H, W = acc.shape
    h, w = img.shape[:2]
    return z.draw(img, (w / W, h / H))


def build_report(heat: Accumulator, *, title: str = "heatcore report", camera: str = "", method: str = "",
                 zones: Any = None, counter: Any = None, motion: Any = None, floorplan: Any = None,
                 homography: Any = None, background: np.ndarray | None = None, comparison: Any = None,
                 meta: dict[str, Any] | None = None, cmap: str = "inferno", max_slices: int = 96,
                 out: str | os.PathLike[str] | None = None) -> Report:
    """Build the report (see the module docstring).

    ``heat``: the heatmap shown (grid, motion, floor plan or KDE accumulator; sliced by time for
    the slider and the activity chart). ``zones`` (:class:`~heatcore.zones.Zones`) with
    ``counter`` / ``motion`` / ``floorplan`` fill the zone table; ``comparison`` (a
    :class:`~heatcore.comparison.Comparison`) adds the before/after section; ``background``:
    RGB uint8 image under the heatmap (scene frame or plan); ``meta``: inputs, parameters,
    frames, durations (shown as given, plus the heatcore version). ``out``: write the HTML there.
    """
    from matplotlib.figure import Figure

    from . import __version__
    from .slices import SlicedAccumulator

    sliced = heat if isinstance(heat, SlicedAccumulator) else None
    whole: Any = sliced.merged() if sliced is not None else heat
    unit = _unit_of(whole)
    if background is None and getattr(whole, "kind", "") == "motion":
        bg = whole.background_image()
        if bg is not None:
            import cv2

            background = cv2.cvtColor(bg, cv2.COLOR_BGR2RGB if bg.ndim == 3 else cv2.COLOR_GRAY2RGB)
    size = _display_size(whole, background)
    figures: dict[str, Any] = {}
    data: dict[str, Any] = {"title": title, "camera": camera, "method": method, "unit": unit}
    period = ""
    if sliced is not None and sliced.keys():
        ks = sliced.keys()
        period = f"{sliced.label(ks[0])} – {sliced.label(ks[-1])}" if len(ks) > 1 else sliced.label(ks[0])
    subtitle = " · ".join(x for x in (camera, period, method or whole.kind) if x)
    parts: list[str] = []

    # -- overall --------------------------------------------------------------------------------
    total = _heat_values(whole)
    vmax_total = float(total.max()) if total.size else 0.0
    img = _colorize(total, vmax_total, cmap, size, background)
    if zones is not None:
        img = _zone_outlines(img, zones, whole, homography)
    fig = Figure(figsize=(7.5, 6.3 * size[1] / size[0] + 0.7), layout="constrained")
    ax = fig.add_subplot()
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    ax.imshow(img)
    ax.set_axis_off()
    ax.set_title(f"{title}\n{subtitle}", fontsize=10)
    fig.colorbar(ScalarMappable(Normalize(0, vmax_total), cmap), ax=ax, shrink=0.8).set_label(unit, fontsize=9)
    figures["overall"] = fig
    parts.append(f'<section id="overall"><h2>Where: the whole run</h2><figure>{_img(_fig_png(fig), "overall heatmap")}'
                 f'<figcaption>{html.escape(whole.kind)} heatmap of the whole run, {html.escape(unit)}'
                 f'{" (zones outlined)" if zones is not None else ""}.</figcaption></figure></section>')

    # -- slices ---------------------------------------------------------------------------------
    if sliced is not None and len(sliced):
        keys = sliced.keys()
        if len(keys) > max_slices:
            keys = keys[:max_slices]
        secs = {k: sliced.seconds([k]) for k in keys}
        frames = {k: _frames(sliced[k]) or 0 for k in keys}
        if all(s > 0 for s in secs.values()):
            norm, per = {k: secs[k] / 3600.0 for k in keys}, "per hour of footage"
        elif all(frames[k] for k in keys):
            norm, per = {k: float(frames[k]) for k in keys}, "per frame"
        else:
            norm, per = {k: 1.0 for k in keys}, ""
        vals = {k: _heat_values(sliced[k]) / norm[k] for k in keys}
        vmax = max(float(v.max()) for v in vals.values()) if vals else 0.0
        sunit = f"{unit} {per}".strip()
        frames_html = []
        for i, k in enumerate(keys):
            im = _colorize(vals[k], vmax, cmap, size, background)
            lab = sliced.label(k)
            frames_html.append(f'<figure class="slice{" shown" if i == 0 else ""}" data-index="{i}" '
                               f'data-label="{html.escape(lab)}">{_img(_png(im), "slice " + lab)}'
                               f'<figcaption>{html.escape(lab)}</figcaption></figure>')
        cb = _colorbar(vmax, cmap, sunit)
        figures["slices_colorbar"] = cb
        data["slices"] = [{"key": k, "label": sliced.label(k), "seconds": _num(secs[k]), "frames": frames[k]}
                          for k in keys]
        more = "" if len(keys) == len(sliced) else f" (the first {len(keys)} of {len(sliced)} slices)"
        parts.append(
            f'<section id="slices"><h2>When: time slices ({html.escape(sliced.slicing)}){more}</h2>'
            f'<p class="sub">All slices share one colour scale, {html.escape(sunit)}<span class="screen-only">; '
            f'drag the slider</span>.</p>'
            f'<div class="controls"><input type="range" id="slider" min="0" max="{len(keys) - 1}" value="0" step="1" '
            f'aria-label="time slice"><output id="slice-label">{html.escape(sliced.label(keys[0]))}</output></div>'
            f'<div id="slice-frames" class="slices">{"".join(frames_html)}</div>'
            f'<figure>{_img(_fig_png(cb, 120), "colour scale of the slices")}</figure></section>')

        # activity over time
        act = [float(_heat_values(sliced[k]).sum()) / norm[k] for k in keys]
        fig = Figure(figsize=(8, 2.8), layout="constrained")
        ax = fig.add_subplot()
        ax.bar(range(len(keys)), act, color="#c0563f")
        step = max(1, len(keys) // 12)
        ax.set_xticks(range(0, len(keys), step), [sliced.label(k) for k in keys][::step], rotation=30, ha="right",
                      fontsize=8)
        ax.set_ylabel(f"sum over the heatmap\n{sunit}", fontsize=8)
        ax.set_title(f"Activity over time\n{subtitle}", fontsize=9)
        ax.grid(axis="y", alpha=0.3)
        figures["activity"] = fig
        data["activity"] = [{"label": sliced.label(k), "value": a} for k, a in zip(keys, act)]
        parts.append(f'<section id="activity"><h2>Activity over time</h2><figure>{_img(_fig_png(fig), "activity over time")}'
                     f'<figcaption>Sum of the heatmap per slice, {html.escape(sunit)}.</figcaption></figure></section>')

    # -- zones ----------------------------------------------------------------------------------
    if zones is not None:
        from .zones import METRICS, plot_zone_series, zone_table

        rows = zone_table(zones, heat=heat, counter=counter, motion=motion, floorplan=floorplan,
                          homography=homography)
        data["zones"] = rows
        used = [m for m in METRICS if any(r.get(m) is not None for r in rows)]
        cols = [("zone", "zone"), ("slice", "slice")] + [(m, METRICS[m]) for m in used]
        whole_rows = [r for r in rows if r["slice"] == "all"]
        body = _table(whole_rows, cols, left=2)
        if sliced is not None:
            metric = next(m for m in ("mean_occupancy", "motion_frames", "share") if m in used or m == "share")
            sfig = plot_zone_series(rows, metric, title=f"{METRICS[metric]} per zone\n{subtitle}")
            figures["zone_series"] = sfig
            body += f'<figure>{_img(_fig_png(sfig), "zone time series")}</figure>'
            body += "<details><summary>per time slice</summary>" + _table(
                [r for r in rows if r["slice"] != "all"], cols, left=2) + "</details>"
        parts.append(f'<section id="zones"><h2>Zones</h2>{body}</section>')

    # -- comparison -----------------------------------------------------------------------------
    if comparison is not None:
        from .comparison import PER, comparison_figure

        cfig = comparison_figure(comparison, title=f"{comparison.B.label} vs {comparison.A.label}\n"
                                 f"{camera or comparison.kind} · {comparison.kind} · {PER[comparison.per]}")
        figures["comparison"] = cfig
        data["comparison"] = comparison.summary()
        ztab = ""
        if comparison.zones:
            ztab = _table(comparison.zones, [("zone", "zone"), ("activity_a", "A: sum in zone"),
                                             ("activity_b", "B: sum in zone"), ("change_pct", "change"),
                                             ("share_a", "share A"), ("share_b", "share B"),
                                             ("share_change_pct", "share change")])
        parts.append(f'<section id="comparison"><h2>Comparison: {html.escape(comparison.A.label)} → '
                     f'{html.escape(comparison.B.label)}</h2><p class="sub">Normalised {PER[comparison.per]}; A and B '
                     f'share one colour scale, B − A is on a diverging scale centred on 0.</p>'
                     f'<figure>{_img(_fig_png(cfig), "comparison")}</figure>{ztab}'
                     f'<p class="sub">Zone sums in {html.escape(comparison.unit)}; shares are fractions of all '
                     f'activity.</p></section>')

    # -- metadata -------------------------------------------------------------------------------
    m = dict(meta or {})
    m.setdefault("heatcore version", __version__)
    m.setdefault("generated", _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"))
    m.setdefault("heatmap", f"{whole.kind} {json.dumps(whole.config(), default=str)[:400]}")
    if sliced is not None:
        m.setdefault("slicing", f"{sliced.slicing} ({'wall-clock time' if sliced.basis == 'wall' else 'seconds from the start'}"
                                f"{', UTC%+g' % (sliced.tz_offset / 3600) if sliced.tz_offset else ', UTC' if sliced.basis == 'wall' else ''})")
        fr = _frames(whole)
        if fr is not None:
            m.setdefault("frames", fr)
        sec = sliced.seconds()
        if sec > 0:
            m.setdefault("footage", f"{sec / 3600:.3g} h ({sec:.0f} s)")
    data["meta"] = {k: (v if isinstance(v, (int, float, str, bool, type(None))) else json.dumps(v, default=str))
                    for k, v in m.items()}
    dl = "".join(f"<dt>{html.escape(str(k))}</dt><dd>{html.escape(str(v))}</dd>" for k, v in data["meta"].items())
    parts.append(f'<section id="meta"><h2>Run</h2><dl class="meta">{dl}</dl></section>')

    blob = json.dumps(data, default=_num).replace("</", "<\\/")
    page = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
            f'<header><h1>{html.escape(title)}</h1><p class="sub">{html.escape(subtitle)}</p></header>'
            + "".join(parts)
            + f'<script type="application/json" id="report-data">{blob}</script><script>{_JS}</script></body></html>\n')
    rep = Report(page, figures, data)
    if out is not None:
        rep.write(out)
    return rep


def _num(v: Any) -> Any:
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if not math.isfinite(float(v)) else float(v)
    if isinstance(v, np.ndarray):
        return v.tolist()
    return str(v)


def _frames(acc: Any) -> int | None:
    from .comparison import _frames_of

    return _frames_of(acc)


# -- a run's output folder -----------------------------------------------------------------------

def _load_states(path: Path) -> dict[str, Accumulator]:
    """Accumulators in an .npz: one saved accumulator (named after the file) or every
    accumulator of a pipeline checkpoint (by name)."""
    from .accumulator import accumulator_from_state, load_state
    from .pipeline import read_checkpoint

    with np.load(path, allow_pickle=False) as d:
        is_ck = "__meta__" in d.files
    if not is_ck:
        return {path.stem: load_state(path)}
    _, states = read_checkpoint(path)
    return {name: accumulator_from_state(st) for name, st in states.items()}


def load_run(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a run's output folder: ``run.json`` (optional: ``title``, ``camera``, ``method``,
    ``heat`` / ``counter`` / ``motion`` / ``floorplan`` — names of accumulators, ``zones``,
    ``background``, ``homography`` — file names in the folder, ``compare`` — ``{"a": "lo:hi",
    "b": "lo:hi", "per": "hour"}``, ``meta`` — shown as given) and every ``.npz`` state or
    checkpoint in it. Returns the keyword arguments of :func:`build_report` plus ``compare``."""
    d = Path(folder)
    if not d.is_dir():
        raise FileNotFoundError(f"no such run folder: {d}")
    run: dict[str, Any] = {}
    if (d / "run.json").is_file():
        try:
            run = json.loads((d / "run.json").read_text())
        except ValueError as exc:
            raise ValueError(f"{d / 'run.json'} is not valid JSON: {exc}") from None
    accs: dict[str, Accumulator] = {}
    for f in sorted(d.glob("*.npz")):
        try:
            accs.update(_load_states(f))
        except ValueError:
            continue  # not an accumulator state (e.g. per-frame grids)
    if not accs:
        raise ValueError(f"{d} holds no heatcore accumulator state (.npz written by save() or --checkpoint)")

    def pick(name: str | None, kinds: tuple[str, ...]) -> Any:
        if name is not None:
            if name not in accs:
                raise ValueError(f"run.json names {name!r}, but {d} holds only {sorted(accs)}")
            return accs[name]
        for a in accs.values():
            k = getattr(a, "inner_kind", a.kind)
            if k in kinds:
                return a
        return None

    kw: dict[str, Any] = {
        "heat": pick(run.get("heat"), ("grid", "floorplan", "motion", "kde")),
        "counter": pick(run.get("counter"), ("zones",)),
        "motion": pick(run.get("motion"), ("motion",)) if run.get("motion") else None,
        "floorplan": pick(run.get("floorplan"), ("floorplan",)),
        "title": run.get("title", f"heatcore report: {d.name}"),
        "camera": run.get("camera", ""),
        "method": run.get("method", ""),
        "meta": dict(run.get("meta", {})),
    }
    if kw["heat"] is None:
        raise ValueError(f"{d}: no heatmap state among {sorted(accs)}")
    if run.get("zones"):
        from .zones import load_zones

        kw["zones"] = load_zones(d / run["zones"])
    if run.get("homography"):
        from .homography import Homography

        kw["homography"] = Homography.from_json(d / run["homography"])
    if run.get("background"):
        kw["background"] = _read_rgb(d / run["background"])
    kw["compare"] = run.get("compare")
    kw["meta"].setdefault("run folder", str(d.resolve()))
    kw["meta"].setdefault("states", ", ".join(f"{n} ({getattr(a, 'inner_kind', a.kind)})" for n, a in accs.items()))
    return kw


def write_run_folder(folder: str | os.PathLike[str], states: dict[str, Accumulator], *, heat: str,
                     motion: str | None = None, counter: str | None = None, floorplan: str | None = None,
                     title: str = "", camera: str = "", method: str = "", meta: dict[str, Any] | None = None,
                     zones: Any = None, background: str | os.PathLike[str] | None = None,
                     homography: str | os.PathLike[str] | None = None) -> Path:
    """Write a run's output folder for :func:`report_from_folder` (``heatcore report FOLDER``):
    every accumulator in ``states`` as ``<name>.npz``, ``run.json`` naming which of them is the
    ``heat`` map (and the ``motion`` / ``counter`` / ``floorplan`` inputs of the zone table), and
    copies of the ``zones`` file (or a :class:`~heatcore.zones.Zones`, written as
    ``zones.json``), ``background`` image and ``homography`` JSON. Returns the folder."""
    import shutil

    d = Path(folder)
    if d.exists() and not d.is_dir():
        raise ValueError(f"report folder {d} is a file; give a folder")
    names = {"heat": heat, "motion": motion, "counter": counter, "floorplan": floorplan}
    for role, name in names.items():
        if name is not None and name not in states:
            raise ValueError(f"{role}={name!r} is not one of the states given: {sorted(states)}")
    d.mkdir(parents=True, exist_ok=True)
    run: dict[str, Any] = {"title": title, "camera": camera, "method": method, "meta": dict(meta or {})}
    for name, acc in states.items():
        acc.save(d / f"{name}.npz")
    run.update({role: name for role, name in names.items() if name is not None})

    def copy(src: str | os.PathLike[str], stem: str) -> str:
        p = Path(src)
        target = d / (stem + p.suffix.lower())
        if not p.is_file():
            raise FileNotFoundError(f"no such file: {p}")
        if p.resolve() != target.resolve():
            shutil.copyfile(p, target)
        return target.name

    if zones is not None:
        from .zones import Zones

        if isinstance(zones, Zones):
            (d / "zones.json").write_text(json.dumps(zones.to_dict(), indent=1))
            run["zones"] = "zones.json"
        else:
            run["zones"] = copy(zones, "zones")
    if background is not None:
        run["background"] = copy(background, "background")
    if homography is not None:
        run["homography"] = copy(homography, "homography")
    (d / "run.json").write_text(json.dumps(run, indent=1, default=str))
    return d


def _read_rgb(path: Path) -> np.ndarray:
    import cv2

    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f"cannot read the background image {path}")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def report_from_folder(folder: str | os.PathLike[str], out: str | os.PathLike[str] | None = None, *,
                       zones: Any = None, compare: Any = None, per: str | None = None, title: str | None = None,
                       background: Any = None) -> Report:
    """Build and write ``report.html`` (default inside ``folder``) from a run's output folder
    (see :func:`load_run`); ``zones`` (file), ``compare`` (``{"a": "lo:hi", "b": "lo:hi"}``),
    ``per``, ``title`` and ``background`` (image file) override run.json."""
    from .comparison import compare as _compare, footage, parse_range

    kw = load_run(folder)
    cmp_spec = compare if compare is not None else kw.pop("compare", None)
    kw.pop("compare", None)
    if zones is not None:
        from .zones import load_zones

        kw["zones"] = load_zones(zones)
    if title:
        kw["title"] = title
    if background is not None:
        kw["background"] = _read_rgb(Path(background))
    if cmp_spec:
        heat = kw["heat"]
        la, lb = cmp_spec.get("label_a"), cmp_spec.get("label_b")
        ra, rb = parse_range(cmp_spec.get("a")), parse_range(cmp_spec.get("b"))
        pa = footage(heat, la or f"slices {cmp_spec.get('a')}", slices=ra)
        pb = footage(heat, lb or f"slices {cmp_spec.get('b')}", slices=rb)
        kw["comparison"] = _compare(pa, pb, per=per or cmp_spec.get("per", "hour"), zones=kw.get("zones"),
                                    homography=kw.get("homography"))
    target = Path(out) if out is not None else Path(folder) / "report.html"
    return build_report(**kw, out=target)
