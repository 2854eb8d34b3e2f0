"""Motion where and when: the library helpers behind `heatcore motion` (positions, reference
text, background choice), time slices and zones of a motion run, and the CLI with its report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from heatcore._synthetic import write_synthetic_video
from heatcore.cli import main
from heatcore.motion import (MotionHeatmap, describe_reference, motion_heatmap, parse_position, range_kwargs,
                             split_background)

W, H, N = 96, 64, 48


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return write_synthetic_video(tmp_path_factory.mktemp("mww") / "clip.avi", W, H, N, fps=8.0, seed=5)


# -- helpers moved out of the CLI ------------------------------------------------------------------
@pytest.mark.parametrize("text, want", [
    ("120", ("frame", 120)), (" 7 ", ("frame", 7)), ("12.5s", ("time", 12.5)), ("3s", ("time", 3.0)),
    ("1:30", ("time", 90.0)), ("0:00.5", ("time", 0.5)), ("1:02:03.5", ("time", 3723.5)),
])
def test_parse_position(text, want):
    kind, value = parse_position(text)
    assert (kind, value) == want and type(value) is type(want[1])


@pytest.mark.parametrize("bad", ["soon", "", "-3", "1.5", "12.5 s", "1:2:3:4", "s"])
def test_parse_position_rejects_with_the_text(bad):
    with pytest.raises(ValueError, match=repr(bad).replace("[", r"\[")):
        parse_position(bad)
    with pytest.raises(TypeError):
        parse_position(12)  # type: ignore[arg-type]


def test_range_kwargs():
    assert range_kwargs() == {}
    assert range_kwargs("10", "2:00") == {"start": 10, "stop_time": 120.0}
    assert range_kwargs(("time", 1.5), ("frame", 30)) == {"start_time": 1.5, "stop": 30}


def test_split_background(tmp_path):
    import cv2

    assert split_background("first") == ("first", None)
    assert split_background("median") == ("median", None)
    assert split_background("none") == (None, None) and split_background(None) == (None, None)
    img = np.zeros((8, 10, 3), np.uint8)
    img[2, 3] = (1, 2, 3)
    cv2.imwrite(str(tmp_path / "bg.png"), img)
    keep, pic = split_background(str(tmp_path / "bg.png"))
    assert keep == "first" and pic is not None and np.array_equal(pic, img)
    with pytest.raises(FileNotFoundError):
        split_background(str(tmp_path / "missing.png"))


def test_describe_reference(clip, tmp_path):
    acc = MotionHeatmap("diff")
    assert describe_reference(acc) == "the first processed frame"
    assert describe_reference(acc, "first") == "the first processed frame"
    assert describe_reference(acc, "median:5") == "the first processed frame"
    assert describe_reference(acc, "empty.png", "ref.png") == "image empty.png (saved to ref.png)"
    med = motion_heatmap(clip, "diff", reference="median:5", decoder="opencv")
    want = [int((i + 0.5) * N / 5) for i in range(5)]
    assert med.reference_frames == want
    assert describe_reference(med, "median:5") == "per-pixel median of 5 frames: " + ", ".join(map(str, want))
    one = motion_heatmap(clip, "diff", reference="first", start=3, save_reference=tmp_path / "r.png",
                         decoder="opencv")
    assert describe_reference(one, "first", tmp_path / "r.png") == f"frame 3 (saved to {tmp_path / 'r.png'})"


def test_cli_start_stop_error_is_one_line(clip, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["motion", str(clip), "-o", str(tmp_path / "x.png"), "--start", "soon"])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].endswith("argument --start: 'soon' is not a frame number, seconds (12.5s) or m:ss")


# -- motion per zone: the kernels' masks counted per zone, against NumPy -------------------------------
def _zone_masks_oracle(zones: dict, shape, scale: float) -> dict[str, np.ndarray]:
    """Pixel centres inside each polygon by matplotlib's Path (an independent point-in-polygon;
    the polygons' vertices avoid the centres, so boundary rules do not matter)."""
    from matplotlib.path import Path as MplPath

    h, w = shape
    gx, gy = np.meshgrid((np.arange(w) + 0.5) / scale, (np.arange(h) + 0.5) / scale)
    pts = np.stack([gx.ravel(), gy.ravel()], 1)
    return {n: MplPath(np.asarray(p, float)).contains_points(pts).reshape(h, w) for n, p in zones.items()}


ZONES = {"left": [[0, 0], [48, 0], [48, 64], [0, 64]], "right": [[48, 0], [96, 0], [96, 64], [48, 64]],
         "tri": [[10.3, 6.1], [90.2, 20.7], [40.1, 58.3]]}  # vertices off the pixel-centre lattice


