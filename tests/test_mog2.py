"""The own MOG2 kernel (_core.Mog2Model): vs its NumPy twin (hypothesis), vs OpenCV's
BackgroundSubtractorMOG2 (synthetic clip and the campus video), state export/import, threads,
the SIMD path vs the scalar path, bad input, and MotionHeatmap("mog2") checkpoints."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heatcore import _core
from heatcore.io.video import iter_frames
from heatcore._synthetic import synthetic_frames, write_synthetic_video
from heatcore.motion import MotionHeatmap, motion_heatmap
from heatcore.reference.mog2 import Mog2Reference

W, H, N = 96, 72, 50

_CV_SETTERS = {"nmixtures": "setNMixtures", "background_ratio": "setBackgroundRatio",
               "var_threshold_gen": "setVarThresholdGen", "var_init": "setVarInit", "var_min": "setVarMin",
               "var_max": "setVarMax", "complexity_reduction_threshold": "setComplexityReductionThreshold",
               "shadow_value": "setShadowValue", "shadow_threshold": "setShadowThreshold"}


def _opencv(history=500, var_threshold=16.0, detect_shadows=True, **kw):
    m = cv2.createBackgroundSubtractorMOG2(history, var_threshold, detect_shadows)
    for k, v in kw.items():
        getattr(m, _CV_SETTERS[k])(v)
    return m


def _frames(n, w, h, channels, seed=0):
    for f in synthetic_frames(w, h, n, seed=seed, blobs=3):
        yield f if channels == 3 else cv2.cvtColor(f, cv2.COLOR_BGR2GRAY)


@pytest.fixture(scope="module")
def clip_frames() -> list[np.ndarray]:
    return list(_frames(N, W, H, 3, seed=3))


def _same_state(a: dict, b: dict) -> bool:
    # NaN (OpenCV's MIN/MAX keep it, e.g. with history=1) must sit in the same places in both
    return a["nframes"] == b["nframes"] and all(np.array_equal(a[k], b[k], equal_nan=a[k].dtype.kind == "f")
                                                for k in ("weight", "var", "mean", "modes_used"))


# ---------------------------------------------------------------------------------------------
# C++ vs the NumPy twin
# ---------------------------------------------------------------------------------------------
@st.composite
def _cases(draw):
    h = draw(st.integers(1, 6))
    w = draw(st.integers(1, 19))  # widths that are not multiples of the 8-pixel blocks
    c = draw(st.sampled_from([1, 3]))
    params = dict(history=draw(st.integers(1, 30)), var_threshold=draw(st.sampled_from([4.0, 16.0, 40.5])),
                  detect_shadows=draw(st.booleans()), nmixtures=draw(st.integers(1, 6)),
                  background_ratio=draw(st.sampled_from([0.5, 0.9, 1.0])),
                  var_threshold_gen=draw(st.sampled_from([4.0, 9.0, 25.0])),
                  var_init=draw(st.sampled_from([5.0, 15.0])), var_min=draw(st.sampled_from([2.0, 4.0])),
                  var_max=draw(st.sampled_from([30.0, 75.0])),
                  complexity_reduction_threshold=draw(st.sampled_from([0.0, 0.05, 0.3])),
                  shadow_threshold=draw(st.sampled_from([0.5, 0.8])))
    nf = draw(st.integers(1, 14))
    seed = draw(st.integers(0, 2**31))
    rates = draw(st.lists(st.sampled_from([-1.0, -1.0, -1.0, 0.0, 0.05, 0.5, 1.0]), min_size=nf, max_size=nf))
    return h, w, c, params, nf, seed, rates


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_cases())
def test_cpp_matches_numpy_twin(case):
    h, w, c, params, nf, seed, rates = case
    rng = np.random.default_rng(seed)
    # a few grey levels around a base image, so components match, split and get pruned
    base = rng.integers(0, 256, size=(h, w, c) if c == 3 else (h, w))
    a = _core.Mog2Model(w, h, c, **params)
    b = Mog2Reference(w, h, c, **params)
    roi = (rng.random((h, w)) > 0.3).astype(np.uint8)
    ca, cb = np.zeros((h, w), np.uint32), np.zeros((h, w), np.uint32)
    for i in range(nf):
        jump = rng.choice([0, 0, 3, 12, 60], size=base.shape)
        frame = np.clip(base + jump * rng.choice([-1, 1], size=base.shape), 0, 255).astype(np.uint8)
        ma = a.apply(frame, counts=ca, roi=roi, learning_rate=rates[i], threads=2, count_shadows=i % 2 == 1)
        mb = b.apply(frame, counts=cb, roi=roi, learning_rate=rates[i], count_shadows=i % 2 == 1)
        assert np.array_equal(ma, mb), f"frame {i}"
        assert _same_state(a.get_state(), b.get_state()), f"state after frame {i}"
    assert np.array_equal(ca, cb)


# ---------------------------------------------------------------------------------------------
# C++ vs OpenCV
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("shadows", [True, False])
@pytest.mark.parametrize("opencv_threads", [1, 0])
def test_masks_equal_opencv_synthetic(clip_frames, channels, shadows, opencv_threads):
    frames = clip_frames if channels == 3 else [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in clip_frames]
    old = cv2.getNumThreads()
    cv2.setNumThreads(opencv_threads if opencv_threads else old)
    try:
        ref = _opencv(detect_shadows=shadows)
        ours = _core.Mog2Model(W, H, channels, detect_shadows=shadows)
        seen = set()
        for i, f in enumerate(frames):
            a, b = ref.apply(f), ours.apply(f, threads=2)
            assert np.array_equal(a, b), f"frame {i}: {(a != b).sum()} pixels differ"
            seen |= set(np.unique(b).tolist())
    finally:
        cv2.setNumThreads(old)
    assert seen == ({0, 127, 255} if shadows else {0, 255})


def test_masks_equal_opencv_other_parameters(clip_frames):
    params = dict(history=20, var_threshold=25.0, nmixtures=3, background_ratio=0.7, var_threshold_gen=6.0,
                  var_init=11.0, var_min=3.0, var_max=40.0, complexity_reduction_threshold=0.1, shadow_value=90,
                  shadow_threshold=0.6)
    ref, ours = _opencv(**params), _core.Mog2Model(W, H, 3, **params)
    for i, f in enumerate(clip_frames):
        assert np.array_equal(ref.apply(f), ours.apply(f)), f"frame {i}"


def test_learning_rates_equal_opencv(clip_frames):
    ref, ours = _opencv(history=50), _core.Mog2Model(W, H, 3, history=50)
    rates = [-1, -1, 0.2, 0.0, 0.0, -1, 0.01, 1.0, -1, 0.5] * 5
    for i, (f, lr) in enumerate(zip(clip_frames, rates)):
        assert np.array_equal(ref.apply(f, learningRate=lr), ours.apply(f, learning_rate=lr)), f"frame {i}"
    assert ours.nframes == 3  # restarted (lr = 1.0) at the 8th frame of the last block of ten


@pytest.mark.parametrize("channels,shadows", [(3, True), (1, True), (3, False)])
def test_masks_equal_opencv_campus(campus_video, channels, shadows):
    old = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        ref = _opencv(detect_shadows=shadows)
        ours = None
        for i, f in iter_frames(campus_video, stop=120, gray=channels == 1, backend="opencv"):
            if ours is None:
                ours = _core.Mog2Model(f.shape[1], f.shape[0], channels, detect_shadows=shadows)
            a, b = ref.apply(f), ours.apply(f, threads=2)
            assert np.array_equal(a, b), f"frame {i}: {(a != b).sum()} pixels differ"
    finally:
        cv2.setNumThreads(old)
    assert ours is not None and ours.nframes == 120


# ---------------------------------------------------------------------------------------------
# state, threads, SIMD vs scalar
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("channels", [1, 3])
def test_state_resume_exact(clip_frames, channels):
    frames = clip_frames if channels == 3 else [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in clip_frames]
    whole = _core.Mog2Model(W, H, channels)
    masks = [whole.apply(f) for f in frames]
    part = _core.Mog2Model(W, H, channels)
    for f in frames[:17]:
        part.apply(f)
    s = part.get_state()
    assert s["nframes"] == 17 and s["weight"].shape == (H, W, 5) and s["mean"].shape == (H, W, 5, channels)
    used = s["modes_used"]
    assert used.min() >= 1 and used.max() > 1
    # weights of used components sum to ~1 and are sorted in decreasing order
    live = np.arange(5)[None, None, :] < used[..., None]
    assert np.allclose(np.where(live, s["weight"], 0).sum(-1), 1, atol=1e-4)
    assert (np.diff(s["weight"], axis=-1) <= 0).all()
    resumed = _core.Mog2Model(W, H, channels)
    resumed.set_state(**s)
    twin = Mog2Reference(W, H, channels)
    twin.set_state(**s)
    for i, f in enumerate(frames[17:], 17):
        m = resumed.apply(f)
        assert np.array_equal(m, masks[i]) and np.array_equal(twin.apply(f), m), f"frame {i}"
    assert _same_state(resumed.get_state(), whole.get_state())


def test_threads_identical(clip_frames):
    models = [_core.Mog2Model(W, H, 3) for _ in range(3)]
    for f in clip_frames[:20]:
        a, b, c = (m.apply(f, threads=t) for m, t in zip(models, (1, 3, 0)))
        assert np.array_equal(a, b) and np.array_equal(a, c)
    assert _same_state(models[0].get_state(), models[1].get_state())


@pytest.mark.parametrize("channels", [1, 3])
def test_simd_path_equals_scalar_path(channels):
    w, h = 37, 23  # blocks of 8 plus a 5-pixel tail
    frames = list(_frames(40, w, h, channels, seed=9))
    fast, slow = _core.Mog2Model(w, h, channels), _core.Mog2Model(w, h, channels)
    try:
        for i, f in enumerate(frames):
            _core.Mog2Model._set_simd_enabled(True)
            a = fast.apply(f, learning_rate=0.0 if i == 30 else -1.0)
            _core.Mog2Model._set_simd_enabled(False)
            b = slow.apply(f, learning_rate=0.0 if i == 30 else -1.0)
            assert np.array_equal(a, b), f"frame {i}"
    finally:
        _core.Mog2Model._set_simd_enabled(True)
    assert _same_state(fast.get_state(), slow.get_state())
    assert _core.Mog2Model.simd_path in ("avx2", "scalar")


@pytest.mark.parametrize("channels", [1, 3])
def test_batches_identical(clip_frames, channels):
    frames = clip_frames if channels == 3 else [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in clip_frames]
    roi = np.ones((H, W), np.uint8)
    roi[:, : W // 3] = 0
    one, many = _core.Mog2Model(W, H, channels), _core.Mog2Model(W, H, channels)
    c1, c2 = np.zeros((H, W), np.uint32), np.zeros((H, W), np.uint32)
    masks = [one.apply(f, counts=c1, roi=roi, count_shadows=True) for f in frames]
    got = [many.apply_frames(frames[:7], counts=c2, roi=roi, return_mask=True, count_shadows=True)]
    got.append(many.apply_frames(np.stack(frames[7:20]), counts=c2, roi=roi, return_mask=True, count_shadows=True,
                                 threads=2))
    assert many.apply_frames(frames[20:], counts=c2, roi=roi, count_shadows=True) is None
    assert np.array_equal(np.concatenate(got), np.stack(masks[:20]))
    assert np.array_equal(c1, c2) and c1.max() > 0
    assert _same_state(one.get_state(), many.get_state())
    # learning rates apply to every frame of the batch; >= 1 restarts at each frame (as one by one)
    for lr in (0.02, 1.0):
        a, b = _core.Mog2Model(W, H, channels), _core.Mog2Model(W, H, channels)
        ma = [a.apply(f, learning_rate=lr) for f in frames[:6]]
        mb = b.apply_frames(frames[:6], learning_rate=lr, return_mask=True)
        assert np.array_equal(np.stack(ma), mb) and _same_state(a.get_state(), b.get_state())
    with pytest.raises(ValueError, match="frame has shape"):
        many.apply_frames([frames[0], frames[0][:5]])


def test_motion_heatmap_mog2_batch_identical(clip_frames, tmp_path):
    one = MotionHeatmap("mog2", count_shadows=True)
    for f in clip_frames:
        one.update(f)
    batched = MotionHeatmap("mog2", count_shadows=True, batch=6)
    for f in clip_frames[:21]:  # 3 frames still queued
        batched.update(f)
    resumed = MotionHeatmap.load(batched.save(tmp_path / "b.npz"))  # save flushes the queue
    for f in clip_frames[21:]:
        resumed.update(f)
    assert resumed.batch == 6 and np.array_equal(resumed.result(), one.result())
    assert _same_state(resumed._model.get_state(), one._model.get_state())


def test_counts_and_roi():
    frames = list(_frames(30, 40, 30, 3, seed=2))
    roi = np.zeros((30, 40), np.uint8)
    roi[:, :20] = 1
    m = _core.Mog2Model(40, 30, 3)
    counts = np.zeros((30, 40), np.uint32)
    expect = np.zeros((30, 40), np.uint32)
    for f in frames:
        mask = m.apply(f, counts=counts, roi=roi)
        expect += (mask == 255) & (roi != 0)
    assert np.array_equal(counts, expect) and counts.max() > 0
    assert m.apply(frames[0], return_mask=False) is None


def test_bad_input():
    m = _core.Mog2Model(16, 8, 3)
    with pytest.raises(ValueError, match=r"\(8, 16, 3\)"):
        m.apply(np.zeros((8, 16), np.uint8))
    with pytest.raises(ValueError, match="counts"):
        m.apply(np.zeros((8, 16, 3), np.uint8), counts=np.zeros((8, 15), np.uint32))
    with pytest.raises(TypeError, match="uint32"):
        m.apply(np.zeros((8, 16, 3), np.uint8), counts=np.zeros((8, 16), np.int64))
    with pytest.raises(ValueError, match="roi"):
        m.apply(np.zeros((8, 16, 3), np.uint8), roi=np.ones((4, 4), np.uint8))
    with pytest.raises(ValueError, match="nmixtures"):
        _core.Mog2Model(16, 8, 3, nmixtures=0)
    with pytest.raises(ValueError, match="channels"):
        _core.Mog2Model(16, 8, 2)
    with pytest.raises(ValueError, match="positive"):
        _core.Mog2Model(0, 8, 1)
    s = m.get_state()
    with pytest.raises(ValueError, match="weight"):
        m.set_state(s["nframes"], s["weight"][:, :4], s["var"], s["mean"], s["modes_used"])
    with pytest.raises(ValueError, match="modes_used has 9"):
        m.set_state(1, s["weight"], s["var"], s["mean"], np.full((8, 16), 9, np.uint8))
    with pytest.raises(ValueError, match="nframes"):
        m.set_state(-1, s["weight"], s["var"], s["mean"], s["modes_used"])


# ---------------------------------------------------------------------------------------------
# MotionHeatmap("mog2")
# ---------------------------------------------------------------------------------------------
def test_motion_heatmap_mog2_numpy_backend_matches_cpp(clip_frames):
    a, b = MotionHeatmap("mog2"), MotionHeatmap("mog2", backend="numpy", count_shadows=False)
    for f in clip_frames[:12]:
        assert np.array_equal(a.update(f, return_mask=True), b.update(f, return_mask=True))
    assert np.array_equal(a.result(), b.result())


@pytest.mark.parametrize("kw", [{}, {"gray": True, "scale": 0.5, "count_shadows": True}])
def test_motion_heatmap_mog2_checkpoint_resume_exact(tmp_path, kw):
    clip = write_synthetic_video(tmp_path / "clip.avi", W, H, 40, fps=20.0, seed=4)
    whole = motion_heatmap(clip, "mog2", stride=1, decoder="opencv", **kw)
    ck = tmp_path / "state.npz"

    class Stop(Exception):
        pass

    def interrupt(acc, done):
        if done >= 23:
            raise Stop

    with pytest.raises(Stop):
        motion_heatmap(clip, "mog2", decoder="opencv", checkpoint=ck, checkpoint_every=10, on_frame=interrupt, **kw)
    assert ck.exists()
    # a model re-learnt from the resume point could not end in the uninterrupted run's exact state
    resumed = motion_heatmap(clip, "mog2", decoder="opencv", checkpoint=ck, checkpoint_every=10, **kw)
    assert resumed.frames == whole.frames == 40
    assert np.array_equal(resumed.result(), whole.result())
    assert _same_state(resumed._model.get_state(), whole._model.get_state())
    assert whole.result().max() > 3


def test_motion_heatmap_mog2_state_roundtrip(clip_frames, tmp_path):
    a = MotionHeatmap("mog2", history=100, var_threshold=20.0)
    for f in clip_frames[:20]:
        a.update(f)
    b = MotionHeatmap.load(a.save(tmp_path / "m.npz"))  # no warning: the model is saved
    assert b.config() == a.config()
    for f in clip_frames[20:]:
        assert np.array_equal(a.update(f, return_mask=True), b.update(f, return_mask=True))
    assert np.array_equal(a.result(), b.result())
    assert math.isclose(b._model.var_threshold, 20.0)
