"""Grid I/O: the sample's CSV and YAML files, long CSV, arrays, per-frame JSON, compact file, video."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

import heatcore as hc
from heatcore import render
from heatcore.grid_output import (GridCompactWriter, GridJsonWriter, GridVideoWriter, frame_json,
                                  render_grid_frame)
from heatcore.io.aitrios_config import load_app_config, load_param_file
from heatcore.io.detections import (AitriosCSV, as_detection_arrays, frames_from_arrays, parse_aitrios_detections,
                                    read_long_csv)
from helpers import APP, PARAM, _csv, _obj, _row, make_sample_tree


# ---------------------------------------------------------------------------------------------
# the sample's CSV
# ---------------------------------------------------------------------------------------------

def test_csv_json_and_python_literals(tmp_path):
    p = _csv(tmp_path / "d.csv", [
        _row([_obj(1, 2, 3, 4), _obj(5, 6, 7, 8, 0.5, 2)]),
        "{'perception': {'object_detection_list': [{'class_id': 1, 'bounding_box': {'left': 9, 'top': 8, "
        "'right': 20, 'bottom': 30}, 'score': 0.7}]}}",
        _row([]),
    ])
    r = AitriosCSV(p)
    frames = list(r)
    assert [f.frame for f in frames] == [0, 1, 2]
    np.testing.assert_array_equal(frames[0].xyxy, [[1, 2, 3, 4], [5, 6, 7, 8]])  # file order
    np.testing.assert_array_equal(frames[0].class_ids, [0, 2])
    np.testing.assert_allclose(frames[0].scores, [0.9, 0.5])
    np.testing.assert_array_equal(frames[1].xyxy, [[9, 8, 20, 30]])
    assert len(frames[2]) == 0 and frames[2].image is None and frames[2].timestamp is None
    assert r.count_rows() == 3 and r.image_name is None


def test_csv_frame_numbers_come_from_the_rows(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text('h\n0,"' + _row([_obj(1, 1, 2, 2)]).replace('"', '""') + '"\n5,"' +
                 _row([]).replace('"', '""') + '"\n')
    assert [(f.frame, len(f)) for f in AitriosCSV(p)] == [(0, 1), (5, 0)]  # detect --stride 5 writes 0, 5, ...
    assert [f.frame for f in AitriosCSV(p, frame_numbers="rows")] == [0, 1]  # the sample's row order
    p.write_text('h\n7,"' + _row([_obj(1, 1, 2, 2)]).replace('"', '""') + '"\n3,"' +
                 _row([]).replace('"', '""') + '"\n')
    with pytest.raises(ValueError, match="frame number 3 does not increase"):
        list(AitriosCSV(p))
    assert [(f.frame, len(f)) for f in AitriosCSV(p, frame_numbers="rows")] == [(0, 1), (1, 0)]


@pytest.mark.parametrize("cell, match", [
    ('{"perception": {"object_detection_list": [', "not a JSON or Python-literal"),
    ('{"perception": {}}', "object_detection_list"),
    ('{"other": 1}', "perception"),
    ('[1, 2]', "expected a dict"),
    (_row([{"class_id": 0, "bounding_box": {"left": 1, "top": 2, "right": 3}, "score": 0.5}]), "lacks key 'bottom'"),
    (_row([{"class_id": 0, "bounding_box": {"left": 1, "top": 2, "right": 3, "bottom": 4}}]), "lacks key 'score'"),
    (_row([_obj(1, 2, 3, 4, s=None)]), "score must be a number, got None"),       # JSON null
    (_row([_obj(True, 2, 3, 4)]), "left must be a number, got True"),             # JSON true
    (_row([_obj(1, 2, 3, 4, c=1.5)]), "class_id must be an integer"),
    (_row([_obj("1", 2, 3, 4)]), "left must be a number"),
    ("{'perception': {'object_detection_list': [{'class_id': None, 'score': 1.0, 'bounding_box': "
     "{'left': 1, 'top': 2, 'right': 3, 'bottom': 4}}]}}", "class_id must be a number"),
    ("__import__('os')", "not a JSON or Python-literal"),
])
def test_csv_malformed_rows_name_the_row(tmp_path, cell, match):
    p = _csv(tmp_path / "d.csv", [_row([_obj(1, 2, 3, 4)]), cell, _row([])])
    with pytest.raises(ValueError, match=rf"d.csv: row 1 \(line 3\): .*{match}"):
        list(AitriosCSV(p))
    r = AitriosCSV(p, on_error="skip")
    frames = list(r)
    assert len(frames) == 2 and [f.frame for f in frames] == [0, 2]  # row 1's frame is missing, not renumbered
    assert len(r.skipped) == 1 and r.skipped[0][:2] == (1, 3) and match.split(",")[0] in r.skipped[0][2]


def test_csv_row_without_a_dict_and_missing_files(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("h\n0\n")
    with pytest.raises(ValueError, match="row 0 .*no detection dict"):
        list(AitriosCSV(p))
    with pytest.raises(FileNotFoundError, match="no such detection CSV"):
        AitriosCSV(tmp_path / "nope.csv")
    with pytest.raises(FileNotFoundError, match="no such video"):
        AitriosCSV(p, video=tmp_path / "nope.mp4")
    with pytest.raises(ValueError, match="on_error"):
        AitriosCSV(p, on_error="ignore")


def test_parse_accepts_json_true_null_only_where_valid():
    # JSON literals parse (the sample's literal_eval would refuse them); values are then checked
    b, s, c = parse_aitrios_detections('{"perception": {"object_detection_list": [], "extra": null, "x": true}}')
    assert b.shape == (0, 4)


def test_csv_paired_with_video_by_index(tmp_path):
    vid = tmp_path / "v.avi"
    w = cv2.VideoWriter(str(vid), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (64, 48))
    for i in range(3):
        w.write(np.full((48, 64, 3), 40 * (i + 1), np.uint8))
    w.release()
    p = _csv(tmp_path / "d.csv", [_row([_obj(1, 2, 3, 4)])] * 5)
    r = AitriosCSV(p, video=vid)
    frames = list(r)
    assert r.image_name == "v"
    assert [f.image is not None for f in frames] == [True, True, True, False, False]
    assert abs(int(frames[2].image.mean()) - 120) < 8
    # pictures beyond the CSV are ignored
    frames = list(AitriosCSV(_csv(tmp_path / "e.csv", [_row([])]), video=vid))
    assert len(frames) == 1 and frames[0].image.shape == (48, 64, 3)


@pytest.mark.data
def test_real_csv_loads(aitrios_csv):
    r = AitriosCSV(aitrios_csv)
    frames = list(r)
    assert len(frames) == 600 == r.count_rows()
    allb = np.concatenate([f.xyxy for f in frames])
    assert len(allb) == 5006
    assert allb[:, 0].min() == 120 and allb[:, 2].max() == 1920 and allb[:, 3].max() == 1080
    assert int((allb[:, 2] == 1920).sum()) == 150 and int((allb[:, 3] == 1080).sum()) == 6
    assert int(np.flatnonzero([(f.xyxy[:, 3] == 1080).any() for f in frames])[0]) == 320


# ---------------------------------------------------------------------------------------------
# long CSV, arrays, xyxy
# ---------------------------------------------------------------------------------------------

def test_long_csv(tmp_path):
    p = tmp_path / "l.csv"
    p.write_text("frame,left,top,right,bottom,score,class_id\n0,1,2,3,4,0.9,1\n0,5,6,7,8,0.8,0\n3,1,1,2,2,0.5,2\n")
    frames = list(read_long_csv(p))
    assert [f.frame for f in frames] == [0, 1, 2, 3]
    assert [len(f) for f in frames] == [2, 0, 0, 1]
    np.testing.assert_array_equal(frames[3].class_ids, [2])
    q = tmp_path / "m.csv"
    q.write_text("2,1,2,3,4\n1,1,2,3,4\n")
    with pytest.raises(ValueError, match="line 2: frame 1 comes after frame 2"):
        list(read_long_csv(q))
    q.write_text("0,1,2,3\n")
    with pytest.raises(ValueError, match="line 1: expected frame,left"):
        list(read_long_csv(q))
    q.write_text("0,1,2,3,x\n")
    with pytest.raises(ValueError, match="line 1: non-numeric"):
        list(read_long_csv(q))
    q.write_text("0,1,2,3,4\n1,1,2,3,4,0.5\n")
    with pytest.raises(ValueError, match="line 2: 6 fields"):
        list(read_long_csv(q))
    q.write_text("-1,1,2,3,4\n")
    with pytest.raises(ValueError, match="frame must be an integer >= 0"):
        list(read_long_csv(q))


def test_arrays_and_xyxy():
    boxes = np.arange(20, dtype=float).reshape(5, 4)
    a = list(frames_from_arrays(boxes, offsets=[0, 2, 2, 5]))
    b = list(frames_from_arrays(boxes, frame=[0, 0, 2, 2, 2]))
    assert [len(f) for f in a] == [len(f) for f in b] == [2, 0, 3]
    with pytest.raises(ValueError, match="non-decreasing"):
        list(frames_from_arrays(boxes, frame=[0, 2, 1, 2, 2]))
    with pytest.raises(TypeError, match="exactly one"):
        list(frames_from_arrays(boxes))

    class Xy:
        xyxy = boxes[:2]

    bb, s, c = as_detection_arrays(Xy())
    np.testing.assert_array_equal(bb, boxes[:2])
    assert s is None and c is None
    bb, s, c = as_detection_arrays([1, 2, 3, 4])
    assert bb.shape == (1, 4)


# ---------------------------------------------------------------------------------------------
# per-frame JSON
# ---------------------------------------------------------------------------------------------

def test_frame_json_is_json_dump_indent_4():
    g = np.arange(6, dtype=np.int32).reshape(2, 3)
    b = np.array([[1, 2, 3, 4], [5, 6, 7, 8]], float)
    want = {"number_of_detects": 2,
            "bboxes": [{"left": 1, "top": 2, "right": 3, "bottom": 4}, {"left": 5, "top": 6, "right": 7, "bottom": 8}],
            "griddata": [[0, 1, 2], [3, 4, 5]], "timestamp": "20230412140050618"}
    assert frame_json(g, b, mode="box", timestamp="20230412140050618") == json.dumps(want, indent=4)
    want = {"number_of_detects": 0, "positiones": [], "griddata": [[0, 1, 2], [3, 4, 5]]}
    assert frame_json(g, b[:0], mode="point", points=np.zeros((0, 2))) == json.dumps(want, indent=4)
    assert list(json.loads(frame_json(g, b, mode="point", points=b[:, :2])).keys()) == \
        ["number_of_detects", "positiones", "griddata"]


def test_json_writer_names_and_reverse(tmp_path):
    w = GridJsonWriter(tmp_path, "point", reverse=True)
    g = np.zeros((2, 2), np.int32)
    b = np.array([[0, 0, 2, 4], [10, 0, 12, 8]], float)
    p0 = w.write(g, b, points=np.array([[1, 4], [11, 8]], float))
    p1 = w.write(g, b, points=np.array([[1, 4], [11, 8]], float), timestamp="20230412140050618")
    p2 = w.write(g, b[:0], points=np.zeros((0, 2)))
    w.close()  # writes run on a small thread pool
    assert [p.name for p in (p0, p1, p2)] == ["00000000.json", "20230412140050618.json", "00000001.json"]
    d = json.loads(p0.read_text())
    assert d["positiones"] == [{"x": 11, "y": 8}, {"x": 1, "y": 4}]
    assert list(json.loads(p1.read_text()))[-1] == "timestamp"
    assert not p0.read_text().endswith("\n")


def test_compact_files(tmp_path):
    grids = np.arange(2 * 2 * 3, dtype=np.int32).reshape(2, 2, 3)
    with GridCompactWriter(tmp_path / "g.jsonl") as w:
        w.write_many(grids, [1, 2], [None, "20230412140050618"])
    lines = [json.loads(x) for x in (tmp_path / "g.jsonl").read_text().splitlines()]
    assert lines[0] == {"frame": 0, "number_of_detects": 1, "griddata": grids[0].tolist()}
    assert lines[1]["timestamp"] == "20230412140050618"
    with GridCompactWriter(tmp_path / "g.npz") as w:
        w.write_many(grids, [1, 2])
    with np.load(tmp_path / "g.npz") as d:
        np.testing.assert_array_equal(d["grids"], grids)
        np.testing.assert_array_equal(d["number_of_detects"], [1, 2])
    with pytest.raises(ValueError, match="jsonl or .npz"):
        GridCompactWriter(tmp_path / "g.csv")


# ---------------------------------------------------------------------------------------------
# video
# ---------------------------------------------------------------------------------------------

def test_render_grid_frame_colours_cells(rng):
    g = np.zeros((2, 4), np.int32)
    g[0, 1] = 10
    g[1, 3] = 5
    f = render_grid_frame(g, size=(80, 40), cmap="Reds", vmin=0, vmax=10)
    table = render.lut("Reds", "bgr")[:, :3]
    # cells are 20x20 blocks: the (0, 1) block has the top colour, (1, 3) the middle one
    np.testing.assert_array_equal(f[5, 25], table[255])
    np.testing.assert_array_equal(f[30, 70], table[128])
    np.testing.assert_array_equal(f[35, 5], table[0])
    bg = np.full((40, 80, 3), 200, np.uint8)
    f = render_grid_frame(g, size=(80, 40), image=bg, cmap="Reds", vmin=0, vmax=10, alpha=0.5, clear_below=0)
    np.testing.assert_array_equal(f[35, 5], [200, 200, 200])  # zero cell shows the picture
    assert abs(int(f[5, 25, 0]) - (200 + int(table[255][0])) / 2) <= 1
    f = render_grid_frame(g, size=(400, 200), number_of_detects=3, colorbar=True)
    assert f.shape == (200, 460, 3)  # the colour bar strip (60 px) beside the scene
    assert (f[:, -30:] != f[0, -1]).any()


def test_video_writer(tmp_path):
    w = GridVideoWriter(tmp_path, name="cam", fps=5, size=(160, 90), vmax=0, window=7, sticky_opaque=True)
    assert w.vmax == 7.0 and w.path == tmp_path / "video" / "cam_heatmap.mp4"
    img = np.full((45, 80, 3), 128, np.uint8)
    for i in range(4):
        w.write(np.full((9, 16), i, np.int32), i, img if i != 1 else None)
    assert w._opaque  # one frame without a picture makes the rest opaque (the sample's behaviour)
    w.close()
    cap = cv2.VideoCapture(str(w.path))
    n = 0
    while cap.read()[0]:
        n += 1
    assert n == 4 and int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) == 160
    assert GridVideoWriter(tmp_path, name=None, size=(16, 16)).close().name == "heatmap.mp4"
    with pytest.raises(ValueError, match="colormap"):
        GridVideoWriter(tmp_path, cmap="nope", size=(16, 16))
    with pytest.raises(ValueError, match="transparency"):
        GridVideoWriter(tmp_path, alpha=2, size=(16, 16))


# ---------------------------------------------------------------------------------------------
# the sample's YAML files
# ---------------------------------------------------------------------------------------------

def test_config_loads_relative_to_the_sample_tree(tmp_path):
    app = make_sample_tree(tmp_path, "h\n")
    cfg = load_app_config(app)
    assert cfg.mode == "local" and cfg.params.mode == "point" and cfg.params.last_valid_frame == 600
    assert cfg.local["meta_file"].exists() and cfg.local["video_file"] is None
    assert cfg.output.vmax == 0 and cfg.output.width == 320
    assert cfg.params.counter_kwargs("aitrios")["grid"] == (60, 36)


@pytest.mark.parametrize("edit, match", [
    (lambda a: a.replace("data_source_settings:", "data_source_settingz:"), "missing section data_source_settings;|unknown key data_source_settingz \\(did you mean data_source_settings\\?\\)"),
    (lambda a: a.replace("heat_map_settings:", "heat_map_settingz:"), "missing section heat_map_settings"),
    (lambda a: a.replace("output_settings:", "output_settingz:"), "missing section output_settings"),
    (lambda a: a.replace('mode: "local"', 'mode: "cloud"'), "cloud is not supported"),
    (lambda a: a.replace("./input/sample.csv", "./input/missing.csv"), "cannot open ./input/missing.csv"),
    (lambda a: a.replace('video_file: ""', 'video_file: "nope.mp4"'), "cannot open nope.mp4"),
    (lambda a: a.replace("local_default_param", "missing_param"), "cannot open"),
    (lambda a: a.replace("transparency: 0.4", "transparency: 1.4"), "transparency"),
    (lambda a: a.replace("  cbar: false\n", ""), "missing key output_settings.cbar"),
    (lambda a: a.replace("cbar: false", "cbar: 1"), "cbar must be true or false"),
])
def test_app_config_errors(tmp_path, edit, match):
    app = make_sample_tree(tmp_path, "h\n", app=edit(APP))
    with pytest.raises(ValueError, match=match):
        load_app_config(app)


def test_missing_app_config(tmp_path):
    with pytest.raises(ValueError, match="cannot open"):
        load_app_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize("edit, match, geometry", [
    (lambda p: p.replace("bbox2pix : True", "bbox2pix : 1"), "bbox2pix must be true or false", "aitrios"),
    (lambda p: p.replace("bbox2pix : True", 'bbox2pix : "true"'), "bbox2pix must be true or false", "aitrios"),
    (lambda p: p.replace("last_valid_frame : 600\n", ""), "missing key last_valid_frame", "aitrios"),
    (lambda p: p.replace("grid_num_h : 60", "grid_num_h : 50").replace("grid_num_v : 36", "grid_num_v : 50"),
     "error, image_size_h is not divisible by grid_num_h", "aitrios"),
    (lambda p: p.replace("grid_num_v : 36", "grid_num_v : 50"), "error, image_size_v is not divisible by grid_num_v",
     "aitrios"),
    (lambda p: p.replace("grid_num_h : 60", "grid_num_h : 0"), "grid_num_h must be > 0", "aitrios"),
    (lambda p: p.replace("number_of_add_grid : 1", "number_of_add_grid : 1.5"), "must be an integer", "aitrios"),
    (lambda p: p.replace("number_of_add_grid : 1", "number_of_add_grid : -1"), "number_of_add_grid must be >= 0",
     "exact"),
])
def test_param_file_errors(tmp_path, edit, match, geometry):
    p = tmp_path / "p.yaml"
    p.write_text(edit(PARAM))
    with pytest.raises(ValueError, match=match):
        load_param_file(p, geometry=geometry)


def test_param_file_quirks_allowed(tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text(PARAM.replace("last_valid_frame : 600", "last_valid_frame : -5").replace("grid_num_v : 36",
                                                                                          "grid_num_v : 50"))
    params = load_param_file(p, geometry="exact")  # any size and L <= 0 (= unbounded) in exact mode
    assert params.counter_kwargs("exact")["window"] == 0
    c = hc.GridCounter(**params.counter_kwargs("exact"))
    assert c.grid_shape == (50, 60)


@pytest.mark.parametrize("shape", [(36, 60), (1, 1), (3, 0), (0, 4), (7, 9)])
@pytest.mark.parametrize("hi", [3, 2000, 2**31 - 1])
def test_grid_formatter_matches_json_dumps(rng, shape, hi):
    from heatcore import _core

    g = rng.integers(-hi if hi > 3 else 0, hi, shape).astype(np.int32)
    for indent in (2, 4):
        for level in (0, 1, 2):
            want = json.dumps(g.tolist(), indent=indent).replace("\n", "\n" + " " * indent * level)
            assert _core.format_grid_json(g, indent, level, True).decode() == want
    assert _core.format_grid_json(g, 0, 0, True).decode() == json.dumps(g.tolist())
    assert _core.format_grid_json(g, 0, 0, False).decode() == json.dumps(g.tolist(), separators=(",", ":"))


def _general(cell):
    """The general parser only (the C++ fast path switched off)."""
    from heatcore.io import detections as D

    return D.parse_aitrios_detections(cell)


@pytest.mark.data
def test_fast_csv_path_equals_general_parser(aitrios_csv):
    import csv as _csv

    with open(aitrios_csv, newline="") as fh:
        cells = [r[1] for r in list(_csv.reader(fh))[1:]]
    frames = list(AitriosCSV(aitrios_csv))
    for f, cell in zip(frames, cells):
        b, s, c = _general(cell)
        np.testing.assert_array_equal(f.xyxy, b)
        assert f.scores.dtype == np.float64 and f.scores.astype(np.float32).tobytes() == s.tobytes()
        np.testing.assert_array_equal(f.class_ids, c)


def test_mixed_layouts_blank_lines_and_chunks(tmp_path):
    fast = _row([_obj(1, 2, 3, 4, 0.25), _obj(-5, 6, 7, 8, 1e-3, 3)])
    odd = [
        "{'perception': {'object_detection_list': [{'class_id': 1, 'bounding_box': {'left': 9, 'top': 8, "
        "'right': 20, 'bottom': 30}, 'score': 0.7}]}}",
        _row([_obj(1.5, 2, 3, 4)]),                       # float coordinate
        json.dumps({"perception": {"object_detection_list": [_obj(1, 2, 3, 4)]}}, indent=1),  # newlines
        _row([_obj(1, 2, 3, 4, s=-0)]),
        _row([_obj(1, 2, 3, 4, c=-1)]),
    ]
    cells = []
    for i in range(40):
        cells.append(fast if i % 3 else odd[i % len(odd)])
    p = _csv(tmp_path / "m.csv", cells)
    text = p.read_bytes().replace(b"\r\n5,", b"\r\n\r\n5,")  # a blank line
    p.write_bytes(text)
    want = [_general(c) for c in cells]
    r = AitriosCSV(p)
    for rows in (1, 7, 4096):
        got = [f for ch in r.iter_chunks(rows=rows, block=97) for f in ch.frames()]
        assert len(got) == 40
        for f, (b, s, c) in zip(got, want):
            np.testing.assert_array_equal(f.xyxy, b)
            np.testing.assert_array_equal(f.scores, s)
            np.testing.assert_array_equal(f.class_ids, c)
    assert [f.frame for f in AitriosCSV(p)] == list(range(40))


def test_huge_python_literal_row(tmp_path):
    objs = ", ".join("{'class_id': 0, 'bounding_box': {'left': %d, 'top': 1, 'right': %d, 'bottom': 9}, 'score': 0.5}"
                     % (i, i + 5) for i in range(3000))
    p = _csv(tmp_path / "big.csv", ["{'perception': {'object_detection_list': [" + objs + "]}}"])
    (f,) = list(AitriosCSV(p))
    assert len(f) == 3000 and f.xyxy[-1, 2] == 3004


def test_video_unbounded_window_scales_to_each_frame(tmp_path):
    w = GridVideoWriter(tmp_path, size=(64, 32), vmax=0, window=0)
    assert w.auto_max
    w.write(np.array([[0, 7]], np.int32), 1)
    w.close()
    w = GridVideoWriter(tmp_path, size=(64, 32), vmax=0, window=0, sticky_opaque=True)
    assert not w.auto_max
    w.close()


def _reference_frames(path):
    """Rows parsed only by the csv module + the general parser (errors → None)."""
    import csv as _csv

    out = []
    with open(path, newline="", encoding="utf-8") as fh:
        rows = _csv.reader(fh)
        next(rows, None)
        for fields in rows:
            if not fields or all(not f.strip() for f in fields):
                continue
            cell = next((f for f in fields[1:] if f.strip()), None)
            try:
                out.append(None if cell is None else _general(cell))
            except ValueError:
                out.append(None)
    return out


from hypothesis import given, settings as hsettings, strategies as hst  # noqa: E402


@hsettings(max_examples=200, deadline=None)
@given(hst.lists(hst.tuples(hst.integers(0, 400), hst.sampled_from(["del", "ins", "rep"]),
                            hst.sampled_from(list('0123456789-.,"{}[]: eE+x\\n'))), min_size=1, max_size=3))
def test_fast_parser_never_disagrees_with_the_general_one(tmp_path_factory, edits):
    row = '0,"' + _row([_obj(120, 576, 412, 1048, 0.9995220899581909), _obj(-3, 0, 7, 80, 1e-05, 2)]).replace('"', '""') + '"'
    for pos, op, ch in edits:
        pos = min(pos, len(row))
        if op == "del":
            row = row[:pos] + row[pos + 1:]
        elif op == "ins":
            row = row[:pos] + ch + row[pos:]
        else:
            row = row[:pos] + ch + row[pos + 1:]
    p = tmp_path_factory.mktemp("fuzz") / "f.csv"
    good = '1,"' + _row([_obj(1, 2, 3, 4)]).replace('"', '""') + '"'
    try:
        p.write_text("h\r\n" + row + "\r\n" + good + "\r\n", encoding="utf-8")
        want = _reference_frames(p)
    except Exception:  # the csv module itself refuses the text: nothing to compare
        return
    r = AitriosCSV(p, on_error="skip", frame_numbers="rows")
    try:
        got = list(r)
    except Exception as exc:  # pragma: no cover - shown on failure
        pytest.fail(f"reader raised {exc!r} on {row!r}")
    kept = [w for w in want if w is not None]
    assert len(got) == len(kept), row
    for f, (b, s, c) in zip(got, kept):
        np.testing.assert_array_equal(f.xyxy, b)
        assert f.scores.astype(np.float32).tobytes() == np.asarray(s, np.float32).tobytes()
        np.testing.assert_array_equal(f.class_ids, c)
