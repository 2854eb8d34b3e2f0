"""Issue 9's findings as named regression tests (the parts that are input hardening: 1, 2, 3, 5 and
6's sizes / checkpoint message), plus issue 15 item 6 (AITRIOS configs report every key at once).

Each test reproduces the reported input and asserts the fix: a clear error naming the value, no
file outside the output folder, bounded time."""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path

import numpy as np
import pytest

import heatcore as hc
from heatcore import _checks, limits
from heatcore.grid_output import GridJsonWriter
from heatcore.homography import load_points
from heatcore.io.aitrios_config import load_app_config
from heatcore.io.console import ConsoleClient, ConsoleError
from heatcore.io.detections import frames_from_arrays, parse_aitrios_detections, read_long_csv
from heatcore.io.flatbuf import encode_detections

from console_server import CLIENT_ID, CLIENT_SECRET, ConsoleServer
from fuzz_util import BILLION_LAUGHS, outside, run_cli, time_limit, tree

PARAM = """\
number_of_add_grid : 1
last_valid_frame : 5
image_size_h : 320
image_size_v : 240
grid_num_h : 32
grid_num_v : 24
bbox2pix : True
"""


def _console_tree(root: Path, server: ConsoleServer, *, sub: str = "") -> Path:
    cfg = root / "cfg"
    cfg.mkdir()
    (cfg / "access.yaml").write_text(
        "console_access_settings:\n"
        f"  console_endpoint: {server.console_endpoint}\n"
        f"  portal_authorization_endpoint: {server.token_endpoint}\n"
        f"  client_id: {CLIENT_ID}\n  client_secret: {CLIENT_SECRET}\n")
    (cfg / "param.yaml").write_text(PARAM)
    counts = "number_of_images: 5" if sub else "number_of_inference_results: 5"
    (cfg / "app.yaml").write_text(f"""\
data_source_settings:
  mode: "console"
  console_data_settings:
    setting_path: "{cfg / 'access.yaml'}"
    device_id: "Aid-1"
    sub_directory_name: "{sub}"
    {counts}
heat_map_settings:
  param_file: "{cfg / 'param.yaml'}"
output_settings:
  output_dir: "{root / 'out'}"
  output_video_fps: 30
  output_video_width: 64
  output_video_height: 48
  cmap: "Reds"
  cbar: false
  min: 0
  max: 0
  overlay: true
  transparency: 0.4
""")
    return cfg / "app.yaml"


def _record(t: object) -> dict:
    o = base64.b64encode(encode_detections([[10, 20, 30, 40]])).decode()
    return {"_ts": 1, "inference_result": {"Inferences": [{"T": t, "O": o}]}}


# ------------------------------------------------------------------------------------- finding 1


@pytest.mark.parametrize("t", ["../../x", "../../../x", "/tmp/heatcore-abs-x", "a/b", "20230412140050618/..",
                               "20231332140050618", "2023041214005061", "2023041214005061８"])
def test_finding1_console_timestamp_never_becomes_a_path(tmp_path, server, t):
    """T = "../../x" or an absolute path made ``heatcore grid --config`` write JSON outside the
    output folder. Now: exit 2 with the value named, nothing outside the output folder."""
    parent = tmp_path
    root = parent / "a" / "b"
    root.mkdir(parents=True)
    app = _console_tree(root, server)
    server.state.results["Aid-1"] = [_record(t)]
    before = tree(parent)
    code, out, err = run_cli(["grid", "--config", app, "--no-video", "--quiet"])
    assert code == 2, (out, err)
    assert "yyyyMMddHHmmssfff" in err and repr(t)[:20] in err or t[:10] in err
    assert outside(parent, before, root / "out") == set()
    assert not Path("/tmp/heatcore-abs-x.json").exists()


def test_finding1_console_image_name_never_becomes_a_path(tmp_path, server):
    root = tmp_path / "r"
    root.mkdir()
    app = _console_tree(root, server, sub="imgs")
    server.state.images[("Aid-1", "imgs")] = [{"name": "../../evil.jpg", "contents": "eA=="}]
    server.state.results["Aid-1"] = []
    before = tree(tmp_path)
    code, _, err = run_cli(["grid", "--config", app, "--no-video", "--quiet"])
    assert code == 2 and "'../../evil.jpg'" in err
    assert outside(tmp_path, before, root / "out") == set()


