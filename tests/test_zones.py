"""Zones: masks, shares over a partition, occupancy, dwell, visitors, motion, tables and plots."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import numpy as np
import pytest

import heatcore
from heatcore import FloorplanAccumulator, GridCounter, KDEAccumulator, MotionHeatmap
from heatcore._synthetic import synthetic_people, synthetic_scene
from heatcore.records import Detections
from heatcore.slices import SlicedAccumulator
from heatcore.zones import (Zone, Zones, ZoneCounter, load_zones, plot_zone_series, points_in_polygon, write_table,
                            zone_shares, zone_table)

T0 = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.timezone.utc).timestamp()

# a partition of a 1920x1080 frame with diagonal shared edges and a vertex on the border
PARTITION = {"units": "image", "zones": [
    {"name": "left", "polygon": [[0, 0], [700, 0], [900, 1080], [0, 1080]]},
    {"name": "middle", "polygon": [[700, 0], [1300, 0], [1100, 540], [900, 1080]]},
    {"name": "right", "polygon": [[1300, 0], [1920, 0], [1920, 1080], [900, 1080], [1100, 540]]},
]}


def test_masks_of_a_partition_cover_every_cell_once():
    zones = Zones.from_dict(PARTITION)
    for shape in [(540, 960), (36, 60), (7, 11)]:
        masks = zones.masks(shape, (1920, 1080))
        total = sum(m.astype(int) for m in masks.values())
        assert np.all(total == 1), shape


def test_points_in_polygon_against_matplotlib():
    from matplotlib.path import Path as MPath

    rng = np.random.default_rng(0)
    poly = np.array([[10, 10], [90, 20], [60, 50], [95, 90], [5, 80]], float)
    pts = rng.uniform(0, 100, (5000, 2))
    np.testing.assert_array_equal(points_in_polygon(pts, poly), MPath(poly).contains_points(pts))


@pytest.mark.parametrize("kind", ["grid", "kde"])
def test_zone_shares_sum_to_one_over_a_partition(kind):
    zones = Zones.from_dict(PARTITION)
    recs = synthetic_people(frames=60)
    if kind == "grid":
        acc = GridCounter(image_size=(1920, 1080), grid=(60, 36), mode="box")
        acc.update_batch(recs)
    else:
        acc = KDEAccumulator((1080, 1920), 20.0, normalize="count")
        for r in recs:
            acc.update(r.anchors())
    shares = zone_shares(acc, zones)
    assert all(v > 0 for v in shares.values())
    assert sum(shares.values()) == pytest.approx(1.0, abs=1e-12)
    # an independent count: the share of a grid zone is its cells' counts over the total
    if kind == "grid":
        g = acc.result().astype(float)
        cy, cx = np.mgrid[0:36, 0:60]
        centres = np.stack([(cx.ravel() + 0.5) * 32, (cy.ravel() + 0.5) * 30], 1)
        from matplotlib.path import Path as MPath

        inside = MPath(np.array(PARTITION["zones"][0]["polygon"], float)).contains_points(centres).reshape(36, 60)
        assert shares["left"] == pytest.approx(g[inside].sum() / g.sum(), rel=1e-12)


def test_zone_counter_occupancy_visitors_dwell():
    zones = Zones.from_dict({"a": [[0, 0], [100, 0], [100, 100], [0, 100]], "b": [[100, 0], [200, 0], [200, 100], [100, 100]]})
    zc = ZoneCounter(zones, seconds_per_obs=0.5)
    # feet (bottom centre) at x = 50 (zone a) / 150 (zone b), y = 90
    def box(x, tid):
        return [x - 5, 60, x + 5, 90], tid
    frames = [[box(50, 1), box(150, 2)], [box(50, 1), box(60, 3), box(150, 2)], [box(150, 4)], []]
    for i, f in enumerate(frames):
        xy = np.array([b for b, _ in f], float).reshape(-1, 4)
        zc.update(Detections(xy, track_ids=np.array([t for _, t in f], np.int64), frame=i))
    assert zc.frames == 4
    np.testing.assert_allclose(zc.mean_occupancy(), [3 / 4, 3 / 4])
    np.testing.assert_array_equal(zc.peak, [2, 1])
    np.testing.assert_array_equal(zc.visitors(), [2, 2])
    np.testing.assert_allclose(zc.dwell(), [1.5, 1.5])
    z2 = heatcore.accumulator.accumulator_from_state({**zc.state(), "__kind__": np.array("zones")})
    np.testing.assert_array_equal(z2.visitors(), zc.visitors())
    z2.merge(zc)
    np.testing.assert_array_equal(z2.visitors(), [2, 2])  # the same tracks
    np.testing.assert_array_equal(z2.observations, 2 * zc.observations)
    untracked = ZoneCounter(zones)
    untracked.update(Detections(np.array([[45, 60, 55, 90]], float)))
    assert untracked.visitors()[0] == -1 and np.isnan(untracked.dwell()[0])


def test_table_per_slice_with_floorplan_and_motion(tmp_path):
    _, _, H, recs = synthetic_scene(seconds=20, fps=5)
    recs = [replace(r, wall=T0 + r.time * 180) for r in recs]  # spread over an hour
    plan_zones = Zones.from_dict({"units": "plan", "zones": {
        "front": [[0, 150], [400, 150], [400, 300], [0, 300]], "back": [[0, 0], [400, 0], [400, 150], [0, 150]]}})
    fp = SlicedAccumulator(lambda: FloorplanAccumulator((400, 300), H, seconds_per_obs=0.2, track=True), "15min")
    zc = SlicedAccumulator(lambda: ZoneCounter(plan_zones, homography=H, seconds_per_obs=0.2), "15min")
    fp.update_batch(recs)
    zc.update_batch(recs)
    rows = zone_table(plan_zones, heat=fp, floorplan=fp, counter=zc)
    whole = [r for r in rows if r["slice"] == "all"]
    assert [r["zone"] for r in whole] == ["front", "back"]
    assert sum(r["share"] for r in whole) == pytest.approx(1.0, abs=1e-9)  # the plan KDE lies on the plan
    per = [r for r in rows if r["slice"] != "all"]
    assert len(per) == 2 * len(fp)
    # per-slice dwell adds up to the whole run's dwell
    for n in ("front", "back"):
        assert sum(r["dwell_s"] for r in per if r["zone"] == n) == pytest.approx(
            next(r["dwell_s"] for r in whole if r["zone"] == n), rel=1e-12)
    write_table(rows, tmp_path / "z.csv")
    write_table(rows, tmp_path / "z.json")
    assert (tmp_path / "z.csv").read_text().splitlines()[0].startswith("zone,slice,share")
    assert len(json.loads((tmp_path / "z.json").read_text())["rows"]) == len(rows)
    fig = plot_zone_series(rows, "dwell_s")
    fig.savefig(tmp_path / "series.png")
    assert (tmp_path / "series.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="csv or .json"):
        write_table(rows, tmp_path / "z.txt")


def test_motion_fraction():
    rng = np.random.default_rng(0)
    m = MotionHeatmap("diff", threshold=20, blur=1, threads=1)
    bg = rng.integers(60, 80, (40, 80), dtype=np.uint8)
    for i in range(10):
        img = bg.copy()
        if i % 2:
            img[:, :40] = 250  # the left half moves every other frame (after the reference)
        m.update(img)
    zones = Zones.from_dict({"left": [[0, 0], [40, 0], [40, 40], [0, 40]], "right": [[40, 0], [80, 0], [80, 40], [40, 40]]})
    rows = zone_table(zones, motion=m)
    frac = {r["zone"]: r["motion_fraction"] for r in rows}
    assert frac["left"] == pytest.approx(0.5) and frac["right"] == 0.0


def test_load_zones_files_and_errors(tmp_path):
    (tmp_path / "z.yaml").write_text("units: image\nzones:\n  - name: door\n    polygon: [[0,0],[10,0],[10,10]]\n")
    (tmp_path / "z.json").write_text(json.dumps({"door": [[0, 0], [10, 0], [10, 10]]}))
    assert load_zones(tmp_path / "z.yaml").names == load_zones(tmp_path / "z.json").names == ["door"]
    with pytest.raises(FileNotFoundError):
        load_zones(tmp_path / "nope.yaml")
    with pytest.raises(ValueError, match="'door'.*3"):
        Zones.from_dict({"door": [[0, 0], [1, 1]]})
    with pytest.raises(ValueError, match="unique"):
        Zones([Zone("a", ((0, 0), (1, 0), (1, 1))), Zone("a", ((0, 0), (1, 0), (1, 1)))])
    with pytest.raises(ValueError, match="homography"):
        ZoneCounter({"units": "plan", "zones": {"a": [[0, 0], [1, 0], [1, 1]]}})
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="not a valid zones file"):
        load_zones(tmp_path / "bad.json")
