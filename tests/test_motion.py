"""MotionHeatmap / motion_heatmap: methods vs direct OpenCV recipes, checkpoint/resume, merge,
state round trips, stride/scale/roi/time ranges, bad input, the CLI and the demo."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest

import heatcore as hc
from heatcore.cli import main
from heatcore.io.video import iter_frames
from heatcore._synthetic import synthetic_frames, write_synthetic_video
from heatcore.motion import MotionHeatmap, motion_heatmap

W, H, N = 128, 96, 60
needs_bgsegm = pytest.mark.skipif(not hasattr(cv2, "bgsegm"), reason="cv2.bgsegm is not installed")


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return write_synthetic_video(tmp_path_factory.mktemp("motion") / "clip.avi", W, H, N, fps=20.0, seed=5)


@pytest.fixture(scope="module")
def decoded(clip) -> list[np.ndarray]:
    return [f for _, f in iter_frames(clip)]


def _run(frames, acc):
    for f in frames:
        acc.update(f)
    return acc


@needs_bgsegm
def test_mog_heatmap_equals_bgsegm_recipe(clip, decoded):
    acc = motion_heatmap(clip, "mog", decoder="opencv")
    mog = cv2.bgsegm.createBackgroundSubtractorMOG()
    expect = np.zeros((H, W), np.uint32)
    for f in decoded:
        expect += (mog.apply(f) > 0)
    assert acc.frames == N
    assert np.array_equal(acc.result(), expect)
    assert acc.result().max() > 5
    np.testing.assert_array_equal(acc.result(normalize=True), expect / N)


def test_mog2_counts_exclude_shadows(decoded):
    for count_shadows in (False, True):
        acc = _run(decoded, MotionHeatmap("mog2", count_shadows=count_shadows))
        m = cv2.createBackgroundSubtractorMOG2()
        expect = np.zeros((H, W), np.uint32)
        for f in decoded:
            mask = m.apply(f)
            expect += (mask == 255) | ((mask == 127) & count_shadows)
        assert np.array_equal(acc.result(), expect)


def test_diff_equals_recipe_b(decoded):
    ref = cv2.blur(cv2.cvtColor(decoded[0], cv2.COLOR_BGR2GRAY), (11, 11))
    expect = np.zeros((H, W), np.float64)
    for f in decoded[::5]:
        expect += cv2.absdiff(cv2.blur(cv2.cvtColor(f, cv2.COLOR_BGR2GRAY), (11, 11)), ref)
    acc = _run(decoded[::5], MotionHeatmap("diff"))
    assert acc.result().dtype == np.float64
    assert np.array_equal(acc.result(), expect)
    # numpy backend agrees
    assert np.array_equal(_run(decoded[::5], MotionHeatmap("diff", backend="numpy")).result(), expect)
    # thresholded: count of frames in motion
    acc_t = _run(decoded[::5], MotionHeatmap("diff", threshold=20))
    cnt = np.zeros((H, W), np.uint32)
    for f in decoded[::5]:
        cnt += cv2.absdiff(cv2.blur(cv2.cvtColor(f, cv2.COLOR_BGR2GRAY), (11, 11)), ref) > 20
    assert acc_t.result().dtype == np.uint32 and np.array_equal(acc_t.result(), cnt)


def test_diff_uint32_partial_sums_fold_exactly(decoded, monkeypatch):
    import heatcore.motion as hm

    expect = _run(decoded, MotionHeatmap("diff")).result()
    monkeypatch.setattr(hm, "_FOLD_EVERY", 3)  # fold the uint32 partial sums every 3 frames
    acc = _run(decoded, MotionHeatmap("diff"))
    assert acc.result().dtype == np.float64 and np.array_equal(acc.result(), expect)


def test_diff_median_reference_removes_ghosts():
    frames = list(synthetic_frames(W, H, 30, seed=2, blobs=2))
    # the median of many frames is the empty scene (the blobs keep moving)
    acc = _run(frames, MotionHeatmap("diff", reference="median:15", threshold=25))
    stack = np.stack([cv2.blur(cv2.cvtColor(f, cv2.COLOR_BGR2GRAY), (11, 11)) for f in frames[:15]])
    med = np.floor(np.median(stack, axis=0) + 0.5).astype(np.uint8)
    expect = np.zeros((H, W), np.uint32)
    for f in frames:
        expect += cv2.absdiff(cv2.blur(cv2.cvtColor(f, cv2.COLOR_BGR2GRAY), (11, 11)), med) > 25
    assert np.array_equal(acc.result(), expect)
    # with the first frame as reference, the blobs of frame 0 leave a ghost counted in every frame
    first = _run(frames, MotionHeatmap("diff", reference="first", threshold=25)).result()
    assert (first >= 20).sum() > 20 * max(1, (acc.result() >= 20).sum())


def test_mog_numpy_backend_matches_cpp(decoded):
    a = _run(decoded[:25], MotionHeatmap("mog"))
    b = _run(decoded[:25], MotionHeatmap("mog", backend="numpy"))
    assert np.array_equal(a.result(), b.result())


@pytest.mark.parametrize("method,kw", [("mog", {}), ("mog", {"gray": True, "scale": 0.5}),
                                       ("diff", {"reference": "median:4"}), ("diff", {"threshold": 10})])
def test_checkpoint_resume_identical(clip, tmp_path, method, kw):
    whole = motion_heatmap(clip, method, stride=2, decoder="opencv", **kw)
    ck = tmp_path / "state.npz"

    class Stop(Exception):
        pass

    def interrupt(acc, done):
        if done >= 17:
            raise Stop

    with pytest.raises(Stop):
        motion_heatmap(clip, method, stride=2, decoder="opencv", checkpoint=ck, checkpoint_every=5,
                       on_frame=interrupt, **kw)
    assert ck.exists()
    from heatcore.pipeline import read_checkpoint

    meta, _ = read_checkpoint(ck)
    assert 5 <= meta["done"] <= 17
    resumed = motion_heatmap(clip, method, stride=2, decoder="opencv", checkpoint=ck, checkpoint_every=5, **kw)
    assert resumed.frames == whole.frames == math.ceil(N / 2)
    assert np.array_equal(resumed.result(), whole.result())
    # a rerun after completion just returns the saved result
    again = motion_heatmap(clip, method, stride=2, decoder="opencv", checkpoint=ck, checkpoint_every=5, **kw)
    assert np.array_equal(again.result(), whole.result())
    # a checkpoint written with another configuration is refused
    with pytest.raises(ValueError, match="belongs to another run"):
        motion_heatmap(clip, method, stride=2, decoder="opencv", checkpoint=ck, blur=5 if method == "diff" else 11,
                       **({"history": 50} if method == "mog" else {}), **kw)


def test_state_roundtrip_continues_identically(decoded, tmp_path):
    for method in ("mog", "diff"):
        a = _run(decoded[:20], MotionHeatmap(method, background="median"))
        b = MotionHeatmap.load(a.save(tmp_path / f"{method}.npz"))
        assert b.config() == a.config()
        _run(decoded[20:], a)
        _run(decoded[20:], b)
        assert np.array_equal(a.result(), b.result())
        assert np.array_equal(a.background_image("median"), b.background_image("median"))


def test_mog_batches_identical(decoded, tmp_path):
    one = _run(decoded, MotionHeatmap("mog"))
    batched = _run(decoded[:23], MotionHeatmap("mog", batch=5))  # 3 frames still queued
    resumed = MotionHeatmap.load(batched.save(tmp_path / "b.npz"))  # save flushes the queue
    _run(decoded[23:], resumed)
    assert resumed.batch == 5 and np.array_equal(resumed.result(), one.result())
    with pytest.raises(ValueError, match="batch"):
        MotionHeatmap("mog", batch=0)


def test_merge_halves_equals_whole(decoded):
    empty = decoded[0]
    whole = _run(decoded, MotionHeatmap("diff", reference=empty))
    first = _run(decoded[:25], MotionHeatmap("diff", reference=empty))
    second = _run(decoded[25:], MotionHeatmap("diff", reference=empty))
    first += second
    assert first.frames == N
    assert np.array_equal(first.result(), whole.result())
    # accumulation of MOG counts adds
    a, b = _run(decoded[:30], MotionHeatmap("mog")), _run(decoded[30:], MotionHeatmap("mog"))
    total = a.result() + b.result()
    assert np.array_equal(a.merge(b).result(), total)
    with pytest.raises(ValueError, match="different configurations"):
        a.merge(MotionHeatmap("mog", history=10))
    with pytest.raises(TypeError):
        a.merge(hc.MotionHeatmap)  # type: ignore[arg-type]


def test_pickle_and_split_runs_merge_exactly(clip, decoded, tmp_path):
    import pickle

    from heatcore.distributed import map_merge, split_range

    a = _run(decoded[:20], MotionHeatmap("mog"))
    b = pickle.loads(pickle.dumps(a))
    _run(decoded[20:], a)
    _run(decoded[20:], b)
    assert np.array_equal(a.result(), b.result())
    empty = tmp_path / "empty.png"
    cv2.imwrite(str(empty), decoded[0])
    whole = motion_heatmap(clip, "diff", reference=empty)
    parts = map_merge(motion_heatmap, [dict(source=clip, method="diff", reference=empty, start=s, stop=e)
                                       for s, e in split_range(N, 3)])
    assert parts.frames == N and np.array_equal(parts.result(), whole.result())


def test_stride_scale_roi(clip, decoded):
    acc = motion_heatmap(clip, "mog", stride=3, decoder="opencv")
    assert acc.frames == math.ceil(N / 3)
    assert np.array_equal(acc.result(), _run(decoded[::3], MotionHeatmap("mog")).result())
    small = motion_heatmap(clip, "mog", scale=0.5, decoder="opencv")
    assert small.result().shape == (H // 2, W // 2)
    assert small.render().shape == (H, W, 3)  # rendered at full size
    roi = np.zeros((H, W), np.uint8)
    roi[10:60, 20:100] = 255
    full = motion_heatmap(clip, "mog", decoder="opencv").result()
    masked = motion_heatmap(clip, "mog", roi=roi, decoder="opencv").result()
    assert np.array_equal(masked, np.where(roi > 0, full, 0))
    # ROI given at another resolution of the same aspect is resized
    half = cv2.resize(roi, (W // 2, H // 2), interpolation=cv2.INTER_NEAREST)
    assert np.array_equal(motion_heatmap(clip, "mog", roi=half, decoder="opencv").result(), masked)
    with pytest.raises(ValueError, match="aspect"):
        motion_heatmap(clip, "mog", roi=np.ones((10, 50), np.uint8))


def test_start_stop_frames_and_seconds(clip, decoded):
    by_frames = motion_heatmap(clip, "diff", start=10, stop=30, decoder="opencv", gray=False, reference="first")
    by_time = motion_heatmap(clip, "diff", start_time=0.5, stop_time=1.5, decoder="opencv", gray=False,
                             reference="first")  # 20 fps
    assert by_frames.frames == by_time.frames == 20
    assert np.array_equal(by_frames.result(), by_time.result())
    assert np.array_equal(by_frames.result(), _run(decoded[10:30], MotionHeatmap("diff")).result())


def test_pyav_gray_frames(clip):
    pytest.importorskip("av")
    a = list(iter_frames(clip, gray=True, backend="pyav", stride=4, start=3, stop=50))
    b = list(iter_frames(clip, gray=True, backend="opencv", stride=4, start=3, stop=50))
    assert [i for i, _ in a] == [i for i, _ in b] == list(range(3, 50, 4))
    for (_, x), (_, y) in zip(a, b):
        assert x.shape == y.shape == (H, W) and x.dtype == np.uint8
        # luma (video range) vs OpenCV's gray of the decoded colour: close, not equal
        assert np.abs(x.astype(int) - y).mean() < 20
    acc = motion_heatmap(clip, "mog", gray=True, decoder="pyav")
    assert acc.frames == N and acc.channels == 1


def test_overlay_video_modes(clip, tmp_path):
    for kw in ({}, {"window": 0.5}, {"decay_half_life": 0.25}):
        out = tmp_path / f"o{len(kw)}{list(kw)}.mp4"
        motion_heatmap(clip, "mog", video=out, stride=2, **kw)
        cap = cv2.VideoCapture(str(out))
        assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == N // 2
        assert int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) == W
        cap.release()
    with pytest.raises(ValueError, match="either window or decay"):
        motion_heatmap(clip, "mog", video=tmp_path / "x.mp4", window=1, decay_half_life=1)


# -- bad input ---------------------------------------------------------------------------------
def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such video"):
        motion_heatmap(tmp_path / "nope.mp4")
    bad = tmp_path / "garbage.avi"
    bad.write_bytes(np.random.default_rng(0).integers(0, 256, 20000, dtype=np.uint8).tobytes())
    with pytest.raises(ValueError, match="cannot open video"):
        motion_heatmap(bad)
    with pytest.raises(ValueError, match="cannot open video"):
        list(iter_frames(bad, gray=True, backend="pyav"))
    with pytest.raises(FileNotFoundError, match="ROI"):
        motion_heatmap(bad, roi=tmp_path / "nomask.png")


def test_zero_frames(tmp_path, clip):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no images"):
        motion_heatmap(empty)
    with pytest.raises(ValueError, match="no frames"):
        motion_heatmap(clip, start=N + 5, stop=N + 10, decoder="opencv")
    with pytest.raises(ValueError, match="no frames were added"):
        MotionHeatmap().result()


def test_frames_that_change_size(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i, f in enumerate(synthetic_frames(64, 48, 4)):
        if i == 3:
            f = cv2.resize(f, (50, 40))
        cv2.imwrite(str(folder / f"frame{i + 1}.png"), f)
    with pytest.raises(ValueError, match="frame 3"):
        motion_heatmap(folder)
    acc = MotionHeatmap()
    acc.update(np.zeros((48, 64, 3), np.uint8))
    with pytest.raises(ValueError, match="earlier frames are 64x48"):
        acc.update(np.zeros((40, 64, 3), np.uint8))
    with pytest.raises(ValueError, match="channel"):
        acc.update(np.zeros((48, 64), np.uint8))
    with pytest.raises(TypeError, match="uint8"):
        acc.update(np.zeros((48, 64, 3), np.float32))
    with pytest.raises(ValueError, match="shape"):
        acc.update(np.zeros((48, 64, 4), np.uint8))


def test_image_folder_natural_order(tmp_path, decoded):
    folder = tmp_path / "seq"
    folder.mkdir()
    for i, f in enumerate(decoded[:12]):
        cv2.imwrite(str(folder / f"f{i}.png"), f)  # f2 must come before f10
    acc = motion_heatmap(folder, "diff", gray=False, reference="first")
    assert np.array_equal(acc.result(), _run(decoded[:12], MotionHeatmap("diff")).result())


@pytest.mark.parametrize("decoder", ["opencv", "pyav"])
def test_file_that_ends_early_keeps_frames_and_warns(tmp_path, decoder):
    if decoder == "pyav":
        pytest.importorskip("av")
    p = write_synthetic_video(tmp_path / "long.avi", W, H, 40, seed=1)
    data = p.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.warns(RuntimeWarning, match="ended early: read"):
        acc = motion_heatmap(cut, "mog", gray=True, decoder=decoder)
    assert 0 < acc.frames < 40


def test_bad_parameters(clip):
    with pytest.raises(ValueError, match="method"):
        motion_heatmap(clip, "optical-flow")
    with pytest.raises(ValueError, match="stride"):
        motion_heatmap(clip, stride=0)
    with pytest.raises(ValueError, match="scale"):
        MotionHeatmap(scale=-1)
    with pytest.raises(ValueError, match="blur must be odd"):
        MotionHeatmap("diff", blur=4)
    with pytest.raises(ValueError, match="threshold"):
        MotionHeatmap("diff", threshold=300)
    with pytest.raises(ValueError, match="median:K"):
        MotionHeatmap("diff", reference="median:x")
    with pytest.raises(FileNotFoundError, match="reference"):
        MotionHeatmap("diff", reference="/no/such/empty.png")
    with pytest.raises(ValueError, match="only used by method='diff'"):
        MotionHeatmap("mog", reference="median:3")
    with pytest.raises(ValueError, match="start"):
        motion_heatmap(clip, start=-1)
    with pytest.raises(ValueError, match="reference image is"):
        MotionHeatmap("diff", reference=np.zeros((10, 10, 3), np.uint8)).update(np.zeros((H, W, 3), np.uint8))


# -- CLI and demo ------------------------------------------------------------------------------
def test_cli_writes_png_npy_and_video(clip, tmp_path, capsys):
    out, npy, vid = tmp_path / "heat.png", tmp_path / "heat.npy", tmp_path / "o.mp4"
    rc = main(["motion", str(clip), "-o", str(out), "--npy", str(npy), "--overlay-video", str(vid), "--stride", "2",
               "--decay-half-life", "0.5", "--colorbar", "--quiet"])
    assert rc == 0 and out.exists() and vid.exists()
    counts = np.load(npy)
    assert np.array_equal(counts, motion_heatmap(clip, "mog", stride=2).result())
    img = cv2.imread(str(out))
    assert img is not None and img.shape[2] == 3
    rc = main(["motion", str(clip), "-o", str(tmp_path / "d.png"), "--method", "diff", "--reference", "median:5",
               "--threshold", "12", "--scale", "0.5", "--start", "0.5s", "--stop", "40", "--background", "median",
               "--vmax", "0.5", "--log", "--quiet"])
    assert rc == 0 and cv2.imread(str(tmp_path / "d.png")).shape == (H, W, 3)


def test_cli_checkpoint_resume(clip, tmp_path):
    ck = tmp_path / "ck.npz"
    a, b = tmp_path / "a.npy", tmp_path / "b.npy"
    assert main(["motion", str(clip), "-o", str(tmp_path / "a.png"), "--npy", str(a), "--quiet"]) == 0
    args = ["motion", str(clip), "-o", str(tmp_path / "b.png"), "--npy", str(b), "--checkpoint", str(ck),
            "--checkpoint-every", "10", "--quiet"]
    assert main(args) == 0 and ck.exists()
    assert main(args) == 0  # rerun: resumes at the end
    assert np.array_equal(np.load(a), np.load(b))


def test_cli_errors(tmp_path, capsys, clip):
    assert main(["motion", str(tmp_path / "missing.mp4"), "-o", str(tmp_path / "x.png"), "--quiet"]) == 2
    assert "heatcore motion: error: no such video" in capsys.readouterr().err
    assert main(["motion", str(clip), "-o", str(tmp_path / "x.png"), "--method", "diff", "--blur", "2",
                 "--quiet"]) == 2
    assert "blur must be odd" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["motion", str(clip), "-o", str(tmp_path / "x.png"), "--start", "soon"])


def test_demo(tmp_path):
    from heatcore.demo import motion_demo

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        files = motion_demo(tmp_path, quiet=True)
    assert all(Path(f).exists() and Path(f).stat().st_size > 0 for f in files)
    counts = np.load(tmp_path / "motion_counts.npy")
    assert counts.max() > 0 and (counts == 0).mean() > 0.05  # moving blobs, some never-touched floor
