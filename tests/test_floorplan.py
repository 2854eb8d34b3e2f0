"""Floor-plan pipeline: anchors -> homography -> plan, CSV writers read back, heatmaps, CLI."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

import heatcore
from heatcore import Homography, floorplan_heatmap
from heatcore.cli import main
from heatcore.commands.floorplan import synthetic_scene
from heatcore.detect import Detections
from heatcore.floorplan import (AitriosCSVWriter, DetectionCSVWriter, PlanPoints, detections_to_plan,
                                read_detections, read_points_csv, video_to_plan, write_points_csv)
from heatcore.io.detections import AitriosCSV
from heatcore.track import Tracker

SRC = np.array([[40, 460], [600, 460], [470, 140], [170, 140]], float)
DST = np.array([[0, 300], [400, 300], [400, 0], [0, 0]], float)


def _frames():
    d0 = Detections([[10, 20, 30, 60], [100, 100, 120, 200]], [0.9, 0.5], [0, 0])
    d1 = Detections([[12, 20, 32, 60]], [0.8], [0])
    return [(0, 0.0, d0), (5, 0.2, d1), (10, 0.4, Detections.empty())]


def test_detections_to_plan_bottom_centre_through_homography():
    h = Homography.from_points(SRC, DST)
    pts = detections_to_plan(_frames(), h, seconds_per_obs=0.2, tracker=Tracker())
    feet = np.array([[20, 60], [110, 200], [22, 60]], float)  # bottom centres, by hand
    np.testing.assert_allclose(pts.xy, cv2.perspectiveTransform(feet.reshape(-1, 1, 2), h.matrix).reshape(-1, 2),
                               rtol=1e-9, atol=1e-9)
    assert pts.frame.tolist() == [0, 0, 5] and pts.track.tolist() == [0, 1, 0]
    np.testing.assert_allclose(pts.time_s, [0, 0, 0.2])
    untracked = [(f, t, Detections(d.xyxy, d.scores, d.class_ids, np.full(len(d), -1))) for f, t, d in _frames()]
    assert detections_to_plan(untracked, h, tracker=Tracker()).track.tolist() == [0, 1, 0]
    centre = detections_to_plan(_frames(), None, anchor="center")
    np.testing.assert_allclose(centre.xy[0], [20, 40])
    assert centre.track.tolist() == [-1, -1, -1]


def test_points_csv_round_trip(tmp_path):
    h = Homography.from_points(SRC, DST)
    pts = detections_to_plan(_frames(), h, seconds_per_obs=0.2, tracker=Tracker())
    pts.x[1] = np.nan  # behind the horizon -> empty cells
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
    with DetectionCSVWriter(tmp_path / "det.csv") as w, AitriosCSVWriter(tmp_path / "ait.csv") as a:
        for f, t, d in frames:
            d.track_ids = np.arange(len(d))
            w.write(f, t, d)
            a.write(d)
    back = list(read_detections(tmp_path / "det.csv"))
    assert [f for f, _, _ in back] == [0, 5]  # frames without boxes have no lines
    np.testing.assert_allclose(back[0][2].xyxy, frames[0][2].xyxy)
    assert back[0][2].track_ids.tolist() == [0, 1]
    raw = (tmp_path / "ait.csv").read_bytes()
    assert raw.startswith(b"0,1,2,3,4,5,6,7,8,9\r\n1"[:21]) and raw.count(b"\r\n") == 4
    assert b'"{""perception"": {""object_detection_list"": [{""class_id"": 0, ""bounding_box"": {""left"": 10' in raw
    got = list(AitriosCSV(tmp_path / "ait.csv"))
    assert len(got) == 3
    np.testing.assert_array_equal(got[0].boxes, [[10, 20, 30, 60], [100, 100, 120, 200]])
    np.testing.assert_allclose(got[0].scores, [0.9, 0.5])
    assert len(got[2]) == 0
    via = list(read_detections(tmp_path / "ait.csv", fps=10))
    assert [t for _, t, _ in via] == [0.0, 0.1, 0.2]
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a detections CSV"):
        list(read_detections(other))


def test_aitrios_csv_feeds_heatcore_grid(tmp_path):
    with AitriosCSVWriter(tmp_path / "ait.csv") as a:
        for _, _, d in _frames():
            a.write(d)
    rc = main(["grid", str(tmp_path / "ait.csv"), "--image-size", "640x480", "--grid", "8x6", "--no-video",
               "--quiet", "-o", str(tmp_path / "g")])
    assert rc == 0
    lines = (tmp_path / "g" / "grids.jsonl").read_text().splitlines()
    assert len(lines) == 3 and json.loads(lines[0])["number_of_detects"] == 2


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


def test_synthetic_scene_pipeline_recovers_plan_positions():
    frame, plan, h, frames = synthetic_scene(seconds=6.0, fps=5.0)
    pts = detections_to_plan(frames, h, seconds_per_obs=0.2, tracker=Tracker(max_disappeared=3))
    ok = np.isfinite(pts.x)
    assert ok.all() and pts.behind == 0
    assert ((pts.x > -10) & (pts.x < 410) & (pts.y > -10) & (pts.y < 310)).all()
    # the parked trolley is at plan (330, 120) and keeps one track id
    near = np.hypot(pts.x - 330, pts.y - 120) < 8
    assert near.sum() >= len(frames) - 1 and len(set(pts.track[near].tolist())) == 1
    sup = detections_to_plan(frames, h, seconds_per_obs=0.2, tracker=Tracker(max_disappeared=3),
                             stationary=(6.0, 3.0))
    near = np.hypot(sup.x - 330, sup.y - 120) < 8
    assert not sup.active[near][-5:].any() and sup.active[near][:10].all()


def test_video_to_plan_on_campus(tmp_path, campus_video):
    h = Homography.from_points([[0, 360], [480, 360], [400, 100], [80, 100]], [[0, 200], [300, 200], [300, 0], [0, 0]])

    def walker(frame):
        return np.array([[200, 150, 240, 300, 0.9]])

    pts = video_to_plan(campus_video, h, walker, stride=25, fps=25.0, detections_csv=tmp_path / "d.csv",
                        aitrios_csv=tmp_path / "a.csv")
    assert pts.frame.tolist() == [0, 25, 50, 75] * 0 + list(range(0, 795, 25))
    assert pts.seconds_per_obs == pytest.approx(1.0) and set(pts.track.tolist()) == {0}
    np.testing.assert_allclose(pts.xy[0], h.apply([220, 300]))
    assert len(list(AitriosCSV(tmp_path / "a.csv"))) == len(pts)
    assert len(list(read_detections(tmp_path / "d.csv"))) == len(pts)


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
    # detections CSV from the synthetic scene, then floorplan
    with DetectionCSVWriter(tmp_path / "det.csv") as w:
        for f, t, d in frames:
            w.write(f, t, d)
    for extra in ([], ["--dwell", "--stationary", "6,2"], ["--visitors", "--track"]):
        out = tmp_path / f"heat{len(extra)}.png"
        assert main(["floorplan", str(tmp_path / "det.csv"), "--homography", str(tmp_path / "H.json"), "--plan",
                     str(tmp_path / "plan.png"), "-o", str(out), "--quiet", "--vmax", "3",
                     "--points-csv", str(tmp_path / "pts.csv")] + extra) == 0
        assert cv2.imread(str(out)).std() > 5
    assert len(read_points_csv(tmp_path / "pts.csv")) > 10
    # detect on the campus clip with HOG, then feed its AITRIOS CSV to heatcore grid
    assert main(["detect", str(campus_video), "-o", str(tmp_path / "c.csv"), "--stride", "200", "--track",
                 "--hog-width", "720", "--aitrios-csv", str(tmp_path / "c_ait.csv"), "--quiet"]) == 0
    assert (tmp_path / "c.csv").read_text().startswith("frame,time_s,track,left,top,right,bottom,score,class_id")
    assert len(list(AitriosCSV(tmp_path / "c_ait.csv"))) == 4


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


def test_time_step_guess_ignores_gaps():
    from heatcore.floorplan import _guess_dt

    assert _guess_dt(None, np.array([0, 0, 0.2, 0.6, 0.8, 1.6])) == pytest.approx(0.2)
    assert _guess_dt(None, np.array([3.0])) == 1.0


def test_detect_resume_after_interrupt_matches_full_run(tmp_path, campus_video, monkeypatch):
    import heatcore.detect as hd

    common = ["--stride", "80", "--track", "--checkpoint-every", "3", "--quiet", "--hog-width", "600"]
    full = tmp_path / "full"
    assert main(["detect", str(campus_video), "-o", str(full / "d.csv"), "--aitrios-csv", str(full / "a.csv")]
                + common) == 0
    part = tmp_path / "part"
    args = ["detect", str(campus_video), "-o", str(part / "d.csv"), "--aitrios-csv", str(part / "a.csv")] + common
    real = hd.detect_video

    def interrupted(*a, **k):
        for n, item in enumerate(real(*a, **k)):
            if n == 7:  # after frames 0..6: resume point at 6 processed frames, one frame beyond it lost
                raise KeyboardInterrupt
            yield item

    monkeypatch.setattr(hd, "detect_video", interrupted)
    assert main(args) == 130
    monkeypatch.setattr(hd, "detect_video", real)
    assert main(args + ["--resume"]) == 0
    assert (part / "d.csv").read_bytes() == (full / "d.csv").read_bytes()
    assert (part / "a.csv").read_bytes() == (full / "a.csv").read_bytes()
    assert main(args + ["--resume"]) == 0  # complete: nothing to do
    other = ["detect", str(campus_video), "-o", str(part / "d.csv"), "--stride", "40", "--resume", "--quiet"]
    assert main(other) == 2  # the resume point belongs to another run