@pytest.mark.parametrize("method, kw", [
    ("mog", {"batch": 8}), ("mog", {"backend": "numpy"}), ("mog", {"scale": 0.5, "gray": True, "batch": 4}),
    ("mog2", {"batch": 8}), ("mog2", {"count_shadows": True}), ("diff", {"threshold": 10}),
    ("diff", {"threshold": 6, "backend": "numpy", "reference": "median:4"}),
])
def test_motion_zones_match_numpy(method, kw):
    from heatcore._synthetic import synthetic_frames

    frames = list(synthetic_frames(W, H, 40, seed=3, blobs=3))
    roi = np.ones((H, W), np.uint8)
    roi[:, 80:] = 0  # part of "right" is outside the ROI
    acc = MotionHeatmap(method, roi=roi, zones=ZONES, zone_min_fraction=0.02, seconds_per_frame=0.25, **kw)
    twin_kw = {k: v for k, v in kw.items() if k != "batch"}
    twin = MotionHeatmap(method, roi=roi, **twin_kw)
    masks = []
    for f in frames:
        acc.update(f)
        masks.append(twin.update(f, return_mask=True))
    # with a median reference the first K frames wait for it (their masks come later, inside the
    # accumulator): there the zones are checked against the heatmap's counts only
    per_frame_known = "reference" not in kw
    grid = acc.result()
    np.testing.assert_array_equal(grid, twin.result())
    h, w = grid.shape
    scale = kw.get("scale", 1.0)
    inside = np.asarray(__import__("cv2").resize(roi, (w, h), interpolation=0)) != 0
    zm = _zone_masks_oracle(ZONES, (h, w), scale)
    moving_want, active_want, pixels = [], [], []
    for n in ZONES:
        m = zm[n] & inside
        px = int(m.sum())
        need = max(1, int(np.ceil(0.02 * px)))
        per_frame = []
        for mk in masks:
            mv = mk == 255 if method == "mog2" else mk != 0
            if method == "mog2" and kw.get("count_shadows"):
                mv |= mk == 127
            per_frame.append(int(np.count_nonzero(mv & m)))
        moving_want.append(int(grid[m].sum()))  # the zone's sum of the heatmap's counts
        if per_frame_known:
            assert sum(per_frame) == moving_want[-1]
        active_want.append(sum(c >= need for c in per_frame))
        pixels.append(px)
    zs = acc.zone_stats
    np.testing.assert_array_equal(zs.pixels, pixels)
    np.testing.assert_array_equal(zs.moving, moving_want)
    if per_frame_known:
        np.testing.assert_array_equal(zs.active, active_want)
    assert 0 < zs.active[0] < len(frames)
    v = acc.zone_values()
    n = acc.frames
    np.testing.assert_allclose(v["motion_fraction"], zs.moving / (np.array(pixels) * n))
    np.testing.assert_allclose(v["motion_frames"], zs.active / n)
    np.testing.assert_allclose(v["motion_s"], zs.active * 0.25)
    np.testing.assert_allclose(v["motion_px_s"], zs.moving * 0.25 / scale ** 2)


def test_motion_zones_bad_input(tmp_path):
    with pytest.raises(ValueError, match="threshold"):
        MotionHeatmap("diff", zones=ZONES)  # plain diff has no yes/no motion
    with pytest.raises(ValueError, match="image pixels"):
        MotionHeatmap("mog", zones={"units": "plan", "zones": ZONES})
    with pytest.raises(ValueError, match="zone_min_fraction"):
        MotionHeatmap("mog", zones=ZONES, zone_min_fraction=2)
    with pytest.raises(FileNotFoundError, match="missing.json"):
        MotionHeatmap("mog", zones=tmp_path / "missing.json")
    with pytest.raises(ValueError, match="counts no zones"):
        MotionHeatmap("mog").zone_values()
    with pytest.raises(ValueError, match="seconds_per_frame"):
        MotionHeatmap("mog", seconds_per_frame=0)


