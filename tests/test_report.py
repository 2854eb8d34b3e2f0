"""Comparison, the HTML report, the demo report, and the report in a real headless browser."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from heatcore import GridCounter, load_state
from heatcore.records import Detections
from heatcore.comparison import compare, comparison_figure, footage
from heatcore.report import build_report
from heatcore.slices import SlicedAccumulator
from heatcore.zones import Zones


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    from heatcore.demo_report import demo

    out = tmp_path_factory.mktemp("report_demo")
    demo(out)
    return out


def _images(html: str) -> list[str]:
    return re.findall(r"<img\b[^>]*>", html)


def test_compare_with_itself_is_zero(demo_dir):
    g = load_state(demo_dir / "grid.npz")
    zones = Zones.from_dict(json.loads((demo_dir / "zones.json").read_text()))
    for per in ("hour", "frame"):
        c = compare(footage(g, "A"), footage(g, "B"), per=per, zones=zones)
        assert c.a.sum() > 0
        assert np.array_equal(c.diff, np.zeros_like(c.diff))
        assert all(r["change_pct"] in (0.0, None) for r in c.zones)
        assert ("per hour of footage" if per == "hour" else "per frame") in c.unit
    # the per-hour normalisation: the demo has 2 h of footage (8 segments of 15 min)
    c = compare(footage(g, "A"), footage(g, "B"), per="hour")
    assert c.A.seconds == pytest.approx(2 * 3600, rel=1e-3)
    np.testing.assert_allclose(c.a, g.total().astype(float) / (c.A.seconds / 3600), rtol=1e-12)


def test_compare_refuses_different_configurations(demo_dir):
    a = GridCounter(image_size=(640, 480), grid=(64, 48))
    b = GridCounter(image_size=(640, 480), grid=(32, 24))
    with pytest.raises(ValueError, match=r"grid: \[64, 48\] vs \[32, 24\]"):
        compare(a, b, per="none")
    g = load_state(demo_dir / "grid.npz")
    with pytest.raises(ValueError, match="mode: 'point' vs 'box'"):  # a period of a sliced run vs a plain grid
        compare(footage(g, "A"), a, per="none")
    with pytest.raises(ValueError, match="hours of footage are unknown"):
        compare(a, GridCounter(image_size=(640, 480), grid=(64, 48)), per="hour")


def _cli(args, capsys):
    from heatcore.cli import main

    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, rc, out, err)


def test_compare_cli(demo_dir, tmp_path, capsys):
    p = _cli(["compare", demo_dir / "grid.npz", "--split", "2026-11-30T10:00", "--zones", demo_dir / "zones.json",
              "-o", tmp_path / "c.png"], capsys)
    assert p.returncode == 0, p.stderr
    assert "per hour of footage" in p.stdout
    js = json.loads((tmp_path / "c.json").read_text())
    zones = {r["zone"]: r for r in js["zones"]}
    assert zones["left display"]["change_pct"] == pytest.approx(-100.0)  # the display moved away at 10:00
    assert zones["right display"]["activity_b"] > 0 and zones["right display"]["activity_a"] == 0
    assert (tmp_path / "c_zones.csv").is_file() and cv2.imread(str(tmp_path / "c.png")) is not None
    p = _cli(["compare", demo_dir / "grid.npz", demo_dir / "zones.npz", "-o", tmp_path / "d.png"], capsys)
    assert p.returncode == 2 and "no heatmap" in p.stderr and p.stderr.count("\n") == 1


def test_report_is_self_contained(demo_dir):
    html = (demo_dir / "report.html").read_text()
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//|file:)""", html)
    assert "<link" not in html and not re.search(r"<script[^>]*\bsrc=", html)
    assert "@media print" in html and 'type="range"' in html
    imgs = _images(html)
    assert len(imgs) >= 8 + 4  # the slices, overall, colour bar, activity, zones, comparison
    for tag in imgs:
        m = re.search(r'src="data:image/png;base64,([^"]+)"', tag)
        assert m, tag[:80]
        img = cv2.imdecode(np.frombuffer(base64.b64decode(m.group(1)), np.uint8), cv2.IMREAD_COLOR)
        assert img is not None and img.shape[0] > 10 and float(img.std()) > 3
    data = json.loads(re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S).group(1))
    assert len(data["slices"]) == 8 and data["unit"] == "detections per cell"
    assert data["comparison"]["normalised"] == "per hour of footage"
    assert {"heatcore version", "inputs", "frames", "footage"} <= set(data["meta"])
    assert data["meta"]["footage"].startswith("2 h")
    # units on every colour bar: the overall, the slices and the comparison figures say them
    assert "detections per cell per hour of footage" in html


