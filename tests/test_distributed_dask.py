"""Partitioned motion over many files on a real Dask LocalCluster (2 processes on 127.0.0.1)."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from heatcore import distributed
from heatcore.inputs import by_camera, expand_inputs
from heatcore._synthetic import write_synthetic_video
from heatcore.motion import motion_heatmap, sample_reference

pytest.importorskip("distributed")  # the client fixture (conftest) runs a real LocalCluster

W, H, N = 96, 64, 40


@pytest.fixture(scope="module")
def cams(tmp_path_factory) -> Path:
    """Two cameras x two Kerberos-named segments each (tiny synthetic clips)."""
    root = tmp_path_factory.mktemp("cams")
    for ci, cam in enumerate(("cam1", "cam2")):
        d = root / cam
        d.mkdir()
        for k in range(2):
            t = 1616678735 + 60 * k
            write_synthetic_video(d / f"{t}_6-967003_{cam}_0-0-96-64_24_769.avi", W, H, N, seed=10 * ci + k)
    return root


@pytest.fixture(scope="module")
def reference(cams) -> Path:
    from heatcore import render

    img, _ = sample_reference(next((cams / "cam1").glob("*.avi")), 9)
    return render.save_image(cams / "ref.png", img, order="bgr")


def _per_file_runs(segs, method, **kw):
    """The uninterrupted reference: one motion_heatmap per file, merged per camera."""
    out = {}
    for s in segs:
        acc = motion_heatmap(s.path, method, **kw)
        out[s.camera] = acc if s.camera not in out else out[s.camera].merge(acc)
    return out


def test_diff_exact_across_files_and_frame_ranges(client, cams, reference):
    segs = expand_inputs(str(cams / "*" / "*.avi"))
    assert [s.start_wall for s in by_camera(segs)["cam2"]] == [1616678735.0, 1616678795.0]  # times from names
    for thr in (None, 12):
        want = _per_file_runs(segs, "diff", reference=reference, threshold=thr)
        got = distributed.run_partitions(segs, "diff", executor=client, split_frames=15, reference=reference,
                                         threshold=thr)
        assert sorted(got) == ["cam1", "cam2"]
        for cam in got:
            assert got[cam].frames == want[cam].frames == 2 * N
            assert np.array_equal(got[cam].result(), want[cam].result()), (cam, thr)


def test_mog_warmup_bound(client, cams):
    """MOG partitions warm up over the preceding `history` frames: close to one uninterrupted run."""
    path = next((cams / "cam1").glob("*.avi"))
    segs = expand_inputs(path)
    whole = motion_heatmap(path, "mog", history=10).result().astype(np.float64)

    def compare(**kw):
        got = distributed.run_partitions(segs, "mog", executor=client, split_frames=10, history=10, **kw)["cam1"]
        r = got.result().astype(np.float64)
        assert got.frames == N
        return float(np.mean(r != whole)), float(np.abs(r - whole).sum() / whole.sum())

    cold = compare(warmup=0)
    warm = compare()  # default warm-up = history = 10 frames
    warm2 = compare(warmup=20)
    print(f"\nMOG 4 partitions of 10 frames, history 10: differing pixels / relative L1 — "
          f"no warm-up {cold[0]:.4f} / {cold[1]:.4f}, warm-up 10 {warm[0]:.4f} / {warm[1]:.4f}, "
          f"warm-up 20 {warm2[0]:.4f} / {warm2[1]:.4f}")
    # measured on this clip: no warm-up ~0.09 / 0.46, warm-up = history ~0.015 / 0.07, 2x history 0 / 0
    assert warm[1] < cold[1] / 4 and warm[0] < cold[0] / 4
    assert warm[0] <= 0.03 and warm[1] <= 0.10
    assert warm2[0] <= 0.01 and warm2[1] <= 0.01


def test_worker_killed_mid_partition_is_rerun(client, cams, reference):
    segs = expand_inputs(str(cams / "cam1" / "*.avi"))
    want = distributed.run_partitions(segs, "diff", reference=reference, split_frames=20)["cam1"]
    pids = list(client.run(os.getpid).values())
    killed = []

    def kill_later():
        time.sleep(1.0)
        os.kill(pids[0], signal.SIGKILL)
        killed.append(pids[0])

    t = threading.Thread(target=kill_later)
    t.start()
    got = distributed.run_partitions(segs, "diff", executor=client, reference=reference, split_frames=20,
                                     throttle=0.04)["cam1"]  # 4 partitions x 20 frames x 40 ms
    t.join()
    assert killed
    assert got.frames == want.frames == 2 * N
    assert np.array_equal(got.result(), want.result())
    client.wait_for_workers(2, timeout=30)


def test_rerun_after_client_crash_skips_finished_partitions(client, cams, reference, tmp_path):
    segs = expand_inputs(str(cams / "*" / "*.avi"))
    man = tmp_path / "out" / "partitions.json"
    first = distributed.run_partitions(segs, "diff", executor=client, split_frames=20, reference=reference,
                                       manifest=man)
    m = json.loads(man.read_text())
    assert len(m["done"]) == len(m["partitions"]) == 8
    # the client "crashed" before it recorded two partitions: only those run again
    lost = sorted(m["done"])[:2]
    for k in lost:
        del m["done"][k]
    man.write_text(json.dumps(m))
    stamps = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "out" / "parts").glob("*.npz")}
    time.sleep(0.01)
    again = distributed.run_partitions(segs, "diff", executor=client, split_frames=20, reference=reference,
                                       manifest=man)
    rerun = {p.name for p in (tmp_path / "out" / "parts").glob("*.npz") if p.stat().st_mtime_ns != stamps[p.name]}
    assert rerun == {f"{k}.npz" for k in lost}
    assert len(json.loads(man.read_text())["done"]) == 8
    for cam in first:
        assert np.array_equal(first[cam].result(), again[cam].result())


def test_corrupt_file_skipped_or_fails(client, cams, reference, tmp_path):
    bad = tmp_path / "cam1" / "1616679000_6-967003_cam1_0-0-96-64_24_769.avi"
    bad.parent.mkdir()
    bad.write_bytes(b"not a video at all" * 100)
    segs = expand_inputs([str(cams / "cam1" / "*.avi"), bad])
    with pytest.raises(ValueError, match="1616679000"):
        distributed.run_partitions(segs, "diff", executor=client, reference=reference)
    errors: list = []
    with pytest.warns(UserWarning, match="1 file"):
        got = distributed.run_partitions(segs, "diff", executor=client, reference=reference, on_error="skip",
                                         errors=errors)
    assert [e[0] for e in errors] == [str(bad)]
    assert got["cam1"].frames == 2 * N


@pytest.mark.parametrize("how", ["workers", "scheduler"])
def test_cli_many_cameras_equal_each_camera_alone(client, cams, tmp_path, how):
    from heatcore.accumulator import load_state
    from heatcore.cli import main

    out = tmp_path / "out"
    flag = ["--workers", "2"] if how == "workers" else ["--scheduler", client.scheduler.address]
    assert main(["motion", str(cams / "*" / "*.avi"), "--method", "diff", "--split-frames", "25", "-o", str(out),
                 "--quiet", *flag]) == 0
    segs = expand_inputs(str(cams / "*" / "*.avi"))
    for cam, cs in by_camera(segs).items():
        ref, _ = sample_reference(cs[0].path, 25)
        alone = _per_file_runs(cs, "diff", reference=ref)[cam]
        got = load_state(out / f"{cam}.npz")
        assert got.frames == alone.frames == 2 * N
        assert np.array_equal(got.result(), alone.result())
        assert (out / f"{cam}.png").stat().st_size > 0
    assert len(json.loads((out / "partitions.json").read_text())["done"]) == 8


def test_cli_many_inputs_refuse_an_image_output(cams, tmp_path, capsys):
    from heatcore.cli import main

    assert main(["motion", str(cams / "*" / "*.avi"), "-o", str(tmp_path / "heat.png"), "--quiet"]) == 2
    assert "output folder" in capsys.readouterr().err
