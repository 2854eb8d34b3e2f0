"""Floor-plan pipeline: anchors -> homography -> plan, CSV writers read back, heatmaps, CLI."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

import heatcore
from heatcore import Homography, floorplan_heatmap
from heatcore.cli import main
from heatcore._synthetic import synthetic_scene
from heatcore.floorplan import FloorplanAccumulator, PlanPoints, read_points_csv, write_points_csv
from heatcore.io.detections import AitriosCSV, read_long_csv
from heatcore.pipeline import Job, run
from heatcore.records import Detections
from heatcore.sinks import AitriosCSVSink, DetectionsCSVSink
from heatcore.sources import RecordsSource

SRC = np.array([[40, 460], [600, 460], [470, 140], [170, 140]], float)
DST = np.array([[0, 300], [400, 300], [400, 0], [0, 0]], float)


def _frames():
    d0 = Detections([[10, 20, 30, 60], [100, 100, 120, 200]], [0.9, 0.5], [0, 0], frame=0, time=0.0)
    d1 = Detections([[12, 20, 32, 60]], [0.8], [0], frame=5, time=0.2)
    return [d0, d1, Detections(frame=10, time=0.4)]


def _write(tmp_path, frames, meta=None):
    sinks = [DetectionsCSVSink(tmp_path / "det.csv", meta=meta), AitriosCSVSink(tmp_path / "ait.csv", meta=meta)]
    run(Job(source=RecordsSource(frames), accumulators={}, sinks=sinks))


def test_accumulator_maps_feet_through_homography():
    h = Homography.from_points(SRC, DST)
    acc = FloorplanAccumulator((400, 300), h, seconds_per_obs=0.2, cell=1000, bandwidth=3.0, track=True)
    ups = [acc.update(d) for d in _frames()]
    assert [u.detections for u in ups] == [2, 1, 0]
    feet = np.array([[20, 60], [110, 200], [22, 60]], float)  # bottom centres, by hand
    mapped = cv2.perspectiveTransform(feet.reshape(-1, 1, 2), h.matrix).reshape(-1, 2)
    inside = (mapped[:, 0] >= 0) & (mapped[:, 0] < 400) & (mapped[:, 1] >= 0) & (mapped[:, 1] < 300)
    assert sum(u.on_plan for u in ups) == int(inside.sum())
    assert sum(u.off_plan + u.behind for u in ups) == 3 - int(inside.sum())
    assert acc.counts["frames"] == 3


def test_points_csv_round_trip(tmp_path):
    pts = PlanPoints(frame=np.array([0, 0, 5]), time_s=np.array([0, 0, 0.2]), track=np.array([0, 1, 0]),
                     x=np.array([1.5, np.nan, 3.0]), y=np.array([2.0, 1.0, 4.0]), score=np.array([0.9, 0.5, 0.8]),
                     seconds_per_obs=0.2)
    p = write_points_csv(tmp_path / "pts.csv", pts)
    assert p.read_text().splitlines()[0] == "frame,time_s,track,x,y,score"
    back = read_points_csv(p)
    np.testing.assert_array_equal(back.frame, pts.frame)
    np.testing.assert_array_equal(back.track, pts.track)
    np.testing.assert_allclose(back.x, pts.x, rtol=1e-5)
    assert np.isnan(back.x[1])
    np.testing.assert_allclose(back.score, pts.score, rtol=1e-5)
    assert back.seconds_per_obs == pytest.approx(0.2)
    bad = tmp_path / "bad.csv"
    bad.write_text("frame,x\n1,2\n")
    with pytest.raises(ValueError, match="header"):
        read_points_csv(bad)
    bad.write_text("frame,time_s,track,x,y,score\n1,0,0,a,2,3\n")
    with pytest.raises(ValueError, match="line 2"):
        read_points_csv(bad)
    with pytest.raises(FileNotFoundError):
        read_points_csv(tmp_path / "missing.csv")


def test_detection_csv_and_aitrios_csv_read_back(tmp_path):
    frames = _frames()
    for d in frames:
        d.track_ids = np.arange(len(d))
    _write(tmp_path, frames, meta={"fps": 25.0, "stride": 5})
    back = list(read_long_csv(tmp_path / "det.csv"))
    # frames without boxes come back from the stride in the .meta.json, with their times
    assert [d.frame for d in back] == [0, 5, 10][:2]
    np.testing.assert_allclose(back[0].xyxy, frames[0].xyxy)
    assert back[0].track_ids.tolist() == [0, 1]
    assert back[1].time == pytest.approx(0.2)
    raw = (tmp_path / "ait.csv").read_bytes()
    assert raw.startswith(b"0,1,2,3,4,5,6,7,8,9\r\n0,") and raw.count(b"\r\n") == 4
    assert b'"{""perception"": {""object_detection_list"": [{""class_id"": 0, ""bounding_box"": {""left"": 10' in raw
    got = list(AitriosCSV(tmp_path / "ait.csv"))
    assert [d.frame for d in got] == [0, 5, 10]  # rows carry their frame index
    assert [d.time for d in got] == [0.0, 0.2, 0.4]  # fps from the .meta.json
    np.testing.assert_array_equal(got[0].xyxy, [[10, 20, 30, 60], [100, 100, 120, 200]])
    np.testing.assert_allclose(got[0].scores, [0.9, 0.5])
    assert len(got[2]) == 0
    rows = list(AitriosCSV(tmp_path / "ait.csv", frame_numbers="rows"))
    assert [d.frame for d in rows] == [0, 1, 2]


def test_aitrios_csv_feeds_heatcore_grid(tmp_path):
    _write(tmp_path, _frames())
    rc = main(["grid", str(tmp_path / "ait.csv"), "--image-size", "640x480", "--grid", "8x6", "--no-video",
               "--quiet", "-o", str(tmp_path / "g")])
    assert rc == 0
    lines = (tmp_path / "g" / "grids.jsonl").read_text().splitlines()
    assert len(lines) == 3 and json.loads(lines[0])["number_of_detects"] == 2
    assert [json.loads(x)["frame"] for x in lines] == [0, 5, 10]
    # detect's own long CSV feeds grid too (it was refused: "got 9" fields)
    rc = main(["grid", str(tmp_path / "det.csv"), "--image-size", "640x480", "--grid", "8x6", "--no-video",
               "--quiet", "-o", str(tmp_path / "g2")])
    assert rc == 0
    lines2 = (tmp_path / "g2" / "grids.jsonl").read_text().splitlines()
    assert json.loads(lines2[0])["number_of_detects"] == 2


def test_dwell_visitors_heatmaps(tmp_path):
    pts = PlanPoints(frame=np.array([0, 1, 2, 3]), time_s=np.array([0, 0.5, 1, 1.5]), track=np.array([0, 0, 1, 2]),
                     x=np.array([5.0, 6, 30, np.nan]), y=np.array([5.0, 6, 5, 5]), score=np.ones(4),
                     active=np.array([True, True, True, True]), seconds_per_obs=0.5)
    dw = floorplan_heatmap(pts, plan_size=(40, 20), mode="dwell", cell=10)
    assert dw.shape == (2, 4)
    assert dw[0, 0] == pytest.approx(1.0) and dw[0, 3] == pytest.approx(0.5) and dw.sum() == pytest.approx(1.5)
    vis = floorplan_heatmap(pts, plan_size=(40, 20), mode="visitors", cell=10)
    assert vis[0, 0] == 1 and vis[0, 3] == 1 and vis.sum() == 2
    pts.active[:] = [False, True, True, True]  # stationary suppression removes heat
    assert floorplan_heatmap(pts, plan_size=(40, 20), mode="dwell", cell=10)[0, 0] == pytest.approx(0.5)
    plan = np.full((20, 40, 3), 200, np.uint8)
    out = tmp_path / "dwell.png"
    floorplan_heatmap(pts, plan, mode="dwell", cell=10, out=out, vmax=2.0)
    img = cv2.imread(str(out))
    assert img is not None and img.std() > 5
    with pytest.raises(ValueError, match="mode"):
        floorplan_heatmap(pts, plan, mode="sum")
    with pytest.raises(ValueError, match="plan_size"):
        floorplan_heatmap(pts)
    with pytest.raises(ValueError, match="uint8"):
        floorplan_heatmap(pts, plan.astype(float))
    with pytest.raises(ValueError, match="cell"):
        floorplan_heatmap(pts, plan, mode="dwell", cell=0)


def test_kde_heatmap_mass_and_peak(tmp_path):
    rng = np.random.default_rng(1)
    xy = np.concatenate([rng.normal([30, 20], 2, (200, 2)), [[np.nan, 1.0], [500, 500]]])
    g = floorplan_heatmap(xy, plan_size=(80, 40), mode="kde", bandwidth=3.0, out=tmp_path / "k.png")
    assert g.shape == (40, 80)
    iy, ix = np.unravel_index(np.argmax(g), g.shape)
    assert abs(ix - 30) <= 2 and abs(iy - 20) <= 2
    # normalize="count": each point adds a Gaussian of peak 1 (mass 2 pi sigma^2); NaN and outside
    # points add nothing
    assert g.sum() == pytest.approx(200 * 2 * np.pi * 9, rel=0.02)
    assert cv2.imread(str(tmp_path / "k.png")) is not None
    # PlanPoints: each observation weighs seconds_per_obs; suppressed ones add nothing
    pts = PlanPoints(frame=np.arange(3), time_s=np.arange(3) * 0.5, track=np.zeros(3, np.int64),
                     x=np.array([10.5, 10.5, 60.5]), y=np.array([10.5, 10.5, 30.5]), score=np.ones(3),
                     active=np.array([True, True, False]), seconds_per_obs=0.5)
    g = floorplan_heatmap(pts, plan_size=(80, 40), bandwidth=2.0)
    assert g[10, 10] == pytest.approx(1.0, abs=1e-6)  # two observations of 0.5 s at one spot
    assert g[30, 60] == pytest.approx(0.0, abs=1e-9)


def test_synthetic_scene_accumulator_and_stationary_filter():
    frame, plan, h, frames = synthetic_scene(seconds=6.0, fps=5.0)
    acc = FloorplanAccumulator((400, 300), h, seconds_per_obs=0.2, cell=20, track={"max_disappeared": 3})
    for d in frames:
        acc.update(d)
    assert acc.counts["behind"] == 0 and acc.counts["on_plan"] >= acc.counts["detections"] - 2
    # the parked trolley (plan 330, 120) is seen every frame: about 6 s of dwell in its cell
    dw = acc.dwell()
    assert dw[5:7, 16].sum() == pytest.approx(6.0, abs=0.5)  # y = 120 lies on a cell border
    sup = FloorplanAccumulator((400, 300), h, seconds_per_obs=0.2, cell=20, track={"max_disappeared": 3},
                               stationary=(6.0, 3.0))
    for d in synthetic_scene(seconds=6.0, fps=5.0)[3]:
        sup.update(d)
    assert sup.counts["stationary"] > 10
    assert sup.dwell()[5:7, 16].sum() < dw[5:7, 16].sum() - 2
    assert sup.visitors().sum() > 0


def test_accumulator_merge_and_state_round_trip(tmp_path):
    frame, plan, h, frames = synthetic_scene(seconds=6.0, fps=5.0)
    whole = FloorplanAccumulator((400, 300), h, seconds_per_obs=0.2, cell=20)
    a = FloorplanAccumulator((400, 300), h, seconds_per_obs=0.2, cell=20)
    b = FloorplanAccumulator((400, 300), h, seconds_per_obs=0.2, cell=20)
    for i, d in enumerate(frames):
        whole.update(d)
        (a if i < 13 else b).update(d)
    a.merge(b)
    np.testing.assert_allclose(a.result(), whole.result(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(a.dwell(), whole.dwell())
    back = heatcore.load_state(whole.save(tmp_path / "fp.npz"))
    np.testing.assert_array_equal(back.result(), whole.result())
    np.testing.assert_array_equal(back.dwell(), whole.dwell())
    assert back.counts == whole.counts
    # visitors without tracks are refused, not counted one per detection
    with pytest.raises(ValueError, match="track"):
        whole.visitors()


def test_floorplan_every_point_off_the_plan_is_an_error(tmp_path, capsys):
    frames = _frames()
    _write(tmp_path, frames, meta={"fps": 25.0, "stride": 5})
    far = Homography.from_points(SRC, DST + 5000)  # maps everything far off a 400x300 plan
    far.save(tmp_path / "far.json")
    rc = main(["floorplan", str(tmp_path / "det.csv"), "--homography", str(tmp_path / "far.json"),
               "--plan-size", "400x300", "-o", str(tmp_path / "x.png"), "--quiet"])
    assert rc == 2 and "landed on the" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_floorplan_dwell_uses_real_seconds(tmp_path, capsys):
    # 2 frames per second of a 10 fps source (stride 5): each observation is 0.5 s, not 1/30 s
    frames = [Detections([[190, 400, 210, 440]], frame=5 * i, time=0.5 * i, track_ids=[0]) for i in range(20)]
    _write(tmp_path, frames, meta={"fps": 10.0, "stride": 5})
    h = Homography.from_points(SRC, DST)
    h.save(tmp_path / "H.json")
    for f in ("det.csv", "ait.csv"):
        rc = main(["floorplan", str(tmp_path / f), "--homography", str(tmp_path / "H.json"), "--plan-size",
                   "400x300", "--dwell", "--cell", "400", "-o", str(tmp_path / "d.png"), "--quiet",
                   "--state", str(tmp_path / "d.npz")])
        assert rc == 0
        acc = heatcore.load_state(tmp_path / "d.npz")
        assert acc.dwell().sum() == pytest.approx(10.0)  # 20 observations x 0.5 s
    # without a frame rate (no .meta.json, no --fps) the time is unknown: an error, not 30 fps
    (tmp_path / "ait.csv.meta.json").unlink()
    rc = main(["floorplan", str(tmp_path / "ait.csv"), "--homography", str(tmp_path / "H.json"), "--plan-size",
               "400x300", "--dwell", "-o", str(tmp_path / "d.png"), "--quiet"])
    assert rc == 2 and "--fps" in capsys.readouterr().err
    # --visitors on detections without tracks is an error, not one visitor per detection
    rc = main(["floorplan", str(tmp_path / "ait.csv"), "--homography", str(tmp_path / "H.json"), "--plan-size",
               "400x300", "--visitors", "--fps", "10", "--stride", "5", "-o", str(tmp_path / "v.png"), "--quiet"])
    assert rc == 2 and "track" in capsys.readouterr().err
    assert main(["floorplan", str(tmp_path / "ait.csv"), "--homography", str(tmp_path / "H.json"), "--plan-size",
                 "400x300", "--visitors", "--track", "--fps", "10", "--stride", "5", "-o", str(tmp_path / "v.png"),
                 "--quiet"]) == 0


def test_cli_calibrate_detect_floorplan(tmp_path, campus_video):
    frame, plan, h, frames = synthetic_scene(seconds=4.0, fps=5.0)
    cv2.imwrite(str(tmp_path / "frame.png"), frame)
    cv2.imwrite(str(tmp_path / "plan.png"), cv2.cvtColor(plan, cv2.COLOR_RGB2BGR))
    (tmp_path / "src.json").write_text(json.dumps(SRC.tolist()))
    (tmp_path / "dst.json").write_text(json.dumps({"points": DST.tolist()}))
    assert main(["calibrate", "--image", str(tmp_path / "frame.png"), "--src", str(tmp_path / "src.json"),
                 "--dst", str(tmp_path / "dst.json"), "-o", str(tmp_path / "H.json"), "--quiet"]) == 0
    assert Homography.load(tmp_path / "H.json").max_error < 1e-6
    assert cv2.imread(str(tmp_path / "H_preview.png")) is not None
    _write(tmp_path, frames, meta={"fps": 5.0, "stride": 1})
    for extra in ([], ["--dwell", "--stationary", "6,2"], ["--visitors", "--track"]):
        out = tmp_path / f"heat{len(extra)}.png"
        assert main(["floorplan", str(tmp_path / "det.csv"), "--homography", str(tmp_path / "H.json"), "--plan",
                     str(tmp_path / "plan.png"), "-o", str(out), "--quiet", "--vmax", "3"] + extra) == 0
        assert cv2.imread(str(out)).std() > 5
    # detect on the campus clip with HOG, then feed its AITRIOS CSV to heatcore grid
    assert main(["detect", str(campus_video), "-o", str(tmp_path / "c.csv"), "--stride", "200", "--track",
                 "--hog-width", "720", "--aitrios-csv", str(tmp_path / "c_ait.csv"), "--quiet"]) == 0
    assert (tmp_path / "c.csv").read_text().startswith("frame,time_s,track,left,top,right,bottom,score,class_id")
    got = list(AitriosCSV(tmp_path / "c_ait.csv"))
    assert [d.frame for d in got] == [0, 200, 400, 600]
    assert got[1].time == pytest.approx(200 / 10.0)  # campus is 10 fps
    # one command from the raw video to a floor plan (detection in the same pass)
    hc = Homography.from_points([[0, 360], [480, 360], [400, 100], [80, 100]], [[0, 200], [300, 200], [300, 0], [0, 0]])
    hc.save(tmp_path / "Hc.json")
    assert main(["floorplan", str(campus_video), "--homography", str(tmp_path / "Hc.json"), "--plan-size",
                 "300x200", "--stride", "200", "--hog-width", "720", "-o", str(tmp_path / "v.png"), "--quiet",
                 "--dwell", "--state", str(tmp_path / "v.npz")]) == 0
    acc = heatcore.load_state(tmp_path / "v.npz")
    assert acc.counts["frames"] == 4 and acc.seconds_per_obs == pytest.approx(200 / 10.0)


def test_cli_bad_input(tmp_path, capsys):
    assert main(["calibrate", "--image", str(tmp_path / "no.png"), "--src", "a.json", "--dst", "b.json",
                 "-o", str(tmp_path / "H.json")]) == 2
    cv2.imwrite(str(tmp_path / "f.png"), np.zeros((10, 10, 3), np.uint8))
    (tmp_path / "three.json").write_text("[[0, 0], [1, 0], [0, 1]]")
    assert main(["calibrate", "--image", str(tmp_path / "f.png"), "--src", str(tmp_path / "three.json"),
                 "--dst", str(tmp_path / "three.json"), "-o", str(tmp_path / "H.json")]) == 2
    assert "at least 4" in capsys.readouterr().err
    assert main(["detect", str(tmp_path / "none.mp4"), "-o", str(tmp_path / "d.csv")]) == 2
    assert main(["detect", str(tmp_path / "f.png"), "-o", str(tmp_path / "d.csv"), "--stride", "0"]) == 2
    assert main(["floorplan", str(tmp_path / "none.csv"), "-o", str(tmp_path / "x.png"), "--plan-size", "10x10"]) == 2
    (tmp_path / "pts.csv").write_text("frame,time_s,track,x,y,score\n0,0,0,1,1,1\n")
    assert main(["floorplan", str(tmp_path / "pts.csv"), "-o", str(tmp_path / "x.png")]) == 2
    assert "plan" in capsys.readouterr().err
    (tmp_path / "det.csv").write_text("frame,time_s,track,left,top,right,bottom,score,class_id\n0,0,0,1,1,2,2,1,0\n")
    assert main(["floorplan", str(tmp_path / "det.csv"), "-o", str(tmp_path / "x.png"), "--plan-size", "10x10"]) == 2
    assert "--homography" in capsys.readouterr().err
    assert main(["floorplan", str(tmp_path / "pts.csv"), "-o", str(tmp_path / "x.png"), "--plan-size", "10x10",
                 "--stationary", "abc"]) == 2
    assert "--stationary" in capsys.readouterr().err
    assert main(["floorplan", str(tmp_path / "pts.csv"), "-o", str(tmp_path / "x.png"), "--plan-size", "10x10",
                 "--seconds-per-obs", "-1"]) == 2
    assert "--seconds-per-obs" in capsys.readouterr().err
    assert hasattr(heatcore, "floorplan_heatmap")




def test_detections_csv_without_a_frame_rate_reads_back(tmp_path):
    # an image folder has no fps: detect leaves time_s empty; the reader keeps the rows, time None
    frames = [Detections([[10, 20, 30, 60]], [0.9], [2], frame=0), Detections(frame=1),
              Detections([[12, 20, 32, 60]], [0.8], [0], [4], frame=2)]
    _write(tmp_path, frames)
    back = list(read_long_csv(tmp_path / "det.csv"))
    assert [d.frame for d in back] == [0, 1, 2] and all(d.time is None for d in back)
    assert back[0].class_ids.tolist() == [2] and back[2].track_ids.tolist() == [4]
    np.testing.assert_allclose(back[2].xyxy, [[12, 20, 32, 60]])
    assert list(read_long_csv(tmp_path / "det.csv", fps=10.0))[2].time == pytest.approx(0.2)
