"""Argument checks shared by every module."""

from __future__ import annotations

import numpy as np
import pytest

from heatcore import _checks as c


def test_parse_size():
    assert c.parse_size("1920x1080") == (1920, 1080)
    assert c.parse_size(" 60 X 36 ") == (60, 36)
    for bad in ["1920", "0x10", "-5x4", "axb", ""]:
        with pytest.raises(ValueError, match="size"):
            c.parse_size(bad)


def test_int_checks_name_the_value():
    assert c.positive_int("n", 3) == 3
    with pytest.raises(ValueError, match="n must be > 0, got 0"):
        c.positive_int("n", 0)
    with pytest.raises(TypeError, match="n must be an integer"):
        c.positive_int("n", 2.5)
    with pytest.raises(TypeError):
        c.positive_int("n", True)
    assert c.nonneg_int("k", 0) == 0
    with pytest.raises(ValueError, match="-1"):
        c.nonneg_int("k", -1)
    with pytest.raises(ValueError, match="nan"):
        c.positive_float("sigma", float("nan"))


def test_threads():
    assert c.resolve_threads(None) >= 1
    assert c.resolve_threads(2) == 2
    with pytest.raises(ValueError, match="threads"):
        c.resolve_threads(-1)


def test_as_points_drops_nonfinite_rows_with_a_count():
    pts = np.array([[1.0, 2.0], [np.nan, 1.0], [3.0, np.inf], [4.0, 5.0]])
    with pytest.warns(RuntimeWarning, match="dropped 2 of 4"):
        out, w = c.as_points(pts, weights=[1, 2, 3, 4])
    np.testing.assert_array_equal(out, [[1, 2], [4, 5]])
    np.testing.assert_array_equal(w, [1, 4])
    assert out.flags.c_contiguous and out.dtype == np.float64


def test_as_points_errors():
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        c.as_points(np.zeros((3, 3)))
    with pytest.raises(TypeError, match="numeric"):
        c.as_points([["a", "b"]])
    with pytest.raises(ValueError, match="weights"):
        c.as_points(np.zeros((3, 2)), weights=[1, 2])
    with pytest.raises(ValueError, match="weights must be >= 0"):
        c.as_points(np.zeros((2, 2)), weights=[1, -2])
    empty, _ = c.as_points([])
    assert empty.shape == (0, 2)


def test_as_shape():
    assert c.as_shape((270, 480)) == (270, 480)
    assert c.as_shape("270x480") == (270, 480)
    with pytest.raises(ValueError, match="height"):
        c.as_shape((0, 5))
    with pytest.raises(TypeError):
        c.as_shape(5)


# ---------------------------------------------------------------------------- heatcore.limits

from heatcore import limits  # noqa: E402


