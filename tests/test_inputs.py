"""Many inputs: globs, folders, list files, manifests -> per-camera segments with start times."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from heatcore.inputs import by_camera, expand_inputs, parse_start
from heatcore._synthetic import write_synthetic_video


def _utc(*a: int) -> float:
    return dt.datetime(*a, tzinfo=dt.timezone.utc).timestamp()


@pytest.fixture(scope="module")
def footage(tmp_path_factory) -> Path:
    """cam1: Kerberos names (out of name order on purpose), cam2: ISO folders, one undated file."""
    root = tmp_path_factory.mktemp("cams")
    (root / "kerb").mkdir()
    for t, seed in ((1616678795, 1), (1616678735, 2)):
        write_synthetic_video(root / "kerb" / f"{t}_6-967003_cam1_200-200-400-400_24_769.avi", 48, 32, 4, seed=seed)
    for day, hms, seed in (("2026-11-30", "10-05-00", 3), ("2026-11-30", "10-00-00", 4)):
        d = root / "cam2" / day
        d.mkdir(parents=True, exist_ok=True)
        write_synthetic_video(d / f"{hms}.avi", 48, 32, 4, seed=seed)
    return root


def test_glob_and_folder_give_cameras_and_times_from_names(footage):
    segs = expand_inputs([str(footage / "kerb" / "*.avi"), footage / "cam2"])
    cams = by_camera(segs)
    assert sorted(cams) == ["cam1", "cam2"]
    assert [s.start_wall for s in cams["cam1"]] == [1616678735.0, 1616678795.0]  # sorted by time, not name
    assert [s.start_wall for s in cams["cam2"]] == [_utc(2026, 11, 30, 10, 0, 0), _utc(2026, 11, 30, 10, 5, 0)]
    assert cams["cam2"][0].path.name == "10-00-00.avi"


def test_list_file_relative_paths_and_comments(footage, tmp_path):
    files = sorted((footage / "kerb").glob("*.avi"))
    lst = footage / "list.txt"
    lst.write_text("# two files\n\n" + "\n".join(str(f.relative_to(footage)) for f in files) + "\n")
    segs = expand_inputs(lst)
    assert [s.path.resolve() for s in segs] == [f.resolve() for f in files]
    assert {s.camera for s in segs} == {"cam1"}


@pytest.mark.parametrize("kind", ["csv", "yaml"])
def test_manifest_overrides_camera_and_start(footage, tmp_path, kind):
    f1, f2 = sorted((footage / "cam2").rglob("*.avi"))
    if kind == "csv":
        m = tmp_path / "m.csv"
        m.write_text(f"camera,path,start\nlobby,{f1},2026-01-02T03:04:05Z\nlobby,{f2},100\n")
    else:
        m = tmp_path / "m.yaml"
        m.write_text(f"- {{camera: lobby, path: '{f1}', start: '2026-01-02T03:04:05+00:00'}}\n"
                     f"- {{camera: lobby, path: '{f2}', start: 100}}\n")
    segs = expand_inputs(m)
    assert [(s.camera, s.path, s.start_wall) for s in segs] == [("lobby", f2, 100.0),
                                                               ("lobby", f1, _utc(2026, 1, 2, 3, 4, 5))]


def test_configurable_pattern(footage):
    segs = expand_inputs(footage / "kerb", pattern=r"(?P<unix>\d{10})_6")
    assert [s.start_wall for s in segs] == [1616678735.0, 1616678795.0]


def test_undated_files_warn_and_keep_file_order(tmp_path):
    d = tmp_path / "gate"
    d.mkdir()
    for name in ("b.avi", "a.avi"):
        write_synthetic_video(d / name, 48, 32, 3)
    with pytest.warns(UserWarning, match="no start time"):
        segs = expand_inputs([d / "b.avi", d / "a.avi"])
    assert [s.path.name for s in segs] == ["b.avi", "a.avi"]
    assert all(s.camera == "gate" and s.start_wall is None for s in segs)


def test_bad_inputs_raise_naming_the_value(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope"):
        expand_inputs(tmp_path / "nope.mp4")
    with pytest.raises(FileNotFoundError, match=r"\*\.mp4"):
        expand_inputs(str(tmp_path / "*.mp4"))
    with pytest.raises(ValueError, match="yesterday"):
        parse_start("yesterday")
    m = tmp_path / "m.csv"
    m.write_text("camera,path\nx,\n")
    with pytest.raises(ValueError, match="row 1"):
        expand_inputs(m)