def test_motion_zones_state_merge_and_release():
    from heatcore._synthetic import synthetic_frames

    frames = list(synthetic_frames(W, H, 30, seed=2, blobs=2))
    full = MotionHeatmap("mog", zones=ZONES)
    for f in frames:
        full.update(f)
    a = MotionHeatmap("mog", zones=ZONES)
    for f in frames[:13]:
        a.update(f)
    b = MotionHeatmap.from_state(a.state())  # resume: the model and the zone counts continue
    for f in frames[13:]:
        b.update(f)
    np.testing.assert_array_equal(b.result(), full.result())
    np.testing.assert_array_equal(b.zone_stats.moving, full.zone_stats.moving)
    np.testing.assert_array_equal(b.zone_stats.active, full.zone_stats.active)
    # merge adds the zone counts of disjoint runs
    c = MotionHeatmap("mog", zones=ZONES)
    for f in frames[:10]:
        c.update(f)
    d = MotionHeatmap("mog", zones=ZONES)
    for f in frames[10:]:
        d.update(f)
    want = c.zone_stats.moving + d.zone_stats.moving, c.zone_stats.active + d.zone_stats.active
    c.merge(d)
    np.testing.assert_array_equal(c.zone_stats.moving, want[0])
    np.testing.assert_array_equal(c.zone_stats.active, want[1])
    with pytest.raises(ValueError, match="different configurations"):
        c.merge(MotionHeatmap("mog", zones={"a": ZONES["left"]}))
    # a released model: smaller state, same counts, no more updates
    st = full.state()
    full.release_model()
    small = full.state()
    assert "mog_mean" in st and "mog_mean" not in small and int(small["released"]) == 1
    back = MotionHeatmap.from_state(small)
    np.testing.assert_array_equal(back.result(), full.result())
    np.testing.assert_array_equal(back.zone_values()["motion_frames"], full.zone_values()["motion_frames"])
    with pytest.raises(RuntimeError, match="handed its background model on"):
        back.update(frames[0])


# -- time slices of a motion run --------------------------------------------------------------------
@pytest.mark.parametrize("method, kw", [("mog", {}), ("diff", {}), ("diff", {"threshold": 12, "zones": ZONES}),
                                        ("mog", {"zones": ZONES, "scale": 0.5})])
def test_sliced_motion_sums_to_the_unsliced_run(clip, method, kw):
    plain = motion_heatmap(clip, method, decoder="opencv", **kw)
    sliced = motion_heatmap(clip, method, decoder="opencv", slice="2s", **kw)
    s = sliced.sliced
    assert s is not None and plain.sliced is None
    assert s.keys() == [0, 1, 2] and s.basis == "time"  # 48 frames at 8 fps: 6 s, no time stamp in the name
    assert [s[k].frames for k in s.keys()] == [16, 16, 16]
    np.testing.assert_array_equal(sliced.result(), plain.result())
    np.testing.assert_array_equal(sum(s[k].result() for k in s.keys()), plain.result())
    assert sliced.frames == plain.frames == N
    # one background model is held: finished slices handed theirs on
    assert [s[k]._model is None for k in s.keys()] == ([True, True, False] if method != "diff" else [True] * 3)
    if "zones" in kw:
        for name in ("moving", "active"):
            total = sum(getattr(s[k].zone_stats, name) for k in s.keys())
            np.testing.assert_array_equal(total, getattr(plain.zone_stats, name))
        v = sliced.zone_values()
        np.testing.assert_allclose(v["motion_s"], plain.zone_stats.active * (1 / 8))


def test_motion_slices_by_wall_clock_from_the_file_name(tmp_path):
    clip = write_synthetic_video(tmp_path / "cam1_2026-11-30_09-59-58.avi", W, H, N, fps=8.0, seed=5)
    acc = motion_heatmap(clip, "mog", slice="1min", decoder="opencv")
    s = acc.sliced
    assert s.basis == "wall" and s.labels() == ["2026-11-30 09:59", "2026-11-30 10:00"]
    assert [s[k].frames for k in s.keys()] == [16, 32]  # 2 s before 10:00 at 8 fps
    hours = motion_heatmap(clip, "mog", slice="hour", decoder="opencv").sliced
    assert hours.keys() == [9, 10]
    local = motion_heatmap(clip, "mog", slice="hour", tz="+02:00", decoder="opencv").sliced
    assert local.keys() == [11, 12] and [local[k].frames for k in local.keys()] == [16, 32]
    given = motion_heatmap(clip, "mog", slice="hour", start_wall=472222 * 3600.0 - 1, decoder="opencv").sliced
    assert [given[k].frames for k in given.keys()] == [8, 40]  # 1 s before the hour at 8 fps: 8 frames
    plain = tmp_path / "clip.avi"
    plain.write_bytes(clip.read_bytes())
    with pytest.raises(ValueError, match="wall-clock"):
        motion_heatmap(plain, "mog", slice="hour", decoder="opencv")
    with pytest.raises(ValueError, match="slicing"):
        motion_heatmap(plain, "mog", slice="7x")
    with pytest.raises(ValueError, match="tz"):
        motion_heatmap(plain, "mog", slice="1h", tz="mars")


