"""heatcore.cameras in Python form (no cluster, no CLI): per-camera results over many inputs equal
per-file single runs merged, the files written, and the one-line validation errors."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from heatcore import cameras
from heatcore.detect import detector_from_options, detector_options
from heatcore.floorplan import FloorplanAccumulator
from heatcore.grid import GridCounter
from heatcore.homography import Homography
from heatcore.io.detections import open_detections

W, H = 200, 120
T0 = 1616678735  # Unix seconds of the first file (Kerberos names: start time and camera)


def _name(cam: str, k: int) -> str:
    return f"{T0 + 100 * k}_6-967003_{cam}_0-0-200-120_24_769.csv"


def _long_csv(path: Path, seed: int, frames: int = 12) -> Path:
    """A long CSV (frame,left,top,right,bottom,score,class_id) of random boxes, 0..3 per frame."""
    rng = np.random.default_rng(seed)
    lines = ["frame,left,top,right,bottom,score,class_id"]
    for f in range(frames):
        for _ in range(int(rng.integers(0, 4))):
            x, y = rng.uniform(0, W - 30), rng.uniform(0, H - 40)
            lines.append(f"{f},{x:.1f},{y:.1f},{x + 20:.1f},{y + 35:.1f},0.9,0")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture()
def two_cams(tmp_path) -> Path:
    """cam1: two files, cam2: one file (camera = folder name)."""
    root = tmp_path / "in"
    _long_csv(root / "cam1" / _name("cam1", 0), 1)
    _long_csv(root / "cam1" / _name("cam1", 1), 2)
    _long_csv(root / "cam2" / _name("cam2", 0), 3)
    return root


def _alone(paths, acc):
    """Every record of each file, in order, into a fresh copy of ``acc`` per file; merged."""
    total = None
    for p in paths:
        one = type(acc).from_state(acc.state())
        records, _, _ = open_detections(p, fps=10.0)
        for d in records:
            d.source = str(p)
            one.update(d)
        total = one if total is None else total.merge(one)
    return total


def test_grid_cameras_equal_per_file_runs_and_write_per_camera(two_cams, tmp_path, capsys):
    out = tmp_path / "out"
    res = cameras.grid_cameras(str(two_cams / "*" / "*.csv"), out, image_size="200x120", grid=(10, 6),
                               mode="point", fps=10.0)
    assert capsys.readouterr().out == ""  # the library never prints
    assert sorted(res.cameras) == ["cam1", "cam2"] and res.errors == []
    for cam, files in (("cam1", [_name("cam1", 0), _name("cam1", 1)]), ("cam2", [_name("cam2", 0)])):
        want = _alone([two_cams / cam / f for f in files], GridCounter((W, H), (10, 6), mode="point"))
        c = res.cameras[cam]
        assert c.files == len(files) and c.result is c.total
        np.testing.assert_array_equal(c.total.result64(), want.result64())
        assert want.result64().sum() > 0
        np.testing.assert_array_equal(GridCounter.load(out / f"{cam}.npz").result64(), want.result64())
        assert c.picture == out / f"{cam}.png" and c.picture.stat().st_size > 0
    assert set(res.paths()) == {out / f"{c}.{e}" for c in ("cam1", "cam2") for e in ("png", "npz")}
    # the same with the size as a (W, H) tuple and the grid as a string
    again = cameras.grid_cameras([str(two_cams / "cam2")], tmp_path / "o2", image_size=(W, H), grid="10x6",
                                 mode="point", fps=10.0)
    np.testing.assert_array_equal(again.results["cam2"].result64(), res.results["cam2"].result64())


def test_floorplan_cameras_per_camera_homographies_and_combined(two_cams, tmp_path):
    h1 = Homography(np.array([[0.5, 0.0, 3.0], [0.0, 0.5, 1.0], [0.0, 0.0, 1.0]]))
    h2 = Homography(np.array([[0.4, 0.0, 20.0], [0.0, 0.4, 5.0], [0.0, 0.0, 1.0]]))
    h1.save(tmp_path / "h1.json")
    h2.save(tmp_path / "h2.json")
    man = tmp_path / "cams.csv"
    man.write_text("camera,path,homography\n" + "".join(
        f"{c},{two_cams / c / f},{h}\n" for c, f, h in
        (("cam1", _name("cam1", 0), "h1.json"), ("cam1", _name("cam1", 1), "h1.json"),
         ("cam2", _name("cam2", 0), "h2.json"))))
    out = tmp_path / "plan"
    res = cameras.floorplan_cameras(man, out, plan_size=(120, 80), mode="dwell", seconds_per_obs=0.1, cell=10.0,
                                    fps=10.0, slicing="1h")
    for cam, h, files in (("cam1", h1, [_name("cam1", 0), _name("cam1", 1)]), ("cam2", h2, [_name("cam2", 0)])):
        want = _alone([two_cams / cam / f for f in files],
                      FloorplanAccumulator((120, 80), h, seconds_per_obs=0.1, cell=10.0))
        np.testing.assert_array_equal(res.cameras[cam].total.dwell(), want.dwell())
        assert res.cameras[cam].total.counts == want.counts and want.counts["on_plan"] > 0
    from heatcore.report import load_run

    run = load_run(res.cameras["cam2"].folder)  # report folder: sliced states + the camera's homography
    assert run["heat"].keys() == [T0 // 3600]
    assert Homography.load(out / "cam2" / "homography.json").matrix.tolist() == h2.matrix.tolist()
    every = res.combined
    np.testing.assert_array_equal(every.dwell(), res.cameras["cam1"].total.dwell() + res.cameras["cam2"].total.dwell())
    assert res.combined_paths == [out / "all.npz", out / "all.png"]
    assert all(p.exists() for p in res.paths()) and out / "cam1" in res.paths()
    with pytest.raises(ValueError, match="no homography for camera"):
        cameras.floorplan_cameras(str(two_cams), tmp_path / "x", plan_size="120x80", seconds_per_obs=0.1)


def test_merge_plans_refuses_different_plans():
    h = Homography(np.eye(3))
    a = FloorplanAccumulator((100, 80), h, seconds_per_obs=0.1)
    b = FloorplanAccumulator((100, 80), h, seconds_per_obs=0.2)
    with pytest.raises(ValueError, match="differ in more than the homography"):
        cameras.merge_plans([a, b])
    assert cameras.merge_plans([a, a]).config()["homography"] is None


@pytest.mark.parametrize("call, msg", [
    (lambda i, o: cameras.grid_cameras(i, o, image_size=(W, H), window=30), "--window 30"),
    (lambda i, o: cameras.grid_cameras(i, o, image_size=(W, H), fps=0.0), "--fps must be a frame rate > 0"),
    (lambda i, o: cameras.grid_cameras(i, o / "x.png", image_size=(W, H)), "give an output folder"),
    (lambda i, o: cameras.grid_cameras(i, None, image_size=(W, H)), "need -o FOLDER"),
    (lambda i, o: cameras.grid_cameras(i, o, workers=2, scheduler="tcp://127.0.0.1:1"), "not both"),
    (lambda i, o: cameras.grid_cameras(i, o, split_frames=0), "--split-frames must be >= 1"),
    (lambda i, o: cameras.floorplan_cameras(i, o, plan_size=(9, 9), stride=0), "--stride must be >= 1"),
    (lambda i, o: cameras.floorplan_cameras(i, o, plan_size=(9, 9), seconds_per_obs=-1), "--seconds-per-obs"),
    (lambda i, o: cameras.floorplan_cameras(i, o), "--plan image or --plan-size"),
    (lambda i, o: cameras.floorplan_cameras(i, o, plan_size=(9, 9), mode="heat"), "mode must be"),
    (lambda i, o: cameras.detect_cameras(i, o, stride=0), "--stride must be >= 1"),
    (lambda i, o: cameras.detect_cameras(i, o, max_disappeared=-1), "--max-disappeared"),
])
def test_bad_values_name_the_flag(two_cams, tmp_path, call, msg):
    with pytest.raises(ValueError, match=msg.replace("(", r"\(")):
        call(str(two_cams), tmp_path / "out")
    assert not (tmp_path / "out").exists()  # refused before any work


def test_detector_options_is_the_spec_detector_from_options_builds():
    name, kw = detector_options(None, hog_width=320, min_score=0.4)
    assert (name, kw) == ("hog", {"resize_width": 320, "person_height": None, "min_score": 0.4})
    assert pickle.loads(pickle.dumps((name, kw))) == (name, kw)
    det, built = detector_from_options(None, hog_width=320, min_score=0.4)
    assert built == "hog" and type(det).__name__ == "HOGDetector"
    assert detector_options("person", model_dir="m", input_size="320x240") == (
        "person", {"model_dir": "m", "input_size": (320, 240)})
    with pytest.raises(ValueError, match="--hog-width/--person-height apply to --detector hog"):
        detector_options("person", person_height=50)
    with pytest.raises(ValueError, match="--min-score"):
        detector_options("hog", min_score=2.0)


def test_motion_cameras_equal_single_runs_and_report_folders(tmp_path):
    from heatcore import render
    from heatcore._synthetic import write_synthetic_video
    from heatcore.motion import motion_heatmap
    from heatcore.report import load_run

    for k, cam in enumerate(("camA", "camB")):
        (tmp_path / "in" / cam).mkdir(parents=True)
        write_synthetic_video(tmp_path / "in" / cam / f"{T0}_6-967003_{cam}_0-0-64-48_24_769.avi", 64, 48, 8, seed=k)
    ref = tmp_path / "empty.png"
    render.save_image(ref, np.full((48, 64, 3), 90, np.uint8), order="bgr")
    out = tmp_path / "out"
    res = cameras.motion_cameras([str(tmp_path / "in" / "*" / "*.avi")], out, "diff", reference=ref, threshold=20,
                                 slicing="1h")
    assert sorted(res.cameras) == ["camA", "camB"]
    for cam, c in res.cameras.items():
        want = motion_heatmap(str(next((tmp_path / "in" / cam).glob("*.avi"))), "diff", reference=ref, threshold=20,
                              quiet=True)
        assert c.total.frames == want.frames == 8
        np.testing.assert_array_equal(c.total.result(), want.result())
        assert want.result().sum() > 0
        assert c.folder == out / cam and (c.folder / "background.png").is_file()
        sliced = load_run(c.folder)["heat"]
        assert sliced.keys() == [T0 // 3600]  # one 1-hour slice (hours since the epoch)
        np.testing.assert_array_equal(sliced.merged().result(), want.result())
