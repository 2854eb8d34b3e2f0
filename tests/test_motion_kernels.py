"""Motion kernels: C++ MOG vs OpenCV's bgsegm MOG and vs the NumPy twin; gray+blur and diff vs
OpenCV recipes; mask accumulation; bad input to the bindings."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heatcore import _core
from heatcore.io.video import iter_frames
from heatcore._synthetic import synthetic_frames
from heatcore.reference import motion as ref

HAS_BGSEGM = hasattr(cv2, "bgsegm")
needs_bgsegm = pytest.mark.skipif(not HAS_BGSEGM, reason="cv2.bgsegm (opencv-contrib) is not installed")


def _frames(gray: bool, n: int = 60, w: int = 96, h: int = 72, seed: int = 3) -> list[np.ndarray]:
    out = list(synthetic_frames(w, h, n, seed=seed, blobs=3))
    return [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in out] if gray else out


def _agreement(frames, make_cv, make_hc, **apply_kw):
    cvm, hcm = make_cv(), make_hc()
    worst, identical = 1.0, True
    for f in frames:
        a = cvm.apply(f, **({"learningRate": apply_kw["learning_rate"]} if "learning_rate" in apply_kw else {}))
        b = hcm.apply(f, **apply_kw)
        worst = min(worst, float((a == b).mean()))
        identical &= bool(np.array_equal(a, b))
    return worst, identical


@needs_bgsegm
@pytest.mark.parametrize("gray", [False, True])
@pytest.mark.parametrize("params", [
    {},
    {"history": 30, "nmixtures": 3, "backgroundRatio": 0.5, "noiseSigma": 8.0},
    {"history": 0, "nmixtures": 12, "backgroundRatio": 0.0, "noiseSigma": -1.0},  # defaults / caps
])
def test_mog_matches_bgsegm_synthetic(gray, params):
    frames = _frames(gray, n=80)
    ch = 1 if gray else 3
    kw = {"history": params.get("history", 200), "nmixtures": params.get("nmixtures", 5),
          "background_ratio": params.get("backgroundRatio", 0.7), "noise_sigma": params.get("noiseSigma", 0.0)}
    worst, identical = _agreement(frames, lambda: cv2.bgsegm.createBackgroundSubtractorMOG(**params),
                                  lambda: _core.MogModel(96, 72, ch, **kw))
    assert worst >= 0.999
    assert identical


@needs_bgsegm
@pytest.mark.parametrize("gray", [False, True])
def test_mog_matches_bgsegm_campus(campus_video, gray):
    frames = [f for _, f in iter_frames(campus_video, stop=120, gray=gray)]
    h, w = frames[0].shape[:2]
    worst, identical = _agreement(frames, cv2.bgsegm.createBackgroundSubtractorMOG,
                                  lambda: _core.MogModel(w, h, 1 if gray else 3))
    assert worst >= 0.999
    assert identical


@needs_bgsegm
def test_mog_explicit_learning_rates_match_bgsegm():
    frames = _frames(False, n=40)
    for lr in (0.05, 0.0):
        cvm, hcm = cv2.bgsegm.createBackgroundSubtractorMOG(), _core.MogModel(96, 72, 3)
        for i, f in enumerate(frames):
            rate = -1 if i < 20 else lr  # warm up, then fixed rate / frozen model
            assert np.array_equal(cvm.apply(f, learningRate=rate), hcm.apply(f, learning_rate=rate))
    # a learning rate >= 1 re-initialises the model, as in OpenCV
    cvm, hcm = cv2.bgsegm.createBackgroundSubtractorMOG(), _core.MogModel(96, 72, 3)
    for i, f in enumerate(frames):
        rate = 1.0 if i == 25 else -1
        assert np.array_equal(cvm.apply(f, learningRate=rate), hcm.apply(f, learning_rate=rate))
    assert hcm.nframes == len(frames) - 25


@pytest.mark.parametrize("gray", [False, True])
def test_mog_cpp_matches_numpy_twin(gray):
    frames = _frames(gray, n=50, w=40, h=30, seed=11)
    ch = 1 if gray else 3
    a = _core.MogModel(40, 30, ch, history=20, nmixtures=4)
    b = ref.MogReference(40, 30, ch, history=20, nmixtures=4)
    ca, cb = np.zeros((30, 40), np.uint32), np.zeros((30, 40), np.uint32)
    roi = np.zeros((30, 40), np.uint8)
    roi[5:25, 3:30] = 1
    for i, f in enumerate(frames):
        lr = 0.0 if i == 45 else -1
        assert np.array_equal(a.apply(f, counts=ca, roi=roi, learning_rate=lr),
                              b.apply(f, counts=cb, roi=roi, learning_rate=lr))
    sa, sb = a.get_state(), b.get_state()
    assert sa["nframes"] == sb["nframes"] == 50
    for k in ("sort_key", "weight", "mean", "var"):
        assert np.array_equal(sa[k], sb[k]), k
    assert np.array_equal(ca, cb)
    assert ca.max() > 0 and ca[roi == 0].max() == 0


def test_mog_threads_give_identical_results():
    frames = _frames(False, n=30, w=64, h=57)
    outs = []
    for threads in (1, 2, 3, 7):
        m = _core.MogModel(64, 57, 3)
        c = np.zeros((57, 64), np.uint32)
        masks = [m.apply(f, counts=c, threads=threads) for f in frames]
        outs.append((np.stack(masks), c, m.get_state()["weight"]))
    for o in outs[1:]:
        for x, y in zip(outs[0], o):
            assert np.array_equal(x, y)


@pytest.mark.parametrize("gray", [False, True])
def test_mog_apply_batch_identical_to_frame_by_frame(gray):
    frames = np.stack(_frames(gray, n=45))
    ch = 1 if gray else 3
    a, b = _core.MogModel(96, 72, ch), _core.MogModel(96, 72, ch)
    ca, cb = np.zeros((72, 96), np.uint32), np.zeros((72, 96), np.uint32)
    single = np.stack([a.apply(f, counts=ca, threads=2) for f in frames])
    batched = np.concatenate([b.apply_batch(frames[i:i + 8], counts=cb, threads=2, return_mask=True)
                              for i in range(0, 45, 8)])
    assert np.array_equal(single, batched) and np.array_equal(ca, cb) and b.nframes == 45
    for k in ("weight", "sort_key", "mean", "var"):
        assert np.array_equal(a.get_state()[k], b.get_state()[k])
    # frozen / re-initialising learning rates fall back to frame by frame
    assert np.array_equal(b.apply_batch(frames[:3], learning_rate=0.0, return_mask=True),
                          np.stack([a.apply(f, learning_rate=0.0) for f in frames[:3]]))
    with pytest.raises(ValueError, match="stack"):
        b.apply_batch(frames[:, :10])


def test_mog_counts_equal_sum_of_masks_and_state_roundtrip():
    frames = _frames(False, n=40)
    m = _core.MogModel(96, 72, 3)
    c = np.zeros((72, 96), np.uint32)
    total = np.zeros((72, 96), np.uint32)
    for i, f in enumerate(frames[:20]):
        total += m.apply(f, counts=c) // 255
    st_ = m.get_state()
    m2 = _core.MogModel(96, 72, 3)
    m2.set_state(st_["nframes"], st_["sort_key"], st_["weight"], st_["mean"], st_["var"])
    for f in frames[20:]:
        a, b = m.apply(f, counts=c), m2.apply(f)
        assert np.array_equal(a, b)
        total += a // 255
    assert np.array_equal(c, total)


def test_mog_bad_input():
    m = _core.MogModel(20, 10, 3)
    with pytest.raises(ValueError, match="model is 20x10"):
        m.apply(np.zeros((10, 21, 3), np.uint8))
    with pytest.raises(ValueError, match="model is 20x10"):
        m.apply(np.zeros((10, 20), np.uint8))
    with pytest.raises(ValueError, match="channels"):
        m.apply(np.zeros((10, 20, 4), np.uint8))
    with pytest.raises(TypeError, match="uint32"):
        m.apply(np.zeros((10, 20, 3), np.uint8), counts=np.zeros((10, 20), np.int64))
    with pytest.raises(ValueError, match="shape"):
        m.apply(np.zeros((10, 20, 3), np.uint8), counts=np.zeros((10, 19), np.uint32))
    with pytest.raises(ValueError, match="roi"):
        m.apply(np.zeros((10, 20, 3), np.uint8), roi=np.zeros((3, 3), np.uint8))
    with pytest.raises(ValueError, match="channels must be 1 or 3"):
        _core.MogModel(20, 10, 2)
    with pytest.raises(ValueError, match="positive"):
        _core.MogModel(0, 10, 3)
    with pytest.raises(ValueError, match="sort_key"):
        m.set_state(1, np.zeros(3, np.float32), np.zeros(1000, np.float32), np.zeros(3000, np.float32),
                    np.zeros(3000, np.float32))


@settings(max_examples=25, deadline=None)
@given(h=st.integers(1, 40), w=st.integers(1, 40), k=st.sampled_from([1, 3, 5, 9, 11, 13, 15, 17, 31]), colour=st.booleans(),
       seed=st.integers(0, 2**31 - 1))
def test_gray_blur_matches_opencv_and_twin(h, w, k, colour, seed):
    rng = np.random.default_rng(seed)
    f = rng.integers(0, 256, (h, w, 3) if colour else (h, w), dtype=np.uint8)
    if k > max(h, w):  # documented bound: at most the frame's longer side
        for fn in (_core.gray_blur, ref.gray_blur):
            with pytest.raises(ValueError, match=f"blur size {k} is larger than the frame"):
                fn(f, k)
        return
    g = cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) if colour else f
    expect = cv2.blur(g, (k, k)) if k > 1 else g
    got = _core.gray_blur(f, k, 2)
    assert np.array_equal(got, expect)
    assert np.array_equal(ref.gray_blur(f, k), expect)


def test_diff_accumulate_matches_recipe_b():
    frames = _frames(False, n=12)
    reference = cv2.blur(cv2.cvtColor(frames[0], cv2.COLOR_BGR2GRAY), (11, 11))
    roi = np.ones((72, 96), np.uint8)
    roi[:, :30] = 0
    for threshold in (-1, 12):
        acc = np.zeros((72, 96), np.uint32)
        acc_np = np.zeros((72, 96), np.uint32)
        expect = np.zeros((72, 96), np.float64)
        for f in frames:
            _core.diff_accumulate(f, reference, acc, 11, roi, threshold, 2)
            ref.diff_accumulate(f, reference, acc_np, 11, roi, threshold)
            d = cv2.absdiff(cv2.blur(cv2.cvtColor(f, cv2.COLOR_BGR2GRAY), (11, 11)), reference).astype(np.float64)
            expect += (d if threshold < 0 else (d > threshold)) * (roi != 0)
        assert np.array_equal(acc, expect)
        assert np.array_equal(acc_np, expect)
        assert acc.max() > 0
        # uint16 partial sums give the same
        acc16 = np.zeros((72, 96), np.uint16)
        for f in frames:
            _core.diff_accumulate(f, reference, acc16, 11, roi, threshold, 2)
        assert np.array_equal(acc16, expect)


def test_diff_bad_input():
    f = np.zeros((10, 20, 3), np.uint8)
    with pytest.raises(ValueError, match="reference"):
        _core.diff_accumulate(f, np.zeros((10, 21), np.uint8), np.zeros((10, 20), np.uint32), 11)
    with pytest.raises(TypeError, match="uint32"):
        _core.diff_accumulate(f, np.zeros((10, 20), np.uint8), np.zeros((10, 20), np.float64), 11)
    with pytest.raises(ValueError, match="odd"):
        _core.diff_accumulate(f, np.zeros((10, 20), np.uint8), np.zeros((10, 20), np.uint32), 4)
    with pytest.raises(ValueError, match="odd"):
        _core.gray_blur(f, 0)


@pytest.mark.parametrize("min_value", [0, 1, 127, 255])
def test_accumulate_mask_matches_twin(rng, min_value):
    mask = rng.choice(np.array([0, 127, 255], np.uint8), size=(33, 47))
    roi = (rng.random((33, 47)) > 0.3).astype(np.uint8)
    for r in (None, roi):
        a = np.full((33, 47), 7, np.uint32)
        b = a.copy()
        na = _core.accumulate_mask(mask, a, r, min_value, 2)
        nb = ref.accumulate_mask(mask, b, r, min_value)
        assert na == nb and np.array_equal(a, b)
        sel = (mask >= min_value) & (True if r is None else r != 0)
        assert np.array_equal(a - 7, sel.astype(np.uint32))
    with pytest.raises(ValueError, match="counts"):
        _core.accumulate_mask(mask, np.zeros((3, 3), np.uint32))
    with pytest.raises(TypeError, match="uint32"):
        _core.accumulate_mask(mask, np.zeros((33, 47), np.uint8))


def test_counts_never_saturate():
    mask = np.full((4, 4), 255, np.uint8)
    c = np.full((4, 4), 300, np.uint32)  # past uint8's 255
    _core.accumulate_mask(mask, c)
    assert (c == 301).all()


# -- box blur: range and cost (issue 9, finding 4) ------------------------------------------------
def test_blur_2901_no_overflow_regression():
    """blur >= 2901 used to overflow the window sums (255 came out as 17); now exact, as cv2.blur
    and the NumPy twin."""
    rng = np.random.default_rng(1)
    for f in (np.full((3, 2901), 255, np.uint8), rng.integers(0, 256, (4, 3001, 3), dtype=np.uint8)):
        g = cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) if f.ndim == 3 else f
        expect = cv2.blur(g, (2901, 2901))
        got = _core.gray_blur(f, 2901, 2)
        assert np.array_equal(got, expect)
        assert np.array_equal(ref.gray_blur(f, 2901), expect)
        if f.ndim == 2:
            assert (got == 255).all()
        acc = np.zeros(g.shape, np.uint32)
        reference = np.zeros(g.shape, np.uint8)
        total = _core.diff_accumulate(f, reference, acc, 2901, None, -1, 2)
        assert np.array_equal(acc, expect) and total == expect.sum()


@pytest.mark.parametrize("shape,k", [((5, 300), 299), ((300, 5), 299), ((17, 40), 33), ((40, 17), 33), ((1, 64), 63),
                                     ((64, 1), 63), ((2, 2), 1)])
def test_wide_blur_window_wrapping_many_times(shape, k):
    """Windows much larger than one side (reflected many times; the branch that keeps each source
    row once and counts its multiplicity) and windows that fit (the ring of rows)."""
    f = np.random.default_rng(k).integers(0, 256, shape, dtype=np.uint8)
    expect = cv2.blur(f, (k, k)) if k > 1 else f
    assert np.array_equal(_core.gray_blur(f, k, 1), expect)
    assert np.array_equal(_core.gray_blur(f, k, 3), expect)
    assert np.array_equal(ref.gray_blur(f, k), expect)


def test_blur_1000001_raises_quickly_regression():
    """A blur of 1,000,001 used to run for minutes (setup quadratic in the size); now a ValueError
    naming the value, from the C++ check, the NumPy twin and MotionHeatmap's validation."""
    from heatcore.motion import MAX_BLUR, MotionHeatmap

    f = np.zeros((48, 64, 3), np.uint8)
    with pytest.raises(ValueError, match="blur size 1000001 is larger than the frame"):
        _core.gray_blur(f, 1000001)
    with pytest.raises(ValueError, match="blur size 1000001"):
        _core.diff_accumulate(f, np.zeros((48, 64), np.uint8), np.zeros((48, 64), np.uint32), 1000001)
    with pytest.raises(ValueError, match="blur size 1000001"):
        ref.gray_blur(f, 1000001)
    with pytest.raises(ValueError, match=f"blur must be at most {MAX_BLUR}.*1000001"):
        MotionHeatmap("diff", blur=1000001)
    # within the static bound but larger than this frame: a clear error on the first frame
    acc = MotionHeatmap("diff", blur=65)
    with pytest.raises(ValueError, match="blur size 65 is larger than the frame \\(64x48\\)"):
        acc.update(f)
    # the largest allowed blur for this frame works (and is linear in the frame size)
    g = np.random.default_rng(0).integers(0, 256, (48, 64), dtype=np.uint8)
    assert np.array_equal(_core.gray_blur(g, 63), cv2.blur(g, (63, 63)))
