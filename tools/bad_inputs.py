"""A round of bad inputs through heatcore's API and CLI, tallied for issue 9's closing note.

    python tools/bad_inputs.py [--timeout 20] [--list]

Each case is a call (API) or an argv (``heatcore.cli.main`` in-process) plus what a good answer
is: ``error`` with a token the message must contain (the bad value or key), or ``ok`` with a check
of the result. Cases run in a forked worker process (memory capped at 6 GiB) so a crash or hang
cannot take the tally with it; a hung or dead worker is replaced. Outcomes:

* clear error   - ValueError / TypeError / FileNotFoundError (CLI: exit 2, one line) naming the token
* unclear       - a documented error whose message lacks the token, spans lines or exceeds 1000 chars
* crash         - any other exception, a traceback, a dead worker (segfault, MemoryError, abort)
* hang          - no answer within the time bound
* silent wrong  - a result where an error was due, or a result that fails its check
* ok            - a valid input answered correctly (control cases, not counted as bad inputs)
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "fuzz"))

DOCUMENTED = (ValueError, TypeError, FileNotFoundError)
PARENT = Path(tempfile.mkdtemp(prefix="heatcore-bad-"))
TMP = PARENT / "work"  # every case writes under TMP; anything new in PARENT beside it escaped
TMP.mkdir()
CASES: list[tuple[str, str, Any, str, Any]] = []  # (group, name, call|argv, expect, token|check)


def err(group: str, name: str, call: Any, token: str) -> None:
    CASES.append((group, name, call, "error", token))


def ok(group: str, name: str, call: Any, check: Callable[[Any], bool] | None = None) -> None:
    CASES.append((group, name, call, "ok", check))


def f(name: str, text: str | bytes) -> Path:
    p = TMP / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(text.encode() if isinstance(text, str) else text)
    return p


# ------------------------------------------------------------------------------------- the cases


_SERVER: dict[int, Any] = {}


def _server() -> Any:
    """The fake Console of this process (a forked worker starts its own)."""
    from console_server import ConsoleServer

    if os.getpid() not in _SERVER:
        _SERVER[os.getpid()] = ConsoleServer().start()
    return _SERVER[os.getpid()]


def _client() -> Any:
    from heatcore.io.console import ConsoleClient

    from console_server import CLIENT_ID, CLIENT_SECRET

    srv = _server()
    return ConsoleClient(srv.console_endpoint, srv.token_endpoint, CLIENT_ID, CLIENT_SECRET, timeout=2, retries=0)


def build() -> None:
    import heatcore as hc
    from heatcore import _checks
    from heatcore.grid_output import GridJsonWriter
    from heatcore.io.aitrios_config import config_template, load_app_config
    from heatcore.io.console import ConsoleClient, load_console_frames  # noqa: F401
    from heatcore.io.detections import frames_from_arrays, parse_aitrios_detections, read_long_csv
    from heatcore.io.flatbuf import decode_detections, encode_detections

    grid = ["grid", "--no-video", "--quiet"]

    # A. long CSV frame numbers (CLI)
    for v in ["-1", "1e300", "nan", "inf", "-inf", "1e12", "1000000000000", "2000001", "1.5", "abc", "", "0x10",
              "1e309", "-0.5", "99999999999999999999999", "1_000_000_000_000"]:
        p = f(f"long/{abs(hash(v))}.csv", f"frame,left,top,right,bottom\n0,1,2,3,4\n{v},1,2,3,4\n")
        err("long CSV frame", v, grid + [p, "--image-size", "64x48", "-o", TMP / "o_long"], "line 3")
    for v in ["nan", "-1e309", "abc", "inf"]:
        p = f(f"long/c{abs(hash(v))}.csv", f"0,{v},2,3,4\n")
        err("long CSV value", v, grid + [p, "--image-size", "64x48", "-o", TMP / "o_long"], "line 1")
    p = f("long/far.csv", "0,1e300,2,3,4\n")  # finite, far off the image: counts nothing (a valid box)
    ok("long CSV value", "1e300 (off the image)", grid + [p, "--image-size", "64x48", "-o", TMP / "o_far"],
       lambda r: r[0] == 0)
    for v in ["1e300", "1e19"]:
        p = f(f"long/s{abs(hash(v))}.csv", f"0,1,2,3,4,{v},{v}\n")
        err("long CSV score/class", v, grid + [p, "--image-size", "64x48", "-o", TMP / "o_long"], "out of range")
    p = f("long/unsorted.csv", "5,1,2,3,4\n3,1,2,3,4\n")
    err("long CSV", "unsorted", grid + [p, "--image-size", "64x48", "-o", TMP / "o_long"], "sort")
    p = f("long/gap.csv", "0,1,2,3,4\n50,1,2,3,4\n")
    err("long CSV", "gap over --max-frame-gap", grid + [p, "--image-size", "64x48", "--max-frame-gap", "10",
                                                        "-o", TMP / "o_gap"], "10")
    for g in ["0", "-5", "x"]:
        err("long CSV", f"--max-frame-gap {g}", grid + [p, "--image-size", "64x48", "--max-frame-gap", g,
                                                        "-o", TMP / "o_gap"], "max")

    # B. AITRIOS CSV cells (CLI, with and without --skip-bad-rows)
    good = '{"perception": {"object_detection_list": [{"class_id": 0, "bounding_box": {"left": 1, "top": 2, ' \
           '"right": 3, "bottom": 4}, "score": 0.5}]}}'
    cells = {
        "deep list": "[" * 50000, "deep dict": '{"a": ' * 5000 + "1" + "}" * 5000, "deep tuple": "(" * 50000,
        "not a dict": "[1, 2]", "no perception": '{"x": 1}', "perception list": '{"perception": []}',
        "no list": '{"perception": {}}', "list of ints": '{"perception": {"object_detection_list": [1]}}',
        "box nan": good.replace('"left": 1', '"left": NaN'), "box inf": good.replace('"left": 1', '"left": 1e999'),
        "box string": good.replace('"left": 1', '"left": "1"'), "class float": good.replace('"class_id": 0',
                                                                                            '"class_id": 0.5'),
        "no bbox": good.replace('"bounding_box"', '"bbox"'), "huge int": good.replace('"left": 1', '"left": ' + "9" * 5000),
        "python call": "__import__('os').system('true')", "binary": "\x00\x01\x02", "empty dict": "{}",
    }
    for name, cell in cells.items():
        q = cell.replace('"', '""')
        p = f(f"aitrios/{abs(hash(name))}.csv", f'frame,det\n0,"{good.replace(chr(34), chr(34) * 2)}"\n1,"{q}"\n')
        base = grid + [p, "--format", "aitrios", "--image-size", "64x48"]
        err("AITRIOS CSV cell", name, base + ["-o", TMP / "o_ai"], "row 1")
        ok("AITRIOS CSV cell --skip-bad-rows", name, base + ["-o", TMP / "o_ai2", "--skip-bad-rows"],
           lambda r: r[0] == 0 and "skipped 1 malformed" in r[2])

    # C. CLI flags
    csv = f("ok.csv", "0,1,2,30,40\n1,5,5,50,40\n")
    for flag, vals, token in [
        ("--grid", ["0x6", "-8x6", "8x0", "8", "axb", "8x6x2", "2000000x1", "100000x100000", ""], "--grid"),
        ("--image-size", ["0x48", "-64x48", "64", "1e3x48", "300000x300000"], "--image-size"),
        ("--video-size", ["0x48", "-1x-1", "99999999x99999999"], "--video-size"),
        ("--threads", ["-1", "100000", str(2**28), str(2**31 - 1), "1.5"], "threads"),
        ("--spread", ["-1", "2000000"], "spread"),
        ("--window", ["-5"], "window"),
        ("--anchor", ["1.5", "-0.1", "nan", "inf"], "anchor"),
        ("--classes", ["a,b", "1;2"], "--classes"),
        ("--fps", ["0", "-1", "nan"], "fps"),
        ("--alpha", ["nan"], "nan"),
        ("--compact", ["x.txt", "../../escape.jsonl"], "compact"),
    ]:
        for v in vals:
            argv = grid + [csv, "--image-size", "64x48", "-o", TMP / "o_flags", flag, v]
            if flag in ("--video-size", "--fps", "--alpha"):
                argv.remove("--no-video")
            err("CLI flag", f"{flag} {v}", argv, "invalid" if (flag, v) == ("--threads", "1.5") else token)
    vid = ROOT.parent.parent / "shared" / "data" / "campus_480x360.avi"
    vid = vid if vid.exists() else Path("/work/shared/data/campus_480x360.avi")
    if vid.exists():
        for v in ["0", "-1", "nan", "inf", "1e9", "1e306"]:
            err("CLI motion", f"--scale {v}", ["motion", vid, "--scale", v, "--quiet", "-o", TMP / "m.png"], "scale")
    err("CLI", "no input", ["grid"], "detections")
    err("CLI", "missing file", grid + [TMP / "nope.csv", "--image-size", "64x48"], "nope.csv")
    err("CLI", "missing --image-size", grid + [csv], "--image-size")
    err("CLI", "kde missing file", ["kde", TMP / "nope.csv", "-o", TMP / "k.png"], "nope.csv")
    ok("CLI", "valid long CSV", grid + [csv, "--image-size", "64x48", "-o", TMP / "o_ok"], lambda r: r[0] == 0)

    # D. AITRIOS YAML configs
    app_text, param_text = config_template().split("# ===== local_default_param.yaml")
    param_text = "#" + param_text

    def tree_with(app: str, param: str = param_text) -> Path:
        d = Path(tempfile.mkdtemp(dir=TMP))
        (d / "config").mkdir()
        (d / "input").mkdir()
        (d / "input" / "sample.csv").write_text("h\n")
        (d / "config" / "heat_map_app.yaml").write_text(app)
        (d / "config" / "local_default_param.yaml").write_text(param)
        return d / "config" / "heat_map_app.yaml"

    ok("config", "template loads", lambda: load_app_config(tree_with(app_text)))
    lines = app_text.splitlines()
    for i, line in enumerate(lines):
        s = line.strip()
        if s and not s.startswith("#") and ":" in s:
            key = s.split(":")[0]
            body = "\n".join(lines[:i] + lines[i + 1:]) + "\n"
            if s.endswith(":"):  # a section: drop it and its keys
                ind = len(line) - len(line.lstrip())
                j = i + 1
                while j < len(lines) and (not lines[j].strip() or len(lines[j]) - len(lines[j].lstrip()) > ind):
                    j += 1
                body = "\n".join(lines[:i] + lines[j:]) + "\n"
            optional = key in ("video_file", "sub_directory_name", "first_timestamp", "last_timestamp",
                               "console_data_settings", "setting_path", "device_id", "number_of_images",
                               "number_of_inference_results")
            if optional:
                ok("config key dropped (optional)", key, (lambda b: lambda: load_app_config(tree_with(b)))(body))
            else:
                err("config key dropped", key, (lambda b: lambda: load_app_config(tree_with(b)))(body), key)
            typo = "\n".join(lines[:i] + [line.replace(key + ":", key + "x:", 1)] + lines[i + 1:]) + "\n"
            err("config key misspelt", key, (lambda b: lambda: load_app_config(tree_with(b)))(typo), key + "x")
    for key in ["number_of_add_grid", "last_valid_frame", "image_size_h", "image_size_v", "grid_num_h", "grid_num_v",
                "bbox2pix"]:
        body = "\n".join(x for x in param_text.splitlines() if not x.startswith(key + ":")) + "\n"
        err("param key dropped", key, (lambda b: lambda: load_app_config(tree_with(app_text, b)))(body), key)
        bad = param_text.replace(f"{key}:", f"{key}: [1]  #", 1)
        err("param key mistyped", key, (lambda b: lambda: load_app_config(tree_with(app_text, b)))(bad), key)
    for key, v in [("grid_num_h", "0"), ("grid_num_v", "-3"), ("image_size_h", "0"), ("grid_num_h", "7"),
                   ("grid_num_h", "2000000")]:
        bad = "\n".join(f"{key}: {v}" if x.startswith(key + ":") else x for x in param_text.splitlines()) + "\n"
        err("param value", f"{key}={v}", (lambda b: lambda: load_app_config(tree_with(app_text, b)))(bad),
            "grid_num" if "grid" in key else key)
    for key, v, token in [("transparency", "1.5", "transparency"), ("transparency", "-0.1", "transparency"),
                          ("output_video_fps", "0", "output_video_fps"), ("output_video_width", "-5", "width"),
                          ("output_video_width", "2000000", "output video size"), ("cbar", "1", "cbar"),
                          ("overlay", '"yes"', "overlay"), ("mode", '"cloud"', "cloud"), ("min", '"a"', "min"),
                          ("meta_file", '"./input/none.csv"', "none.csv"), ("video_file", '"nope.mp4"', "nope.mp4"),
                          ("param_file", '"nope.yaml"', "nope.yaml")]:
        bad = "\n".join((x.split(":")[0] + f": {v}") if x.strip().startswith(key + ":") else x
                        for x in app_text.splitlines()) + "\n"
        err("config value", f"{key}={v}", (lambda b: lambda: load_app_config(tree_with(b)))(bad), token)
    from fuzz_util import BILLION_LAUGHS

    for name, text, token in [("alias bomb", BILLION_LAUGHS, "aliases"), ("deep", "a: " + "[" * 3000, "nest"),
                              ("not a mapping", "- 1\n- 2\n", "mapping"), ("binary", "\x00\xff\xfe", "YAML"),
                              ("tabs", "a:\n\tb: 1\n", "YAML"), ("huge", "a: " + "x" * 2_000_000, "bytes"),
                              ("python tag", "!!python/object/apply:os.system ['true']", "YAML"),
                              ("empty", "", "data_source_settings")]:
        err("config file", name, (lambda t: lambda: load_app_config(f(f"cfg/{abs(hash(t))}.yaml", t)))(text), token)
    err("config file", "missing", lambda: load_app_config(TMP / "nope.yaml"), "nope.yaml")
    err("CLI config", "alias bomb", ["grid", "--config", f("cfg/bomb.yaml", BILLION_LAUGHS)], "aliases")

    # E. Console (fake server on 127.0.0.1)
    o = base64.b64encode(encode_detections([[1, 2, 3, 4]])).decode()

    def console_T(t: Any) -> Callable[[], Any]:
        def run() -> Any:
            _server().state.results["Aid-1"] = [{"_ts": 1, "inference_result": {"Inferences": [{"T": t, "O": o}]}}]
            frames, _ = load_console_frames({"device_id": "Aid-1", "number_of_inference_results": 5}, client=_client())
            d = Path(tempfile.mkdtemp(dir=TMP))
            with GridJsonWriter(d, "box") as w:
                for fr in frames:
                    w.write(np.zeros((2, 2), np.int32), fr.boxes, timestamp=fr.timestamp)
            return d
        return run

    for t in ["../../x", "../../../etc/x", "/tmp/abs", "a/b", "..", ".", "20230412140050618/..", "2023041214005061",
              "202304121400506180", "20231332140050618", "20230230140050618", "2023041214005061x", "",
              "２０２３０４１２１４００５０６１８", "20230412140050618\n", " 20230412140050618", 12, -20230412140050618]:
        err("Console T", repr(t), console_T(t), "yyyyMMddHHmmssfff")
    ok("Console T", "valid", console_T("20230412140050618"),
       lambda d: [p.name for p in (d / "detect").iterdir()] == ["20230412140050618.json"])

    def console_image(name: Any) -> Callable[[], Any]:
        def run() -> Any:
            _server().state.images[("Aid-1", "imgs")] = [{"name": name, "contents": "eA=="}]
            _server().state.results["Aid-1"] = []
            frames, _ = load_console_frames({"device_id": "Aid-1", "sub_directory_name": "imgs",
                                             "number_of_images": 5}, client=_client())
            return list(frames)
        return run

    for name in ["../../evil.jpg", "/etc/evil.jpg", "x.jpg", "20230412140050618.png", "20230412140050618",
                 ".jpg", "a/20230412140050618.jpg"]:
        err("Console image name", name, console_image(name), "jpg")

    def raw_reply(body: str, status: int = 200) -> Callable[[], Any]:
        def run() -> Any:
            _server().state.results["Aid-1"] = []
            _server().state.faults[:] = [("/api/v1/devices/Aid-1/", status, None, body)]
            try:
                return _client().get_inference_results("Aid-1")
            finally:
                _server().state.faults.clear()
        return run

    for name, body, status, token in [("deep reply", "[" * 100000, 200, "nests"), ("not JSON", "<html>", 200, "not JSON"),
                                      ("dict reply", "{}", 200, "not a list"),
                                      ("deep error", '{"code": ' + "[" * 100000, 500, "HTTP 500"),
                                      ("huge error", "x" * 1_000_000, 500, "HTTP 500"),
                                      ("bad utf-8", "\udcff", 200, "not JSON")]:
        err("Console reply", name, raw_reply(body.encode("utf-8", "surrogateescape").decode("latin-1"), status), token)
    for name, text, token in [("alias bomb", BILLION_LAUGHS + "console_access_settings: *h\n", "YAML"),
                              ("deep", "a: " + "[" * 3000, "YAML"), ("no section", "x: 1\n", "console_access_settings"),
                              ("application_id", "console_access_settings: {application_id: x}\n", "application_id")]:
        err("Console settings", name, (lambda t: lambda: ConsoleClient.from_settings(f(f"cs/{abs(hash(t))}.yaml", t)))(text),
            token)

    # F. API: threads, sizes, shapes, time stamps
    for v in [-1, -2**31, 2**28, 2**31 - 1, 2**63, 1025, 10**6, 1.5, "4", True, [2], float("nan")]:
        err("threads", repr(v), (lambda v: lambda: _checks.resolve_threads(v))(v), "threads")
    for v in ["0x5", "5x0", "-1x5", "5x-1", "1e3x5", "x", "", "5", "5x5x5", "2000000x1", "100000x100000", None, 5,
              (5, 5)]:
        err("parse_size", repr(v), (lambda v: lambda: _checks.parse_size(v, "--size"))(v), "--size")
    for v in [(0, 5), (5, 0), (-1, 5), (5.5, 5), (True, 5), (60000, 60000), (2000000, 1), "5", None, (1, 2, 3)]:
        err("as_shape", repr(v), (lambda v: lambda: _checks.as_shape(v))(v), "shape")
    for v in ["../x", "/abs", "2023041214005061", "202304121400506189", "20231301000000000", "20230229000000000",
              "2023041214005061a", "", 3.5, None, b"20230412140050618", "20230412140050618 "]:
        err("check_timestamp", repr(v), (lambda v: lambda: _checks.check_timestamp(v))(v), "timestamp")
    ok("check_timestamp", "leap day", lambda: _checks.check_timestamp("20240229235959999"))

    # grid counter parameters
    box = [np.array([[1.0, 2, 30, 40]])]
    for kw, token in [({"grid": (0, 6)}, "grid"), ({"grid": (10**6, 10**6)}, "grid"), ({"grid": (2 * 10**6, 1)}, "grid"),
                      ({"image_size": (0, 48)}, "image_size"), ({"image_size": (-64, 48)}, "image_size"),
                      ({"spread": -1}, "spread"), ({"spread": 10**7}, "spread"), ({"window": -1}, "window"),
                      ({"anchor": 2.0}, "anchor"), ({"anchor": float("nan")}, "anchor"), ({"mode": "boxes"}, "mode"),
                      ({"geometry": "x"}, "geometry"), ({"classes": ["a"]}, "classes"), ({"min_score": "x"}, "min_score"),
                      ({"grid": "8x6x1"}, "grid"), ({"image_size": 64}, "image_size")]:
        args = {"image_size": (64, 48), "grid": (8, 6)}
        args.update(kw)
        err("GridCounter", repr(kw), (lambda a: lambda: hc.GridCounter(**a))(args), token)
    ok("GridCounter.update", "huge finite inverted box counts nothing",
       lambda: hc.GridCounter(image_size=(64, 48), grid=(8, 6)).update(np.array([[1e308, 1e308, -1e308, 1]])),
       lambda g: not g.any())
    for b in [np.array([[np.nan, 2, 3, 4]]), np.array([[1, 2, 3]]), "abc"]:
        err("GridCounter.update", repr(b)[:40], (lambda b: lambda: hc.GridCounter(image_size=(64, 48), grid=(8, 6))
                                                 .update(b))(b), "")
    for t in [-1, 2**28, 2**31 - 1]:
        err("GridCounter threads", t, (lambda t: lambda: hc.GridCounter(image_size=(64, 48), grid=(8, 6))
                                       .update_many(box, threads=t))(t), "threads")

    # kde
    pts = np.array([[1.0, 2.0], [5.0, 6.0]])
    for kw, token in [({"shape": (0, 5)}, "shape"), ({"shape": (60000, 60000)}, "shape"), ({"bandwidth": 0}, "bandwidth"),
                      ({"bandwidth": -1}, "bandwidth"), ({"bandwidth": float("nan")}, "bandwidth"),
                      ({"bandwidth": float("inf")}, "bandwidth"), ({"bandwidth": "x"}, "bandwidth"),
                      ({"threads": 2**28}, "threads"), ({"threads": -3}, "threads"), ({"shape": "0x5"}, "shape")]:
        a = {"shape": (16, 16), "bandwidth": 2.0}
        a.update(kw)
        err("kde", repr(kw), (lambda a: lambda: hc.kde(pts, **a))(a), token)
    for p_, token in [(np.zeros((3, 3)), "shape"), ("abc", "numeric"), (np.zeros((2, 2, 2)), "shape")]:
        err("kde points", repr(p_)[:30], (lambda p_: lambda: hc.kde(p_, shape=(8, 8), bandwidth=2.0))(p_), token)
    for kw, token in [({"shape": (0, 5)}, "shape"), ({"shape": (50000, 50000)}, "shape"), ({"threads": 10**5}, "threads")]:
        a = {"shape": (16, 16), "bandwidth": 2.0}
        a.update(kw)
        err("KDEAccumulator", repr(kw), (lambda a: lambda: hc.KDEAccumulator(**a))(a), token)

    # homography
    for m, token in [(np.zeros((3, 3)), "zeros"), (np.ones((3, 3)), "singular"), (np.eye(2), "shape"),
                     ([[np.nan] * 3] * 3, "NaN"), ("abc", "matrix"), ([[1e308, 0, 0], [0, 1e308, 0], [0, 0, 1e-308]], ""),
                     ([[0, 0, 0], [0, 0, 0], [0, 1.3e154, 0]], "singular")]:
        err("Homography", repr(m)[:40], (lambda m: lambda: hc.Homography.from_matrix(m))(m), token)
    for name, text, token in [("deep", '{"matrix": ' + "[" * 100000 + "}", "nests"), ("not json", "{matrix", "JSON"),
                              ("no matrix", '{"x": 1}', "matrix"), ("2x2", '{"matrix": [[1, 0], [0, 1]]}', "shape"),
                              ("strings", '{"matrix": [["a", 0, 0], [0, 1, 0], [0, 0, 1]]}', "numeric"),
                              ("Infinity", '{"matrix": [[Infinity, 0, 0], [0, 1, 0], [0, 0, 1]]}', "inf"),
                              ("null", "null", "matrix"), ("empty", "", "JSON")]:
        err("homography JSON", name, (lambda t: lambda: hc.Homography.from_json(f(f"h/{abs(hash(t))}.json", t)))(text),
            token)
    err("homography JSON", "missing file", lambda: hc.Homography.from_json(TMP / "nope.json"), "nope.json")
    for name, text, token in [("deep", "[" * 100000, "nests"), ("dict", '{"x": 1}', "points"), ("3 cols", "[[1,2,3]]", ""),
                              ("nan", "[[NaN, 1]]", "")]:
        from heatcore.homography import load_points

        err("points JSON", name, (lambda t: lambda: load_points(f(f"pt/{abs(hash(t))}.json", t)))(text), token)

    # checkpoints
    g = hc.GridCounter(image_size=(64, 48), grid=(8, 6), window=3)
    g.update(box[0])
    gp = g.save(TMP / "g.npz")
    for name, data, token in [("png", b"\x89PNG\r\n\x1a\n" + bytes(100), "not a heatcore checkpoint"),
                              ("empty", b"", "not a heatcore checkpoint"), ("text", b"hello", "not a heatcore checkpoint"),
                              ("zip garbage", b"PK\x03\x04" + bytes(50), "not a heatcore checkpoint"),
                              ("truncated", gp.read_bytes()[: len(gp.read_bytes()) // 2], "not a heatcore checkpoint")]:
        err("load_state", name, (lambda d: lambda: hc.load_state(f(f"ck/{abs(hash(d))}.npz", d)))(data), token)
    err("load_state", "missing", lambda: hc.load_state(TMP / "nope.npz"), "nope.npz")
    with np.load(gp) as d:
        arrays = {k: d[k] for k in d.files}
    for name, change, token in [("object array", {"grid": np.array([{}], dtype=object)}, "Python objects"),
                                ("bad kind", {"__kind__": np.array("evil")}, "evil"),
                                ("deep config", {"config_json": np.array("[" * 100000)}, "nests"),
                                ("grid shape", {"grid": np.zeros((2, 2))}, "shape"),
                                ("ring", {"ring_counts": np.array([5])}, "ring")]:
        a = dict(arrays)
        a.update(change)
        p = TMP / "ck" / f"{abs(hash(name))}.npz"
        p.parent.mkdir(parents=True, exist_ok=True)
        np.savez(p, **a)
        err("load_state", name, (lambda p: lambda: hc.load_state(p))(p), token)
    ok("load_state", "valid", lambda: hc.load_state(gp), lambda acc: acc.frames == 1)

    # flatbuffers
    good_fb = encode_detections([[1, 2, 3, 4], [5, 6, 7, 8]])
    for name, raw in [("empty", b""), ("3 bytes", b"abc"), ("root past end", b"\xff\xff\xff\x7f"),
                      ("truncated", good_fb[:-5]), ("huge vector", good_fb[:20] + b"\xff\xff\xff\xff" + good_fb[24:]),
                      ("zeros", bytes(64)), ("ones", b"\xff" * 64), ("str", "abc")]:
        err("flatbuffer", name, (lambda r: lambda: decode_detections(r))(raw), "")
    ok("flatbuffer", "valid", lambda: decode_detections(good_fb), lambda r: r[0].shape == (2, 4))

    # detection readers
    for kw, token in [({"frame": [10**12]}, "frame"), ({"frame": [2 * 10**6]}, "gap"), ({"frame": [-1]}, "frame"),
                      ({"frame": [3, 1]}, "frame"), ({"frame": [np.nan]}, "frame"), ({"frame": [1e300]}, "frame"),
                      ({"offsets": [0, 2]}, "offsets"), ({"offsets": [1, 1]}, "offsets")]:
        err("frames_from_arrays", repr(kw), (lambda kw: lambda: list(frames_from_arrays(np.zeros((1, 4)), **kw)))(kw),
            token)
    err("read_long_csv", "missing", lambda: list(read_long_csv(TMP / "nope.csv")), "nope.csv")
    for cell in ["[" * 100000, "{" * 100000, "(" * 100000, "'" * 3, "1e999"]:
        err("parse_aitrios_detections", cell[:10], (lambda c: lambda: parse_aitrios_detections(c))(cell), "")

    # JSON writer names
    w_dir = TMP / "jw"
    for t in ["../x", "/etc/passwd", "a\x00b", "2023041214005061", "20230412140050618/../../x", "CON", ".json"]:
        def write(t: str = t) -> Any:
            with GridJsonWriter(w_dir, "box") as w:
                w.write(np.zeros((2, 2), np.int32), np.zeros((0, 4)), timestamp=t)
        err("GridJsonWriter timestamp", repr(t), write, "yyyyMMddHHmmssfff")
    sym = TMP / "jw2" / "detect"
    sym.mkdir(parents=True)
    victim = f("victim.txt", "keep")
    os.symlink(victim, sym / "00000000.json")

    def write_sym() -> Any:
        with GridJsonWriter(TMP / "jw2", "box", threads=1) as w:
            w.write(np.zeros((2, 2), np.int32), np.zeros((0, 4)))
    err("GridJsonWriter", "planted symlink", write_sym, "symbolic link")


# ------------------------------------------------------------------------------------- running


def _run_case(i: int) -> tuple[str, str]:
    outcome, detail = _run_case_inner(i)
    escaped = set(os.listdir(PARENT)) - {"work"}
    if escaped:
        for n in escaped:
            p = PARENT / n
            p.unlink() if not p.is_dir() or p.is_symlink() else None
        return "silent wrong", f"wrote outside the output folder: {sorted(escaped)}"
    return outcome, detail


def _run_case_inner(i: int) -> tuple[str, str]:
    group, name, call, expect, extra = CASES[i]
    try:
        if isinstance(call, list):
            from heatcore.cli import main

            out, errs = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(errs):
                try:
                    code = main([str(a) for a in call])
                except SystemExit as exc:
                    code = int(exc.code or 0)
            msg = errs.getvalue()
            result: Any = (code, out.getvalue(), msg)
            if code not in (0, 2):
                return "crash", f"exit {code}: {msg[-300:]}"
            if code == 2:
                if expect == "ok":
                    return "unclear", f"error for a valid input: {msg[:200]}"
                one_line = msg.count("\n") <= 1 or msg.startswith("usage:")
                if extra.lower() in msg.lower() and one_line and len(msg) < 2100:
                    return "clear error", msg.strip().splitlines()[-1][:160]
                return "unclear", msg.strip()[:200]
        else:
            try:
                result = call()
            except DOCUMENTED as exc:
                msg = str(exc)
                if expect == "ok":
                    return "unclear", f"error for a valid input: {type(exc).__name__}: {msg[:200]}"
                if extra.lower() in msg.lower() and "\n" not in msg and len(msg) < 1000:
                    return "clear error", f"{type(exc).__name__}: {msg[:160]}"
                return "unclear", f"{type(exc).__name__}: {msg[:200]}"
        if expect == "error":
            return "silent wrong", f"accepted: {repr(result)[:160]}"
        if extra is not None and not extra(result):
            return "silent wrong", f"wrong result: {repr(result)[:160]}"
        return "ok", ""
    except BaseException as exc:  # noqa: BLE001 - that is what is being tallied
        return "crash", f"{type(exc).__name__}: {str(exc)[:200]} @ {traceback.format_exc().splitlines()[-3][:120]}"


def _worker(conn: Any) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (6 * 1024**3, 6 * 1024**3))
    import warnings

    warnings.simplefilter("ignore")
    while True:
        i = conn.recv()
        if i is None:
            return
        conn.send(_run_case(i))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds per case (default 20)")
    ap.add_argument("--list", action="store_true", help="print every case's outcome")
    a = ap.parse_args()
    import heatcore._core  # noqa: F401 - build before forking

    build()
    ctx = mp.get_context("fork")
    tally: dict[str, int] = {}
    rows = []
    proc = conn = None
    t0 = time.time()
    for i, (group, name, _, expect, _) in enumerate(CASES):
        if proc is None or not proc.is_alive():
            conn, child = ctx.Pipe()
            proc = ctx.Process(target=_worker, args=(child,), daemon=True)
            proc.start()
        conn.send(i)
        if conn.poll(a.timeout):
            try:
                outcome, detail = conn.recv()
            except EOFError:
                outcome, detail = "crash", f"worker died (exit {proc.exitcode})"
                proc = None
        else:
            outcome, detail = "hang", f"no answer in {a.timeout} s"
            proc.kill()
            proc.join()
            proc = None
        if proc is not None and not proc.is_alive():
            outcome, detail = "crash", f"worker died (exit {proc.exitcode})"
            proc = None
        tally[outcome] = tally.get(outcome, 0) + 1
        rows.append((group, name, expect, outcome, detail))
    if proc is not None:
        conn.send(None)
        proc.join(5)
    bad = [r for r in rows if r[2] == "error"]
    controls = [r for r in rows if r[2] == "ok"]
    if a.list:
        for r in rows:
            print(f"{r[3]:13s} {r[0]} / {r[1]!s:.60s}: {r[4]}")
    print(f"\n{len(rows)} cases in {time.time() - t0:.0f} s: {len(bad)} bad inputs, {len(controls)} valid controls\n")
    print("| tried | clear error | crash | hang | silent wrong | unclear |")
    print("|---|---|---|---|---|---|")
    c = {k: sum(1 for r in bad if r[3] == k) for k in ("clear error", "crash", "hang", "silent wrong", "unclear")}
    print(f"| {len(bad)} | {c['clear error']} | {c['crash']} | {c['hang']} | {c['silent wrong']} | {c['unclear']} |")
    cc = {k: sum(1 for r in controls if r[3] == k) for k in ("ok", "crash", "hang", "silent wrong", "unclear")}
    print(f"\nvalid controls: {len(controls)} tried, {cc['ok']} ok, {cc['crash']} crash, {cc['hang']} hang, "
          f"{cc['silent wrong']} wrong, {cc['unclear']} refused")
    for r in rows:
        if r[3] not in ("clear error", "ok"):
            print(f"  {r[3]}: {r[0]} / {r[1]!s:.60s}: {r[4]}")
    import shutil

    shutil.rmtree(PARENT, ignore_errors=True)
    return 0 if c["crash"] == c["hang"] == c["silent wrong"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