def test_threads_bound_is_four_times_the_cores_at_most_1024(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert limits.max_threads() == 8
    assert c.resolve_threads(8) == 8 and c.resolve_threads(0) == 2 and c.resolve_threads(None) == 2
    with pytest.raises(ValueError, match="threads=9 is more than heatcore runs \\(8 = 4 x 2 cores"):
        c.resolve_threads(9)
    monkeypatch.setattr("os.cpu_count", lambda: 4096)
    assert limits.max_threads() == 1024
    with pytest.raises(ValueError, match="threads=1025"):
        c.resolve_threads(1025)
    monkeypatch.setattr("os.cpu_count", lambda: None)
    assert limits.max_threads() == 4 and c.resolve_threads(None) == 1


def test_sizes_are_checked_by_memory_before_allocating():
    limits.check_array_bytes((1000, 1000), 8)
    side = limits.MAX_SIDE
    with pytest.raises(ValueError, match="side above"):
        limits.check_array_bytes((side + 1, 1), 1)
    with pytest.raises(ValueError, match="would need 8.0 GiB"):
        limits.check_array_bytes((2**15, 2**15), 8, "grid")
    assert c.parse_size("23170x23170") == (23170, 23170)  # 4.0 GiB at 8 bytes a cell
    with pytest.raises(ValueError, match="--grid"):
        c.parse_size("23171x23171", "--grid")
    with pytest.raises(TypeError, match="text like 1920x1080"):
        c.parse_size(1920)


@pytest.mark.parametrize("value, ok", [
    ("20230412140050618", True), (20230412140050618, True), ("20240229235959999", True),
    ("20230229000000000", False), ("20231301000000000", False), ("2023041214005061", False),
    ("202304121400506189", False), ("../../x", False), ("/20230412140050618", False), ("２０２３０４１２１４００５０６１８", False),
    ("20230412140050618\n", False), ("", False)])
def test_check_timestamp(value, ok):
    if ok:
        assert c.check_timestamp(value) == str(value)
    else:
        with pytest.raises(ValueError, match="yyyyMMddHHmmssfff"):
            c.check_timestamp(value, "T")
    with pytest.raises(TypeError):
        c.check_timestamp(None)


def test_frame_limits():
    assert limits.check_frame_index(5.0) == 5
    for bad, match in [(-1, ">= 0"), (1.5, "whole"), (float("nan"), "whole"), (10**9 + 1, "largest frame number"),
                       (1e300, "largest frame number"), ("x", "frame number"), (True, "frame number")]:
        with pytest.raises(ValueError, match=match):
            limits.check_frame_index(bad)
    limits.check_frame_gap(None, limits.DEFAULT_MAX_FRAME_GAP - 1)
    with pytest.raises(ValueError, match="largest gap"):
        limits.check_frame_gap(None, limits.DEFAULT_MAX_FRAME_GAP)
    limits.check_frame_gap(10, 20, max_frame_gap=10)
    with pytest.raises(ValueError, match="frame 21 is 11 frames after frame 10"):
        limits.check_frame_gap(10, 21, max_frame_gap=10)
    limits.check_frame_numbers(np.array([0, 0, 5, 7]), max_frame_gap=5)
    with pytest.raises(ValueError, match="frame 13 is 6 frames after frame 7"):
        limits.check_frame_numbers(np.array([0, 5, 7, 13]), max_frame_gap=5)
    with pytest.raises(ValueError, match="whole"):
        limits.check_frame_numbers(np.array([0.0, np.inf]))


def test_json_and_yaml_limits():
    assert limits.json_depth('[{"a": "[[[["}, [[]]]') == 3
    limits.check_json_depth("[" * limits.MAX_JSON_DEPTH + "]" * limits.MAX_JSON_DEPTH)
    with pytest.raises(ValueError, match=f"nests {limits.MAX_JSON_DEPTH + 1} levels"):
        limits.json_loads("[" * (limits.MAX_JSON_DEPTH + 1) + "]" * (limits.MAX_JSON_DEPTH + 1))
    assert limits.json_loads(b'{"a": [1, 2]}') == {"a": [1, 2]}
    with pytest.raises(ValueError, match="aliases"):
        limits.load_yaml("a: &x [1]\nb: *x\n", "cfg.yaml")
    with pytest.raises(ValueError, match="cfg.yaml is 1,048,577 bytes"):
        limits.load_yaml("#" * (limits.MAX_YAML_BYTES + 1), "cfg.yaml")
    with pytest.raises(ValueError, match="line 2, column"):
        limits.load_yaml("a: 1\n b: [\n", "cfg.yaml")
    assert len(limits.clip("x" * 10_000)) == limits.MAX_MESSAGE_CHARS
    assert limits.clip(list(range(10_000))) == "<list of 10000 items>"


def test_limits_docstring_lists_every_limit():
    doc = limits.__doc__
    for name in ("MAX_FRAME_INDEX", "DEFAULT_MAX_FRAME_GAP", "MAX_ARRAY_BYTES", "MAX_SIDE", "MAX_JSON_DEPTH",
                 "MAX_YAML_BYTES", "MAX_YAML_DEPTH", "max_threads()", "MAX_MESSAGE_CHARS", "YAML aliases", ".npz"):
        assert name in doc, name
