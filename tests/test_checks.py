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