def test_sliced_motion_checkpoint_resumes_exactly(clip, tmp_path):
    ck = tmp_path / "ck.npz"
    want = motion_heatmap(clip, "mog", slice="2s", zones=ZONES, decoder="opencv")

    class Killed(Exception):
        pass

    def stop(acc, done):
        if done >= 21:
            raise Killed

    with pytest.raises(Killed):
        motion_heatmap(clip, "mog", slice="2s", zones=ZONES, decoder="opencv", checkpoint=ck, checkpoint_every=5,
                       on_frame=stop)
    assert ck.exists()
    got = motion_heatmap(clip, "mog", slice="2s", zones=ZONES, decoder="opencv", checkpoint=ck,
                         checkpoint_every=5, on_frame=lambda acc, done: None)
    for k in want.sliced.keys():
        np.testing.assert_array_equal(got.sliced[k].result(), want.sliced[k].result())
        np.testing.assert_array_equal(got.sliced[k].zone_stats.active, want.sliced[k].zone_stats.active)
    np.testing.assert_array_equal(got.result(), want.result())


# -- the CLI ------------------------------------------------------------------------------------------
def test_cli_motion_slices_zones_and_report(tmp_path, capsys):
    import json

    clip = write_synthetic_video(tmp_path / "cam1_2026-11-30_09-59-58.avi", W, H, N, fps=8.0, seed=5)
    zones = tmp_path / "zones.json"
    zones.write_text(json.dumps({"zones": [{"name": n, "polygon": p} for n, p in ZONES.items()]}))
    out = tmp_path / "out" / "heat.png"
    rc = main(["motion", str(clip), "-o", str(out), "--slice", "1min", "--zones", str(zones), "--tz", "+01:00",
               "--npy", str(tmp_path / "heat.npy"), "--quiet"])
    assert rc == 0 and out.exists()
    folder = tmp_path / "out" / "heat_report"
    assert f"heatcore report {folder}" in capsys.readouterr().out
    run = json.loads((folder / "run.json").read_text())
    assert run["heat"] == run["motion"] == "sliced" and run["zones"] == "zones.json"
    assert run["meta"]["slicing"] == "1min" and run["meta"]["frames"] == N
    # the saved slices hold no background model; they add up to the heatmap the CLI wrote
    from heatcore.accumulator import load_state

    s = load_state(folder / "sliced.npz")
    assert s.inner_kind == "motion" and s.labels() == ["2026-11-30 10:59 (UTC+1)", "2026-11-30 11:00 (UTC+1)"]
    assert all(s[k]._model is None for k in s.keys())
    np.testing.assert_array_equal(s.total(), np.load(tmp_path / "heat.npy"))
    assert (folder / "sliced.npz").stat().st_size < 200_000
    assert main(["report", str(folder)]) == 0
    html = (folder / "report.html").read_text()
    assert "frames with motion in the zone (fraction)" in html and 'id="slider"' in html
    data = json.loads(html.split('id="report-data">', 1)[1].split("</script>", 1)[0].replace("<\\/", "</"))
    rows = data["zones"]
    assert {r["zone"] for r in rows} == set(ZONES) and {r["slice"] for r in rows} == {"all", *s.labels()}
    whole = {r["zone"]: r for r in rows if r["slice"] == "all"}
    acc = motion_heatmap(clip, "mog", zones=ZONES)
    v = acc.zone_values()
    for i, name in enumerate(ZONES):
        assert whole[name]["motion_frames"] == pytest.approx(v["motion_frames"][i])
        assert whole[name]["motion_s"] == pytest.approx(v["motion_s"][i])
        assert whole[name]["motion_px_s"] == pytest.approx(v["motion_px_s"][i])
    # zones without slices: the whole-run heatmap and its zone counts
    rc = main(["motion", str(clip), "-o", str(tmp_path / "z.png"), "--zones", str(zones), "--method", "diff",
               "--threshold", "12", "--report-dir", str(tmp_path / "zr"), "--quiet"])
    assert rc == 0 and json.loads((tmp_path / "zr" / "run.json").read_text())["heat"] == "motion"
    assert main(["report", str(tmp_path / "zr")]) == 0