def test_build_report_python_figures(tmp_path):
    from heatcore._synthetic import synthetic_people
    from dataclasses import replace

    recs = [replace(r, time=i * 30.0) for i, r in enumerate(synthetic_people(frames=120))]
    g = SlicedAccumulator(lambda: GridCounter(image_size=(1920, 1080), grid=(48, 27), mode="point"), "15min")
    g.update_batch(recs)
    rep = build_report(g, title="t", camera="cam9", method="grid", out=tmp_path / "r.html")
    assert set(rep.figures) >= {"overall", "activity", "slices_colorbar"}
    assert rep.figures["overall"].axes[0].get_title().startswith("t\ncam9")
    assert "+0:15:00" in rep.html and rep.path.is_file()
    # every colour bar is labelled
    for name in ("overall", "slices_colorbar"):
        labels = [ax.get_xlabel() + ax.get_ylabel() for ax in rep.figures[name].axes[1 if name == "overall" else 0:]]
        assert all("detections per cell" in s for s in labels), labels


def test_report_cli_and_errors(demo_dir, tmp_path, capsys):
    d = tmp_path / "run"
    shutil.copytree(demo_dir, d)
    (d / "report.html").unlink()
    p = _cli(["report", d, "--compare-a", ":0", "--compare-b", "0:"], capsys)
    assert p.returncode == 2 and "no time slices" in p.stderr  # slice keys are periods since 1970
    p = _cli(["report", d, "--title", "Second look"], capsys)
    assert p.returncode == 0, p.stderr
    assert (d / "report.html").stat().st_size > 100_000 and "<title>Second look</title>" in (d / "report.html").read_text()
    p = _cli(["report", tmp_path / "nope"], capsys)
    assert p.returncode == 2 and "no such run folder" in p.stderr
    p = _cli(["report", d, "-o", tmp_path / "r.pdf"], capsys)
    assert p.returncode == 2 and "r.pdf" in p.stderr


# -- a real browser ------------------------------------------------------------------------------------

def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


_PROBE = """<script>
window.__errors = []; window.__csp = [];
window.addEventListener('error', function (e) { window.__errors.push(String(e.message || e.type)); }, true);
document.addEventListener('securitypolicyviolation', function (e) { window.__csp.push(e.blockedURI + ' ' + e.violatedDirective); });
var _ce = console.error; console.error = function () { window.__errors.push([].join.call(arguments, ' ')); _ce.apply(console, arguments); };
window.addEventListener('load', function () {
  var before = document.body.getAttribute('data-shown-slice');
  var s = document.getElementById('slider');
  s.value = 3; s.dispatchEvent(new Event('input'));
  var imgs = [].slice.call(document.images);
  var shown = [].slice.call(document.querySelectorAll('#slice-frames .slice.shown')).map(function (f) { return f.getAttribute('data-index'); });
  var out = {before: before, after: document.body.getAttribute('data-shown-slice'), shown: shown,
             images: imgs.length, broken: imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); }).length,
             resources: performance.getEntriesByType('resource').map(function (r) { return r.name; }),
             errors: window.__errors, csp: window.__csp};
  setTimeout(function () {
    out.csp = window.__csp; out.errors = window.__errors;
    var pre = document.createElement('pre'); pre.id = 'probe'; pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  }, 200);
});
</script>"""


def _probe(chromium: str, html_path: Path) -> dict:
    p = subprocess.run([chromium, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
                        "--virtual-time-budget=5000", "--dump-dom", html_path.as_uri()],
                       capture_output=True, text=True, timeout=60)
    m = re.search(r'<pre id="probe">(.*?)</pre>', p.stdout, re.S)
    assert m, (p.stdout[-500:], p.stderr[-2000:])
    return json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"))


def test_report_in_headless_chromium(demo_dir, tmp_path):
    chromium = _chromium()
    if chromium is None:
        pytest.skip("no chromium binary (apt-get install chromium) for the browser test")
    html = (demo_dir / "report.html").read_text()
    i = html.index("<title>")
    probed = tmp_path / "probed.html"
    probed.write_text(html[:i] + _PROBE + html[i:])
    r = _probe(chromium, probed)
    assert r["errors"] == [] and r["csp"] == [], r
    assert r["resources"] == []  # no network request of any kind
    assert r["images"] == len(_images(html)) and r["broken"] == 0
    labels = json.loads(re.search(r'id="report-data">(.*?)</script>', html, re.S).group(1))["slices"]
    assert r["before"] == labels[0]["label"] and r["after"] == labels[3]["label"] and r["shown"] == ["3"]
    # the probe can fail: an external image is a blocked request it reports
    bad = tmp_path / "bad.html"
    bad.write_text(html[:i] + _PROBE + html[i:].replace("</body>", '<img src="http://127.0.0.1:9/x.png"></body>'))
    rb = _probe(chromium, bad)
    assert rb["csp"] and rb["broken"] == 1
    # a screenshot to look at
    shot = tmp_path / "report_screenshot.png"
    p = subprocess.run([chromium, "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars",
                        f"--screenshot={shot}", "--window-size=1200,2400", (demo_dir / "report.html").as_uri()],
                       capture_output=True, text=True, timeout=60)
    img = cv2.imread(str(shot))
    assert img is not None and img.shape[:2] == (2400, 1200) and float(img.std()) > 20, p.stderr[-500:]
    keep = os.environ.get("HEATCORE_ARTIFACTS")
    if keep:  # CI keeps the screenshot to look at
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, Path(keep) / "report_screenshot.png")


