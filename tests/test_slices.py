"""Time slices: every slicing adds up exactly to the unsliced heatmap; state, merge, checkpoints."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pytest

import heatcore
from heatcore import FloorplanAccumulator, GridCounter, KDEAccumulator, MotionHeatmap
from heatcore._synthetic import synthetic_people, synthetic_scene
from heatcore.records import Frame
from heatcore.slices import SlicedAccumulator, TimedPoints, parse_slicing, parse_tz

T0 = dt.datetime(2026, 11, 30, 8, 50, tzinfo=dt.timezone.utc).timestamp()  # a Monday


def _timed(records, t0=T0, dt_s=20.0):
    return [replace(r, time=i * dt_s, wall=t0 + i * dt_s) for i, r in enumerate(records)]


def _grid():
    return GridCounter(image_size=(1920, 1080), grid=(32, 18), mode="point")


@pytest.mark.parametrize("slicing", ["15min", "1h", "hour", "weekday", "weekhour", "7min"])
def test_grid_slices_sum_exactly(slicing):
    recs = _timed(synthetic_people(frames=240))  # 80 minutes
    plain = _grid()
    plain.update_batch(recs)
    sl = SlicedAccumulator(_grid, slicing)
    for i in range(0, len(recs), 37):  # odd batches cross slice borders
        sl.update_batch(recs[i:i + 37])
    np.testing.assert_array_equal(sl.total(), plain.result())
    assert sum(sl[k].frames for k in sl.keys()) == len(recs)
    # any range is the heatmap of that range's records
    keys = sl.keys()
    if len(keys) > 1:
        part = _grid()
        for r in recs:
            if sl.key_at(r.wall, "wall") in keys[1:]:
                part.update(r)
        np.testing.assert_array_equal(sl.result(slices=slice(keys[1], None)), part.result())


def test_period_keys_and_labels():
    sl = SlicedAccumulator(_grid, "15min")
    recs = _timed(synthetic_people(frames=10), dt_s=300.0)  # 08:50 .. 09:35
    sl.update_batch(recs)
    assert sl.labels() == ["2026-11-30 08:45", "2026-11-30 09:00", "2026-11-30 09:15", "2026-11-30 09:30"]
    assert [sl[k].frames for k in sl.keys()] == [2, 3, 3, 2]
    assert sl.start_of(sl.keys()[1]) == dt.datetime(2026, 11, 30, 9, tzinfo=dt.timezone.utc).timestamp()
    hours = SlicedAccumulator(_grid, "hour", tz="+02:00")
    hours.update_batch(recs)
    assert hours.keys() == [10, 11] and hours.label(10) == "10-11 h"
    wk = SlicedAccumulator(_grid, "weekhour")
    wk.update_batch(recs)
    assert wk.keys() == [8, 9] and wk.label(9) == "Mon 09-10 h"  # all Mondays 9-10


def test_time_from_start_without_wall_clock():
    recs = [replace(r, time=i * 10.0, wall=None) for i, r in enumerate(synthetic_people(frames=100))]
    sl = SlicedAccumulator(_grid, "5min")
    sl.update_batch(recs)
    assert sl.keys() == [0, 1, 2, 3] and sl.basis == "time"
    assert sl.label(1) == "+0:05:00"
    plain = _grid()
    plain.update_batch(recs)
    np.testing.assert_array_equal(sl.total(), plain.result())


def test_kde_slices_allclose():
    rng = np.random.default_rng(3)
    batches = [TimedPoints(rng.normal([50, 40], 12, (30, 2)), rng.uniform(0.5, 2, 30), wall=T0 + 97.0 * i)
               for i in range(60)]

    def mk():
        return KDEAccumulator((80, 100), 4.0, normalize="count")

    plain = mk()
    for b in batches:
        plain.update(b.xy, b.weights)
    sl = SlicedAccumulator(mk, "15min")
    sl.update_batch(batches)
    assert len(sl) > 3
    np.testing.assert_allclose(sl.total(), plain.result(), rtol=1e-12, atol=1e-12 * plain.result().max())


def _motion_frames(n=60, fps=10.0, t0=T0 + 595.0):
    rng = np.random.default_rng(1)
    out = []
    bg = rng.integers(60, 120, (48, 64), dtype=np.uint8)
    for i in range(n):
        img = bg.copy()
        x = (3 * i) % 56
        img[10:22, x:x + 8] = 230
        img = np.dstack([img, img, img])
        out.append(Frame(i, img, i / fps, t0 + i / fps, "cam"))
    return out


@pytest.mark.parametrize("method", ["mog", "mog2", "diff"])
def test_motion_slices_carry_the_model(method):
    frames = _motion_frames()

    def mk():
        return MotionHeatmap(method, threads=1)

    plain = mk()
    plain.update_batch(frames)
    sl = SlicedAccumulator(mk, "2s")
    for i in range(0, len(frames), 7):
        sl.update_batch(frames[i:i + 7])
    assert len(sl) >= 3
    np.testing.assert_array_equal(sl.total(), plain.result())
    np.testing.assert_allclose(sl.total(normalize=True), plain.result(normalize=True), rtol=1e-12, atol=1e-12)
    # state round trip mid-run continues exactly
    a = SlicedAccumulator(mk, "2s")
    a.update_batch(frames[:25])
    b = heatcore.accumulator.accumulator_from_state({**a.state(), "__kind__": np.array("sliced")})
    b.update_batch(frames[25:])
    np.testing.assert_array_equal(b.total(), plain.result())


def test_floorplan_slices_dwell_and_visitors():
    _, _, H, recs = synthetic_scene(seconds=30, fps=5)
    recs = [replace(r, wall=T0 + r.time * 60) for r in recs]  # 30 s of frames spread over 30 minutes

    def mk():
        return FloorplanAccumulator((400, 300), H, seconds_per_obs=0.2, track=True)

    plain = mk()
    plain.update_batch(recs)
    sl = SlicedAccumulator(mk, "5min")
    sl.update_batch(recs)
    tot = sl.merged()
    np.testing.assert_allclose(tot.dwell(), plain.dwell(), rtol=1e-12, atol=1e-9)
    np.testing.assert_array_equal(tot.visitors(), plain.visitors())
    np.testing.assert_allclose(tot.result(), plain.result(), rtol=1e-12, atol=1e-12 * plain.result().max())


def test_save_load_merge(tmp_path):
    recs = _timed(synthetic_people(frames=200))
    a, b = SlicedAccumulator(_grid, "15min"), SlicedAccumulator(_grid, "15min")
    a.update_batch(recs[:90])
    b.update_batch(recs[90:])
    a.save(tmp_path / "a.npz")
    a2 = heatcore.load_state(tmp_path / "a.npz")
    assert isinstance(a2, SlicedAccumulator) and a2.keys() == a.keys()
    a2.merge(b)
    plain = _grid()
    plain.update_batch(recs)
    np.testing.assert_array_equal(a2.total(), plain.result())
    with pytest.raises(ValueError, match="different configurations"):
        a2.merge(SlicedAccumulator(_grid, "1h"))


def test_pipeline_checkpoint_resume(tmp_path):
    from heatcore.pipeline import Job, run
    from heatcore.sources import RecordsSource

    recs = _timed(synthetic_people(frames=300))

    def job(**kw):
        return Job(RecordsSource(recs, fingerprint={"n": len(recs)}, batch=16),
                   {"s": SlicedAccumulator(_grid, "10min")}, checkpoint=tmp_path / "ck.npz", checkpoint_every=16, **kw)

    r1 = run(job(stop_after=100))
    assert r1.records < len(recs)
    r2 = run(job())
    assert r2.resumed_at > 0
    full = SlicedAccumulator(_grid, "10min")
    full.update_batch(recs)
    assert r2["s"].keys() == full.keys()
    for k in full.keys():
        np.testing.assert_array_equal(r2["s"][k].result(), full[k].result())


def test_hour_of_day_from_file_name_time_stamps(tmp_path):
    cv2 = pytest.importorskip("cv2")
    from heatcore.pipeline import Job, run
    from heatcore.sources import VideoSource, video_time_base

    # two recordings of 6 s at 10 fps: one crosses 10 o'clock, one is on the next day at 9
    names = ["cam1_2026-11-30_09-59-57.avi", "cam1_2026-12-01_09-15-00.avi"]
    frames = _motion_frames(60)
    for name in names:
        w = cv2.VideoWriter(str(tmp_path / name), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (64, 48))
        for f in frames:
            w.write(f.image)
        w.release()
    sl = SlicedAccumulator(lambda: MotionHeatmap("diff", threads=1), "hour")
    for name in names:
        tb = video_time_base(tmp_path / name)
        assert tb.start == heatcore.io.timestamps.start_time_from_name(name)
        run(Job(VideoSource(tmp_path / name, time_base=tb), {"m": sl}))
    assert sl.keys() == [9, 10]
    assert sl[9].frames == 30 + 60 and sl[10].frames == 30


def test_errors():
    with pytest.raises(ValueError, match="'fortnight'"):
        parse_slicing("fortnight")
    with pytest.raises(ValueError, match="tz"):
        parse_tz("+25:00")
    assert parse_slicing("15min") == ("period", 900.0) and parse_tz("-05:30") == -19800.0
    sl = SlicedAccumulator(_grid, "1h")
    with pytest.raises(ValueError, match="has no time"):
        sl.update(np.zeros((0, 4)))
    hours = SlicedAccumulator(_grid, "hour")
    rec = replace(synthetic_people(frames=1)[0], time=5.0, wall=None)
    with pytest.raises(ValueError, match="no wall-clock time"):
        hours.update(rec)
    with pytest.raises(ValueError, match="sliding window"):
        SlicedAccumulator(lambda: GridCounter(window=5), "1h")
    with pytest.raises(TypeError, match="accumulator"):
        SlicedAccumulator(lambda: 3, "1h")  # type: ignore[arg-type, return-value]


def test_a_frame_the_grid_cannot_count_is_raised():
    # point mode with spread 0 and a point on the far border: the AITRIOS sample's crash case
    def mk():
        return GridCounter(image_size=(100, 100), grid=(10, 10), spread=0, mode="point", geometry="aitrios")

    recs = [replace(r, time=float(i)) for i, r in
            enumerate([heatcore.records.Detections(np.array([[10.0, 10, 20, 20]])),
                       heatcore.records.Detections(np.array([[90.0, 90, 110, 100]]))])]
    probe = mk().update_batch(recs)
    if probe.error is None:
        pytest.skip("this geometry counts the border point")
    with pytest.raises(ValueError, match="outside"):
        SlicedAccumulator(mk, "1h").update_batch(recs)


@pytest.mark.parametrize("tz", [None, "+05:30", -8])
def test_calendar_keys_match_datetime(tz):
    rng = np.random.default_rng(7)
    ts = np.concatenate([rng.uniform(0, 2.2e9, 500), [0.0, 86400 * 3 - 1e-6, 1.7e9]])
    from heatcore.slices import parse_tz

    zone = dt.timezone(dt.timedelta(seconds=parse_tz(tz)))
    for slicing in ("hour", "weekday", "weekhour", "15min"):
        sl = SlicedAccumulator(_grid, slicing, tz=tz)
        vec = sl._keys_at(ts, "wall")
        for t, k in zip(ts, vec):
            d = dt.datetime.fromtimestamp(t, zone)
            want = {"hour": d.hour, "weekday": d.weekday(), "weekhour": d.weekday() * 24 + d.hour,
                    "15min": int(np.floor((t + parse_tz(tz)) / 900))}[slicing]
            assert k == want == sl.key_at(t, "wall"), (slicing, t)


def test_batch_and_single_updates_agree():
    recs = _timed(synthetic_people(frames=150), dt_s=7.0)
    a, b = SlicedAccumulator(_grid, "5min"), SlicedAccumulator(_grid, "5min")
    for i in range(0, len(recs), 11):
        a.update_batch(recs[i:i + 11])
    for r in recs:
        b.update(r)
    assert a.keys() == b.keys()
    for k in a.keys():
        np.testing.assert_array_equal(a.footage[k], b.footage[k])
        np.testing.assert_array_equal(a[k].result(), b[k].result())
    assert a.seconds() == pytest.approx(len(recs) * 7.0)
