"""Defaults a new user can trust (issue 15): no veils over plans, KDE that fits the data as seaborn
does, seaborn palettes, CLI-worded errors, opacity checks, clean package namespaces."""

from __future__ import annotations

import numpy as np
import pytest

import heatcore as hc
from heatcore import render
from heatcore.cli import main

BLOG_POINTS = np.array([[1.0, 2.0], [2.5, 3.1], [3.0, 1.5], [4.2, 4.0], [2.2, 2.6], [5.0, 3.3]])


def _write_points(path, pts, header="x_coords,y_coords"):
    np.savetxt(path, pts, delimiter=",", header=header, comments="", fmt="%.6f")
    return path


# --------------------------------------------------------------------------- item 2: no veil
def _white_plan_and_heat():
    plan = np.full((120, 200, 3), 245, np.uint8)
    pts = np.random.default_rng(0).normal([60, 50], [6, 5], (400, 2))
    heat = hc.kde(pts, (120, 200), bandwidth=6.0)  # density ~1e-3 at the peak, exactly 0 far away
    return plan, heat


def test_overlay_leaves_zero_density_untouched():
    plan, heat = _white_plan_and_heat()
    far = (100, 180)  # no point within 15 sigmas
    assert heat[far] < 1e-12 * heat.max()
    out = render.overlay(heat, plan, "inferno", alpha=0.6)
    assert (out[far] == 245).all()  # was 100 with the uniform blend: 245 * 0.4 + black * 0.6
    # the hot spot is still coloured at full opacity
    peak = np.unravel_index(np.argmax(heat), heat.shape)
    cmax = render.lut("inferno")[255, :3].astype(int)
    expected = (245 * (255 - 153) + cmax * 153 + 127) // 255
    np.testing.assert_allclose(out[peak].astype(int), expected, atol=2)
    # the old behaviour on request
    veiled = render.overlay(heat, plan, "inferno", alpha=0.6, relative_threshold=None, ramp=0)
    assert veiled[far].max() < 110


def test_opacity_ramps_in_above_the_relative_threshold():
    v = np.linspace(0.0, 1.0, 101, dtype=np.float64).reshape(1, -1)
    rgba = render.colorize(v, "gray", alpha=1.0, relative_threshold=0.02, ramp=0.1)
    a = rgba[0, :, 3].astype(int)
    assert (a[:3] == 0).all()  # 0, 1 %, 2 %: at or below the cut
    assert 0 < a[3] < a[7] < 255  # ramping
    assert (a[12:] == 255).all()  # 2 % + 10 %: full opacity
    assert (np.diff(a) >= 0).all()


def test_absolute_threshold_still_in_data_units():
    v = np.array([[0.0, 1e-5, 2e-5, 1e-3]])
    rgba = render.colorize(v, "gray", alpha=1.0, threshold=1.5e-5)
    np.testing.assert_array_equal(rgba[0, :, 3], [0, 0, 255, 255])


def test_kde_cli_threshold_is_relative_and_abs_has_its_own_flag(tmp_path):
    plan, heat = _white_plan_and_heat()
    pts = np.random.default_rng(0).normal([60, 50], [6, 5], (400, 2))
    csv = _write_points(tmp_path / "c.csv", pts)
    render.save_image(tmp_path / "plan.png", plan)
    base = ["kde", str(csv), "--background", str(tmp_path / "plan.png"), "--bandwidth", "6", "--cmap", "inferno",
            "--alpha", "0.6", "--quiet"]
    assert main(base + ["-o", str(tmp_path / "a.png"), "--threshold", "0.02"]) == 0
    img = render.read_image(tmp_path / "a.png")
    changed = (img != 245).any(axis=2).sum()
    assert changed > 500  # densities are ~1e-3: an absolute 0.02 would hide everything
    assert (img[100, 180] == 245).all()
    # an absolute cut above the maximum hides the heat: the user asked for it explicitly
    assert main(base + ["-o", str(tmp_path / "b.png"), "--threshold-abs", str(2 * heat.max())]) == 0
    assert (render.read_image(tmp_path / "b.png") == 245).all()


