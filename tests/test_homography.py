"""Homography: C++ kernel vs NumPy twin vs cv2.perspectiveTransform, round trips, horizon, JSON."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import heatcore
from heatcore import Homography, _core
from heatcore.homography import load_points
from heatcore.reference.homography import apply_homography as np_apply

# A camera looking obliquely at a floor: image pixels -> plan (cm).
SRC = np.array([[100.0, 400.0], [540.0, 400.0], [420.0, 200.0], [220.0, 200.0]])
DST = np.array([[0.0, 0.0], [400.0, 0.0], [400.0, 600.0], [0.0, 600.0]])


def _random_h(rng: np.random.Generator) -> np.ndarray:
    h = np.eye(3) + rng.normal(0, 0.2, (3, 3))
    h[2, :2] = rng.normal(0, 1e-3, 2)
    h[2, 2] = 1.0
    return h


def test_fit_maps_calibration_points():
    h = Homography.from_points(SRC, DST)
    np.testing.assert_allclose(h.apply(SRC), DST, atol=1e-6)
    assert h.errors.shape == (4,) and h.max_error < 1e-6
    assert h.inliers.all() and h.method == "least-squares"
    assert isinstance(heatcore.Homography(h.matrix), Homography)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 300))
def test_cpp_equals_twin_and_opencv(seed, n):
    rng = np.random.default_rng(seed)
    h = _random_h(rng)
    pts = rng.uniform(-500, 1500, (n, 2))
    out, behind = _core.apply_homography(h, pts, 1)
    ref, rbehind = np_apply(h, pts)
    np.testing.assert_array_equal(out, ref)  # same operation order: bit for bit
    assert behind == rbehind
    w = pts @ h[2, :2] + h[2, 2]
    assert behind == int((w <= 0).sum())
    front = w > 0
    if front.any():
        cv = cv2.perspectiveTransform(pts[front].reshape(-1, 1, 2), h).reshape(-1, 2)
        np.testing.assert_allclose(out[front], cv, rtol=1e-9, atol=1e-6)
    assert np.isnan(out[~front]).all()


def test_threads_agree(rng):
    h = _random_h(rng)
    pts = rng.uniform(0, 2000, (300_000, 2))
    one, b1 = _core.apply_homography(h, pts, 1)
    many, b2 = _core.apply_homography(h, pts, 4)
    np.testing.assert_array_equal(one, many)
    assert b1 == b2


def test_inverse_round_trip(rng):
    h = Homography.from_points(SRC, DST)
    pts = rng.uniform([100, 200], [540, 400], (1000, 2))
    back = h.inverse().apply(h.apply(pts))
    np.testing.assert_allclose(back, pts, atol=1e-8)
    np.testing.assert_allclose(h.inverse().matrix @ h.matrix / (h.inverse().matrix @ h.matrix)[2, 2],
                               np.eye(3), atol=1e-12)
    # The inverse keeps the pairs swapped, and its errors are in image pixels.
    inv = h.inverse()
    np.testing.assert_array_equal(inv.src, DST)
    assert inv.max_error < 1e-6


def test_horizon_points_are_nan_and_counted():
    # w = y - 100: the horizon is the line y = 100 in the image.
    m = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, -100.0]])
    h = Homography.from_matrix(m)
    pts = np.array([[5.0, 200.0], [5.0, 100.0], [5.0, 50.0], [np.nan, 300.0], [7.0, 300.0]])
    out, behind = h.apply(pts, return_behind=True)
    assert behind == 2 and h.last_behind == 2  # on and behind the horizon; NaN input not counted
    assert np.isnan(out[1:4]).all()
    # Hand computation: (x, y) -> (x / (y - 100), y / (y - 100)).
    np.testing.assert_allclose(out[0], [5 / 100, 200 / 100])
    np.testing.assert_allclose(out[4], [7 / 200, 300 / 200])
    out_np, behind_np = h.apply(pts, backend="numpy", return_behind=True)
    np.testing.assert_array_equal(out, out_np)
    assert behind_np == 2
    # A plain division would mirror the point behind the horizon instead.
    assert np.isfinite(cv2.perspectiveTransform(pts[2:3].reshape(1, 1, 2), m)).all()


def test_single_point_and_empty():
    h = Homography.from_points(SRC, DST)
    assert h.apply(SRC[0]).shape == (2,)
    assert h.apply(np.zeros((0, 2))).shape == (0, 2)
    assert h.apply([]).shape == (0, 2)


def test_reprojection_errors_by_hand():
    # 5 pairs: four exact corners of a square scaled by 2, plus one pair off by (3, 4) -> error 5.
    src = np.array([[0, 0], [10, 0], [10, 10], [0, 10], [5, 5]], float)
    dst = src * 2
    h = Homography.from_matrix(np.diag([2.0, 2.0, 1.0]))
    errs = h.reprojection_errors(src, dst + np.array([[0, 0], [0, 0], [0, 0], [0, 0], [3, 4]]))
    np.testing.assert_allclose(errs, [0, 0, 0, 0, 5], atol=1e-12)
    # RANSAC flags an outlier pair and excludes it from the RMS error.
    src8 = np.array([[0, 0], [100, 0], [100, 100], [0, 100], [50, 50], [25, 75], [75, 25], [60, 90]], float)
    dst8 = src8 * 2 + 10
    dst8[7] += [40, -30]
    hr = Homography.from_points(src8, dst8, ransac=True, ransac_threshold=2.0)
    assert not hr.inliers[7] and hr.inliers[:7].all()
    np.testing.assert_allclose(hr.errors[7], 50.0, atol=1e-6)  # |(40, -30)| = 50
    assert hr.rms_error < 1e-6
    hl = Homography.from_points(src8, dst8)
    assert hl.rms_error > 1.0  # least squares spreads the outlier over everything
    assert "outlier" in hr.report()


def test_json_round_trip(tmp_path):
    h = Homography.from_points(SRC, DST)
    path = tmp_path / "sub" / "H.json"
    h.save(path)
    d = json.loads(path.read_text())
    assert d["matrix"] == h.matrix.tolist() and len(d["errors"]) == 4
    g = Homography.load(path)
    assert g == h
    np.testing.assert_array_equal(g.src, SRC)
    np.testing.assert_array_equal(g.dst, DST)
    assert Homography.from_json(json.dumps(h.matrix.tolist())) == h
    assert Homography.from_json('{"matrix": %s}' % json.dumps(h.matrix.tolist())) == h


def test_from_points_sign_orientation():
    # -H is the same projective map; from_points orients it so the calibration points have w > 0.
    h = Homography.from_points(SRC, DST)
    w = SRC @ h.matrix[2, :2] + h.matrix[2, 2]
    assert (w > 0).all()
    g = Homography.from_matrix(-h.matrix)
    assert np.isnan(g.apply(SRC)).all() and g.last_behind == 4


@pytest.mark.parametrize("src,dst,match", [
    (SRC[:3], DST[:3], "at least 4"),
    (SRC, DST[:3], "same number"),
    ([[0, 0], [1, 1], [2, 2], [3, 3]], DST, "collinear"),
    ([[0, 0], [10, 0], [20, 0], [0, 10]], DST, "collinear"),
    ([[0, 0], [0, 0], [10, 10], [0, 10]], DST, "coincide"),
    ([[5, 5]] * 4, DST, "identical"),
    ([[0, 0], [10, 0], [np.nan, 10], [0, 10]], DST, "NaN"),
    (np.zeros((4, 3)), DST, "shape"),
])
def test_bad_pairs(src, dst, match):
    with pytest.raises(ValueError, match=match):
        Homography.from_points(src, dst)


def test_bad_inputs(tmp_path):
    with pytest.raises(TypeError, match="numeric"):
        Homography.from_points([["a", "b"]] * 4, DST)
    with pytest.raises(ValueError, match=r"\(3, 3\)"):
        Homography(np.eye(2))
    with pytest.raises(ValueError, match="NaN"):
        Homography(np.full((3, 3), np.nan))
    with pytest.raises(ValueError, match="singular"):
        Homography([[1, 0, 0], [2, 0, 0], [0, 0, 1]])
    with pytest.raises(ValueError, match="all zeros"):
        Homography(np.zeros((3, 3)))
    h = Homography.from_points(SRC, DST)
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        h.apply(np.zeros((5, 3)))
    with pytest.raises(ValueError, match="backend"):
        h.apply(SRC, backend="gpu")
    with pytest.raises(ValueError, match="H must have shape"):
        _core.apply_homography(np.eye(2), SRC, 1)
    with pytest.raises(ValueError, match="finite"):
        _core.apply_homography(np.full((3, 3), np.inf), SRC, 1)
    with pytest.raises(ValueError, match="points"):
        _core.apply_homography(np.eye(3), np.zeros((4, 3)), 1)
    with pytest.raises(ValueError, match="ransac_threshold"):
        Homography.from_points(SRC, DST, ransac=True, ransac_threshold=0)
    with pytest.raises(FileNotFoundError, match="nope.json"):
        Homography.load(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="JSON"):
        Homography.load(bad)
    bad.write_text('{"m": 1}')
    with pytest.raises(ValueError, match="matrix"):
        Homography.load(bad)
    with pytest.raises(FileNotFoundError, match="src points"):
        load_points(tmp_path / "missing.json", "src")
    pts = tmp_path / "p.json"
    pts.write_text('{"points": [[1, 2], [3, 4]]}')
    np.testing.assert_array_equal(load_points(pts), [[1, 2], [3, 4]])
    pts.write_text('{"pts": []}')
    with pytest.raises(ValueError, match="points"):
        load_points(pts)


def test_warp_image_preview():
    frame = np.zeros((480, 640, 3), np.uint8)
    cv2.fillConvexPoly(frame, SRC.astype(np.int32), (0, 0, 255))
    h = Homography.from_points(SRC, DST)
    out = h.warp_image(frame, plan_size=(400, 600), alpha=1.0, side_by_side=False, draw_points=False)
    assert out.shape == (600, 400, 3)
    # The red quadrilateral covers the whole plan rectangle once warped.
    assert (out[50:550, 50:350, 2] > 200).mean() > 0.99
    sbs = h.warp_image(frame, plan_size=(400, 600))
    assert 600 < sbs.shape[0] < 640 and sbs.shape[1] > 400 + 8  # + the legend strip below
    with pytest.raises(ValueError, match="plan_size"):
        h.warp_image(frame)
    with pytest.raises(ValueError, match="alpha"):
        h.warp_image(frame, plan_size=(10, 10), alpha=2)
    with pytest.raises(ValueError, match="uint8"):
        h.warp_image(frame.astype(float), plan_size=(10, 10))


# ----------------------------------------------------------------- degenerate calibrations (issue 15)
SQUARE_DST = np.array([[0.0, 0.0], [500.0, 0.0], [500.0, 400.0], [0.0, 400.0]])


def test_crossed_order_is_rejected_naming_the_swapped_pairs():
    # src listed TL, TR, BL, BR against dst TL, TR, BR, BL: a bow tie; the old fit had RMS inf
    src = np.array([[100.0, 100.0], [380.0, 100.0], [100.0, 300.0], [380.0, 300.0]])
    with pytest.raises(ValueError, match="pairs 0 and 1 or 2 and 3 look swapped"):
        Homography.from_points(src, SQUARE_DST)
    # the same pairs in a consistent order fit exactly
    h = Homography.from_points(src[[0, 1, 3, 2]], SQUARE_DST)
    assert h.rms_error < 1e-6


def test_non_convex_order_is_rejected_naming_the_pair():
    src = np.array([[100.0, 100.0], [380.0, 100.0], [300.0, 150.0], [100.0, 300.0]])
    with pytest.raises(ValueError, match="pair 2's src point lies inside"):
        Homography.from_points(src, SQUARE_DST)


def test_mirrored_plan_is_not_degenerate():
    # a reflection (plan drawn mirrored) flips every triangle: a valid homography
    h = Homography.from_points(SRC, DST * [-1, 1])
    assert h.rms_error < 1e-6


def _strict_json(text):
    def bad(c):
        raise ValueError(f"non-strict JSON constant {c}")
    return json.loads(text, parse_constant=bad)


def test_json_is_strict_even_with_infinite_errors(tmp_path):
    # pairs given with a matrix that puts one of them behind the horizon: error inf
    m = np.array([[1.0, 0, 0], [0, 1.0, 0], [0.01, 0, 1.0]])
    src = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [-200.0, 5.0]])
    h = Homography(m, src=src, dst=src)
    assert np.isinf(h.errors).any()
    d = _strict_json(h.to_json(tmp_path / "H.json"))
    assert d["rms_error"] is None and None in d["errors"]
    _strict_json((tmp_path / "H.json").read_text())


def _calib_files(tmp_path, src, dst):
    cv2.imwrite(str(tmp_path / "frame.png"), np.full((360, 480, 3), 200, np.uint8))
    (tmp_path / "src.json").write_text(json.dumps(np.asarray(src).tolist()))
    (tmp_path / "dst.json").write_text(json.dumps(np.asarray(dst).tolist()))
    return ["calibrate", "--image", str(tmp_path / "frame.png"), "--src", str(tmp_path / "src.json"),
            "--dst", str(tmp_path / "dst.json"), "-o", str(tmp_path / "H.json")]


def test_cli_rejects_crossed_order_exit_2_and_writes_nothing(tmp_path, capsys):
    from heatcore.cli import main

    src = [[100, 100], [380, 100], [100, 300], [380, 300]]
    assert main(_calib_files(tmp_path, src, SQUARE_DST)) == 2
    err = capsys.readouterr().err.strip()
    assert "look swapped" in err and "\n" not in err
    assert not (tmp_path / "H.json").exists()


def test_cli_warns_about_large_errors_and_preview_shows_them(tmp_path, capsys):
    from heatcore.cli import main

    src = np.array([[x, y] for y in (100, 166, 233, 300) for x in (100, 193, 286, 380)], float)
    true = Homography.from_points(src[[0, 3, 15, 12]], SQUARE_DST)
    dst = true.apply(src)
    dst[5] += [30, -25]  # a mis-clicked plan point
    assert main(_calib_files(tmp_path, src, dst) + ["--max-error", "10"]) == 0
    out = capsys.readouterr().out
    assert "warning: pair 5 reprojects" in out and out.count("warning: pair") == 1
    d = _strict_json((tmp_path / "H.json").read_text())
    assert len(d["errors"]) == 16
    prev = cv2.imread(str(tmp_path / "H_preview.png"))
    h = Homography.from_json(tmp_path / "H.json")
    plain = h.warp_image(cv2.imread(str(tmp_path / "frame.png")), plan_size=(prev.shape[1], prev.shape[0]),
                         side_by_side=False, draw_points=False)
    drawn = h.warp_image(cv2.imread(str(tmp_path / "frame.png")), plan_size=(prev.shape[1], prev.shape[0]),
                         side_by_side=False, max_error=10)
    # each pair's error label is written right of its plan point: orange (BGR 0,140,255) for pair 5
    for i, (x, y) in enumerate(h.dst):
        x, y = int(x), int(y)
        box = drawn[max(0, y - 25):y + 5, x + 5:x + 110]
        changed = (box != plain[max(0, y - 25):y + 5, x + 5:x + 110]).any(axis=2)
        assert changed.sum() > 30, f"no label next to pair {i}"
        orange = ((np.abs(box.astype(int) - [0, 140, 255]).sum(axis=2)) < 60).sum()
        assert (orange > 10) == (i == 5), f"pair {i}: {orange} orange pixels"
