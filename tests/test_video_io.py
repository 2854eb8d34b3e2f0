"""Video input and output: Frame records with times, fused resizing, prefetch, key-frame sampling,
motion_heatmap's decode thread, the H.264 writer (inspected with PyAV) and the overlay video's
sliding window (exact, bounded memory)."""

from __future__ import annotations

import pickle
import struct
import warnings
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from heatcore import render
from heatcore.cli import main
from heatcore.grid_output import GridVideoWriter
from heatcore.io.video import Frame, decode_frames, iter_frames, prefetch_iter
from heatcore._synthetic import synthetic_frames
from heatcore.motion import MotionHeatmap, _MaskRing, _OverlayVideo, motion_heatmap

W, H, N, FPS = 96, 64, 48, 12.5
GOP = 7


def _write_h264(path: Path, frames: list[np.ndarray], fps: float, gop: int, bframes: int = 2) -> Path:
    """An independent H.264 MP4 writer (plain PyAV, fixed GOP, B-frames) for test inputs."""
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
        s.width, s.height, s.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        s.options = {"preset": "ultrafast", "g": str(gop), "keyint_min": str(gop), "sc_threshold": "0",
                     "bf": str(bframes), "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes={bframes}"}
        for i, f in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(f, format="bgr24")
            vf.pts = i
            for p in s.encode(vf):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    return path


@pytest.fixture(scope="module")
def scene() -> list[np.ndarray]:
    return list(synthetic_frames(W, H, N, seed=3, blobs=3))


@pytest.fixture(scope="module")
def mp4(tmp_path_factory, scene) -> Path:
    return _write_h264(tmp_path_factory.mktemp("vio") / "gop.mp4", scene, FPS, GOP)


def _decode_all(path: Path) -> list[tuple[np.ndarray, bool, np.ndarray]]:
    """Every frame with plain PyAV (no threads): (bgr, key_frame, luma = first H rows of the
    (3H/2, W) yuv420p array)."""
    out = []
    with av.open(str(path)) as c:
        for f in c.decode(c.streams.video[0]):
            assert f.format.name == "yuv420p"
            out.append((f.to_ndarray(format="bgr24"), bool(f.key_frame), f.to_ndarray()[: f.height].copy()))
    return out


# -- Frame records and reading ---------------------------------------------------------------------
def test_frame_unpacks_as_index_and_image_and_keeps_its_time():
    img = np.zeros((2, 3), np.uint8)
    f = Frame(7, img, 0.56)
    i, im = f
    assert (i, im is img, f.index, f.image is img, f.time) == (7, True, 7, True, 0.56)
    g = pickle.loads(pickle.dumps(f))
    assert isinstance(g, Frame) and g.index == 7 and g.time == 0.56 and np.array_equal(g.image, img)
    assert "index=7" in repr(f) and Frame(1, img).time is None


@pytest.mark.parametrize("backend", ["opencv", "pyav"])
def test_times_are_seconds_from_the_start(mp4, backend):
    frames = list(iter_frames(mp4, backend=backend, stride=3, start=2))
    assert [f.index for f in frames] == list(range(2, N, 3))
    # 12.5 fps: frame i is shown at i / 12.5 s (PyAV: from the MP4's timestamps)
    np.testing.assert_allclose([f.time for f in frames], [i / FPS for i in range(2, N, 3)], atol=1e-6)


