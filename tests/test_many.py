"""Grid counts, floor plans and detections over many inputs, on a real Dask LocalCluster
(2 processes on 127.0.0.1, one cluster for the module)."""

from __future__ import annotations

import csv
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from heatcore import distributed
from heatcore._synthetic import synthetic_frames, synthetic_people
from heatcore.floorplan import FloorplanAccumulator
from heatcore.grid import GridCounter
from heatcore.homography import Homography
from heatcore.inputs import DETECTION_SUFFIXES, by_camera, expand_inputs
from heatcore.io.detections import DETECTIONS_HEADER, detections_csv_rows, write_meta
from heatcore.many import CountTask, DetectTask
from heatcore.pipeline import Job, run

from helpers import _csv, _obj, _row

pytest.importorskip("distributed")  # the client fixture (conftest) runs a real LocalCluster

T0 = 1616678735  # Unix seconds of the first segment (Kerberos names)
W, H = 640, 360
FPS = 10.0


def _write_detect_csv(path: Path, recs, fps: float = FPS) -> Path:
    """A `heatcore detect` CSV (+ .meta.json) of synthetic people."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(DETECTIONS_HEADER)
        for r in recs:
            r.time = r.frame / fps
            for row in detections_csv_rows(r):
                w.writerow(row)
    write_meta(path, {"format": "heatcore-detections", "fps": fps, "stride": 1, "frame_size": [W, H]})
    return path


@pytest.fixture(scope="module")
def dets(tmp_path_factory) -> Path:
    """Two cameras: cam1 has two `heatcore detect` CSVs (Kerberos names, 100 s apart), cam2 one
    detect CSV and one AITRIOS CSV (frame numbers 0, 1, ...; fps from --fps)."""
    root = tmp_path_factory.mktemp("dets")
    for ci, cam in enumerate(("cam1", "cam2")):
        d = root / cam
        d.mkdir()
        for k in range(2):
            name = f"{T0 + 100 * k}_6-967003_{cam}_0-0-640-360_24_769.csv"
            recs = synthetic_people(40, (W, H), people=6, seed=10 * ci + k)
            if cam == "cam2" and k == 1:
                cells = [_row([_obj(*[int(v) for v in b], s=float(s)) for b, s in zip(r.xyxy, r.scores)])
                         for r in recs]
                _csv(d / name, cells)
            else:
                _write_detect_csv(d / name, recs)
    return root


def _alone(path: Path, acc, fps: float | None = None):
    """The reference: every record of one file counted in order (as `heatcore grid file.csv` counts
    it). Track ids restart in every file, so records carry their file as the source: the same id in
    two files is two people."""
    from heatcore.io.detections import open_detections

    records, _, _ = open_detections(path, fps=fps)
    for d in records:
        d.source = f"{path.parent.name}:{path.stem}"
        acc.update(d)
    return acc


def _grid() -> GridCounter:
    return GridCounter((W, H), (32, 18), spread=1, mode="point")


def _plan() -> FloorplanAccumulator:
    h = Homography(np.array([[0.5, 0.0, 3.0], [0.0, 0.5, 1.0], [0.0, 0.0, 1.0]]))
    return FloorplanAccumulator((330, 190), h, seconds_per_obs=0.1, cell=20.0, bandwidth=6.0, track=True)


def test_grid_and_floorplan_over_partitions_equal_each_file_alone(client, dets):
    segs = expand_inputs(str(dets / "*" / "*.csv"), suffixes=DETECTION_SUFFIXES)
    assert [s.start_wall for s in by_camera(segs)["cam1"]] == [T0, T0 + 100.0]
    for make in (_grid, _plan):
        got = distributed.run_partitions(segs, CountTask(make(), fps=FPS), executor=client)
        assert sorted(got) == ["cam1", "cam2"]
        for cam, cs in by_camera(segs).items():
            want = distributed.merge_all(_alone(s.path, make(), fps=FPS) for s in cs)
            if make is _grid:
                assert got[cam].frames == want.frames == 80
                np.testing.assert_array_equal(got[cam].result64(), want.result64())
                assert want.result64().sum() > 0
            else:
                assert got[cam].counts == want.counts and want.counts["on_plan"] > 0
                np.testing.assert_array_equal(got[cam].result(), want.result())
                np.testing.assert_array_equal(got[cam].dwell(), want.dwell())
                np.testing.assert_array_equal(got[cam].visitors(), want.visitors())



def test_worker_killed_mid_floorplan_partition_is_rerun(client, dets):
    """SIGKILL a worker while it counts a floor-plan partition: Dask reruns it (the task reaches
    the cluster as a task result, recomputed when lost) and the totals equal an undisturbed run."""
    import os
    import signal
    import threading

    segs = expand_inputs(str(dets / "*" / "*.csv"), suffixes=DETECTION_SUFFIXES)
    want = distributed.run_partitions(segs, CountTask(_plan(), fps=FPS))
    client.wait_for_workers(2, timeout=60)
    pids = client.run(os.getpid)  # {address: pid}: both workers up and answering
    addr, pid = sorted(pids.items())[0]
    killed = []

    def kill_when_busy():  # only once that worker runs a partition (never a worker still starting)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not client.processing([addr]).get(addr):
            time.sleep(0.05)
        time.sleep(0.3)
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    got: dict = {}

    def job():
        got.update(distributed.run_partitions(segs, CountTask(_plan(), fps=FPS, throttle=1.0), executor=client))

    t = threading.Thread(target=kill_when_busy)
    j = threading.Thread(target=job, daemon=True)
    t.start()
    j.start()
    j.join(180)  # a hang fails the test with what the scheduler saw, instead of stalling the suite
    t.join()
    assert not j.is_alive(), f"no result 180 s after the kill; scheduler: {client.processing()}"
    assert killed and sorted(got) == sorted(want) == ["cam1", "cam2"]
    for cam in want:
        assert got[cam].counts == want[cam].counts
        np.testing.assert_array_equal(got[cam].result(), want[cam].result())
        np.testing.assert_array_equal(got[cam].dwell(), want[cam].dwell())
    client.wait_for_workers(2, timeout=60)
    assert len(client.run(os.getpid)) == 2  # the restarted worker answers before the next test uses it


def test_grid_slices_keyed_by_wall_clock_from_names(client, dets, tmp_path):
    from heatcore.cli import main
    from heatcore.report import load_run

    out = tmp_path / "out"
    assert main(["grid", str(dets / "cam1" / "*.csv"), "--image-size", f"{W}x{H}", "--grid", "32x18",
                 "--mode", "point", "--slice", "1min", "-o", str(out), "--quiet", "--scheduler",
                 client.scheduler.address]) == 0
    sliced = load_run(out / "cam1")["heat"]
    # 40 frames at 10 fps = 4 s from T0 (minute 26944645, 13:25:35 UTC) and from T0 + 100 s (13:27:15)
    assert sliced.keys() == [T0 // 60, (T0 + 100) // 60]
    assert sliced.labels() == ["2021-03-25 13:25", "2021-03-25 13:27"]
    segs = expand_inputs(str(dets / "cam1" / "*.csv"), suffixes=DETECTION_SUFFIXES)
    for key, s in zip(sliced.keys(), segs):
        np.testing.assert_array_equal(sliced[key].result64(), _alone(s.path, _grid()).result64())
    total = GridCounter.load(out / "cam1.npz")
    np.testing.assert_array_equal(total.result64(), sliced.merged().result64())
    assert (out / "cam1.png").stat().st_size > 0
    k1, k2 = sliced.keys()  # heatcore compare reads the per-camera sliced state: 4 s of footage per slice
    assert main(["compare", str(out / "cam1" / "sliced.npz"), "--a", str(k1), "--b", str(k2), "-o",
                 str(tmp_path / "cmp.png")]) == 0
    assert sliced.seconds([k1]) == pytest.approx(4.0) and (tmp_path / "cmp.png").stat().st_size > 0


def test_floorplan_cli_per_camera_homographies_and_all(client, dets, tmp_path):
    from heatcore.cli import main

    h1 = Homography(np.array([[0.5, 0.0, 3.0], [0.0, 0.5, 1.0], [0.0, 0.0, 1.0]]))
    h2 = Homography(np.array([[0.4, 0.0, 20.0], [0.0, 0.4, 5.0], [0.0, 0.0, 1.0]]))
    h1.save(tmp_path / "h1.json")
    h2.save(tmp_path / "h2.json")
    man = tmp_path / "cams.csv"
    rows = ["camera,path,homography"]
    for s in expand_inputs(str(dets / "*" / "*.csv"), suffixes=DETECTION_SUFFIXES):
        rows.append(f"{s.camera},{s.path},{'h1.json' if s.camera == 'cam1' else 'h2.json'}")
    man.write_text("\n".join(rows) + "\n")
    out = tmp_path / "plan"
    assert main(["floorplan", str(man), "--plan-size", "330x190", "--dwell", "--fps", "10", "-o", str(out), "--quiet",
                 "--workers", "2"]) == 0
    per = {c: FloorplanAccumulator.load(out / f"{c}.npz") for c in ("cam1", "cam2")}
    for cam, h in (("cam1", h1), ("cam2", h2)):
        want = distributed.merge_all(
            _alone(s.path, FloorplanAccumulator((330, 190), h, seconds_per_obs=0.1), fps=FPS)
            for s in expand_inputs(str(dets / cam / "*.csv"), suffixes=DETECTION_SUFFIXES))
        np.testing.assert_array_equal(per[cam].dwell(), want.dwell())
        assert per[cam].counts == want.counts
    every = FloorplanAccumulator.load(out / "all.npz")
    np.testing.assert_array_equal(every.dwell(), per["cam1"].dwell() + per["cam2"].dwell())
    assert every.counts["detections"] == per["cam1"].counts["detections"] + per["cam2"].counts["detections"]
    assert (out / "all.png").stat().st_size > 0 and (out / "cam2.png").stat().st_size > 0


def test_rerun_skips_finished_partitions_and_corrupt_file_is_reported(client, dets, tmp_path, capsys):
    from heatcore.cli import main

    bad = tmp_path / "cam3" / f"{T0}_6-967003_cam3_0-0-640-360_24_769.csv"
    bad.parent.mkdir()
    bad.write_text("frame,left,top,right,bottom\n0,1,2,zz,4\n")
    out = tmp_path / "out"
    args = ["grid", str(dets / "*" / "*.csv"), str(bad), "--image-size", f"{W}x{H}", "--fps", "10", "-o", str(out),
            "--quiet", "--scheduler", client.scheduler.address]
    assert main(args) == 2  # a corrupt file fails the job by default
    assert "zz" in capsys.readouterr().err.splitlines()[-1]
    with warnings.catch_warnings():
        warnings.simplefilter("always")  # the CLI prints warnings as one line
        assert main([*args, "--on-error", "skip"]) == 0
    cap = capsys.readouterr()
    assert f"skipped {bad}: ValueError" in cap.out and "heatcore: warning: 1 file(s) skipped" in cap.err
    man = json.loads((out / "partitions.json").read_text())
    assert [e[0] for e in man["errors"]] == [str(bad)] and "zz" in man["errors"][0][1]
    assert len(man["done"]) == 4 and not (out / "cam3.npz").exists()
    first = GridCounter.load(out / "cam2.npz").result64()
    stamps = {p.name: p.stat().st_mtime_ns for p in (out / "parts").glob("*.npz")}
    lost = sorted(man["done"])[0]
    del man["done"][lost]  # the client "crashed" before it recorded this partition
    (out / "partitions.json").write_text(json.dumps(man))
    time.sleep(0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert main([*args, "--on-error", "skip"]) == 0
    rerun = {p.name for p in (out / "parts").glob("*.npz") if p.stat().st_mtime_ns != stamps[p.name]}
    assert rerun == {f"{lost}.npz"}
    np.testing.assert_array_equal(GridCounter.load(out / "cam2.npz").result64(), first)


def test_raw_video_grid_and_detect_csvs_equal_single_runs(client, campus_video, tmp_path):
    """People detected (SSDLite person model) in the same pass: frame-range partitions of two camera files give the
    grid of one run per file; `heatcore detect` over many inputs writes the single-run CSVs."""
    from heatcore.cli import main
    from heatcore.jobs import DetectStage
    from heatcore.sources import VideoSource

    from heatcore.detect import make_detector
    from heatcore.many import detector_spec

    model = campus_video.parent / "models" / "ssdlite_person"
    if not (model / "frozen_inference_graph.pb").is_file():
        pytest.skip(f"the shared person model {model} is not present")
    for cam in ("camA", "camB"):
        (tmp_path / "in" / cam).mkdir(parents=True)
        (tmp_path / "in" / cam / f"{T0}_6-967003_{cam}_0-0-480-360_24_769.avi").symlink_to(campus_video)
    segs = expand_inputs(str(tmp_path / "in" / "*" / "*.avi"))
    stride = 53
    spec = detector_spec("person", model_dir=str(model))
    got = distributed.run_partitions(segs, CountTask(GridCounter((480, 360), (24, 18)), stride=stride, detector=spec),
                                     executor=client, split_frames=300, stride=stride)
    alone = run(Job(source=VideoSource(campus_video, stride=stride),
                    stages=[DetectStage(make_detector("person", model_dir=str(model)))],
                    accumulators={"g": GridCounter((480, 360), (24, 18))}))["g"]
    assert alone.result64().sum() > 0
    for cam in ("camA", "camB"):
        assert got[cam].frames == alone.frames == len(range(0, 795, stride))
        np.testing.assert_array_equal(got[cam].result64(), alone.result64())

    out = tmp_path / "det"
    name = f"{T0}_6-967003_camA_0-0-480-360_24_769"
    det = ["--model-dir", str(model), "--stride", "106", "--track", "--quiet"]
    assert main(["detect", str(tmp_path / "in"), "-o", str(out), "--scheduler", client.scheduler.address, *det]) == 0
    assert main(["detect", str(tmp_path / "in" / "camA" / f"{name}.avi"), "-o", str(tmp_path / "one.csv"), *det]) == 0
    one = (tmp_path / "one.csv").read_text()
    assert one.count("\n") > 2
    meta = json.loads((tmp_path / "one.csv.meta.json").read_text())
    for cam in ("camA", "camB"):
        stem = name.replace("camA", cam)
        assert (out / cam / f"{stem}.csv").read_text() == one
        m = json.loads((out / cam / f"{stem}.csv.meta.json").read_text())
        assert {k: v for k, v in m.items() if k != "source"} == {k: v for k, v in meta.items() if k != "source"}


def test_detect_task_python_form(tmp_path):
    """DetectTask without a cluster: one CSV per file, summaries merged per camera."""
    from heatcore._synthetic import write_synthetic_video

    for k in range(2):
        (tmp_path / "cam9").mkdir(exist_ok=True)
        write_synthetic_video(tmp_path / "cam9" / f"{T0 + k}_6-967003_cam9_0-0-96-64_24_769.avi", 96, 64, 6, seed=k)
    segs = expand_inputs(str(tmp_path / "cam9"))
    res = distributed.run_partitions(segs, DetectTask(tmp_path / "out", detector="hog", stride=2), split_frames=2)
    assert res["cam9"].files == 2 and res["cam9"].frames == 6  # never split: one CSV (and its tracks) per file
    assert sorted(p.name for p in (tmp_path / "out" / "cam9").glob("*.csv")) == [f"{s.path.stem}.csv" for s in segs]



def test_detect_keeps_a_manifests_start_time(tmp_path):
    """A manifest's start time (not in the file name) reaches the CSV's .meta.json and its rows' wall clock."""
    from heatcore._synthetic import write_synthetic_video
    from heatcore.io.detections import read_meta

    clip = write_synthetic_video(tmp_path / "plain.avi", 96, 64, 4, fps=10.0, seed=1)
    (tmp_path / "m.csv").write_text(f"camera,path,start\ncamQ,{clip.name},2026-11-30T10:00:00Z\n")
    segs = expand_inputs(str(tmp_path / "m.csv"))
    distributed.run_partitions(segs, DetectTask(tmp_path / "out", detector="hog", stride=2))
    meta = read_meta(tmp_path / "out" / "camQ" / "plain.csv")
    assert meta["start"] == 1796032800.0  # 2026-11-30T10:00:00Z in Unix seconds

