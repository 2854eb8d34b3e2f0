"""`heatcore demo`: the README's first command must work with no input files."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np


def test_demo_writes_outputs_of_every_capability(tmp_path):
    out = tmp_path / "demo"
    proc = subprocess.run([sys.executable, "-m", "heatcore", "demo", "-o", str(out), "--quiet"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    for area in ["kde", "motion", "grid", "floorplan"]:
        files = [p for p in (out / area).rglob("*") if p.is_file()]
        assert files, f"demo wrote nothing for {area}"
        assert str(out / area) in proc.stdout  # the demo prints where its outputs are
        pngs = [p for p in files if p.suffix == ".png"]
        assert pngs, f"demo wrote no picture for {area}"
        for png in pngs:
            img = cv2.imread(str(png))
            assert img is not None, png
            # A real picture, not a blank canvas.
            assert float(np.std(img)) > 5.0, png