def test_image_folder_frames_have_no_time(tmp_path, scene):
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"f{i}.png"), scene[i])
    fr = list(iter_frames(tmp_path, scale=0.5))
    assert [f.time for f in fr] == [None] * 3 and fr[0].image.shape == (H // 2, W // 2, 3)
    with pytest.raises(ValueError, match="key frames"):
        list(iter_frames(tmp_path, keyframes=True, backend="auto"))


@pytest.mark.parametrize("backend,gray", [("opencv", False), ("opencv", True), ("pyav", False), ("pyav", True)])
def test_scale_and_size_resize_like_cv2_after_decoding(mp4, backend, gray):
    full = list(iter_frames(mp4, backend=backend, gray=gray, stop=12))
    half = list(iter_frames(mp4, backend=backend, gray=gray, stop=12, scale=0.5))
    sized = list(iter_frames(mp4, backend=backend, gray=gray, stop=12, size=(40, 30), prefetch=3))
    assert len(full) == len(half) == len(sized) == 12
    for a, b, c in zip(full, half, sized):
        assert a.index == b.index == c.index and a.time == b.time == c.time
        assert np.array_equal(b.image, cv2.resize(a.image, (48, 32), interpolation=cv2.INTER_AREA))
        assert np.array_equal(c.image, cv2.resize(a.image, (40, 30), interpolation=cv2.INTER_AREA))
        for img in (a.image, b.image, c.image):
            assert img.flags.c_contiguous and img.flags.owndata  # the caller's own memory


def test_pyav_gray_is_the_luma_plane(mp4):
    ref = _decode_all(mp4)
    got = list(iter_frames(mp4, backend="pyav", gray=True))
    assert len(got) == N
    assert all(np.array_equal(g.image, r[2]) for g, r in zip(got, ref))


def test_bad_resize_and_prefetch_arguments(mp4):
    for kw, err in [(dict(scale=0), ValueError), (dict(scale=-1.0), ValueError), (dict(scale="half"), TypeError),
                    (dict(scale=0.5, size=(10, 10)), ValueError), (dict(size=(0, 10)), ValueError),
                    (dict(size=10), TypeError), (dict(prefetch=-1), ValueError),
                    (dict(keyframes=True, backend="opencv"), ValueError)]:
        with pytest.raises(err):
            list(iter_frames(mp4, **kw))


def test_prefetch_hands_over_errors_and_stops_early(mp4):
    def boom():
        yield 1
        raise KeyError("decoder broke")

    it = prefetch_iter(boom(), 2)
    assert next(it) == 1
    with pytest.raises(KeyError, match="decoder broke"):
        next(it)
    # closing after one frame stops the decoding thread and closes the container
    gen = iter_frames(mp4, backend="pyav", prefetch=2)
    assert next(gen).index == 0
    gen.close()


# -- key frames --------------------------------------------------------------------------------------
def test_keyframes_are_the_key_frames_of_a_full_decode(mp4):
    ref = _decode_all(mp4)
    keys = [i for i, r in enumerate(ref) if r[1]]
    assert keys == list(range(0, N, GOP))  # the clip really has GOPs of 7 (with B-frames)
    got = list(iter_frames(mp4, backend="auto", keyframes=True))
    assert [f.index for f in got] == keys
    np.testing.assert_allclose([f.time for f in got], [k / FPS for k in keys], atol=1e-6)
    for f in got:
        assert np.array_equal(f.image, ref[f.index][0])
    gray = list(iter_frames(mp4, backend="pyav", keyframes=True, gray=True, scale=0.5))
    for f in gray:
        assert np.array_equal(f.image, cv2.resize(ref[f.index][2], (W // 2, H // 2), interpolation=cv2.INTER_AREA))
    # stride takes every k-th key frame; start/stop bound the true index
    assert [f.index for f in iter_frames(mp4, backend="pyav", keyframes=True, stride=2, start=5, stop=40)] == \
        [k for k in keys if 5 <= k < 40][::2]


@pytest.mark.data
def test_keyframes_of_campus(campus_video):
    got = [(i, t) for i, t, _ in decode_frames(campus_video, backend="pyav", gray=True, keyframes=True)]
    full = []
    with av.open(str(campus_video)) as c:
        full = [i for i, f in enumerate(c.decode(c.streams.video[0])) if f.key_frame]
    assert [i for i, _ in got] == full == [0, 250, 500, 750]
    assert [t for _, t in got] == [0.0, 25.0, 50.0, 75.0]  # AVI at 10 fps: index / fps


def test_motion_heatmap_keyframes_equals_feeding_the_key_frames(mp4, tmp_path):
    keys = [f.image for f in iter_frames(mp4, backend="pyav", keyframes=True, gray=True)]
    for method in ("diff", "mog"):
        expect = MotionHeatmap(method, gray=True, reference="first")
        for k in keys:
            expect.update(k)
        got = motion_heatmap(mp4, method, gray=True, keyframes=True, reference="first")
        assert got.frames == len(keys) == 7
        assert np.array_equal(got.result(), expect.result())
    # resume after 3 key frames gives the uninterrupted result
    ck = tmp_path / "k.npz"

    class Stop(Exception):
        pass

    def bail(acc, done):
        if done == 3:
            raise Stop

    with pytest.raises(Stop):
        motion_heatmap(mp4, "diff", keyframes=True, checkpoint=ck, checkpoint_every=1, on_frame=bail,
                       reference="first")
    resumed = motion_heatmap(mp4, "diff", keyframes=True, checkpoint=ck, checkpoint_every=1, reference="first")
    assert resumed.frames == 7
    assert np.array_equal(resumed.result(),
                          motion_heatmap(mp4, "diff", keyframes=True, reference="first").result())
    with pytest.raises(ValueError, match="PyAV"):
        motion_heatmap(mp4, "diff", keyframes=True, decoder="opencv")
    with pytest.raises(ValueError, match="overlay video"):
        motion_heatmap(mp4, "diff", keyframes=True, video=tmp_path / "o.mp4")


def test_cli_keyframes_flag(mp4, tmp_path):
    npy = tmp_path / "k.npy"
    assert main(["motion", str(mp4), "-o", str(tmp_path / "k.png"), "--method", "diff", "--reference", "first", "--keyframes",
                 "--npy", str(npy), "--quiet"]) == 0
    expect = motion_heatmap(mp4, "diff", keyframes=True, reference="first").result()
    assert np.array_equal(np.load(npy), expect)
    assert main(["motion", str(mp4), "-o", str(tmp_path / "k.png"), "--keyframes", "--decoder", "opencv",
                 "--quiet"]) == 2


# -- motion_heatmap's decode thread ----------------------------------------------------------------
@pytest.mark.parametrize("decoder", ["opencv", "pyav"])
@pytest.mark.parametrize("method,kw", [("mog", dict(scale=0.5, gray=True)), ("diff", dict()),
                                       ("diff", dict(scale=0.5, background="median")), ("mog", dict(stride=3))])
def test_fused_decoding_gives_the_same_heatmap_and_background(mp4, decoder, method, kw):
    """Gray + resize on the decode thread, full frames only where needed == update() of every
    full frame."""
    gray = kw.get("gray", method == "diff")
    frames = [f for _, f in iter_frames(mp4, backend=decoder, gray=gray, stride=kw.get("stride", 1))]
    acc_kw = {k: v for k, v in kw.items() if k != "stride"}
    acc_kw["gray"] = gray and method != "diff"
    expect = MotionHeatmap(method, reference="first", **acc_kw)
    for f in frames:
        expect.update(f)
    got = motion_heatmap(mp4, method, decoder=decoder, reference="first", **kw)
    assert got.frames == expect.frames == len(frames)
    assert np.array_equal(got.result(), expect.result())
    assert np.array_equal(got.background_image(), expect.background_image())


# -- H.264 writer ----------------------------------------------------------------------------------
def _top_level_boxes(path: Path) -> list[str]:
    """The MP4's top-level box types in file order."""
    data = path.read_bytes()
    out, pos = [], 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8:pos + 16])[0]
        out.append(kind.decode("latin-1"))
        if size < 8:
            break
        pos += size
    return out


def _probe(path: Path) -> dict:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(s)]
        return dict(codec=s.codec_context.name, pix_fmt=s.codec_context.pix_fmt, width=s.codec_context.width,
                    height=s.codec_context.height, frames=frames, rate=s.average_rate, fmt=c.format.name)


def _assert_browser_mp4(path: Path, n: int, size: tuple[int, int]) -> dict:
    info = _probe(path)
    assert info["codec"] == "h264" and info["pix_fmt"] == "yuv420p"
    assert (info["width"], info["height"]) == size and len(info["frames"]) == n
    boxes = _top_level_boxes(path)
    assert "moov" in boxes and "mdat" in boxes and boxes.index("moov") < boxes.index("mdat"), boxes  # faststart
    return info


def test_video_writer_writes_faststart_h264(tmp_path, scene):
    path = tmp_path / "sub" / "v.mp4"
    rgb = [cv2.cvtColor(f, cv2.COLOR_BGR2RGB) for f in scene[:20]]
    with render.VideoWriter(path, FPS, (W, H)) as w:
        assert w.backend == "pyav" and w.encoded_size == (W, H)
        for f in rgb:
            w.write(f)
        with pytest.raises(ValueError, match="does not match"):
            w.write(np.zeros((10, 10, 3), np.uint8))
        with pytest.raises(ValueError, match="uint8"):
            w.write(np.zeros((H, W, 3), np.float32))
    assert w.frames == 20
    info = _assert_browser_mp4(path, 20, (W, H))
    assert info["rate"] == Fraction(25, 2)
    # the pictures survive the round trip (lossy: small mean error), in the right colour order
    err = np.mean([np.abs(a.astype(int) - b.astype(int)).mean() for a, b in zip(info["frames"], rgb)])
    assert err < 4.0, err
    red = np.zeros((H, W, 3), np.uint8)
    red[..., 2] = 255  # BGR red
    with render.VideoWriter(tmp_path / "red.mp4", 5, (W, H), order="bgr") as w:
        w.write(red)
    px = _probe(tmp_path / "red.mp4")["frames"][0][H // 2, W // 2]
    assert px[0] > 200 and px[1] < 40 and px[2] < 40, px


def test_video_writer_pads_odd_sizes(tmp_path):
    img = np.zeros((33, 51, 3), np.uint8)
    img[:, -1] = 255  # last column white: the padding repeats it
    with render.VideoWriter(tmp_path / "odd.mp4", 10, (51, 33)) as w:
        assert w.encoded_size == (52, 34)
        for _ in range(3):
            w.write(img)
    info = _assert_browser_mp4(tmp_path / "odd.mp4", 3, (52, 34))
    assert info["frames"][0][:, -1].mean() > 200 and info["frames"][0][:, :40].mean() < 30


def test_video_writer_errors_and_fallback(tmp_path, monkeypatch):
    for fps in (0, -1, float("nan"), "30"):
        with pytest.raises(ValueError, match="fps"):
            render.VideoWriter(tmp_path / "x.mp4", fps, (32, 24))
    with pytest.raises(ValueError, match="size"):
        render.VideoWriter(tmp_path / "x.mp4", 10, (0, 24))
    with pytest.raises(ValueError, match="crf"):
        render.VideoWriter(tmp_path / "x.mp4", 10, (32, 24), crf=99)
    with pytest.raises(ValueError, match="order"):
        render.VideoWriter(tmp_path / "x.mp4", 10, (32, 24), order="yuv")
    with pytest.raises(ValueError, match="x.nosuchformat"):
        render.VideoWriter(tmp_path / "x.nosuchformat", 10, (32, 24))
    # an explicit fourcc uses OpenCV's writer, silently
    with render.VideoWriter(tmp_path / "m.avi", 10, (32, 24), fourcc="MJPG") as w:
        assert w.backend == "opencv"
        w.write(np.zeros((24, 32, 3), np.uint8))
    # no libx264: mp4v with a warning that says so
    monkeypatch.setattr(render, "h264_available", lambda: "this PyAV/FFmpeg build has no libx264 encoder (test)")
    with pytest.warns(RuntimeWarning, match="cannot write H.264.*no libx264.*mp4v"):
        w = render.VideoWriter(tmp_path / "f.mp4", 10, (32, 24))
    assert w.backend == "opencv"
    for _ in range(4):
        w.write(np.zeros((24, 32, 3), np.uint8))
    w.close()
    cap = cv2.VideoCapture(str(tmp_path / "f.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 4
    cap.release()


def test_h264_encoder_is_bundled():
    assert render.h264_available() is None
    assert av.codec.Codec("libx264", "w").name == "libx264"


def test_grid_and_motion_overlays_are_h264(tmp_path, mp4):
    gw = GridVideoWriter(tmp_path, name="cam", fps=5, size=(160, 90), vmax=4)
    for k in range(6):
        gw.write(np.full((9, 16), k % 5), k)
    path = gw.close()
    _assert_browser_mp4(path, 6, (160, 90))
    out = tmp_path / "motion.mp4"
    motion_heatmap(mp4, "mog", video=out, window=1.0)
    _assert_browser_mp4(out, N, (W, H))
    assert _probe(out)["rate"] == Fraction(25, 2)


# -- overlay sliding window ------------------------------------------------------------------------
def _old_window_heats(masks: list[np.ndarray], method: str, window: int) -> list[np.ndarray]:
    """The previous implementation: keep every float32 map of the window and re-sum them."""
    ring, out = [], []
    for motion in masks:
        m = motion.astype(np.float32)
        if m.max(initial=0) > 1.0 and method != "diff":
            m /= 255.0
        ring.append(m)
        if len(ring) > window:
            ring.pop(0)
        out.append(np.sum(ring, axis=0))
    return out


def _capture_heats(monkeypatch) -> list[np.ndarray]:
    heats: list[np.ndarray] = []
    real = _OverlayVideo._render

    def spy(self, heat, bg, vmax):
        heats.append(np.array(heat, copy=True))
        return real(self, heat, bg, vmax)

    monkeypatch.setattr(_OverlayVideo, "_render", spy)
    return heats


def test_overlay_frames_match_render_overlay(tmp_path, scene):
    """The motion overlay's fast colouring == render.overlay up to rounding."""
    heat = np.zeros((H // 2, W // 2), np.float32)
    cv2.circle(heat, (20, 15), 12, 9.0, -1)
    heat = cv2.GaussianBlur(heat, (0, 0), 4)
    ov = _OverlayVideo(tmp_path / "o.mp4", 10, (W, H), cmap="inferno", alpha=0.6, window=None, half_life=None)
    for hm in (heat, cv2.resize(heat, (W, H))):
        vmax = float(hm.max()) * 0.8
        fast = ov._render(hm, scene[0], vmax)
        ref = render.overlay(hm, scene[0], "inferno", alpha=0.6, vmin=0.0, vmax=vmax, threshold=0.05 * vmax,
                             order="bgr", relative_threshold=None, ramp=0)  # the plain blend above 5 % of the peak
        d = np.abs(fast.astype(int) - ref.astype(int))
        assert d.max() <= 3 and (d > 1).mean() < 0.01, (d.max(), (d > 1).mean())
        assert (fast != scene[0]).any(axis=2).mean() > 0.05  # the heat shows
    ov.close()
    with pytest.raises(ValueError, match="colormap"):
        _OverlayVideo(tmp_path / "p.mp4", 10, (W, H), cmap="nope", alpha=0.6, window=None, half_life=None)


@pytest.mark.parametrize("method,kw", [("mog", {}), ("diff", {}), ("diff", dict(threshold=12)), ("mog2", {})])
def test_overlay_window_equals_the_old_resumming(mp4, tmp_path, monkeypatch, method, kw):
    masks: list[np.ndarray] = []
    acc = MotionHeatmap(method, batch=1, reference="first", **kw)
    for _, f in iter_frames(mp4, gray=method == "diff"):
        masks.append(acc.update(f, return_mask=True))
    window = 9  # frames
    heats = _capture_heats(monkeypatch)
    motion_heatmap(mp4, method, decoder="opencv", video=tmp_path / "w.mp4", window=window / FPS, reference="first",
                   **kw)
    old = _old_window_heats(masks, method, window)
    assert len(heats) == len(old) == N
    for h, o in zip(heats, old):
        if method == "mog2":  # sums of 0/127/255 (heat 1 per 255): float sums differ in the last bits only
            np.testing.assert_allclose(h / 255.0, o, rtol=1e-6, atol=1e-5)
        else:
            assert np.array_equal(h, o)
    assert max(float(h.max()) for h in heats) > 0


def test_mask_ring_memory_is_bounded_and_exact():
    rng = np.random.default_rng(1)
    hh, ww, window = 48, 80, 5
    ring = _MaskRing(window)
    maps = []
    for k in range(40):
        kind = k % 4
        if kind == 0:
            m = (rng.random((hh, ww)) < 0.3).astype(np.uint8)  # 0/1 mask
        elif kind == 1:
            m = rng.choice(np.array([0, 127, 255], np.uint8), size=(hh, ww))  # MOG2 levels
        elif kind == 2:
            m = rng.integers(0, 256, (hh, ww), dtype=np.uint8)  # diff values
        else:
            m = np.zeros((hh, ww), np.uint8)
        maps.append(m)
        total = ring.add(m)
        expect = np.sum(np.stack(maps[-window:]).astype(np.int64), axis=0)
        assert np.array_equal(total, expect)
        assert len(ring.ring) == min(k + 1, window)
    # at most one full uint8 map per frame plus the int32 sum, whatever the number of frames
    assert ring.nbytes() <= window * hh * ww + 4 * hh * ww
    masks = _MaskRing(window)
    for _ in range(50):
        masks.add((rng.random((hh, ww)) < 0.5).astype(np.uint8) * 255)
    assert masks.nbytes() == window * hh * ww // 8 + 4 * hh * ww  # bit-packed masks
