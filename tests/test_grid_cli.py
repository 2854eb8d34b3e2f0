"""`heatcore grid` end to end: the sample's config layout, file inputs, errors, console mode, demo."""

from __future__ import annotations

import json
import sys
import types

import cv2
import numpy as np
import pytest

from heatcore.cli import main
from heatcore.records import Detections
from heatcore.reference.aitrios_sample import SampleHeatMap

from helpers import APP, PARAM, _obj, _row, make_sample_tree


def _first_rows(src, n):
    lines = src.read_text(encoding="utf-8").splitlines(keepends=True)
    return "".join(lines[: n + 1])


@pytest.mark.data
def test_config_aitrios_real_csv_matches_the_oracle(aitrios_csv, tmp_path, monkeypatch, capsys):
    app = make_sample_tree(tmp_path, aitrios_csv.read_text(encoding="utf-8"))
    monkeypatch.chdir(tmp_path)
    assert main(["grid", "--config", str(app), "--geometry", "aitrios", "--no-video", "--quiet"]) == 0
    out = tmp_path / "output"
    files = sorted((out / "detect").glob("*.json"))
    assert len(files) == 600 and files[0].name == "00000000.json" and files[-1].name == "00000599.json"
    from heatcore.io.detections import AitriosCSV

    oracle = SampleHeatMap(1, 600, 1920, 1080, 60, 36, True)
    lines = (out / "grids.jsonl").read_text().splitlines()
    assert len(lines) == 600
    for i, f in enumerate(AitriosCSV(aitrios_csv)):
        d = oracle([tuple(int(v) for v in b) for b in f.xyxy[::-1]])  # the sample's decoded order
        if i % 60 == 0 or i == 599:
            assert files[i].read_text() == json.dumps(d, indent=4), i
            assert json.loads(lines[i])["griddata"] == d["griddata"]
    first = json.loads(files[0].read_text())
    assert first["number_of_detects"] == 9 and first["positiones"][0] == {"x": 1638, "y": 665}
    assert "600 frames" in capsys.readouterr().out


