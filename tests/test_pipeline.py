"""The one pipeline: time base, exact checkpoint/resume (also after SIGKILL), atomic outputs,
the accumulator protocol for every area, and the workflow failures of the "one pipeline" issue."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import heatcore as hc
from heatcore._synthetic import synthetic_frames, synthetic_people, synthetic_scene, write_synthetic_video
from heatcore.cli import main
from heatcore.floorplan import FloorplanAccumulator
from heatcore.io.detections import AitriosCSV
from heatcore.pipeline import CheckpointMismatch, IterSource, Job, read_checkpoint, run
from heatcore.records import Detections, TimeBase, as_detections
from heatcore.sinks import AitriosCSVSink, DetectionsCSVSink
from heatcore.sources import RecordsSource


def _long_csv(path: Path, frames: int, seed: int = 3) -> Path:
    rng = np.random.default_rng(seed)
    lines = ["frame,left,top,right,bottom,score,class_id"]
    for f in range(frames):
        for _ in range(int(rng.integers(0, 4))):
            x, y = rng.uniform(0, 560), rng.uniform(0, 380)
            lines.append(f"{f},{x:.1f},{y:.1f},{x + 60:.1f},{y + 90:.1f},{rng.uniform(0.2, 1):.3f},{rng.integers(0, 3)}")
    path.write_text("\n".join(lines) + "\n")
    return path


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "heatcore", *args]


def _kill_and_resume(args: list[str], ck: Path, rounds: int = 2, seed: int = 0) -> int:
    """Run ``heatcore args`` in a subprocess, SIGKILL it at a random point after its first
    checkpoint (``rounds`` times, each resuming the last), then let it finish. Returns how many
    runs were killed mid-way."""
    rnd = random.Random(seed)
    killed = 0
    for _ in range(rounds):
        before = ck.stat().st_mtime_ns if ck.exists() else None
        p = subprocess.Popen(_cli(*args), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t0 = time.time()
        while p.poll() is None and time.time() - t0 < 120:
            if ck.exists() and ck.stat().st_mtime_ns != before:
                time.sleep(rnd.uniform(0.0, 0.3))
                break
            time.sleep(0.005)
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            killed += 1
        p.wait()
    done = subprocess.run(_cli(*args), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return killed


# ---------------------------------------------------------------------------------------------
# records and time base
# ---------------------------------------------------------------------------------------------

def test_time_base_never_guesses_a_frame_rate():
    tb = TimeBase(fps=25.0, start=1_700_000_000.0, source="cam1")
    assert tb.seconds(50) == 2.0 and tb.wall(50) == 1_700_000_002.0
    with pytest.raises(ValueError, match="--fps"):
        TimeBase(source="cam2").seconds(3)
    assert TimeBase().wall(3) is None
    with pytest.raises(ValueError, match="fps"):
        TimeBase(fps=0)


def test_one_detection_type_normalises_everything():
    class Sv:  # supervision-like
        xyxy = np.array([[1, 2, 3, 4.0]])
        confidence = np.array([0.5])
        class_id = np.array([2])
        tracker_id = np.array([7])

    d = as_detections(Sv(), frame=12, time=0.48)
    assert d.frame == 12 and d.time == 0.48 and d.track_ids.tolist() == [7] and d.class_ids.tolist() == [2]
    a = as_detections(np.array([[0, 0, 1, 1, 0.9, 3]]), frame=1)
    assert a.scores.tolist() == [0.9] and a.class_ids.tolist() == [3] and a.track_ids is None
    assert len(as_detections(None, frame=4)) == 0
    with pytest.raises(ValueError, match="frame index"):
        Detections(frame=-1)
    with pytest.raises(ValueError, match="one entry per box"):
        Detections([[0, 0, 1, 1]], scores=[0.1, 0.2])


def test_file_names_give_wall_clock_start():
    from heatcore.io.timestamps import parse_aitrios_time, start_time_from_name

    assert start_time_from_name("1616678735_6-967003_cam1_200-200-400-400_24_769.mp4") == 1616678735.0
    assert start_time_from_name("cam1/2026-11-30/10-00-00.mp4") == 1796032800.0
    assert start_time_from_name("clip.mp4") is None
    assert parse_aitrios_time("20230412140050610") == pytest.approx(1681308050.61)
    assert parse_aitrios_time("../../x") is None


# ---------------------------------------------------------------------------------------------
# the accumulator protocol, for every area
# ---------------------------------------------------------------------------------------------

def _areas():
    people = synthetic_people(40, (640, 360), people=6, seed=2)
    for d in people:
        d.time = d.frame / 10.0
    _, _, H, scene = synthetic_scene(seconds=6.0, fps=5.0)
    frames = list(synthetic_frames(96, 64, 30, seed=4))
    pts = [np.random.default_rng(i).normal(40, 9, (50, 2)) for i in range(6)]
    return {
        "kde": (lambda: hc.KDEAccumulator((64, 96), 5.0), pts),
        "grid": (lambda: hc.GridCounter(image_size=(640, 360), grid=(16, 9), window=0, mode="point"), people),
        "floorplan": (lambda: FloorplanAccumulator((400, 300), H, seconds_per_obs=0.2, cell=20,
                                                   track={"max_disappeared": 3}), scene),
        "motion": (lambda: hc.MotionHeatmap("diff", reference=frames[0], blur=3), frames),
    }


@pytest.mark.parametrize("area", ["kde", "grid", "floorplan", "motion"])
def test_protocol_update_merge_save_load(area, tmp_path):
    make, records = _areas()[area]
    whole = make()
    for r in records:
        whole.update(r)
    half = len(records) // 2
    a, b = make(), make()
    for r in records[:half]:
        a.update(r)
    for r in records[half:]:
        b.update(r)
    if area != "floorplan":  # a tracker does not continue across a split
        a.merge(b)
        np.testing.assert_allclose(a.result(), whole.result(), rtol=1e-9, atol=1e-9)
    back = hc.load_state(whole.save(tmp_path / f"{area}.npz"))
    assert type(back) is type(whole)
    np.testing.assert_array_equal(back.result(), whole.result())
    # the state keeps its configuration once (inside the state), not twice
    with np.load(tmp_path / f"{area}.npz") as d:
        assert "__config__" not in d.files and str(d["__kind__"]) == whole.kind


@pytest.mark.parametrize("area", ["kde", "grid", "floorplan", "motion"])
def test_protocol_resume_through_the_pipeline_is_exact(area, tmp_path):
    make, records = _areas()[area]
    ck = tmp_path / "ck.npz"

    def job(stop_after=None):
        src = IterSource(lambda skip: iter(records[skip:]), fingerprint={"area": area}, total=len(records), batch=2)
        return Job(source=src, accumulators={"a": make()}, checkpoint=ck, checkpoint_every=3, stop_after=stop_after)

    full = run(Job(source=IterSource(lambda skip: iter(records[skip:]), batch=2), accumulators={"a": make()}))
    first = run(job(stop_after=len(records) // 2 + 1))
    assert 0 < first.records < len(records)
    resumed = run(job())
    assert resumed.resumed_at > 0
    np.testing.assert_array_equal(resumed["a"].result(), full["a"].result())


def test_accumulators_refuse_concurrent_use():
    acc = hc.GridCounter(image_size=(100, 100), grid=(4, 4))
    inside = threading.Event()
    release = threading.Event()
    real = acc._apply

    def slow(boxes, sign):
        inside.set()
        release.wait(5)
        return real(boxes, sign)

    acc._apply = slow  # type: ignore[method-assign]
    t = threading.Thread(target=acc.update, args=(np.array([[1, 1, 5, 5.0]]),))
    t.start()
    assert inside.wait(5)
    try:
        with pytest.raises(RuntimeError, match="two threads|second thread"):
            acc.update(np.array([[1, 1, 5, 5.0]]))
    finally:
        release.set()
        t.join()
    acc._apply = real  # type: ignore[method-assign]
    acc.update(np.array([[1, 1, 5, 5.0]]))  # usable again afterwards
    assert acc.frames == 2


def test_checkpoint_refuses_another_input_or_parameters(tmp_path):
    records = list(range(20))
    ck = tmp_path / "ck.npz"

    class Count(hc.Accumulator):
        kind = "test-count"

        def __init__(self, k=1):
            self.k, self.n = k, 0

        def update(self, r):
            self.n += self.k

        def result(self):
            return np.array(self.n)

        def config(self):
            return {"k": self.k}

        def state(self):
            return {"k": np.array(self.k), "n": np.array(self.n)}

        @classmethod
        def from_state(cls, st):
            o = cls(int(st["k"]))
            o.n = int(st["n"])
            return o

        def _merge(self, other):
            self.n += other.n

    def job(k=1, fp="a", **kw):
        return Job(source=IterSource(lambda s: iter(records[s:]), fingerprint={"input": fp}, batch=3),
                   accumulators={"c": Count(k)}, checkpoint=ck, checkpoint_every=3, **kw)

    run(job(stop_after=7))
    with pytest.raises(CheckpointMismatch, match=r"source.input: 'a' -> 'b'"):
        run(job(fp="b"))
    with pytest.raises(CheckpointMismatch, match=r"accumulators.c.k: 1 -> 2"):
        run(job(k=2))
    assert run(job(k=2, restart=True))["c"].result() == 40
    meta, _ = read_checkpoint(ck)
    assert meta["complete"] and meta["done"] == 20
    again = run(job(k=2))
    assert again.complete and again["c"].result() == 40
    (tmp_path / "junk.npz").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a heatcore checkpoint"):
        run(Job(source=IterSource(lambda s: iter(records)), accumulators={"c": Count()},
                checkpoint=tmp_path / "junk.npz"))


def test_mog2_refuses_a_checkpoint_instead_of_resuming_inexactly(tmp_path):
    acc = hc.MotionHeatmap("mog2")
    if acc.checkpoint_refusal() is None:
        pytest.skip("this build exports its own MOG2 state: MOG2 checkpoints are exact")
    clip = write_synthetic_video(tmp_path / "c.avi", 64, 48, 10)
    with pytest.raises(ValueError, match="MOG2"):
        hc.motion_heatmap(clip, "mog2", checkpoint=tmp_path / "ck.npz")
    assert main(["motion", str(clip), "--method", "mog2", "-o", str(tmp_path / "h.png"), "--checkpoint",
                 str(tmp_path / "ck.npz"), "--quiet"]) == 2
    assert not (tmp_path / "h.png").exists()


def test_motion_resume_with_another_stride_or_start_is_refused(tmp_path, capsys):
    clip = write_synthetic_video(tmp_path / "c.avi", 64, 48, 40)
    ck = tmp_path / "ck.npz"
    base = ["motion", str(clip), "--method", "diff", "-o", str(tmp_path / "h.png"), "--checkpoint", str(ck),
            "--quiet", "--decoder", "opencv"]
    def stop(acc, done):
        if done >= 12:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        hc.motion_heatmap(clip, "diff", checkpoint=ck, checkpoint_every=5, decoder="opencv", on_frame=stop)
    for extra, what in ((["--stride", "2"], "stride"), (["--start", "3"], "start")):
        assert main(base + extra) == 2
        err = capsys.readouterr().err
        assert "belongs to another run" in err and what in err
    assert main(base) == 0


# ---------------------------------------------------------------------------------------------
# SIGKILL at random points, then resume: byte-identical outputs, no duplicated lines
# ---------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_grid_killed_and_resumed_is_byte_identical(tmp_path):
    src = _long_csv(tmp_path / "long.csv", 12000)
    common = ["grid", str(src), "--image-size", "640x480", "--grid", "16x12", "--window", "50", "--no-video",
              "--quiet", "--mode", "point", "--classes", "0,1", "--min-score", "0.3"]
    assert main(common + ["-o", str(tmp_path / "ref")]) == 0
    ck = tmp_path / "ck.npz"
    args = common + ["-o", str(tmp_path / "out"), "--checkpoint", str(ck), "--checkpoint-every", "1000"]
    _kill_and_resume(args, ck, rounds=2, seed=1)
    ref = (tmp_path / "ref" / "grids.jsonl").read_bytes()
    out = (tmp_path / "out" / "grids.jsonl").read_bytes()
    assert len(out.splitlines()) == 12000 and out == ref
    names = sorted(p.name for p in (tmp_path / "out" / "detect").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "ref" / "detect").iterdir())
    for n in names[::997]:
        assert (tmp_path / "out" / "detect" / n).read_bytes() == (tmp_path / "ref" / "detect" / n).read_bytes()
    assert not list((tmp_path / "out").glob("*partial*"))


@pytest.mark.slow
def test_floorplan_killed_and_resumed_is_exact(tmp_path):
    _, plan, H, scene = synthetic_scene(seconds=200.0, fps=5.0)
    run(Job(source=RecordsSource(scene), accumulators={},
            sinks=[DetectionsCSVSink(tmp_path / "det.csv", meta={"fps": 5.0, "stride": 1})]))
    H.save(tmp_path / "H.json")
    common = ["floorplan", str(tmp_path / "det.csv"), "--homography", str(tmp_path / "H.json"), "--plan-size",
              "400x300", "--dwell", "--track", "--stationary", "6,5", "--quiet"]
    assert main(common + ["-o", str(tmp_path / "ref.png"), "--state", str(tmp_path / "ref.npz")]) == 0
    ck = tmp_path / "ck.npz"
    _kill_and_resume(common + ["-o", str(tmp_path / "out.png"), "--state", str(tmp_path / "out.npz"),
                               "--checkpoint", str(ck), "--checkpoint-every", "100"], ck, rounds=2, seed=2)
    ref, out = hc.load_state(tmp_path / "ref.npz"), hc.load_state(tmp_path / "out.npz")
    np.testing.assert_array_equal(out.dwell(), ref.dwell())
    np.testing.assert_array_equal(out.result(), ref.result())
    np.testing.assert_array_equal(out.visitors(), ref.visitors())
    assert out.counts == ref.counts
    assert (tmp_path / "out.png").read_bytes() == (tmp_path / "ref.png").read_bytes()


@pytest.mark.slow
def test_motion_killed_and_resumed_is_exact(tmp_path):
    clip = write_synthetic_video(tmp_path / "c.avi", 320, 240, 400, seed=5)
    common = ["motion", str(clip), "--quiet", "--decoder", "opencv"]
    assert main(common + ["-o", str(tmp_path / "ref.png"), "--npy", str(tmp_path / "ref.npy")]) == 0
    ck = tmp_path / "ck.npz"
    _kill_and_resume(common + ["-o", str(tmp_path / "out.png"), "--npy", str(tmp_path / "out.npy"), "--checkpoint",
                               str(ck), "--checkpoint-every", "40"], ck, rounds=2, seed=3)
    assert (tmp_path / "out.npy").read_bytes() == (tmp_path / "ref.npy").read_bytes()
    assert (tmp_path / "out.png").read_bytes() == (tmp_path / "ref.png").read_bytes()


@pytest.mark.slow
@pytest.mark.data
def test_detect_killed_and_resumed_is_byte_identical(tmp_path, campus_video):
    common = ["detect", str(campus_video), "--stride", "8", "--track", "--quiet", "--hog-width", "480",
              "--detector", "hog"]
    assert main(common + ["-o", str(tmp_path / "ref.csv"), "--aitrios-csv", str(tmp_path / "ref_a.csv")]) == 0
    ck = tmp_path / "ck.npz"
    _kill_and_resume(common + ["-o", str(tmp_path / "out.csv"), "--aitrios-csv", str(tmp_path / "out_a.csv"),
                               "--checkpoint", str(ck), "--checkpoint-every", "10"], ck, rounds=2, seed=4)
    assert (tmp_path / "out.csv").read_bytes() == (tmp_path / "ref.csv").read_bytes()
    assert (tmp_path / "out_a.csv").read_bytes() == (tmp_path / "ref_a.csv").read_bytes()
    assert not list(tmp_path.glob("*progress*")) and not list(tmp_path.glob("*partial*"))


# ---------------------------------------------------------------------------------------------
# the workflow failures of the issue, as tests
# ---------------------------------------------------------------------------------------------

@pytest.mark.data
def test_detect_stride_then_grid_pairs_rows_with_their_frames(tmp_path, campus_video):
    import cv2

    assert main(["detect", str(campus_video), "-o", str(tmp_path / "d.csv"), "--stride", "5", "--stop", "100",
                 "--aitrios-csv", str(tmp_path / "a.csv"), "--quiet", "--hog-width", "480"]) == 0
    recs = list(AitriosCSV(tmp_path / "a.csv", video=campus_video))
    assert [r.frame for r in recs] == list(range(0, 100, 5))
    assert recs[3].time == pytest.approx(1.5)  # frame 15 of a 10 fps clip
    cap = cv2.VideoCapture(str(campus_video))
    for _ in range(15):
        cap.read()
    ok, frame15 = cap.read()
    assert ok and np.array_equal(recs[3].image, frame15)  # row 3 holds frame 15 and is paired with it
    assert main(["grid", str(tmp_path / "a.csv"), "--video", str(campus_video), "--mode", "point", "--quiet",
                 "-o", str(tmp_path / "g")]) == 0
    assert sorted(p.name for p in (tmp_path / "g" / "detect").iterdir())[:3] == ["00000000.json", "00000005.json",
                                                                               "00000010.json"]
    import av

    with av.open(str(tmp_path / "g" / "video" / "campus_480x360_heatmap.mp4")) as c:
        s = c.streams.video[0]
        n = sum(1 for _ in c.decode(s))
        rate = float(s.average_rate)
    assert n == 20 and n / rate == pytest.approx(10.0)  # covers the 10 s the detections cover
    # detect's own CSV feeds grid as well
    assert main(["grid", str(tmp_path / "d.csv"), "--image-size", "480x360", "--no-video", "--quiet",
                 "-o", str(tmp_path / "g2")]) == 0


def test_grid_long_csv_with_class_and_score_filters(tmp_path):
    src = _long_csv(tmp_path / "l.csv", 300)
    rows = np.loadtxt(src, delimiter=",", skiprows=1).reshape(-1, 7)
    for extra, keep in ((["--classes", "0"], rows[:, 6] == 0), (["--min-score", "0.6"], rows[:, 5] >= 0.6)):
        out = tmp_path / f"o{len(extra[0])}"
        assert main(["grid", str(src), "--image-size", "640x480", "--mode", "point", "--no-video", "--no-json",
                     "--quiet", "-o", str(out)] + extra) == 0
        lines = [json.loads(x) for x in (out / "grids.jsonl").read_text().splitlines()]
        assert sum(x["number_of_detects"] for x in lines) == int(keep.sum())
        want = np.bincount(rows[keep, 0].astype(int), minlength=300)
        assert [x["number_of_detects"] for x in lines] == want.tolist()


def test_failed_runs_leave_nothing_behind(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("frame,left,top,right,bottom\n0,1,1,5,5\n1,1,1,5,5\n0,1,1,5,5\n")
    out = tmp_path / "out"
    assert main(["grid", str(bad), "--image-size", "64x48", "--quiet", "--fps", "10", "-o", str(out)]) == 2
    assert "sort the file" in capsys.readouterr().err
    assert not out.exists() or not any(out.rglob("*"))


def test_outputs_are_checked_before_any_work(tmp_path, capsys):
    clip = write_synthetic_video(tmp_path / "c.avi", 32, 24, 5)
    for argv, what in (
        (["motion", str(clip), "-o", str(tmp_path / "x.txt")], "extension"),
        (["motion", str(clip), "-o", str(tmp_path / "h.png"), "--overlay-video", str(tmp_path / "v.avi")], "extension"),
        (["motion", str(clip), "-o", str(tmp_path / "h.png"), "--alpha", "2"], "--alpha"),
        (["detect", str(clip), "-o", str(tmp_path / "d.txt")], "extension"),
        (["floorplan", str(tmp_path / "c.avi"), "-o", str(tmp_path / "f.csv"), "--plan-size", "9x9"], "extension"),
        (["grid", str(clip), "-o", str(clip), "--image-size", "9x9"], "is a file"),
    ):
        t0 = time.perf_counter()
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert what in err and err.count("\n") == 1 and "Traceback" not in err, err
        assert time.perf_counter() - t0 < 5


def test_warnings_print_as_one_plain_line(tmp_path):
    pts = tmp_path / "p.csv"
    pts.write_text("x,y\n1,2\nnan,3\n4,5\n6,7\n")
    env = dict(os.environ, PYTHONWARNINGS="default")
    r = subprocess.run(_cli("kde", str(pts), "-o", str(tmp_path / "k.png"), "--shape", "40x30", "--bandwidth", "3"),
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    out = r.stdout + r.stderr
    warn = [x for x in out.splitlines() if "warning:" in x.lower()]
    assert len(warn) == 1 and warn[0].startswith("heatcore") and "dropped 1" in warn[0], out
    assert ".py:" not in out and "RuntimeWarning" not in out


def test_cli_turns_memory_and_archive_errors_into_one_line(tmp_path, capsys, monkeypatch):
    ck = tmp_path / "ck.npz"
    ck.write_bytes(b"PK\x03\x04 broken zip")
    src = _long_csv(tmp_path / "l.csv", 10)
    assert main(["grid", str(src), "--image-size", "640x480", "--no-video", "--quiet", "-o", str(tmp_path / "o"),
                 "--checkpoint", str(ck)]) == 2
    err = capsys.readouterr().err
    assert "not a heatcore checkpoint" in err and err.count("\n") == 1
    import heatcore.commands.grid as g

    def boom(job):
        raise MemoryError()

    monkeypatch.setattr(g, "run_job", boom)
    assert main(["grid", str(src), "--image-size", "640x480", "--no-video", "-o", str(tmp_path / "o2")]) == 2
    assert "not enough memory" in capsys.readouterr().err


def test_detect_in_process_feeds_grid_and_floorplan_in_one_pass(tmp_path):
    from heatcore.jobs import detect_job
    from heatcore.sinks import GridCompactSink

    clip = write_synthetic_video(tmp_path / "c.avi", 160, 120, 30, fps=10.0)

    def det(frame):
        return np.array([[40, 30, 60, 90, 0.9]])

    counter = hc.GridCounter(image_size=(160, 120), grid=(8, 6), mode="point")
    plan = FloorplanAccumulator((160, 120), None, seconds_per_obs=0.3, cell=20)
    job = detect_job(clip, det, stride=3, accumulators={"grid": counter, "plan": plan},
                     sinks=[GridCompactSink(tmp_path / "g.jsonl")], detections_csv=tmp_path / "d.csv")
    res = run(job)
    assert res.records == 10
    one = hc.GridCounter(image_size=(160, 120), grid=(8, 6), mode="point")
    one.update(det(None))
    np.testing.assert_array_equal(res["grid"].result(), 10 * one.result())  # the same box in every frame
    assert res["plan"].dwell().sum() == pytest.approx(3.0)  # 10 observations x 0.3 s
    meta = json.loads((tmp_path / "d.csv.meta.json").read_text())
    assert meta["fps"] == 10.0 and meta["stride"] == 3
    first = json.loads((tmp_path / "g.jsonl").read_text().splitlines()[1])
    assert first["frame"] == 3
