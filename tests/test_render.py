"""heatcore.render: colour mapping against matplotlib, overlays, files, video writer."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from heatcore import render


def test_lut_matches_matplotlib_colormap():
    table = render.lut("viridis")
    expected = matplotlib.colormaps["viridis"](np.linspace(0, 1, 256))
    assert table.shape == (256, 4) and table.dtype == np.uint8
    np.testing.assert_allclose(table / 255.0, expected, atol=1 / 255)
    bgr = render.lut("viridis", "bgr")
    np.testing.assert_array_equal(bgr[:, :3], table[:, 2::-1])


def test_unknown_colormap_names_it():
    with pytest.raises(ValueError, match="nosuchmap"):
        render.lut("nosuchmap")


def test_colorize_fixed_range_is_comparable_across_images():
    a = np.array([[0.0, 5.0], [10.0, 20.0]])
    b = a * 0.5
    ca = render.colorize(a, "gray", vmin=0, vmax=20)
    cb = render.colorize(b, "gray", vmin=0, vmax=20)
    # Same value -> same colour in both images under a fixed range.
    assert (ca[1, 0, :3] == cb[1, 1, :3]).all()
    # Per-image range: both maxima are white.
    assert render.colorize(b, "gray")[1, 1, 0] == 255
    assert cb[1, 1, 0] == 128  # 10 of 0..20 in gray


def test_colorize_threshold_and_alpha():
    v = np.array([[0.0, 0.1], [0.5, 1.0]])
    out = render.colorize(v, "hot", threshold=0.1, alpha=0.5)
    np.testing.assert_array_equal(out[..., 3], [[0, 0], [128, 128]])
    with pytest.raises(ValueError, match="alpha"):
        render.colorize(v, alpha=1.5)


@pytest.mark.parametrize("scale", ["log", "gamma"])
def test_nonlinear_scales_are_monotone_and_keep_ends(scale):
    v = np.linspace(0, 100, 50).reshape(5, 10)
    t = render.normalize(v, scale=scale)
    assert t[0, 0] == 0 and t[-1, -1] == pytest.approx(1.0)
    assert (np.diff(t.ravel()) > 0).all()
    # Both lift small values above the linear mapping.
    assert t.ravel()[5] > render.normalize(v).ravel()[5]


def test_normalize_rejects_bad_input():
    with pytest.raises(ValueError, match="2-D"):
        render.normalize(np.zeros(5))
    with pytest.raises(ValueError, match="vmax"):
        render.normalize(np.zeros((2, 2)), vmin=1, vmax=0)
    with pytest.raises(ValueError, match="scale"):
        render.normalize(np.zeros((2, 2)), scale="cubic")
    # Constant data has no range: all zeros, no division by zero.
    assert (render.normalize(np.ones((3, 3))) == 0).all()


def test_overlay_blends_by_alpha_and_threshold():
    bg = np.full((4, 6, 3), 100, np.uint8)
    heat = np.zeros((2, 3))
    heat[0, 0] = 1.0
    out = render.overlay(heat, bg, "gray", alpha=0.5, threshold=0.0, interpolation="nearest", vmin=0, vmax=1)
    assert out.shape == (4, 6, 3)
    # Cold cells are transparent (background kept); the hot cell is halfway to white.
    assert (out[2:, :] == 100).all()
    assert (out[:2, :2] == (100 * 127 + 255 * 128 + 127) // 255).all()
    with pytest.raises(TypeError, match="uint8"):
        render.overlay(heat, bg.astype(np.float32))


def test_image_round_trip_and_errors(tmp_path):
    img = np.zeros((5, 7, 3), np.uint8)
    img[..., 0] = 255  # red in RGB
    p = render.save_image(tmp_path / "a.png", img)
    back = render.read_image(p)
    np.testing.assert_array_equal(back, img)
    assert render.read_image(p, order="bgr")[0, 0, 2] == 255
    with pytest.raises(FileNotFoundError, match="missing.png"):
        render.read_image(tmp_path / "missing.png")
    (tmp_path / "junk.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match="junk.png"):
        render.read_image(tmp_path / "junk.png")


def test_save_figure_writes_png_with_colorbar(tmp_path):
    v = np.random.default_rng(0).random((30, 40))
    p = render.save_figure(tmp_path / "f.png", v, title="t", colorbar=True, label="density")
    img = render.read_image(p)
    assert img.shape[0] > 100 and img.shape[1] > 100
    bg = np.full((30, 40, 3), 200, np.uint8)
    p2 = render.save_figure(tmp_path / "g.png", v, background=bg, extent=(0, 4, 0, 3), colorbar=False)
    assert p2.exists()


def test_colorbar_strip_runs_from_vmax_at_top():
    strip = render.colorbar_strip(200, "gray", vmin=0, vmax=10, width=60)
    assert strip.shape == (200, 60, 3)
    assert strip[0, 3, 0] == 255 and strip[-1, 3, 0] == 0
    with pytest.raises(ValueError):
        render.colorbar_strip(0)


def test_video_writer_round_trip(tmp_path):
    import cv2

    path = tmp_path / "v.mp4"
    with render.VideoWriter(path, 10, (32, 24)) as w:
        for i in range(5):
            w.write(np.full((24, 32, 3), i * 40, np.uint8))
        with pytest.raises(ValueError, match="does not match"):
            w.write(np.zeros((10, 10, 3), np.uint8))
    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.read()[0]:
        n += 1
    assert n == 5
    with pytest.raises(ValueError, match="fps"):
        render.VideoWriter(tmp_path / "x.mp4", 0, (32, 24))
