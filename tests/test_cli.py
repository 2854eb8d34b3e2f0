"""The `heatcore` command: dispatch, help, error handling."""

from __future__ import annotations

import subprocess
import sys

import pytest

from heatcore.cli import build_parser, main


def test_every_command_has_help(capsys):
    parser = build_parser()
    names = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {"demo", "kde", "motion", "grid", "calibrate", "detect", "floorplan"} <= set(names)
    for name in names:
        with pytest.raises(SystemExit) as exc:
            main([name, "--help"])
        assert exc.value.code == 0
        assert "usage: heatcore" in capsys.readouterr().out


def test_unknown_command_exits_nonzero():
    with pytest.raises(SystemExit) as exc:
        main(["nosuchcommand"])
    assert exc.value.code == 2


def test_console_script_entry_point_runs():
    out = subprocess.run([sys.executable, "-m", "heatcore", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("heatcore ")
