"""Reading points (CSV / .npy / arrays) and the `heatcore kde` command."""

from __future__ import annotations

import numpy as np
import pytest

import heatcore as hc
from heatcore.cli import main
from heatcore.io.points import read_points


def write(path, text):
    path.write_text(text)
    return path


def test_blog_format_and_named_columns(tmp_path):
    p = write(tmp_path / "a.csv", "x_coords,y_coords\n1.5,2\n3,4.25\n\n5,6\n")
    ps = read_points(p)
    np.testing.assert_array_equal(ps.points, [[1.5, 2], [3, 4.25], [5, 6]])
    assert ps.weights is None
    p = write(tmp_path / "b.csv", "t;px;py;dur\n0;10;20;100\n1;11;21;250\n")
    ps = read_points(p, x_col="px", y_col="PY", weight_col="dur")
    np.testing.assert_array_equal(ps.points, [[10, 20], [11, 21]])
    np.testing.assert_array_equal(ps.weights, [100, 250])


def test_malformed_rows_error_names_the_line_or_are_skipped(tmp_path):
    p = write(tmp_path / "bad.csv", "x,y\n1,2\n3,abc\n5\n7,8\n")
    with pytest.raises(ValueError, match=r"line 3.*3,abc"):
        read_points(p)
    with pytest.warns(RuntimeWarning, match="skipped 2 malformed rows"):
        ps = read_points(p, skip_bad=True)
    assert ps.skipped == 2
    np.testing.assert_array_equal(ps.points, [[1, 2], [7, 8]])


def test_missing_columns_files_and_formats(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such points file"):
        read_points(tmp_path / "nope.csv")
    p = write(tmp_path / "c.csv", "a,b\n1,2\n")
    with pytest.raises(ValueError, match="cannot find the x column"):
        read_points(p)
    with pytest.raises(ValueError, match="no column named 'w'"):
        read_points(p, x_col="a", y_col="b", weight_col="w")
    with pytest.raises(ValueError, match="empty file"):
        read_points(write(tmp_path / "e.csv", ""))
    np.save(tmp_path / "p.npy", np.array([[1.0, 2.0, 0.5], [3.0, 4.0, 2.0]]))
    ps = read_points(tmp_path / "p.npy")
    np.testing.assert_array_equal(ps.weights, [0.5, 2.0])
    np.save(tmp_path / "q.npy", np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        read_points(tmp_path / "q.npy")
    np.testing.assert_array_equal(read_points([[1, 2]]).points, [[1.0, 2.0]])


def test_nan_cells_become_nan_and_kde_drops_them(tmp_path):
    p = write(tmp_path / "n.csv", "x,y\n1,2\n,3\nnan,4\n5,6\n")
    ps = read_points(p)
    assert np.isnan(ps.points).any(axis=1).sum() == 2
    with pytest.warns(RuntimeWarning, match="dropped 2 of 4"):
        hc.kde(ps.points, (10, 10), 2.0)


def test_cli_kde_writes_png_and_npy(tmp_path, capsys):
    rng = np.random.default_rng(0)
    pts = rng.normal([60, 40], [15, 10], (500, 2))
    csv = tmp_path / "coords.csv"
    np.savetxt(csv, pts, delimiter=",", header="x_coords,y_coords", comments="")
    bg = np.full((80, 120, 3), 200, np.uint8)
    hc.render.save_image(tmp_path / "plan.png", bg)
    out = tmp_path / "heat.png"
    rc = main(["kde", str(csv), "-o", str(out), "--background", str(tmp_path / "plan.png"), "--bandwidth", "6,4",
               "--npy", str(tmp_path / "raw.npy"), "--quiet"])
    assert rc == 0
    img = hc.render.read_image(out)
    assert img.shape == (80, 120, 3)
    raw = np.load(tmp_path / "raw.npy")
    np.testing.assert_allclose(raw, hc.kde(pts, (80, 120), (6.0, 4.0)))
    # the picture is the default overlay of that grid (inferno, alpha 0.6) over the background
    np.testing.assert_array_equal(img, hc.render.overlay(raw, bg, "inferno", alpha=0.6))
    assert np.abs(img.astype(int) - np.asarray(hc.render.overlay(np.zeros_like(raw), bg, "inferno", alpha=0.6), int)).max() > 50
    rc = main(["kde", str(csv), "-o", str(tmp_path / "fig.png"), "--shape", "80x120", "--bandwidth", "scott",
               "--colorbar", "--title", "t", "--scale", "log"])
    assert rc == 0 and (tmp_path / "fig.png").exists()
    assert "500 points" in capsys.readouterr().out


@pytest.mark.parametrize("extra, match", [
    (["--bandwidth", "wide"], "--bandwidth"),
    (["--extent", "0,1,2"], "--extent"),
    (["--shape", "0x10"], "--shape"),
    (["--alpha", "2"], "--alpha"),
    (["--threshold", "1.5"], "--threshold-abs"),
    (["--cmap", "nosuchmap"], "nosuchmap"),
])
def test_cli_errors_exit_2_with_one_line(tmp_path, capsys, extra, match):
    csv = write(tmp_path / "c.csv", "x,y\n1,2\n3,5\n4,1\n")
    args = ["kde", str(csv), "-o", str(tmp_path / "o.png")] + extra
    if match != "--shape":
        args += ["--shape", "10x10"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("heatcore kde: error:") and match in err and "\n" not in err


def test_cli_bad_row_and_missing_file(tmp_path, capsys):
    csv = write(tmp_path / "c.csv", "x,y\n1,2\noops,5\n4,1\n")
    assert main(["kde", str(csv), "-o", str(tmp_path / "o.png"), "--shape", "10x10", "--bandwidth", "2"]) == 2
    assert "line 3" in capsys.readouterr().err
    assert main(["kde", str(csv), "-o", str(tmp_path / "o.png"), "--shape", "10x10", "--bandwidth", "2",
                 "--skip-bad-rows"]) == 0
    assert "skipped 1 malformed rows" in capsys.readouterr().err
    assert main(["kde", str(tmp_path / "none.csv"), "-o", str(tmp_path / "o.png"), "--shape", "10x10"]) == 2


def test_demo_writes_pictures(tmp_path):
    from heatcore.demo import kde_demo
    files = kde_demo(tmp_path, quiet=True)
    pngs = [f for f in files if f.suffix == ".png"]
    assert len(pngs) >= 5 and all(f.stat().st_size > 1000 for f in pngs)
