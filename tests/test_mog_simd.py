"""The MOG kernel's SIMD paths (scalar, SSE4.1, AVX2; chosen at run time): every path against the
NumPy twin (masks, counts and the whole model state, bit for bit) and against OpenCV's
cv2.bgsegm MOG (masks), on the campus clip and on a synthetic busy scene (multi-modal flicker,
many movers, noise: every branch of the per-pixel walk — bubbling, replacing the last component,
unused slots — is taken), colour and gray, with row widths that leave a scalar tail."""

from __future__ import annotations

import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from heatcore import _core
from heatcore.io.video import iter_frames
from heatcore.reference import motion as ref

PATHS = ["scalar", "sse41", "avx2"]
needs_bgsegm = pytest.mark.skipif(not hasattr(cv2, "bgsegm"), reason="cv2.bgsegm (opencv-contrib) is not installed")


@pytest.fixture(params=PATHS)
def simd(request):
    path = request.param
    if path not in _core.mog_simd_paths():
        pytest.skip(f"this CPU has no {path}")
    assert _core.mog_simd(path) == path
    yield path
    _core.mog_simd("auto")


def busy_frames(width: int, height: int, n: int, seed: int = 0, gray: bool = False) -> list[np.ndarray]:
    """A scene that keeps the mixture busy: a textured background; a third of the pixels flicker
    between two or three colours (leaves, water, screens); 12 discs moving across; sensor noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([80 + 40 * np.sin(xx / 7.0), 120 + 30 * np.cos(yy / 5.0), 100 + 50 * np.sin((xx + yy) / 11.0)], -1)
    alt = rng.uniform(0, 255, (3, height, width, 3)).astype(np.float32)
    modes = rng.integers(1, 4, (height, width))  # 1: static, 2-3: flickering between that many colours
    modes[rng.random((height, width)) < 0.66] = 1
    pos = rng.uniform(0, 1, (12, 2)) * [width, height]
    vel = rng.uniform(-3, 3, (12, 2))
    col = rng.uniform(0, 255, (12, 3))
    rad = rng.uniform(2, max(3.0, min(width, height) / 6), 12)
    out = []
    for _ in range(n):
        pick = rng.integers(0, 3, (height, width)) % modes
        img = np.where((pick == 0)[..., None], base, alt[np.clip(pick - 1, 0, 2), yy.astype(int), xx.astype(int)])
        for b in range(12):
            inside = (xx - pos[b, 0]) ** 2 + (yy - pos[b, 1]) ** 2 < rad[b] ** 2
            img[inside] = col[b]
        img = img + rng.normal(0, 6, img.shape)
        f = np.clip(img, 0, 255).astype(np.uint8)
        out.append(cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) if gray else f)
        pos = (pos + vel) % [width, height]
    return out


def _run_twin(frames, ch, rates, roi, **params):
    h, w = frames[0].shape[:2]
    a = _core.MogModel(w, h, ch, **params)
    b = ref.MogReference(w, h, ch, **params)
    ca, cb = np.zeros((h, w), np.uint32), np.zeros((h, w), np.uint32)
    for i, f in enumerate(frames):
        ma = a.apply(f, counts=ca, roi=roi, learning_rate=rates(i), threads=1)
        mb = b.apply(f, counts=cb, roi=roi, learning_rate=rates(i))
        assert np.array_equal(ma, mb), f"frame {i}: {(ma != mb).sum()} pixels differ"
    sa, sb = a.get_state(), b.get_state()
    assert sa["nframes"] == sb["nframes"]
    for k in ("sort_key", "weight", "mean", "var"):
        assert np.array_equal(sa[k], sb[k]), k
    assert np.array_equal(ca, cb)
    return sa


@pytest.mark.parametrize("gray", [False, True])
def test_every_path_matches_numpy_twin_busy(simd, gray):
    frames = busy_frames(45, 23, 70, seed=5, gray=gray)  # 45 = 5*8 + 5: scalar tail on every row
    roi = np.ones((23, 45), np.uint8)
    roi[:, :7] = 0
    # automatic rate, then a fixed rate, a frozen frame, and a re-initialisation
    rates = lambda i: {20: 1.0, 45: 0.02, 46: 0.02, 55: 0.0}.get(i, -1.0)  # noqa: E731
    st = _run_twin(frames, 1 if gray else 3, rates, roi, history=25, nmixtures=4)
    # the scene did exercise the slow branches: several components in use, not sorted by index
    assert (st["weight"][1] > 0).mean() > 0.5


@pytest.mark.parametrize("params", [{"nmixtures": 8, "history": 10}, {"nmixtures": 1}, {"nmixtures": 2, "noise_sigma": 4.0}])
def test_every_path_matches_numpy_twin_mixture_sizes(simd, params):
    frames = busy_frames(19, 11, 45, seed=9)
    _run_twin(frames, 3, lambda i: -1.0, None, **params)


def _match_bgsegm(frames, ch):
    h, w = frames[0].shape[:2]
    cvm = cv2.bgsegm.createBackgroundSubtractorMOG()
    m = _core.MogModel(w, h, ch)
    for i, f in enumerate(frames):
        a, b = cvm.apply(f), m.apply(f, threads=1)
        assert np.array_equal(a, b), f"frame {i}: {(a != b).sum()} pixels differ"


@needs_bgsegm
@pytest.mark.parametrize("gray", [False, True])
def test_every_path_matches_bgsegm_campus(simd, campus_video, gray):
    frames = [f for _, f in iter_frames(campus_video, stop=80, gray=gray)]
    _match_bgsegm(frames, 1 if gray else 3)


@needs_bgsegm
@pytest.mark.parametrize("gray", [False, True])
def test_every_path_matches_bgsegm_busy(simd, gray):
    _match_bgsegm(busy_frames(203, 61, 60, seed=2, gray=gray), 1 if gray else 3)


def test_paths_interchangeable_mid_stream():
    """Switching the path between frames changes nothing (same state layout, same arithmetic)."""
    paths = _core.mog_simd_paths()
    frames = busy_frames(37, 17, 40, seed=4)
    try:
        out = {}
        for mode in ["fixed", "rotating"]:
            _core.mog_simd(paths[-1])
            m = _core.MogModel(37, 17, 3)
            c = np.zeros((17, 37), np.uint32)
            masks = []
            for i, f in enumerate(frames):
                if mode == "rotating":
                    _core.mog_simd(paths[i % len(paths)])
                masks.append(m.apply(f, counts=c, threads=2))
            out[mode] = (np.stack(masks), c, m.get_state()["weight"], m.get_state()["mean"])
        for x, y in zip(out["fixed"], out["rotating"]):
            assert np.array_equal(x, y)
    finally:
        _core.mog_simd("auto")


def test_batch_and_threads_identical_on_every_path(simd):
    frames = np.stack(busy_frames(53, 29, 24, seed=8))
    a, b = _core.MogModel(53, 29, 3), _core.MogModel(53, 29, 3)
    ca, cb = np.zeros((29, 53), np.uint32), np.zeros((29, 53), np.uint32)
    single = np.stack([a.apply(f, counts=ca, threads=1) for f in frames])
    batched = np.concatenate([b.apply_batch(frames[i:i + 5], counts=cb, threads=3, return_mask=True)
                              for i in range(0, 24, 5)])
    assert np.array_equal(single, batched) and np.array_equal(ca, cb)
    for k in ("sort_key", "weight", "mean", "var"):
        assert np.array_equal(a.get_state()[k], b.get_state()[k]), k


def test_mog_simd_api():
    paths = _core.mog_simd_paths()
    assert paths[0] == "scalar" and set(paths) <= set(PATHS)
    try:
        with pytest.raises(ValueError, match="'neon'"):
            _core.mog_simd("neon")
        for p in PATHS:
            if p not in paths:
                with pytest.raises(ValueError, match="not supported by this CPU"):
                    _core.mog_simd(p)
        assert _core.mog_simd("scalar") == "scalar" and _core.mog_simd() == "scalar"
    finally:
        _core.mog_simd("auto")
    assert _core.mog_simd() in paths


@pytest.mark.parametrize("value", ["scalar", "sse41", "avx2", "auto", "", "bogus"])
def test_heatcore_simd_environment_variable(monkeypatch, value):
    """HEATCORE_SIMD is read when the path is chosen ("auto" chooses again)."""
    paths = _core.mog_simd_paths()
    monkeypatch.setenv("HEATCORE_SIMD", value)
    try:
        if value == "bogus":
            with pytest.raises(ValueError, match="'bogus'"):
                _core.mog_simd("auto")
            with pytest.raises(ValueError, match="HEATCORE_SIMD|'bogus'"):
                _core.MogModel(8, 2, 1).apply(np.zeros((2, 8), np.uint8))
        elif value in ("auto", ""):
            assert _core.mog_simd("auto") == paths[-1]
        else:  # a path this CPU lacks falls back to the best it has
            assert _core.mog_simd("auto") == (value if value in paths else paths[-1])
    finally:
        monkeypatch.delenv("HEATCORE_SIMD")
        _core.mog_simd("auto")


def test_heatcore_simd_environment_variable_at_start():
    code = "from heatcore import _core\nprint(_core.mog_simd())\n"
    env = dict(os.environ, HEATCORE_SIMD="scalar")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300,
                         check=True).stdout.strip().splitlines()[-1]
    assert out == "scalar"