def _write_detections_csv(path: Path, records) -> None:
    import csv

    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["frame", "time_s", "track", "left", "top", "right", "bottom", "score", "class_id"])
        for r in records:
            for b, t in zip(r.xyxy, r.track_ids):
                w.writerow([r.frame, r.time, t, *np.round(b, 2), 0.9, 0])


def test_grid_and_floorplan_cli_slice_and_zones(demo_dir, tmp_path, capsys):
    from heatcore._synthetic import synthetic_scene
    from heatcore.demo_report import synthetic_day

    name, recs = synthetic_day(segment_s=480)[0]
    csvp = tmp_path / "cam1_2026-11-30_08-00-00.csv"  # the start time comes from the name
    _write_detections_csv(csvp, recs)
    p = _cli(["grid", csvp, "--image-size", "640x480", "--grid", "64x48", "--mode", "point", "--no-video", "--no-json",
              "--fps", "0.5", "--slice", "2min", "--zones", demo_dir / "zones.json", "-o", tmp_path / "g", "--quiet"],
             capsys)
    assert p.returncode == 0, p.stderr
    s = load_state(tmp_path / "g" / "sliced.npz")
    assert isinstance(s, SlicedAccumulator) and s.basis == "wall" and s.labels()[0] == "2026-11-30 08:00"
    np.testing.assert_array_equal(s.total(), load_state(tmp_path / "g" / "grid.npz").result())
    p = _cli(["report", tmp_path / "g"], capsys)
    assert p.returncode == 0, p.stderr
    html = (tmp_path / "g" / "report.html").read_text()
    assert "left display" in html and "2026-11-30 08:06" in html
    # the floor plan: zones in image pixels mapped onto the plan through the homography
    _, plan, H, frecs = synthetic_scene(seconds=20, fps=5)
    H.save(tmp_path / "H.json")
    cv2.imwrite(str(tmp_path / "plan.png"), plan)
    fcsv = tmp_path / "shop_2026-11-30_09-00-00.csv"
    _write_detections_csv(fcsv, [Detections(r.xyxy, r.scores, r.class_ids, np.arange(len(r)), frame=r.frame,
                                            time=r.time) for r in frecs])  # (track ids: one per box)
    zones = tmp_path / "z.yaml"
    zones.write_text("units: plan\nzones:\n  front: [[0, 150], [400, 150], [400, 300], [0, 300]]\n"
                     "  back: [[0, 0], [400, 0], [400, 150], [0, 150]]\n")
    p = _cli(["floorplan", fcsv, "--homography", tmp_path / "H.json", "--plan", tmp_path / "plan.png", "--fps", "5",
              "--slice", "5s", "--zones", zones, "-o", tmp_path / "plan_heat.png", "--quiet"], capsys)
    assert p.returncode == 0, p.stderr
    rd = tmp_path / "plan_heat_report"
    assert {"plan.npz", "sliced.npz", "zones.npz", "run.json", "zones.yaml"} <= {f.name for f in rd.iterdir()}
    assert len(load_state(rd / "sliced.npz")) == 4
    p = _cli(["report", rd], capsys)
    assert p.returncode == 0, p.stderr


def test_report_of_sliced_motion_and_kde(tmp_path):
    from heatcore import KDEAccumulator, MotionHeatmap
    from heatcore.records import Frame
    from heatcore.slices import TimedPoints

    rng = np.random.default_rng(2)
    bg = rng.integers(60, 120, (48, 64, 3), dtype=np.uint8)
    frames = []
    for i in range(40):
        im = bg.copy()
        im[10:22, (3 * i) % 56:(3 * i) % 56 + 8] = 230
        frames.append(Frame(i, im, i / 4.0, 1.7e9 + i / 4.0, "cam"))
    m = SlicedAccumulator(lambda: MotionHeatmap("mog", threads=1), "2s")
    m.update_batch(frames)
    zones = Zones.from_dict({"top": [[0, 0], [64, 0], [64, 24], [0, 24]], "bottom": [[0, 24], [64, 24], [64, 48], [0, 48]]})
    rep = build_report(m, zones=zones, motion=m, title="motion", out=tmp_path / "m.html")
    rows = rep.data["zones"]
    top = next(r for r in rows if r["zone"] == "top" and r["slice"] == "all")
    bottom = next(r for r in rows if r["zone"] == "bottom" and r["slice"] == "all")
    assert top["motion_fraction"] > 0.05 > bottom["motion_fraction"]  # the blob moves in the top half
    assert "frames in motion per hour of footage" in rep.html
    k = SlicedAccumulator(lambda: KDEAccumulator((48, 64), 3.0, normalize="count"), "1min")
    k.update_batch([TimedPoints(rng.normal([32, 24], 6, (20, 2)), time=10.0 * i) for i in range(30)])
    rep = build_report(k, zones=zones, out=tmp_path / "k.html")
    assert len(rep.data["slices"]) == 5
    shares = [r["share"] for r in rep.data["zones"] if r["slice"] == "all"]
    assert sum(shares) == pytest.approx(1.0, abs=0.02)  # a little density falls outside the frame