@pytest.mark.data
def test_config_aitrios_n0_stops_at_frame_320(aitrios_csv, tmp_path, monkeypatch, capsys):
    app = make_sample_tree(tmp_path, aitrios_csv.read_text(encoding="utf-8"),
                           param=PARAM.replace("number_of_add_grid : 1", "number_of_add_grid : 0"))
    monkeypatch.chdir(tmp_path)
    assert main(["grid", "--config", str(app), "--geometry", "aitrios", "--no-video", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "frame 320, box" in err and "IndexError" in err
    # the sample leaves the 320 files before the crash; a failed heatcore run removes what it started
    assert not (tmp_path / "output" / "detect").exists() and not list((tmp_path / "output").glob("*.partial*"))


@pytest.mark.data
def test_config_exact_with_video(aitrios_csv, tmp_path, monkeypatch):
    app = make_sample_tree(tmp_path, _first_rows(aitrios_csv, 12))
    monkeypatch.chdir(tmp_path)
    assert main(["grid", "--config", str(app), "--quiet", "-o", str(tmp_path / "o2")]) == 0
    video = tmp_path / "o2" / "video" / "heatmap.mp4"
    cap = cv2.VideoCapture(str(video))
    n = 0
    while cap.read()[0]:
        n += 1
    assert n == 12 and int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) == 320
    d = json.loads((tmp_path / "o2" / "detect" / "00000000.json").read_text())
    # exact geometry: file order and the full disc (5 cells per point, feet at y = 1080 counted)
    assert d["positiones"][0] == {"x": 266, "y": 1048}
    assert sum(map(sum, d["griddata"])) <= 5 * d["number_of_detects"]


def _small_csv(tmp_path, frames=6):
    rows = [_row([_obj(100 + 10 * i, 100, 180 + 10 * i, 300), _obj(900, 500, 1000, 700)]) for i in range(frames)]
    lines = ["0,1,2,3,4,5,6,7,8,9"] + [f'{i},"' + r.replace('"', '""') + '"' for i, r in enumerate(rows)]
    p = tmp_path / "dets.csv"
    p.write_text("\r\n".join(lines) + "\r\n")
    return p


def test_file_form_with_video(tmp_path, capsys):
    csv = _small_csv(tmp_path, 6)
    vid = tmp_path / "cam.avi"
    w = cv2.VideoWriter(str(vid), cv2.VideoWriter_fourcc(*"MJPG"), 12.0, (192, 108))
    for i in range(4):
        w.write(np.full((108, 192, 3), 60 + 20 * i, np.uint8))
    w.release()
    out = tmp_path / "out"
    rc = main(["grid", str(csv), "--video", str(vid), "--image-size", "1920x1080", "--grid", "60x36", "--spread", "1",
               "--window", "3", "--mode", "point", "-o", str(out), "--quiet", "--colorbar"])
    assert rc == 0, capsys.readouterr().err
    video = out / "video" / "cam_heatmap.mp4"
    cap = cv2.VideoCapture(str(video))
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    assert len(frames) == 6 and frames[0].shape == (1080, 1920 + 140, 3)  # + the colour bar beside the scene
    assert len(list((out / "detect").glob("*.json"))) == 6
    g = json.loads((out / "detect" / "00000005.json").read_text())["griddata"]
    assert np.array(g).sum() == 3 * 2 * 5  # window 3, two points, full disc of radius 1 (5 cells)


def test_file_forms_long_csv_and_npz(tmp_path):
    lc = tmp_path / "l.csv"
    lc.write_text("frame,left,top,right,bottom\n0,1,1,6,6\n2,33,33,38,38\n")  # 8x8 px cells
    assert main(["grid", str(lc), "--image-size", "64x48", "--grid", "8x6", "--no-video", "--quiet",
                 "-o", str(tmp_path / "a"), "--compact", "all.npz", "--mode", "box", "--spread", "0"]) == 0
    with np.load(tmp_path / "a" / "all.npz") as d:
        assert d["grids"].shape == (3, 6, 8)
        assert d["grids"][2].sum() == 2 and d["grids"][1].sum() == 1
    npz = tmp_path / "d.npz"
    np.savez(npz, boxes=np.array([[0, 0, 10, 10], [30, 30, 40, 40.0]]), offsets=np.array([0, 1, 1, 2]))
    assert main(["grid", str(npz), "--image-size", "64x48", "--grid", "8x6", "--no-video", "--quiet",
                 "-o", str(tmp_path / "b"), "--no-json"]) == 0
    lines = (tmp_path / "b" / "grids.jsonl").read_text().splitlines()
    assert len(lines) == 3 and not (tmp_path / "b" / "detect").exists() or \
        not list((tmp_path / "b" / "detect").glob("*.json"))


@pytest.mark.parametrize("argv, match", [
    (["grid"], "detections file or --config"),
    (["grid", "nope.csv", "--image-size", "10x10"], "no such detections file"),
    (["grid", "{csv}"], "--image-size"),
    (["grid", "{csv}", "--image-size", "10y10"], "--image-size must look like"),
    (["grid", "{csv}", "--image-size", "1920x1080", "--classes", "a,b"], "--classes"),
    (["grid", "{csv}", "--image-size", "1920x1080", "--geometry", "aitrios", "--grid", "50x50"],
     "image_size_h is not divisible"),
    (["grid", "{csv}", "--image-size", "1920x1080", "--checkpoint", "{tmp}/ck.npz"], "--no-video"),
    (["grid", "--config", "{tmp}/missing.yaml"], "cannot open"),
])
def test_cli_errors(tmp_path, capsys, argv, match):
    csv = _small_csv(tmp_path)
    argv = [a.replace("{csv}", str(csv)).replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(argv + ["--quiet", "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("heatcore grid: error:") and match in err


def test_bad_row_stops_or_is_skipped(tmp_path, capsys):
    csv = _small_csv(tmp_path, 4)
    text = csv.read_bytes().decode().split("\r\n")
    text[2] = '1,"{""perception"": 5}"'
    csv.write_text("\r\n".join(text))
    args = ["grid", str(csv), "--image-size", "1920x1080", "--no-video", "--quiet"]
    assert main(args + ["-o", str(tmp_path / "a")]) == 2
    assert "row 1 (line 3)" in capsys.readouterr().err
    assert main(args + ["-o", str(tmp_path / "b"), "--skip-bad-rows"]) == 0
    assert "skipped 1 malformed rows" in capsys.readouterr().err
    assert len(list((tmp_path / "b" / "detect").glob("*.json"))) == 3


def test_checkpoint_resume_equals_a_full_run(tmp_path, capsys):
    import heatcore as hc
    from heatcore.jobs import grid_job
    from heatcore.pipeline import run
    from heatcore.sources import DetectionFileSource

    rows = ["frame,left,top,right,bottom"] + [f"{i},{(37 * i) % 600},{(53 * i) % 400},{(37 * i) % 600 + 50},"
                                             f"{(53 * i) % 400 + 80}" for i in range(50)]
    full = tmp_path / "full.csv"
    full.write_text("\n".join(rows) + "\n")
    common = ["--image-size", "640x480", "--grid", "16x12", "--window", "7", "--spread", "1", "--no-video", "--quiet"]
    ck = tmp_path / "ck.npz"
    # a run killed after 23 frames (checkpoints every 10): partial files and a checkpoint are left
    counter = hc.GridCounter(image_size=(640, 480), grid=(16, 12), spread=1, window=7)
    job = grid_job(DetectionFileSource(full), counter, tmp_path / "r", checkpoint=ck, checkpoint_every=10)
    job.source.batch = 4
    job.stop_after = 23
    assert run(job).records >= 23
    assert not (tmp_path / "r" / "grids.jsonl").exists()  # not under its real name before the end
    assert main(["grid", str(full), *common, "-o", str(tmp_path / "r"), "--checkpoint", str(ck)]) == 0
    assert "resumed at frame" in capsys.readouterr().out
    assert main(["grid", str(full), *common, "-o", str(tmp_path / "ref")]) == 0
    a = (tmp_path / "r" / "grids.jsonl").read_bytes()
    assert a == (tmp_path / "ref" / "grids.jsonl").read_bytes() and len(a.splitlines()) == 50
    for name in ("00000000.json", "00000049.json"):
        assert (tmp_path / "r" / "detect" / name).read_text() == (tmp_path / "ref" / "detect" / name).read_text()
    # a checkpoint from another configuration or another input is refused, saying what differs
    assert main(["grid", str(full), *common[:-2], "--spread", "2", "--no-video", "--quiet", "-o", str(tmp_path / "x"),
                 "--checkpoint", str(ck)]) == 2
    assert "spread" in capsys.readouterr().err
    other = tmp_path / "other.csv"
    other.write_text("\n".join(rows[:40]) + "\n")
    assert main(["grid", str(other), *common, "-o", str(tmp_path / "x"), "--checkpoint", str(ck)]) == 2
    err = capsys.readouterr().err
    assert "belongs to another run" in err and "input" in err and "--restart" in err
    assert main(["grid", str(other), *common, "-o", str(tmp_path / "x"), "--checkpoint", str(ck), "--restart"]) == 0


def test_console_mode_with_a_fake_loader(tmp_path, monkeypatch):
    calls = {}

    def load_console_frames(settings, *, base_dir=None):
        calls["settings"], calls["base_dir"] = settings, base_dir
        frames = [Detections(frame=i, xyxy=np.array([[100.0, 100, 200, 400]]), timestamp=f"2023041214005061{i}",
                                 image=np.full((54, 96, 3), 90, np.uint8)) for i in range(3)]
        return iter(frames), "subdir"

    fake = types.ModuleType("heatcore.io.console")
    fake.load_console_frames = load_console_frames
    monkeypatch.setitem(sys.modules, "heatcore.io.console", fake)
    import heatcore.io

    monkeypatch.setattr(heatcore.io, "console", fake, raising=False)
    app = make_sample_tree(tmp_path, None, app=APP.replace('mode: "local"', 'mode: "console"'))
    monkeypatch.chdir(tmp_path)
    assert main(["grid", "--config", str(app), "--geometry", "aitrios", "--quiet"]) == 0
    assert calls["settings"]["device_id"] == "__device_id__"
    names = sorted(p.name for p in (tmp_path / "output" / "detect").glob("*.json"))
    assert names == [f"2023041214005061{i}.json" for i in range(3)]
    d = json.loads((tmp_path / "output" / "detect" / names[2]).read_text())
    assert list(d)[-1] == "timestamp" and d["timestamp"] == "20230412140050612"
    assert (tmp_path / "output" / "video" / "subdir_heatmap.mp4").exists()


def test_demo(tmp_path):
    from heatcore.demo import grid_demo

    files = grid_demo(tmp_path / "grid", quiet=True)
    png = [f for f in files if f.suffix == ".png"][0]
    img = cv2.imread(str(png))
    assert img is not None and float(img.std()) > 5
    assert all(f.exists() for f in files)
    assert len(list((tmp_path / "grid" / "detect").glob("*.json"))) == 90


@pytest.mark.data
@pytest.mark.parametrize("mode, geometry", [("point", "exact"), ("box", "exact"), ("point", "aitrios"),
                                            ("box", "aitrios")])
def test_fast_and_general_pipelines_write_the_same_files(aitrios_csv, tmp_path, mode, geometry):
    import heatcore as hc
    from heatcore.io.detections import AitriosCSV
    from heatcore.jobs import grid_job
    from heatcore.pipeline import run

    def run_pipeline(records, counter, out, **kw):
        return run(grid_job(records, counter, out, **kw))

    src = tmp_path / "few.csv"
    src.write_text(_first_rows(aitrios_csv, 150), encoding="utf-8")
    kw = dict(image_size=(1920, 1080), grid=(60, 36), spread=1, window=20, mode=mode, geometry=geometry)
    fast = run_pipeline(AitriosCSV(src), hc.GridCounter(**kw), tmp_path / "fast", reverse=True)
    slow = run_pipeline(list(AitriosCSV(src)), hc.GridCounter(**kw), tmp_path / "slow", reverse=True)
    assert fast.records == slow.records == 150
    names = sorted(p.name for p in (tmp_path / "slow" / "detect").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "fast" / "detect").iterdir())
    floats = 0
    for name in names:
        a = (tmp_path / "fast" / "detect" / name).read_text()
        assert a == (tmp_path / "slow" / "detect" / name).read_text(), name
        floats += ".5" in a
    if mode == "point" and geometry == "exact":
        assert floats > 0  # odd l + r: x = n.5, formatted by Python's json rules
    assert (tmp_path / "fast" / "grids.jsonl").read_text() == (tmp_path / "slow" / "grids.jsonl").read_text()


def test_console_mode_end_to_end_against_the_fake_server(tmp_path, monkeypatch):
    cs = pytest.importorskip("console_server")
    from test_console import jpeg_b64, record, stamp, write_settings

    srv = cs.ConsoleServer().start()
    try:
        t = [stamp(i) for i in range(4)]
        srv.state.images[("Aid-1", "cam")] = [{"name": f"{ts}.jpg", "contents": jpeg_b64(size=(54, 96))} for ts in t]
        boxes = [[[100, 100, 200, 400], [1000, 500, 1100, 700]], [[300, 300, 340, 500]], None,
                 [[1900, 1000, 1920, 1080]]]
        srv.state.results["Aid-1"] = [record(ts, b, i) for i, (ts, b) in enumerate(zip(t, boxes)) if b is not None]
        (tmp_path / "config").mkdir()
        write_settings(tmp_path / "config" / "console_access_settings.yaml", srv)  # the app YAML's setting_path
        app = make_sample_tree(tmp_path, None, app=APP.replace('mode: "local"', 'mode: "console"').replace(
            'sub_directory_name: "__sub_directory_name__"', 'sub_directory_name: "cam"').replace(
            'device_id: "__device_id__"', 'device_id: "Aid-1"'))
        monkeypatch.chdir(tmp_path)
        for var in ("CONSOLE_ENDPOINT", "PORTAL_AUTHORIZATION_ENDPOINT", "CLIENT_ID", "CLIENT_SECRET"):
            monkeypatch.delenv(var, raising=False)
        assert main(["grid", "--config", str(app), "--geometry", "aitrios", "--quiet"]) == 0
    finally:
        srv.stop()
    out = tmp_path / "output"
    assert sorted(p.stem for p in (out / "detect").glob("*.json")) == t
    oracle = SampleHeatMap(1, 600, 1920, 1080, 60, 36, True)
    for ts, b in zip(t, boxes):
        d = oracle([tuple(x) for x in (b or [])])  # console order: no reversal
        d["timestamp"] = ts
        assert (out / "detect" / f"{ts}.json").read_text() == json.dumps(d, indent=4)
    assert (out / "video" / "cam_heatmap.mp4").exists()
