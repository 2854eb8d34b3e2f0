"""Grid counting: C++ vs its NumPy twin vs a pure-Python oracle of the AITRIOS sample, and facts
derived by hand from the fact sheet (../shared/specs/aitrios_grid_algorithm.md)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import heatcore as hc
from heatcore import _core
from heatcore.io.detections import AitriosCSV
from heatcore.records import Detections
from heatcore.reference import grid as ref
from heatcore.reference.aitrios_sample import SampleHeatMap

W, H, NH, NV = 1920, 1080, 60, 36  # cells of 32 x 30 pixels


def one(boxes, *, mode="box", spread=0, geometry="aitrios", image=(W, H), grid=(NH, NV), anchor=1.0):
    c = hc.GridCounter(image_size=image, grid=grid, spread=spread, window=0, mode=mode, geometry=geometry,
                       anchor=anchor)
    return c.update(np.asarray(boxes, np.float64).reshape(-1, 4))


def cells(g):
    return {(int(v), int(h)) for v, h in zip(*np.nonzero(g))}


# ---------------------------------------------------------------------------------------------
# aitrios geometry: hand-derived facts (§5, §6)
# ---------------------------------------------------------------------------------------------

MASKS = {  # copied from the drawings of §6: rows dv = -n.., columns dh = -n..; X counted
    1: [". X .",
        "X X o",
        ". o ."],
    2: [". . X . .",
        ". X X X .",
        "X X X X o",
        ". X X X .",
        ". . o . ."],
    3: [". . . X . . .",
        ". X X X X X .",
        ". X X X X X .",
        "X X X X X X o",
        ". X X X X X .",
        ". X X X X X .",
        ". . . o . . ."],
}


@pytest.mark.parametrize("n", [1, 2, 3])
def test_aitrios_point_masks_match_the_fact_sheet_drawings(n):
    expected = set()
    for r, line in enumerate(MASKS[n]):
        for c, ch in enumerate(line.split()):
            if ch == "X":
                expected.add((r - n, c - n))
    assert len(expected) == {1: 3, 2: 11, 3: 27}[n]
    # a point in the middle of cell (h=30, v=18): box bottom-centre at x = 30*32 + 5, y = 18*30 + 5
    x, y = 30 * 32 + 5, 18 * 30 + 5
    g = one([x - 10, y - 100, x + 10, y], mode="point", spread=n)
    assert cells(g) == {(18 + dv, 30 + dh) for dv, dh in expected}
    # the exact geometry draws the full disc: the two 'o' cells too
    g = one([x - 10, y - 100, x + 10, y], mode="point", spread=n, geometry="exact")
    full = {(18 + dv, 30 + dh) for dv in range(-n, n + 1) for dh in range(-n, n + 1) if dv * dv + dh * dh <= n * n}
    assert cells(g) == full


def test_aitrios_box_one_column_and_zero_width_add_nothing():
    assert one([35, 100, 40, 400]).sum() == 0          # synthetic frame 2: 35..40 px, cells 32 wide
    assert one([100, 100, 100, 400]).sum() == 0        # synthetic frame 3: zero width
    assert one([300, 100, 100, 400]).sum() == 0        # frame 7: inverted
    assert one([100, 400, 300, 100]).sum() == 0


def test_aitrios_whole_image_box_misses_last_row_and_column():
    g = one([0, 0, 1920, 1080])                        # synthetic frame 23
    assert g.sum() == 59 * 35 == 2065
    assert g[:, -1].sum() == 0 and g[-1, :].sum() == 0
    g = one([0, 0, 1920, 1080], spread=2)
    assert g.sum() == 2065


def test_aitrios_boxes_outside_the_image():
    assert one([2000, 1200, 2100, 1300]).sum() == 0    # right of / below: h0 = h1 = N - 1 (frame 21)
    assert one([-300, -300, -100, -100]).sum() == 0    # left of / above (frame 5)
    # left // gsh = Nh and n = 3: h0 = Nh - 3, h1 = Nh - 1 -> two columns
    g = one([1920, 300, 2000, 400], spread=3)
    assert sorted(set(np.nonzero(g)[1].tolist())) == [57, 58]


def test_aitrios_negative_left_top_clamp_to_zero():
    g = one([-50, -50, 100, 180])  # gl = -2 -> 0, gr = 3, gt = -2 -> 0, gb = 6
    assert cells(g) == {(v, h) for v in range(0, 6) for h in range(0, 3)}


def test_aitrios_negative_spread_shrinks_the_rectangle():
    g0 = one([100, 100, 300, 400], spread=0)
    assert cells(g0) == {(v, h) for v in range(3, 13) for h in range(3, 9)}
    g1 = one([100, 100, 300, 400], spread=-1)
    assert cells(g1) == {(v, h) for v in range(4, 12) for h in range(4, 8)}


def test_aitrios_lopsided_box_spread():
    # box inside cell (h=10, v=10) .. (h=12, v=12); n = 2 covers gl-2 .. gr+2-1
    g = one([10 * 32 + 1, 10 * 30 + 1, 12 * 32 + 1, 12 * 30 + 1], spread=2)
    assert cells(g) == {(v, h) for v in range(8, 14) for h in range(8, 14)}


def test_aitrios_point_truncation_and_wrap_around():
    # (-400)/2 -> x = -200, y = -50: cell (-7, -2) counted at row 34, column 53 (synthetic frame 5)
    g = one([-210, -100, -190, -50], mode="point")
    assert cells(g) == {(34, 53)}
    # (-61 + 10)/2 = -25.5 -> int() gives -25, cell -1 -> column 59 (synthetic frame 6)
    g = one([-61, 100, 10, 100], mode="point")
    assert cells(g) == {(3, 59)}
    # (-1 + 0)/2 = -0.5 -> 0, column 0 (floor would give -1 -> column 59)
    g = one([-1, 100, 0, 100], mode="point")
    assert cells(g) == {(3, 0)}
    # negative n takes the single-cell path too
    assert cells(one([-61, 100, 10, 100], mode="point", spread=-1)) == {(3, 59)}


def test_aitrios_point_out_of_range_raises_valueerror_naming_frame_and_box():
    c = hc.GridCounter((W, H), (NH, NV), spread=0, window=5, mode="point", geometry="aitrios")
    c.update([[0, 0, 10, 10]])
    before = c.result()
    with pytest.raises(ValueError, match=r"frame 1, box 1 .*IndexError"):
        c.update([[0, 0, 10, 10], [1940, 100, 1960, 200]])  # x = 1950 (synthetic frame 20)
    np.testing.assert_array_equal(c.result(), before)  # the bad frame was not counted
    assert c.frames == 1
    # n > 0: cells outside the grid are dropped quietly; x = 1950 (cell 60) still reaches column 59
    assert cells(one([1940, 100, 1960, 200], mode="point", spread=1)) == {(6, 59)}
    assert one([2490, 100, 2510, 200], mode="point", spread=1).sum() == 0


def test_aitrios_nondivisible_sizes_use_the_sample_messages():
    with pytest.raises(ValueError, match="image_size_h is not divisible by grid_num_h"):
        hc.GridCounter((1920, 1080), (50, 50), geometry="aitrios")  # horizontal check first
    with pytest.raises(ValueError, match="image_size_v is not divisible by grid_num_v"):
        hc.GridCounter((1920, 1080), (60, 50), geometry="aitrios")
    hc.GridCounter((1920, 1080), (50, 50), geometry="exact")  # the exact geometry takes any size


# ---------------------------------------------------------------------------------------------
# exact geometry: hand-derived facts
# ---------------------------------------------------------------------------------------------

def test_exact_box_counts_every_touched_cell_and_clips():
    g = one([0, 0, 1920, 1080], geometry="exact")
    assert g.sum() == 2160 and g.min() == 1
    assert cells(one([35, 100, 40, 110], geometry="exact")) == {(3, 1)}          # inside one cell
    assert cells(one([100, 100, 100, 100], geometry="exact")) == {(3, 3)}        # a point-sized box
    assert cells(one([30, 25, 70, 35], geometry="exact")) == {(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)}
    # a right edge exactly on a cell edge does not reach into the next cell
    assert cells(one([0, 0, 64, 30], geometry="exact")) == {(0, 0), (0, 1)}
    # symmetric spread: n cells on every side, clipped at the border
    assert cells(one([35, 35, 40, 40], spread=1, geometry="exact")) == {(v, h) for v in range(0, 3) for h in range(0, 3)}
    # partly outside: clipped; wholly outside: dropped even with a spread (never wrapped)
    assert cells(one([1900, 1070, 2500, 1500], geometry="exact")) == {(35, 59)}
    assert one([2000, 100, 2100, 200], spread=3, geometry="exact").sum() == 0
    assert one([-300, -300, -100, -100], spread=3, geometry="exact").sum() == 0
    assert one([300, 100, 100, 400], geometry="exact").sum() == 0                # inverted


def test_exact_points_anchor_disc_and_borders():
    # feet at the bottom edge are counted in the last row (the sample crashes here with n = 0)
    assert cells(one([1000, 900, 1040, 1080], mode="point", geometry="exact")) == {(35, 31)}
    # anchor 0 = top of the head, 0.5 = middle
    assert cells(one([1000, 300, 1040, 900], mode="point", anchor=0.0, geometry="exact")) == {(10, 31)}
    assert cells(one([1000, 300, 1040, 900], mode="point", anchor=0.5, geometry="exact")) == {(20, 31)}
    # outside: dropped, not wrapped
    assert one([-210, -100, -190, -50], mode="point", geometry="exact").sum() == 0
    assert one([1940, 100, 1960, 200], mode="point", spread=2, geometry="exact").sum() == 0
    # the disc of radius 2 around a corner cell keeps its in-grid quarter: 6 cells
    assert cells(one([0, 0, 2, 2], mode="point", spread=2, geometry="exact")) == \
        {(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (2, 0)}


def test_exact_nondivisible_sizes_put_cell_edges_at_i_w_over_n():
    # 100 px in 3 cells: edges at 33.33 and 66.67
    g = one([33, 0, 33, 1], mode="box", geometry="exact", image=(100, 10), grid=(3, 1))
    assert cells(g) == {(0, 0)}
    g = one([34, 0, 34, 1], mode="box", geometry="exact", image=(100, 10), grid=(3, 1))
    assert cells(g) == {(0, 1)}
    g = one([10, 0, 67, 1], mode="box", geometry="exact", image=(100, 10), grid=(3, 1))
    assert cells(g) == {(0, 0), (0, 1), (0, 2)}
    g = one([10, 0, 66, 1], mode="box", geometry="exact", image=(100, 10), grid=(3, 1))
    assert cells(g) == {(0, 0), (0, 1)}
    g = one([66, 0, 67, 10], mode="point", geometry="exact", image=(100, 10), grid=(3, 1))  # x = 66.5
    assert cells(g) == {(0, 1)}


# ---------------------------------------------------------------------------------------------
# C++ vs NumPy twin vs the pure-Python oracle on random boxes
# ---------------------------------------------------------------------------------------------

CONFIGS = st.sampled_from([((1920, 1080), (60, 36)), ((300, 300), (30, 30)), ((97, 53), (7, 5)),
                           ((64, 48), (8, 6)), ((100, 10), (3, 1))])


@st.composite
def sequences(draw, integer=False):
    (w, h), (nh, nv) = draw(CONFIGS)
    geometry = draw(st.sampled_from(["exact", "aitrios"]))
    if geometry == "aitrios" and (w % nh or h % nv):
        w, h = nh * 11, nv * 13
    mode = draw(st.sampled_from(["box", "point"]))
    spread = draw(st.integers(-2 if geometry == "aitrios" else 0, 4))
    window = draw(st.integers(-2 if geometry == "aitrios" else 0, 6))
    frames = draw(st.integers(0, 8))
    counts = draw(st.lists(st.integers(0, 5), min_size=frames, max_size=frames))
    m = sum(counts)
    coord = st.integers(-200, 2200) if integer else st.floats(-0.3 * 2200, 2200, allow_nan=False)
    raw = draw(st.lists(st.tuples(coord, coord, coord, coord), min_size=m, max_size=m))
    boxes = np.array(raw, np.float64).reshape(-1, 4)
    scale = np.array([w, h, w, h]) / 2000.0
    boxes = boxes * scale
    if integer:
        boxes = np.round(boxes)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return dict(boxes=boxes, offsets=offsets, w=w, h=h, nh=nh, nv=nv, spread=spread, mode=mode,
                geometry=geometry, window=window, anchor=draw(st.sampled_from([1.0, 0.0, 0.5, 0.25])))


def _call(fn, s, threads=1):
    try:
        return fn(s["boxes"], s["offsets"], s["w"], s["h"], s["nh"], s["nv"], s["spread"], s["mode"], s["geometry"],
                  s["anchor"], s["window"], threads)
    except ValueError as exc:
        return str(exc).split(":")[0]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sequences())
def test_cpp_matches_numpy_twin(s):
    a = _call(_core.grid_counts, s)
    b = _call(ref.grid_counts, s)
    if isinstance(a, str) or isinstance(b, str):
        assert a == b
    else:
        np.testing.assert_array_equal(a, b)
        assert a.dtype == np.int32
        np.testing.assert_array_equal(_call(_core.grid_counts, s, threads=3), a)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sequences(integer=True))
def test_aitrios_geometry_matches_pure_python_oracle(s):
    if s["geometry"] != "aitrios" or s["anchor"] != 1.0:
        s = dict(s, geometry="aitrios", anchor=1.0)
        if s["w"] % s["nh"] or s["h"] % s["nv"]:
            s["w"], s["h"] = s["nh"] * 11, s["nv"] * 13
    oracle = SampleHeatMap(s["spread"], s["window"], s["w"], s["h"], s["nh"], s["nv"], s["mode"] == "point")
    off, b = s["offsets"], s["boxes"].astype(np.int64)
    grids, crashed = [], None
    for t in range(len(off) - 1):
        try:
            d = oracle([tuple(x) for x in b[off[t]:off[t + 1]].tolist()])
        except IndexError:
            crashed = t
            break
        grids.append(np.array(d["griddata"], np.int32).reshape(s["nv"], s["nh"]))
    c = hc.GridCounter((s["w"], s["h"]), (s["nh"], s["nv"]), spread=s["spread"], window=s["window"], mode=s["mode"],
                       geometry="aitrios")
    for t, g in enumerate(grids):
        np.testing.assert_array_equal(c.update(s["boxes"][off[t]:off[t + 1]]), g)
    if crashed is not None:
        with pytest.raises(ValueError, match=f"frame {crashed}, box"):
            c.update(s["boxes"][off[crashed]:off[crashed + 1]])


def test_numpy_backend_of_the_counter_matches(rng):
    boxes = rng.uniform(-100, 2000, (200, 4))
    boxes[:, 2:] = boxes[:, :2] + rng.uniform(0, 400, (200, 2))
    frames = [boxes[i:i + 10] for i in range(0, 200, 10)]
    for backend in ("cpp", "numpy"):
        c = hc.GridCounter((W, H), (NH, NV), spread=2, window=4, mode="point", backend=backend)
        out = [c.update(f) for f in frames]
        if backend == "cpp":
            first = out
        else:
            np.testing.assert_array_equal(np.stack(out), np.stack(first))


# ---------------------------------------------------------------------------------------------
# window semantics
# ---------------------------------------------------------------------------------------------

def _contrib(frames, **kw):
    return [one(f, **kw).astype(np.int64) for f in frames]


@pytest.mark.parametrize("geometry", ["exact", "aitrios"])
@pytest.mark.parametrize("window", [1, 3, 0])
def test_window_is_the_sum_of_the_last_frames(rng, geometry, window):
    frames = []
    for _ in range(12):
        k = int(rng.integers(0, 6))
        b = rng.integers(0, 1800, (k, 2)).astype(np.float64)
        frames.append(np.concatenate([b, b + rng.integers(1, 300, (k, 2))], axis=1))
    contrib = _contrib(frames, mode="point", spread=1, geometry=geometry)
    c = hc.GridCounter((W, H), (NH, NV), spread=1, window=window, mode="point", geometry=geometry)
    seq = hc.grid_counts(frames, image_size=(W, H), grid=(NH, NV), spread=1, window=window, mode="point",
                         geometry=geometry)
    for k, f in enumerate(frames):
        lo = 0 if window == 0 else max(0, k - window + 1)
        want = sum(contrib[lo:k + 1])
        np.testing.assert_array_equal(c.update(f), want)
        np.testing.assert_array_equal(seq[k], want)


def test_aitrios_nonpositive_window_is_unbounded(rng):
    frames = [rng.integers(0, 1900, (4, 4)).astype(np.float64) for _ in range(10)]
    for f in frames:
        f[:, 2:] = f[:, :2] + 100
    kw = dict(image_size=(W, H), grid=(NH, NV), spread=1, mode="box", geometry="aitrios")
    a = hc.grid_counts(frames, window=0, **kw)
    b = hc.grid_counts(frames, window=-5, **kw)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a[-1], sum(_contrib(frames, spread=1)))
    with pytest.raises(ValueError, match="window must be >= 0"):
        hc.GridCounter((W, H), (NH, NV), window=-5, geometry="exact")


def test_empty_frames_use_window_slots():
    c = hc.GridCounter((W, H), (NH, NV), spread=0, window=2, mode="box", geometry="exact")
    assert c.update([[0, 0, 100, 100]]).sum() > 0
    assert c.update(None).sum() > 0
    assert c.update(np.zeros((0, 4))).sum() == 0


# ---------------------------------------------------------------------------------------------
# the real CSV (fixture aitrios_csv)
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_frames(request):
    path = request.getfixturevalue("aitrios_csv")
    return list(AitriosCSV(path))


def _counts(frames, **kw):
    return hc.grid_counts(frames, **kw)


@pytest.mark.data
@pytest.mark.parametrize("grid", [(60, 36), (192, 108), (30, 30)])
def test_real_csv_frame_320_crashes_point_mode_n0(real_frames, grid):
    with pytest.raises(ValueError, match=r"^frame 320, box \d+"):
        _counts(real_frames, image_size=(1920, 1080), grid=grid, spread=0, window=600, mode="point",
                geometry="aitrios")
    # the first 320 frames count fine
    _counts(real_frames[:320], image_size=(1920, 1080), grid=grid, spread=0, window=600, mode="point",
            geometry="aitrios")


@pytest.mark.data
def test_real_csv_default_param_is_all_zero(real_frames):
    kw = dict(image_size=(300, 300), grid=(30, 30), window=15, geometry="aitrios")
    for n in range(4):
        assert not _counts(real_frames, spread=n, mode="box", **kw).any()
    for n in (1, 2, 3):
        assert not _counts(real_frames, spread=n, mode="point", **kw).any()
    with pytest.raises(ValueError, match=r"^frame 0, box"):
        _counts(real_frames, spread=0, mode="point", **kw)


@pytest.mark.data
def test_real_csv_aitrios_matches_oracle_and_facts(real_frames):
    assert len(real_frames) == 600 and sum(len(f) for f in real_frames) == 5006
    np.testing.assert_array_equal(real_frames[0].xyxy[0], [120, 576, 412, 1048])
    got = _counts(real_frames, image_size=(1920, 1080), grid=(60, 36), spread=1, window=600, mode="point",
                  geometry="aitrios")
    oracle = SampleHeatMap(1, 600, 1920, 1080, 60, 36, True)
    for t, f in enumerate(real_frames):
        d = oracle([tuple(int(v) for v in b) for b in f.xyxy[::-1]])
        if t % 50 == 0 or t == 599:
            np.testing.assert_array_equal(got[t], np.array(d["griddata"]))
    # each point adds at most 3 cells (the n=1 "L"), so the total is at most 3 per box
    assert got[-1].sum() <= 3 * 5006
    # box mode: last row and column never counted
    box = _counts(real_frames, image_size=(1920, 1080), grid=(60, 36), spread=1, window=600, mode="box",
                  geometry="aitrios")
    assert not box[:, -1, :].any() and not box[:, :, -1].any()
    exact = _counts(real_frames, image_size=(1920, 1080), grid=(60, 36), spread=1, window=600, mode="box")
    assert exact[:, :, -1].any()  # 150 boxes reach x = 1920


# ---------------------------------------------------------------------------------------------
# accumulator protocol
# ---------------------------------------------------------------------------------------------

def _frames(rng, n=30):
    out = []
    for i in range(n):
        k = int(rng.integers(0, 7))
        b = rng.uniform(0, 1800, (k, 2))
        boxes = np.concatenate([b, b + rng.uniform(10, 300, (k, 2))], axis=1)
        out.append(Detections(frame=i, xyxy=boxes, scores=rng.uniform(0, 1, k).astype(np.float32),
                                  class_ids=rng.integers(0, 3, k)))
    return out


@pytest.mark.parametrize("window", [0, 5])
def test_state_roundtrip_midstream_and_update_many(rng, tmp_path, window):
    frames = _frames(rng)
    kw = dict(image_size=(W, H), grid=(NH, NV), spread=1, window=window, mode="point")
    full = hc.GridCounter(**kw)
    want = [full.update(f) for f in frames]
    a = hc.GridCounter(**kw)
    for f in frames[:13]:
        a.update(f)
    path = a.save(tmp_path / "grid.npz")
    b = hc.load_state(path)
    assert isinstance(b, hc.GridCounter) and b.config() == a.config() and b.frames == 13
    got = b.update_many(frames[13:20])
    np.testing.assert_array_equal(got, np.stack(want[13:20]))
    for f, w in zip(frames[20:], want[20:]):
        np.testing.assert_array_equal(b.update(f), w)


def test_update_returns_a_copy_the_caller_owns():
    c = hc.GridCounter((W, H), (NH, NV), spread=0, window=0, mode="box")
    g = c.update([[0, 0, 100, 100]])
    g[:] = 99
    assert c.result().max() == 1
    assert c.update(None).max() == 1 and g.max() == 99


def test_merge_unbounded_is_the_sum(rng):
    frames = _frames(rng, 20)
    kw = dict(image_size=(W, H), grid=(NH, NV), spread=2, window=0, mode="box")
    a, b, whole = hc.GridCounter(**kw), hc.GridCounter(**kw), hc.GridCounter(**kw)
    for f in frames[:8]:
        a.update(f)
    for f in frames[8:]:
        b.update(f)
    for f in frames:
        whole.update(f)
    a += b
    np.testing.assert_array_equal(a.result(), whole.result())
    assert a.frames == 20
    with pytest.raises(ValueError, match="different configurations"):
        a.merge(hc.GridCounter(**dict(kw, spread=1)))


def test_merge_windowed_aligns_newest_frames(rng):
    f1, f2 = _frames(rng, 9), _frames(rng, 6)
    kw = dict(image_size=(W, H), grid=(NH, NV), spread=1, window=4, mode="point")
    a, b = hc.GridCounter(**kw), hc.GridCounter(**kw)
    for f in f1:
        a.update(f)
    for f in f2:
        b.update(f)
    a.merge(b)
    # two cameras watched at once: frame k of the merged stream = f1[k + 3] + f2[k] (aligned at the end)
    both = hc.GridCounter(**kw)
    for k in range(9):
        parts = [f1[k].xyxy] + ([f2[k - 3].xyxy] if k >= 3 else [])
        both.update(np.concatenate(parts))
    np.testing.assert_array_equal(a.result(), both.result())
    nxt = _frames(rng, 6)
    for f in nxt:
        np.testing.assert_array_equal(a.update(f), both.update(f))


def test_filters_and_inputs(rng):
    boxes = np.array([[100, 100, 200, 300], [500, 500, 600, 700], [900, 100, 1000, 300]], np.float64)
    f = Detections(frame=0, xyxy=boxes, scores=np.array([0.9, 0.3, 0.8], np.float32), class_ids=np.array([0, 0, 2]))
    kw = dict(image_size=(W, H), grid=(NH, NV), spread=0, window=0, mode="point")
    g = hc.GridCounter(classes=[0], min_score=0.5, **kw).update(f)
    assert cells(g) == {(10, 4)}

    class Det:  # supervision-like
        xyxy = boxes
        confidence = np.array([0.9, 0.3, 0.8])
        class_id = np.array([0, 0, 2])

    np.testing.assert_array_equal(hc.GridCounter(classes=[0], min_score=0.5, **kw).update(Det()), g)
    arr6 = np.column_stack([boxes, [0.9, 0.3, 0.8], [0, 0, 2]])
    np.testing.assert_array_equal(hc.GridCounter(classes=0, min_score=0.5, **kw).update(arr6), g)
    with pytest.raises(ValueError, match="class id"):
        hc.GridCounter(classes=[0], **kw).update(boxes)
    seq = hc.grid_counts(np.concatenate([boxes, boxes]), [0, 3, 6], scores=[0.9, 0.3, 0.8] * 2,
                         class_ids=[0, 0, 2] * 2, classes=[0], min_score=0.5, **kw)
    np.testing.assert_array_equal(seq[0], g)
    np.testing.assert_array_equal(seq[1], 2 * g)


@pytest.mark.parametrize("kwargs, err, match", [
    (dict(image_size=(0, 1080)), ValueError, "image_size"),
    (dict(grid=(60, 0)), ValueError, "grid"),
    (dict(grid="60by36"), ValueError, "grid"),
    (dict(image_size=1920), TypeError, "image_size"),
    (dict(mode="boxes"), ValueError, "mode"),
    (dict(geometry="sony"), ValueError, "geometry"),
    (dict(spread=-1), ValueError, "spread"),
    (dict(spread=1.5), TypeError, "spread"),
    (dict(window=-1), ValueError, "window"),
    (dict(anchor=1.5), ValueError, "anchor"),
    (dict(anchor=float("nan")), ValueError, "anchor"),
    (dict(min_score="high"), TypeError, "min_score"),
    (dict(classes=["a"]), TypeError, "classes"),
    (dict(backend="gpu"), ValueError, "backend"),
])
def test_bad_parameters(kwargs, err, match):
    with pytest.raises(err, match=match):
        hc.GridCounter(**kwargs)


def test_bad_boxes():
    c = hc.GridCounter((W, H), (NH, NV))
    with pytest.raises(ValueError, match=r"frame 0, box 1: coordinates must be finite"):
        c.update([[0, 0, 10, 10], [np.nan, 0, 10, 10]])
    with pytest.raises(ValueError, match="shape"):
        c.update(np.zeros((3, 3)))
    with pytest.raises(TypeError, match="detections"):
        c.update("boxes")
    with pytest.raises(ValueError, match="offsets"):
        hc.grid_counts(np.zeros((3, 4)), [0, 2])
    with pytest.raises(ValueError, match="offsets"):
        hc.grid_counts(np.zeros((3, 4)), [0, 2, 1, 3])
    with pytest.raises(ValueError, match=r"frame 1, box 0: coordinates must be finite"):
        hc.grid_counts(np.array([[0, 0, 1, 1], [np.inf, 0, 1, 1]]), [0, 1, 2])
    with pytest.raises(ValueError, match="offsets"):
        _core.grid_counts(np.zeros((3, 4)), np.array([0, 5]), W, H, NH, NV, 0, "box", "exact", 1.0, 0)
    with pytest.raises(ValueError, match="grid must be an int64"):
        _core.grid_apply(np.zeros((3, 3), np.int64), np.zeros((1, 4)), W, H, NH, NV, 0, "box", "exact", 1.0, 1)
    with pytest.raises(ValueError, match="initial"):
        _core.grid_counts(np.zeros((0, 4)), np.array([0, 0]), W, H, NH, NV, 0, "box", "exact", 1.0, 0, 1,
                          np.zeros((2, 2), np.int32))
    with pytest.raises(ValueError, match="state"):
        hc.GridCounter.from_state({"grid": np.zeros((36, 60))})


def test_huge_coordinates_do_not_overflow():
    for geometry in ("exact", "aitrios"):
        for mode in ("box", "point"):
            g = one([-1e300, -1e300, 1e300, 1e300], geometry=geometry, mode=mode, spread=1)
            assert g.dtype == np.int32
    assert one([-1e300, -1e300, 1e300, 1e300], geometry="exact").sum() == 2160


@pytest.mark.parametrize("window", [0, 50, 5000])
def test_long_sequences_split_over_threads(rng, window):
    # > 4096 frames: the kernel splits the frames between threads, each rebuilding its start state
    frames = 9000
    counts = rng.integers(0, 4, frames)
    off = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    b = rng.uniform(0, 60, (off[-1], 2))
    boxes = np.concatenate([b, b + rng.uniform(0, 20, b.shape)], axis=1)
    args = (64, 48, 8, 6, 1, "box", "exact", 1.0, window)
    one_thread = _core.grid_counts(boxes, off, *args, 1)
    np.testing.assert_array_equal(_core.grid_counts(boxes, off, *args, 3), one_thread)
    np.testing.assert_array_equal(ref.grid_counts(boxes, off, *args), one_thread)
    # with a carried-over ring (history) and an initial grid, as GridCounter.update_many does
    h = min(window, 40) if window else 0
    init = one_thread[h - 1] if h else None
    tail = _core.grid_counts(boxes, off, *args, 3, init, h)
    np.testing.assert_array_equal(tail, one_thread[h:])


def test_update_packed_matches_update_many_with_filters(rng):
    frames = _frames(rng, 40)
    kw = dict(image_size=(W, H), grid=(NH, NV), spread=1, window=6, mode="point", classes=[0, 2], min_score=0.3)
    a, b = hc.GridCounter(**kw), hc.GridCounter(**kw)
    want = a.update_many(frames[:25])
    boxes = np.concatenate([f.xyxy for f in frames[:25]])
    off = np.concatenate([[0], np.cumsum([len(f) for f in frames[:25]])])
    got, kb, ko = b.update_packed(boxes, off, np.concatenate([f.scores for f in frames[:25]]),
                                  np.concatenate([f.class_ids for f in frames[:25]]))
    np.testing.assert_array_equal(got, want)
    assert len(kb) == ko[-1] and len(ko) == 26
    for f in frames[25:]:  # the rings carried over identically
        np.testing.assert_array_equal(a.update(f), b.update(f))
