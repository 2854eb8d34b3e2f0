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
