"""Tracker, stationary suppression, dwell / visitor grids."""

from __future__ import annotations

import numpy as np
import pytest

from heatcore.track import StationaryFilter, Tracker, cell_index, dwell_grid, iou_matrix, visitor_grid


def test_iou_matrix_by_hand():
    a = np.array([[0, 0, 10, 10.0]])
    b = np.array([[5, 0, 15, 10.0], [20, 20, 30, 30], [0, 0, 10, 10]])
    np.testing.assert_allclose(iou_matrix(a, b), [[50 / 150, 0, 1]])


@pytest.mark.parametrize("method", ["iou", "centroid"])
def test_ids_persist_and_expire(method):
    tr = Tracker(method=method, max_disappeared=2, max_distance=30)
    a = np.array([[0, 0, 20, 40.0]])
    b = np.array([[100, 0, 120, 40.0]])
    assert tr.update(np.vstack([a, b])).tolist() == [0, 1]
    # both move a little; order swapped in the input
    assert tr.update(np.vstack([b + 3, a + 3])).tolist() == [1, 0]
    # a disappears for 2 frames (allowed), then comes back: same id
    tr.update(b + 6)
    tr.update(b + 9)
    assert tr.update(np.vstack([a + 3, b + 12])).tolist() == [0, 1]
    # a gone for 3 frames (> max_disappeared): new id when it comes back
    for k in range(3):
        tr.update(b + 12)
    assert tr.active == [1]
    assert tr.update(np.vstack([a + 3, b + 12])).tolist() == [2, 1]
    assert tr.update(np.zeros((0, 4))).tolist() == []


def test_tracker_bad_input():
    with pytest.raises(ValueError, match="method"):
        Tracker(method="kalman")
    with pytest.raises(ValueError, match="max_disappeared"):
        Tracker(max_disappeared=-1)
    with pytest.raises(ValueError, match="iou_threshold"):
        Tracker(iou_threshold=0)
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        Tracker().update(np.zeros((3, 2)))


def test_stationary_suppression():
    f = StationaryFilter(min_motion=5.0, seconds=2.0)
    active = []
    for k in range(10):  # t = 0 .. 4.5 s, track 0 parked, track 1 walking 10 px per step
        t = k * 0.5
        active.append(f.update(t, [0, 1, -1], [[100.0 + 0.5 * (k % 2), 50.0], [10.0 * k, 0.0], [1, 1]]).tolist())
    act = np.array(active)
    # the parked track adds heat until it has been observed still for 2 s (t = 2.0, step 4)
    assert act[:4, 0].all() and not act[4:, 0].any()
    assert act[:, 1].all() and act[:, 2].all()
    # it moves again -> active again
    assert f.update(5.0, [0], [[130.0, 50.0]]).tolist() == [True]
    with pytest.raises(ValueError, match="min_motion"):
        StationaryFilter(0, 1)
    with pytest.raises(ValueError, match="differ"):
        f.update(0, [1, 2], [[0, 0]])


def test_dwell_and_visitors_by_hand():
    # plan 100 x 50 units, grid 2 rows x 4 cols (25 x 25 cells)
    x = np.array([10, 10, 10, 60, 60, np.nan, 150, 99.9])
    y = np.array([10, 10, 10, 40, 40, 5, 5, 49.9])
    tr = np.array([0, 0, 1, 2, 2, 3, 4, -1])
    np.testing.assert_array_equal(cell_index(x, y, (2, 4), (100, 50)), [0, 0, 0, 6, 6, -1, -1, 7])
    dw = dwell_grid(x, y, (2, 4), (100, 50), seconds_per_obs=0.2)
    expect = np.zeros((2, 4))
    expect[0, 0], expect[1, 2], expect[1, 3] = 0.6, 0.4, 0.2
    np.testing.assert_allclose(dw, expect)
    vis = visitor_grid(x, y, tr, (2, 4), (100, 50))
    ev = np.zeros((2, 4), np.int64)
    ev[0, 0], ev[1, 2], ev[1, 3] = 2, 1, 1
    np.testing.assert_array_equal(vis, ev)
    with pytest.raises(ValueError, match="seconds_per_obs"):
        dwell_grid(x, y, (2, 4), (100, 50), seconds_per_obs=0)
    with pytest.raises(ValueError, match="one entry per point"):
        visitor_grid(x, y, tr[:2], (2, 4), (100, 50))


def test_tracker_state_round_trip():
    import json

    a = Tracker(max_disappeared=2)
    a.update([[0, 0, 10, 10], [50, 50, 60, 60]])
    a.update([[1, 1, 11, 11]])
    b = Tracker(max_disappeared=2)
    b.load_state(json.loads(json.dumps(a.state())))
    nxt = [[2, 2, 12, 12], [51, 51, 61, 61], [200, 200, 210, 210]]
    assert a.update(nxt).tolist() == b.update(nxt).tolist() == [0, 1, 2]