# --------------------------------------------------------------------------- item 3: seaborn users
def test_kde_cli_fits_the_data_like_seaborn(tmp_path, capsys):
    from scipy.stats import gaussian_kde

    csv = _write_points(tmp_path / "coords.txt", BLOG_POINTS)
    out, npy = tmp_path / "blog.png", tmp_path / "blog.npy"
    assert main(["kde", str(csv), "-o", str(out), "--npy", str(npy)]) == 0
    assert "grid fitted to the points" in capsys.readouterr().out
    grid = np.load(npy)
    assert grid.shape == (200, 200)
    # seaborn's support: linspace(min - 3 bw, max + 3 bw, 200) per axis, bw = sqrt(diag(kde covariance))
    k = gaussian_kde(BLOG_POINTS.T)
    bw = np.sqrt(np.diag(k.covariance))
    xs = np.linspace(BLOG_POINTS[:, 0].min() - 3 * bw[0], BLOG_POINTS[:, 0].max() + 3 * bw[0], 200)
    ys = np.linspace(BLOG_POINTS[:, 1].min() - 3 * bw[1], BLOG_POINTS[:, 1].max() + 3 * bw[1], 200)
    X, Y = np.meshgrid(xs, ys)  # row i = ys[i]: the .npy grid keeps row 0 = ymin
    expected = k(np.vstack([X.ravel(), Y.ravel()])).reshape(200, 200)
    np.testing.assert_allclose(grid, expected, rtol=1e-5, atol=1e-6 * expected.max())
    # the figure: white where there is no density (seaborn look), y upwards: the mass sits where
    # y is small on the page's lower rows -> the lowest point (y=1.5) is below the highest (y=4)
    img = render.read_image(out).astype(int)
    assert img.shape[0] > 300 and img.shape[1] > 400
    coloured = (np.abs(img - 255).sum(axis=2) > 60)
    rows = np.flatnonzero(coloured.any(axis=1))
    assert len(rows) > 100
    assert (img[5, img.shape[1] // 2] > 240).all()  # the figure is white, not a black canvas


def test_save_figure_origin_lower_draws_y_upwards(tmp_path):
    v = np.zeros((50, 50))
    v[:5, :] = 1.0  # row 0 = ymin is hot
    up = render.read_image(render.save_figure(tmp_path / "u.png", v, cmap="gray_r", colorbar=False,
                                              extent=(0, 1, 0, 1), origin="lower", relative_threshold=None))
    down = render.read_image(render.save_figure(tmp_path / "d.png", v, cmap="gray_r", colorbar=False,
                                                extent=(0, 1, 0, 1), relative_threshold=None))

    def hot_rows(img):  # where the black (hot in gray_r) band is, as a fraction of the height
        g = img.mean(axis=2)
        dark = np.flatnonzero((g < 10).sum(axis=1) > img.shape[1] // 3)
        return dark.mean() / img.shape[0]

    assert hot_rows(up) > 0.6 and hot_rows(down) < 0.4


@pytest.mark.parametrize("shape", [(540, 960), (300, 1200), (100, 1600)])
def test_wide_figure_has_no_blank_margins(tmp_path, shape):
    # before: 138 blank columns left of a 960x540 picture, 209 left of 1200x300
    v = np.random.default_rng(1).random(shape)
    img = render.read_image(render.save_figure(tmp_path / "w.png", v, colorbar=True, label="x", title="t"))
    # the first and last columns with colour (not white) lie within a few pixels of the edges
    ink = np.flatnonzero((img < 235).any(axis=2).any(axis=0))
    assert ink[0] <= 12 and img.shape[1] - 1 - ink[-1] <= 16
    ink_rows = np.flatnonzero((img < 235).any(axis=2).any(axis=1))
    assert ink_rows[0] <= 12 and img.shape[0] - 1 - ink_rows[-1] <= 16


def test_cli_errors_speak_cli_flags(tmp_path, capsys):
    csv = _write_points(tmp_path / "line.csv", np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]))
    assert main(["kde", str(csv), "-o", str(tmp_path / "o.png")]) == 2
    err = capsys.readouterr().err
    assert "--bandwidth 15" in err and "bandwidth=" not in err
    one = _write_points(tmp_path / "one.csv", np.array([[3.0, 4.0]]))
    assert main(["kde", str(one), "-o", str(tmp_path / "o.png")]) == 2
    err = capsys.readouterr().err
    assert "--bandwidth" in err and "bandwidth=" not in err and "bandwidth='" not in err
    # an explicit bandwidth works for one point, too
    assert main(["kde", str(one), "-o", str(tmp_path / "o.png"), "--bandwidth", "0.5", "--quiet"]) == 0


def test_pixel_canvas_speck_is_pointed_out(tmp_path, capsys):
    csv = _write_points(tmp_path / "coords.txt", BLOG_POINTS)
    assert main(["kde", str(csv), "-o", str(tmp_path / "o.png"), "--shape", "480x640"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("heatcore: warning:") and "drop --shape" in err and err.count("\n") == 1


def test_fit_extent_centres_are_seaborn_grid():
    from heatcore.kde import fit_extent

    ext = fit_extent(BLOG_POINTS, "scott", shape=(200, 300))
    step_x = (ext[1] - ext[0]) / 300
    centres = ext[0] + (np.arange(300) + 0.5) * step_x
    from scipy.stats import gaussian_kde

    bw = np.sqrt(np.diag(gaussian_kde(BLOG_POINTS.T).covariance))
    np.testing.assert_allclose(centres[[0, -1]], [BLOG_POINTS[:, 0].min() - 3 * bw[0],
                                                  BLOG_POINTS[:, 0].max() + 3 * bw[0]], rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="no points"):
        fit_extent(np.zeros((0, 2)), 1.0)
    with pytest.raises(ValueError, match="cut"):
        fit_extent(BLOG_POINTS, 1.0, cut=-1)


def test_seaborn_palettes_work_everywhere(tmp_path):
    sns = pytest.importorskip("seaborn")
    table = render.lut("mako")
    expected = sns.color_palette("mako", as_cmap=True)(np.linspace(0, 1, 256))
    np.testing.assert_allclose(table / 255.0, expected, atol=1 / 255)
    ch = render.lut("ch:s=.25,rot=-.25")
    assert ch.shape == (256, 4) and len(np.unique(ch[:, :3], axis=0)) > 100
    csv = _write_points(tmp_path / "coords.txt", BLOG_POINTS)
    assert main(["kde", str(csv), "-o", str(tmp_path / "m.png"), "--cmap", "mako", "--colorbar", "--quiet"]) == 0
    assert main(["kde", str(csv), "-o", str(tmp_path / "r.png"), "--cmap", "rocket_r", "--quiet"]) == 0


def test_seaborn_name_without_seaborn_says_install():
    import subprocess
    import sys

    code = ("import sys; sys.modules['seaborn'] = None\n"
            "from heatcore import render\n"
            "try:\n    render.resolve_cmap('mako')\nexcept ValueError as e:\n    print('ERR', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout
    assert "ERR" in out and "pip install seaborn" in out


# --------------------------------------------------------------------------- item 8: alpha, namespaces
@pytest.mark.parametrize("alpha", [2, -0.1, float("nan")])
def test_alpha_outside_0_1_is_rejected_in_render(alpha):
    v = np.ones((4, 4))
    bg = np.zeros((4, 4, 3), np.uint8)
    for call in (lambda: render.overlay(v, bg, alpha=alpha), lambda: render.overlay(v, None, alpha=alpha),
                 lambda: render.colorize(v, alpha=alpha)):
        with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\]"):
            call()


@pytest.mark.parametrize("command", [
    ["kde", "pts.csv", "-o", "o.png"],
    ["motion", "video.avi", "-o", "o.png"],
    ["floorplan", "d.csv", "--homography", "H.json", "--plan", "p.png", "-o", "o.png"],
])
def test_alpha_2_is_a_cli_error_for_every_command(tmp_path, capsys, command, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(command + ["--alpha", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--alpha must be in [0, 1]" in err and "\n" not in err


def test_namespaces_export_no_imported_modules():
    import importlib.util

    import heatcore
    import heatcore.io
    import heatcore.reference

    bad = {"np", "numpy", "cv2", "os", "annotations", "math", "json", "Path", "functools"}
    for mod in (heatcore, heatcore.io, heatcore.reference, heatcore.render):
        leaked = bad & set(dir(mod))
        assert not leaked, f"{mod.__name__} exports {sorted(leaked)}"
        for name in getattr(mod, "__all__", []):
            assert hasattr(mod, name) or importlib.util.find_spec(f"{mod.__name__}.{name}") is not None, \
                f"{mod.__name__}.__all__ lists missing {name}"
    # the public names are still there
    assert {"kde", "render", "MotionHeatmap", "Homography"} <= set(dir(heatcore))
    assert {"overlay", "save_figure", "VideoWriter"} <= set(dir(heatcore.render))


# --------------------------------------------------------------------------- item 1: no ghosts
def _walker_clip(n=150, w=160, h=120):
    """A static scene; a slow walker loiters around (30..40, 40) for the first 30 frames, then
    walks off along a lane at y=90. Returns (frames BGR, empty background)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    bg = np.empty((h, w, 3), np.uint8)
    bg[..., 0] = (90 + 30 * np.sin(xx / 13.0)).astype(np.uint8)
    bg[..., 1] = (120 + 25 * np.cos(yy / 11.0)).astype(np.uint8)
    bg[..., 2] = 110
    frames = []
    for i in range(n):
        img = bg.copy()
        if i < 30:
            cx, cy = 30 + i / 3.0, 40.0
        else:
            cx, cy = 40 + (i - 30) * 1.5, 90.0
        if cx < w + 12:
            img[(xx - cx) ** 2 + (yy - cy) ** 2 < 100] = (20, 220, 240)
        frames.append(img)
    return frames, bg


def _write_folder(tmp_path, frames):
    d = tmp_path / "clip"
    d.mkdir()
    for i, f in enumerate(frames):
        render.save_image(d / f"f{i:04d}.png", f, order="bgr")
    return d


def test_default_diff_reference_has_no_ghost(tmp_path):
    frames, bg = _walker_clip()
    clip = _write_folder(tmp_path, frames)
    truth = hc.motion_heatmap(clip, "diff", reference=bg).result(normalize=True)
    new = hc.motion_heatmap(clip, "diff")  # default: median of 25 frames spread over the clip
    assert new.reference_frames is not None and len(new.reference_frames) == 25
    assert new.reference_frames[0] < 10 and new.reference_frames[-1] > 140
    old = hc.MotionHeatmap("diff", reference="median:25")  # the first 25 frames
    for f in frames:
        old.update(f)
    start_area = (slice(30, 50), slice(22, 48))
    ghost_old = old.result(normalize=True)[start_area].mean()
    ghost_new = new.result(normalize=True)[start_area].mean()
    ghost_true = truth[start_area].mean()
    assert ghost_old > 3 * ghost_true  # the loiterer stays in every later difference
    assert abs(ghost_new - ghost_true) < 0.05 * ghost_true + 0.5
    np.testing.assert_allclose(new.result(normalize=True), truth, atol=1.5)


def test_median_k_samples_the_start_stop_range_and_saves_reference(tmp_path, capsys):
    frames, bg = _walker_clip()
    clip = _write_folder(tmp_path, frames)
    acc = hc.motion_heatmap(clip, "diff", reference="median:5", start=50, stop=150,
                            save_reference=tmp_path / "ref.png")
    assert acc.reference_frames == [60, 80, 100, 120, 140]
    ref = render.read_image(tmp_path / "ref.png", gray=True)
    assert ref.shape == (120, 160)
    again = hc.motion_heatmap(clip, "diff", reference=tmp_path / "ref.png", start=50, stop=150)
    np.testing.assert_array_equal(again.result(), acc.result())  # the saved reference reproduces the run
    # CLI: says which frames, writes the reference
    out = tmp_path / "h.png"
    assert main(["motion", str(clip), "-o", str(out), "--method", "diff", "--reference", "median:4",
                 "--save-reference", str(tmp_path / "r2.png"), "--quiet"]) == 0
    assert (tmp_path / "r2.png").exists()
    assert main(["motion", str(clip), "-o", str(out), "--method", "diff"]) == 0
    text = capsys.readouterr().out
    assert "reference: per-pixel median of 25 frames: 3, 9, 15" in text
    assert main(["motion", str(clip), "-o", str(out), "--save-reference", "x.png"]) == 2  # not diff


@pytest.mark.parametrize("seek", [True, False])
@pytest.mark.parametrize("decoder", ["opencv", "auto"])
def test_sample_reference_seeks_to_the_right_frames(tmp_path, decoder, seek, monkeypatch):
    from heatcore import motion
    from heatcore.io.video import iter_frames
    from heatcore.motion import sample_reference

    if seek:  # force seeking on this short clip (long inputs seek, short ones are read in one pass)
        monkeypatch.setattr(motion, "_SEQUENTIAL_SPAN", 0)

    frames, _ = _walker_clip(n=60)
    avi = tmp_path / "c.avi"
    with render.VideoWriter(avi, 25, (160, 120), fourcc="MJPG", order="bgr") as w:
        for f in frames:
            w.write(f)
    img, used = sample_reference(avi, 7, decoder=decoder)
    assert used == [4, 12, 21, 30, 38, 47, 55]
    decoded = {i: f for i, f in iter_frames(avi, gray=True, backend=decoder)}
    expected = np.median(np.stack([decoded[i] for i in used]), axis=0).astype(np.uint8)
    np.testing.assert_array_equal(img, expected)


# --------------------------------------------------------------------------- item 7: grid videos
def test_grid_colorbar_goes_beside_the_scene_not_over_it():
    from heatcore.grid_output import colorbar_width, grid_frame_size, render_grid_frame

    g = np.zeros((9, 16), np.int32)
    g[4, 8] = 5
    scene = np.random.default_rng(0).integers(0, 255, (360, 640, 3), dtype=np.uint8)
    plain = render_grid_frame(g, size=(640, 360), image=scene, vmax=10, alpha=0.4, clear_below=0)
    with_bar = render_grid_frame(g, size=(640, 360), image=scene, vmax=10, alpha=0.4, clear_below=0, colorbar=True)
    assert with_bar.shape == (360, 640 + colorbar_width((640, 360)), 3)
    assert grid_frame_size((640, 360), True) == (with_bar.shape[1], 360)
    np.testing.assert_array_equal(with_bar[:, :640], plain)  # the whole scene is still there
    np.testing.assert_array_equal(plain[300:, :], scene[300:, :])  # zero cells show the picture as is


@pytest.mark.parametrize("scene_value", [0, 255])
def test_grid_label_is_readable_on_any_background_and_configurable(scene_value):
    from heatcore.grid_output import render_grid_frame

    g = np.zeros((9, 16), np.int32)
    scene = np.full((720, 1280, 3), scene_value, np.uint8)
    scene[..., 1] = 160 if scene_value == 0 else 255  # grass-like green / white
    f = render_grid_frame(g, size=(1280, 720), image=scene, number_of_detects=7, clear_below=0)
    top = f[:60, :500].astype(int)
    # bright green text and a dark outline both present: contrast against any background
    green = ((top[..., 1] > 200) & (top[..., 0] < 80) & (top[..., 2] < 80)).sum()
    dark = (top.sum(axis=2) < 60).sum()
    assert green > 200 and dark > 200
    # text height ~3 % of the frame or more (the old one was 1 px thin, 0.72 scale)
    rows = np.flatnonzero((np.abs(f[:80, :500].astype(int) - scene[:80, :500]).sum(axis=2) > 0).any(axis=1))
    assert rows[-1] - rows[0] >= 20
    custom = render_grid_frame(g, size=(1280, 720), image=scene, number_of_detects=7, clear_below=0,
                               label="people: {n}")
    assert (custom != f).any()
    none = render_grid_frame(g, size=(1280, 720), image=scene, number_of_detects=7, clear_below=0, label=None)
    np.testing.assert_array_equal(none, scene)
    with pytest.raises(ValueError, match="label"):
        render_grid_frame(g, size=(1280, 720), number_of_detects=7, label="{count}")


def test_grid_video_with_colorbar_is_wider(tmp_path):
    import cv2

    from heatcore.grid_output import GridVideoWriter

    w = GridVideoWriter(tmp_path, name="c", fps=5, size=(320, 180), vmax=5, colorbar=True, label="n={n}")
    for i in range(3):
        w.write(np.full((9, 16), i, np.int32), i, np.full((180, 320, 3), 90, np.uint8))
    cap = cv2.VideoCapture(str(w.close()))
    ok, f = cap.read()
    assert ok and f.shape == (180, 320 + 60, 3)


def test_readme_development_install_installs_the_build_requirements_first():
    """`pip install --no-build-isolation -e .` needs the [build-system] requirements already
    installed: the README must install every one of them before (checked in a fresh venv by hand;
    this guards the text)."""
    import re
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text()
    requires = tomllib.loads((root / "pyproject.toml").read_text())["build-system"]["requires"]
    names = [re.split(r"[<>=!~ \[]", r, maxsplit=1)[0].lower() for r in requires]
    for block in re.findall(r"```bash\n(.*?)```", readme, flags=re.S):
        lines = block.splitlines()
        for k, line in enumerate(lines):
            if "--no-build-isolation" in line:
                before = " ".join(lines[:k]).lower() + " " + line.split("--no-build-isolation")[0].lower()
                missing = [n for n in names + ["cmake", "ninja"] if n not in before]
                assert not missing, f"README installs with --no-build-isolation before installing {missing}"


def test_sample_reference_seeks_h264_exactly(tmp_path, monkeypatch):
    """H.264 with B-frames and sparse key frames: each seek lands on the frame asked for, in the
    decoder's own gray levels (the luma plane when the run uses PyAV)."""
    av = pytest.importorskip("av")
    from heatcore import _synthetic, motion
    from heatcore.io.video import iter_frames

    path = tmp_path / "c.mp4"
    try:
        c = av.open(str(path), "w")
        s = c.add_stream("libx264", rate=25)
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"no libx264 in this PyAV: {exc}")
    s.width, s.height, s.pix_fmt, s.options = 160, 120, "yuv420p", {"g": "50"}
    for f in _synthetic.synthetic_frames(160, 120, 200):
        for pk in s.encode(av.VideoFrame.from_ndarray(f, format="bgr24")):
            c.mux(pk)
    for pk in s.encode():
        c.mux(pk)
    c.close()
    monkeypatch.setattr(motion, "_SEQUENTIAL_SPAN", 0)
    seeks: list[int] = []
    for name in ("_read_at_pyav", "_read_at_opencv"):
        real = getattr(motion, name)
        monkeypatch.setattr(motion, name, lambda *a, _real=real: seeks.append(len(r := _real(*a))) or r)
    for decoder in ("auto", "opencv"):
        img, used = motion.sample_reference(path, 9, decoder=decoder)
        assert seeks[-1] == 9  # every sample came from a seek (no sequential fallback)
        decoded = {i: f for i, f in iter_frames(path, gray=True, backend=decoder)}
        expected = np.median(np.stack([decoded[i] for i in used]), axis=0)
        np.testing.assert_array_equal(img, np.floor(expected + 0.5).astype(np.uint8))
        assert used == motion.reference_indices(9, 0, 200)