def test_finding1_valid_console_timestamps_still_name_the_files(tmp_path, server):
    root = tmp_path / "r"
    root.mkdir()
    app = _console_tree(root, server)
    server.state.results["Aid-1"] = [_record("20230412140050618"), _record(20230412140050718)]
    code, out, err = run_cli(["grid", "--config", app, "--no-video", "--quiet"])
    assert code == 0, err
    names = sorted(p.name for p in (root / "out" / "detect").iterdir())
    assert names == ["20230412140050618.json", "20230412140050718.json"]
    doc = json.loads((root / "out" / "detect" / "20230412140050618.json").read_text())
    assert doc["timestamp"] == "20230412140050618" and doc["number_of_detects"] == 1


def test_finding1_writer_refuses_bad_names_and_planted_symlinks(tmp_path):
    out = tmp_path / "out"
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (out / "detect").mkdir(parents=True)
    os.symlink(victim, out / "detect" / "00000000.json")
    os.symlink(victim, out / "detect" / "20230412140050618.json")
    g = np.zeros((2, 3), np.int32)
    b = np.zeros((0, 4))
    for threads in (1, 4):
        w = GridJsonWriter(out, "box", threads=threads)
        for bad in ("../x", "/etc/passwd", "x" * 17, "20230230120000000", "", "2023041214005061\n"):
            with pytest.raises(ValueError, match="yyyyMMddHHmmssfff|valid date"):
                w.write(g, b, timestamp=bad)
        with pytest.raises(ValueError, match="symbolic link"):
            w.write(g, b)
            w.close()
        w = GridJsonWriter(out, "box", threads=threads)
        with pytest.raises(ValueError, match="symbolic link"):
            w.write(g, b, timestamp="20230412140050618")
            w.close()
        w.close()
    assert victim.read_text() == "keep me"
    assert os.path.islink(out / "detect" / "00000000.json")