@pytest.mark.parametrize("extra, message", [
    (["--slice", "7x"], "slicing must be a period such as '15min'"),
    (["--zones", "missing.json"], "no such zones file: missing.json"),
    (["--slice", "1h", "--tz", "mars"], "tz must be hours east of UTC"),
    (["--zones", "ZONES", "--method", "diff"], "give a threshold (--threshold N) for method 'diff'"),
    (["--zones", "ZONES", "--zone-min-fraction", "3"], "zone_min_fraction must be a fraction"),
    (["--slice", "hour"], "has no wall-clock time"),
    (["--slice", "1h", "--report-dir", "z.json"], "--report-dir z.json is a file"),
])
def test_cli_bad_where_when_values_are_one_line(clip, tmp_path, capsys, monkeypatch, extra, message):
    import json

    monkeypatch.chdir(tmp_path)
    (tmp_path / "z.json").write_text(json.dumps(ZONES))
    extra = [str(tmp_path / "z.json") if e == "ZONES" else e for e in extra]
    rc = main(["motion", str(clip), "-o", str(tmp_path / "x.png"), "--quiet", *extra])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and err[0].startswith("heatcore motion: error: ") and message in err[0], err
    assert not (tmp_path / "x.png").exists() and not (tmp_path / "x_report").exists()


def test_sliced_motion_needs_the_frames_time(tmp_path):
    import cv2

    from heatcore._synthetic import synthetic_frames

    d = tmp_path / "frames"
    d.mkdir()
    for i, f in enumerate(synthetic_frames(32, 24, 4)):
        cv2.imwrite(str(d / f"{i:03d}.png"), f)
    with pytest.raises(ValueError, match="no frame rate"):
        motion_heatmap(d, "mog", slice="1h")
    with pytest.raises(ValueError, match="start_wall"):
        motion_heatmap(write_synthetic_video(tmp_path / "c.avi", 32, 24, 4), "mog", slice="1h", start_wall=float("nan"))
    assert motion_heatmap(d, "mog", zones={"all": [[0, 0], [32, 0], [32, 24], [0, 24]]}).zone_values()["motion_s"][0] \
        != motion_heatmap(d, "mog", zones={"all": [[0, 0], [32, 0], [32, 24], [0, 24]]}).zone_values()["motion_s"][0]  # NaN: no fps


def test_sliced_motion_with_an_overlay_video(clip, tmp_path):
    """The overlay video needs the running total: the whole-run heatmap is then counted beside the
    slices, and both agree."""
    acc = motion_heatmap(clip, "mog", slice="2s", video=tmp_path / "o.mp4", decoder="opencv")
    assert (tmp_path / "o.mp4").stat().st_size > 0
    np.testing.assert_array_equal(acc.result(), acc.sliced.total())
    np.testing.assert_array_equal(acc.result(), motion_heatmap(clip, "mog", decoder="opencv").result())


def test_cli_zones_are_outlined_and_summarised(clip, tmp_path, capsys):
    import json

    import cv2

    zones = tmp_path / "z.json"
    zones.write_text(json.dumps({"left": ZONES["left"]}))
    assert main(["motion", str(clip), "-o", str(tmp_path / "a.png"), "--decoder", "opencv", "--quiet"]) == 0
    assert main(["motion", str(clip), "-o", str(tmp_path / "b.png"), "--decoder", "opencv", "--zones", str(zones)]) == 0
    out = capsys.readouterr().out
    v = motion_heatmap(clip, "mog", zones={"left": ZONES["left"]}).zone_values()
    assert f"zone left: motion in {100 * v['motion_frames'][0]:.1f} % of the frames ({v['motion_s'][0]:.1f} s)" in out
    a, b = cv2.imread(str(tmp_path / "a.png")), cv2.imread(str(tmp_path / "b.png"))
    changed = np.any(a != b, axis=2)
    assert changed[:, 46:50].mean() > 0.9  # the outline along x = 48 (the zone's right edge)
    assert not changed[30:, 60:].any()  # far from the outline and the label nothing changed


def test_motion_slices_by_the_containers_creation_time(tmp_path):
    av = pytest.importorskip("av")
    from heatcore._synthetic import synthetic_frames

    path = tmp_path / "clip.mp4"
    try:
        c = av.open(str(path), "w")
        c.metadata["creation_time"] = "2026-11-30T09:59:58.000000Z"
        s = c.add_stream("mpeg4", rate=8)
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"this PyAV cannot write mpeg4: {exc}")
    s.width, s.height, s.pix_fmt = W, H, "yuv420p"
    for f in synthetic_frames(W, H, N, seed=5):
        for pk in s.encode(av.VideoFrame.from_ndarray(f, format="bgr24")):
            c.mux(pk)
    for pk in s.encode():
        c.mux(pk)
    c.close()
    acc = motion_heatmap(path, "mog", slice="1min")
    assert acc.sliced.labels() == ["2026-11-30 09:59", "2026-11-30 10:00"]
    assert [acc.sliced[k].frames for k in acc.sliced.keys()] == [16, 32]