def _contiguous_segments(root: Path, n: int = 80, fps: float = 20.0) -> tuple[list[Path], np.ndarray]:
    """One synthetic scene cut into two files that follow each other without a gap (names 2 s
    apart = 40 frames at 20 fps); returns the files and the frames."""
    from heatcore import render

    frames = np.stack(list(synthetic_frames(96, 64, n, seed=3)))
    files = []
    (root / "camX").mkdir(parents=True)
    for k in range(2):
        p = root / "camX" / f"{T0 + 2 * k}_6-967003_camX_0-0-96-64_24_769.avi"
        with render.VideoWriter(p, fps, (96, 64), fourcc="MJPG", order="bgr") as w:
            for f in frames[k * n // 2:(k + 1) * n // 2]:
                w.write(f)
        files.append(p)
    return files, frames


def test_mog_cross_file_warmup_approaches_one_uninterrupted_run(client, tmp_path):
    from heatcore.io.video import iter_frames
    from heatcore.motion import MotionHeatmap

    files, _ = _contiguous_segments(tmp_path)
    whole = MotionHeatmap("mog", history=10, threads=1)
    for f in files:  # the same decoded frames, one model over both files
        for _, img in iter_frames(f):
            whole.update(img)
    ref = whole.result().astype(np.float64)
    segs = expand_inputs(str(tmp_path / "camX" / "*.avi"))
    plan, _ = distributed.plan_partitions(segs, warmup=10, cross_warmup=None)
    assert plan[1].warm_files == ((str(files[0]), 30),) and plan[0].warm_files == ()
    # frame ranges: a partition whose warm-up reaches back before frame 0 takes the rest from the previous file
    plan, _ = distributed.plan_partitions(segs, warmup=60, split_frames=20, cross_warmup=None)
    assert [(p.start, p.warm_start, p.warm_files) for p in plan[2:]] == [
        (0, 0, ((str(files[0]), 0),)), (20, 0, ((str(files[0]), 0),))]  # 60 frames wanted, 40 in the file
    assert distributed.plan_partitions(segs, warmup=10, cross_warmup=False)[0][1].warm_files == ()

    def diff(cross: bool) -> tuple[float, float]:
        r = distributed.run_partitions(segs, "mog", executor=client, history=10, threads=1, cross_warmup=cross)["camX"]
        assert r.frames == 80
        r = r.result().astype(np.float64)
        return float(np.mean(r != ref)), float(np.abs(r - ref).sum() / ref.sum())

    cold, warm = diff(False), diff(True)
    print(f"\nMOG, 2 contiguous files, history 10: differing pixels / relative L1 vs one run — per file "
          f"{cold[0]:.4f} / {cold[1]:.4f}, cross-file warm-up {warm[0]:.4f} / {warm[1]:.4f}")
    assert cold[1] > 0.02
    assert warm[1] < cold[1] / 3 and warm[0] < cold[0] / 3


def test_motion_many_cli_slices(tmp_path):
    from heatcore.cli import main
    from heatcore.motion import MotionHeatmap
    from heatcore.report import load_run

    _contiguous_segments(tmp_path)
    out = tmp_path / "out"
    assert main(["motion", str(tmp_path / "camX" / "*.avi"), "--method", "diff", "--reference", "first", "--slice",
                 "1s", "-o", str(out), "--quiet"]) == 0
    sliced = load_run(out / "camX")["heat"]
    assert sliced.keys() == list(range(T0, T0 + 4))  # 4 s of footage at 20 fps, one slice per second
    total = MotionHeatmap.load(out / "camX.npz")
    assert total.frames == 80
    np.testing.assert_array_equal(total.result(), sliced.merged().result())


@pytest.mark.parametrize("argv, msg", [
    (["grid", "{d}/*/*.csv", "-o", "{t}/x.png", "--image-size", "640x360"], "output folder"),
    (["grid", "{d}/*/*.csv", "-o", "{t}/o", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "not both"),
    (["grid", "{d}/*/*.csv", "-o", "{t}/o", "--window", "30"], "window"),
    (["floorplan", "{d}/*/*.csv", "-o", "{t}/o", "--plan-size", "100x100"], "homography"),
    (["detect", "{d}/cam1/*.csv", "-o", "{t}/o"], "no video files"),
    (["detect", "{t}/*.avi", "-o", "{t}/o.csv", "--workers", "1"], "output folder"),
])
def test_cli_bad_combinations_are_one_line_errors(dets, tmp_path, capsys, argv, msg):
    from heatcore.cli import main

    assert main([a.format(d=dets, t=tmp_path) for a in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert msg in err and len(err.splitlines()) == 1