def test_finding1_symlinked_detect_folder_is_refused(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(elsewhere, out / "detect")
    with pytest.raises(ValueError, match="symbolic link"):
        GridJsonWriter(out, "box")
    assert list(elsewhere.iterdir()) == []


# ------------------------------------------------------------------------------------- finding 2


@pytest.mark.parametrize("frame", ["1000000000000", "1e300", "1e12", "2000001", "1000000001"])
def test_finding2_long_csv_with_a_huge_frame_number_stops_at_once(tmp_path, frame):
    """A two-line long CSV with frame 10^12 wrote 3 GB in 71,779 files; 1e300 looped forever."""
    csv = tmp_path / "d.csv"
    csv.write_text(f"frame,left,top,right,bottom\n0,1,2,3,4\n{frame},1,2,3,4\n")
    out = tmp_path / "out"
    t0 = time.monotonic()
    code, _, err = run_cli(["grid", csv, "--image-size", "64x48", "--grid", "8x6", "--no-video", "--quiet",
                            "-o", out], seconds=10)
    assert code == 2 and "line 3" in err and frame in err
    assert "max-frame-gap" in err or f"{limits.MAX_FRAME_INDEX:,}" in err
    assert time.monotonic() - t0 < 10
    assert len(list((out / "detect").glob("*.json"))) <= 1


def test_finding2_frame_gap_is_configurable(tmp_path):
    csv = tmp_path / "d.csv"
    csv.write_text("0,1,2,3,4\n120,1,2,3,4\n")
    base = ["grid", csv, "--image-size", "64x48", "--grid", "8x6", "--no-video", "--quiet", "--compact", "none"]
    code, _, err = run_cli(base + ["-o", tmp_path / "a", "--max-frame-gap", "100"])
    assert code == 2 and "120" in err and "100" in err
    code, _, err = run_cli(base + ["-o", tmp_path / "b", "--max-frame-gap", "120"])
    assert code == 0, err
    assert len(list((tmp_path / "b" / "detect").glob("*.json"))) == 121
    code, _, err = run_cli(base + ["-o", tmp_path / "c", "--max-frame-gap", "0"])
    assert code == 2 and "max_frame_gap must be >= 1" in err


@pytest.mark.parametrize("frame", [10**12, 2**62, 1e300, float("nan"), -1, 2.5])
def test_finding2_npz_with_a_huge_frame_number(tmp_path, frame):
    path = tmp_path / "d.npz"
    np.savez(path, boxes=np.array([[1.0, 2, 3, 4]]), frame=np.array([frame]))
    out = tmp_path / "out"
    with time_limit(10):
        code, _, err = run_cli(["grid", path, "--image-size", "64x48", "--no-video", "--quiet", "-o", out])
    assert code == 2 and "frame" in err, err
    assert not (out / "detect").exists() or not any((out / "detect").iterdir())


def test_finding2_api_readers_check_frames_before_allocating(tmp_path):
    with time_limit(5), pytest.raises(ValueError, match="largest gap"):
        next(frames_from_arrays(np.zeros((1, 4)), frame=[2 * 10**6]))
    with time_limit(5), pytest.raises(ValueError, match="largest frame number"):
        next(frames_from_arrays(np.zeros((1, 4)), frame=[10**12], max_frame_gap=10**13))
    p = tmp_path / "d.csv"
    p.write_text("5,1,2,3,4\n")
    with pytest.raises(ValueError, match="max_frame_gap"):
        list(read_long_csv(p, max_frame_gap=3))
    assert [f.frame for f in read_long_csv(p, max_frame_gap=6)] == [0, 1, 2, 3, 4, 5]


# ------------------------------------------------------------------------------------- finding 3


def test_finding3_yaml_alias_bomb_is_refused_quickly(tmp_path):
    """A 407-byte YAML with nested aliases produced a 2 GB error message (50 s, 6 GB)."""
    app = tmp_path / "app.yaml"
    app.write_text(BILLION_LAUGHS)
    assert len(BILLION_LAUGHS) < 600
    with time_limit(5):
        with pytest.raises(ValueError, match="aliases") as info:
            load_app_config(app)
        code, _, err = run_cli(["grid", "--config", app])
    assert len(str(info.value)) < 400
    assert code == 2 and "aliases" in err and len(err) < 500


def test_finding3_console_settings_yaml_alias_bomb(tmp_path):
    p = tmp_path / "access.yaml"
    p.write_text(BILLION_LAUGHS + "console_access_settings: *h\n")
    with time_limit(5), pytest.raises(ValueError, match="not valid YAML") as info:
        ConsoleClient.from_settings(p)
    assert len(str(info.value)) < 300


@pytest.mark.parametrize("libyaml", [True, False])
def test_finding3_deep_yaml_and_aliases_with_and_without_libyaml(tmp_path, monkeypatch, libyaml):
    import yaml

    monkeypatch.setattr(yaml, "__with_libyaml__", libyaml and getattr(yaml, "__with_libyaml__", False))
    p = tmp_path / "app.yaml"
    for depth in (70, 5000):
        p.write_text("a: " + "[" * depth + "]" * depth + "\n")
        with time_limit(5), pytest.raises(ValueError, match="nest"):
            load_app_config(p)
    p.write_text(BILLION_LAUGHS)
    with time_limit(5), pytest.raises(ValueError, match="aliases"):
        load_app_config(p)
    assert limits.load_yaml("a: &x 1\nb: [1, {c: 2}]\n") == {"a": 1, "b": [1, {"c": 2}]}


DEEP = "[" * 100_000


def test_finding3_deep_json_in_a_csv_cell(tmp_path):
    """Deeply nested JSON in a CSV cell raised an uncaught RecursionError, even with --skip-bad-rows."""
    csv = tmp_path / "d.csv"
    good = '"{""perception"": {""object_detection_list"": []}}"'
    csv.write_text(f'frame,detections\n0,{good}\n1,"{DEEP}"\n2,"{{""a"": {DEEP}}}"\n3,{good}\n')
    base = ["grid", csv, "--format", "aitrios", "--image-size", "64x48", "--grid", "8x6", "--no-video", "--quiet"]
    code, _, err = run_cli(base + ["-o", tmp_path / "a"])
    assert code == 2 and "row 1" in err and f"nests deeper than {limits.MAX_JSON_DEPTH}" in err
    code, out, err = run_cli(base + ["-o", tmp_path / "b", "--skip-bad-rows"])
    assert code == 0, err
    assert "2 frames" in out and "skipped 2 malformed rows" in err
    with pytest.raises(ValueError, match="nests deeper"):
        parse_aitrios_detections("(" * 10_000 + ")" * 10_000)


def test_finding3_deep_json_calibration_and_points_files(tmp_path):
    h = tmp_path / "H.json"
    h.write_text('{"matrix": ' + DEEP + "}")
    with time_limit(5), pytest.raises(ValueError, match="nests"):
        hc.Homography.from_json(h)
    with pytest.raises(ValueError, match="nests"):
        hc.Homography.from_json(DEEP)
    pts = tmp_path / "p.json"
    pts.write_text(DEEP)
    with pytest.raises(ValueError, match="nests"):
        load_points(pts)
    # a legitimately nested but shallow file still loads
    h.write_text(json.dumps({"matrix": [[1, 0, 0], [0, 1, 0], [0, 0, 1]]}))
    assert np.allclose(hc.Homography.from_json(h).matrix, np.eye(3))


def test_finding3_deep_json_console_reply(server):
    server.state.faults.append(("/api/v1/devices/Aid-1/inferenceresults", 200, None, DEEP))
    client = ConsoleClient(server.console_endpoint, server.token_endpoint, CLIENT_ID, CLIENT_SECRET,
                                         timeout=2, retries=0)
    with time_limit(5), pytest.raises(ConsoleError, match="nests deeper"):
        client.get_inference_results("Aid-1")
    server.state.faults.append(("/api/v1/devices/Aid-1/inferenceresults", 500, None, '{"code": ' + DEEP + "}"))
    with time_limit(5), pytest.raises(ConsoleError, match="HTTP 500"):
        client.get_inference_results("Aid-1")


def _depth(obj: object) -> int:
    """Container nesting of a parsed JSON value (the oracle for the text pre-scan)."""
    if isinstance(obj, list):
        return 1 + max((_depth(x) for x in obj), default=0)
    if isinstance(obj, dict):
        return 1 + max((_depth(x) for x in obj.values()), default=0)
    return 0


def test_finding3_json_depth_prescan_matches_the_parsed_depth():
    rng = np.random.default_rng(3)
    for _ in range(200):
        obj: object = str(rng.choice(["x]}[{", '"[', "'[", "plain"]))
        for _k in range(int(rng.integers(0, 90))):
            kind = int(rng.integers(0, 3))
            obj = [obj, '"\\"[', {"k": 1}] if kind == 0 else ({"a": obj, "b": "]]]"} if kind == 1 else [obj])
        text = json.dumps(obj)
        assert limits.json_depth(text) == _depth(obj)
    assert limits.json_depth('"[[[["') == 0
    assert limits.json_depth("[" * 70) == 70


# ------------------------------------------------------------------------------------- finding 5


@pytest.mark.parametrize("threads", [2**28, 2**31 - 1, 1025, limits.max_threads() + 1])
def test_finding5_threads_bound(threads):
    """threads=2**28 allocated 2.1 GB before doing anything; 2**31-1 tried 16 GiB."""
    with pytest.raises(ValueError, match=f"threads={threads}"):
        _checks.resolve_threads(threads)
    counter = hc.GridCounter(image_size=(64, 48), grid=(8, 6))
    frames = [np.array([[1.0, 2, 30, 40]])] * 3
    with time_limit(5):
        with pytest.raises(ValueError, match="threads"):
            counter.update_many(frames, threads=threads)
        with pytest.raises(ValueError, match="threads"):
            hc.kde(np.zeros((3, 2)), shape=(8, 8), bandwidth=2.0, threads=threads)
        with pytest.raises(ValueError, match="threads"):
            hc.Homography.from_matrix(np.eye(3)).apply(np.zeros((3, 2)), threads=threads)


def test_finding5_threads_bound_in_the_cpp_helper():
    from heatcore import _core

    pts = np.zeros((5, 2))
    for bad in (2**28, 2**31 - 1, 1025, -1):
        with time_limit(5), pytest.raises(ValueError, match="threads must be in 0..1024"):
            _core.apply_homography(np.eye(3), pts, bad)
    out, _ = _core.apply_homography(np.eye(3), pts, 1024)  # allowed, clamped to 4 x cores
    np.testing.assert_array_equal(out, pts)


def test_finding5_threads_values_that_stay_valid():
    cores = os.cpu_count() or 1
    assert _checks.resolve_threads(None) == cores == _checks.resolve_threads(0)
    assert _checks.resolve_threads(np.int64(1)) == 1
    assert _checks.resolve_threads(limits.max_threads()) == limits.max_threads()
    with pytest.raises(ValueError, match="-3"):
        _checks.resolve_threads(-3)
    with pytest.raises(TypeError):
        _checks.resolve_threads(2.0)
    code, _, err = run_cli(["kde", "--help"])
    assert code == 0


# ------------------------------------------------------------------------------------- finding 6


@pytest.mark.parametrize("text", ["0x5", "5x0", "-3x4", "4x-3", "0x0", "1000001x1", "100000x100000", "x5", "", "5"])
def test_finding6_nonsense_sizes(text):
    with pytest.raises(ValueError, match="size"):
        _checks.parse_size(text, "--size")


def test_finding6_nonsense_sizes_through_the_cli(tmp_path):
    csv = tmp_path / "d.csv"
    csv.write_text("0,1,2,3,4\n")
    for flag, value in (("--image-size", "-640x480"), ("--grid", "0x6"), ("--video-size", "0x10"),
                        ("--image-size", "200000x200000")):
        args = ["grid", csv, "--image-size", "64x48", "--quiet", "-o", tmp_path / "o", flag, value]
        code, _, err = run_cli(args)
        assert code == 2 and flag in err, (flag, err)


def test_finding6_as_shape_bounds():
    with pytest.raises(ValueError, match="GiB"):
        _checks.as_shape((50_000, 50_000))
    with pytest.raises(ValueError, match="> 0"):
        _checks.as_shape((0, 5))
    with pytest.raises(ValueError, match="> 0"):
        _checks.as_shape((-2, 5))
    assert _checks.as_shape((3, 4)) == (3, 4)


@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\n" + b"\0" * 64, b"", b"PK\x03\x04garbage", b"hello"])
def test_finding6_load_state_names_what_is_wrong(tmp_path, content):
    """load_state("plan.png") answered with NumPy's allow_pickle advice."""
    p = tmp_path / "plan.png"
    p.write_bytes(content)
    with pytest.raises(ValueError, match="is not a heatcore checkpoint") as info:
        hc.load_state(p)
    assert "allow_pickle" not in str(info.value)


def test_finding6_load_state_npz_with_objects(tmp_path):
    p = tmp_path / "obj.npz"
    np.savez(p, x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="not a heatcore checkpoint \\(it holds Python objects\\)"):
        hc.load_state(p)


# ------------------------------------------------------------------------ issue 15 item 6 (configs)


def test_issue15_item6_every_missing_and_unknown_key_at_once(tmp_path):
    (tmp_path / "p.yaml").write_text(PARAM.replace("last_valid_frame : 5\n", "").replace("bbox2pix", "bbox2pixel"))
    (tmp_path / "m.csv").write_text("h\n")
    (tmp_path / "app.yaml").write_text("""\
data_source_settings:
  mode: local
  local_data_settings: {meta_file: m.csv, vidoe_file: ""}
heat_map_setting:
  param_file: p.yaml
output_settings:
  output_dir: out
  output_video_fps: 30
  output_video_width: "wide"
  cmap: Reds
  cbar: false
  min: 0
  max: 0
  overlay: true
""")
    with pytest.raises(ValueError) as info:
        load_app_config(tmp_path / "app.yaml")
    msg = str(info.value)
    for part in ("unknown key data_source_settings.local_data_settings.vidoe_file (did you mean video_file?)",
                 "missing section heat_map_settings", "unknown key heat_map_setting (did you mean heat_map_settings?)",
                 "output_settings.output_video_width must be an integer, got 'wide'",
                 "missing key output_settings.output_video_height", "missing key output_settings.transparency"):
        assert part in msg, (part, msg)
    assert msg.count(";") == 5
    (tmp_path / "app.yaml").write_text((tmp_path / "app.yaml").read_text().replace("heat_map_setting:",
                                                                                   "heat_map_settings:")
                                       .replace(', vidoe_file: ""', "").replace('"wide"', "64")
                                       .replace("  overlay: true\n", "  overlay: true\n  transparency: 0.4\n"
                                                "  output_video_height: 48\n"))
    with pytest.raises(ValueError) as info:
        load_app_config(tmp_path / "app.yaml")
    msg = str(info.value)
    assert "missing key last_valid_frame" in msg and "unknown key bbox2pixel (did you mean bbox2pix?)" in msg
    assert "missing key bbox2pix" in msg


def test_issue15_item6_print_config_template_loads(tmp_path):
    code, out, err = run_cli(["grid", "--print-config"])
    assert code == 0 and err == ""
    app_text, param_text = out.split("# ===== local_default_param.yaml")
    for key in ("heat_map_settings:", "param_file:", "number_of_inference_results:", "transparency:",
                "# type: bool; required"):
        assert key in app_text
    for key in ("number_of_add_grid", "last_valid_frame", "image_size_h", "grid_num_v", "bbox2pix"):
        assert f"{key}:" in param_text
    (tmp_path / "config").mkdir()
    (tmp_path / "input").mkdir()
    (tmp_path / "input" / "sample.csv").write_text("h\n")
    (tmp_path / "config" / "heat_map_app.yaml").write_text(app_text)
    (tmp_path / "config" / "local_default_param.yaml").write_text("# =====" + param_text)
    cfg = load_app_config(tmp_path / "config" / "heat_map_app.yaml")
    assert cfg.mode == "local" and cfg.params.grid_num_h == 60 and cfg.output.transparency == 0.4


def test_finding1_compact_file_stays_in_the_output_folder(tmp_path):
    csv = tmp_path / "d.csv"
    csv.write_text("0,1,2,3,4\n")
    before = tree(tmp_path)
    for name in ("../escape.jsonl", "/tmp/heatcore-escape.jsonl", "a/b.jsonl", ".."):
        code, _, err = run_cli(["grid", csv, "--image-size", "64x48", "--no-video", "--quiet", "-o", tmp_path / "o",
                                "--compact", name])
        assert code == 2 and "--compact must be a file name inside the output folder" in err
    assert outside(tmp_path, before, tmp_path / "o") == set()
    assert not Path("/tmp/heatcore-escape.jsonl").exists()


@pytest.mark.parametrize("fps", ["0", "-1", "nan", "inf"])
def test_finding6_zero_or_negative_fps_is_refused(tmp_path, fps):
    csv = tmp_path / "d.csv"
    csv.write_text("0,1,2,3,4\n")
    code, _, err = run_cli(["grid", csv, "--image-size", "64x48", "--quiet", "-o", tmp_path / "o", "--fps", fps])
    assert code == 2 and "--fps must be a frame rate > 0" in err


def test_issue15_item6_console_keys_only_required_in_console_mode_and_empty_sections(tmp_path):
    code, out, _ = run_cli(["grid", "--print-config"])
    app_text, param_text = out.split("# ===== local_default_param.yaml")
    (tmp_path / "config").mkdir()
    (tmp_path / "input").mkdir()
    (tmp_path / "input" / "sample.csv").write_text("h\n")
    (tmp_path / "config" / "local_default_param.yaml").write_text("#" + param_text)
    lines = [x for x in app_text.splitlines() if "number_of_inference_results:" not in x]
    (tmp_path / "config" / "heat_map_app.yaml").write_text("\n".join(lines) + "\n")
    assert load_app_config(tmp_path / "config" / "heat_map_app.yaml").mode == "local"
    text = "\n".join(lines).replace('mode: "local"', 'mode: "console"') + "\n"
    (tmp_path / "config" / "heat_map_app.yaml").write_text(text)
    with pytest.raises(ValueError, match="missing key data_source_settings.console_data_settings."
                                         "number_of_inference_results"):
        load_app_config(tmp_path / "config" / "heat_map_app.yaml")
    text = "\n".join(x for x in app_text.splitlines() if "param_file:" not in x) + "\n"
    (tmp_path / "config" / "heat_map_app.yaml").write_text(text)
    with pytest.raises(ValueError, match="1 problem: missing key heat_map_settings.param_file$"):
        load_app_config(tmp_path / "config" / "heat_map_app.yaml")


def test_finding5_threads_validated_on_every_path(tmp_path):
    with pytest.raises(ValueError, match="threads=268435456"):
        GridJsonWriter(tmp_path, "box", threads=2**28)
    with pytest.raises(ValueError, match="threads"):
        hc.Homography.from_matrix(np.eye(3)).apply(np.zeros((2, 2)), threads=-1, backend="numpy")
    with pytest.raises(ValueError, match="threads"):
        hc.KDEAccumulator((8, 8), 2.0, threads=2**31 - 1)
    csv = tmp_path / "d.csv"
    csv.write_text("0,1,2,3,4\n")
    code, _, err = run_cli(["grid", csv, "--image-size", "64x48", "--no-video", "--quiet", "-o", tmp_path / "o",
                            "--threads", str(2**28)])
    assert code == 2 and "threads=268435456" in err


@pytest.mark.parametrize("scale", [1e5, 1e9, 1e306])
def test_finding2_motion_scale_cannot_ask_for_absurd_frames(scale):
    m = hc.MotionHeatmap("diff", scale=scale)
    with time_limit(5), pytest.raises(ValueError, match="scale"):
        m.update(np.zeros((36, 48, 3), np.uint8))
